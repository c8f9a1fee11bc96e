/**
 * Unit tests of the data path (ipvlan_core.c): frames built with the wire codecs are injected
 * into the master's rx_handler (through a wire device) or handed to a slave's xmit, and what
 * comes out is observed: protocol deliveries, frames on the wire, counters, drop reasons.
 * Addresses are learned from the inetaddr/inet6addr chains, as the IP stacks would raise them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bootKernel,
  devOpen,
  IFF,
  type Kernel,
  type NetNamespace,
  NetdevTx,
  netdevRxHandlerRegister,
  PacketType,
  RxHandlerResult,
  rtnlNewLink,
  rtnlSetLink,
} from "../kernel/index.ts";
import { EtherType, MAC_BROADCAST } from "../wire/index.ts";
import { ipvlanAddrLookup, ipvlanGetL3Hdr, ipvlanHandleFrame, ipvlanStartXmit } from "./core.ts";
import { ipvlanJhashSecret, ipvlanMacHashOf, jhash1word } from "./multicast.ts";
import { type IpvtapDev, ipvlanInit } from "./index.ts";
import {
  addWire,
  arpFrame,
  type Delivery,
  IP_0,
  IP_1,
  IP_M,
  IP_R,
  IP6_0,
  IP6_1,
  MAC_M,
  MAC_R,
  nsFrame,
  rawFrame,
  recordDeliveries,
  txSkb,
  udp4Frame,
  udp6Frame,
  type WireDevice,
} from "./testing.ts";
import {
  IPVL_ARP,
  IPVL_ICMPV6,
  IPVL_IPV4,
  IPVL_IPV6,
  IPVLAN_F_PRIVATE,
  IPVLAN_F_VEPA,
  IPVLAN_MODE_L2,
  IPVLAN_MODE_L3,
  IPVLAN_MODE_L3S,
  IPVLAN_QBACKLOG_LIMIT,
  type IpvlDev,
} from "./types.ts";

/** The HOWTO topology: eth0 (wire stand-in) in the root ns, ipvl0 in ns0 (10.0.0.10), ipvl1 in ns1 (10.0.0.11). */
interface Topo {
  readonly kernel: Kernel;
  readonly eth0: WireDevice;
  readonly s: IpvlDev[];
  readonly ns: NetNamespace[];
  readonly seen: Delivery[];
  /** Runs the event loop until idle (backlog, multicast work). */
  settle(): void;
}

function topo(mode: number, flags = 0, n = 2): Topo {
  const kernel = bootKernel({ seed: 7 });
  ipvlanInit(kernel);
  const seen = recordDeliveries(kernel);
  const eth0 = addWire(kernel.initNet, "eth0", MAC_M);
  const s: IpvlDev[] = [];
  const ns: NetNamespace[] = [];
  for (let i = 0; i < n; i++) {
    const net = kernel.createNamespace(`ns${i}`);
    ns.push(net);
    const dev = rtnlNewLink(kernel.initNet, {
      kind: "ipvlan",
      name: `ipvl${i}`,
      link: eth0,
      netns: net,
      infoData: { mode, flags },
    }) as IpvlDev;
    devOpen(dev);
    addAddr4(kernel, dev, IP_0 + i);
    s.push(dev);
  }
  const settle = () => kernel.loop.runUntil(kernel.now + 1_000_000n);
  return { kernel, eth0, s, ns, seen, settle };
}

function addAddr4(kernel: Kernel, dev: IpvlDev, ip: number): void {
  kernel.inetaddrValidatorChain.call({ event: "UP", dev, addr: { local: ip, address: ip, prefixLen: 24 } });
  kernel.inetaddrChain.call({ event: "UP", dev, addr: { local: ip, address: ip, prefixLen: 24 } });
}

function addAddr6(kernel: Kernel, dev: IpvlDev, ip: bigint): void {
  kernel.inet6addrValidatorChain.call({ event: "UP", dev, addr: { addr: ip, prefixLen: 64 } });
  kernel.inet6addrChain.call({ event: "UP", dev, addr: { addr: ip, prefixLen: 64 } });
}

