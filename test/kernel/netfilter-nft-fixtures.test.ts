/**
 * Replays test/fixtures/nft/scripts/*.cmds through the simulated nft and compares every
 * command's exit code, stdout and stderr with what the real nft 1.0.6 printed in a real
 * namespace (recorded by test/fixtures/nft/record.py into *.out.json).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { bootKernel, netfilterInit } from "../../src/kernel/index.ts";
import { conntrackMain, nftMain } from "../../src/tools/index.ts";
import { runTool } from "./netfilter-tools.ts";

interface Recorded {
  readonly argv: readonly string[];
  readonly stdin?: string;
  readonly rc: number;
  readonly out: string;
  readonly err: string;
}

function fixturesDir(): string {
  // Works from test/kernel (tsx) and dist/test/kernel (compiled).
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const cand = join(d, "test", "fixtures", "nft");
    try {
      readdirSync(cand);
      return cand;
    } catch {
      const up = resolve(d, "..");
      if (up === d) throw new Error("Cannot find test/fixtures/nft");
      d = up;
    }
  }
}

const dir = fixturesDir();
const scripts = readdirSync(join(dir, "scripts")).filter((f) => f.endsWith(".out.json"));

for (const file of scripts) {
  test(`nft fixture ${file.replace(/\.out\.json$/, "")}`, async () => {
    const recs = JSON.parse(readFileSync(join(dir, "scripts", file), "utf8")) as Recorded[];
    const k = bootKernel();
    netfilterInit(k);
    const net = k.createNamespace("fixture");
    for (const r of recs) {
      const main = r.argv[0] === "nft" ? nftMain : conntrackMain;
      const got = await runTool(main, k, net, r.argv.slice(1), { stdin: r.stdin ?? "", cwd: dir });
      const what = `${JSON.stringify(r.argv)}${r.stdin ? ` <<< ${JSON.stringify(r.stdin)}` : ""}`;
      assert.equal(got.err, r.err, `stderr of ${what}`);
      assert.equal(got.out, r.out, `stdout of ${what}`);
      assert.equal(got.rc, r.rc, `exit code of ${what}`);
    }
  });
}
