/** `ip addr add|del|change|replace|show|flush` (ip/ipaddress.c: ipaddr_modify and friends). */
import { KernelError, type NetNamespace } from "../kernel/index.ts";
import { ADDR_USAGE } from "./help-texts.ts";
import { getAddr, getPrefix, type InetPrefix } from "./inet-prefix.ts";
import { ipaddrList, scopeNumber } from "./ipaddress.ts";
import { AF, type IpOptions } from "./options.ts";
import { reportKernelError } from "./rtnl-errors.ts";
import { dumpAddrs, stackCall, stackHas } from "./stacks.ts";
import {
  Args,
  duparg,
  duparg2,
  getU32,
  invarg,
  IpExit,
  type IpToolContext,
  lookupDev,
  matches,
  nodev,
} from "./utils.ts";

const IFA_F = {
  HOMEADDRESS: 0x10,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
};

/** ipaddr_modify. */
function ipaddrModify(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  cmd: "add" | "del" | "replace",
  argv: string[],
): number {
  const err = ctx.err;
  const args = new Args(argv, err);
  let family = opts.family === AF.PACKET ? 0 : opts.family;
  let local: InetPrefix | null = null;
  let peer: InetPrefix | null = null;
  let brd: number | null = null;
  let brdMode = 0;
  let scope: number | null = null;
  let dev: string | null = null;
  let label: string | null = null;
  let metric: number | undefined;
  let flags = 0;
  let validLft: number | undefined;
  let preferredLft: number | undefined;
  while (args.left > 0) {
    const a = args.cur;
    if (a === "peer" || a === "remote") {
      const v = args.next();
      if (peer) duparg(err, "peer", v);
      peer = getPrefix(err, v, family);
      family ||= peer.family;
    } else if (matches(a, "broadcast") || a === "brd") {
      const v = args.next();
      if (brdMode || brd !== null) duparg(err, "broadcast", v);
      if (v === "+") brdMode = -1;
      else if (v === "-") brdMode = -2;
      else {
        const b = getAddr(err, v, family);
        family ||= b.family;
        brd = b.v4;
      }
    } else if (a === "anycast") {
      args.next();
    } else if (a === "scope") {
      const v = args.next();
      const s = scopeNumber(v);
      if (s === null) invarg(err, "invalid scope value.", v);
      scope = s;
    } else if (a === "dev") dev = args.next();
    else if (a === "label") label = args.next();
    else if (matches(a, "metric") || matches(a, "priority") || matches(a, "preference")) {
      const v = args.next();
      const m = getU32(v);
      if (m === null) invarg(err, '"metric" value is invalid\n', v);
      metric = m;
    } else if (matches(a, "valid_lft") || matches(a, "preferred_lft")) {
      const v = args.next();
      const n = v === "forever" ? 0xffffffff : getU32(v);
      if (n === null) invarg(err, `${matches(a, "valid_lft") ? "valid_lft" : "preferred_lft"} value`, v);
      if (matches(a, "valid_lft")) validLft = n;
      else preferredLft = n;
    } else if (a === "home") flags |= IFA_F.HOMEADDRESS;
    else if (a === "nodad") flags |= IFA_F.NODAD;
    else if (a === "optimistic") flags |= IFA_F.OPTIMISTIC;
    else if (a === "mngtmpaddr") flags |= IFA_F.MANAGETEMPADDR;
    else if (a === "noprefixroute") flags |= IFA_F.NOPREFIXROUTE;
    else if (a === "autojoin") flags |= IFA_F.MCAUTOJOIN;
    else if (matches(a, "proto")) args.next();
    else {
      if (a === "local") args.next();
      else if (matches(a, "help")) {
        err(ADDR_USAGE);
        throw new IpExit(255);
      }
      if (local) duparg2(err, "local", args.cur);
      local = getPrefix(err, args.cur, family);
      family ||= local.family;
    }
    args.shift();
  }
  if (dev === null) {
    err('Not enough information: "dev" argument is required.\n');
    return 1;
  }
  if (label !== null && !matches(dev, label) && !label.startsWith(dev)) {
    err(`"dev" (${dev}) must match "label" (${label}).\n`);
    throw new IpExit(1);
  }
  if (!local) {
    err('Not enough information: "local" argument is required.\n');
    return 1;
  }
  const prefixLen = peer ? peer.bitlen : local.bitlen;
  if (brdMode < 0 && cmd !== "del") {
    if (family !== AF.INET) {
      err("Broadcast can be set only for IPv4 addresses\n");
      return 1;
    }
    const base = peer ?? local;
    if (base.bitlen <= 30) {
      const hostMask = base.bitlen === 0 ? 0xffffffff : (2 ** (32 - base.bitlen) - 1) >>> 0;
      brd = brdMode === -1 ? (base.v4 | hostMask) >>> 0 : (base.v4 & ~hostMask) >>> 0;
    }
  }
  if (scope === null && cmd !== "del") scope = family === AF.INET && local.v4 >>> 24 === 127 ? 254 : 0;
  const d = lookupDev(net, dev);
  if (!d) nodev(err, dev);
  try {
    if (family === AF.INET6) {
      if (cmd === "del") stackCall("inet6AddrDel", d, local.v6, prefixLen);
      else {
        const cfg: Record<string, unknown> = {
          addr: local.v6,
          prefixLen,
          flags,
          create: true,
          excl: cmd === "add",
          replace: cmd === "replace",
        };
        if (peer) cfg.peer = peer.v6;
        if (validLft !== undefined) cfg.validLft = validLft;
        if (preferredLft !== undefined) cfg.preferredLft = preferredLft;
        if (metric !== undefined) cfg.metric = metric;
        if (!stackHas("inet6AddrAdd")) return notSimulated(ctx, "IPv6 addresses");
        stackCall("inet6AddrAdd", d, cfg);
      }
    } else {
      if (cmd === "del") {
        if (!stackHas("inetAddrDel")) return notSimulated(ctx, "IPv4 addresses");
        stackCall("inetAddrDel", d, {
          local: local.v4,
          prefixLen: local.lenGiven ? prefixLen : undefined,
          address: peer?.v4,
        });
      } else {
        const req: Record<string, unknown> = { local: local.v4, prefixLen, flags };
        if (peer) req.address = peer.v4;
        if (brd !== null) req.broadcast = brd;
        if (scope !== null) req.scope = scope;
        if (label !== null) req.label = label;
        if (metric !== undefined) req.rtPriority = metric;
        if (validLft !== undefined) req.validLft = validLft;
        if (preferredLft !== undefined) req.preferredLft = preferredLft;
        if (!stackHas("inetAddrAdd")) return notSimulated(ctx, "IPv4 addresses");
        stackCall("inetAddrAdd", d, req, { create: true, excl: cmd === "add", replace: cmd === "replace" });
      }
    }
  } catch (e) {
    if (e instanceof KernelError) return reportKernelError(ctx, e);
    throw e;
  }
  return 0;
}

