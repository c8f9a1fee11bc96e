import assert from "node:assert/strict";
import { test } from "node:test";
import { NSEC_PER_SEC } from "../clock.ts";
import { bootKernel } from "../boot.ts";
import type { NetNamespace } from "../netns.ts";
import type { NetDevice } from "../netdev.ts";
import {
  type NfConn,
  nfCtActive,
  nfCtEntries,
  nfCtFlush,
  nfCtGet,
  nfCtNetnsGet,
  nfCtNetnsPut,
  nfCtTimeoutSecs,
} from "./conntrack.ts";
import { IP_CT, IPS, TCP_CONNTRACK } from "./conntrack-proto.ts";
import { NF, NF_INET, NFPROTO, nfHasHooks, nfHook } from "./hooks.ts";
import { netfilterInit } from "./init.ts";
import { deliverIn, frame4, frame6, ipOf, sendOut, skbOf } from "./test-packets.ts";

function setup(): { net: NetNamespace; dev: NetDevice; advance: (s: number) => void } {
  const k = bootKernel();
  netfilterInit(k);
  const net = k.createNamespace("ct");
  nfCtNetnsGet(net, NFPROTO.INET);
  return { net, dev: net.loopback, advance: (s) => k.loop.runUntil(k.now + BigInt(s) * NSEC_PER_SEC) };
}

function only(net: NetNamespace): NfConn {
  const all = nfCtEntries(net);
  assert.equal(all.length, 1);
  return all[0];
}

test("hooks exist only while a user holds them", () => {
  const k = bootKernel();
  netfilterInit(k);
  const net = k.createNamespace("x");
  assert.equal(nfHasHooks(net, NFPROTO.IPV4, NF_INET.PRE_ROUTING), false);
  nfCtNetnsGet(net, NFPROTO.IPV4);
  nfCtNetnsGet(net, NFPROTO.INET);
  assert.equal(nfCtActive(net, 4), true);
  assert.equal(nfCtActive(net, 6), true);
  nfCtNetnsPut(net, NFPROTO.IPV4);
  assert.equal(nfCtActive(net, 4), true, "the inet reference still holds ipv4");
  nfCtNetnsPut(net, NFPROTO.INET);
  assert.equal(nfCtActive(net, 4), false);
  assert.equal(nfHasHooks(net, NFPROTO.IPV4, NF_INET.PRE_ROUTING), false);
  // Without hooks, traffic leaves no entries.
  sendOut(
    net,
    skbOf(frame4("10.0.0.1", "10.0.0.2", { icmp: "echo-request", id: 7 }), net.loopback),
    net.loopback,
  );
  assert.equal(nfCtEntries(net).length, 0);
});

test("ICMP echo: NEW, confirmed at POST_ROUTING, reply ESTABLISHED, 30 s timeout", () => {
  const { net, dev, advance } = setup();
  const req = skbOf(frame4("10.0.0.1", "10.0.0.2", { icmp: "echo-request", id: 1234 }), dev);
  assert.equal(sendOut(net, req, dev), NF.ACCEPT);
  assert.equal(req.ctinfo, IP_CT.NEW);
  const ct = only(net);
  assert.equal(ct.status & IPS.CONFIRMED, IPS.CONFIRMED);
  assert.equal(ct.status & IPS.SEEN_REPLY, 0);
  assert.equal(nfCtTimeoutSecs(net, ct), 30);
  advance(1);
  const rep = skbOf(frame4("10.0.0.2", "10.0.0.1", { icmp: "echo-reply", id: 1234 }), dev);
  assert.equal(deliverIn(net, rep, dev), NF.ACCEPT);
  assert.equal(nfCtGet(rep), ct);
  assert.equal(rep.ctinfo, IP_CT.ESTABLISHED_REPLY);
  assert.equal(ct.status & IPS.SEEN_REPLY, IPS.SEEN_REPLY);
  assert.equal(ct.status & IPS.ASSURED, 0, "ICMP entries are never assured");
  assert.equal(ct.tuple[1].type, 0);
  assert.equal(ct.tuple[1].sport, 1234);
  advance(10);
  assert.equal(nfCtTimeoutSecs(net, ct), 20);
  advance(20);
  assert.equal(nfCtEntries(net).length, 0, "expired after 30 s without traffic");
});

