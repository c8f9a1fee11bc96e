/**
 * One FIB table (struct fib_table over net/ipv4/fib_trie.c): aliases per (prefix, length) kept in
 * Linux's order (TOS descending, then metric ascending, then insertion as the request asked),
 * dumps in trie order (prefix ascending, longer prefixes first), and the longest-prefix-match
 * walk with Linux's per-alias checks (fib_table_lookup).
 */
import type { ErrnoName } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import { maskOf } from "./hdr.ts";
import { devconf } from "./sysctl.ts";
import { type FibNh, type FibRoute, type Flowi4, RTN, RTNH_F } from "./types.ts";

/** The result of a FIB lookup (struct fib_result). */
export interface FibResult {
  readonly route: FibRoute;
  /** The selected nexthop (null for routes without nexthops). */
  readonly nh: FibNh | null;
  readonly prefixLen: number;
  readonly type: number;
  readonly scope: number;
  readonly table: number;
}

/** fib_table_lookup flags. */
export const FIB_LOOKUP = { IGNORE_LINKSTATE: 1, SKIP_NH_OIF: 2 } as const;

/** Errors of reject route types (fib_props[].error). */
const REJECT_ERROR: Readonly<Record<number, ErrnoName>> = {
  [RTN.BLACKHOLE]: "EINVAL",
  [RTN.UNREACHABLE]: "EHOSTUNREACH",
  [RTN.PROHIBIT]: "EACCES",
  [RTN.THROW]: "EAGAIN",
};

/** fib_props[type].error, if the type rejects. */
export function rejectError(type: number): ErrnoName | undefined {
  return REJECT_ERROR[type];
}

/** One routing table. */
export class FibTable {
  /** Table id. */
  readonly id: number;
  /** Creation order, for dump ordering of tables sharing a hash bucket. */
  readonly seq: number;
  readonly #byLen: Map<number, FibRoute[]>[] = Array.from({ length: 33 }, () => new Map());
  #size = 0;

  constructor(id: number, seq: number) {
    this.id = id;
    this.seq = seq;
  }

  /** Number of routes. */
  get size(): number {
    return this.#size;
  }

  /** The aliases of one prefix, in order (a live array; empty if none). */
  aliases(dst: number, len: number): readonly FibRoute[] {
    return this.#byLen[len].get(dst >>> 0) ?? [];
  }

  /** Inserts a route before `before` (same prefix), or at the end of its prefix's list. */
  insert(route: FibRoute, before: FibRoute | null): void {
    const m = this.#byLen[route.dstLen];
    let list = m.get(route.dst);
    if (!list) {
      list = [];
      m.set(route.dst, list);
    }
    const i = before ? list.indexOf(before) : -1;
    if (i < 0) list.push(route);
    else list.splice(i, 0, route);
    this.#size++;
  }

  /** Replaces a route object in place (NLM_F_REPLACE). */
  replace(old: FibRoute, route: FibRoute): void {
    const list = this.#byLen[old.dstLen].get(old.dst);
    const i = list ? list.indexOf(old) : -1;
    if (list && i >= 0) list[i] = route;
  }

  /** Removes a route; false if it was not there. */
  remove(route: FibRoute): boolean {
    const m = this.#byLen[route.dstLen];
    const list = m.get(route.dst);
    const i = list ? list.indexOf(route) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) m.delete(route.dst);
    this.#size--;
    return true;
  }

  /** All routes in dump order: prefix ascending, longer prefixes first, then list order. */
  routes(): FibRoute[] {
    const keys: [number, number][] = [];
    for (let len = 0; len <= 32; len++) for (const dst of this.#byLen[len].keys()) keys.push([dst, len]);
    keys.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const out: FibRoute[] = [];
    for (const [dst, len] of keys) out.push(...(this.#byLen[len].get(dst) ?? []));
    return out;
  }
}

/** ip_ignore_linkdown: ignore_routes_with_linkdown on the nexthop's device. */
function ignoreLinkdown(dev: NetDevice | null): boolean {
  if (!dev) return false;
  return (
    devconf(dev, "ignore_routes_with_linkdown") !== 0 ||
    dev.netns.sysctlInt("net.ipv4.conf.all.ignore_routes_with_linkdown") !== 0
  );
}

/**
 * fib_table_lookup over one or more tables sharing a trie (local+main when rules are default):
 * longest prefix first; per alias TOS, scope, reject types (which end the lookup with their
 * error), dead routes, dead/linkdown nexthops and the output interface are checked.
 * Returns null when nothing matches.
 */
export function fibTablesLookup(
  tables: readonly FibTable[],
  flow: Flowi4,
  flags = 0,
): FibResult | ErrnoName | null {
  const daddr = flow.daddr >>> 0;
  const scope = flow.scope ?? 0;
  for (let len = 32; len >= 0; len--) {
    const key = (daddr & maskOf(len)) >>> 0;
    for (const t of tables) {
      for (const route of t.aliases(key, len)) {
        if (route.tos && route.tos !== (flow.tos ?? 0)) continue;
        if (route.scope < scope) continue;
        const err = REJECT_ERROR[route.type];
        if (err) return err;
        if (route.flags & RTNH_F.DEAD) continue;
        const nh = selectNh(route, flow, flags);
        if (nh === undefined) continue;
        return { route, nh, prefixLen: len, type: route.type, scope: route.scope, table: t.id };
      }
    }
  }
  return null;
}

/** The first usable nexthop (multipath: weighted hash selection among the usable ones). */
function selectNh(route: FibRoute, flow: Flowi4, flags: number): FibNh | null | undefined {
  if (route.nexthops.length === 0) return null;
  const usable: FibNh[] = [];
  for (const nh of route.nexthops) {
    if (nh.flags & RTNH_F.DEAD) continue;
    if (!(flags & FIB_LOOKUP.IGNORE_LINKSTATE) && nh.flags & RTNH_F.LINKDOWN && ignoreLinkdown(nh.dev))
      continue;
    if (!(flags & FIB_LOOKUP.SKIP_NH_OIF) && flow.oif && flow.oif !== nh.dev?.ifindex) continue;
    usable.push(nh);
  }
  if (usable.length === 0) return undefined;
  if (usable.length === 1 || flow.oif) return usable[0];
  // fib_select_multipath: an L3 hash of the flow against the nexthops' weights.
  const total = usable.reduce((s, n) => s + n.weight, 0);
  let h = Math.imul((flow.saddr ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(flow.daddr >>> 0, 0xc2b2ae35);
  h = ((h ^ (h >>> 16)) >>> 0) % total;
  for (const nh of usable) {
    if (h < nh.weight) return nh;
    h -= nh.weight;
  }
  return usable[0];
}
