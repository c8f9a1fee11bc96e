/** `ip route show|add|del|replace|flush` (ip/iproute.c) over the kernel's FIBs, both families. */
import { KernelError, type NetDevice, type NetNamespace } from "../kernel/index.ts";
import { ROUTE_USAGE } from "./help-texts.ts";
import { getAddr, getPrefix, type InetPrefix } from "./inet-prefix.ts";
import { scopeName, scopeNumber } from "./ipaddress.ts";
import { Printer } from "./json-print.ts";
import { AF, type IpOptions } from "./options.ts";
import { reportKernelError } from "./rtnl-errors.ts";
import { stackCall, stackHas, v4Text, v6Text } from "./stacks.ts";
import {
  Args,
  duparg,
  getU32,
  invarg,
  IpExit,
  type IpToolContext,
  lookupDev,
  matches,
  nodev,
} from "./utils.ts";

const RTN_NAMES = [
  "unspec",
  "unicast",
  "local",
  "broadcast",
  "anycast",
  "multicast",
  "blackhole",
  "unreachable",
  "prohibit",
  "throw",
  "nat",
  "xresolve",
];
const PROTO_NAMES: Readonly<Record<number, string>> = {
  0: "unspec",
  1: "redirect",
  2: "kernel",
  3: "boot",
  4: "static",
  9: "ra",
  16: "dhcp",
};
const TABLE_NAMES: Readonly<Record<number, string>> = { 253: "default", 254: "main", 255: "local" };
const PREF_NAMES: Readonly<Record<number, string>> = { 0: "medium", 1: "high", 3: "low" };
const RTNH_FLAGS: readonly [number, string][] = [
  [1, "dead"],
  [4, "onlink"],
  [2, "pervasive"],
  [8, "offload"],
  [16, "linkdown"],
];

/** One route as RTM_GETROUTE reports it. */
interface RouteMsg {
  family: 4 | 6;
  table: number;
  dst: string;
  dstLen: number;
  type: number;
  protocol: number;
  scope: number;
  gateway: string | null;
  dev: NetDevice | null;
  prefsrc: string | null;
  metric: number | null;
  flags: number;
  pref: number | null;
  metrics: Readonly<Record<string, number>>;
}

interface V4Route {
  table: number;
  dst: number;
  dstLen: number;
  type: number;
  scope: number;
  protocol: number;
  priority: number;
  prefsrc: number;
  nexthops: readonly { gw: number; dev: NetDevice | null; flags: number }[];
  metrics: Readonly<Record<string, number>>;
}

interface V6Route {
  table: number;
  dst: bigint;
  dstLen: number;
  type: number;
  protocol: number;
  metric: number;
  dev: NetDevice;
  gateway: bigint | null;
  prefsrc: bigint | null;
  pref: number;
  nhFlags: number;
  flags: number;
  metrics: Readonly<Record<string, number>>;
}

function dumpRoutes(net: NetNamespace, family: 4 | 6): RouteMsg[] {
  if (family === 4) {
    const list =
      stackCall<readonly V4Route[]>("ipv4RouteDump", net) ??
      stackCall<readonly V4Route[]>("fibDump", net) ??
      [];
    return list.map((r) => {
      const nh = r.nexthops[0];
      return {
        family: 4,
        table: r.table,
        dst: v4Text(r.dst),
        dstLen: r.dstLen,
        type: r.type,
        protocol: r.protocol,
        scope: r.scope,
        gateway: nh?.gw ? v4Text(nh.gw) : null,
        dev: nh?.dev ?? null,
        prefsrc: r.prefsrc ? v4Text(r.prefsrc) : null,
        metric: r.priority ? r.priority : null,
        flags: nh?.flags ?? 0,
        pref: null,
        metrics: r.metrics,
      };
    });
  }
  const list = stackCall<readonly V6Route[]>("ip6RouteDump", net) ?? [];
  return list.map((r) => ({
    family: 6,
    table: r.table,
    dst: v6Text(r.dst),
    dstLen: r.dstLen,
    type: r.type,
    protocol: r.protocol,
    scope: 0,
    gateway: r.gateway !== null ? v6Text(r.gateway) : null,
    dev: r.dev,
    prefsrc: r.prefsrc !== null ? v6Text(r.prefsrc) : null,
    metric: r.metric,
    flags: r.nhFlags,
    pref: r.pref,
    metrics: r.metrics,
  }));
}

