/**
 * Long frame fuzzing of the ipvlan data path (see test/ipvlan/fuzz-harness.ts), spread evenly
 * over the modes (l2/l3/l3s × bridge/private/vepa, and L3S with the master's stacks running).
 * Prints one JSON summary line with the counts per drop reason; exits 1 on any violation (the
 * first ones are in the summary, with the frame in hex).
 *
 * Usage: node dist/scripts/fuzz-ipvlan.js [frames=1000000] [seed=1]
 */
import { FUZZ_MODES, runFuzz } from "../test/ipvlan/fuzz-harness.ts";

function argInt(index: number, fallback: number): number {
  const text = process.argv[index];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`Cannot parse argument "${text}": expected a non-negative integer`);
    process.exit(2);
  }
  return n;
}

const frames = argInt(2, 1_000_000);
const seed = argInt(3, 1);
const started = performance.now();
const summary = runFuzz({
  seed,
  framesPerMode: Math.ceil(frames / FUZZ_MODES.length),
  maxViolations: 20,
  onProgress: (done) => console.error(`fuzz-ipvlan: ${done} frames`),
});
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    ok: summary.violationCount === 0,
    seconds: Number(seconds.toFixed(1)),
    framesPerSecond: Math.round(summary.frames / seconds),
    ...summary,
    violations: summary.violations.slice(0, 20),
  }),
);
process.exit(summary.violationCount === 0 ? 0 : 1);
