/**
 * Real Linux network namespaces for tests: uniquely named namespaces (`ipvlt-<pid>-<n>-<label>`),
 * veth pairs, commands and background processes inside them, and a cleanup that always removes
 * everything created, registered on the test (`t.after`) and on process exit as a safety net.
 *
 * Usage:
 *   const lab = await netnsLab(t, { needs: ["tcpdump"] });
 *   if (lab === undefined) return; // reported as skipped
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import type { TestContext } from "node:test";

const PREFIX = `ipvlt-${process.pid}-`;
const NAME_PATTERN = /^ipvlt-(\d+)-/;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Result of a finished command. */
export interface ExecResult {
  /** Standard output, UTF-8. */
  readonly stdout: string;
  /** Standard error, UTF-8. */
  readonly stderr: string;
}

/** How a background process ended. */
export interface ExitStatus {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
}

/** Options of {@link netnsLab}. */
export interface NetnsLabOptions {
  /** Commands that must be on PATH; the test is skipped when one is missing. */
  readonly needs?: readonly string[];
}

/** Runs a command, rejecting with its stderr when it fails or takes longer than `timeoutMs`. */
export function run(argv: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExecResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 16 << 20, env: sbinEnv() },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(`Cannot run "${argv.join(" ")}": ${error.message.trim()}\n${stderr}`, { cause: error }),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** True when `command` is an executable on PATH (sbin directories included). */
export function hasCommand(command: string): boolean {
  try {
    execFileSync("/bin/sh", ["-c", 'command -v "$1"', "sh", command], { stdio: "ignore", env: sbinEnv() });
    return true;
  } catch {
    return false;
  }
}

function sbinEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin` };
}

function listNamespaces(): string[] {
  try {
    const out = execFileSync("ip", ["netns", "list"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out
      .split("\n")
      .map((line) => line.split(" ")[0])
      .filter((name) => name !== "");
  } catch {
    return [];
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Kills what runs inside `ns`, then deletes it; never throws (cleanup must go on). */
function deleteNamespaceSync(ns: string): void {
  try {
    const pids = execFileSync("ip", ["netns", "pids", ns], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    for (const pid of pids.split("\n").filter((p) => p !== "")) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  } catch {
    // The namespace may already be gone.
  }
  try {
    // Deleting the namespace destroys the veth ends inside it, and with them their peers.
    execFileSync("ip", ["netns", "delete", ns], { stdio: "ignore" });
  } catch {
    // Already gone.
  }
}

/** Deletes namespaces left by test processes that died without cleaning up (e.g. SIGKILL). */
export function sweepStaleNamespaces(): string[] {
  const swept: string[] = [];
  for (const ns of listNamespaces()) {
    const owner = NAME_PATTERN.exec(ns);
    if (owner !== null && Number(owner[1]) !== process.pid && !processAlive(Number(owner[1]))) {
      deleteNamespaceSync(ns);
      swept.push(ns);
    }
  }
  return swept;
}

// Every namespace and process created by any lab of this process, for the exit safety net.
const liveNamespaces = new Set<string>();
const liveProcesses = new Set<ChildProcess>();
let safetyNetInstalled = false;

function cleanupEverythingSync(): void {
  for (const child of liveProcesses) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  liveProcesses.clear();
  for (const ns of liveNamespaces) deleteNamespaceSync(ns);
  liveNamespaces.clear();
}

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on("exit", cleanupEverythingSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      cleanupEverythingSync();
      // Re-raise so the exit status still says which signal ended us.
      process.kill(process.pid, signal);
    });
  }
}

let availability: Promise<string | undefined> | undefined;

/** Why real namespaces cannot be used here, or undefined when they can (checked once per process). */
export function netnsUnavailableReason(): Promise<string | undefined> {
  availability ??= probe();
  return availability;
}

async function probe(): Promise<string | undefined> {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root";
  if (!hasCommand("ip")) return "ip (iproute2) not installed";
  const ns = `${PREFIX}probe`;
  try {
    await run(["ip", "netns", "add", ns]);
  } catch (e) {
    return `ip netns add failed: ${(e as Error).message.split("\n")[0]}`;
  }
  deleteNamespaceSync(ns);
  return undefined;
}

/** A process running in the background inside a namespace. */
export class Background {
  /** The command line, for messages. */
  readonly command: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<ExitStatus>;
  #stdout = "";
  #stderr = "";

  /** Wraps a spawned child; use {@link NetnsLab.spawn}. */
  constructor(child: ChildProcess, command: string) {
    this.#child = child;
    this.command = command;
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (this.#stdout += s));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (this.#stderr += s));
    this.#exited = new Promise((resolve) => {
      child.on("close", (code, signal) => resolve({ code, signal }));
      child.on("error", () => resolve({ code: -1, signal: null }));
    });
  }

  /** Process ID (of the command itself: `ip netns exec` replaces itself with it). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Output so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Error output so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves when the process has ended. */
  get exited(): Promise<ExitStatus> {
    return this.#exited;
  }

  /** Waits until stdout or stderr matches `pattern`; rejects if the process ends or time runs out. */
  async waitForOutput(pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.#exited.then(() => (ended = true));
    while (!pattern.test(this.#stdout) && !pattern.test(this.#stderr)) {
      if (ended) throw new Error(`"${this.command}" ended before printing ${pattern}: ${this.#stderr}`);
      if (Date.now() > deadline)
        throw new Error(`"${this.command}" did not print ${pattern}: ${this.#stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Sends `signal` (default SIGINT) and waits for the exit; SIGKILLs after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = "SIGINT", timeoutMs = 5000): Promise<ExitStatus> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return this.#exited;
    try {
      process.kill(child.pid, signal);
    } catch {
      // Ended meanwhile.
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">(
      (resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)),
    );
    const result = await Promise.race([this.#exited, timedOut]);
    clearTimeout(timer);
    if (result !== "timeout") return result;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Ended meanwhile.
    }
    await this.#exited;
    throw new Error(`"${this.command}" did not stop within ${timeoutMs} ms after ${signal}`);
  }
}

/** Namespaces, veth pairs and processes of one test; `cleanup()` removes them all. */
export class NetnsLab {
  readonly #namespaces: string[] = [];
  readonly #processes: Background[] = [];
  static #counter = 0;

  /** Creates an empty lab and installs the process-exit safety net. */
  constructor() {
    installSafetyNet();
  }

  /** Names of the namespaces created so far. */
  get namespaces(): readonly string[] {
    return this.#namespaces;
  }

  /** Creates a namespace named `ipvlt-<pid>-<n>-<label>` with its loopback up; returns the name. */
  async addNamespace(label: string): Promise<string> {
    const ns = `${PREFIX}${NetnsLab.#counter++}-${label}`;
    // Registered before creation: a half-done creation is cleaned up too.
    this.#namespaces.push(ns);
    liveNamespaces.add(ns);
    await run(["ip", "netns", "add", ns]);
    await this.ip(ns, "link", "set", "lo", "up");
    return ns;
  }

  /**
   * Creates a veth pair with one end in each namespace, optionally with fixed MACs, and brings both
   * ends up. Interface names live inside the namespaces, so they never collide between tests.
   */
  async addVeth(
    a: { readonly ns: string; readonly name: string; readonly mac?: string },
    b: { readonly ns: string; readonly name: string; readonly mac?: string },
  ): Promise<void> {
    const end = (e: typeof a) => [e.name, ...(e.mac === undefined ? [] : ["address", e.mac]), "netns", e.ns];
    await run(["ip", "link", "add", ...end(a), "type", "veth", "peer", "name", ...end(b)]);
    await this.ip(a.ns, "link", "set", a.name, "up");
    await this.ip(b.ns, "link", "set", b.name, "up");
  }

  /** Runs `ip -n <ns> <args...>`. */
  ip(ns: string, ...args: string[]): Promise<ExecResult> {
    return run(["ip", "-n", ns, ...args]);
  }

  /** Runs a command inside `ns` and waits for it; rejects when it fails. */
  exec(ns: string, argv: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExecResult> {
    return run(["ip", "netns", "exec", ns, ...argv], timeoutMs);
  }

  /** Starts a command inside `ns` in the background, in its own process group. */
  spawn(ns: string, argv: readonly string[]): Background {
    const child = spawn("ip", ["netns", "exec", ns, ...argv], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: sbinEnv(),
    });
    liveProcesses.add(child);
    child.on("close", () => liveProcesses.delete(child));
    const background = new Background(child, argv.join(" "));
    this.#processes.push(background);
    return background;
  }

  /** Stops every background process, then deletes every namespace (and so every veth). Never throws. */
  async cleanup(): Promise<void> {
    await Promise.all(this.#processes.map((p) => p.stop("SIGKILL", 2000).catch(() => undefined)));
    for (const ns of this.#namespaces.splice(0)) {
      deleteNamespaceSync(ns);
      liveNamespaces.delete(ns);
    }
  }
}

/**
 * Returns a lab whose cleanup runs after the test whatever its outcome, or undefined after
 * marking the test skipped when real namespaces (or a needed command) are unavailable.
 */
export async function netnsLab(t: TestContext, options: NetnsLabOptions = {}): Promise<NetnsLab | undefined> {
  const reason = await netnsUnavailableReason();
  const missing = (options.needs ?? []).filter((command) => !hasCommand(command));
  if (reason !== undefined || missing.length > 0) {
    t.skip(reason ?? `missing commands: ${missing.join(", ")}`);
    return undefined;
  }
  sweepStaleNamespaces();
  const lab = new NetnsLab();
  t.after(() => lab.cleanup());
  return lab;
}
