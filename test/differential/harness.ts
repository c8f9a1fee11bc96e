/**
 * Plumbing of the differential suite: where things are, running a scenario script (for real or
 * under `ipvl run`), cleaning up the real namespaces scenarios create, unified diffs.
 *
 * Real scenario runs name their namespaces `ipvld<pid>-<scenario>-<host>` (DIFF_PREFIX=ipvld<pid>,
 * see the scenarios' preamble); record.sh uses the same scheme with its own pid.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest ancestor of this file with ipvl's package.json. */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
/** Folder of the scenario scripts. */
export const SCENARIO_DIR = join(REPO_ROOT, "test", "differential", "scenarios");
/** Folder of the recorded (real-kernel, normalised) outputs. */
export const FIXTURE_DIR = join(REPO_ROOT, "test", "fixtures", "differential");
/** Scenarios known not to match under `ipvl run` yet: name -> reason. */
export const KNOWN_GAPS_FILE = join(REPO_ROOT, "test", "differential", "known-gaps.json");
/** DIFF_PREFIX of this process's runs. */
export const NETNS_PREFIX = `ipvld${process.pid}`;

const OWNER_PATTERN = /^ipvld(\d+)-/;
const SBIN_PATH = `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin`;

function findRepoRoot(start: string): string {
  for (let d = start; ; d = dirname(d)) {
    try {
      const pkg = JSON.parse(readFileSync(join(d, "package.json"), "utf8")) as { name?: unknown };
      if (pkg.name === "ipvl") return d;
    } catch {
      // No (readable) package.json here: keep walking up.
    }
    if (dirname(d) === d) throw new Error(`Cannot find the ipvl repository above "${start}"`);
  }
}

/** Names of the scenarios (`scenarios/<name>.sh`), sorted. */
export function scenarioNames(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith(".sh"))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Path of a scenario's script. */
export function scenarioPath(name: string): string {
  return join(SCENARIO_DIR, `${name}.sh`);
}

/** The recorded output of a scenario, or undefined when there is none. */
export function readFixture(name: string): string | undefined {
  try {
    return readFileSync(join(FIXTURE_DIR, `${name}.out`), "utf8");
  } catch {
    return undefined;
  }
}

