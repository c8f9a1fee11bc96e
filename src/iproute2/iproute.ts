/**
 * `ip route show|add|del|replace|append|change|prepend|flush|get` (ip/iproute.c) over the
 * kernel's IPv4 FIB and IPv6 fib6, both families. Printing is in route-print.ts, `get` in
 * iproute-get.ts.
 */
import {
  type Fib6Config,
  type FibRoute,
  fib6NhFlags,
  fibRouteAdd,
  fibRouteDel,
  fibRoutes,
  ip6RouteAdd,
  ip6RouteDel,
  ip6RouteDump,
  KernelError,
  type NetDevice,
  type NetNamespace,
  type RouteRequest,
  type RouteSelector,
  type RouteType,
} from "../kernel/index.ts";
import { ROUTE_USAGE } from "./help-texts.ts";
import { getAddr, getPrefix, type InetPrefix } from "./inet-prefix.ts";
import { scopeNumber } from "./ipaddress.ts";
import { Printer } from "./json-print.ts";
import { AF, type IpOptions } from "./options.ts";
import { reportKernelError } from "./rtnl-errors.ts";
import { hasIpv4, hasIpv6, requireStack, v4Text, v6Text } from "./stacks.ts";
import {
  Args,
  duparg2,
  getU32,
  invarg,
  IpExit,
  type IpToolContext,
  lookupDev,
  matches,
  nodev,
} from "./utils.ts";
import {
  newFilter,
  parseProto,
  parseTable,
  parseType,
  printRoute,
  type RouteFilter,
  type RouteMsg,
} from "./route-print.ts";
import { routeGet } from "./iproute-get.ts";

function v4Msg(r: FibRoute): RouteMsg {
  const nh = r.nexthops[0];
  return {
    family: 4,
    table: r.table,
    dst: v4Text(r.dst),
    dstLen: r.dstLen,
    src: null,
    srcLen: 0,
    type: r.type,
    protocol: r.protocol,
    scope: r.scope,
    gateway: nh?.gw ? v4Text(nh.gw) : null,
    dev: nh?.dev ?? null,
    prefsrc: r.prefsrc ? v4Text(r.prefsrc) : null,
    metric: r.priority ? r.priority : null,
    flags: r.flags | (nh ? nh.flags : 0),
    pref: null,
    metrics: r.metrics,
    uid: null,
    cacheFlags: null,
    expires: null,
    v4: r,
  };
}

function dumpRoutes(net: NetNamespace, family: 4 | 6): RouteMsg[] {
  if (family === 4) return hasIpv4(net) ? fibRoutes(net).map(v4Msg) : [];
  if (!hasIpv6(net)) return [];
  const now = net.kernel.now;
  return ip6RouteDump(net).map((r) => ({
    family: 6,
    table: r.table,
    dst: v6Text(r.dst),
    dstLen: r.dstLen,
    src: r.srcLen ? v6Text(r.src) : null,
    srcLen: r.srcLen,
    type: r.type,
    protocol: r.protocol,
    scope: 0,
    gateway: r.gateway !== null ? v6Text(r.gateway) : null,
    dev: r.dev,
    prefsrc: r.prefsrc !== null ? v6Text(r.prefsrc) : null,
    metric: r.metric,
    flags: fib6NhFlags(r),
    pref: r.pref,
    metrics: r.metrics,
    uid: null,
    cacheFlags: null,
    expires: r.expires !== null ? Math.max(0, Number((r.expires - now) / 1_000_000_000n)) : null,
    v6: { dst: r.dst, dstLen: r.dstLen, table: r.table, dev: r.dev, gateway: r.gateway },
  }));
}

/** inet_addr_match on `bits` leading bits. */
function prefixMatch(r: RouteMsg, p: InetPrefix, bits: number): boolean {
  if (bits <= 0) return true;
  const fam = p.family === AF.INET ? 4 : 6;
  if (fam !== r.family) return false;
  if (fam === 4) {
    const a = r.v4 ? r.v4.dst : 0;
    const mask = bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    return ((a ^ p.v4) & mask) >>> 0 === 0;
  }
  const a = r.v6 ? r.v6.dst : 0n;
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits);
  return ((a ^ p.v6) & mask) === 0n;
}

