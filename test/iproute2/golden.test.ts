/**
 * Replays the command lists of test/fixtures/ip/*.cmds on a simulated kernel and compares each
 * command's stdout, stderr and exit status byte for byte with what the real iproute2 6.1 printed
 * (recorded by test/fixtures/ip/record.sh into *.golden.json).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { bootKernel } from "../../src/kernel/index.ts";
import { ipMain } from "../../src/iproute2/index.ts";

interface GoldenRow {
  readonly argv: string[];
  readonly stdout: string;
  readonly stderr: string;
  readonly rc: number;
}

const FIXTURES = join(import.meta.dirname, "..", "..", "..", "test", "fixtures", "ip");

/** Runs one `ip` command line on the kernel; returns what it printed. */
export async function runIp(kernel: ReturnType<typeof bootKernel>, argv: readonly string[]) {
  let stdout = "";
  let stderr = "";
  const rc = await ipMain({
    kernel,
    net: kernel.initNet,
    argv,
    stdin: new Uint8Array(0),
    out: (s) => {
      stdout += s;
    },
    err: (s) => {
      stderr += s;
    },
  });
  kernel.loop.runUntil(kernel.now + 1_000_000n);
  return { stdout, stderr, rc };
}

for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".golden.json"))) {
  test(`ip golden ${file}: output matches iproute2 6.1 byte for byte`, async () => {
    const rows = JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as GoldenRow[];
    const kernel = bootKernel({ seed: 1 });
    // The recording ran in a namespace named "ipvlg-root" standing for the initial namespace.
    kernel.initNet.name = "ipvlg-root";
    for (const row of rows) {
      const got = await runIp(kernel, row.argv);
      const label = `ip ${row.argv.join(" ")}`;
      assert.equal(got.stdout, row.stdout, `${label}: stdout`);
      assert.equal(got.stderr, row.stderr, `${label}: stderr`);
      assert.equal(got.rc, row.rc, `${label}: exit status`);
    }
  });
}
