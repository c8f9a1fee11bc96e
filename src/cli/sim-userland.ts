/**
 * The simulated userland behind `ipvl run`: one kernel per run (booted with every protocol
 * stack and driver), and the tools the harness forwards (ip, ping, tcpdump, sysctl, nft,
 * conntrack, dmesg, sleep, cat/test of /sys and /proc/sys) acting on it, in the namespace
 * `ip netns exec` selected.
 *
 * Time: the kernel's clock is virtual. It moves only when a command moves it: each command
 * first costs COMMAND_COST_NS (a real fork+exec takes about that long, and it lets timers such
 * as ARP retransmissions interleave with a script's commands as on a real machine); `sleep S`
 * advances it by S; ping drives it until it is done. Long-running captures (tcpdump) and
 * endless pings only ride along while other commands move the clock.
 */
import { ipMain } from "../iproute2/index.ts";
import { ipvlanInit } from "../ipvlan/index.ts";
import {
  bootKernel,
  findNetns,
  IFF,
  ipv4Init,
  ipv6Init,
  type Kernel,
  macvlanInit,
  NSEC_PER_SEC,
  type NetNamespace,
  netfilterInit,
  rtnlSetLink,
} from "../kernel/index.ts";
import {
  ipvlDropsMain,
  catSysMain,
  conntrackMain,
  dmesgMain,
  nftMain,
  pingMain,
  sysctlMain,
  type ToolContext,
  tcpdumpMain,
} from "../tools/index.ts";
import { type CommandContext, exitCodeForAbort, type Userland } from "./run/index.ts";

/**
 * Virtual time every command costs before it runs: 1 ms, the order of a fork+exec of a small
 * program. Timer-driven kernel work (ARP/ND retransmits every second, DAD, MLD reports)
 * interleaves with a script's commands at about the rate it does on a real machine.
 */
export const COMMAND_COST_NS = 1_000_000n;

/** How much virtual time `sleep` advances before it lets a signal in. */
const SLEEP_SLICE_NS = 100_000_000n;

/** Options of a simulated userland. */
export interface SimUserlandOptions {
  /** Seed of the kernel's PRNG (MAC addresses, ping identifiers, DAD delays ...). */
  readonly seed?: number;
  /** Linux release to follow where releases differ (KernelOptions.release; default 6.1.0). */
  readonly release?: string;
}

/** Environment variable that picks the simulated kernel's release (`IPVL_KERNEL_RELEASE=6.18.0 ipvl run ...`). */
export const KERNEL_RELEASE_ENV = "IPVL_KERNEL_RELEASE";

/**
 * Boots the kernel a run uses: core, IPv4, IPv6, netfilter, ipvlan, macvlan; then does what a
 * system's init does before any script runs (the oracle VM's /init too): `ip link set lo up`
 * in the initial namespace, so that the host's own traffic to itself (self replies to its
 * broadcasts and multicasts, local destinations) goes through a running loopback.
 */
export function bootSimKernel(seed = 1, release?: string): Kernel {
  const kernel = bootKernel(release === undefined ? { seed } : { seed, release });
  ipv4Init(kernel);
  ipv6Init(kernel);
  netfilterInit(kernel);
  ipvlanInit(kernel);
  macvlanInit(kernel);
  const lo = kernel.initNet.dev("lo");
  if (lo) rtnlSetLink(lo, { flags: IFF.UP, change: IFF.UP });
  return kernel;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The userland of one `ipvl run`. */
export class SimUserland implements Userland {
  /** The run's kernel. */
  readonly kernel: Kernel;

  constructor(options: SimUserlandOptions = {}) {
    this.kernel = bootSimKernel(options.seed ?? 1, options.release);
  }

  netnsExists(name: string): boolean {
    return findNetns(this.kernel, name) !== undefined;
  }

  async run(tool: string, ctx: CommandContext): Promise<number> {
    const kernel = this.kernel;
    let net: NetNamespace = kernel.initNet;
    if (ctx.netns !== null) {
      const found = findNetns(kernel, ctx.netns);
      if (!found) {
        ctx.err(`Cannot open network namespace "${ctx.netns}": No such file or directory\n`);
        return 255;
      }
      net = found;
    }
    kernel.loop.runUntil(kernel.now + COMMAND_COST_NS);
    const toolCtx: ToolContext = {
      kernel,
      net,
      argv: tool === "cat-sys" ? ctx.argv : ctx.argv.slice(1),
      stdin: ctx.stdin,
      out: ctx.out,
      err: ctx.err,
      cwd: ctx.cwd,
      signal: ctx.signal,
      detach: ctx.detach,
    };
    switch (tool) {
      case "ip":
        return await ipMain(toolCtx);
      case "ping":
        return await pingMain(toolCtx);
      case "tcpdump":
        return await tcpdumpMain(toolCtx);
      case "sysctl":
        return sysctlMain(toolCtx);
      case "nft":
        return await nftMain(toolCtx);
      case "conntrack":
        return await conntrackMain(toolCtx);
      case "dmesg":
        return dmesgMain(toolCtx);
      case "cat-sys":
        return catSysMain(toolCtx);
      case "sleep":
        return await this.#sleep(Number(ctx.argv[1]), ctx.signal);
      case "ipvl":
        // Inside a run, `ipvl` is the simulated kernel's own: only `ipvl drops` makes sense there.
        if (toolCtx.argv[0] === "drops")
          return await ipvlDropsMain({ ...toolCtx, argv: toolCtx.argv.slice(1) });
        ctx.err(`ipvl: "${toolCtx.argv[0] ?? ""}" is not available inside ipvl run (try "ipvl drops")\n`);
        return 2;
      default:
        ctx.err(`ipvl: ${tool}: not simulated\n`);
        return 127;
    }
  }

  /** Advances the virtual clock by `seconds` (in slices, so that a signal can stop it). */
  async #sleep(seconds: number, signal: AbortSignal): Promise<number> {
    const loop = this.kernel.loop;
    if (!Number.isFinite(seconds)) {
      // `sleep infinity`: nothing to simulate; wait for the signal that ends it.
      if (!signal.aborted)
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return exitCodeForAbort(signal.reason) ?? 143;
    }
    const whole = BigInt(Math.floor(seconds));
    const end =
      this.kernel.now + whole * NSEC_PER_SEC + BigInt(Math.round((seconds - Math.floor(seconds)) * 1e9));
    while (this.kernel.now < end) {
      if (signal.aborted) return exitCodeForAbort(signal.reason) ?? 143;
      const next = this.kernel.now + SLEEP_SLICE_NS;
      loop.runUntil(next < end ? next : end);
      if (this.kernel.now < end) await yieldToEventLoop();
    }
    return 0;
  }
}

/** A fresh simulated userland (the `ipvl run` factory); the release defaults to $IPVL_KERNEL_RELEASE. */
export function makeSimUserland(options: SimUserlandOptions = {}): Userland {
  const release = options.release ?? (process.env[KERNEL_RELEASE_ENV] || undefined);
  return new SimUserland(release === undefined ? options : { ...options, release });
}