/** filter_nlmsg. */
function routeMatches(r: RouteMsg, f: RouteFilter): boolean {
  if (f.tb > 0 && r.table !== f.tb) return false;
  if (f.protocol !== null && r.protocol !== f.protocol) return false;
  if (f.scope !== null && r.scope !== f.scope) return false;
  if (f.type !== null && r.type !== f.type) return false;
  if (f.rdst && (f.rdst.bitlen > r.dstLen || !prefixMatch(r, f.rdst, f.rdst.bitlen))) return false;
  if (f.mdst && (f.mdst.bitlen < r.dstLen || !prefixMatch(r, f.mdst, r.dstLen))) return false;
  if (f.oif && r.dev !== f.oif) return false;
  if (f.metric !== null && r.metric !== f.metric) return false;
  if (f.via && r.gateway !== (f.via.family === AF.INET ? v4Text(f.via.v4) : v6Text(f.via.v6))) return false;
  if (f.prefsrc) {
    const want = f.prefsrc.family === AF.INET ? v4Text(f.prefsrc.v4) : v6Text(f.prefsrc.v6);
    if (r.prefsrc !== want) return false;
  }
  return true;
}

/** Deletes one dumped route the way `ip route flush` does: RTM_DELROUTE with the dumped message. */
function deleteDumped(net: NetNamespace, r: RouteMsg): void {
  if (r.v4) {
    const x = r.v4;
    const nh = x.nexthops[0];
    const sel: RouteSelector = {
      dst: x.dst,
      dstLen: x.dstLen,
      table: x.table,
      tos: x.tos,
      type: x.type,
      scope: x.scope,
      protocol: x.protocol,
      priority: x.priority,
      prefsrc: x.prefsrc,
      ...(nh?.gw ? { gw: nh.gw } : {}),
      ...(nh?.dev ? { dev: nh.dev } : {}),
    };
    fibRouteDel(net, sel);
  } else if (r.v6) {
    ip6RouteDel(net, {
      dst: r.v6.dst,
      dstLen: r.v6.dstLen,
      table: r.v6.table,
      dev: r.v6.dev,
      protocol: r.protocol,
      ...(r.metric !== null ? { metric: r.metric } : {}),
      ...(r.v6.gateway !== null ? { gateway: r.v6.gateway } : {}),
    });
  }
}

/** iproute_list_flush_or_save (list and flush). */
function routeList(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  argv: string[],
  flush: boolean,
): number {
  const err = ctx.err;
  const args = new Args(argv, err);
  const f = newFilter();
  let family = opts.family === AF.PACKET ? 0 : opts.family;
  let od: string | null = null;
  if (flush && argv.length === 0) {
    err('"ip route flush" requires arguments.\n');
    return 1;
  }
  while (args.left > 0) {
    const a = args.cur;
    if (matches(a, "table")) {
      const v = args.next();
      const t = parseTable(v);
      if (t === null) {
        if (v === "cache") {
          // the IPv4 route cache is gone; nothing to list
          f.tb = -1;
        } else invarg(err, "table id value is invalid\n", v);
      } else f.tb = t;
    } else if (matches(a, "cached") || matches(a, "cloned")) {
      f.tb = -1;
    } else if (matches(a, "protocol")) {
      const v = args.next();
      const n = v === "all" ? null : parseProto(v);
      if (n === null && v !== "all") invarg(err, '"protocol" value is invalid\n', v);
      f.protocol = n;
    } else if (matches(a, "scope")) {
      const v = args.next();
      const s = scopeNumber(v);
      if (s === null && v !== "all") invarg(err, 'invalid "scope"\n', v);
      f.scope = s;
    } else if (matches(a, "type")) {
      const v = args.next();
      const t = parseType(v);
      if (t === null) invarg(err, "node type value is invalid\n", v);
      f.type = t;
    } else if (a === "dev" || a === "oif") od = args.next();
    else if (matches(a, "metric") || matches(a, "priority") || a === "preference") {
      const v = args.next();
      const m = getU32(v);
      if (m === null) invarg(err, '"metric" value is invalid\n', v);
      f.metric = m;
    } else if (a === "via") {
      const v = args.next();
      f.via = getPrefix(err, v, family);
    } else if (a === "src") {
      f.prefsrc = getPrefix(err, args.next(), family);
    } else if (matches(a, "root")) {
      f.rdst = getPrefix(err, args.next(), family);
    } else if (matches(a, "match")) {
      f.mdst = getPrefix(err, args.next(), family);
    } else {
      let v = a;
      if (matches(a, "exact") || a === "to") v = args.next();
      else if (matches(a, "help")) {
        err(ROUTE_USAGE);
        throw new IpExit(255);
      }
      const px = getPrefix(err, v, family);
      f.rdst = px;
      f.mdst = px;
    }
    args.shift();
  }
  for (const px of [f.rdst, f.mdst, f.via, f.prefsrc]) if (px && !family) family = px.family;
  if (od !== null) {
    const d = lookupDev(net, od);
    if (!d) {
      err(`Cannot find device "${od}"\n`);
      return 1;
    }
    f.oif = d;
  }
  if (family === 0 && f.tb !== 0) family = AF.INET;
  const families: (4 | 6)[] = family === AF.INET6 ? [6] : family === AF.INET ? [4] : [4, 6];
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: opts.oneline });
  if (!flush) p.start();
  for (const fam of families) {
    if (f.tb < 0) continue;
    for (const r of dumpRoutes(net, fam)) {
      if (!routeMatches(r, f)) continue;
      if (flush) {
        try {
          deleteDumped(net, r);
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
        }
      } else printRoute(p, r, opts, f);
    }
  }
  if (!flush) {
    p.end();
    ctx.out(p.take());
  }
  return 0;
}

