/** Forwarding through a router namespace: ip_forward, TTL, ICMP errors, PMTU, redirects. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allocSkb,
  devSetMtu,
  fibRouteAdd,
  ipLocalOut,
  ipRouteOutput,
  neighAdd,
  neighTableGet,
  RTCF,
  RTN,
} from "../../src/kernel/index.ts";
import { formatIpv4, parseIpv4 } from "../../src/wire/index.ts";
import { capture, ipv4Lab, mac } from "./ipv4-lab.ts";

/** h1 (10.1.0.2) — r1 [r] r2 — h2 (10.2.0.2). */
function routed(forward = true) {
  const lab = ipv4Lab(11);
  const h1 = lab.ns("h1");
  const r = lab.ns("r");
  const h2 = lab.ns("h2");
  const [a, r1] = lab.veth(h1, "a", r, "r1", mac(1), mac(0x11));
  const [b, r2] = lab.veth(h2, "b", r, "r2", mac(2), mac(0x12));
  lab.addr(a, "10.1.0.2/24");
  lab.addr(b, "10.2.0.2/24");
  lab.addr(r1, "10.1.0.1/24");
  lab.addr(r2, "10.2.0.1/24");
  lab.route(h1, "default", "10.1.0.1");
  lab.route(h2, "default", "10.2.0.1");
  if (forward) r.sysctl.set("net.ipv4.ip_forward", "1");
  return { lab, h1, r, h2, a, b, r1, r2 };
}

test("ip_forward=0: the router drops silently; =1: the reply comes back with TTL 63", () => {
  const off = routed(false);
  const r0 = off.lab.ping(off.h1, "10.2.0.2");
  assert.deepEqual([r0.replies.length, r0.errors.length], [0, 0]);
  const on = routed();
  const cap = capture(on.r2);
  const r1 = on.lab.ping(on.h1, "10.2.0.2");
  assert.equal(r1.replies.length, 1);
  assert.equal(r1.replies[0].ttl, 63);
  assert.ok(cap.some((c) => c.text === "ucast 10.1.0.2 > 10.2.0.2 ICMP echo request seq 1 ttl 63"));
});

test("TTL 1: time exceeded from the router's address toward the sender", () => {
  const { lab, h1 } = routed();
  const r = lab.ping(h1, "10.2.0.2", { ttl: 1 });
  assert.equal(r.replies.length, 0);
  assert.equal(r.errors.length, 1);
  assert.deepEqual(
    [r.errors[0].type, r.errors[0].code, formatIpv4(r.errors[0].offender)],
    [11, 0, "10.1.0.1"],
  );
  assert.equal(r.errors[0].errno, "EHOSTUNREACH");
});

test("router without a route: net unreachable; unreachable route: host unreachable; blackhole: silence", () => {
  const { lab, h1, r } = routed();
  let p = lab.ping(h1, "10.9.0.2");
  assert.deepEqual([p.errors[0]?.type, p.errors[0]?.code, p.errors[0]?.errno], [3, 0, "ENETUNREACH"]);
  // The error route is not RTCF_LOCAL: the router answers from its own address (router.out).
  assert.equal(formatIpv4(p.errors[0]?.offender ?? 0), "10.1.0.1");
  fibRouteAdd(r, { dst: parseIpv4("10.8.0.0"), dstLen: 16, type: RTN.UNREACHABLE });
  fibRouteAdd(r, { dst: parseIpv4("10.7.0.0"), dstLen: 16, type: RTN.PROHIBIT });
  fibRouteAdd(r, { dst: parseIpv4("10.6.0.0"), dstLen: 16, type: RTN.BLACKHOLE });
  lab.run(10_000);
  p = lab.ping(h1, "10.8.0.2");
  assert.deepEqual([p.errors[0]?.code, p.errors[0]?.errno], [1, "EHOSTUNREACH"]);
  p = lab.ping(h1, "10.7.0.2");
  assert.deepEqual([p.errors[0]?.code, p.errors[0]?.errno], [13, "EHOSTUNREACH"]);
  p = lab.ping(h1, "10.6.0.2");
  assert.deepEqual([p.replies.length, p.errors.length], [0, 0]);
});

test("ICMP errors share the per-source bucket (ip_error + icmp_ratelimit): the 4th burst error is dropped", () => {
  const { lab, h1, r } = routed();
  fibRouteAdd(r, { dst: parseIpv4("10.8.0.0"), dstLen: 16, type: RTN.UNREACHABLE });
  const errs = [1, 2, 3, 4].map((seq) => lab.ping(h1, "10.8.0.2", { seq, waitMs: 1 }).errors.length);
  assert.deepEqual(errs, [1, 1, 0, 0]);
  lab.run(2000);
  assert.equal(lab.ping(h1, "10.8.0.2", { waitMs: 1 }).errors.length, 1);
});

