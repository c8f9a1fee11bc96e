/**
 * Test support for the simulated tools: the kernel `ipvl run` boots, namespaces set up with the
 * `ip` program, and a ToolContext that records what a tool prints.
 */
import { bootSimKernel } from "../../src/cli/sim-userland.ts";
import { ipMain } from "../../src/iproute2/index.ts";
import { findNetns, type Kernel, type NetNamespace, NSEC_PER_SEC } from "../../src/kernel/index.ts";
import type { ToolContext } from "../../src/tools/index.ts";

/** A ToolContext whose output is collected. */
export interface RecordingContext extends ToolContext {
  readonly outText: () => string;
  readonly errText: () => string;
}

/** Extra fields of a tool invocation. */
export interface CtxExtra {
  readonly signal?: AbortSignal;
  readonly detach?: () => void;
  readonly cwd?: string;
  readonly stdin?: Uint8Array;
}

/** A context for one tool invocation in `net`. */
export function toolCtx(
  kernel: Kernel,
  net: NetNamespace,
  argv: readonly string[],
  extra: CtxExtra = {},
): RecordingContext {
  let out = "";
  let err = "";
  return {
    kernel,
    net,
    argv,
    stdin: extra.stdin ?? new Uint8Array(0),
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    ...(extra.cwd === undefined ? {} : { cwd: extra.cwd }),
    ...(extra.signal === undefined ? {} : { signal: extra.signal }),
    ...(extra.detach === undefined ? {} : { detach: extra.detach }),
    outText: () => out,
    errText: () => err,
  };
}

/** Runs `ip ARGS...` (words split on spaces) in the initial namespace; throws when it fails. */
export async function ip(kernel: Kernel, line: string): Promise<void> {
  const ctx = toolCtx(kernel, kernel.initNet, line.split(" "));
  const rc = await ipMain(ctx);
  if (rc !== 0) throw new Error(`ip ${line}: exit ${rc}: ${ctx.errText()}`);
}

/** Two namespaces joined by a veth pair, as test/fixtures/ping/cases.sh builds them. */
export interface Pair {
  readonly kernel: Kernel;
  /** va 10.9.0.1/24 (02:00:00:00:00:0a), 2001:db8:9::1/64. */
  readonly a: NetNamespace;
  /** vb 10.9.0.2/24 (02:00:00:00:00:0b). */
  readonly b: NetNamespace;
}

/** Boots the run kernel and builds the pair; DAD has finished when it returns. */
export async function vethPair(): Promise<Pair> {
  const kernel = bootSimKernel(7);
  for (const line of [
    "netns add a",
    "netns add b",
    "-n a link add va address 02:00:00:00:00:0a type veth peer name vb address 02:00:00:00:00:0b netns b",
    "-n a addr add 10.9.0.1/24 dev va",
    "-n b addr add 10.9.0.2/24 dev vb",
    "-n a link set lo up",
    "-n b link set lo up",
    "-n a link set va up",
    "-n b link set vb up",
    "-n a addr add 2001:db8:9::1/64 dev va nodad",
  ]) {
    await ip(kernel, line);
  }
  const a = findNetns(kernel, "a")!;
  const b = findNetns(kernel, "b")!;
  for (const n of [a, b]) n.sysctl.set("net.ipv4.icmp_echo_ignore_broadcasts", "0");
  kernel.loop.runUntil(kernel.now + 3n * NSEC_PER_SEC);
  return { kernel, a, b };
}