function drops(dev: { drops: Map<string, number> }): Record<string, number> {
  return Object.fromEntries(dev.drops);
}

test("jhash1word() matches the kernel's jhash_1word on known values", () => {
  // Reference values from a C build of the include/linux/jhash.h algorithm.
  assert.equal(jhash1word(0, 0), 0x049396b8);
  assert.equal(jhash1word(1, 0), 0x72a82a9b);
  assert.equal(jhash1word(0x12345678, 0xdeadbeef | 0), 0x03399eb9);
  assert.equal(jhash1word(0xffffffff | 0, 7), 0x6918a5ab);
});

test("ipvlanGetL3Hdr() applies the parse rules of ipvlan_get_L3_hdr", () => {
  const t = topo(IPVLAN_MODE_L3);
  const port = t.s[0].port!;
  const skbOf = (f: Uint8Array) => txSkb(f, t.eth0);
  const ip4 = udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP_R, dst: IP_0 });
  assert.equal(ipvlanGetL3Hdr(port, skbOf(ip4)) & 3, IPVL_IPV4);
  const badIhl = ip4.slice();
  badIhl[14] = 0x44;
  assert.equal(ipvlanGetL3Hdr(port, skbOf(badIhl)), -1, "ihl < 5");
  const badVer = ip4.slice();
  badVer[14] = 0x65;
  assert.equal(ipvlanGetL3Hdr(port, skbOf(badVer)), -1, "version 6 in an IPv4 frame");
  const longTot = ip4.slice();
  longTot[17] += 1;
  assert.equal(ipvlanGetL3Hdr(port, skbOf(longTot)), -1, "total length beyond the frame");
  assert.equal(ipvlanGetL3Hdr(port, skbOf(ip4.slice(0, 14 + 19))), -1, "19-byte IPv4 header");
  const ip6 = udp6Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP6_1, dst: IP6_0 });
  assert.equal(ipvlanGetL3Hdr(port, skbOf(ip6)) & 3, IPVL_IPV6);
  assert.equal(ipvlanGetL3Hdr(port, skbOf(ip6.slice(0, 14 + 39))), -1, "39-byte IPv6 header");
  const dad = nsFrame({ srcMac: MAC_R, src: 0n, target: IP6_0 });
  assert.equal(ipvlanGetL3Hdr(port, skbOf(dad)) & 3, IPVL_ICMPV6);
  assert.equal(ipvlanGetL3Hdr(port, skbOf(dad.slice(0, 14 + 40 + 8 + 15))), -1, "truncated NS target");
  const ns = nsFrame({ srcMac: MAC_R, src: IP6_1, target: IP6_0 });
  assert.equal(ipvlanGetL3Hdr(port, skbOf(ns)) & 3, IPVL_IPV6, "an NS from a real source is keyed by daddr");
  const arp = arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_R, senderIp: IP_R, targetIp: IP_0 });
  assert.equal(ipvlanGetL3Hdr(port, skbOf(arp)) & 3, IPVL_ARP);
  assert.equal(ipvlanGetL3Hdr(port, skbOf(arp.slice(0, 14 + 27))), -1, "27-byte ARP");
  assert.equal(
    ipvlanGetL3Hdr(port, skbOf(rawFrame({ dstMac: MAC_M, srcMac: MAC_R, etherType: 0x88b5 }))),
    -1,
  );
});

