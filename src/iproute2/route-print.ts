/** How `ip route` prints a route (ip/iproute.c print_route) and reads route keywords. */
import type { FibRoute, NetDevice } from "../kernel/index.ts";
import { scopeName } from "./ipaddress.ts";
import type { Printer } from "./json-print.ts";
import type { IpOptions } from "./options.ts";
import { getU32, matches } from "./utils.ts";
import type { InetPrefix } from "./inet-prefix.ts";

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
  8: "gated",
  9: "ra",
  10: "mrt",
  11: "zebra",
  12: "bird",
  13: "dnrouted",
  14: "xorp",
  15: "ntk",
  16: "dhcp",
  17: "mrouted",
  18: "keepalived",
  42: "babel",
  99: "openr",
  186: "bgp",
  187: "isis",
  188: "ospf",
  189: "rip",
  192: "eigrp",
};
const TABLE_NAMES: Readonly<Record<number, string>> = { 253: "default", 254: "main", 255: "local" };
const PREF_NAMES: Readonly<Record<number, string>> = { 0: "medium", 1: "high", 3: "low" };
/** print_rt_flags order. */
const RT_FLAGS: readonly [number, string][] = [
  [0x01, "dead"],
  [0x04, "onlink"],
  [0x02, "pervasive"],
  [0x08, "offload"],
  [0x40, "trap"],
  [0x100, "notify"],
  [0x10, "linkdown"],
  [0x20, "unresolved"],
  [0x4000, "rt_offload"],
  [0x8000, "rt_trap"],
  [0x20000000, "rt_offload_failed"],
];
/** RTAX_* metric names in attribute order (print_rta_metrics walks them by number). */
const METRIC_NAMES = [
  "lock",
  "mtu",
  "window",
  "rtt",
  "rttvar",
  "ssthresh",
  "cwnd",
  "advmss",
  "reordering",
  "hoplimit",
  "initcwnd",
  "features",
  "rto_min",
  "initrwnd",
  "quickack",
  "congctl",
  "fastopen_no_cookie",
];
/** RTCF_* cache flags in print_cache_flags order. */
const CACHE_FLAGS: readonly [number, string][] = [
  [0x80000000, "local"],
  [0x40000000, "reject"],
  [0x20000000, "mc"],
  [0x10000000, "brd"],
  [0x08000000, "dst-nat"],
  [0x04000000, "src-nat"],
  [0x00800000, "masq"],
  [0x02000000, "dst-direct"],
  [0x04000000, "src-direct"],
  [0x00040000, "redirected"],
  [0x01000000, "redirect"],
  [0x00200000, "fastroute"],
  [0x00010000, "notify"],
  [0x00020000, "proxy"],
];

/** One route as RTM_NEWROUTE reports it (dump or get answer). */
export interface RouteMsg {
  readonly family: 4 | 6;
  readonly table: number;
  readonly dst: string;
  readonly dstLen: number;
  readonly src: string | null;
  readonly srcLen: number;
  readonly type: number;
  readonly protocol: number;
  readonly scope: number;
  readonly gateway: string | null;
  readonly dev: NetDevice | null;
  readonly prefsrc: string | null;
  readonly metric: number | null;
  readonly flags: number;
  readonly pref: number | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly uid: number | null;
  readonly cacheFlags: number | null;
  readonly expires: number | null;
  /** RTA_IIF (input route lookups). */
  readonly iif?: string;
  /** The kernel's record, for deletes. */
  readonly v4?: FibRoute;
  readonly v6?: { dst: bigint; dstLen: number; table: number; dev: NetDevice; gateway: bigint | null };
}

/** What the show filter hides from each line (the fields it fixed). */
export interface RouteFilter {
  tb: number;
  protocol: number | null;
  scope: number | null;
  type: number | null;
  oif: NetDevice | null;
  /** `root P`: routes inside P. */
  rdst: InetPrefix | null;
  /** `match P`: routes covering P. */
  mdst: InetPrefix | null;
  via: InetPrefix | null;
  prefsrc: InetPrefix | null;
  metric: number | null;
}

/** The filter of a plain `ip route show`: table main, nothing else fixed. */
export function newFilter(): RouteFilter {
  return {
    tb: 254,
    protocol: null,
    scope: null,
    type: null,
    oif: null,
    rdst: null,
    mdst: null,
    via: null,
    prefsrc: null,
    metric: null,
  };
}

