/**
 * The `ip` program (ip/ip.c): global options, `-n NS`, `-batch`, and the object table that
 * dispatches to link, address, route, neigh, maddr, netns and tuntap.
 */
import { findNetns, type NetNamespace } from "../kernel/index.ts";
import { IP_USAGE } from "./help-texts.ts";
import { doIpaddr } from "./ipaddr-cmd.ts";
import { doIplink } from "./iplink.ts";
import { doIpmaddr } from "./ipmaddr.ts";
import { doIpneigh } from "./ipneigh.ts";
import { doNetns } from "./ipnetns.ts";
import { doIproute } from "./iproute.ts";
import { doIptuntap } from "./iptuntap.ts";
import { AF, defaultOptions, type IpOptions } from "./options.ts";
import { invarg, IpExit, type IpToolContext, matches } from "./utils.ts";

type ObjectFn = (ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]) => number;

/** The object table of ip.c, in its matching order (prefixes pick the first match). */
const OBJECTS: readonly [string, ObjectFn | null][] = [
  ["address", doIpaddr],
  ["addrlabel", null],
  ["maddress", doIpmaddr],
  ["route", doIproute],
  ["rule", null],
  ["neighbor", doIpneigh],
  ["neighbour", doIpneigh],
  ["ntable", null],
  ["ntbl", null],
  ["link", doIplink],
  ["l2tp", null],
  ["fou", null],
  ["ila", null],
  ["macsec", null],
  ["tunnel", null],
  ["tunl", null],
  ["tuntap", doIptuntap],
  ["tap", doIptuntap],
  ["token", null],
  ["tcpmetrics", null],
  ["tcp_metrics", null],
  ["monitor", null],
  ["xfrm", null],
  ["mroute", null],
  ["mrule", null],
  ["netns", doNetns],
  ["netconf", null],
  ["vrf", null],
  ["sr", null],
  ["nexthop", null],
  ["mptcp", null],
  ["ioam", null],
  ["help", null],
  ["stats", null],
];

function usage(ctx: IpToolContext): never {
  ctx.err(IP_USAGE);
  throw new IpExit(255);
}

/** read_family. */
function readFamily(name: string): number {
  switch (name) {
    case "inet":
      return AF.INET;
    case "inet6":
      return AF.INET6;
    case "link":
      return AF.PACKET;
    case "bridge":
      return AF.BRIDGE;
    case "mpls":
      return AF.MPLS;
    default:
      return AF.UNSPEC;
  }
}

/** do_cmd: one object command; returns the exit status. */
function doCmd(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  const [obj, ...rest] = argv as [string, ...string[]];
  for (const [name, fn] of OBJECTS) {
    if (!matches(obj, name)) continue;
    if (name === "help") usage(ctx);
    if (fn === null) {
      ctx.err(`ipvl: ip ${name}: not simulated\n`);
      return 1;
    }
    return fn(ctx, { ...opts }, net, rest);
  }
  ctx.err(`Object "${obj}" is unknown, try "ip help".\n`);
  return 1;
}

/** makeargs: splits a batch line into words (quotes group, '#' starts a comment). */
function makeArgs(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === "#") break;
    let word = "";
    if (line[i] === '"' || line[i] === "'") {
      const q = line[i++]!;
      while (i < line.length && line[i] !== q) word += line[i++]!;
      i++;
    } else while (i < line.length && !/\s/.test(line[i]!)) word += line[i++]!;
    out.push(word);
  }
  return out;
}

/** batch(): runs each line; stops at the first failure unless -force. */
function batch(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, name: string): number {
  let text: string;
  if (name === "-" || name === "/dev/stdin") text = new TextDecoder().decode(ctx.stdin);
  else {
    ctx.err(`Cannot open file "${name}" for reading: No such file or directory\n`);
    return 1;
  }
  let status = 0;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let n = 0; n < lines.length; n++) {
    const words = makeArgs(lines[n]!);
    if (words.length === 0) continue;
    const rc = doCmd(ctx, opts, net, words);
    if (rc !== 0) {
      ctx.err(`Command failed ${name}:${n + 1}\n`);
      status = 1;
      if (!opts.force) break;
    }
  }
  return status;
}

