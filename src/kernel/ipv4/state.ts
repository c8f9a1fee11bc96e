/**
 * Per-namespace IPv4 state (net->ipv4): the ARP table, the FIB tables, sockets, ICMP rate
 * limiting and the SNMP-style counters `nstat`/`netstat -s` would show.
 */
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import type { NeighTable } from "../neigh/neigh.ts";
import { slotKey } from "../slots.ts";
import type { FibTable } from "./fib-table.ts";
import type { PingSock } from "./ping.ts";
import type { FibRoute, InIfaddr } from "./types.ts";
import type { UdpSock } from "./udp.ts";

/** An rtnetlink listener for address changes (RTM_NEWADDR / RTM_DELADDR). */
export type AddrListener = (event: "NEW" | "DEL", ifa: InIfaddr) => void;
/** An rtnetlink listener for route changes (RTM_NEWROUTE / RTM_DELROUTE). */
export type RouteListener = (event: "NEW" | "DEL", route: FibRoute) => void;

/** One policy rule (fib_rule); the default list is fixed: local, main, default. */
export interface FibRule {
  readonly priority: number;
  readonly table: number;
}

/** A learned path MTU for a destination (fib_nh_exception: fnhe_pmtu / fnhe_expires). */
export interface PmtuException {
  readonly mtu: number;
  readonly expires: bigint;
}

/** A nexthop learned from an ICMP redirect (fib_nh_exception: fnhe_gw), per destination. */
export interface RedirectException {
  readonly gw: number;
  readonly dev: NetDevice;
  readonly expires: bigint;
}

/** IP/ICMP/UDP MIB counters (names as in /proc/net/snmp). */
export interface Ipv4Mib {
  InReceives: number;
  InHdrErrors: number;
  InAddrErrors: number;
  InNoRoutes: number;
  InUnknownProtos: number;
  InDiscards: number;
  InDelivers: number;
  ForwDatagrams: number;
  OutRequests: number;
  OutDiscards: number;
  OutNoRoutes: number;
  FragOKs: number;
  FragFails: number;
  FragCreates: number;
  ReasmReqds: number;
  IcmpInMsgs: number;
  IcmpInErrors: number;
  IcmpOutMsgs: number;
  IcmpOutRateLimitHost: number;
  IcmpOutRateLimitGlobal: number;
  UdpInDatagrams: number;
  UdpNoPorts: number;
  UdpInErrors: number;
  UdpOutDatagrams: number;
}

/** A per-peer token bucket (struct inet_peer: rate_tokens/rate_last, redirect counters). */
export interface InetPeer {
  tokens: bigint;
  last: bigint;
  redirects: number;
  redirectLast: bigint;
  errorTokens: bigint;
  errorLast: bigint;
}

/** net->ipv4. */
export interface Ipv4Net {
  readonly net: NetNamespace;
  /** arp_tbl for this namespace. */
  readonly arp: NeighTable<number>;
  /** FIB tables by id (local 255 and main 254 always exist). */
  readonly tables: Map<number, FibTable>;
  /**
   * Policy rules in priority order. Extension point for `ip rule`: while this is the default
   * list (local 0, main 32766, default 32767) lookups use Linux's merged local+main trie
   * semantics; any other list is walked rule by rule (fib_rules_lookup).
   */
  rules: FibRule[];
  /** Path MTU exceptions by destination. */
  readonly pmtu: Map<number, PmtuException>;
  /** Redirect exceptions by destination. */
  readonly redirects: Map<number, RedirectException>;
  readonly addrListeners: Set<AddrListener>;
  readonly routeListeners: Set<RouteListener>;
  readonly udp: Set<UdpSock>;
  readonly ping: Set<PingSock>;
  /** inet_peer entries by address (ICMP rate limits, redirect back-off). */
  readonly peers: Map<number, InetPeer>;
  /** icmp_global: credit and last refill. */
  icmpGlobal: { credit: number; stamp: bigint };
  /** ip_idents: a single counter, seeded from the PRNG. */
  ipId: number;
  /** Next ephemeral port candidate. */
  nextPort: number;
  readonly mib: Ipv4Mib;
}

/** The slot holding net->ipv4. */
export const IPV4_NET = slotKey<Ipv4Net>("ipv4");

/** net->ipv4 of a namespace (throws if ipv4Init did not run). */
export function ipv4Net(net: NetNamespace): Ipv4Net {
  return net.slots.must(IPV4_NET);
}

/** A zeroed MIB. */
export function newMib(): Ipv4Mib {
  return {
    InReceives: 0,
    InHdrErrors: 0,
    InAddrErrors: 0,
    InNoRoutes: 0,
    InUnknownProtos: 0,
    InDiscards: 0,
    InDelivers: 0,
    ForwDatagrams: 0,
    OutRequests: 0,
    OutDiscards: 0,
    OutNoRoutes: 0,
    FragOKs: 0,
    FragFails: 0,
    FragCreates: 0,
    ReasmReqds: 0,
    IcmpInMsgs: 0,
    IcmpInErrors: 0,
    IcmpOutMsgs: 0,
    IcmpOutRateLimitHost: 0,
    IcmpOutRateLimitGlobal: 0,
    UdpInDatagrams: 0,
    UdpNoPorts: 0,
    UdpInErrors: 0,
    UdpOutDatagrams: 0,
  };
}

/** inet_getpeer: the peer entry of an address, created "60 s ago" so a fresh bucket is full. */
export function inetGetPeer(ipv4: Ipv4Net, addr: number): InetPeer {
  let p = ipv4.peers.get(addr);
  if (!p) {
    const past = ipv4.net.kernel.now - 60_000_000_000n;
    p = { tokens: 0n, last: past, redirects: 0, redirectLast: past, errorTokens: 0n, errorLast: past };
    ipv4.peers.set(addr, p);
  }
  return p;
}
