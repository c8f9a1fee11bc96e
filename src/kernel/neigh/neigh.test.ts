import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel } from "../boot.ts";
import { NSEC_PER_MSEC, NSEC_PER_SEC } from "../clock.ts";
import { devOpen } from "../dev.ts";
import { VethDevice } from "../devices/veth.ts";
import { registerNetdevice } from "../dev.ts";
import { KernelError } from "../errno.ts";
import { allocSkb, type SkBuff } from "../skb.ts";
import { neighAdd, neighDelete, neighGet } from "./admin.ts";
import { type NeighOps, NeighTable, type Neighbour } from "./neigh.ts";
import { NEIGH_UPDATE_F, NTF, NUD } from "./types.ts";

interface Rig {
  table: NeighTable<number>;
  solicits: { at: bigint; probes: number; state: number }[];
  reports: SkBuff[];
  sent: SkBuff[];
  dev: VethDevice;
  run(ms: number): void;
}

/** A table with recording protocol hooks on one (peerless) Ethernet device. */
function rig(seed = 1): Rig {
  const k = bootKernel({ seed });
  const dev = new VethDevice("t0", 1);
  dev.mac = 0x020000000001;
  registerNetdevice(k.initNet, dev);
  devOpen(dev);
  const solicits: Rig["solicits"] = [];
  const reports: SkBuff[] = [];
  const ops: NeighOps<number> = {
    family: 4,
    id: "test_cache",
    sysctlPrefix: "net.test.neigh",
    keyString: String,
    construct() {},
    solicit(n) {
      solicits.push({ at: k.now, probes: n.probes, state: n.nudState });
    },
    errorReport(_n, skb) {
      reports.push(skb);
    },
  };
  const table = new NeighTable(k.initNet, ops);
  return {
    table,
    solicits,
    reports,
    sent: [],
    dev,
    run(ms) {
      k.loop.runUntil(k.now + BigInt(ms) * NSEC_PER_MSEC);
    },
  };
}

function pkt(dev: VethDevice, n = 1): SkBuff {
  const skb = allocSkb(new Uint8Array(20 + n), dev, 0);
  skb.protocol = 0x0800;
  return skb;
}

test("resolution: INCOMPLETE probes at 0, 1, 2 s then FAILED at 3 s reporting every queued packet", () => {
  const r = rig();
  const n = r.table.create(r.dev, 42);
  assert.equal(n.nudState, NUD.NONE);
  assert.equal(r.table.eventSend(n, pkt(r.dev)), 1);
  assert.equal(r.table.eventSend(n, pkt(r.dev)), 1);
  assert.equal(n.nudState, NUD.INCOMPLETE);
  assert.equal(n.queue.length, 2);
  r.run(2999);
  assert.deepEqual(
    r.solicits.map((s) => Number(s.at / NSEC_PER_MSEC)),
    [0, 1000, 2000],
  );
  assert.equal(n.nudState, NUD.INCOMPLETE);
  r.run(1);
  assert.equal(n.nudState, NUD.FAILED);
  assert.equal(r.reports.length, 2);
  assert.equal(n.queue.length, 0);
});

test("a reply makes the entry REACHABLE and releases the queue in order", () => {
  const r = rig();
  const n = r.table.create(r.dev, 7);
  const a = pkt(r.dev, 1);
  const b = pkt(r.dev, 2);
  r.table.eventSend(n, a);
  r.table.eventSend(n, b);
  const out: SkBuff[] = [];
  r.run(300);
  r.table.update(n, 0x020000000099, NUD.REACHABLE, NEIGH_UPDATE_F.OVERRIDE, (s) => out.push(s));
  assert.equal(n.nudState, NUD.REACHABLE);
  assert.equal(n.lladdr, 0x020000000099);
  assert.deepEqual(out, [a, b]);
  r.run(5000);
  assert.equal(r.solicits.length, 1, "no probes once resolved");
});

