// One `ipvl run` / `ipvl shell`: server + sandbox + the system's bash, torn down afterwards.

import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { drainRun } from "./leftovers.ts";
import { createSandbox, removeSandbox } from "./sandbox.ts";
import { ShimServer } from "./server.ts";
import { SIMULATED_TOOLS, type Userland } from "./userland.ts";

/** Options shared by `runScript` and `runShell`. */
export interface SessionOptions {
  readonly userland: Userland;
  /** Where the script's stdout goes; default: this process's stdout (inherited). */
  readonly stdout?: Writable;
  /** Where the script's stderr goes; default: this process's stderr (inherited). */
  readonly stderr?: Writable;
  /** The script's stdin; default: inherited. */
  readonly stdin?: Readable | "ignore";
  /** Working directory of the script; default: process.cwd(). */
  readonly cwd?: string;
  /** Environment to start from; default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Tools forwarded to the userland besides `SIMULATED_TOOLS` (e.g. "iperf3"). */
  readonly tools?: readonly string[];
  /** Ends the run early: SIGTERM to the script's bash (SIGKILL a second later), commands aborted. */
  readonly signal?: AbortSignal;
}

/** Options of `runScript`. */
export interface RunScriptOptions extends SessionOptions {
  /** Path of the bash script, or "-" to read it from stdin. */
  readonly script: string;
  readonly args: readonly string[];
}

/** After the script exits: how long background shims get to print their last words. */
const DRAIN_MS = 3000;

/** Runs SCRIPT with the system's bash against the userland; resolves to the script's exit code. */
export function runScript(options: RunScriptOptions): Promise<number> {
  const bashArgs = options.script === "-" ? ["-s", "--", ...options.args] : [options.script, ...options.args];
  return session(options, () => bashArgs, ["SIGINT", "SIGTERM", "SIGHUP"]);
}

/** Runs an interactive bash (prompt `ipvl$ `) against the userland; resolves to its exit code. */
export function runShell(options: SessionOptions): Promise<number> {
  // The terminal's Ctrl-C reaches the shell's jobs directly; only TERM/HUP are forwarded.
  return session(options, (rcFile) => ["--rcfile", rcFile, "-i"], ["SIGTERM", "SIGHUP"]);
}

async function session(
  options: SessionOptions,
  bashArgs: (rcFile: string) => string[],
  forwarded: readonly NodeJS.Signals[],
): Promise<number> {
  const tools = new Set<string>([...SIMULATED_TOOLS, ...(options.tools ?? [])]);
  const server = await ShimServer.start({ userland: options.userland, tools });
  const onSignal = new Map<NodeJS.Signals, () => void>();
  let sandbox: ReturnType<typeof createSandbox> | null = null;
  let child: ChildProcess | null = null;
  let stopListener = () => {};
  try {
    sandbox = createSandbox({
      tools,
      port: server.port,
      token: server.token,
      baseEnv: options.env ?? process.env,
    });
    const stdio: StdioOptions = [
      options.stdin === undefined ? "inherit" : options.stdin === "ignore" ? "ignore" : "pipe",
      options.stdout === undefined ? "inherit" : "pipe",
      options.stderr === undefined ? "inherit" : "pipe",
    ];
    const proc = spawn(sandbox.bash, bashArgs(sandbox.rcFile), {
      cwd: options.cwd ?? process.cwd(),
      env: sandbox.env,
      stdio,
    });
    child = proc;
    // While the script runs, a signal to ipvl goes to the script's bash (a terminal's Ctrl-C
    // reaches bash and the shims by itself); ipvl itself ends when bash does.
    for (const sig of forwarded) {
      const handler = () => {
        proc.kill(sig);
      };
      onSignal.set(sig, handler);
      process.on(sig, handler);
    }
    const stop = () => {
      server.shutdown();
      proc.kill("SIGTERM");
      setTimeout(() => proc.kill("SIGKILL"), 1000).unref();
    };
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener("abort", stop, { once: true });
    stopListener = () => options.signal?.removeEventListener("abort", stop);
    if (options.stdin !== undefined && options.stdin !== "ignore" && proc.stdin !== null) {
      options.stdin.pipe(proc.stdin);
      proc.stdin.on("error", () => {}); // the script may exit without reading it all
    }
    if (options.stdout !== undefined) proc.stdout?.pipe(options.stdout, { end: false });
    if (options.stderr !== undefined) proc.stderr?.pipe(options.stderr, { end: false });

    const closed = new Promise<void>((resolve) => proc.once("close", () => resolve()));
    const code = await new Promise<number>((resolve, reject) => {
      proc.once("error", reject);
      proc.once("exit", (c, sig) => resolve(c ?? 128 + (sig === null ? 0 : (constants.signals[sig] ?? 0))));
    });
    // Background commands (a tcpdump never stopped) end with the run: they get the abort, print
    // their last words, exit; then the pipes close, unless some other process still holds them.
    server.shutdown();
    await drainRun(
      server.token,
      () => server.connections,
      (ms) => server.idle(ms),
      DRAIN_MS,
    );
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 500).unref())]);
    return code;
  } finally {
    for (const [sig, handler] of onSignal) process.off(sig, handler);
    stopListener();
    if (child !== null) {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    await server.close();
    if (sandbox !== null) removeSandbox(sandbox);
  }
}
