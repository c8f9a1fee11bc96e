/**
 * The IPv4 FIB (net/ipv4/fib_frontend.c, fib_semantics.c, fib_trie.c): route add/delete with
 * Linux's checks and errors, policy lookup (fib_lookup) and address typing (inet_addr_type).
 * The kernel's own routes for addresses and device state live in fib-ifaddr.ts.
 */
import { type ErrnoName, fail } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { inDevGet, inetSelectAddr } from "./devinet.ts";
import { FIB_LOOKUP, type FibResult, FibTable, fibTablesLookup, rejectError } from "./fib-table.ts";
import { isLbcast, isMulticast, isZeronet, maskOf } from "./hdr.ts";
import { type Ipv4Net, ipv4Net } from "./state.ts";
import {
  type FibNh,
  type FibRoute,
  type Flowi4,
  type RouteRequest,
  type RouteSelector,
  RT_SCOPE,
  RT_TABLE,
  RTN,
  RTNH_F,
  RTPROT,
} from "./types.ts";

export type { FibResult } from "./fib-table.ts";

/** Netlink flags of route requests: add = create|excl, replace = create|replace, change = replace, append = create|append, prepend = create. */
export interface RouteNlFlags {
  readonly create?: boolean;
  readonly excl?: boolean;
  readonly replace?: boolean;
  readonly append?: boolean;
}

/** The minimum scope each route type allows (fib_props[].scope). */
const TYPE_SCOPE: Readonly<Record<number, number>> = {
  [RTN.UNSPEC]: RT_SCOPE.NOWHERE,
  [RTN.UNICAST]: RT_SCOPE.UNIVERSE,
  [RTN.LOCAL]: RT_SCOPE.HOST,
  [RTN.BROADCAST]: RT_SCOPE.LINK,
  [RTN.ANYCAST]: RT_SCOPE.LINK,
  [RTN.MULTICAST]: RT_SCOPE.UNIVERSE,
  [RTN.BLACKHOLE]: RT_SCOPE.UNIVERSE,
  [RTN.UNREACHABLE]: RT_SCOPE.UNIVERSE,
  [RTN.PROHIBIT]: RT_SCOPE.UNIVERSE,
  [RTN.THROW]: RT_SCOPE.UNIVERSE,
  [RTN.NAT]: RT_SCOPE.NOWHERE,
  [RTN.XRESOLVE]: RT_SCOPE.NOWHERE,
};

/** The default policy rules (fib_default_rules_init). */
export const DEFAULT_RULES = [
  { priority: 0, table: RT_TABLE.LOCAL },
  { priority: 32766, table: RT_TABLE.MAIN },
  { priority: 32767, table: RT_TABLE.DEFAULT },
] as const;

let tableSeq = 0;

/** fib_get_table. */
export function fibGetTable(net: NetNamespace, id: number): FibTable | undefined {
  return ipv4Net(net).tables.get(id === 0 ? RT_TABLE.MAIN : id);
}

/** fib_new_table: the table, created if missing. */
export function fibNewTable(net: NetNamespace, id: number): FibTable {
  const tid = id === 0 ? RT_TABLE.MAIN : id;
  const tables = ipv4Net(net).tables;
  let t = tables.get(tid);
  if (!t) {
    t = new FibTable(tid, tableSeq++);
    tables.set(tid, t);
  }
  return t;
}

/** Tables in the order a dump of "all" walks them (fib_table_hash buckets by id & 255, newest first). */
export function fibTablesInDumpOrder(net: NetNamespace): FibTable[] {
  return [...ipv4Net(net).tables.values()].sort((a, b) => (a.id & 255) - (b.id & 255) || b.seq - a.seq);
}

/** Routes of one table (or of all tables) in dump order. */
export function fibRoutes(net: NetNamespace, table?: number): FibRoute[] {
  if (table !== undefined) return fibGetTable(net, table)?.routes() ?? [];
  return fibTablesInDumpOrder(net).flatMap((t) => t.routes());
}

/** Tells route listeners (rtnetlink) about a change. */
export function fibNotify(net: NetNamespace, event: "NEW" | "DEL", route: FibRoute): void {
  for (const l of ipv4Net(net).routeListeners) l(event, route);
}

