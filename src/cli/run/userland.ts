// The boundary between the `ipvl run` harness (shims, server, queue) and the simulated userland
// (ip, ping, tcpdump, ... acting on one simulated kernel). The harness never interprets tool
// arguments beyond what it must route; everything a tool prints goes through `out`/`err`.

/** Why a command's `signal` was aborted: the shim got a signal, the shim vanished, or the run ended. */
export type AbortReason = "SIGINT" | "SIGTERM" | "SIGHUP" | "disconnect" | "shutdown";

/** Everything one command invocation sees; one object per shim call. */
export interface CommandContext {
  /** argv[0] is the tool name as typed (`ip`), then the arguments, unchanged. */
  readonly argv: readonly string[];
  /** Network namespace name from `ip netns exec NAME ...`; null = the initial namespace. */
  readonly netns: string | null;
  /** The caller's working directory (resolve relative file names, e.g. `tcpdump -w x.pcap`, against it). */
  readonly cwd: string;
  /** The caller's environment at exec time. */
  readonly env: Readonly<Record<string, string>>;
  /** The caller's whole stdin, read only when `readsStdin` said so; otherwise empty. */
  readonly stdin: Uint8Array;
  /** Write to the caller's stdout (streamed immediately; may be called after `detach`). */
  readonly out: (s: string) => void;
  /** Write to the caller's stderr. */
  readonly err: (s: string) => void;
  /** Aborted (reason: an `AbortReason`) when the caller got SIGINT/SIGTERM/SIGHUP, vanished, or the run ends. */
  readonly signal: AbortSignal;
  /**
   * Commands run one at a time in arrival order. A long-running command (a capture, a monitor)
   * calls `detach()` once it is set up: the harness then starts the next queued command while
   * this one keeps running until it returns. Idempotent. `tcpdump -w F` must register the
   * capture, then create F, then detach: scripts wait for F to exist, then send traffic.
   */
  readonly detach: () => void;
}

/** The simulated userland: one instance per `ipvl run`, sharing one simulated kernel. */
export interface Userland {
  /**
   * Runs one tool; resolves to its exit code (0..255). Tools: ip, ping, tcpdump, sysctl, nft,
   * conntrack, dmesg, sleep (argv is normalised to `["sleep", S]`, `Number(S)` = seconds, maybe
   * Infinity), cat-sys (argv `["cat", ...args]` or `["test", "-e"|"-f"|"-d", PATH]`). To report
   * death by a signal (what `sleep` does on SIGINT), return 128 + signal number.
   */
  run(tool: string, ctx: CommandContext): Promise<number>;
  /** Whether this invocation reads stdin (`nft -f -`); default: `defaultReadsStdin`. */
  readsStdin?(tool: string, argv: readonly string[]): boolean;
  /** Whether a named namespace exists (for `ip netns exec`); default: parse `ip netns list`. */
  netnsExists?(name: string): boolean | Promise<boolean>;
}

/** Tools the harness forwards to the userland by default (each gets a shim in PATH). */
export const SIMULATED_TOOLS = [
  "ip",
  "ping",
  "tcpdump",
  "sysctl",
  "nft",
  "conntrack",
  "dmesg",
  "sleep",
  "ipvl",
] as const;

/**
 * Tools whose real versions catch SIGINT (so `kill -INT` stops even a background one, whose
 * SIGINT the shell ignores): their shims re-enable SIGINT; the others leave it ignored.
 */
export const TOOLS_CATCHING_SIGINT = ["tcpdump", "ping", "conntrack", "iperf3", "iperf"] as const;

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** 128 + signal number for a signal abort reason (what a shell reports for death by signal), else null. */
export function exitCodeForAbort(reason: unknown): number | null {
  const n = typeof reason === "string" ? SIGNAL_NUMBERS[reason] : undefined;
  return n === undefined ? null : 128 + n;
}

/** The stdin policy used when the userland has no `readsStdin`: `nft -f -`, `ip -batch -`. */
export function defaultReadsStdin(tool: string, argv: readonly string[]): boolean {
  const isStdin = (v: string | undefined) => v === "-" || v === "/dev/stdin";
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (tool === "nft") {
      if ((a === "-f" || a === "--file") && isStdin(argv[i + 1])) return true;
      if (a === "--file=-" || a === "--file=/dev/stdin" || a === "-f-") return true;
      if (a === "-i" || a === "--interactive") return true;
    } else if (tool === "ip") {
      // iproute2 accepts any prefix of -batch (and a doubled dash) for the option.
      const opt = a.startsWith("--") ? a.slice(1) : a;
      if (opt.length >= 2 && "-batch".startsWith(opt) && isStdin(argv[i + 1])) return true;
    }
  }
  return false;
}
