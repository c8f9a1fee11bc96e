/**
 * What a simulated userland tool gets from the `ipvl run` harness: the kernel, the namespace
 * it runs in (`ip netns exec NAME` or the initial one), its arguments, stdin, and two sinks.
 */
import type { Kernel, NetNamespace } from "../kernel/index.ts";

/** One tool invocation. */
export interface ToolContext {
  readonly kernel: Kernel;
  readonly net: NetNamespace;
  /** Arguments without the tool name. */
  readonly argv: readonly string[];
  /** The caller's stdin (empty unless the harness was told the tool reads it). */
  readonly stdin: Uint8Array;
  /** Writes to stdout. */
  out(s: string): void;
  /** Writes to stderr. */
  err(s: string): void;
  /** The caller's working directory, for relative file names (`nft -f rules.nft`); default: the process's. */
  readonly cwd?: string;
  /**
   * Aborted when the process gets SIGINT/SIGTERM/SIGHUP (reason: the signal name) or the run
   * ends; long-running tools (tcpdump, an endless ping) stop on it. Absent: never aborted.
   */
  readonly signal?: AbortSignal;
  /**
   * Lets the harness start the next command while this one keeps running (a capture once its
   * tap is registered and its `-w` file exists). Absent: a no-op.
   */
  readonly detach?: () => void;
}