/** print_route (the filter's fixed fields are left out, as iproute2 does). */
export function printRoute(p: Printer, r: RouteMsg, o: IpOptions, f: RouteFilter): void {
  const host = r.family === 4 ? 32 : 128;
  p.openObject(null);
  if ((r.type !== 1 || o.details > 0) && (f.type === null || f.type === r.type))
    p.string("any", "type", "%s ", RTN_NAMES[r.type] ?? String(r.type));
  if (r.dstLen === 0) p.string("any", "dst", "%s ", "default");
  else p.string("any", "dst", "%s ", r.dstLen !== host ? `${r.dst}/${r.dstLen}` : r.dst);
  if (r.src !== null) p.string("any", "from", "from %s ", r.srcLen !== host ? `${r.src}/${r.srcLen}` : r.src);
  if (r.gateway !== null && !(f.via && f.via.bitlen === host))
    p.string("any", "gateway", "via %s ", r.gateway);
  if (r.dev && !f.oif) p.string("any", "dev", "dev %s ", r.dev.name);
  if (r.table && (r.table !== 254 || o.details > 0) && !f.tb)
    p.string("any", "table", "table %s ", TABLE_NAMES[r.table] ?? String(r.table));
  if (r.cacheFlags === null || r.family === 6) {
    if ((r.protocol !== 3 || o.details > 0) && f.protocol === null)
      p.string("any", "protocol", "proto %s ", PROTO_NAMES[r.protocol] ?? String(r.protocol));
    if ((r.scope !== 0 || o.details > 0) && f.scope === null)
      p.string("any", "scope", "scope %s ", scopeName(r.scope));
  }
  if (r.prefsrc !== null && !(f.prefsrc && f.prefsrc.bitlen === host)) {
    p.fp("src ");
    p.string("any", "prefsrc", "%s ", r.prefsrc);
  }
  if (r.metric !== null && f.metric === null) p.number("any", "metric", "metric %u ", r.metric);
  p.openArray("json", "flags");
  for (const [bit, name] of RT_FLAGS) if (r.flags & bit) p.string("any", null, "%s ", name);
  p.closeArray("json", null);
  if (r.uid !== null) p.number("any", "uid", "uid %u ", r.uid);
  if (r.family === 4 && r.cacheFlags !== null) printCacheFlags(p, r.cacheFlags);
  if (r.expires) p.number("any", "expires", "expires %usec ", r.expires);
  printMetrics(p, r.metrics);
  if (r.iif !== undefined) p.string("any", "iif", "iif %s ", r.iif);
  if (r.pref !== null) p.string("any", "pref", "pref %s", PREF_NAMES[r.pref] ?? String(r.pref));
  p.fp("\n");
  p.closeObject();
}

/** print_cache_flags. */
function printCacheFlags(p: Printer, flags0: number): void {
  let flags = (flags0 & ~0xffff) >>> 0;
  if (p.json) {
    p.openArray("json", "cache");
    for (const [bit, name] of CACHE_FLAGS) if (flags & bit) p.string("json", null, "%s", name);
    p.closeArray("json", null);
    return;
  }
  p.fp(`${p.sl}    cache `);
  if (flags === 0) return;
  let s = "<";
  for (const [bit, name] of CACHE_FLAGS) {
    if (!(flags & bit)) continue;
    flags = (flags & ~bit) >>> 0;
    s += `${name}${flags ? "," : "> "}`;
  }
  if (flags) s += `0x${flags.toString(16)}> `;
  p.fp(s);
}

/** print_rta_metrics. */
function printMetrics(p: Printer, metrics: Readonly<Record<string, number>>): void {
  const names = METRIC_NAMES.filter((n) => metrics[n] !== undefined && n !== "lock");
  if (names.length === 0) return;
  p.openArray("json", "metrics");
  p.openObject(null);
  for (const n of names) p.number("any", n, `${n} %u `, metrics[n]!);
  p.closeObject();
  p.closeArray("json", null);
}

/** rtnl_rttable_a2n. */
export function parseTable(v: string): number | null {
  if (v === "main") return 254;
  if (v === "local") return 255;
  if (v === "default") return 253;
  if (v === "all" || v === "unspec") return 0;
  return getU32(v);
}

/** rtnl_rtprot_a2n. */
export function parseProto(v: string): number | null {
  const e = Object.entries(PROTO_NAMES).find(([, n]) => n === v);
  if (e) return Number(e[0]);
  const n = getU32(v);
  return n !== null && n <= 255 ? n : null;
}

/** rtnl_rtntype_a2n (several names are accepted by prefix). */
export function parseType(v: string): number | null {
  if (v === "local") return 2;
  if (v === "nat") return 10;
  if (matches(v, "broadcast") || v === "brd") return 3;
  if (matches(v, "anycast")) return 4;
  if (matches(v, "multicast")) return 5;
  if (matches(v, "prohibit")) return 8;
  if (matches(v, "unreachable")) return 7;
  if (v === "blackhole") return 6;
  if (matches(v, "xresolve")) return 11;
  if (matches(v, "unicast")) return 1;
  if (v === "throw") return 9;
  const n = getU32(v);
  return n !== null && n <= 255 ? n : null;
}
