/**
 * Runs a bash script under `ipvl run` in this process, on the simulated userland, and collects
 * what it prints (stdout and stderr separately, or merged as `2>&1` would).
 */
import { PassThrough } from "node:stream";
import { runScript } from "../../src/cli/run/index.ts";
import { makeSimUserland } from "../../src/cli/sim-userland.ts";

/** What a script run printed and returned. */
export interface SimRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs SCRIPT (a path) with ARGS in `cwd`; stdin is closed. */
export async function runSimScript(
  script: string,
  args: readonly string[] = [],
  cwd = process.cwd(),
): Promise<SimRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  err.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await runScript({
    script,
    args,
    userland: makeSimUserland(),
    stdout: out,
    stderr: err,
    stdin: "ignore",
    cwd,
  });
  await new Promise((r) => setImmediate(r));
  return { code, stdout, stderr };
}

/** A line diff ("-" expected, "+" actual, " " both), for readable failures. */
export function lineDiff(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out.join("\n");
}
