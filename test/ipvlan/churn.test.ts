/**
 * Randomised address churn on one ipvlan port (test/ipvlan/churn-harness.ts): thousands of
 * seeded operations (address adds/deletes from small pools, down/up, namespace moves,
 * delete/recreate, mode changes, the master's own addresses) with the port's invariants checked
 * after each one. A failure names the seed, the step and the operations that led there; rerun
 * with `IPVL_CHURN_SEED=N` or `node dist/scripts/soak-churn.js N OPS`. Long runs: scripts/soak-churn.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChurn } from "./churn-harness.ts";

const SEED = Number(process.env.IPVL_CHURN_SEED ?? 20261123);

test(`churn: 2000 random operations keep the port's address table consistent (seed ${SEED})`, () => {
  const s = runChurn({ seed: SEED, ops: 2000 });
  assert.equal(s.checks, 2001);
  // Not a vacuous run: collisions were frequent, refused adds were refused, everything moved.
  const o = s.outcomes;
  assert.ok((o["addr4.add"]?.EADDRINUSE ?? 0) > 50, JSON.stringify(o["addr4.add"]));
  assert.ok((o["addr4.add"]?.ok ?? 0) > 50, JSON.stringify(o["addr4.add"]));
  assert.ok((o["addr6.add-nodad"]?.EADDRINUSE ?? 0) > 20, JSON.stringify(o["addr6.add-nodad"]));
  assert.ok((o["master.addr4.add"]?.ok ?? 0) > 0, "the master is never refused");
  for (const op of [
    "link.updown",
    "link.netns",
    "link.recreate",
    "link.mode",
    "addr4.add-peer",
    "addr6.del",
  ]) {
    assert.ok(o[op] !== undefined, `no ${op} in the run`);
  }
  assert.ok(s.maxHashed >= 20, `at most ${s.maxHashed} addresses were hashed at once`);
  assert.ok(s.demuxFrames > 40_000, `${s.demuxFrames} demux probes`);
});

test("churn: the same seed replays the same trace, another seed does not", () => {
  const a = runChurn({ seed: 7, ops: 300, demuxEvery: 0 });
  const b = runChurn({ seed: 7, ops: 300, demuxEvery: 0 });
  const c = runChurn({ seed: 8, ops: 300, demuxEvery: 0 });
  assert.equal(a.traceHash, b.traceHash);
  assert.deepEqual(a.outcomes, b.outcomes);
  assert.notEqual(a.traceHash, c.traceHash);
});
