/**
 * test/fixtures/ping/cases.sh under `ipvl run` against its recording on a real kernel
 * (cases.out): ping's output and exit codes for 32 command lines, timings masked.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { lineDiff, runSimScript } from "../support/run-sim.ts";

function fixture(name: string): string {
  for (const rel of ["../fixtures/ping/", "../../../test/fixtures/ping/"]) {
    const p = fileURLToPath(new URL(rel + name, import.meta.url));
    try {
      readFileSync(p);
      return p;
    } catch {
      // try the other layout
    }
  }
  throw new Error(`Cannot find test/fixtures/ping/${name}`);
}

/**
 * Lines where the simulated kernel (not ping) still differs from Linux, with the reason. The
 * test fails when one of them starts to match, so that the entry gets removed.
 */
const KERNEL_DIFFERENCES: readonly { readonly real: string; readonly sim: string; readonly why: string }[] =
  [];

test("ping cases print what iputils printed on a real kernel (timings masked)", {
  timeout: 120_000,
}, async () => {
  const cwd = mkdtempSync(join(tmpdir(), "ipvl-ping-"));
  try {
    // A private copy: its scratch file goes to this test's directory, not a shared /tmp.
    const script = join(cwd, "cases.sh");
    writeFileSync(script, readFileSync(fixture("cases.sh"), "utf8").replaceAll("/tmp/", `${cwd}/`));
    const run = await runSimScript(script, [], cwd);
    let sim = run.stdout;
    for (const d of KERNEL_DIFFERENCES) {
      assert.ok(sim.includes(d.sim), `known difference no longer seen (remove it): ${d.why}`);
      sim = sim.replace(d.sim, d.real);
    }
    const real = readFileSync(fixture("cases.out"), "utf8");
    if (sim !== real)
      assert.fail(`(- real, + simulated)\n${lineDiff(real, sim)}\n--- stderr:\n${run.stderr}`);
    assert.equal(run.code, 0);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