function hasDefaultRules(ipv4: Ipv4Net): boolean {
  const r = ipv4.rules;
  return (
    r.length === DEFAULT_RULES.length &&
    r.every((x, i) => x.priority === DEFAULT_RULES[i].priority && x.table === DEFAULT_RULES[i].table)
  );
}

/**
 * fib_lookup: with the default rules, local and main are one trie (Linux merges them), then
 * the default table; with other rules, each rule's table in order (THROW moves on). Returns the
 * result or the errno (ENETUNREACH when nothing matches).
 */
export function fibLookup(net: NetNamespace, flow: Flowi4, flags = 0): FibResult | ErrnoName {
  const ipv4 = ipv4Net(net);
  const tablesOf = (ids: readonly number[]) =>
    ids.map((id) => ipv4.tables.get(id)).filter((t) => t !== undefined);
  const steps: FibTable[][] = hasDefaultRules(ipv4)
    ? [tablesOf([RT_TABLE.LOCAL, RT_TABLE.MAIN]), tablesOf([RT_TABLE.DEFAULT])]
    : ipv4.rules.map((r) => tablesOf([r.table]));
  for (const tables of steps) {
    if (tables.length === 0) continue;
    const r = fibTablesLookup(tables, flow, flags);
    if (r === null || r === "EAGAIN") continue;
    return r;
  }
  return "ENETUNREACH";
}

/** The tables inet_addr_type consults (the local table; merged with main under default rules). */
function localTables(ipv4: Ipv4Net): FibTable[] {
  const ids = hasDefaultRules(ipv4) ? [RT_TABLE.LOCAL, RT_TABLE.MAIN] : [RT_TABLE.LOCAL];
  return ids.map((id) => ipv4.tables.get(id)).filter((t) => t !== undefined);
}

/**
 * inet_addr_type_dev_table / inet_addr_type: BROADCAST for 0/8 and 255.255.255.255, MULTICAST
 * for 224/4, else the type of the local-table route covering it (restricted to dev's nexthops
 * when dev is given), else UNICAST.
 */
export function inetAddrType(net: NetNamespace, addr: number, dev: NetDevice | null = null): number {
  const a = addr >>> 0;
  if (isZeronet(a) || isLbcast(a)) return RTN.BROADCAST;
  if (isMulticast(a)) return RTN.MULTICAST;
  const r = fibTablesLookup(localTables(ipv4Net(net)), { daddr: a, saddr: 0 }, FIB_LOOKUP.IGNORE_LINKSTATE);
  if (r === null || typeof r === "string") return RTN.UNICAST;
  if (!dev || r.nh?.dev === dev) return r.type;
  return RTN.UNICAST;
}

/** Whether `addr` is a local address of the namespace (inet_addr_type == RTN_LOCAL). */
export function isLocalAddr(net: NetNamespace, addr: number): boolean {
  return inetAddrType(net, addr) === RTN.LOCAL;
}

/**
 * fib_result_prefsrc: the route's prefsrc, else the address inet_select_addr picks on the
 * nexthop device toward the gateway at the route's scope.
 */
export function fibResultPrefsrc(res: FibResult): number {
  if (res.route.prefsrc) return res.route.prefsrc;
  const nh = res.nh;
  if (!nh?.dev) return 0;
  return inetSelectAddr(nh.dev, nh.gw, res.route.scope);
}

interface NhSpec {
  readonly gw: number;
  readonly dev: NetDevice | null;
  readonly weight: number;
  readonly onlink: boolean;
}

