/**
 * The IPv6 FIB (net/ipv6/ip6_fib.c): tables of routes kept in the order a walk of Linux's radix
 * tree dumps them (post-order: more specific prefixes first, 0-branches before 1-branches,
 * the default route last; routes of one prefix by metric), insertion with Linux's
 * NLM_F_EXCL/REPLACE/APPEND rules, deletion, and the route selection of fib6_table_lookup.
 */
import { type Ipv6Addr, ipv6InPrefix, ipv6Mask } from "../../wire/index.ts";
import { fail } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { NUD } from "../neigh/types.ts";
import { confInt } from "./sysctl.ts";
import { ipv6Net } from "./state.ts";
import { type Fib6Route, ICMPV6_ROUTER_PREF, type NlFlags, RT_TABLE, RTF, RTN, RTNH_F } from "./types.ts";

/** Fields a new route is built from (defaults: main table, unicast, kernel protocol, no gateway). */
export interface Fib6RouteInit {
  readonly table?: number;
  readonly dst: Ipv6Addr;
  readonly dstLen: number;
  readonly src?: Ipv6Addr;
  readonly srcLen?: number;
  readonly type?: number;
  readonly protocol: number;
  readonly metric: number;
  readonly dev: NetDevice;
  readonly gateway?: Ipv6Addr | null;
  readonly prefsrc?: Ipv6Addr | null;
  readonly pref?: number;
  readonly expires?: bigint | null;
  readonly flags?: number;
  readonly nhFlags?: number;
  readonly metrics?: Readonly<Record<string, number>>;
}

/** Builds a route object (fib6_info_alloc + fib6_nh_init, without validation). */
export function newFib6Route(init: Fib6RouteInit): Fib6Route {
  const dstLen = init.dstLen;
  const srcLen = init.srcLen ?? 0;
  return {
    table: init.table ?? RT_TABLE.MAIN,
    dst: init.dst & ipv6Mask(dstLen),
    dstLen,
    src: (init.src ?? 0n) & ipv6Mask(srcLen),
    srcLen,
    type: init.type ?? RTN.UNICAST,
    protocol: init.protocol,
    metric: init.metric,
    dev: init.dev,
    gateway: init.gateway ?? null,
    prefsrc: init.prefsrc ?? null,
    pref: init.pref ?? ICMPV6_ROUTER_PREF.MEDIUM,
    expires: init.expires ?? null,
    flags: (init.flags ?? 0) | RTF.UP | (init.gateway ? RTF.GATEWAY : 0) | (init.expires ? RTF.EXPIRES : 0),
    nhFlags: init.nhFlags ?? 0,
    metrics: init.metrics ?? {},
  };
}

/** Post-order position in the radix tree: negative when a is dumped before b. */
export function fib6TreeCompare(a: Fib6Route, b: Fib6Route): number {
  const min = Math.min(a.dstLen, b.dstLen);
  const mask = ipv6Mask(min);
  const pa = a.dst & mask;
  const pb = b.dst & mask;
  if (pa !== pb) return pa < pb ? -1 : 1;
  if (a.dstLen !== b.dstLen) return a.dstLen > b.dstLen ? -1 : 1;
  if (a.srcLen !== b.srcLen) return a.srcLen > b.srcLen ? -1 : 1;
  if (a.src !== b.src) return a.src < b.src ? -1 : 1;
  return 0;
}

/** The routes of one table in dump order (created empty if asked). */
export function fib6Table(net: NetNamespace, id: number, create: boolean): Fib6Route[] | undefined {
  const tables = ipv6Net(net).tables;
  let t = tables.get(id);
  if (!t && create) {
    t = [];
    tables.set(id, t);
  }
  return t;
}

/** Table ids in the order a dump of all tables visits them (hash bucket id & 255, newest first in a bucket). */
export function fib6TableOrder(net: NetNamespace): number[] {
  const ids = [...ipv6Net(net).tables.keys()];
  const pos = new Map(ids.map((id, i) => [id, i]));
  return ids.sort((a, b) => (a & 255) - (b & 255) || pos.get(b)! - pos.get(a)!);
}

/** Every route of the namespace in `ip -6 route show table all` order. */
export function fib6DumpAll(net: NetNamespace): Fib6Route[] {
  const out: Fib6Route[] = [];
  for (const id of fib6TableOrder(net)) out.push(...fib6Table(net, id, false)!);
  return out;
}

/** Whether a route can join an ECMP group (rt6_qualify_for_ecmp): a gateway route not from RA/addrconf. */
function qualifiesForEcmp(r: Fib6Route): boolean {
  return (r.flags & (RTF.GATEWAY | RTF.ADDRCONF | RTF.DYNAMIC)) === RTF.GATEWAY;
}

