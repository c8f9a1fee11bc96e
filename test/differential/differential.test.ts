/**
 * The differential suite: every scenario in scenarios/*.sh must print the same thing, after
 * normalize.ts, as the real kernel printed when its fixture was recorded (record.sh).
 *
 * (a) real kernel: each scenario runs for real (root, `ip netns`) and must still match its
 *     fixture, so a stale fixture fails; skipped where real namespaces are not available.
 * (b) simulated kernel: each scenario runs under `ipvl run` and must match its fixture.
 *     Scenarios listed in known-gaps.json (with a reason) are reported as todo, never as passed.
 * (c) determinism: one scenario twice under `ipvl run`, byte-identical raw output.
 * (d) bad input is the `errors` scenario (malformed ip/ping/nft/sysctl, then the state).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { netnsUnavailableReason } from "../support/netns.ts";
import {
  deleteOwnNamespaces,
  hasCommand,
  installCleanupOnExit,
  readFixture,
  readKnownGaps,
  runReal,
  runSimulated,
  scenarioNames,
  scenarioPath,
  sweepStaleNamespaces,
  unifiedDiff,
} from "./harness.ts";
import { normalize } from "./normalize.ts";

const SCENARIOS = scenarioNames();
const KNOWN_GAPS = readKnownGaps();
/** The scenario of the determinism check: a background capture, signals, sleeps and files. */
const DETERMINISM_SCENARIO = "capture";
const REAL_TIMEOUT_MS = 60_000;
const SIM_TIMEOUT_MS = 90_000;
const REAL_TOOLS = ["ip", "ping", "tcpdump", "nft", "conntrack", "sysctl"];

/** Fails with a unified diff when `actual` (normalised) is not the fixture. */
function assertMatchesFixture(name: string, actual: string, side: string): void {
  const fixture = readFixture(name);
  if (fixture === undefined) {
    assert.fail(`no fixture test/fixtures/differential/${name}.out: record it (test/differential/record.sh)`);
  }
  if (actual === fixture) return;
  const diff = unifiedDiff(fixture, actual, [`fixture ${name}.out`, `${side} ${name}`]);
  assert.fail(`${side} output of "${name}" differs from its fixture:\n${diff}`);
}

test("known-gaps.json names existing scenarios only, each with a reason", () => {
  const unknown = Object.keys(KNOWN_GAPS).filter((name) => !SCENARIOS.includes(name));
  assert.deepEqual(unknown, [], "known-gaps.json lists scenarios that do not exist");
});

test("scenarios name themselves after their file and source the one common preamble", () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash line, not a template
  const source = '. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"';
  for (const name of SCENARIOS) {
    const text = readFileSync(scenarioPath(name), "utf8");
    // The real-run cleanup finds a scenario's namespaces by its name (`<prefix>-<name>-<host>`).
    assert.match(text, new RegExp(`^S=${name}$`, "m"), `${name}.sh must set S=${name}`);
    assert.ok(text.split("\n").includes(source), `${name}.sh must source common.sh`);
  }
});

test("every scenario has a fixture", () => {
  const missing = SCENARIOS.filter((name) => readFixture(name) === undefined);
  assert.deepEqual(missing, [], "record the missing fixtures with test/differential/record.sh");
});

describe("(a) real kernel matches the fixtures", { concurrency: 3 }, () => {
  let unavailable: string | undefined;
  before(async () => {
    unavailable = await netnsUnavailableReason();
    const missing = REAL_TOOLS.filter((tool) => !hasCommand(tool));
    if (unavailable === undefined && missing.length > 0) unavailable = `missing tools: ${missing.join(", ")}`;
    if (unavailable === undefined) {
      installCleanupOnExit();
      sweepStaleNamespaces();
    }
  });
  after(() => {
    if (unavailable === undefined) deleteOwnNamespaces();
  });

  for (const name of SCENARIOS) {
    test(name, async (t) => {
      if (unavailable !== undefined) {
        t.skip(`real namespaces unavailable: ${unavailable}`);
        return;
      }
      let leftovers: string[] = [];
      try {
        const run = await runReal(name, REAL_TIMEOUT_MS);
        assertMatchesFixture(name, normalize(run.text), "real");
      } finally {
        leftovers = deleteOwnNamespaces(`${name}-`);
      }
      assert.deepEqual(leftovers, [], `scenario "${name}" did not delete its namespaces`);
    });
  }
});

describe("(b) simulated kernel (ipvl run) matches the fixtures", { concurrency: 4 }, () => {
  for (const name of SCENARIOS) {
    test(name, async (t) => {
      const gap = KNOWN_GAPS[name];
      if (gap !== undefined) t.todo(`known gap: ${gap}`);
      const run = await runSimulated(name, SIM_TIMEOUT_MS);
      assertMatchesFixture(name, normalize(run.text), "ipvl run");
      if (gap !== undefined) t.diagnostic(`"${name}" matches now: remove it from known-gaps.json`);
    });
  }
});

test("(c) ipvl run is deterministic: the same raw output twice", async () => {
  const first = await runSimulated(DETERMINISM_SCENARIO, SIM_TIMEOUT_MS);
  const second = await runSimulated(DETERMINISM_SCENARIO, SIM_TIMEOUT_MS);
  assert.ok(!first.timedOut, `"${DETERMINISM_SCENARIO}" timed out under ipvl run`);
  if (first.text !== second.text) {
    assert.fail(
      `two runs of "${DETERMINISM_SCENARIO}" differ:\n${unifiedDiff(first.text, second.text, ["run 1", "run 2"])}`,
    );
  }
});
