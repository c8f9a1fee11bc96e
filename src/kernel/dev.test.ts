import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel } from "./boot.ts";
import { NSEC_PER_MSEC } from "./clock.ts";
import {
  devChangeNetNamespace,
  devClose,
  devOpen,
  devQueueXmit,
  devSetMacAddress,
  devSetMtu,
  netdevRxHandlerRegister,
} from "./dev.ts";
import { KernelError } from "./errno.ts";
import { netnsAdd, netnsDelete } from "./namespaces.ts";
import { IFF, OperState, RxHandlerResult } from "./netdev.ts";
import { allocSkb, PacketType, type SkBuff } from "./skb.ts";

function frame(dst: number, src: number, ethertype: number, len = 60): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < 6; i++) {
    b[i] = Math.floor(dst / 2 ** (8 * (5 - i))) & 0xff;
    b[6 + i] = Math.floor(src / 2 ** (8 * (5 - i))) & 0xff;
  }
  b[12] = ethertype >> 8;
  b[13] = ethertype & 0xff;
  return b;
}

function vethPair() {
  const k = bootKernel({ seed: 7 });
  const ext = netnsAdd(k, "ext");
  const veth = k.linkKinds.get("veth")!;
  // As the oracle scenarios do: create both ends here, then move the peer (ext0=2, eth0=3).
  const eth0 = veth.newLink(k.initNet, {
    name: "eth0",
    address: 0x020000000002,
    peer: { name: "ext0", address: 0x020000000001 },
  });
  const ext0 = k.initNet.dev("ext0")!;
  devChangeNetNamespace(ext0, ext);
  return { k, ext, eth0, ext0 };
}

test("bootKernel() gives every namespace lo as ifindex 1", () => {
  const k = bootKernel();
  const ns = netnsAdd(k, "a");
  assert.equal(k.initNet.dev("lo")?.ifindex, 1);
  assert.equal(ns.dev("lo")?.ifindex, 1);
  assert.equal(ns.dev("lo")?.isUp, false);
});

test("veth newLink registers the peer first, so it gets the lower ifindex", () => {
  const k = bootKernel();
  const eth0 = k.linkKinds.get("veth")!.newLink(k.initNet, { name: "eth0", peer: { name: "ext0" } });
  assert.equal(k.initNet.dev("ext0")?.ifindex, 2);
  assert.equal(eth0.ifindex, 3);
});

test("a veth whose peer has the same ifindex in another namespace reports DOWN, not LOWERLAYERDOWN", () => {
  // default_operstate compares ifindex with iflink, which ignores namespaces (a Linux quirk).
  const k = bootKernel();
  const ext = netnsAdd(k, "ext");
  const eth0 = k.linkKinds
    .get("veth")!
    .newLink(k.initNet, { name: "eth0", peer: { name: "ext0", netns: ext } });
  devOpen(eth0);
  k.loop.settle();
  assert.equal(eth0.ifindex, ext.dev("ext0")!.ifindex);
  assert.equal(eth0.reportedOperstate, OperState.DOWN);
});

test("veth carrier and operstate follow both ends being up (linkwatch runs asynchronously)", () => {
  const { k, eth0, ext0 } = vethPair();
  devOpen(eth0);
  k.loop.settle();
  assert.equal(eth0.carrier, false);
  assert.equal(eth0.reportedOperstate, OperState.LOWERLAYERDOWN);
  assert.equal(eth0.visibleFlags & IFF.LOWER_UP, 0);
  devOpen(ext0);
  k.loop.settle();
  assert.equal(eth0.reportedOperstate, OperState.UP);
  assert.ok(eth0.visibleFlags & IFF.LOWER_UP);
  devClose(ext0);
  k.loop.settle();
  assert.equal(eth0.reportedOperstate, OperState.LOWERLAYERDOWN);
  assert.equal(ext0.reportedOperstate, OperState.DOWN);
});

test("devQueueXmit() on a veth delivers to the peer namespace's taps after the backlog delay", () => {
  const { k, ext, eth0, ext0 } = vethPair();
  devOpen(eth0);
  devOpen(ext0);
  const seen: { dir: string; pkt: number; at: bigint }[] = [];
  ext.taps.add({ dev: ext0, deliver: (skb: SkBuff, dir) => seen.push({ dir, pkt: skb.pktType, at: k.now }) });
  devQueueXmit(allocSkb(frame(0x020000000001, 0x020000000002, 0x88b5), eth0));
  assert.equal(seen.length, 0, "delivery is asynchronous");
  k.loop.runUntil(NSEC_PER_MSEC);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].pkt, PacketType.HOST);
  assert.equal(eth0.stats.txPackets, 1);
  assert.equal(ext0.stats.rxPackets, 1);
  assert.equal(ext0.stats.rxDropped, 1, "no handler for the EtherType: counted as rx_dropped");
  assert.equal(ext0.drops.get("UNHANDLED_PROTO"), 1);
});

