/** ARP resolution and neighbour states over (virtual) time, as the real kernel shows them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ARPOP,
  arpSend,
  devClose,
  inetAddrAdd,
  type NetNamespace,
  neighAdd,
  neighTableGet,
  NUD,
  NUD_NAMES,
  netifCarrierOff,
  netnsDelete,
} from "../../src/kernel/index.ts";
import { formatIpv4, parseIpv4 } from "../../src/wire/index.ts";
import { capture, ipv4Lab, mac } from "./ipv4-lab.ts";

function pair() {
  const lab = ipv4Lab(5);
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [va, vb] = lab.veth(a, "va", b, "vb", mac(1), mac(2));
  lab.addr(va, "10.0.0.1/24");
  lab.addr(vb, "10.0.0.2/24");
  return { lab, a, b, va, vb };
}

function state(net: NetNamespace, addr: string): string {
  const n = neighTableGet(net, 4)!
    .entries()
    .find((e) => e.key === parseIpv4(addr));
  return n ? NUD_NAMES[n.nudState] : "none";
}

test("first ping: broadcast request, unicast reply, then echo; both sides learn", () => {
  const { lab, a, b, va } = pair();
  const cap = capture(va);
  const r = lab.ping(a, "10.0.0.2");
  assert.equal(r.sent, 0);
  assert.equal(r.replies.length, 1);
  assert.equal(formatIpv4(r.replies[0].from), "10.0.0.2");
  assert.equal(r.replies[0].ttl, 64);
  assert.deepEqual(
    cap.map((c) => `${c.dir} ${c.text}`),
    [
      "out bcast ARP request who-has 10.0.0.2 tell 10.0.0.1",
      "in ucast ARP reply 10.0.0.2 is-at 02:00:00:00:00:02",
      "out ucast 10.0.0.1 > 10.0.0.2 ICMP echo request seq 1 ttl 64",
      "in ucast 10.0.0.2 > 10.0.0.1 ICMP echo reply seq 1 ttl 64",
    ],
  );
  assert.equal(state(a, "10.0.0.2"), "REACHABLE");
  // b learnt a from the request (STALE) and used it for the reply: DELAY.
  assert.equal(state(b, "10.0.0.1"), "DELAY");
});

test("DELAY → PROBE after 5 s: one unicast probe, the answer makes it REACHABLE", () => {
  const { lab, a, b, vb } = pair();
  lab.ping(a, "10.0.0.2", { waitMs: 100 });
  const cap = capture(vb);
  lab.run(4800);
  assert.equal(state(b, "10.0.0.1"), "DELAY");
  lab.run(200);
  assert.equal(state(b, "10.0.0.1"), "REACHABLE");
  assert.deepEqual(
    cap.map((c) => c.text),
    ["ucast ARP request who-has 10.0.0.1 tell 10.0.0.2", "ucast ARP reply 10.0.0.1 is-at 02:00:00:00:00:01"],
  );
});

test("REACHABLE goes STALE within base_reachable_time × [0.5, 1.5) and stays (small tables are not GC'ed)", () => {
  const { lab, a } = pair();
  lab.ping(a, "10.0.0.2", { waitMs: 10 });
  assert.equal(state(a, "10.0.0.2"), "REACHABLE");
  lab.run(14_900);
  assert.equal(state(a, "10.0.0.2"), "REACHABLE");
  lab.run(31_000);
  assert.equal(state(a, "10.0.0.2"), "STALE");
  lab.run(300_000);
  assert.equal(state(a, "10.0.0.2"), "STALE");
});

test("no answer: 3 broadcast requests 1 s apart, host unreachable from ourselves at 3 s, FAILED", () => {
  const { lab, a, va } = pair();
  const cap = capture(va);
  const r = lab.ping(a, "10.0.0.3", { waitMs: 3500 });
  assert.equal(r.sent, 0);
  assert.deepEqual(
    cap.map((c) => `${c.ms - Number(r.sentAt / 1_000_000n)} ${c.text}`),
    [
      "0 bcast ARP request who-has 10.0.0.3 tell 10.0.0.1",
      "1000 bcast ARP request who-has 10.0.0.3 tell 10.0.0.1",
      "2000 bcast ARP request who-has 10.0.0.3 tell 10.0.0.1",
    ],
  );
  assert.equal(r.errors.length, 1);
  const e = r.errors[0];
  assert.equal(e.errno, "EHOSTUNREACH");
  assert.equal(e.origin, 2);
  assert.equal(e.type, 3);
  assert.equal(e.code, 1);
  assert.equal(formatIpv4(e.offender), "10.0.0.1");
  assert.equal(e.sequence, 1);
  const ms = Number((e.time - r.sentAt) / 1_000_000n);
  assert.ok(ms >= 3000 && ms < 3010, `error after ${ms} ms`);
  assert.equal(state(a, "10.0.0.3"), "FAILED");
  // A new packet restarts resolution from scratch.
  const before = cap.length;
  lab.ping(a, "10.0.0.3", { waitMs: 10 });
  assert.equal(cap.length, before + 1);
  assert.equal(state(a, "10.0.0.3"), "INCOMPLETE");
});

test("arp_announce chooses the source of the request; arp_ignore=1 hides addresses of other devices", () => {
  const { lab, a, b, va, vb } = pair();
  lab.addr(va, "192.168.7.1/24");
  const cap = capture(va);
  const s = lab.ping(a, "10.0.0.2", { waitMs: 10 });
  assert.equal(s.replies.length, 1);
  assert.match(cap[0].text, /tell 10\.0\.0\.1$/);
  // b owns 172.16.0.2 on lo; with arp_ignore 0 it answers ARP for it on vb.
  inetAddrAdd(b.loopback, { local: parseIpv4("172.16.0.2"), prefixLen: 32 });
  lab.route(a, "172.16.0.2/32", undefined, va);
  assert.equal(lab.ping(a, "172.16.0.2", { waitMs: 50 }).replies.length, 1);
  neighTableGet(a, 4)!.flushDev(va, false);
  b.sysctl.set("net.ipv4.conf.vb.arp_ignore", "1");
  const r = lab.ping(a, "172.16.0.2", { waitMs: 3100 });
  assert.equal(r.replies.length, 0);
  assert.equal(r.errors[0]?.errno, "EHOSTUNREACH");
  void vb;
});

test("gratuitous ARP overrides a known address (STALE); unsolicited ARP creates nothing by default", () => {
  const { lab, a, va, vb } = pair();
  lab.ping(a, "10.0.0.2", { waitMs: 10 });
  const tbl = neighTableGet(a, 4)!;
  vb.mac = mac(0x22);
  arpSend(ARPOP.REQUEST, parseIpv4("10.0.0.2"), vb, parseIpv4("10.0.0.2"), null, vb.mac, null);
  arpSend(ARPOP.REQUEST, parseIpv4("10.0.0.99"), vb, parseIpv4("10.0.0.99"), null, vb.mac, null);
  lab.run(1);
  const n = tbl.lookup(va, parseIpv4("10.0.0.2"))!;
  assert.equal(n.lladdr, mac(0x22));
  assert.equal(NUD_NAMES[n.nudState], "STALE");
  assert.equal(tbl.lookup(va, parseIpv4("10.0.0.99")), undefined);
  a.sysctl.set("net.ipv4.conf.va.arp_accept", "1");
  arpSend(ARPOP.REQUEST, parseIpv4("10.0.0.99"), vb, parseIpv4("10.0.0.99"), null, vb.mac, null);
  lab.run(1);
  assert.equal(NUD_NAMES[tbl.lookup(va, parseIpv4("10.0.0.99"))!.nudState], "STALE");
});

test("link down flushes all entries (even permanent); carrier loss keeps permanent ones", () => {
  const { lab, a, va } = pair();
  const tbl = neighTableGet(a, 4)!;
  neighAdd(tbl, { dev: va, key: parseIpv4("10.0.0.7"), lladdr: mac(7), nl: { create: true, excl: true } });
  lab.ping(a, "10.0.0.2", { waitMs: 10 });
  netifCarrierOff(va);
  lab.k.loop.settle();
  assert.deepEqual(
    tbl.entries(va).map((n) => `${formatIpv4(n.key)} ${NUD_NAMES[n.nudState]}`),
    ["10.0.0.7 PERMANENT"],
  );
  devClose(va);
  assert.equal(tbl.entries(va).length, 0);
  assert.equal(NUD.PERMANENT, 0x80);
});

test("deleting a namespace with resolutions, fragments and timers pending is clean", () => {
  const { lab, a, b } = pair();
  lab.ping(a, "10.0.0.3", { waitMs: 500 });
  lab.ping(a, "10.0.0.2", { size: 4000, waitMs: 0 });
  netnsDelete(b);
  netnsDelete(a);
  lab.run(120_000);
  assert.equal(lab.k.namespaces.length, 1);
});