/** print_route. */
function printRoute(p: Printer, r: RouteMsg, o: IpOptions, showTable: boolean): void {
  p.openObject(null);
  if (r.type !== 1 || o.details > 0) p.string("any", "type", "%s ", RTN_NAMES[r.type] ?? String(r.type));
  const host = r.family === 4 ? 32 : 128;
  if (r.dstLen === 0 && (r.dst === "0.0.0.0" || r.dst === "::")) p.string("any", "dst", "%s ", "default");
  else p.string("any", "dst", "%s ", r.dstLen !== host ? `${r.dst}/${r.dstLen}` : r.dst);
  if (r.gateway !== null) p.string("any", "gateway", "via %s ", r.gateway);
  if (r.dev) p.string("any", "dev", "dev %s ", r.dev.name);
  if (showTable && (r.table !== 254 || o.details > 0))
    p.string("any", "table", "table %s ", TABLE_NAMES[r.table] ?? String(r.table));
  if (r.protocol !== 3 || o.details > 0)
    p.string("any", "protocol", "proto %s ", PROTO_NAMES[r.protocol] ?? String(r.protocol));
  if (r.scope !== 0 || o.details > 0) p.string("any", "scope", "scope %s ", scopeName(r.scope));
  if (r.prefsrc !== null) {
    p.fp("src ");
    p.string("any", "prefsrc", "%s ", r.prefsrc);
  }
  if (r.metric !== null) p.number("any", "metric", "metric %u ", r.metric);
  p.openArray("json", "flags");
  for (const [bit, name] of RTNH_FLAGS) if (r.flags & bit) p.string("any", null, "%s ", name);
  p.closeArray("json", null);
  for (const [k, v] of Object.entries(r.metrics)) p.number("any", k, `${k} %u `, v);
  if (r.pref !== null) p.string("any", "pref", "pref %s ", PREF_NAMES[r.pref] ?? String(r.pref));
  p.fp("\n");
  p.closeObject();
}

function parseTable(err: (s: string) => void, v: string): number {
  if (v === "main") return 254;
  if (v === "local") return 255;
  if (v === "default") return 253;
  if (v === "all") return 0;
  const n = getU32(v);
  if (n === null) invarg(err, '"table" value is invalid\n', v);
  return n;
}

function routeList(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  argv: string[],
  flush: boolean,
): number {
  const args = new Args(argv, ctx.err);
  let table = 254;
  let dev: NetDevice | null = null;
  let proto: number | null = null;
  let scope: number | null = null;
  while (args.left > 0) {
    const a = args.cur;
    if (matches(a, "table")) table = parseTable(ctx.err, args.next());
    else if (a === "dev" || a === "oif") {
      const v = args.next();
      const d = lookupDev(net, v);
      if (!d) nodev(ctx.err, v);
      dev = d;
    } else if (matches(a, "protocol")) {
      const v = args.next();
      const e = Object.entries(PROTO_NAMES).find(([, n]) => n === v);
      proto = e ? Number(e[0]) : Number(v);
    } else if (a === "scope") scope = scopeNumber(args.next());
    args.shift();
  }
  const families: (4 | 6)[] =
    opts.family === AF.INET6
      ? [6]
      : opts.family === AF.INET || table !== 0
        ? [opts.family === AF.INET6 ? 6 : 4]
        : [4, 6];
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: opts.oneline });
  if (!flush) p.start();
  for (const fam of families) {
    for (const r of dumpRoutes(net, fam)) {
      if (table !== 0 && r.table !== table) continue;
      if (dev && r.dev !== dev) continue;
      if (proto !== null && r.protocol !== proto) continue;
      if (scope !== null && r.scope !== scope) continue;
      if (flush) {
        try {
          stackCall(fam === 4 ? "ipv4RouteDel" : "ip6RouteDel", net, r);
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
        }
      } else printRoute(p, r, opts, table !== 254);
    }
  }
  if (!flush) {
    p.end();
    ctx.out(p.take());
  }
  return 0;
}