test("an oversize frame is dropped by the peer (rx_dropped) and counted as tx_dropped", () => {
  const { k, eth0, ext0 } = vethPair();
  devOpen(eth0);
  devOpen(ext0);
  devQueueXmit(allocSkb(frame(0x020000000001, 0x020000000002, 0x0800, 1500 + 14 + 5), eth0));
  k.loop.runUntil(NSEC_PER_MSEC);
  assert.equal(eth0.stats.txDropped, 1);
  assert.equal(ext0.stats.rxDropped, 1);
});

test("an rx_handler sees frames before the protocol handlers and can consume them", () => {
  const { k, eth0, ext0 } = vethPair();
  devOpen(eth0);
  devOpen(ext0);
  let handled = 0;
  netdevRxHandlerRegister(
    ext0,
    () => {
      handled++;
      return RxHandlerResult.CONSUMED;
    },
    null,
  );
  assert.throws(
    () => netdevRxHandlerRegister(ext0, () => RxHandlerResult.PASS, null),
    (e: unknown) => e instanceof KernelError && e.code === "EBUSY",
  );
  devQueueXmit(allocSkb(frame(0x020000000001, 0x020000000002, 0x88b5), eth0));
  k.loop.runUntil(NSEC_PER_MSEC);
  assert.equal(handled, 1);
  assert.equal(ext0.stats.rxDropped, 0);
});

test("moving a device keeps its ifindex when free and raises UNREGISTER/REGISTER with moving set", () => {
  const k = bootKernel();
  const ns = netnsAdd(k, "ns0");
  const d = k.linkKinds.get("dummy")!.newLink(k.initNet, { name: "d0" });
  const events: string[] = [];
  k.netdevChain.register((e) => events.push(`${e.event}${e.moving ? "*" : ""}`));
  devChangeNetNamespace(d, ns);
  assert.equal(d.netns, ns);
  assert.equal(d.ifindex, 2);
  assert.deepEqual(events, ["UNREGISTER*", "REGISTER*"]);
});

test("MTU bounds and missing ndo_set_mac_address give the kernel's errors", () => {
  const k = bootKernel();
  const d = k.linkKinds.get("veth")!.newLink(k.initNet, { name: "v0", peer: { name: "v1" } });
  assert.throws(
    () => devSetMtu(d, 67),
    (e: unknown) =>
      e instanceof KernelError && e.code === "EINVAL" && e.extack === "mtu less than device minimum",
  );
  devSetMtu(d, 9000);
  assert.equal(d.mtu, 9000);
  assert.throws(
    () => devSetMacAddress(k.initNet.loopback, 1),
    (e: unknown) => e instanceof KernelError && e.code === "EOPNOTSUPP",
  );
});

test("deleting a namespace removes its devices and the veth peer elsewhere", () => {
  const { k, ext } = vethPair();
  netnsDelete(ext);
  assert.equal(k.initNet.dev("eth0"), undefined);
  assert.ok(!k.namespaces.includes(ext));
});

test("up without carrier (veth peer down): noop_qdisc drops before the driver; tx_dropped from 6.11 on", () => {
  for (const [release, txDropped] of [
    ["6.1.0", 0],
    ["6.18.0", 1],
  ] as const) {
    const k = bootKernel({ seed: 7, release });
    const veth = k.linkKinds.get("veth")!;
    const eth0 = veth.newLink(k.initNet, { name: "eth0", peer: { name: "ext0" } });
    const ext0 = k.initNet.dev("ext0")!;
    devOpen(eth0);
    devOpen(ext0);
    k.loop.runUntil(NSEC_PER_MSEC);
    devClose(ext0);
    k.loop.runUntil(2n * NSEC_PER_MSEC); // linkwatch: eth0 loses its qdisc (dev_deactivate)
    let tapped = 0;
    k.initNet.taps.add({ dev: eth0, deliver: () => tapped++ });
    const r = devQueueXmit(allocSkb(frame(0x020000000001, 0x020000000002, 0x0800), eth0));
    assert.equal(r, 2, `NET_XMIT_CN (${release})`);
    assert.equal(tapped, 0, "taps see only what reaches the driver");
    assert.equal(eth0.stats.txDropped, txDropped, release);
    assert.equal(ext0.stats.rxDropped, 0, "the peer never sees it");
    assert.equal(eth0.drops.get("QDISC_DROP"), 1);
    devOpen(ext0); // carrier back: the qdisc is attached again by linkwatch
    k.loop.runUntil(3n * NSEC_PER_MSEC);
    assert.equal(devQueueXmit(allocSkb(frame(0x020000000001, 0x020000000002, 0x0800), eth0)), 0);
  }
});

test("lo counts skb->len after eth_type_trans (no Ethernet header) as both rx and tx bytes", () => {
  const k = bootKernel();
  const lo = k.initNet.dev("lo")!;
  devOpen(lo);
  devQueueXmit(allocSkb(frame(0, 0, 0x0800, 98), lo));
  assert.equal(lo.stats.txBytes, 84);
  assert.equal(lo.stats.rxBytes, 84);
  assert.equal(lo.stats.txPackets, 1);
});