/** rt6_duplicate_nexthop: same device and gateway. */
function duplicateNexthop(a: Fib6Route, b: Fib6Route): boolean {
  return a.dev === b.dev && a.gateway === b.gateway && !(a.flags & RTF.REJECT) === !(b.flags & RTF.REJECT);
}

/**
 * fib6_add / fib6_add_rt2node: inserts `route` into its table. `nl` is null for kernel-internal
 * additions (no EXCL check). Returns the route now in the table (the refreshed existing one when a
 * duplicate with an expiry was updated). Throws EEXIST / ENOENT like Linux.
 */
export function fib6Insert(net: NetNamespace, route: Fib6Route, nl: NlFlags | null): Fib6Route {
  const table = fib6Table(net, route.table, true)!;
  const replace = nl?.replace === true;
  const append = nl?.append === true;
  let i = 0;
  while (i < table.length && fib6TreeCompare(table[i], route) < 0) i++;
  const nodeStart = i;
  let nodeEnd = i;
  while (nodeEnd < table.length && fib6TreeCompare(table[nodeEnd], route) === 0) nodeEnd++;
  let ins = nodeStart;
  let found = -1;
  let fallback = -1;
  for (let j = nodeStart; j < nodeEnd; j++) {
    const iter = table[j];
    if (iter.metric === route.metric) {
      if (nl?.excl) fail("EEXIST");
      if (replace) {
        if (qualifiesForEcmp(route) === qualifiesForEcmp(iter)) {
          found = j;
          break;
        }
        if (fallback < 0) fallback = j;
        ins = j + 1;
        continue;
      }
      if (duplicateNexthop(iter, route)) {
        if (!(iter.flags & RTF.EXPIRES)) fail("EEXIST");
        if (route.expires === null) {
          iter.expires = null;
          iter.flags &= ~RTF.EXPIRES;
        } else {
          iter.expires = route.expires;
          iter.flags |= RTF.EXPIRES;
        }
        scheduleExpiry(net, iter);
        fail("EEXIST");
      }
      if (append || !(qualifiesForEcmp(route) && qualifiesForEcmp(iter))) {
        ins = j + 1;
        continue;
      }
    }
    if (iter.metric > route.metric) break;
    ins = j + 1;
  }
  if (replace && found < 0) {
    if (!nl?.create) fail("ENOENT", "Can not replace route - no match found");
    if (fallback >= 0) ins = fallback;
  }
  if (found >= 0) {
    const old = table[found];
    table[found] = route;
    cancelExpiry(net, old);
  } else {
    table.splice(ins, 0, route);
  }
  scheduleExpiry(net, route);
  return route;
}

/** Removes a route from its table (fib6_del); false if it was not there. */
export function fib6Remove(net: NetNamespace, route: Fib6Route): boolean {
  const table = ipv6Net(net).tables.get(route.table);
  const i = table ? table.indexOf(route) : -1;
  if (i < 0) return false;
  table!.splice(i, 1);
  cancelExpiry(net, route);
  return true;
}

/** Whether the route is in a table. */
export function fib6Contains(net: NetNamespace, route: Fib6Route): boolean {
  return ipv6Net(net).tables.get(route.table)?.includes(route) ?? false;
}

function scheduleExpiry(net: NetNamespace, route: Fib6Route): void {
  cancelExpiry(net, route);
  if (route.expires === null) return;
  const timers = ipv6Net(net).routeTimers;
  timers.set(
    route,
    net.kernel.loop.at(route.expires, () => {
      timers.delete(route);
      fib6Remove(net, route);
    }),
  );
}

function cancelExpiry(net: NetNamespace, route: Fib6Route): void {
  const timers = ipv6Net(net).routeTimers;
  const t = timers.get(route);
  if (t) net.kernel.loop.cancel(t);
  timers.delete(route);
}

/** Removes every route whose nexthop device is dev (rt6_sync_down_dev / fib6_ifdown). */
export function fib6FlushDev(net: NetNamespace, dev: NetDevice): void {
  for (const table of ipv6Net(net).tables.values()) {
    for (const r of [...table]) if (r.dev === dev) fib6Remove(net, r);
  }
}

/** Next-hop flags as a dump reports them: LINKDOWN while the device has no carrier. */
export function fib6NhFlags(route: Fib6Route): number {
  let f = route.nhFlags;
  if (!(route.flags & RTF.REJECT) && route.type === RTN.UNICAST && !route.dev.carrier) f |= RTNH_F.LINKDOWN;
  return f;
}