/** iproute_modify. */
function routeModify(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  cmd: "add" | "del" | "replace" | "append" | "change",
  argv: string[],
): number {
  const err = ctx.err;
  const args = new Args(argv, err);
  let family = opts.family === AF.PACKET ? 0 : opts.family;
  let dst: InetPrefix | null = null;
  let gw: InetPrefix | null = null;
  let src: InetPrefix | null = null;
  let dev: NetDevice | null = null;
  let table: number | null = null;
  let metric: number | null = null;
  let proto = 3;
  let scope: number | null = null;
  let type = 1;
  let onlink = false;
  while (args.left > 0) {
    const a = args.cur;
    if (a === "via") {
      const v = args.next();
      if (gw) duparg(err, "via", v);
      gw = getAddr(err, v, family);
      family ||= gw.family;
    } else if (a === "src") {
      src = getAddr(err, args.next(), family);
    } else if (a === "dev" || a === "oif") {
      const v = args.next();
      const d = lookupDev(net, v);
      if (!d) nodev(err, v);
      dev = d;
    } else if (matches(a, "table")) table = parseTable(err, args.next());
    else if (matches(a, "metric") || matches(a, "priority") || a === "preference") {
      const v = args.next();
      const m = getU32(v);
      if (m === null) invarg(err, '"metric" value is invalid\n', v);
      metric = m;
    } else if (matches(a, "protocol")) {
      const v = args.next();
      const e = Object.entries(PROTO_NAMES).find(([, n]) => n === v);
      const n = e ? Number(e[0]) : getU32(v);
      if (n === null || n > 255) invarg(err, '"protocol" value is invalid\n', v);
      proto = n;
    } else if (matches(a, "scope")) {
      const v = args.next();
      const s = scopeNumber(v);
      if (s === null) invarg(err, '"scope" value is invalid\n', v);
      scope = s;
    } else if (a === "onlink") onlink = true;
    else if (matches(a, "help")) {
      err(ROUTE_USAGE);
      throw new IpExit(255);
    } else {
      let v = a;
      if (a === "to") v = args.next();
      const t = RTN_NAMES.indexOf(v);
      if (t > 0 && args.nextOk()) {
        type = t;
        v = args.next();
      }
      if (dst) duparg(err, "to", v);
      if (v === "default" || v === "all" || v === "any") {
        dst = { family: family === AF.INET6 ? AF.INET6 : AF.INET, v4: 0, v6: 0n, bitlen: 0, lenGiven: true };
      } else {
        dst = getPrefix(err, v, family);
        family ||= dst.family;
      }
    }
    args.shift();
  }
  if (!dst) {
    err('Not enough information: "to" argument is required.\n');
    return 1;
  }
  if (family === 0) family = dst.family;
  if (scope === null) {
    if (family === AF.INET6) scope = 0;
    else if (type === 2 || type === 10) scope = 254;
    else if (type === 3 || type === 5 || type === 4) scope = 253;
    else if (cmd === "del") scope = 255;
    else scope = gw ? 0 : 253;
  }
  if (table === null) table = type === 2 || type === 3 || type === 4 ? 255 : 254;
  const v6 = family === AF.INET6;
  const fnName = v6
    ? cmd === "del"
      ? "ip6RouteDel"
      : "ip6RouteAdd"
    : cmd === "del"
      ? "ipv4RouteDel"
      : "ipv4RouteAdd";
  if (!stackHas(fnName)) {
    err(`ipvl: ip route: ${v6 ? "IPv6" : "IPv4"} routes are not available in this kernel\n`);
    return 2;
  }
  const req: Record<string, unknown> = v6
    ? { dst: dst.v6, dstLen: dst.bitlen, table, type, protocol: proto, onlink }
    : { dst: dst.v4, dstLen: dst.bitlen, table, type, protocol: proto, scope, onlink };
  if (gw) req[v6 ? "gateway" : "gw"] = v6 ? gw.v6 : gw.v4;
  if (dev) req.dev = dev;
  if (src) req.prefsrc = v6 ? src.v6 : src.v4;
  if (metric !== null) req[v6 ? "metric" : "priority"] = metric;
  req.create = cmd !== "del" && cmd !== "change";
  req.excl = cmd === "add";
  req.replace = cmd === "replace" || cmd === "change";
  req.append = cmd === "append";
  try {
    stackCall(fnName, net, req);
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
  if (matches(cmd, "prepend")) return routeModify(ctx, opts, net, "replace", rest);
  if (matches(cmd, "append")) return routeModify(ctx, opts, net, "append", rest);
  if (matches(cmd, "delete")) return routeModify(ctx, opts, net, "del", rest);
  if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst"))
    return routeList(ctx, opts, net, rest, false);
  if (matches(cmd, "flush")) return routeList(ctx, opts, net, rest, true);
  if (matches(cmd, "get")) {
    ctx.err("ipvl: ip route get: not simulated\n");
    return 1;
  }
  if (matches(cmd, "help")) {
    ctx.err(ROUTE_USAGE);
    throw new IpExit(255);
  }
  ctx.err(`Command "${cmd}" is unknown, try "ip route help".\n`);
  throw new IpExit(255);
}