/** Runs `ip` with ctx.argv (the arguments after "ip"); resolves to the exit status. */
export async function ipMain(ctx: IpToolContext): Promise<number> {
  try {
    return ipRun(ctx);
  } catch (e) {
    if (e instanceof IpExit) return e.status;
    throw e;
  }
}

function ipRun(ctx: IpToolContext): number {
  const opts = defaultOptions();
  let net = ctx.net;
  let batchFile: string | null = null;
  const argv = [...ctx.argv];
  let i = 0;
  for (; i < argv.length; i++) {
    let opt = argv[i]!;
    if (opt === "--") {
      i++;
      break;
    }
    if (!opt.startsWith("-")) break;
    if (opt.startsWith("--")) opt = opt.slice(1);
    const needArg = (): string => {
      if (i + 1 >= argv.length) usage(ctx);
      return argv[++i]!;
    };
    if (matches(opt, "-loops")) needArg();
    else if (matches(opt, "-family")) {
      const v = needArg();
      if (v === "help") usage(ctx);
      opts.family = readFamily(v);
      if (opts.family === AF.UNSPEC) invarg(ctx.err, "invalid protocol family", v);
    } else if (opt === "-4") opts.family = AF.INET;
    else if (opt === "-6") opts.family = AF.INET6;
    else if (opt === "-0") opts.family = AF.PACKET;
    else if (opt === "-M") opts.family = AF.MPLS;
    else if (opt === "-B") opts.family = AF.BRIDGE;
    else if (matches(opt, "-human") || matches(opt, "-human-readable")) opts.human = true;
    else if (matches(opt, "-iec")) {
      // IEC units only matter with -h
    } else if (matches(opt, "-stats") || matches(opt, "-statistics")) opts.stats++;
    else if (matches(opt, "-details")) opts.details++;
    else if (matches(opt, "-resolve")) opts.resolve = true;
    else if (matches(opt, "-oneline")) opts.oneline = true;
    else if (matches(opt, "-timestamp") || matches(opt, "-tshort")) {
      // only used by monitor
    } else if (matches(opt, "-Version")) {
      ctx.out("ip utility, iproute2-6.1.0, libbpf 1.1.2\n");
      return 0;
    } else if (matches(opt, "-force")) opts.force = true;
    else if (matches(opt, "-batch")) batchFile = needArg();
    else if (matches(opt, "-brief")) opts.brief = true;
    else if (matches(opt, "-json")) opts.json = true;
    else if (matches(opt, "-pretty")) opts.pretty = true;
    else if (matches(opt, "-rcvbuf")) needArg();
    else if (matches(opt, "-color") || opt.startsWith("-color=") || opt.startsWith("-c=")) {
      // no colours: output goes to pipes
    } else if (matches(opt, "-help")) usage(ctx);
    else if (matches(opt, "-netns")) {
      const name = i + 1 < argv.length ? argv[++i]! : "(null)";
      const ns = name.includes("/") ? undefined : findNetns(ctx.kernel, name);
      if (!ns) {
        ctx.err(`Cannot open network namespace "${name}": No such file or directory\n`);
        return 255;
      }
      net = ns;
    } else if (matches(opt, "-Numeric")) opts.numeric = true;
    else if (matches(opt, "-all")) opts.all = true;
    else {
      ctx.err(`Option "${opt}" is unknown, try "ip -help".\n`);
      return 255;
    }
  }
  if (opts.json && opts.oneline) opts.oneline = true;
  if (batchFile !== null) return batch(ctx, opts, net, batchFile);
  const rest = argv.slice(i);
  if (rest.length === 0) usage(ctx);
  return doCmd(ctx, opts, net, rest);
}
