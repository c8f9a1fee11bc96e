/**
 * `ipvl drops [-n NETNS | -A] [-j [-p]] [-s] [-a] [[dev] DEV]`: why packets died, per device.
 * Linux only counts (rx_dropped, tx_errors ...); the simulated kernel also names every drop
 * (SKB_DROP_REASON-style names from the core and the IP stacks, IPVLAN_* from the driver), and
 * this command lists those named counters, largest first. docs/drop-reasons.md explains each name.
 *
 * Options (iproute2 style, unique prefixes of the long forms accepted):
 *   -n, -netns NETNS    the devices of that namespace (default: the caller's)
 *   -A, -all-netns      every namespace: the initial one, then the named ones (as `ip netns`)
 *   -j, -json           JSON: [{"ifindex","ifname","drops":[{"reason","count"}]}]
 *   -p, -pretty         indented JSON
 *   -s, -stats          the device's Linux drop/error counters, and per reason the counter the
 *                       same event increments and whether it is a note (an extra count for a
 *                       frame another reason already named)
 *   -a, -all            also devices without named drops
 * Errors as iproute2 prints them: `Cannot find device "x"` (exit 1), unknown namespace (255),
 * unknown option or extra argument (255).
 */
import {
  findNetns,
  type Kernel,
  type NetDevice,
  type NetNamespace,
  namedNamespaces,
} from "../kernel/index.ts";
import type { ToolContext } from "./context.ts";
import { DROP_REASONS } from "./drop-reasons.ts";

/** The usage text (`ipvl drops help`). */
export const IPVL_DROPS_USAGE = `Usage: ipvl drops [ OPTIONS ] [ [ dev ] DEVICE ]
OPTIONS := { -n[etns] NETNS | -A[ll-netns] | -j[son] | -p[retty] | -s[tats] | -a[ll] }
Lists the named drop counters of each device (why packets were dropped), largest first.
See docs/drop-reasons.md for the meaning of every reason.
`;

interface Options {
  json: boolean;
  pretty: boolean;
  stats: boolean;
  all: boolean;
  allNetns: boolean;
  net: NetNamespace;
  dev: string | null;
}

/** One device's report. */
interface DeviceDrops {
  readonly netns?: string | null;
  readonly ifindex: number;
  readonly ifname: string;
  readonly stats?: {
    readonly rx_dropped: number;
    readonly rx_errors: number;
    readonly tx_dropped: number;
    readonly tx_errors: number;
  };
  readonly drops: readonly {
    readonly reason: string;
    readonly count: number;
    readonly counter?: string;
    readonly kind?: string;
  }[];
}

class Exit {
  readonly code: number;

  constructor(code: number) {
    this.code = code;
  }
}

/** iproute2's matches(): `arg` is a prefix (at least one letter after the dash) of `word`. */
function matches(arg: string, word: string): boolean {
  return arg.length > 1 && word.startsWith(arg);
}