test("the router's ARP fails: host unreachable from the router after 3 s", () => {
  const { lab, h1 } = routed();
  const p = lab.ping(h1, "10.2.0.9", { waitMs: 4000 });
  assert.equal(p.errors.length, 1);
  assert.deepEqual([p.errors[0].code, formatIpv4(p.errors[0].offender)], [1, "10.1.0.1"]);
  const ms = Number((p.errors[0].time - p.sentAt) / 1_000_000n);
  assert.ok(ms >= 3000 && ms < 3020, `${ms}`);
});

test("DF over a smaller egress MTU: frag needed with the MTU, then the learned PMTU fails locally", () => {
  const { lab, h1, r2 } = routed();
  devSetMtu(r2, 1300);
  const p1 = lab.ping(h1, "10.2.0.2", { size: 1400, pmtudisc: "do" });
  assert.equal(p1.sent, 0);
  assert.deepEqual(
    [p1.errors[0]?.type, p1.errors[0]?.code, p1.errors[0]?.info, p1.errors[0]?.errno],
    [3, 4, 1300, "EMSGSIZE"],
  );
  const p2 = lab.ping(h1, "10.2.0.2", { size: 1400, pmtudisc: "do" });
  assert.equal(p2.sent, "EMSGSIZE");
  assert.deepEqual([p2.errors[0]?.origin, p2.errors[0]?.info], [1, 1300]);
  const rt = ipRouteOutput(h1, { daddr: parseIpv4("10.2.0.2"), saddr: 0 });
  assert.ok(typeof rt !== "string" && rt.mtu === 1300);
});

test("forwarding back out the arrival interface sends a redirect; a valid new gateway is then used", () => {
  const { lab, h1, r, a } = routed();
  lab.route(h1, "10.5.0.0/16", "10.1.0.1");
  lab.route(r, "10.5.0.0/16", "10.1.0.3");
  const cap = capture(a);
  const p = lab.ping(h1, "10.5.0.1", { waitMs: 10 });
  assert.ok(cap.some((c) => c.text === "ucast 10.1.0.1 > 10.1.0.2 ICMP redirect code 1 ttl 64"));
  assert.deepEqual([p.errors[0]?.type, p.errors[0]?.errno], [5, "EREMOTEIO"]);
  // The new gateway's neighbour is not valid yet: Linux only starts resolving it.
  let rt = ipRouteOutput(h1, { daddr: parseIpv4("10.5.0.1"), saddr: 0 });
  assert.ok(typeof rt !== "string" && formatIpv4(rt.gateway) === "10.1.0.1");
  neighAdd(neighTableGet(h1, 4)!, {
    dev: a,
    key: parseIpv4("10.1.0.3"),
    lladdr: mac(3),
    nl: { create: true, replace: true },
  });
  lab.run(100);
  lab.ping(h1, "10.5.0.1", { waitMs: 10 });
  rt = ipRouteOutput(h1, { daddr: parseIpv4("10.5.0.1"), saddr: 0 });
  assert.ok(typeof rt !== "string");
  assert.equal(formatIpv4(rt.gateway), "10.1.0.3");
  assert.ok(rt.flags & RTCF.REDIRECTED);
});

test("rp_filter=1 drops a source that routes back through another interface; 0 forwards it", () => {
  const { lab, h1, r, a, r1, r2 } = routed();
  const spoof = (): void => {
    const rt = ipRouteOutput(h1, {
      daddr: parseIpv4("10.2.0.2"),
      saddr: parseIpv4("10.2.0.99"),
      anySrc: true,
    });
    assert.ok(typeof rt !== "string");
    const pkt = buildPkt(parseIpv4("10.2.0.99"), parseIpv4("10.2.0.2"));
    ipLocalOut(h1, allocSkb(pkt, a, 0), rt);
    lab.run(10);
  };
  const out = capture(r2);
  spoof();
  assert.equal(
    out.filter((c) => c.dir === "out" && c.text.includes("10.2.0.99:12345 > 10.2.0.2:9")).length,
    1,
  );
  r.sysctl.set("net.ipv4.conf.r1.rp_filter", "1");
  spoof();
  assert.equal(
    out.filter((c) => c.dir === "out" && c.text.includes("10.2.0.99:12345 > 10.2.0.2:9")).length,
    1,
  );
  assert.equal(r1.drops.get("IP_RPFILTER"), 1);
});

/** A minimal UDP/IPv4 packet with a valid header checksum (UDP checksum 0 = none). */
function buildPkt(saddr: number, daddr: number): Uint8Array {
  const p = new Uint8Array(28);
  p.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17]);
  for (let i = 0; i < 4; i++) {
    p[12 + i] = (saddr >>> (24 - 8 * i)) & 0xff;
    p[16 + i] = (daddr >>> (24 - 8 * i)) & 0xff;
  }
  p.set([0x30, 0x39, 0, 9, 0, 8, 0, 0], 20);
  return p;
}
