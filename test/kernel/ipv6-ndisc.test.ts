/**
 * Neighbour discovery and ping -6: link-local and global pings across a veth, who answers a
 * ping to ff02::1 (bcast-mcast.out: the sender itself and the peer), NUD states over time,
 * failed resolution reported as "address unreachable", NA flags.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NUD, NUD_NAMES } from "../../src/kernel/index.ts";
import { ndTable } from "../../src/kernel/ipv6/index.ts";
import { formatIpv6, parseIpv6 } from "../../src/wire/index.ts";
import { ipv6Lab, MAC1, MAC2 } from "./ipv6-lab.ts";

function pair(seed = 1) {
  const lab = ipv6Lab(seed);
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [e0, e1] = lab.veth(a, "e0", MAC1, b, "e1", MAC2);
  lab.up(e0, e1);
  lab.run(3000);
  return { lab, a, b, e0, e1 };
}

function neigh(net: Parameters<typeof ndTable>[0], only?: string): string[] {
  return ndTable(net)
    .entries()
    .filter((n) => n.nudState !== NUD.NOARP && (only === undefined || formatIpv6(n.key) === only))
    .map(
      (n) =>
        `${formatIpv6(n.key)} dev ${n.dev.name} ${NUD_NAMES[n.nudState]}${n.flags & 0x80 ? " router" : ""}`,
    );
}

test("ping -6 a link-local address needs a scope; with it NS/NA then echo", () => {
  const { lab, a, e0 } = pair();
  const ll = parseIpv6("fe80::ff:fe00:2");
  assert.equal(lab.ping(a, ll).sent, "EINVAL");
  const cap = lab.capture(e0);
  const r = lab.ping(a, ll, { scope: e0 });
  assert.equal(r.sent, 0);
  assert.deepEqual(
    r.replies.map((x) => `${formatIpv6(x.from)}%${x.dev} hlim ${x.hopLimit}`),
    ["fe80::ff:fe00:2%e0 hlim 64"],
  );
  const kinds = cap.map((c) => `${c.dir} ${c.frame.icmpv6?.kind}`);
  assert.deepEqual(kinds.slice(0, 4), [
    "out neighbor-solicit",
    "in neighbor-advert",
    "out echo-request",
    "in echo-reply",
  ]);
  const na = cap[1].frame.icmpv6;
  assert.ok(na?.kind === "neighbor-advert" && na.solicited && na.override && !na.router);
  assert.deepEqual(neigh(a), ["fe80::ff:fe00:2 dev e0 REACHABLE"]);
});

test("ping -6 ff02::1%e0: the sender and the peer answer; echo_ignore_multicast silences the peer", () => {
  const { lab, a, b, e0 } = pair();
  const all = parseIpv6("ff02::1");
  assert.equal(lab.ping(a, all).sent, "EINVAL");
  const cap = lab.capture(e0);
  const r = lab.ping(a, all, { scope: e0 });
  // The self reply comes back through lo but names e0 (bcast-mcast.out: "%ipvl0", not "%lo").
  assert.deepEqual(r.replies.map((x) => `${formatIpv6(x.from)}%${x.dev}`).sort(), [
    "fe80::ff:fe00:1%e0",
    "fe80::ff:fe00:2%e0",
  ]);
  const req = cap.find((c) => c.frame.icmpv6?.kind === "echo-request");
  assert.equal(req?.frame.ipv6?.hopLimit, 1, "multicast hop limit 1");
  assert.equal(req?.frame.eth.dst, 0x3333_0000_0001);
  b.sysctl.set("net.ipv6.icmp.echo_ignore_multicast", "1");
  const r2 = lab.ping(a, all, { scope: e0 });
  assert.deepEqual(
    r2.replies.map((x) => formatIpv6(x.from)),
    ["fe80::ff:fe00:1"],
  );
  b.sysctl.set("net.ipv6.icmp.echo_ignore_all", "1");
  b.sysctl.set("net.ipv6.icmp.echo_ignore_multicast", "0");
  assert.deepEqual(lab.ping(a, parseIpv6("fe80::ff:fe00:2"), { scope: e0 }).replies, []);
});

test("NUD: REACHABLE, STALE after reachable time, DELAY on use, PROBE after 5 s, REACHABLE again", () => {
  const { lab, a, b, e0 } = pair(9);
  lab.addr(e0, "2001:db8::1/64", 0x02);
  lab.addr(b.dev("e1")!, "2001:db8::2/64", 0x02);
  lab.run(100);
  const peer = parseIpv6("2001:db8::2");
  assert.equal(lab.ping(a, peer, { waitMs: 100 }).replies.length, 1);
  assert.deepEqual(neigh(a), ["2001:db8::2 dev e0 REACHABLE"]);
  assert.deepEqual(
    neigh(b),
    ["2001:db8::1 dev e1 DELAY"],
    "the peer learned us from our NS (STALE) and used it",
  );
  lab.run(46_000);
  assert.deepEqual(neigh(a, "2001:db8::2"), ["2001:db8::2 dev e0 STALE"]);
  const cap = lab.capture(e0);
  assert.equal(lab.ping(a, peer, { waitMs: 100 }).replies.length, 1);
  assert.deepEqual(neigh(a, "2001:db8::2"), ["2001:db8::2 dev e0 DELAY"]);
  lab.run(5000);
  const probe = cap.find(
    (c) => c.dir === "out" && c.frame.icmpv6?.kind === "neighbor-solicit" && c.frame.icmpv6.target === peer,
  );
  assert.ok(probe, "a unicast probe after delay_first_probe_time");
  assert.equal(formatIpv6(probe.frame.ipv6!.dst), "2001:db8::2");
  assert.deepEqual(neigh(a, "2001:db8::2"), ["2001:db8::2 dev e0 REACHABLE"]);
});

test("an unresolvable neighbour: 3 multicast NS, then Destination Unreachable (address unreachable)", () => {
  const { lab, a, e0 } = pair();
  lab.addr(e0, "2001:db8::1/64", 0x02);
  const cap = lab.capture(e0);
  const start = lab.k.now;
  const r = lab.ping(a, parseIpv6("2001:db8::9"), { waitMs: 4000 });
  const ns = cap.filter((c) => c.frame.icmpv6?.kind === "neighbor-solicit");
  assert.deepEqual(
    ns.map((c) => Number((c.time - start) / 1_000_000n)),
    [0, 1000, 2000],
  );
  assert.deepEqual(
    ns.map((c) => formatIpv6(c.frame.ipv6!.dst)),
    ["ff02::1:ff00:9", "ff02::1:ff00:9", "ff02::1:ff00:9"],
  );
  assert.equal(r.errors.length, 1);
  const e = r.errors[0];
  assert.deepEqual([e.errno, e.type, e.code, formatIpv6(e.offender)], ["EHOSTUNREACH", 1, 3, "2001:db8::1"]);
  assert.deepEqual(
    neigh(a).filter((x) => x.startsWith("2001:db8::9")),
    ["2001:db8::9 dev e0 FAILED"],
  );
});

test("no route: ENETUNREACH at send; no usable source: EADDRNOTAVAIL", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [e0, e1] = lab.veth(a, "e0", MAC1, b, "e1", MAC2);
  assert.equal(lab.ping(a, parseIpv6("2001:db9::9")).sent, "ENETUNREACH");
  lab.up(e0, e1);
  lab.run(50);
  // The link-local is still tentative: nothing to send from.
  assert.equal(lab.ping(a, parseIpv6("fe80::ff:fe00:2"), { scope: e0, waitMs: 10 }).sent, "EADDRNOTAVAIL");
});

test("pings to our own addresses go through lo; the reply's iif is the address's device", () => {
  // ip6_rcv_core: a packet that kept its dst (looped through lo) gets IP6CB(skb)->iif from the
  // dst's idev, the device owning the local address: ping prints fe80::...%e0, never %lo.
  const { lab, a, e0 } = pair();
  const cap = lab.capture(e0);
  lab.addr(e0, "2001:db8::1/64", 0x02);
  for (const [d, dev] of [
    ["::1", "lo"],
    ["2001:db8::1", "e0"],
  ]) {
    const r = lab.ping(a, parseIpv6(d), { waitMs: 10 });
    assert.deepEqual(
      r.replies.map((x) => `${formatIpv6(x.from)} ${x.dev}`),
      [`${d} ${dev}`],
    );
  }
  const ll = lab.ping(a, parseIpv6("fe80::ff:fe00:1"), { scope: e0, waitMs: 10 });
  assert.deepEqual(
    ll.replies.map((x) => `${formatIpv6(x.from)}%${x.dev}`),
    ["fe80::ff:fe00:1%e0"],
  );
  assert.deepEqual(
    cap.filter((c) => c.frame.icmpv6?.kind?.startsWith("echo")),
    [],
    "nothing on the wire",
  );
});
