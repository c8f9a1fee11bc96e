// Test helper: run a bash script text under `runScript` with a FakeUserland, capturing output.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type RunScriptOptions, runScript } from "../../src/cli/run/index.ts";
import { FakeUserland } from "./fake-userland.ts";

/** A Writable that keeps everything written to it. */
export class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

/** What a fake run produced. */
export interface FakeRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly userland: FakeUserland;
  /** The temp dir that held the script (removed already; paths inside may be printed). */
  readonly dir: string;
}

/** Writes `script` to a temp dir, runs it (cwd = that dir), removes the dir. */
export async function runFake(
  script: string,
  options: { args?: readonly string[]; userland?: FakeUserland; extra?: Partial<RunScriptOptions> } = {},
): Promise<FakeRun> {
  const dir = mkdtempSync(join(tmpdir(), "ipvl-run-test-"));
  const userland = options.userland ?? new FakeUserland();
  const stdout = new Collector();
  const stderr = new Collector();
  try {
    const path = join(dir, "script.sh");
    writeFileSync(path, script);
    const code = await runScript({
      script: path,
      args: options.args ?? [],
      userland,
      stdout,
      stderr,
      stdin: "ignore",
      cwd: dir,
      signal: AbortSignal.timeout(30_000), // a broken harness fails the test instead of hanging
      ...options.extra,
    });
    return { code, stdout: stdout.text, stderr: stderr.text, userland, dir };
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}