/** fib_check_nh: resolves a nexthop's device and scope, with Linux's errors. */
function checkNh(net: NetNamespace, spec: NhSpec, table: number, scope: number): FibNh {
  const { gw, dev } = spec;
  if (gw) {
    if (spec.onlink) {
      if (scope >= RT_SCOPE.LINK) fail("EINVAL", "Nexthop has invalid scope");
      if (!dev) fail("ENODEV", "Nexthop device required for onlink");
      if (!dev.isUp) fail("ENETDOWN", "Nexthop device is not up");
      if (inetAddrType(net, gw, dev) !== RTN.UNICAST) fail("EINVAL", "Nexthop has invalid gateway");
      return {
        gw,
        dev,
        flags: RTNH_F.ONLINK | (dev.carrier ? 0 : RTNH_F.LINKDOWN),
        scope: RT_SCOPE.LINK,
        weight: spec.weight,
      };
    }
    const flow: Flowi4 = {
      daddr: gw,
      saddr: 0,
      scope: Math.max(scope + 1, RT_SCOPE.LINK),
      ...(dev ? { oif: dev.ifindex } : {}),
    };
    let res: FibResult | ErrnoName | null = null;
    const tbl = table && table !== RT_TABLE.MAIN ? fibGetTable(net, table) : undefined;
    if (tbl) res = fibTablesLookup([tbl], flow, FIB_LOOKUP.IGNORE_LINKSTATE);
    if (!tbl || res === null || typeof res === "string")
      res = fibLookup(net, flow, FIB_LOOKUP.IGNORE_LINKSTATE);
    if (typeof res === "string" || res === null) fail(res ?? "ENETUNREACH", "Nexthop has invalid gateway");
    if (res.type !== RTN.UNICAST && res.type !== RTN.LOCAL) fail("EINVAL", "Nexthop has invalid gateway");
    const ndev = res.nh?.dev ?? null;
    if (!ndev) fail("EINVAL", "No egress device for nexthop gateway");
    if (!ndev.isUp) fail("ENETDOWN");
    return {
      gw,
      dev: ndev,
      flags: ndev.carrier ? 0 : RTNH_F.LINKDOWN,
      scope: res.scope,
      weight: spec.weight,
    };
  }
  if (spec.onlink) fail("EINVAL", "Invalid flags for nexthop - PERVASIVE and ONLINK can not be set");
  if (!dev || !inDevGet(dev)) fail("ENODEV");
  if (!dev.isUp) fail("ENETDOWN", "Device for nexthop is not up");
  return { gw: 0, dev, flags: dev.carrier ? 0 : RTNH_F.LINKDOWN, scope: RT_SCOPE.HOST, weight: spec.weight };
}

/** fib_valid_prefsrc. */
function validPrefsrc(net: NetNamespace, req: RouteRequest, table: number, prefsrc: number): boolean {
  const type = req.type ?? RTN.UNICAST;
  if (type === RTN.LOCAL && req.dst && prefsrc === req.dst) return true;
  const ipv4 = ipv4Net(net);
  const tb = table === RT_TABLE.MAIN ? RT_TABLE.LOCAL : table;
  const typeIn = (id: number) => {
    const t = ipv4.tables.get(id);
    if (!t) return RTN.UNICAST;
    const r = fibTablesLookup([t], { daddr: prefsrc, saddr: 0 }, FIB_LOOKUP.IGNORE_LINKSTATE);
    return r === null || typeof r === "string" ? RTN.UNICAST : r.type;
  };
  let rc = typeIn(tb);
  if (rc !== RTN.LOCAL && tb !== RT_TABLE.LOCAL) rc = typeIn(RT_TABLE.LOCAL);
  return rc === RTN.LOCAL;
}

/** The scope iproute2 would send when the request leaves it out. */
function defaultScope(req: RouteRequest, type: number): number {
  if (type === RTN.LOCAL || type === RTN.NAT) return RT_SCOPE.HOST;
  if (type === RTN.BROADCAST || type === RTN.MULTICAST || type === RTN.ANYCAST) return RT_SCOPE.LINK;
  if ((type === RTN.UNICAST || type === RTN.UNSPEC) && !req.gw && !req.multipath) return RT_SCOPE.LINK;
  return RT_SCOPE.UNIVERSE;
}

