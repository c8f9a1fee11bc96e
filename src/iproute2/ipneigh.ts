/** `ip neigh add|del|change|replace|show|flush` (ip/ipneigh.c) over the kernel's neighbour tables. */
import {
  KernelError,
  type Neighbour,
  type NeighTable,
  neighAdd,
  neighDelete,
  neighGet,
  neighTableGet,
  type NetDevice,
  type NetNamespace,
} from "../kernel/index.ts";
import { NEIGH_USAGE } from "./help-texts.ts";
import { getAddr, type InetPrefix } from "./inet-prefix.ts";
import { Printer } from "./json-print.ts";
import { AF, type IpOptions } from "./options.ts";
import { reportKernelError } from "./rtnl-errors.ts";
import { requireStack, v4Text, v6Text } from "./stacks.ts";
import {
  Args,
  duparg,
  duparg2,
  invarg,
  IpExit,
  type IpToolContext,
  llAddrA2n,
  llAddrN2a,
  lookupDev,
  macBytes,
  matches,
  nodev,
} from "./utils.ts";

const NUD_NAMES = ["INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT"];
const NUD_NOARP = 0x40;
const NUD_PERMANENT = 0x80;
const NTF_PROXY = 0x08;
const NTF_ROUTER = 0x80;

type NeighEntry = Neighbour<number> | Neighbour<bigint>;

/** nud_state_a2n. */
function nudState(text: string): number | null {
  const t = text.toLowerCase();
  if (t === "none") return 0;
  if (t === "all") return 0xff;
  const i = NUD_NAMES.findIndex((n) => n.toLowerCase() === t);
  if (i >= 0) return 1 << i;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : null;
}

/** Deletes an entry from the table of its family. */
function deleteEntry(net: NetNamespace, dev: NetDevice | null, key: number | bigint, proxy: boolean): void {
  if (typeof key === "number") {
    const t = neighTableGet(net, 4);
    if (!t) requireStack(net, 4);
    else neighDelete(t, dev, key, proxy);
  } else {
    const t = neighTableGet(net, 6);
    if (!t) requireStack(net, 6);
    else neighDelete(t, dev, key, proxy);
  }
}

/** The entries of one family's table (none when the stack is missing). */
function entriesOf(net: NetNamespace, family: 4 | 6, dev: NetDevice | undefined): NeighEntry[] {
  const t: NeighTable<number> | NeighTable<bigint> | undefined =
    family === 4 ? neighTableGet(net, 4) : neighTableGet(net, 6);
  return t ? t.entries(dev) : [];
}

/** print_neigh_brief (`ip -br neigh`): dst, dev and lladdr in columns. */
function printNeighBrief(p: Printer, n: NeighEntry, family: 4 | 6, showDev: boolean): void {
  p.openObject(null);
  p.string("any", "dst", "%-39s ", family === 4 ? v4Text(n.key as number) : v6Text(n.key as bigint));
  if (showDev) p.string("any", "dev", "%-16s ", n.dev.name);
  if (n.nudState & NUD_VALID && n.dev.addrLen > 0)
    p.string("any", "lladdr", "%s", llAddrN2a(macBytes(n.lladdr, n.dev.addrLen)));
  p.fp("\n");
  p.closeObject();
}

/** NUD_VALID: the states whose entries carry NDA_LLADDR. */
const NUD_VALID = 0x80 | 0x40 | 0x02 | 0x10 | 0x04 | 0x08;

/** print_neigh. */
function printNeigh(p: Printer, n: NeighEntry, family: 4 | 6, showDev: boolean, brief = false): void {
  if (brief) {
    printNeighBrief(p, n, family, showDev);
    return;
  }
  p.openObject(null);
  p.string("any", "dst", "%s ", family === 4 ? v4Text(n.key as number) : v6Text(n.key as bigint));
  if (showDev) {
    p.fp("dev ");
    p.string("any", "dev", "%s ", n.dev.name);
  }
  const valid = n.nudState & NUD_VALID;
  if (valid && n.dev.addrLen > 0) {
    p.fp("lladdr ");
    p.string("any", "lladdr", "%s ", llAddrN2a(macBytes(n.lladdr, n.dev.addrLen)));
  }
  if (n.flags & NTF_ROUTER) p.null("any", "router", "%s ", "router");
  if (n.flags & NTF_PROXY) p.null("any", "proxy", "%s ", "proxy");
  if (n.nudState) {
    p.openArray("json", "state");
    for (let i = 0; i < NUD_NAMES.length; i++)
      if (n.nudState & (1 << i)) p.string("any", null, "%s ", NUD_NAMES[i]!);
    p.closeArray("json", null);
  }
  p.fp("\n");
  p.closeObject();
}

