/**
 * Frame fuzzing of the ipvlan data path (test/ipvlan/fuzz-harness.ts): random and malformed
 * frames on the master (receive) and on every slave (transmit), in every mode × flag and in L3S
 * with the master's stacks running. Nothing may throw, no counter may go negative, and each
 * frame must balance its ledger: 1 + copies = deliveries + wire + tap queues + named drops.
 * Long runs: scripts/fuzz-ipvlan.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FUZZ_MODES, type FuzzSummary, runFuzz } from "./fuzz-harness.ts";

const SEED = Number(process.env.IPVL_FUZZ_SEED ?? 20261123);
const FRAMES = 2000;

function describe(s: FuzzSummary): string {
  const v = s.violations
    .slice(0, 5)
    .map((x) => `  [${x.mode}] frame ${x.frame} (${x.path}, ${x.length} bytes): ${x.problem}\n    ${x.hex}`)
    .join("\n");
  return `seed ${s.seed}: ${s.violationCount} violation(s)\n${v}`;
}

const summaries: FuzzSummary[] = [];

for (const m of FUZZ_MODES) {
  test(`fuzz ${FRAMES} frames, mode ${m.name}: every frame accounted for (seed ${SEED})`, () => {
    const s = runFuzz({ seed: SEED, framesPerMode: FRAMES, modes: [m.name] });
    summaries.push(s);
    assert.equal(s.violationCount, 0, describe(s));
    assert.equal(s.frames, FRAMES);
    assert.ok(s.injected.rx > 0 && s.injected.tx > 0);
  });
}

test("fuzz: the runs reached the drop paths of every mode", () => {
  const seen = (name: string) =>
    summaries.filter((s) => (s.dropReasons[name] ?? 0) > 0).map((s) => s.modes[0]);
  assert.deepEqual(seen("IPVLAN_PRIVATE").sort(), ["l2 private", "l3 private", "l3s private"]);
  assert.ok(seen("IPVLAN_L3_MULTICAST").every((m) => m.startsWith("l3")));
  assert.equal(seen("IPVLAN_L3_MULTICAST").length, 7);
  for (const r of [
    "IPVLAN_SHORT_FRAME",
    "IPVLAN_NON_IP",
    "IPVLAN_ROUTE_FAIL",
    "IPVLAN_BAD_IP_HEADER",
    "IPVLAN_PAUSE_FRAME",
    "IPVLAN_FORWARD_FAIL",
    "IPVLAN_MULTICAST_BACKLOG",
    "IPVTAP_QUEUE_FULL",
    "CPU_BACKLOG",
    "PKT_TOO_BIG",
    "DEV_READY",
    "UNHANDLED_PROTO",
  ]) {
    assert.ok(seen(r).length > 0, `no ${r} anywhere`);
  }
  const l2 = summaries.filter((s) => s.modes[0].startsWith("l2"));
  assert.ok(
    l2.every((s) => s.bursts > 0),
    "L2 runs had multicast bursts",
  );
  assert.ok(
    l2.every((s) => s.ledger.copies > 0),
    "L2 runs made multicast copies",
  );
  const stack = summaries.find((s) => s.modes[0].endsWith("+stack"))!;
  assert.ok(Object.keys(stack.stackDropReasons).length > 3, JSON.stringify(stack.stackDropReasons));
});

test("fuzz: the ledger notices frames that vanish without a name", () => {
  const s = runFuzz({ seed: SEED, framesPerMode: 300, modes: ["l2 bridge"], loseDeliveriesOn: "s0" });
  assert.ok(s.violationCount > 0);
  assert.match(s.violations[0].problem, /^ledger: 1 frame\(s\) \+ \d+ copies != /);
});