/** Lookup flags (RT6_LOOKUP_F_*). */
export interface Fib6LookupOpts {
  /** flowi6_oif. */
  readonly oif: number;
  /** RT6_LOOKUP_F_IFACE: routes through other devices do not match. */
  readonly strict: boolean;
  /** RT6_LOOKUP_F_REACHABLE: avoid routers whose neighbour entry failed (hosts only). */
  readonly reachable: boolean;
  /** Source address for source-specific routes (:: = any). */
  readonly saddr: Ipv6Addr;
}

/** rt6_score_route: <0 = no match; higher is better. */
function scoreRoute(net: NetNamespace, r: Fib6Route, o: Fib6LookupOpts): number {
  let m: number;
  if (!o.oif || r.dev.ifindex === o.oif) m = 2;
  else if (o.strict) return -1;
  else m = 0;
  if (!(r.flags & RTF.REJECT) && r.type === RTN.UNICAST) {
    if (!r.dev.isUp) return -1;
    if (!r.dev.carrier && ignoreLinkdown(net, r.dev)) return -1;
  }
  const prefBits = r.pref === ICMPV6_ROUTER_PREF.HIGH ? 3 : r.pref === ICMPV6_ROUTER_PREF.LOW ? 1 : 2;
  m |= prefBits << 2;
  if (o.reachable && r.gateway !== null) {
    const n = ipv6Net(net).ndTbl.lookup(r.dev, r.gateway);
    if (n && n.nudState & NUD.FAILED) return -2;
  }
  return m;
}

function ignoreLinkdown(net: NetNamespace, dev: NetDevice): boolean {
  return (
    confInt(net, "all", "ignore_routes_with_linkdown") > 0 ||
    confInt(net, dev.name, "ignore_routes_with_linkdown") > 0
  );
}

/** find_rr_leaf over one node's routes (sorted by metric): the same-metric group first, then the rest. */
function selectInNode(net: NetNamespace, routes: Fib6Route[], o: Fib6LookupOpts): Fib6Route | null {
  const now = net.kernel.now;
  const live = routes.filter((r) => r.expires === null || r.expires > now);
  if (live.length === 0) return null;
  const firstMetric = live[0].metric;
  const pick = (list: Fib6Route[]): Fib6Route | null => {
    let best: Fib6Route | null = null;
    let bestScore = -1;
    for (const r of list) {
      const s = scoreRoute(net, r, o);
      if (s > bestScore) {
        best = r;
        bestScore = s;
      }
    }
    return best;
  };
  return (
    pick(live.filter((r) => r.metric === firstMetric)) ?? pick(live.filter((r) => r.metric !== firstMetric))
  );
}

/**
 * fib6_table_lookup: the best route of one table for daddr (longest prefix, backtracking to
 * shorter prefixes when no route of a node qualifies), or null.
 */
export function fib6TableLookup(
  net: NetNamespace,
  tableId: number,
  daddr: Ipv6Addr,
  o: Fib6LookupOpts,
): Fib6Route | null {
  const table = ipv6Net(net).tables.get(tableId);
  if (!table) return null;
  const candidates = table.filter(
    (r) =>
      ipv6InPrefix(daddr, { addr: r.dst, len: r.dstLen }) &&
      (r.srcLen === 0 || ipv6InPrefix(o.saddr, { addr: r.src, len: r.srcLen })),
  );
  // Group by node, most specific first (the table order already puts deeper nodes first).
  const byNode = new Map<string, Fib6Route[]>();
  for (const r of candidates) {
    const k = `${r.dstLen}/${r.srcLen}/${r.src}`;
    const g = byNode.get(k);
    if (g) g.push(r);
    else byNode.set(k, [r]);
  }
  const nodes = [...byNode.values()].sort((a, b) => b[0].dstLen - a[0].dstLen || b[0].srcLen - a[0].srcLen);
  for (const node of nodes) {
    const r = selectInNode(net, node, o);
    if (r) return r;
  }
  return null;
}

/**
 * fib6_rule_lookup with the default rules (local 0, main 32766, default 32767): the first
 * table with a match; `throw` routes continue with the next table.
 */
export function fib6RuleLookup(net: NetNamespace, daddr: Ipv6Addr, o: Fib6LookupOpts): Fib6Route | null {
  const attempt = (opts: Fib6LookupOpts): Fib6Route | null => {
    for (const id of [RT_TABLE.LOCAL, RT_TABLE.MAIN, RT_TABLE.DEFAULT]) {
      const r = fib6TableLookup(net, id, daddr, opts);
      if (r && r.type !== RTN.THROW) return r;
    }
    return null;
  };
  const r = attempt(o);
  if (r || !o.reachable) return r;
  return attempt({ ...o, reachable: false });
}
