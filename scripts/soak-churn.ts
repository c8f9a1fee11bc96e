/**
 * Long randomised address churn on one ipvlan port (see test/ipvlan/churn-harness.ts): the
 * invariants are checked after every operation. Prints one JSON summary line; on a violation
 * prints it (with the seed, the step and the last operations) and exits 1.
 *
 * Usage: node dist/scripts/soak-churn.js [seed=1] [ops=1000000] [demuxEvery=1]
 */
import { ChurnViolation, runChurn } from "../test/ipvlan/churn-harness.ts";

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

const seed = argInt(2, 1);
const ops = argInt(3, 1_000_000);
const demuxEvery = argInt(4, 1);
const started = performance.now();
try {
  const summary = runChurn({
    seed,
    ops,
    demuxEvery,
    onProgress: (done) => console.error(`soak-churn: ${done} operations`),
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ ...summary, ok: true, seconds: Number(seconds.toFixed(1)) }));
} catch (e) {
  if (!(e instanceof ChurnViolation)) throw e;
  console.log(JSON.stringify({ seed, ops, ok: false, step: e.step, violation: e.message }));
  console.error(e.message);
  process.exit(1);
}