test("ipvlanAddrLookup() keys on the destination or the source, and on the NS target for DAD", () => {
  const t = topo(IPVLAN_MODE_L3);
  addAddr6(t.kernel, t.s[0], IP6_0);
  const port = t.s[0].port!;
  const look = (f: Uint8Array, useDest: boolean) => {
    const skb = txSkb(f, t.eth0);
    return ipvlanAddrLookup(port, f, ipvlanGetL3Hdr(port, skb), useDest)?.master.name ?? null;
  };
  const ip4 = udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_1, dst: IP_0 });
  assert.equal(look(ip4, true), "ipvl0");
  assert.equal(look(ip4, false), "ipvl1");
  const arp = arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_R, senderIp: IP_1, targetIp: IP_0 });
  assert.equal(look(arp, true), "ipvl0");
  assert.equal(look(arp, false), "ipvl1");
  assert.equal(look(nsFrame({ srcMac: MAC_R, src: 0n, target: IP6_0 }), true), "ipvl0");
  assert.equal(look(udp6Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP6_1, dst: IP6_0 }), true), "ipvl0");
  assert.equal(look(udp6Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP6_1, dst: IP6_1 }), true), null);
});

test("L2 rx: unicast to a slave's IP is steered to it and counted with the frame length", () => {
  const t = topo(IPVLAN_MODE_L2);
  const f = udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP_R, dst: IP_1 });
  t.eth0.inject(f);
  assert.deepEqual(
    t.seen.map((d) => [d.dev, d.netns, d.pktType]),
    [["ipvl1", t.ns[1], PacketType.HOST]],
  );
  assert.equal(t.s[1].stats.rxPackets, 1);
  assert.equal(t.s[1].stats.rxBytes, f.length);
  assert.equal(t.s[0].stats.rxPackets, 0);
});

test("rx: packet taps on the master see inbound unicast for slaves (statement 77)", () => {
  const t = topo(IPVLAN_MODE_L3);
  const seen: string[] = [];
  t.kernel.initNet.taps.add({ dev: t.eth0, deliver: (skb, dir) => seen.push(`${skb.dev.name} ${dir}`) });
  t.eth0.inject(udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP_R, dst: IP_1 }));
  assert.deepEqual(seen, ["eth0 in"]);
  assert.deepEqual(
    t.seen.map((d) => d.dev),
    ["ipvl1"],
  );
});

test("ipvtap: frames steered to an ipvtap slave land in its tap queue, not in an IP stack (statement 90)", () => {
  const t = topo(IPVLAN_MODE_L2);
  const tap = rtnlNewLink(t.kernel.initNet, {
    kind: "ipvtap",
    name: "ipvt0",
    link: t.eth0,
    infoData: { mode: IPVLAN_MODE_L2, flags: 0 },
  }) as IpvtapDev;
  devOpen(tap);
  addAddr4(t.kernel, tap, IP_M + 100);
  const f = udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP_R, dst: IP_M + 100 });
  t.eth0.inject(f);
  assert.deepEqual(
    tap.tapQueue.map((s) => s.data),
    [f],
  );
  assert.equal(t.seen.length, 0);
  assert.equal(tap.stats.rxBytes, f.length);
  assert.throws(() => netdevRxHandlerRegister(tap, () => RxHandlerResult.PASS, null), { code: "EINVAL" });
});

test("L2 rx: unicast to an unknown IP, and malformed IPv4 (ihl < 5), go to the master", () => {
  const t = topo(IPVLAN_MODE_L2);
  t.eth0.inject(udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP_R, dst: IP_M }));
  const bad = udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP_R, dst: IP_0 });
  bad[14] = 0x44;
  t.eth0.inject(bad);
  assert.deepEqual(
    t.seen.map((d) => d.dev),
    ["eth0", "eth0"],
  );
});

test("rx: inbound unicast for a down slave's address goes to the master (not hashed while down)", () => {
  for (const mode of [IPVLAN_MODE_L2, IPVLAN_MODE_L3]) {
    const t = topo(mode);
    t.s[0].flags &= ~IFF.UP;
    t.s[0].ndoStop();
    t.eth0.inject(udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP_R, dst: IP_0 }));
    assert.deepEqual(
      t.seen.map((d) => d.dev),
      ["eth0"],
    );
    assert.equal(t.s[0].stats.rxPackets, 0);
  }
});

