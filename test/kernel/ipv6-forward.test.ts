/**
 * Forwarding through a router namespace: hop limit, Time Exceeded, Packet Too Big and the
 * learned path MTU (then source fragmentation and reassembly), forwarding off, reject routes,
 * and UDPv6 sockets (delivery, port unreachable → ECONNREFUSED).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { devSetMtu, KernelError } from "../../src/kernel/index.ts";
import { ip6RouteAdd, ipv6Snmp, ping6Socket, udp6Socket } from "../../src/kernel/ipv6/index.ts";
import { formatIpv6, parseIpv6, parseIpv6Prefix } from "../../src/wire/index.ts";
import { ipv6Lab } from "./ipv6-lab.ts";

function topo() {
  const lab = ipv6Lab(31);
  const h1 = lab.ns("h1");
  const r = lab.ns("r");
  const h2 = lab.ns("h2");
  const [a0, r0] = lab.veth(h1, "a0", 0x02_00_00_00_01_01, r, "r0", 0x02_00_00_00_01_02);
  const [r1, b0] = lab.veth(r, "r1", 0x02_00_00_00_02_01, h2, "b0", 0x02_00_00_00_02_02);
  r.sysctl.set("net.ipv6.conf.all.forwarding", "1");
  lab.up(a0, r0, r1, b0);
  lab.addr(a0, "2001:db8:1::1/64", 0x02);
  lab.addr(r0, "2001:db8:1::ff/64", 0x02);
  lab.addr(r1, "2001:db8:2::ff/64", 0x02);
  lab.addr(b0, "2001:db8:2::2/64", 0x02);
  lab.run(3000);
  ip6RouteAdd(h1, { dst: 0n, dstLen: 0, gateway: parseIpv6("2001:db8:1::ff") });
  ip6RouteAdd(h2, { dst: 0n, dstLen: 0, gateway: parseIpv6("2001:db8:2::ff") });
  return { lab, h1, r, h2, a0, r0, r1, b0 };
}

const H2 = parseIpv6("2001:db8:2::2");

test("ping through the router: hop limit decremented; hop limit 1 gets Time Exceeded", () => {
  const { lab, h1 } = topo();
  const r = lab.ping(h1, H2);
  assert.deepEqual(
    r.replies.map((x) => `${formatIpv6(x.from)} hlim ${x.hopLimit}`),
    ["2001:db8:2::2 hlim 63"],
  );
  const s = ping6Socket(h1);
  s.hopLimit = 1;
  assert.equal(s.send(H2, 7, new Uint8Array(8)), 0);
  lab.run(1000);
  assert.deepEqual(
    s.errors.map(
      (e) => `${e.errno} type ${e.type} code ${e.code} from ${formatIpv6(e.offender)} seq ${e.sequence}`,
    ),
    ["EHOSTUNREACH type 3 code 0 from 2001:db8:1::ff seq 7"],
  );
});

test("Packet Too Big from the router; the sender then fragments and the receiver reassembles", () => {
  const { lab, h1, h2, r1, b0 } = topo();
  devSetMtu(r1, 1280);
  devSetMtu(b0, 1280);
  const first = lab.ping(h1, H2, { size: 1400 });
  assert.deepEqual(first.replies, []);
  assert.deepEqual(
    first.errors.map((e) => `${e.errno} type ${e.type} info ${e.info} from ${formatIpv6(e.offender)}`),
    ["EMSGSIZE type 2 info 1280 from 2001:db8:1::ff"],
  );
  const second = lab.ping(h1, H2, { size: 1400 });
  assert.equal(second.replies.length, 1);
  assert.equal(second.replies[0].data.length, 1400);
  assert.equal(ipv6Snmp(h2).get("Ip6ReasmOKs"), 1);
  assert.equal(ipv6Snmp(h1).get("Ip6ReasmOKs"), 1, "the reply was fragmented by h2 (MTU 1280)");
  const df = lab.ping(h1, H2, { size: 1400, dontFrag: true });
  assert.equal(df.sent, "EMSGSIZE");
  assert.equal(df.errors[0]?.info, 1280);
});

test("forwarding off: silently dropped; reject routes on the router answer", () => {
  const { lab, h1, r } = topo();
  const add = (dst: string, type: number) => {
    const p = parseIpv6Prefix(dst);
    ip6RouteAdd(r, { dst: p.addr, dstLen: p.len, type });
  };
  add("2001:db8:9::/64", 7);
  add("2001:db8:a::/64", 8);
  add("2001:db8:b::/64", 6);
  ip6RouteAdd(h1, { dst: parseIpv6("2001:db8::"), dstLen: 32, gateway: parseIpv6("2001:db8:1::ff") });
  const err = (d: string) => lab.ping(h1, parseIpv6(d)).errors.map((e) => `${e.errno} ${e.type}/${e.code}`);
  assert.deepEqual(err("2001:db8:9::1"), ["ENETUNREACH 1/0"]);
  assert.deepEqual(err("2001:db8:a::1"), ["EACCES 1/1"]);
  assert.deepEqual(err("2001:db8:b::1"), []);
  assert.deepEqual(err("2001:db8:7::1"), ["ENETUNREACH 1/0"], "no route at all on the router");
  r.sysctl.set("net.ipv6.conf.all.forwarding", "0");
  assert.equal(r.sysctl.get("net.ipv6.conf.r0.forwarding"), "0", "all propagates to every device");
  const off = lab.ping(h1, H2);
  assert.deepEqual([off.replies.length, off.errors.length], [0, 0]);
  assert.equal(ipv6Snmp(r).get("Ip6InAddrErrors"), 1);
});

test("UDPv6: delivery to the bound socket; a closed port answers port unreachable", () => {
  const { lab, h1, h2 } = topo();
  const srv = udp6Socket(h2);
  srv.bind(0n, 5000);
  const cli = udp6Socket(h1);
  cli.recverr = true;
  assert.equal(cli.sendto(new TextEncoder().encode("hi"), H2, 5000), 0);
  lab.run(100);
  assert.deepEqual(
    srv.queue.map(
      (d) =>
        `${formatIpv6(d.saddr)}:${d.sport === cli.lport} -> ${formatIpv6(d.daddr)}:${d.dport} ${new TextDecoder().decode(d.data)}`,
    ),
    ["2001:db8:1::1:true -> 2001:db8:2::2:5000 hi"],
  );
  cli.connect(H2, 5001);
  assert.equal(cli.send(new Uint8Array(4)), 0);
  lab.run(100);
  assert.deepEqual(
    cli.errors.map((e) => `${e.errno} ${e.type}/${e.code}`),
    ["ECONNREFUSED 1/4"],
  );
  assert.equal(cli.send(new Uint8Array(4)), "ECONNREFUSED", "the pending error is reported once");
  assert.throws(
    () => srv.bind(0n, 6000),
    (e: unknown) => e instanceof KernelError && e.code === "EINVAL",
  );
  const other = udp6Socket(h2);
  assert.throws(
    () => other.bind(0n, 5000),
    (e: unknown) => e instanceof KernelError && e.code === "EADDRINUSE",
  );
});

test("ICMPv6 errors are rate limited per destination (ratelimit 1000 ms scaled by the /64 route)", () => {
  const { lab, h1, r } = topo();
  ip6RouteAdd(r, { dst: parseIpv6("2001:db8:9::"), dstLen: 64, type: 7 });
  ip6RouteAdd(h1, { dst: parseIpv6("2001:db8:9::"), dstLen: 64, gateway: parseIpv6("2001:db8:1::ff") });
  const s = ping6Socket(h1);
  for (let i = 0; i < 10; i++) s.send(parseIpv6("2001:db8:9::1"), i, new Uint8Array(8));
  lab.run(100);
  assert.equal(s.errors.length, 6, "a burst of 6 tokens of 250 ms");
  lab.run(1000);
  s.skErr = null; // reading the error queue clears the pending error (sock_dequeue_err_skb)
  for (let i = 0; i < 10; i++) s.send(parseIpv6("2001:db8:9::1"), 100 + i, new Uint8Array(8));
  lab.run(100);
  assert.equal(s.errors.length, 10, "1.1 s later: 4 more tokens");
  r.sysctl.set("net.ipv6.icmp.ratelimit", "0");
  s.skErr = null;
  for (let i = 0; i < 10; i++) s.send(parseIpv6("2001:db8:9::1"), 200 + i, new Uint8Array(8));
  lab.run(100);
  assert.equal(s.errors.length, 20, "ratelimit 0 disables the limit");
});
