/**
 * ipvlan with the IPv6 stack: link-local addresses built from dev_id (ipv6-link-local.out),
 * all-nodes echo (the IPv6 rows of bcast-mcast.out), and L3 outbound for IPv6.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  devOpen,
  inet6AddrAdd,
  ip6RouteAdd,
  ipv6DevAddrs,
  ipv6Init,
  type Kernel,
  NSEC_PER_SEC,
  type NetDevice,
  type NetNamespace,
  ping6Socket,
  rtnlDelLink,
  rtnlNewLink,
} from "../../src/kernel/index.ts";
import type { IpvlDev } from "../../src/ipvlan/index.ts";
import { formatIpv6, parseIpv6, parseMac } from "../../src/wire/index.ts";
import { type Howto, howto } from "./topology.ts";

const IFA_F_TENTATIVE = 0x40;

function v6(mode: string): Howto {
  const t = howto(mode, ipv6Init);
  // wait_dad: DAD takes about a second (plus the random initial delay).
  t.k.loop.runUntil(t.k.now + 5n * NSEC_PER_SEC);
  return t;
}

/** The link-local address(es) of a device as `ip -6 -o addr show scope link` prints them. */
function ll(dev: NetDevice): string {
  return ipv6DevAddrs(dev)
    .filter((a) => a.addr >> 64n === 0xfe80_0000_0000_0000n)
    .map((a) => `${formatIpv6(a.addr)}/${a.prefixLen}${a.flags & IFA_F_TENTATIVE ? " tentative" : ""}`)
    .join(" ");
}

function ping6(k: Kernel, net: NetNamespace, dst: string, dev?: NetDevice): string[] {
  const sock = ping6Socket(net);
  const from = new Set<string>();
  sock.onReply = (r) => from.add(formatIpv6(r.from));
  const r = sock.send(parseIpv6(dst), 1, new Uint8Array(56), dev ? { scopeId: dev.ifindex } : {});
  // ENOBUFS (ipvlan_start_xmit returned NET_XMIT_DROP: an L3 slave's multicast, no route via
  // the master) still lets the multicast loop-back copy answer: listed first, then the replies.
  if (r !== 0 && r !== "ENOBUFS") return [r];
  k.loop.runUntil(k.now + NSEC_PER_SEC);
  sock.close();
  return [...(r === 0 ? [] : [r]), ...[...from].sort()];
}

for (const mode of ["l2", "l3", "l3s"]) {
  test(`ipv6-link-local.out: mode ${mode}`, () => {
    const t = v6(mode);
    assert.deepEqual(
      [t.eth0, t.ipvl0, t.ipvl1].map((d) => `${d.devId} ${ll(d)}`),
      ["0 fe80::ff:fe00:2/64", "1 fe80::200:0:100:2/64", "2 fe80::200:0:200:2/64"],
    );
    if (mode !== "l2") return;
    assert.deepEqual(ping6(t.k, t.ns0, "fe80::200:0:200:2", t.ipvl0), ["fe80::200:0:200:2"]);
    const ipvl2 = rtnlNewLink(t.root, {
      kind: "ipvlan",
      name: "ipvl2",
      link: t.eth0,
      infoData: { mode: 0, flags: 0 },
    });
    rtnlDelLink(t.ipvl0);
    const ipvl3 = rtnlNewLink(t.root, {
      kind: "ipvlan",
      name: "ipvl3",
      link: t.eth0,
      infoData: { mode: 0, flags: 0 },
    });
    devOpen(ipvl2);
    devOpen(ipvl3);
    t.k.loop.runUntil(t.k.now + 5n * NSEC_PER_SEC);
    assert.deepEqual(
      [ipvl2, ipvl3].map((d) => `${d.devId} ${ll(d)}`),
      ["3 fe80::200:0:300:2/64", "4 fe80::200:0:400:2/64"],
    );
  });
}

test("ipv6-link-local.out: a master with MAC 52:54:00:12:34:56", () => {
  const t = v6("l2");
  const eth1 = rtnlNewLink(t.root, {
    kind: "veth",
    name: "eth1",
    address: new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
    peer: { name: "ext1" },
  });
  devOpen(eth1);
  devOpen(t.root.dev("ext1")!);
  const ipva = rtnlNewLink(t.root, {
    kind: "ipvlan",
    name: "ipva",
    link: eth1,
    infoData: { mode: 0, flags: 0 },
  });
  const ipvb = rtnlNewLink(t.root, {
    kind: "ipvlan",
    name: "ipvb",
    link: eth1,
    infoData: { mode: 0, flags: 0 },
  });
  devOpen(ipva);
  devOpen(ipvb);
  t.k.loop.runUntil(t.k.now + 5n * NSEC_PER_SEC);
  assert.equal(ipva.mac, parseMac("52:54:00:12:34:56"));
  assert.deepEqual([eth1, ipva, ipvb].map(ll), [
    "fe80::5054:ff:fe12:3456/64",
    "fe80::5254:0:112:3456/64",
    "fe80::5254:0:212:3456/64",
  ]);
});