/** known-gaps.json: scenario name -> why it does not match under `ipvl run` yet. */
export function readKnownGaps(): Record<string, string> {
  const parsed: unknown = JSON.parse(readFileSync(KNOWN_GAPS_FILE, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${KNOWN_GAPS_FILE}: expected an object {"scenario": "reason"}`);
  }
  for (const [name, reason] of Object.entries(parsed)) {
    if (typeof reason !== "string" || reason.trim() === "") {
      throw new Error(`${KNOWN_GAPS_FILE}: "${name}" needs a reason (a non-empty string)`);
    }
  }
  return parsed as Record<string, string>;
}

/** What a scenario run printed, in the form fixtures are recorded in (before normalisation). */
export interface ScriptOutput {
  /** stdout and stderr together, plus a last line `[script exit N]` when N != 0. */
  readonly text: string;
  /** True when the run was killed for taking longer than allowed. */
  readonly timedOut: boolean;
}

/**
 * Runs `argv` with stdout and stderr on one pipe (so their interleaving is kept), in its own
 * process group; after `timeoutMs` the whole group gets SIGTERM (the scenarios' EXIT trap then
 * deletes their namespaces), 3 s later SIGKILL.
 */
export function runMerged(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<ScriptOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", 'exec "$@" 2>&1', "bash", ...argv], {
      cwd: REPO_ROOT,
      env: { ...process.env, PATH: SBIN_PATH, ...env },
      stdio: ["ignore", "pipe", "ignore"],
      detached: true,
    });
    let text = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (s: string) => (text += s));
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    let hardKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup("SIGTERM");
      hardKill = setTimeout(() => killGroup("SIGKILL"), 3000);
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(hardKill);
      if (timedOut) text += `[timed out after ${timeoutMs / 1000} s]\n`;
      else if (signal !== null) text += `[script killed by ${signal}]\n`;
      else if (code !== 0) text += `[script exit ${code}]\n`;
      resolve({ text, timedOut });
    });
  });
}

/** Runs a scenario with the real tools, its namespaces named `<NETNS_PREFIX>-<name>-...`. */
export function runReal(name: string, timeoutMs: number): Promise<ScriptOutput> {
  return runMerged(["bash", scenarioPath(name)], { DIFF_PREFIX: NETNS_PREFIX }, timeoutMs);
}

/**
 * The release the fixtures were recorded on (this machine's kernel, major.minor): the
 * simulated kernel follows it where releases differ (docs/kernel-versions.md).
 */
export const FIXTURE_KERNEL_RELEASE = "6.18.0";

/** Runs a scenario under `ipvl run` (the CLI as installed: bin/ipvl.js, compiled dist/). */
export function runSimulated(name: string, timeoutMs: number): Promise<ScriptOutput> {
  const cli = join(REPO_ROOT, "bin", "ipvl.js");
  return runMerged(
    [process.execPath, cli, "run", scenarioPath(name)],
    { DIFF_PREFIX: NETNS_PREFIX, IPVL_KERNEL_RELEASE: FIXTURE_KERNEL_RELEASE },
    timeoutMs,
  );
}

function listNamespaces(): string[] {
  const r = spawnSync("ip", ["netns", "list"], {
    encoding: "utf8",
    env: { ...process.env, PATH: SBIN_PATH },
  });
  if (r.status !== 0 || typeof r.stdout !== "string") return [];
  return r.stdout
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter((ns) => ns !== "");
}

function deleteNamespace(ns: string): void {
  const env = { ...process.env, PATH: SBIN_PATH };
  const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8", env }).stdout ?? "";
  for (const pid of pids.split("\n").filter((p) => p !== "")) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  spawnSync("ip", ["netns", "delete", ns], { stdio: "ignore", env });
}

/** Deletes this process's namespaces whose names start with `<NETNS_PREFIX>-<infix>`; returns them. */
export function deleteOwnNamespaces(infix = ""): string[] {
  const doomed = listNamespaces().filter((ns) => ns.startsWith(`${NETNS_PREFIX}-${infix}`));
  doomed.forEach(deleteNamespace);
  return doomed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Deletes `ipvld<pid>-...` namespaces left by runs whose process is gone (killed test or record.sh). */
export function sweepStaleNamespaces(): string[] {
  const stale = listNamespaces().filter((ns) => {
    const owner = OWNER_PATTERN.exec(ns);
    return owner !== null && Number(owner[1]) !== process.pid && !alive(Number(owner[1]));
  });
  stale.forEach(deleteNamespace);
  return stale;
}

let safetyNet = false;

/** On exit and on SIGINT/SIGTERM/SIGHUP, deletes whatever namespaces this process's runs left. */
export function installCleanupOnExit(): void {
  if (safetyNet) return;
  safetyNet = true;
  process.on("exit", () => deleteOwnNamespaces());
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      deleteOwnNamespaces();
      process.kill(process.pid, signal); // the default action now: die by the same signal
    });
  }
}

/** A unified diff of two texts (`diff -u`), at most `maxLines` lines. */
export function unifiedDiff(
  expected: string,
  actual: string,
  labels: [string, string],
  maxLines = 150,
): string {
  const dir = mkdtempSync(join(tmpdir(), "ipvl-diff-"));
  try {
    const a = join(dir, "expected");
    const b = join(dir, "actual");
    writeFileSync(a, expected);
    writeFileSync(b, actual);
    const r = spawnSync("diff", ["-u", "--label", labels[0], "--label", labels[1], a, b], {
      encoding: "utf8",
    });
    if (r.error !== undefined) return `(diff not available: ${r.error.message})\n--- actual\n${actual}`;
    const lines = r.stdout.split("\n");
    if (lines.length <= maxLines) return r.stdout;
    return `${lines.slice(0, maxLines).join("\n")}\n... (${lines.length - maxLines} more diff lines)\n`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** True when `command` is a file in a PATH directory (sbin directories included). */
export function hasCommand(command: string): boolean {
  for (const d of SBIN_PATH.split(":")) {
    if (d === "") continue;
    try {
      if (statSync(join(d, command)).isFile()) return true;
    } catch {
      // Not here.
    }
  }
  return false;
}