test("REACHABLE → STALE after the randomized reachable time (15-45 s), STALE → DELAY → PROBE → FAILED", () => {
  const r = rig(3);
  const n = r.table.create(r.dev, 9);
  r.table.update(n, 0x0200000000aa, NUD.REACHABLE, NEIGH_UPDATE_F.OVERRIDE | NEIGH_UPDATE_F.ADMIN);
  const reach = r.table.reachableTime(r.dev);
  assert.ok(reach >= 15n * NSEC_PER_SEC && reach < 45n * NSEC_PER_SEC, `reachable_time ${reach}`);
  r.run(Number(reach / NSEC_PER_MSEC) - 1);
  assert.equal(n.nudState, NUD.REACHABLE);
  r.run(11);
  assert.equal(n.nudState, NUD.STALE, "the timer re-checks HZ/100 after the deadline");
  r.run(60_000);
  assert.equal(n.nudState, NUD.STALE, "small tables keep STALE entries (no GC below gc_thresh1)");
  // A packet uses the stale address at once and starts the 5 s delay.
  assert.equal(r.table.eventSend(n, pkt(r.dev)), 0);
  assert.equal(n.nudState, NUD.DELAY);
  r.run(5000);
  assert.equal(n.nudState, NUD.PROBE);
  assert.equal(r.solicits.length, 1);
  assert.equal(r.solicits[0].probes, 1, "first unicast probe (Linux probes=0 before it)");
  r.run(3000);
  assert.equal(n.nudState, NUD.FAILED);
  assert.equal(r.solicits.length, 3, "ucast_solicit probes in PROBE");
});

test("DELAY returns to REACHABLE without probing when the upper layer confirmed", () => {
  const r = rig();
  const n = r.table.create(r.dev, 10);
  r.table.update(n, 0x0200000000bb, NUD.STALE, NEIGH_UPDATE_F.OVERRIDE);
  r.table.eventSend(n, pkt(r.dev));
  r.run(1000);
  r.table.confirm(n);
  r.run(4000);
  assert.equal(n.nudState, NUD.REACHABLE);
  assert.equal(r.solicits.length, 0);
});

test("neigh_update rules: no change of PERMANENT without ADMIN, no override keeps the address", () => {
  const r = rig();
  const n = r.table.create(r.dev, 11);
  r.table.update(n, 0x020000000001, NUD.PERMANENT, NEIGH_UPDATE_F.ADMIN | NEIGH_UPDATE_F.OVERRIDE);
  assert.throws(
    () => r.table.update(n, 0x020000000002, NUD.REACHABLE, NEIGH_UPDATE_F.OVERRIDE),
    (e: unknown) => {
      return e instanceof KernelError && e.code === "EPERM";
    },
  );
  const m = r.table.create(r.dev, 12);
  r.table.update(m, 0x020000000003, NUD.REACHABLE, NEIGH_UPDATE_F.OVERRIDE);
  r.table.update(m, 0x020000000004, NUD.REACHABLE, 0);
  assert.equal(m.lladdr, 0x020000000003, "different address without override is ignored");
  r.table.update(m, 0x020000000004, NUD.REACHABLE, NEIGH_UPDATE_F.WEAK_OVERRIDE);
  assert.equal(m.nudState, NUD.STALE, "weak override of a connected entry only marks it stale");
  assert.equal(m.lladdr, 0x020000000003);
  assert.throws(() => r.table.update(r.table.create(r.dev, 13), null, NUD.REACHABLE, 0), { code: "EINVAL" });
});

test("ip neigh add/replace/change/del: EEXIST, ENOENT, router flag", () => {
  const r = rig();
  const t = r.table;
  neighAdd(t, { dev: r.dev, key: 1, lladdr: 0x020000000007, nl: { create: true, excl: true } });
  assert.equal(t.lookup(r.dev, 1)?.nudState, NUD.PERMANENT);
  assert.throws(
    () => neighAdd(t, { dev: r.dev, key: 1, lladdr: 0x020000000007, nl: { create: true, excl: true } }),
    {
      code: "EEXIST",
    },
  );
  assert.throws(() => neighAdd(t, { dev: r.dev, key: 2, lladdr: 0x020000000007, nl: { replace: true } }), {
    code: "ENOENT",
  });
  neighAdd(t, {
    dev: r.dev,
    key: 1,
    lladdr: 0x020000000008,
    state: NUD.STALE,
    flags: NTF.ROUTER,
    nl: { create: true, replace: true },
  });
  const n = t.lookup(r.dev, 1)!;
  assert.equal(n.lladdr, 0x020000000008);
  assert.equal(n.nudState, NUD.STALE);
  assert.ok(n.flags & NTF.ROUTER);
  neighDelete(t, r.dev, 1);
  assert.equal(t.lookup(r.dev, 1), undefined);
  assert.throws(() => neighDelete(t, r.dev, 1), { code: "ENOENT" });
});