/** fib_create_info: validates a request and builds the route (not yet inserted). */
function createInfo(net: NetNamespace, req: RouteRequest, table: number): FibRoute {
  const type = req.type ?? RTN.UNICAST;
  const scope = req.scope ?? defaultScope(req, type);
  if (type > RTN.XRESOLVE) fail("EINVAL", "Invalid route type");
  if ((TYPE_SCOPE[type] ?? RT_SCOPE.NOWHERE) > scope) fail("EINVAL", "Invalid scope");
  const base = {
    table,
    dst: req.dst >>> 0,
    dstLen: req.dstLen,
    tos: req.tos ?? 0,
    type,
    scope,
    protocol: req.protocol ?? RTPROT.BOOT,
    priority: req.priority ?? 0,
    prefsrc: (req.prefsrc ?? 0) >>> 0,
    metrics: req.metrics ?? {},
    flags: 0,
  };
  if (rejectError(type)) {
    if (req.gw || req.dev || req.multipath) {
      fail("EINVAL", "Gateway, device and multipath can not be specified for this route type");
    }
    return { ...base, nexthops: [] };
  }
  if (
    type !== RTN.UNICAST &&
    type !== RTN.LOCAL &&
    type !== RTN.BROADCAST &&
    type !== RTN.ANYCAST &&
    type !== RTN.MULTICAST
  ) {
    fail("EINVAL", "Invalid route type");
  }
  if (scope > RT_SCOPE.HOST) fail("EINVAL", "Invalid scope");
  const specs: NhSpec[] = req.multipath
    ? req.multipath.map((m) => ({
        gw: (m.gw ?? 0) >>> 0,
        dev: m.dev ?? null,
        weight: m.weight ?? 1,
        onlink: req.onlink ?? false,
      }))
    : [{ gw: (req.gw ?? 0) >>> 0, dev: req.dev ?? null, weight: 1, onlink: req.onlink ?? false }];
  let nexthops: FibNh[];
  if (scope === RT_SCOPE.HOST) {
    if (specs.length !== 1) fail("EINVAL", "Route with host scope can not have multiple nexthops");
    if (specs[0].gw) fail("EINVAL", "Route with host scope can not have a gateway");
    const dev = specs[0].dev;
    if (!dev) fail("ENODEV");
    nexthops = [{ gw: 0, dev, flags: 0, scope: RT_SCOPE.NOWHERE, weight: 1 }];
  } else {
    nexthops = specs.map((s) => checkNh(net, s, table, scope));
  }
  if (base.prefsrc && !validPrefsrc(net, req, table, base.prefsrc)) fail("EINVAL", "Invalid prefsrc address");
  const route: FibRoute = { ...base, nexthops };
  if (nexthops.every((n) => n.flags & RTNH_F.LINKDOWN)) route.flags |= RTNH_F.LINKDOWN;
  return route;
}

/** Whether two routes carry the same fib_info (what fib_find_info dedupes). */
function sameInfo(a: FibRoute, b: FibRoute): boolean {
  if (
    a.protocol !== b.protocol ||
    a.scope !== b.scope ||
    a.priority !== b.priority ||
    a.prefsrc !== b.prefsrc ||
    a.nexthops.length !== b.nexthops.length
  ) {
    return false;
  }
  if (JSON.stringify(a.metrics) !== JSON.stringify(b.metrics)) return false;
  return a.nexthops.every((n, i) => {
    const m = b.nexthops[i];
    return (
      n.gw === m.gw &&
      n.dev === m.dev &&
      n.weight === m.weight &&
      (n.flags & RTNH_F.ONLINK) === (m.flags & RTNH_F.ONLINK)
    );
  });
}

/** fib_find_alias: the first alias of the prefix with TOS ≤ tos and, at equal TOS, metric ≥ prio. */
function findAlias(list: readonly FibRoute[], tos: number, prio: number): FibRoute | null {
  for (const fa of list) {
    if (fa.tos > tos) continue;
    if (fa.priority >= prio || fa.tos < tos) return fa;
  }
  return null;
}