test("L3 rx: ARP requests and DAD probes for a slave address are consumed by that slave", () => {
  const t = topo(IPVLAN_MODE_L3);
  addAddr6(t.kernel, t.s[0], IP6_0);
  t.eth0.inject(arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_R, senderIp: IP_R, targetIp: IP_0 }));
  t.eth0.inject(nsFrame({ srcMac: MAC_R, src: 0n, target: IP6_0 }));
  assert.deepEqual(
    t.seen.map((d) => [d.dev, d.pktType]),
    [
      ["ipvl0", PacketType.BROADCAST],
      ["ipvl0", PacketType.MULTICAST],
    ],
  );
  assert.equal(t.s[0].stats.rxPackets, 2, "statement 67: rx_packets counts the ARP request");
});

test("L3 rx: multicast and broadcast IP never reach slaves", () => {
  const t = topo(IPVLAN_MODE_L3);
  t.eth0.inject(udp4Frame({ dstMac: MAC_BROADCAST, srcMac: MAC_R, src: IP_R, dst: 0x0a0000ff }));
  t.eth0.inject(
    udp6Frame({ dstMac: 0x3333_0000_0001, srcMac: MAC_R, src: IP6_1, dst: (0xff02n << 112n) | 1n }),
  );
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => d.dev),
    ["eth0", "eth0"],
  );
});

test("L3S rx: the rx_handler passes everything to the master", () => {
  const t = topo(IPVLAN_MODE_L3S);
  const skb = txSkb(udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: IP_R, dst: IP_0 }), t.eth0);
  skb.protocol = EtherType.Ipv4;
  assert.equal(ipvlanHandleFrame(skb), RxHandlerResult.PASS);
  assert.equal(skb.dev, t.eth0);
});

test("L2 rx: an external broadcast reaches the master at once and every up slave later", () => {
  const t = topo(IPVLAN_MODE_L2, 0, 3);
  t.s[2].flags &= ~IFF.UP;
  const f = arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_R, senderIp: IP_R, targetIp: IP_M });
  t.eth0.inject(f);
  assert.deepEqual(
    t.seen.map((d) => d.dev),
    ["eth0"],
    "the master's stack gets the original synchronously",
  );
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => [d.dev, d.pktType]),
    [
      ["eth0", PacketType.BROADCAST],
      ["ipvl0", PacketType.BROADCAST],
      ["ipvl1", PacketType.BROADCAST],
    ],
  );
  for (const s of t.s.slice(0, 2)) {
    assert.equal(s.stats.multicast, 1);
    assert.equal(s.stats.rxBytes, f.length);
  }
  assert.equal(t.s[2].stats.rxPackets, 0, "statement 71: a down slave gets no copy");
});

test("L2 rx: a group reaches only slaves whose filter has its bit; ALLMULTI opens the filter", () => {
  const t = topo(IPVLAN_MODE_L2, 0, 3);
  const secret = ipvlanJhashSecret(t.kernel);
  const bcastBit = ipvlanMacHashOf(MAC_BROADCAST, secret);
  // Pick a group whose hash bit differs from the broadcast bit.
  let group = 0x0100_5e00_0001;
  while (ipvlanMacHashOf(group, secret) === bcastBit) group++;
  t.s[0].mcList.set(group, 1);
  t.s[0].ndoSetRxMode();
  rtnlSetLink(t.s[2], { flags: IFF.ALLMULTI, change: IFF.ALLMULTI });
  assert.equal(t.eth0.allmulti, 1, "statement 37: ALLMULTI is relayed to the master");
  assert.ok(t.eth0.mcList.has(group), "statement 38: the group is synced into the master's list");
  t.eth0.inject(udp4Frame({ dstMac: group, srcMac: MAC_R, src: IP_R, dst: 0xe0000001 }));
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => d.dev),
    ["eth0", "ipvl0", "ipvl2"],
  );
  rtnlSetLink(t.s[2], { flags: 0, change: IFF.ALLMULTI });
  assert.equal(t.eth0.allmulti, 0);
});