function notSimulated(ctx: IpToolContext, what: string): number {
  ctx.err(`ipvl: ip addr: ${what} are not available in this kernel\n`);
  return 2;
}

/** `ip addr flush dev X [scope S]`: deletes each matching address. */
function ipaddrFlush(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  if (argv.length === 0) {
    ctx.err("Flush requires arguments.\n");
    return 1;
  }
  let devName: string | null = null;
  let scope: number | null = null;
  const args = new Args(argv, ctx.err);
  while (args.left > 0) {
    const a = args.cur;
    if (a === "scope") {
      const v = args.next();
      scope = scopeNumber(v);
      if (scope === null && v !== "all") invarg(ctx.err, 'invalid "scope"\n', v);
    } else {
      if (a === "dev") args.next();
      if (devName !== null) duparg2(ctx.err, "dev", args.cur);
      devName = args.cur;
    }
    args.shift();
  }
  let ifindex: number | null = null;
  if (devName !== null) {
    const d = lookupDev(net, devName);
    if (!d) {
      ctx.err(`Device "${devName}" does not exist.\n`);
      return 1;
    }
    ifindex = d.ifindex;
  }
  const family = opts.family === AF.PACKET ? 0 : opts.family;
  for (const a of dumpAddrs(net, family)) {
    if (ifindex !== null && a.dev.ifindex !== ifindex) continue;
    if (scope !== null && a.scope !== scope) continue;
    try {
      if (a.family === 6) stackCall("inet6AddrDel", a.dev, a.value, a.prefixLen);
      else stackCall("inetAddrDel", a.dev, { local: a.value, prefixLen: a.prefixLen });
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
    }
  }
  return 0;
}

/** do_ipaddr. */
export function doIpaddr(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  if (argv.length === 0) return ipaddrList(ctx, opts, net, [], false);
  const [cmd, ...rest] = argv as [string, ...string[]];
  if (matches(cmd, "add")) return ipaddrModify(ctx, opts, net, "add", rest);
  if (matches(cmd, "change") || cmd === "chg" || matches(cmd, "replace"))
    return ipaddrModify(ctx, opts, net, "replace", rest);
  if (matches(cmd, "delete")) return ipaddrModify(ctx, opts, net, "del", rest);
  if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst"))
    return ipaddrList(ctx, opts, net, rest, false);
  if (matches(cmd, "flush")) return ipaddrFlush(ctx, opts, net, rest);
  if (matches(cmd, "help")) {
    ctx.err(ADDR_USAGE);
    throw new IpExit(255);
  }
  ctx.err(`Command "${cmd}" is unknown, try "ip address help".\n`);
  throw new IpExit(255);
}