/** fib_table_insert: placement and the EEXIST/ENOENT rules of create/excl/replace/append. */
export function fibTableInsert(net: NetNamespace, tb: FibTable, route: FibRoute, nl: RouteNlFlags): FibRoute {
  const list = tb.aliases(route.dst, route.dstLen);
  let fa = findAlias(list, route.tos, route.priority);
  if (fa && fa.tos === route.tos && fa.priority === route.priority) {
    if (nl.excl) fail("EEXIST");
    const first = fa;
    let match: FibRoute | null = null;
    let i = list.indexOf(fa);
    for (; i < list.length; i++) {
      const x = list[i];
      if (x.tos !== route.tos || x.priority !== route.priority) break;
      if (x.type === route.type && sameInfo(x, route)) {
        match = x;
        break;
      }
    }
    if (nl.replace) {
      if (match) {
        if (match === first) return match;
        fail("EEXIST");
      }
      tb.replace(first, route);
      fibNotify(net, "DEL", first);
      fibNotify(net, "NEW", route);
      return route;
    }
    if (match) fail("EEXIST");
    if (nl.append) fa = i < list.length ? list[i] : null;
    else fa = first;
  }
  if (!nl.create) fail("ENOENT");
  tb.insert(route, fa);
  fibNotify(net, "NEW", route);
  return route;
}

/**
 * inet_rtm_newroute: `ip route add|replace|change|append|prepend`. Throws KernelError with
 * Linux's errno and extack ("Nexthop has invalid gateway", "Invalid prefsrc address", ...).
 */
export function fibRouteAdd(
  net: NetNamespace,
  req: RouteRequest,
  nl: RouteNlFlags = { create: true, excl: true },
): FibRoute {
  if (req.dstLen < 0 || req.dstLen > 32) fail("EINVAL", "Invalid prefix length");
  if (((req.dst >>> 0) & ~maskOf(req.dstLen)) >>> 0 !== 0)
    fail("EINVAL", "Invalid prefix for given prefix length");
  const tableId = req.table ?? RT_TABLE.MAIN;
  const route = createInfo(net, req, tableId === 0 ? RT_TABLE.MAIN : tableId);
  const exists = fibGetTable(net, route.table);
  if (!exists && !nl.create) fail("ENOENT");
  return fibTableInsert(net, fibNewTable(net, route.table), route, nl);
}

/** fib_nh_match + the alias filters of fib_table_delete. */
function deleteMatches(fa: FibRoute, sel: RouteSelector): boolean {
  if (sel.type !== undefined && sel.type !== 0 && fa.type !== sel.type) return false;
  if (sel.scope !== undefined && sel.scope !== RT_SCOPE.NOWHERE && fa.scope !== sel.scope) return false;
  if (sel.prefsrc && fa.prefsrc !== sel.prefsrc >>> 0) return false;
  if (sel.protocol && fa.protocol !== sel.protocol) return false;
  if (sel.priority && fa.priority !== sel.priority) return false;
  if (sel.dev || sel.gw) {
    const nh = fa.nexthops[0];
    if (!nh) return false;
    if (sel.dev && nh.dev !== sel.dev) return false;
    if (sel.gw && nh.gw !== sel.gw >>> 0) return false;
  }
  return true;
}

/** inet_rtm_delroute / fib_table_delete: ESRCH when no route matches (or the table is missing). */
export function fibRouteDel(net: NetNamespace, sel: RouteSelector): FibRoute {
  if (((sel.dst >>> 0) & ~maskOf(sel.dstLen)) >>> 0 !== 0)
    fail("EINVAL", "Invalid prefix for given prefix length");
  const tb = fibGetTable(net, sel.table ?? RT_TABLE.MAIN);
  if (!tb) fail("ESRCH", "FIB table does not exist");
  const list = tb.aliases(sel.dst >>> 0, sel.dstLen);
  const tos = sel.tos ?? 0;
  const start = findAlias(list, tos, 0);
  if (!start) fail("ESRCH");
  for (let i = list.indexOf(start); i < list.length; i++) {
    const fa = list[i];
    if (fa.tos !== tos) break;
    if (deleteMatches(fa, sel)) {
      tb.remove(fa);
      fibNotify(net, "DEL", fa);
      return fa;
    }
  }
  fail("ESRCH");
}

/** `ip route flush` helper: deletes every route of a table matching a filter. */
export function fibRouteFlush(
  net: NetNamespace,
  table: number,
  keep: (r: FibRoute) => boolean = () => false,
): number {
  const tb = fibGetTable(net, table);
  if (!tb) return 0;
  let n = 0;
  for (const r of tb.routes()) {
    if (keep(r)) continue;
    tb.remove(r);
    fibNotify(net, "DEL", r);
    n++;
  }
  return n;
}