test("L2 rx: PROMISC opens the slave's filter but is not relayed to the master", () => {
  const t = topo(IPVLAN_MODE_L2);
  rtnlSetLink(t.s[1], { flags: IFF.PROMISC, change: IFF.PROMISC });
  assert.equal(t.eth0.promiscuity, 0);
  assert.ok(t.s[1].macFilters.every((w) => w === 0xffffffff));
});

test("L2 rx: a slave's own broadcast reflected back by the switch is not redistributed", () => {
  const t = topo(IPVLAN_MODE_L2);
  t.eth0.inject(arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_M, senderIp: IP_0, targetIp: IP_R }));
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => d.dev),
    ["eth0"],
  );
});

test("L2 rx: looped-back multicast (PACKET_LOOPBACK) is the master's only", () => {
  const t = topo(IPVLAN_MODE_L2);
  t.eth0.inject(
    arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_R, senderIp: IP_R, targetIp: IP_M }),
    PacketType.LOOPBACK,
  );
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => d.dev),
    ["eth0"],
  );
});

test("L2 rx: more than IPVLAN_QBACKLOG_LIMIT queued multicast frames count rx_dropped on the master", () => {
  const t = topo(IPVLAN_MODE_L2);
  const f = arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_R, senderIp: IP_R, targetIp: IP_M });
  for (let i = 0; i < IPVLAN_QBACKLOG_LIMIT + 5; i++) t.eth0.inject(f);
  assert.equal(t.eth0.stats.rxDropped, 5);
  assert.deepEqual(drops(t.eth0), { IPVLAN_MULTICAST_BACKLOG: 5 });
  t.settle();
  // The work item then meets the CPU backlog (netdev_max_backlog 1000) with 2 copies per frame.
  assert.equal(t.s[0].stats.multicast + t.s[0].stats.rxErrors, IPVLAN_QBACKLOG_LIMIT);
  assert.equal(t.s[0].stats.multicast, 500);
  assert.equal(t.s[0].drops.get("CPU_BACKLOG"), 500);
});

test("L2 rx: PAUSE frames are never queued for slaves", () => {
  const t = topo(IPVLAN_MODE_L2);
  t.eth0.inject(rawFrame({ dstMac: 0x0180_c200_0001, srcMac: MAC_R, etherType: 0x8808 }));
  t.settle();
  assert.equal(t.s[0].stats.rxPackets, 0);
  assert.equal(t.eth0.drops.get("IPVLAN_PAUSE_FRAME"), 1);
});

test("L2 tx bridge: sibling unicast is delivered directly, never on the wire (statements 47, 85)", () => {
  const t = topo(IPVLAN_MODE_L2);
  const f = udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_0, dst: IP_1 });
  assert.equal(ipvlanStartXmit(txSkb(f, t.s[0]), t.s[0]), NetdevTx.OK);
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => [d.dev, d.pktType]),
    [["ipvl1", PacketType.HOST]],
  );
  assert.equal(t.eth0.tx.length, 0);
  assert.equal(t.s[0].stats.txBytes, f.length);
  assert.equal(t.s[1].stats.rxBytes, f.length + 14, "rx bytes of a sibling frame: N + 14");
});

test("L2 tx private: sibling unicast is dropped with tx_dropped and a reason (statement 48)", () => {
  const t = topo(IPVLAN_MODE_L2, IPVLAN_F_PRIVATE);
  const f = udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_0, dst: IP_1 });
  assert.equal(ipvlanStartXmit(txSkb(f, t.s[0]), t.s[0]), NetdevTx.DROP);
  t.settle();
  assert.equal(t.seen.length, 0);
  assert.equal(t.s[0].stats.txDropped, 1);
  assert.equal(t.s[0].stats.txPackets, 0);
  assert.deepEqual(drops(t.s[0]), { IPVLAN_PRIVATE: 1 });
});