test("an echo reply without a request is invalid and creates nothing", () => {
  const { net, dev } = setup();
  const rep = skbOf(frame4("10.0.0.2", "10.0.0.1", { icmp: "echo-reply", id: 9 }), dev);
  assert.equal(deliverIn(net, rep, dev), NF.ACCEPT);
  assert.equal(rep.ct, null);
  assert.equal(nfCtEntries(net).length, 0);
});

test("a packet dropped before confirmation leaves no entry", () => {
  const { net, dev } = setup();
  const skb = skbOf(frame4("10.0.0.2", "10.0.0.1", { icmp: "echo-request", id: 5 }), dev);
  // PRE_ROUTING only (as if LOCAL_IN dropped it).
  nfHook(NFPROTO.IPV4, NF_INET.PRE_ROUTING, net, skb, dev, null);
  assert.equal(skb.ctinfo, IP_CT.NEW);
  assert.equal(nfCtEntries(net).length, 0);
});

test("UDP: unreplied 30 s, stream after 2 s both ways: 120 s and ASSURED", () => {
  const { net, dev, advance } = setup();
  const out = () => sendOut(net, skbOf(frame4("10.0.0.1", "10.0.0.2", { udp: [4000, 5000] }), dev), dev);
  const back = () => deliverIn(net, skbOf(frame4("10.0.0.2", "10.0.0.1", { udp: [5000, 4000] }), dev), dev);
  out();
  const ct = only(net);
  assert.equal(nfCtTimeoutSecs(net, ct), 30);
  back();
  assert.equal(ct.status & IPS.SEEN_REPLY, IPS.SEEN_REPLY);
  assert.equal(ct.status & IPS.ASSURED, 0);
  out();
  assert.equal(ct.status & IPS.ASSURED, 0, "still within the first 2 s");
  advance(3);
  out();
  assert.equal(ct.status & IPS.ASSURED, IPS.ASSURED);
  assert.equal(nfCtTimeoutSecs(net, ct), 120);
});

test("TCP: three-way handshake to ESTABLISHED/ASSURED, close to TIME_WAIT", () => {
  const { net, dev } = setup();
  const seg = (from: "c" | "s", flags: number) => {
    const f =
      from === "c"
        ? frame4("10.0.0.1", "10.0.0.2", { tcp: [40000, 80], flags })
        : frame4("10.0.0.2", "10.0.0.1", { tcp: [80, 40000], flags });
    const skb = skbOf(f, dev);
    if (from === "c") sendOut(net, skb, dev);
    else deliverIn(net, skb, dev);
    return skb;
  };
  seg("c", 0x02);
  const ct = only(net);
  assert.equal(ct.tcpState, TCP_CONNTRACK.SYN_SENT);
  assert.equal(nfCtTimeoutSecs(net, ct), 120);
  seg("s", 0x12);
  assert.equal(ct.tcpState, TCP_CONNTRACK.SYN_RECV);
  seg("c", 0x10);
  assert.equal(ct.tcpState, TCP_CONNTRACK.ESTABLISHED);
  assert.equal(ct.status & IPS.ASSURED, IPS.ASSURED);
  assert.equal(nfCtTimeoutSecs(net, ct), 432000);
  seg("c", 0x11);
  assert.equal(ct.tcpState, TCP_CONNTRACK.FIN_WAIT);
  seg("s", 0x10);
  assert.equal(ct.tcpState, TCP_CONNTRACK.CLOSE_WAIT);
  seg("s", 0x11);
  assert.equal(ct.tcpState, TCP_CONNTRACK.LAST_ACK);
  seg("c", 0x10);
  assert.equal(ct.tcpState, TCP_CONNTRACK.TIME_WAIT);
  assert.equal(nfCtTimeoutSecs(net, ct), 120);
  // A SYN/ACK out of the blue is invalid for the entry (and gets no ct).
  const bad = seg("s", 0x12);
  assert.equal(bad.ct, ct, "SYN/ACK in TIME_WAIT is ignored, not invalid");
});

