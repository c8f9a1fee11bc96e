/** ping between namespaces: local delivery, unreachable cases, broadcast, DF/fragmentation, hooks. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allocSkb,
  devOpen,
  devSetMtu,
  fibRouteAdd,
  neighTableGet,
  NUD,
  NF,
  NF_INET,
  NFPROTO,
  nfRegisterHook,
  ipLocalOut,
  ipRouteOutput,
  pingSocket,
  pingPayload,
  ipv4Net,
} from "../../src/kernel/index.ts";
import { formatIpv4, parseIpv4, readIpv4 } from "../../src/wire/index.ts";
import { capture, ipv4Lab, mac } from "./ipv4-lab.ts";

function pair() {
  const lab = ipv4Lab(9);
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [va, vb] = lab.veth(a, "va", b, "vb", mac(1), mac(2));
  lab.addr(va, "10.0.0.1/24", true);
  lab.addr(vb, "10.0.0.2/24", true);
  return { lab, a, b, va, vb };
}

test("pinging our own addresses goes through lo", () => {
  const { lab, a, va } = pair();
  const cap = capture(va);
  for (const dst of ["10.0.0.1", "127.0.0.1", "127.1.2.3"]) {
    const r = lab.ping(a, dst, { waitMs: 5 });
    assert.equal(r.replies.length, 1, dst);
    assert.equal(formatIpv4(r.replies[0].from), dst);
    assert.equal(r.replies[0].dev, "lo");
  }
  assert.equal(cap.length, 0);
});

test("no route: ENETUNREACH at send time; unreachable/prohibit/blackhole routes give their errno", () => {
  const { lab, a } = pair();
  assert.equal(lab.ping(a, "192.0.2.1", { waitMs: 1 }).sent, "ENETUNREACH");
  assert.equal(ipv4Net(a).mib.OutNoRoutes, 1);
  for (const [type, errno] of [
    [7, "EHOSTUNREACH"],
    [8, "EACCES"],
    [6, "EINVAL"],
  ] as const) {
    const s = pingSocket(a);
    fibRouteAdd(
      a,
      { dst: parseIpv4("198.51.100.0"), dstLen: 24, type, table: 254 },
      { create: true, replace: true },
    );
    assert.equal(s.send(parseIpv4("198.51.100.7"), 1, pingPayload(56, lab.k.now)), errno);
    s.close();
  }
});

test("broadcast ping: EACCES without SO_BROADCAST; icmp_echo_ignore_broadcasts decides who answers", () => {
  const { lab, a, b } = pair();
  assert.equal(lab.ping(a, "10.0.0.255", { waitMs: 5 }).sent, "EACCES");
  let r = lab.ping(a, "10.0.0.255", { broadcast: true, waitMs: 50 });
  assert.equal(r.sent, 0);
  assert.equal(r.replies.length, 0, "both sides ignore broadcast echo by default");
  b.sysctl.set("net.ipv4.icmp_echo_ignore_broadcasts", "0");
  r = lab.ping(a, "10.0.0.255", { broadcast: true, waitMs: 50 });
  assert.deepEqual(
    r.replies.map((x) => formatIpv4(x.from)),
    ["10.0.0.2"],
  );
  a.sysctl.set("net.ipv4.icmp_echo_ignore_broadcasts", "0");
  r = lab.ping(a, "10.0.0.255", { broadcast: true, waitMs: 50 });
  assert.deepEqual(
    r.replies.map((x) => formatIpv4(x.from)).sort(),
    ["10.0.0.1", "10.0.0.2"],
    "the looped-back copy answers too",
  );
  // 255.255.255.255 needs a device (or a route) and SO_BROADCAST.
  const vr = lab.ping(a, "255.255.255.255", { broadcast: true, waitMs: 50, dev: a.dev("va")! });
  assert.ok(vr.replies.some((x) => formatIpv4(x.from) === "10.0.0.2"));
});

test("icmp_echo_ignore_all silences echo replies", () => {
  const { lab, a, b } = pair();
  b.sysctl.set("net.ipv4.icmp_echo_ignore_all", "1");
  assert.equal(lab.ping(a, "10.0.0.2", { waitMs: 100 }).replies.length, 0);
});

test("DF: -M do over the MTU is a local EMSGSIZE (with the MTU); -M want fragments and the reply reassembles", () => {
  const { lab, a, va } = pair();
  const big = lab.ping(a, "10.0.0.2", { size: 1500, pmtudisc: "do", waitMs: 10 });
  assert.equal(big.sent, "EMSGSIZE");
  assert.equal(big.errors[0].errno, "EMSGSIZE");
  assert.equal(big.errors[0].origin, 1);
  assert.equal(big.errors[0].info, 1500);
  const cap = capture(va);
  const frag = lab.ping(a, "10.0.0.2", { size: 3000, waitMs: 50 });
  assert.equal(frag.replies.length, 1);
  assert.equal(frag.replies[0].data.length, 3000);
  const out = cap.filter((c) => c.dir === "out").map((c) => c.text);
  assert.deepEqual(out.slice(-3), [
    "ucast 10.0.0.1 > 10.0.0.2 ICMP echo request seq 1 ttl 64 frag off 0+",
    "ucast 10.0.0.1 > 10.0.0.2 proto 1 ttl 64 frag off 1480+",
    "ucast 10.0.0.1 > 10.0.0.2 proto 1 ttl 64 frag off 2960",
  ]);
});

test("binding to a device sends there even without a route (on-link assumption)", () => {
  const { lab, a, va } = pair();
  const r = lab.ping(a, "10.9.9.9", { waitMs: 10 });
  assert.equal(r.sent, "ENETUNREACH");
  const cap = capture(va);
  const bound = lab.ping(a, "10.9.9.9", { dev: va, waitMs: 10 });
  assert.equal(bound.sent, 0);
  assert.deepEqual(
    cap.map((c) => c.text),
    ["bcast ARP request who-has 10.9.9.9 tell 10.0.0.1"],
  );
});

test("netfilter: LOCAL_OUT DROP makes sendmsg fail with EPERM; PRE_ROUTING sees the reply", () => {
  const { lab, a } = pair();
  const seen: string[] = [];
  nfRegisterHook(a, {
    pf: NFPROTO.IPV4,
    hook: NF_INET.PRE_ROUTING,
    priority: 0,
    owner: "test",
    fn: (skb) => {
      seen.push(formatIpv4(readIpv4(skb.data, skb.network + 12)));
      return NF.ACCEPT;
    },
  });
  assert.equal(lab.ping(a, "10.0.0.2", { waitMs: 10 }).replies.length, 1);
  assert.ok(seen.length >= 1);
  const drop = {
    pf: NFPROTO.IPV4,
    hook: NF_INET.LOCAL_OUT,
    priority: 0,
    owner: "test",
    fn: () => NF.DROP,
  } as const;
  nfRegisterHook(a, drop);
  assert.equal(lab.ping(a, "10.0.0.2", { waitMs: 10 }).sent, "EPERM");
});

test("ipRouteOutput/ipLocalOut (the ipvlan API): anySrc, oif, and a pre-built packet", () => {
  const { lab, a, b, va } = pair();
  const rt = ipRouteOutput(a, {
    daddr: parseIpv4("10.0.0.2"),
    saddr: parseIpv4("10.0.0.77"),
    anySrc: true,
    oif: va.ifindex,
  });
  assert.ok(typeof rt !== "string");
  assert.equal(formatIpv4(rt.saddr), "10.0.0.77");
  assert.equal(
    ipRouteOutput(a, { daddr: parseIpv4("10.0.0.2"), saddr: parseIpv4("10.0.0.77") }),
    "ENETUNREACH",
  );
  // An echo request built by hand, with a stale Ethernet header in front of it.
  const s = pingSocket(b, 0x4242);
  const icmp = [8, 0, 0, 0, 0x42, 0x42, 0, 1];
  let sum = 0;
  for (let i = 0; i < icmp.length; i += 2) sum += (icmp[i] << 8) | icmp[i + 1];
  sum = ~((sum & 0xffff) + (sum >>> 16)) & 0xffff;
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  const got: number[] = [];
  s.onReply = (r) => got.push(r.seq);
  const frame = new Uint8Array(14 + 28);
  frame.set([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  frame.set(icmp, 34);
  const rt2 = ipRouteOutput(a, { daddr: parseIpv4("10.0.0.2"), saddr: parseIpv4("10.0.0.1") });
  assert.ok(typeof rt2 !== "string");
  const skb = allocSkb(frame, va, 14);
  assert.equal(ipLocalOut(a, skb, rt2), 0);
  lab.run(10);
  // b answered; the reply reached a, where no socket has id 0x4242.
  assert.equal(ipv4Net(b).mib.IcmpOutMsgs, 1);
  assert.equal(ipv4Net(a).mib.IcmpInMsgs, 1);
  assert.deepEqual(got, []);
  s.close();
});

test("NOARP devices (dummy) get NOARP neighbours with their own address; multicast maps to 01:00:5e", () => {
  const { lab, a, va } = pair();
  const dummy = lab.k.linkKinds.get("dummy")!.newLink(a, { name: "d0", address: mac(0x33) });
  devOpen(dummy);
  lab.addr(dummy, "172.20.0.1/24");
  const r = lab.ping(a, "172.20.0.9", { waitMs: 10 });
  assert.equal(r.sent, 0);
  assert.equal(dummy.stats.txPackets, 1);
  const n = neighTableGet(a, 4)!.lookup(dummy, parseIpv4("172.20.0.9"))!;
  assert.deepEqual([n.nudState, n.lladdr], [NUD.NOARP, mac(0x33)]);
  const cap = capture(va);
  const m = lab.ping(a, "224.0.0.1", { dev: va, waitMs: 10 });
  assert.equal(m.sent, 0);
  assert.deepEqual(
    cap.map((c) => c.text),
    ["mcast 10.0.0.1 > 224.0.0.1 ICMP echo request seq 1 ttl 1"],
  );
  assert.equal(neighTableGet(a, 4)!.lookup(va, parseIpv4("224.0.0.1"))!.lladdr, 0x01005e000001);
});

test("the l3mdev hook runs after PRE_ROUTING and may consume or pass the packet", () => {
  const { lab, a, vb } = pair();
  const seen: string[] = [];
  vb.l3mdevRcv = (skb, family) => {
    seen.push(`${family} ${formatIpv4(readIpv4(skb.data, skb.network + 16))}`);
    return seen.length === 1 ? skb : null;
  };
  assert.equal(lab.ping(a, "10.0.0.2", { waitMs: 10 }).replies.length, 1);
  assert.equal(lab.ping(a, "10.0.0.2", { waitMs: 10, seq: 2 }).replies.length, 0);
  assert.deepEqual(seen, ["4 10.0.0.2", "4 10.0.0.2"]);
});

test("veth peer refusing an oversize frame: NET_XMIT_DROP reaches sendmsg as ENOBUFS (IpOutDiscards)", () => {
  // veth_xmit returns NET_XMIT_DROP when __dev_forward_skb refuses the frame (longer than the
  // peer's MTU), and ip_send_skb turns it into -ENOBUFS: iputils ping then retries.
  const { lab, a, va, vb } = pair();
  devSetMtu(va, 9000);
  // resolve the neighbour first (a packet queued for ARP reports success at sendmsg)
  assert.equal(lab.ping(a, "10.0.0.2", { size: 1400, pmtudisc: "do", waitMs: 10 }).replies.length, 1);
  const r = lab.ping(a, "10.0.0.2", { size: 3000, pmtudisc: "do", waitMs: 10 });
  assert.equal(r.sent, "ENOBUFS");
  assert.equal(r.replies.length, 0);
  assert.equal(va.stats.txDropped, 1);
  assert.equal(vb.stats.rxDropped, 1);
  assert.equal(ipv4Net(a).mib.OutDiscards, 1);
  assert.equal(lab.ping(a, "10.0.0.2", { size: 1400, pmtudisc: "do", waitMs: 10 }).sent, 0);
});