function parse(ctx: ToolContext): Options {
  const o: Options = {
    json: false,
    pretty: false,
    stats: false,
    all: false,
    allNetns: false,
    net: ctx.net,
    dev: null,
  };
  const argv = ctx.argv;
  let i = 0;
  for (; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    if (a.startsWith("--")) a = a.slice(1);
    if (a === "-n" || matches(a, "-netns")) {
      const name = argv[++i];
      const net = name === undefined || name.includes("/") ? undefined : findNetns(ctx.kernel, name);
      if (net === undefined) {
        ctx.err(`Cannot open network namespace "${name ?? "(null)"}": No such file or directory\n`);
        throw new Exit(255);
      }
      o.net = net;
    } else if (a === "-a" || a === "-all") o.all = true;
    else if (a === "-A" || (a.length > 4 && matches(a, "-all-netns"))) o.allNetns = true;
    else if (a === "-j" || matches(a, "-json")) o.json = true;
    else if (a === "-p" || matches(a, "-pretty")) o.pretty = true;
    else if (a === "-s" || matches(a, "-stats") || matches(a, "-statistics")) o.stats = true;
    else if (a === "-h" || matches(a, "-help")) usage(ctx);
    else {
      ctx.err(`Option "${argv[i]}" is unknown, try "ipvl drops help".\n`);
      throw new Exit(255);
    }
  }
  for (; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === "help") usage(ctx);
    if (a === "dev") {
      const next = argv[++i];
      if (next === undefined) {
        ctx.err('Command line is not complete. Try option "help"\n');
        throw new Exit(255);
      }
      a = next;
    }
    if (o.dev !== null) {
      ctx.err(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`);
      throw new Exit(255);
    }
    o.dev = a;
  }
  return o;
}

function usage(ctx: ToolContext): never {
  ctx.err(IPVL_DROPS_USAGE);
  throw new Exit(255);
}

/** Named drops of a device, largest count first, then by name. */
export function sortedDrops(dev: NetDevice): [string, number][] {
  return [...dev.drops]
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
}

function report(dev: NetDevice, o: Options, netns: string | null | undefined): DeviceDrops {
  const drops = sortedDrops(dev).map(([reason, count]) => {
    if (!o.stats) return { reason, count };
    const info = DROP_REASONS[reason];
    return { reason, count, counter: info?.counter ?? "?", kind: info?.kind ?? "drop" };
  });
  const st = dev.stats;
  return {
    ...(netns !== undefined ? { netns } : {}),
    ifindex: dev.ifindex,
    ifname: dev.name,
    ...(o.stats
      ? {
          stats: {
            rx_dropped: st.rxDropped,
            rx_errors: st.rxErrors,
            tx_dropped: st.txDropped,
            tx_errors: st.txErrors,
          },
        }
      : {}),
    drops,
  };
}

/** The namespaces to list: the chosen one, or (-A) the initial one and every named one. */
function namespaces(kernel: Kernel, o: Options): NetNamespace[] {
  if (!o.allNetns) return [o.net];
  return [kernel.initNet, ...namedNamespaces(kernel).reverse()];
}

function textOf(r: DeviceDrops): string {
  let out = `${r.ifindex}: ${r.ifname}:`;
  if (r.stats) {
    const s = r.stats;
    out += ` rx_dropped ${s.rx_dropped} rx_errors ${s.rx_errors} tx_dropped ${s.tx_dropped} tx_errors ${s.tx_errors}`;
  }
  out += "\n";
  if (r.drops.length === 0) return `${out}    (no named drops)\n`;
  const width = Math.max(...r.drops.map((d) => d.reason.length));
  const cw = Math.max(...r.drops.map((d) => String(d.count).length));
  for (const d of r.drops) {
    let line = `    ${d.reason.padEnd(width)}  ${String(d.count).padStart(cw)}`;
    if (d.counter !== undefined) line += `  ${d.counter}${d.kind === "note" ? " (note)" : ""}`;
    out += `${line}\n`;
  }
  return out;
}

/** Runs `ipvl drops` with ctx.argv (the arguments after "drops"); resolves to the exit status. */
export async function ipvlDropsMain(ctx: ToolContext): Promise<number> {
  let o: Options;
  try {
    o = parse(ctx);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
  const reports: DeviceDrops[] = [];
  const texts: string[] = [];
  let found = false;
  for (const net of namespaces(ctx.kernel, o)) {
    const label = o.allNetns ? net.name : undefined;
    let devices = net.devicesInOrder();
    if (o.dev !== null) devices = devices.filter((d) => d.name === o.dev);
    if (devices.length > 0) found = true;
    const chosen = devices.filter((d) => o.all || o.dev !== null || sortedDrops(d).length > 0);
    if (chosen.length === 0) continue;
    if (o.allNetns && !o.json) texts.push(`netns ${net.name ?? "(initial)"}:\n`);
    for (const d of chosen) {
      const r = report(d, o, label);
      reports.push(r);
      texts.push(textOf(r));
    }
  }
  if (o.dev !== null && !found) {
    ctx.err(`Cannot find device "${o.dev}"\n`);
    return 1;
  }
  if (o.json) ctx.out(`${o.pretty ? JSON.stringify(reports, null, 4) : JSON.stringify(reports)}\n`);
  else ctx.out(texts.join(""));
  return 0;
}