/** bcast-mcast.out: responders to ff02::1 from ns0 and from the router. */
const ALL_NODES: Record<string, readonly (readonly string[])[]> = {
  l2: [
    ["fe80::200:0:100:2", "fe80::200:0:200:2", "fe80::ff:fe00:1"],
    ["fe80::200:0:100:2", "fe80::200:0:200:2", "fe80::ff:fe00:1", "fe80::ff:fe00:2"],
  ],
  "l2 private": [
    ["fe80::200:0:100:2", "fe80::ff:fe00:1"],
    ["fe80::200:0:100:2", "fe80::200:0:200:2", "fe80::ff:fe00:1", "fe80::ff:fe00:2"],
  ],
  // L3 slaves drop multicast on transmit (NET_XMIT_DROP: sendmsg says ENOBUFS); the looped copy
  // still makes the sender answer itself.
  l3: [
    ["ENOBUFS", "fe80::200:0:100:2"],
    ["fe80::ff:fe00:1", "fe80::ff:fe00:2"],
  ],
  l3s: [
    ["ENOBUFS", "fe80::200:0:100:2"],
    ["fe80::ff:fe00:1", "fe80::ff:fe00:2"],
  ],
};

for (const [mode, expected] of Object.entries(ALL_NODES)) {
  test(`bcast-mcast.out: ping -6 ff02::1 responders in mode ${mode}`, () => {
    const t = v6(mode);
    assert.deepEqual(ping6(t.k, t.ns0, "ff02::1", t.ipvl0), expected[0], "from ns0");
    assert.deepEqual(ping6(t.k, t.ext, "ff02::1", t.ext0), expected[1], "from the router");
  });
}

test("L3 IPv6 outbound: routed in the master's netns (ND by the master), dropped when no route via the master", () => {
  const t = v6("l3");
  const s0: IpvlDev = t.ipvl0;
  inet6AddrAdd(t.ext0, { addr: parseIpv6("2001:db8::1"), prefixLen: 64, flags: 0x02 });
  inet6AddrAdd(t.eth0, { addr: parseIpv6("2001:db8::2"), prefixLen: 64, flags: 0x02 });
  inet6AddrAdd(s0, { addr: parseIpv6("2001:db8::10"), prefixLen: 64, flags: 0x02 });
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  // The router answers towards 2001:db8::10 through eth0's MAC (static ND, since L3 slaves do not answer NS).
  ip6RouteAdd(t.ext, {
    dst: parseIpv6("2001:db8::10"),
    dstLen: 128,
    dev: t.ext0,
    gateway: parseIpv6("fe80::ff:fe00:2"),
  });
  assert.deepEqual(ping6(t.k, t.ns0, "2001:db8::1"), ["2001:db8::1"]);
  const before = s0.stats.txDropped;
  ip6RouteAdd(t.ns0, { dst: parseIpv6("2001:db8:99::"), dstLen: 48, dev: s0 });
  assert.deepEqual(ping6(t.k, t.ns0, "2001:db8:99::1"), ["ENOBUFS"], "NET_XMIT_DROP reaches sendmsg");
  assert.equal(s0.stats.txDropped, before + 1, "statement 65: no IPv6 route via the master → dropped");
  assert.equal(s0.drops.get("IPVLAN_ROUTE_FAIL"), 1);
});

test("L3S IPv6 inbound reaches the slave through the master's INPUT", () => {
  const t = v6("l3s");
  inet6AddrAdd(t.ext0, { addr: parseIpv6("2001:db8::1"), prefixLen: 64, flags: 0x02 });
  inet6AddrAdd(t.eth0, { addr: parseIpv6("2001:db8::2"), prefixLen: 64, flags: 0x02 });
  inet6AddrAdd(t.ipvl0, { addr: parseIpv6("2001:db8::10"), prefixLen: 64, flags: 0x02 });
  t.k.loop.runUntil(t.k.now + NSEC_PER_SEC);
  ip6RouteAdd(t.ext, {
    dst: parseIpv6("2001:db8::10"),
    dstLen: 128,
    dev: t.ext0,
    gateway: parseIpv6("fe80::ff:fe00:2"),
  });
  const before = t.ipvl0.stats.rxPackets;
  assert.deepEqual(ping6(t.k, t.ext, "2001:db8::10"), ["2001:db8::10"]);
  assert.equal(t.ipvl0.stats.rxPackets, before + 1);
});
