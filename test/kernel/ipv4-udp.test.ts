/** UDP sockets between namespaces: delivery, port unreachable, socket errors, broadcast. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ipv4Net, KernelError, udpSocket } from "../../src/kernel/index.ts";
import { formatIpv4, parseIpv4 } from "../../src/wire/index.ts";
import { capture, ipv4Lab, mac } from "./ipv4-lab.ts";

function pair() {
  const lab = ipv4Lab(13);
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [va, vb] = lab.veth(a, "va", b, "vb", mac(1), mac(2));
  lab.addr(va, "10.0.0.1/24", true);
  lab.addr(vb, "10.0.0.2/24", true);
  return { lab, a, b, va, vb };
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

test("a datagram and its answer", () => {
  const { lab, a, b } = pair();
  const server = udpSocket(b);
  server.bind(0, 5353);
  server.onMessage = (d) => server.sendto(text(`re:${str(d.data)}`), d.saddr, d.sport);
  const client = udpSocket(a);
  assert.equal(client.sendto(text("hello"), parseIpv4("10.0.0.2"), 5353), 0);
  assert.ok(client.lport >= 32768 && client.lport <= 60999, "ephemeral port from ip_local_port_range");
  lab.run(10);
  assert.equal(client.queue.length, 1);
  const got = client.queue[0];
  assert.deepEqual(
    [str(got.data), formatIpv4(got.saddr), got.sport, got.ttl],
    ["re:hello", "10.0.0.2", 5353, 64],
  );
  assert.equal(ipv4Net(b).mib.UdpInDatagrams, 1);
});

test("no listener: ICMP port unreachable; connected sockets see ECONNREFUSED on the next send", () => {
  const { lab, a, va } = pair();
  const cap = capture(va);
  const c = udpSocket(a);
  c.connect(parseIpv4("10.0.0.2"), 9);
  assert.equal(c.sendto(text("x")), 0);
  lab.run(10);
  assert.ok(cap.some((x) => x.text === "ucast 10.0.0.2 > 10.0.0.1 ICMP unreachable code 3 ttl 64"));
  assert.equal(c.sendto(text("y")), "ECONNREFUSED");
  assert.equal(c.sendto(text("z")), 0, "the error is reported once");
  // Unconnected sockets only hear about it with IP_RECVERR.
  const u = udpSocket(a);
  u.recverr = true;
  u.sendto(text("x"), parseIpv4("10.0.0.2"), 10);
  lab.run(10);
  assert.deepEqual(
    [u.errors[0]?.errno, u.errors[0]?.code, formatIpv4(u.errors[0]?.offender ?? 0)],
    ["ECONNREFUSED", 3, "10.0.0.2"],
  );
});

test("port unreachable is rate limited per peer: a burst of 6, then one per second", () => {
  const { lab, a, b } = pair();
  const u = udpSocket(a);
  u.recverr = true;
  for (let i = 0; i < 10; i++) u.sendto(text("x"), parseIpv4("10.0.0.2"), 7);
  lab.run(10);
  assert.equal(u.errors.length, 6);
  assert.equal(ipv4Net(b).mib.IcmpOutRateLimitHost, 4);
  lab.run(1000);
  u.sendto(text("x"), parseIpv4("10.0.0.2"), 7);
  u.sendto(text("x"), parseIpv4("10.0.0.2"), 7);
  lab.run(10);
  assert.equal(u.errors.length, 7);
});

test("bind errors: EADDRINUSE, EADDRNOTAVAIL, EINVAL", () => {
  const { a } = pair();
  const s1 = udpSocket(a);
  s1.bind(0, 4000);
  const s2 = udpSocket(a);
  assert.throws(
    () => s2.bind(parseIpv4("10.0.0.1"), 4000),
    (e: unknown) => e instanceof KernelError && e.code === "EADDRINUSE",
  );
  assert.throws(() => s2.bind(parseIpv4("10.0.0.9"), 4001), { code: "EADDRNOTAVAIL" });
  s2.bind(parseIpv4("10.0.0.1"), 4001);
  assert.throws(() => s2.bind(0, 4002), { code: "EINVAL" });
  assert.equal(udpSocket(a).sendto(text("x"), parseIpv4("192.0.2.1"), 53), "ENETUNREACH");
  assert.equal(udpSocket(a).sendto(text("x")), "EDESTADDRREQ");
});

test("broadcast: SO_BROADCAST required; delivered to every wildcard listener, including our own", () => {
  const { lab, a, b } = pair();
  const got: string[] = [];
  for (const [net, name] of [
    [a, "a"],
    [b, "b"],
  ] as const) {
    const s = udpSocket(net);
    s.bind(0, 67);
    s.onMessage = (d) => got.push(`${name}:${formatIpv4(d.daddr)}`);
  }
  const c = udpSocket(a);
  assert.equal(c.sendto(text("x"), parseIpv4("10.0.0.255"), 67), "EACCES");
  c.broadcast = true;
  assert.equal(c.sendto(text("x"), parseIpv4("10.0.0.255"), 67), 0);
  lab.run(10);
  assert.deepEqual(got.sort(), ["a:10.0.0.255", "b:10.0.0.255"]);
  assert.equal(ipv4Net(b).mib.UdpNoPorts, 0);
});