test("L2 tx vepa: sibling unicast goes out on the wire with src = dst = master MAC (statement 50)", () => {
  const t = topo(IPVLAN_MODE_L2, IPVLAN_F_VEPA);
  const f = udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_0, dst: IP_1 });
  ipvlanStartXmit(txSkb(f, t.s[0]), t.s[0]);
  t.settle();
  assert.equal(t.seen.length, 0);
  assert.deepEqual(t.eth0.tx, [f]);
});

test("L2 tx: unicast to the shared MAC for a non-slave IP is injected into the master's receive path", () => {
  const t = topo(IPVLAN_MODE_L2);
  ipvlanStartXmit(txSkb(udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_0, dst: IP_M }), t.s[0]), t.s[0]);
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => [d.dev, d.pktType]),
    [["eth0", PacketType.HOST]],
  );
  assert.equal(t.eth0.tx.length, 0);
});

test("L2 tx: a down sibling's IP is not delivered to it but handed to the master (statement 87)", () => {
  const t = topo(IPVLAN_MODE_L2);
  t.s[1].flags &= ~IFF.UP;
  t.s[1].ndoStop();
  ipvlanStartXmit(txSkb(udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_0, dst: IP_1 }), t.s[0]), t.s[0]);
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => d.dev),
    ["eth0"],
  );
});

test("L2 tx: unicast to another MAC leaves on the master untouched", () => {
  const t = topo(IPVLAN_MODE_L2);
  const f = udp4Frame({ dstMac: MAC_R, srcMac: MAC_M, src: IP_0, dst: IP_R });
  const skb = txSkb(f, t.s[0]);
  skb.mark = 7;
  ipvlanStartXmit(skb, t.s[0]);
  assert.deepEqual(t.eth0.tx, [f]);
  assert.equal(skb.mark, 7, "no scrub on the L2 wire path");
});

test("L2 tx: a broadcast is copied to the other up slaves and sent on the master, not to the master's stack", () => {
  const t = topo(IPVLAN_MODE_L2, IPVLAN_F_PRIVATE, 3);
  const f = arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_M, senderIp: IP_0, targetIp: IP_R });
  assert.equal(ipvlanStartXmit(txSkb(f, t.s[0]), t.s[0]), NetdevTx.OK);
  assert.equal(t.eth0.tx.length, 0, "queued, not sent yet");
  t.settle();
  assert.deepEqual(
    t.seen.map((d) => [d.dev, d.pktType]),
    [
      ["ipvl1", PacketType.BROADCAST],
      ["ipvl2", PacketType.BROADCAST],
    ],
    "statements 49, 51, 52: private does not suppress it, no copy to the sender or the master",
  );
  assert.deepEqual(t.eth0.tx, [f]);
  assert.equal(t.s[1].stats.rxBytes, f.length + 14);
  assert.equal(t.s[1].stats.multicast, 1);
});

test("L2 tx: a full backlog drops the slave's broadcast as rx_dropped on the sender, tx still counted", () => {
  const t = topo(IPVLAN_MODE_L2);
  const f = arpFrame({ dstMac: MAC_BROADCAST, srcMac: MAC_M, senderIp: IP_0, targetIp: IP_R });
  for (let i = 0; i < IPVLAN_QBACKLOG_LIMIT + 1; i++) ipvlanStartXmit(txSkb(f, t.s[0]), t.s[0]);
  assert.equal(t.s[0].stats.txPackets, IPVLAN_QBACKLOG_LIMIT + 1);
  assert.equal(t.s[0].stats.rxDropped, 1);
  assert.deepEqual(drops(t.s[0]), { IPVLAN_MULTICAST_BACKLOG: 1 });
});