/** do_show_or_flush. */
function neighShow(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  argv: string[],
  flush: boolean,
): number {
  const args = new Args(argv, ctx.err);
  let dev: NetDevice | null = null;
  // Flush spares permanent and noarp entries unless `nud` says otherwise.
  let state = flush ? ~(NUD_PERMANENT | NUD_NOARP) : 0xff & ~NUD_NOARP;
  let stateGiven = false;
  let to: InetPrefix | null = null;
  const family = opts.family === AF.INET ? 4 : opts.family === AF.INET6 ? 6 : 0;
  while (args.left > 0) {
    const a = args.cur;
    if (a === "dev") {
      const v = args.next();
      const d = lookupDev(net, v);
      if (!d) {
        ctx.err(`Cannot find device "${v}"\n`);
        return 1;
      }
      dev = d;
    } else if (a === "nud") {
      const v = args.next();
      if (!stateGiven) {
        stateGiven = true;
        state = 0;
      }
      let s = v === "all" ? null : nudState(v);
      if (s === null) {
        if (v !== "all") invarg(ctx.err, "nud state is bad", v);
        s = flush ? ~NUD_NOARP : ~0;
      }
      // "nud none" is kept as bit 8 (a state of 0 would match nothing)
      state |= s === 0 ? 0x100 : s;
    } else if (a === "proxy" || a === "unused" || matches(a, "vrf") || a === "master") {
      if (a !== "proxy" && a !== "unused") args.next();
    } else {
      if (a === "to") args.next();
      if (matches(args.cur, "help")) {
        ctx.err(NEIGH_USAGE);
        throw new IpExit(255);
      }
      if (to) duparg2(ctx.err, "to", args.cur);
      to = getAddr(ctx.err, args.cur, opts.family === AF.PACKET ? 0 : opts.family);
    }
    args.shift();
  }
  if (flush && !dev && !to && argv.length === 0) {
    ctx.err("Flush requires arguments.\n");
    return 1;
  }
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: opts.oneline });
  if (!flush) p.start();
  for (const fam of [4, 6] as const) {
    if (family && family !== fam) continue;
    if (to && to.family !== (fam === 4 ? AF.INET : AF.INET6)) continue;
    for (const n of entriesOf(net, fam, dev ?? undefined)) {
      if (n.dead) continue;
      if (to && (fam === 4 ? n.key !== to.v4 : n.key !== to.v6)) continue;
      if (!(state & n.nudState) && (n.nudState || !(state & 0x100))) continue;
      if (flush) {
        try {
          deleteEntry(net, n.dev, n.key, false);
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
        }
      } else printNeigh(p, n, fam, dev === null, opts.brief);
    }
  }
  if (!flush) {
    p.end();
    ctx.out(p.take());
  }
  return 0;
}

/** ipneigh_modify. */
function neighModify(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  cmd: "add" | "change" | "replace" | "del",
  argv: string[],
): number {
  const err = ctx.err;
  const args = new Args(argv, err);
  let lla: string | null = null;
  let state = 0x80;
  let flags = 0;
  let dst: InetPrefix | null = null;
  let devName: string | null = null;
  let devOk = false;
  while (args.left > 0) {
    const a = args.cur;
    if (matches(a, "lladdr")) {
      const v = args.next();
      if (lla !== null) duparg(err, "lladdr", v);
      lla = v;
    } else if (a === "nud") {
      const v = args.next();
      const s = nudState(v);
      if (s === null || s === 0xff) invarg(err, "nud state is bad", v);
      state = s;
    } else if (matches(a, "proxy")) {
      const v = args.next();
      if (dst) duparg(err, "address", v);
      dst = getAddr(err, v, opts.family === AF.PACKET ? 0 : opts.family);
      devOk = true;
      flags |= NTF_PROXY;
    } else if (a === "router") flags |= NTF_ROUTER;
    else if (a === "dev") {
      devName = args.next();
      devOk = true;
    } else if (matches(a, "protocol") || matches(a, "extern_learn")) {
      if (matches(a, "protocol")) args.next();
    } else {
      if (a === "to") args.next();
      if (dst) duparg2(err, "to", args.cur);
      dst = getAddr(err, args.cur, opts.family === AF.PACKET ? 0 : opts.family);
    }
    args.shift();
  }
  if (!devOk || !dst) {
    err("Device and destination are required arguments.\n");
    throw new IpExit(255);
  }
  let lladdr: number | undefined;
  if (lla !== null && lla !== "null") {
    const bytes = llAddrA2n(err, lla);
    if (!bytes) return 1;
    lladdr = bytes.reduce((v, b) => v * 256 + b, 0);
  }
  let dev: NetDevice | null = null;
  if (devName !== null) {
    const d = lookupDev(net, devName);
    if (!d) nodev(err, devName);
    dev = d;
  }
  const nl = { create: cmd !== "change", excl: cmd === "add", replace: cmd !== "add" };
  const base = { dev, state, flags, nl, ...(lladdr !== undefined ? { lladdr } : {}) };
  try {
    if (cmd === "del")
      deleteEntry(net, dev, dst.family === AF.INET ? dst.v4 : dst.v6, (flags & NTF_PROXY) !== 0);
    else if (dst.family === AF.INET) {
      const t = neighTableGet(net, 4);
      if (!t) requireStack(net, 4);
      else neighAdd(t, { ...base, key: dst.v4 });
    } else {
      const t = neighTableGet(net, 6);
      if (!t) requireStack(net, 6);
      else neighAdd(t, { ...base, key: dst.v6 });
    }
  } catch (e) {
    if (e instanceof KernelError) {
      reportKernelError(ctx, e);
      throw new IpExit(2);
    }
    throw e;
  }
  return 0;
}