test("TCP: a RST as the only answer kills the entry", () => {
  const { net, dev } = setup();
  sendOut(net, skbOf(frame4("10.0.0.1", "10.0.0.2", { tcp: [40001, 81], flags: 0x02 }), dev), dev);
  assert.equal(nfCtEntries(net).length, 1);
  deliverIn(net, skbOf(frame4("10.0.0.2", "10.0.0.1", { tcp: [81, 40001], flags: 0x14 }), dev), dev);
  assert.equal(nfCtEntries(net).length, 0);
});

test("TCP: a stray ACK is picked up as ESTABLISHED (loose tracking); a stray FIN is invalid", () => {
  const { net, dev } = setup();
  const fin = skbOf(frame4("10.0.0.1", "10.0.0.2", { tcp: [1, 2], flags: 0x11 }), dev);
  sendOut(net, fin, dev);
  assert.equal(fin.ct, null);
  assert.equal(nfCtEntries(net).length, 0);
  sendOut(net, skbOf(frame4("10.0.0.1", "10.0.0.2", { tcp: [1, 2], flags: 0x10 }), dev), dev);
  assert.equal(only(net).tcpState, TCP_CONNTRACK.ESTABLISHED);
});

test("ICMP errors are RELATED to the flow they quote", () => {
  const { net, dev } = setup();
  const probe = frame4("10.0.0.1", "10.0.0.2", { udp: [4000, 5001] });
  sendOut(net, skbOf(probe, dev), dev);
  const ct = only(net);
  const err = skbOf(
    frame4("10.0.0.2", "10.0.0.1", { icmpError: 3, code: 3, inner: ipOf(probe).slice(0, 28) }),
    dev,
  );
  deliverIn(net, err, dev);
  assert.equal(nfCtGet(err), ct);
  assert.equal(err.ctinfo, IP_CT.RELATED_REPLY);
  assert.equal(ct.status & IPS.SEEN_REPLY, 0, "an error is not a reply");
  // An error quoting an unknown flow gets no entry.
  const other = frame4("10.0.0.1", "10.0.0.3", { udp: [1, 2] });
  const err2 = skbOf(
    frame4("10.0.0.3", "10.0.0.1", { icmpError: 3, code: 3, inner: ipOf(other).slice(0, 28) }),
    dev,
  );
  deliverIn(net, err2, dev);
  assert.equal(err2.ct, null);
});

test("IPv6: echo tracked, neighbour discovery untracked, generic protocols 600 s", () => {
  const { net, dev } = setup();
  sendOut(net, skbOf(frame6("fd00::1", "fd00::2", { icmp6: "echo-request", id: 77 }), dev), dev);
  const rep = skbOf(frame6("fd00::2", "fd00::1", { icmp6: "echo-reply", id: 77 }), dev);
  deliverIn(net, rep, dev);
  assert.equal(rep.ctinfo, IP_CT.ESTABLISHED_REPLY);
  const ns = skbOf(frame6("fd00::2", "ff02::1:ff00:1", { icmp6Raw: 135 }), dev);
  deliverIn(net, ns, dev);
  assert.equal(ns.ct, null);
  assert.equal(ns.ctinfo, IP_CT.UNTRACKED);
  assert.equal(nfCtEntries(net).length, 1);
  nfCtFlush(net);
  sendOut(net, skbOf(frame4("10.0.0.1", "10.0.0.2", { proto: 253 }), dev), dev);
  const g = only(net);
  assert.equal(nfCtTimeoutSecs(net, g), 600);
  assert.equal(g.tuple[1].src, g.tuple[0].dst);
});

test("a packet that already carries an entry (looped back) is not tracked twice", () => {
  const { net, dev } = setup();
  const skb = skbOf(frame4("127.0.0.1", "127.0.0.1", { icmp: "echo-request", id: 3 }), dev);
  sendOut(net, skb, dev);
  const ct = nfCtGet(skb);
  deliverIn(net, skb, dev);
  assert.equal(nfCtGet(skb), ct);
  assert.equal(skb.ctinfo, IP_CT.NEW);
  assert.equal(nfCtEntries(net).length, 1);
});