test("the resolution queue keeps at most unres_qlen_bytes, dropping the oldest", () => {
  const r = rig();
  r.table.net.sysctl.set("net.test.neigh.t0.unres_qlen_bytes", "2000");
  const n = r.table.create(r.dev, 5);
  const skbs = [pkt(r.dev), pkt(r.dev), pkt(r.dev), pkt(r.dev)];
  for (const s of skbs) r.table.eventSend(n, s);
  assert.deepEqual(n.queue, skbs.slice(2));
  assert.equal(r.dev.drops.get("NEIGH_QUEUEFULL"), 2);
});

test("parameters are read live from sysctl (retrans_time_ms, mcast_solicit)", () => {
  const r = rig();
  r.table.net.sysctl.set("net.test.neigh.t0.retrans_time_ms", "250");
  r.table.net.sysctl.set("net.test.neigh.t0.mcast_solicit", "5");
  const n = r.table.create(r.dev, 6);
  r.table.eventSend(n, pkt(r.dev));
  r.run(1250);
  assert.equal(n.nudState, NUD.FAILED);
  assert.deepEqual(
    r.solicits.map((s) => Number(s.at / NSEC_PER_MSEC)),
    [0, 250, 500, 750, 1000],
  );
});

test("flushDev keeps PERMANENT entries only when asked (carrier loss vs. link down)", () => {
  const r = rig();
  const perm = r.table.create(r.dev, 1);
  r.table.update(perm, 0x020000000001, NUD.PERMANENT, NEIGH_UPDATE_F.ADMIN | NEIGH_UPDATE_F.OVERRIDE);
  const dyn: Neighbour<number> = r.table.create(r.dev, 2);
  r.table.update(dyn, 0x020000000002, NUD.STALE, NEIGH_UPDATE_F.OVERRIDE);
  r.table.flushDev(r.dev, true);
  assert.deepEqual(
    r.table.entries().map((n) => n.key),
    [1],
  );
  r.table.flushDev(r.dev, false);
  assert.equal(r.table.size, 0);
  assert.ok(dyn.dead);
});

test("gc_thresh3 bounds the table: forced GC, then ENOBUFS and a log line", () => {
  const r = rig();
  const net = r.table.net;
  net.sysctl.set("net.test.neigh.default.gc_thresh1", "2");
  net.sysctl.set("net.test.neigh.default.gc_thresh2", "3");
  net.sysctl.set("net.test.neigh.default.gc_thresh3", "4");
  for (let i = 0; i < 4; i++) {
    const n = r.table.create(r.dev, 100 + i);
    r.table.update(n, 0x020000000000 + i, NUD.PERMANENT, NEIGH_UPDATE_F.ADMIN | NEIGH_UPDATE_F.OVERRIDE);
  }
  assert.throws(() => r.table.create(r.dev, 200), { code: "ENOBUFS" });
  assert.ok(net.kernel.log.some((l) => l.text.includes("neighbor table overflow")));
  // FAILED entries are reclaimed by the forced GC.
  for (const n of r.table.entries()) r.table.update(n, null, NUD.FAILED, NEIGH_UPDATE_F.ADMIN);
  assert.ok(r.table.create(r.dev, 201));
  assert.ok(r.table.size <= 4);
});

test("a STALE update with the same address keeps a valid entry's state unless the admin sets it", () => {
  const r = rig();
  const n = r.table.create(r.dev, 21);
  r.table.update(n, 0x020000000005, NUD.REACHABLE, NEIGH_UPDATE_F.OVERRIDE);
  // ndisc_recv_ns → neigh_event_ns style update (router.out: r keeps h2 REACHABLE).
  const f = NEIGH_UPDATE_F.WEAK_OVERRIDE | NEIGH_UPDATE_F.OVERRIDE;
  r.table.update(n, 0x020000000005, NUD.STALE, f);
  assert.equal(n.nudState, NUD.REACHABLE);
  r.table.update(n, 0x020000000005, NUD.STALE, NEIGH_UPDATE_F.ADMIN | NEIGH_UPDATE_F.OVERRIDE);
  assert.equal(n.nudState, NUD.STALE, "ip neigh change ... nud stale");
});

test("neigh_get: the entry, or ENOENT 'Neighbour entry not found'", () => {
  const r = rig();
  const n = r.table.create(r.dev, 31);
  assert.equal(neighGet(r.table, r.dev, 31), n);
  assert.throws(
    () => neighGet(r.table, r.dev, 32),
    (e: unknown) =>
      e instanceof KernelError && e.code === "ENOENT" && e.extack === "Neighbour entry not found",
  );
});
