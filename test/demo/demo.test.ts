/**
 * The demo (`npm start`) in-process: the HOWTO's two seeds (older: mode l2; newer: the default
 * mode, l3) must give the real kernel's reachability matrix as recorded in the oracle's
 * modes-matrix.out (the byte-identical copy in test/fixtures/oracle/), the HTML report must be
 * written with its drawings, and two runs must print the same thing.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { demoMain } from "../../src/cli/demo.ts";
import { renderHtml } from "../../src/cli/demo/html.ts";
import { type DemoOutcome, REPORT_NAME, runDemo, VARIANTS, writeReport } from "../../src/cli/demo/index.ts";
import { ORACLE_EMBEDDED } from "../../src/cli/demo/oracle-data.ts";
import { parseModesMatrix, parseSeedExample, probeKey } from "../../src/cli/demo/oracle.ts";
import { runVariant } from "../../src/cli/demo/scenario.ts";
import { renderText } from "../../src/cli/demo/text.ts";

function findRoot(start: string): string {
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json")) && statSync(join(d, "src")).isDirectory()) return d;
    if (dirname(d) === d) throw new Error(`Cannot find the project root above "${start}"`);
  }
}

const root = findRoot(dirname(fileURLToPath(import.meta.url)));
const fixture = (name: string) => readFileSync(join(root, "test", "fixtures", "oracle", name), "utf8");
const REAL = parseModesMatrix(fixture("modes-matrix.out"));

let outcome: DemoOutcome;
let dir: string;

before(async () => {
  outcome = await runDemo();
  dir = mkdtempSync(join(tmpdir(), "ipvl-demo-test-"));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The simulated answers of a variant for the probes the real kernel recorded, as "label: OK". */
function simulated(id: string, keys: readonly string[]): string[] {
  const v = outcome.variants.find((x) => x.result.variant.id === id);
  assert.ok(v, `variant ${id} ran`);
  const r = v.result;
  assert.ok(r.ok, `variant ${id} could not run: ${r.ok ? "" : r.error}`);
  const all = [
    ...r.matrix.map((p) => [probeKey(p.from, p.to), p.ok] as const),
    ...r.staticNeigh.map((p) => [probeKey(p.from, p.to, true), p.ok] as const),
  ];
  return keys.map((k) => {
    const hit = all.find(([key]) => key === k);
    return `${k}: ${hit === undefined ? "not probed" : hit[1] ? "OK" : "FAIL"}`;
  });
}

function recorded(mode: string): { keys: string[]; answers: string[] } {
  const probes = REAL.modes[mode]?.probes;
  assert.ok(probes, `modes-matrix.out has mode ${mode}`);
  const keys = Object.keys(probes);
  return { keys, answers: keys.map((k) => `${k}: ${probes[k] ? "OK" : "FAIL"}`) };
}

test("older HOWTO (mode l2): the matrix is the real kernel's (modes-matrix.out, mode l2)", () => {
  const { keys, answers } = recorded("l2");
  assert.equal(keys.length, 9);
  assert.deepEqual(simulated("seed-older-l2", keys), answers);
});

test("older HOWTO (mode l2): also the rows only seed-example-l2.out has", () => {
  const seed = parseSeedExample(fixture("seed-example-l2.out"));
  const keys = Object.keys(seed);
  assert.equal(keys.length, 9);
  assert.deepEqual(
    simulated("seed-older-l2", keys),
    keys.map((k) => `${k}: ${seed[k] ? "OK" : "FAIL"}`),
  );
});

test("newer HOWTO (default mode): ipvl0 is l3 bridge and the matrix is the real kernel's (mode l3)", () => {
  const v = outcome.variants.find((x) => x.result.variant.id === "seed-newer-default")!.result;
  assert.ok(v.ok);
  assert.equal(v.modeLine, REAL.modes.l3!.modeLine);
  assert.equal(v.flags, REAL.modes.l3!.flags);
  const { keys, answers } = recorded("l3");
  assert.deepEqual(simulated("seed-newer-default", keys), answers);
});

test("every mode/flag ran, and failures carry a reason", () => {
  for (const { result: r } of outcome.variants) {
    assert.ok(r.ok, `${r.variant.title}: ${r.ok ? "" : r.error}`);
    for (const p of [...r.matrix, ...r.staticNeigh]) {
      assert.equal(p.ok, p.reason === "", `${r.variant.title} ${p.from} -> ${p.to}: "${p.reason}"`);
    }
  }
  const l2p = outcome.variants.find((x) => x.result.variant.id === "mode-l2-private")!.result;
  assert.ok(l2p.ok);
  assert.equal(l2p.matrix.find((p) => p.from === "ns1" && p.to === "ns0")?.reason, "IPVLAN_PRIVATE");
});

test("the embedded oracle is the fixtures' matrices", () => {
  assert.equal(ORACLE_EMBEDDED.kernel, REAL.kernel);
  assert.deepEqual(ORACLE_EMBEDDED.modes, REAL.modes);
  assert.deepEqual(ORACLE_EMBEDDED.seedL2, parseSeedExample(fixture("seed-example-l2.out")));
});

test("the HTML report is written and holds the drawings", () => {
  const path = writeReport(outcome, dir);
  assert.equal(path, join(dir, REPORT_NAME));
  const html = readFileSync(path, "utf8");
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<svg[\s>]/);
  // the topology plus one drawing per probe (14 per variant)
  const drawings = html.match(/<svg xmlns=/g)?.length ?? 0;
  assert.equal(drawings, 1 + 14 * outcome.variants.length);
  assert.doesNotMatch(
    html,
    /<script|https?:\/\/(?!www\.w3\.org)/,
    "self-contained: no scripts, no external resources",
  );
});

test("the command line prints the matrices, writes the report, and is deterministic", async () => {
  let text = "";
  const io = { out: (s: string) => void (text += s), err: (s: string) => void (text += s), cwd: dir };
  assert.equal(await demoMain(["--out", join(dir, "cli")], io), 0);
  assert.ok(existsSync(join(dir, "cli", REPORT_NAME)));
  assert.ok(text.startsWith(outcome.text), "same text as the in-process run");
  assert.match(text, /report: wrote cli\/ipvl-report\.html/);
  assert.equal(readFileSync(join(dir, "cli", REPORT_NAME), "utf8"), outcome.html);
});

test("without the ipvlan driver every variant says so instead of crashing", async () => {
  const missing = { ok: false, reason: "src/ipvlan does not export ipvlanInit yet" } as const;
  const r = await runVariant(VARIANTS[0]!, missing);
  assert.equal(r.ok, false);
  assert.match(
    r.ok ? "" : r.error,
    /ipvlan driver is not available: src\/ipvlan does not export ipvlanInit yet/,
  );
  const text = renderText([{ result: r, cmp: null }], ORACLE_EMBEDDED);
  assert.match(text, /NOT RUN: the ipvlan driver is not available/);
  assert.match(renderHtml([{ result: r, cmp: null }], ORACLE_EMBEDDED), /Not run: the ipvlan driver/);
});