type ModifyCmd = "add" | "del" | "replace" | "append" | "change" | "prepend";

/** The NLM_F_* flags each command sends. */
function nlFlags(cmd: ModifyCmd) {
  switch (cmd) {
    case "add":
      return { create: true, excl: true };
    case "replace":
      return { create: true, replace: true };
    case "change":
      return { replace: true };
    case "append":
      return { create: true, append: true };
    case "prepend":
      return { create: true };
    default:
      return {};
  }
}

const METRIC_KEYS = new Set(["mtu", "advmss", "hoplimit", "window", "reordering", "initcwnd", "initrwnd"]);

/** iproute_modify. */
function routeModify(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  cmd: ModifyCmd,
  argv: string[],
): number {
  const err = ctx.err;
  const args = new Args(argv, err);
  const del = cmd === "del";
  let family = opts.family === AF.PACKET ? 0 : opts.family;
  let dst: InetPrefix | null = null;
  let gw: InetPrefix | null = null;
  let src: InetPrefix | null = null;
  let devName: string | null = null;
  let table: number | null = null;
  let metric: number | null = null;
  let proto = del ? 0 : 3;
  let scope: number | null = null;
  let type = del ? 0 : 1;
  let onlink = false;
  let pref: number | null = null;
  let expires: number | null = null;
  const metrics: Record<string, number> = {};
  while (args.left > 0) {
    const a = args.cur;
    if (a === "src") {
      const v = args.next();
      src = getAddr(err, v, family);
      family ||= src.family;
    } else if (a === "via") {
      if (gw) invarg(err, "use nexthop syntax to specify multiple via\n", "via");
      let v = args.next();
      let fam = family;
      if (v === "inet" || v === "inet6") {
        fam = v === "inet" ? AF.INET : AF.INET6;
        v = args.next();
      }
      gw = getAddr(err, v, fam);
      family ||= gw.family;
    } else if (METRIC_KEYS.has(a)) {
      let v = args.next();
      if (v === "lock") v = args.next();
      const n = getU32(v);
      if (n === null) invarg(err, `"${a}" value is invalid\n`, v);
      metrics[a] = n;
    } else if (matches(a, "metric") || matches(a, "priority") || a === "preference") {
      const v = args.next();
      const m = getU32(v);
      if (m === null) invarg(err, '"metric" value is invalid\n', v);
      metric = m;
    } else if (matches(a, "scope")) {
      const v = args.next();
      const s = scopeNumber(v);
      if (s === null) invarg(err, 'invalid "scope" value\n', v);
      scope = s;
    } else if (a === "expires") {
      const v = args.next();
      const n = getU32(v);
      if (n === null) invarg(err, '"expires" value is invalid\n', v);
      expires = n;
    } else if (a === "onlink") onlink = true;
    else if (matches(a, "protocol")) {
      const v = args.next();
      const n = parseProto(v);
      if (n === null) invarg(err, '"protocol" value is invalid\n', v);
      proto = n;
    } else if (matches(a, "table")) {
      const v = args.next();
      const t = parseTable(v);
      if (t === null) invarg(err, '"table" value is invalid\n', v);
      table = t;
    } else if (a === "dev" || a === "oif") devName = args.next();
    else if (matches(a, "pref")) {
      const v = args.next();
      if (v === "low") pref = 3;
      else if (v === "medium") pref = 0;
      else if (v === "high") pref = 1;
      else invarg(err, '"pref" value is invalid\n', v);
    } else {
      let v = a;
      if (a === "to") v = args.next();
      if ((v[0]! < "0" || v[0]! > "9") && parseType(v) !== null) {
        type = parseType(v)!;
        v = args.next();
      }
      if (matches(v, "help")) {
        err(ROUTE_USAGE);
        throw new IpExit(255);
      }
      if (dst) duparg2(err, "to", v);
      dst = getPrefix(err, v, family);
      family ||= dst.family;
    }
    args.shift();
  }
  const isLocalType = type === 2 || type === 3 || type === 10 || type === 4;
  if (table === null && isLocalType) table = 255;
  if (scope === null) {
    if (family === AF.INET6) scope = 0;
    else if (type === 2 || type === 10) scope = 254;
    else if (type === 3 || type === 5 || type === 4) scope = 253;
    else if (type === 1 || type === 0) {
      if (del) scope = 255;
      else if (!gw) scope = 253;
      else scope = 0;
    } else scope = 0;
  }
  let dev: NetDevice | undefined;
  if (devName !== null) {
    const d = lookupDev(net, devName);
    if (!d) nodev(err, devName);
    dev = d;
  }
  if (family === 0) family = AF.INET;
  const v6 = family === AF.INET6;
  const dstLen = dst ? dst.bitlen : 0;
  try {
    requireStack(net, v6 ? 6 : 4);
    if (v6) {
      const base: Fib6Config = {
        dst: dst?.v6 ?? 0n,
        dstLen,
        table: table ?? 254,
        type,
        protocol: proto,
        ...(dev ? { dev } : {}),
        ...(gw ? { gateway: gw.v6 } : {}),
        ...(src ? { prefsrc: src.v6 } : {}),
        ...(metric !== null ? { metric } : {}),
        ...(pref !== null ? { pref } : {}),
        ...(expires !== null ? { expires } : {}),
        ...(onlink ? { onlink } : {}),
        ...(Object.keys(metrics).length ? { metrics } : {}),
        ...nlFlags(cmd),
      };
      if (del) ip6RouteDel(net, base);
      else ip6RouteAdd(net, base);
    } else if (del) {
      const sel: RouteSelector = {
        dst: dst?.v4 ?? 0,
        dstLen,
        table: table ?? 254,
        type: type as RouteType,
        scope,
        protocol: proto,
        ...(metric !== null ? { priority: metric } : {}),
        ...(src ? { prefsrc: src.v4 } : {}),
        ...(gw ? { gw: gw.v4 } : {}),
        ...(dev ? { dev } : {}),
      };
      fibRouteDel(net, sel);
    } else {
      const req: RouteRequest = {
        dst: dst?.v4 ?? 0,
        dstLen,
        table: table ?? 254,
        type: type as RouteType,
        scope,
        protocol: proto,
        ...(metric !== null ? { priority: metric } : {}),
        ...(src ? { prefsrc: src.v4 } : {}),
        ...(gw ? { gw: gw.v4 } : {}),
        ...(dev ? { dev } : {}),
        ...(onlink ? { onlink } : {}),
        ...(Object.keys(metrics).length ? { metrics } : {}),
      };
      fibRouteAdd(net, req, nlFlags(cmd));
    }
  } catch (e) {
    if (e instanceof KernelError) return reportKernelError(ctx, e);
    throw e;
  }
  return 0;
}

/** do_iproute. */
export function doIproute(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  if (argv.length === 0) return routeList(ctx, opts, net, [], false);
  const [cmd, ...rest] = argv as [string, ...string[]];
  if (matches(cmd, "add")) return routeModify(ctx, opts, net, "add", rest);
  if (matches(cmd, "change") || cmd === "chg") return routeModify(ctx, opts, net, "change", rest);
  if (matches(cmd, "replace")) return routeModify(ctx, opts, net, "replace", rest);
  if (matches(cmd, "prepend")) return routeModify(ctx, opts, net, "prepend", rest);
  if (matches(cmd, "append")) return routeModify(ctx, opts, net, "append", rest);
  if (matches(cmd, "delete")) return routeModify(ctx, opts, net, "del", rest);
  if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst"))
    return routeList(ctx, opts, net, rest, false);
  if (matches(cmd, "flush")) return routeList(ctx, opts, net, rest, true);
  if (matches(cmd, "get")) return routeGet(ctx, opts, net, rest);
  if (matches(cmd, "help")) {
    ctx.err(ROUTE_USAGE);
    throw new IpExit(255);
  }
  ctx.err(`Command "${cmd}" is unknown, try "ip route help".\n`);
  throw new IpExit(255);
}