/** ipneigh_get: `ip neigh get ADDR dev DEV` (RTM_GETNEIGH for one entry, neigh_get). */
function neighGetCmd(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  const err = ctx.err;
  const args = new Args(argv, err);
  let devName: string | null = null;
  let dst: InetPrefix | null = null;
  while (args.left > 0) {
    const a = args.cur;
    if (a === "dev") devName = args.next();
    else if (matches(a, "proxy")) {
      const v = args.next();
      if (dst) duparg(err, "address", v);
      dst = getAddr(err, v, opts.family === AF.PACKET ? 0 : opts.family);
    } else {
      if (a === "to") args.next();
      if (matches(args.cur, "help")) {
        err(NEIGH_USAGE);
        throw new IpExit(255);
      }
      if (dst) duparg2(err, "to", args.cur);
      dst = getAddr(err, args.cur, opts.family === AF.PACKET ? 0 : opts.family);
    }
    args.shift();
  }
  if (devName === null || !dst) {
    err("Device and address are required arguments.\n");
    throw new IpExit(255);
  }
  const dev = lookupDev(net, devName);
  if (!dev) {
    err(`Cannot find device "${devName}"\n`);
    throw new IpExit(255);
  }
  let n: NeighEntry;
  try {
    if (dst.family === AF.INET) {
      const t = neighTableGet(net, 4);
      if (!t) {
        requireStack(net, 4); // throws EAFNOSUPPORT without the stack
        return 2;
      }
      n = neighGet(t, dev, dst.v4);
    } else {
      const t = neighTableGet(net, 6);
      if (!t) {
        requireStack(net, 6); // throws EAFNOSUPPORT without the stack
        return 2;
      }
      n = neighGet(t, dev, dst.v6);
    }
  } catch (e) {
    if (e instanceof KernelError) {
      reportKernelError(ctx, e);
      throw new IpExit(2);
    }
    throw e;
  }
  // ipneigh_reset_filter(0): no device filter, so the entry prints with its "dev".
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: opts.oneline });
  printNeigh(p, n, dst.family === AF.INET ? 4 : 6, true);
  ctx.out(p.take());
  return 0;
}

/** do_ipneigh. */
export function doIpneigh(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  if (argv.length === 0) return neighShow(ctx, opts, net, [], false);
  const [cmd, ...rest] = argv as [string, ...string[]];
  if (matches(cmd, "add")) return neighModify(ctx, opts, net, "add", rest);
  if (matches(cmd, "change") || cmd === "chg") return neighModify(ctx, opts, net, "change", rest);
  if (matches(cmd, "replace")) return neighModify(ctx, opts, net, "replace", rest);
  if (matches(cmd, "delete")) return neighModify(ctx, opts, net, "del", rest);
  if (matches(cmd, "get")) return neighGetCmd(ctx, opts, net, rest);
  if (matches(cmd, "show") || matches(cmd, "lst") || matches(cmd, "list"))
    return neighShow(ctx, opts, net, rest, false);
  if (matches(cmd, "flush")) return neighShow(ctx, opts, net, rest, true);
  if (matches(cmd, "help")) {
    ctx.err(NEIGH_USAGE);
    throw new IpExit(255);
  }
  ctx.err(`Command "${cmd}" is unknown, try "ip neigh help".\n`);
  throw new IpExit(255);
}