test("L3 tx: sibling delivery ignores MACs; private drops it; vepa routes it out", () => {
  const f = udp4Frame({ dstMac: MAC_R, srcMac: MAC_M, src: IP_0, dst: IP_1 });
  const b = topo(IPVLAN_MODE_L3);
  assert.equal(ipvlanStartXmit(txSkb(f, b.s[0]), b.s[0]), NetdevTx.OK);
  b.settle();
  assert.deepEqual(
    b.seen.map((d) => d.dev),
    ["ipvl1"],
  );
  const p = topo(IPVLAN_MODE_L3, IPVLAN_F_PRIVATE);
  assert.equal(ipvlanStartXmit(txSkb(f, p.s[0]), p.s[0]), NetdevTx.DROP);
  assert.deepEqual(drops(p.s[0]), { IPVLAN_PRIVATE: 1 });
  const v = topo(IPVLAN_MODE_L3S, IPVLAN_F_VEPA);
  ipvlanStartXmit(txSkb(f, v.s[0]), v.s[0]);
  v.settle();
  assert.equal(v.seen.length, 0, "vepa: no local delivery");
});

test("L3 tx: multicast destination MAC and non-IP ethertypes are dropped (statements 55, 63)", () => {
  const t = topo(IPVLAN_MODE_L3);
  const bc = udp4Frame({ dstMac: MAC_BROADCAST, srcMac: MAC_M, src: IP_0, dst: 0x0a0000ff });
  assert.equal(ipvlanStartXmit(txSkb(bc, t.s[0]), t.s[0]), NetdevTx.DROP);
  const arp = arpFrame({ dstMac: MAC_R, srcMac: MAC_M, senderIp: IP_0, targetIp: IP_R });
  assert.equal(ipvlanStartXmit(txSkb(arp, t.s[0]), t.s[0]), NetdevTx.DROP);
  const other = rawFrame({ dstMac: MAC_R, srcMac: MAC_M, etherType: 0x88b5 });
  assert.equal(ipvlanStartXmit(txSkb(other, t.s[0]), t.s[0]), NetdevTx.DROP);
  assert.equal(t.s[0].stats.txDropped, 3);
  assert.equal(t.s[0].stats.txErrors, 0);
  assert.deepEqual(drops(t.s[0]), { IPVLAN_L3_MULTICAST: 1, IPVLAN_NON_IP: 2 });
  assert.equal(t.eth0.tx.length, 0);
});

test("tx: frames shorter than an Ethernet header are dropped", () => {
  const t = topo(IPVLAN_MODE_L2);
  assert.equal(ipvlanStartXmit(txSkb(new Uint8Array(13), t.s[0]), t.s[0]), NetdevTx.DROP);
  assert.deepEqual(drops(t.s[0]), { IPVLAN_SHORT_FRAME: 1 });
});

test("tx: an oversize sibling frame is refused by the target: rx_errors +1, rx_dropped +2 (statement 86)", () => {
  const t = topo(IPVLAN_MODE_L2);
  t.s[0].mtu = 9000;
  const f = udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_0, dst: IP_1, payloadLen: 3000 });
  assert.equal(ipvlanStartXmit(txSkb(f, t.s[0]), t.s[0]), NetdevTx.OK);
  assert.equal(t.s[0].stats.txPackets, 1);
  assert.equal(t.s[1].stats.rxErrors, 1);
  assert.equal(t.s[1].stats.rxDropped, 2);
  assert.equal(t.s[1].pcpuStats.rxErrs, 1);
  assert.deepEqual(drops(t.s[1]), { PKT_TOO_BIG: 1, IPVLAN_FORWARD_FAIL: 1 });
});

test("tx: the mark survives a sibling delivery inside one namespace and is cleared across namespaces", () => {
  const t = topo(IPVLAN_MODE_L3);
  const marks: number[] = [];
  t.kernel.registerProtocol(EtherType.Ipv4, (skb) => marks.push(skb.mark));
  const f = udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_0, dst: IP_1 });
  const skb = txSkb(f, t.s[0]);
  skb.mark = 42;
  ipvlanStartXmit(skb, t.s[0]);
  t.settle();
  assert.deepEqual(marks, [0]);
});
