/**
 * Where the IPv6 stack keeps its state: per namespace (struct netns_ipv6: fib6 tables, nd_tbl,
 * sockets, ICMPv6 rate-limit buckets, SNMP counters) and per device (struct inet6_dev with the
 * addresses' private fields). Everything lives in slots so the kernel core never imports IPv6.
 */
import type { Ipv6Addr } from "../../wire/index.ts";
import type { Timer } from "../clock.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import type { NeighTable } from "../neigh/neigh.ts";
import { slotKey } from "../slots.ts";
import type { Ping6Socket } from "./ping.ts";
import type { Fib6Route, Ifmcaddr6, Inet6Dev, Inet6Ifaddr } from "./types.ts";
import type { Udp6Socket } from "./udp.ts";

/** An address with the private state addrconf needs (struct inet6_ifaddr). */
export interface Inet6IfaddrPriv extends Inet6Ifaddr {
  /** DAD probes still to send (dad_probes). */
  dadProbes: number;
  /** Nonce of our DAD probes (enhanced DAD), 0 when none. */
  dadNonce: bigint;
  /** Pending DAD work. */
  dadTimer: Timer | null;
  /** Lifetime (deprecate/expire) timer. */
  lftTimer: Timer | null;
  /** The local route (table local), inserted once DAD completed. */
  localRoute: Fib6Route | null;
  /** Whether the solicited-node group was joined for it. */
  solictJoined: boolean;
  /** Created by SLAAC (autoconf) rather than by the user. */
  autoconf: boolean;
  /** Whether the subnet-router anycast address of its prefix was joined (forwarding). */
  anycastJoined: boolean;
}

/** A joined anycast address (struct ifacaddr6) with its local-table route. */
export interface Ifacaddr6 {
  readonly addr: Ipv6Addr;
  users: number;
  route: Fib6Route | null;
}

/** One joined group with MLD state (struct ifmcaddr6). */
export interface Ifmcaddr6Priv extends Ifmcaddr6 {
  /** MAF_LOADED: the link-layer address is in the device's mc list. */
  loaded: boolean;
  /** MAF_NOREPORT: ff02::1 and scope < link are never reported. */
  noReport: boolean;
  /** Pending state-change retransmissions (mca_crcount). */
  crcount: number;
  /** Pending response to a query. */
  queryTimer: Timer | null;
}

/** A group that was left and still owes TO_IN change records (mc_tomb). */
export interface McTomb {
  readonly addr: Ipv6Addr;
  crcount: number;
}

/** Per-device IPv6 state: the public inet6_dev plus timers and MLD state. */
export interface Inet6DevPriv extends Inet6Dev {
  readonly addrs: Inet6IfaddrPriv[];
  readonly mcList: Ifmcaddr6Priv[];
  /** Groups left recently, still reported as TO_IN. */
  readonly mcTomb: McTomb[];
  /** mc_qrv: robustness variable (2). */
  mcQrv: number;
  /** mc_ifc_count: state-change reports still to send. */
  mcIfcCount: number;
  mcIfcTimer: Timer | null;
  /** mc_dad_count: initial reports still to send after DAD. */
  mcDadCount: number;
  mcDadTimer: Timer | null;
  /** General query response timer. */
  mcGqTimer: Timer | null;
  /** Current RS interval (ns). */
  rsInterval: bigint;
  /** Seed of IN6_ADDR_GEN_MODE_RANDOM (rndid). */
  rndIid: bigint;
  /** The multicast route ff00::/8 added on up (addrconf_add_mroute). */
  mroute: Fib6Route | null;
  /** Anycast addresses (ac_list). */
  readonly acList: Ifacaddr6[];
}

/** Token bucket state of inet_peer_xrlim_allow, per destination. */
export interface PeerBucket {
  tokens: bigint;
  last: bigint;
}

/** An IPv6 fragment queue being reassembled (struct frag_queue). */
export interface FragQueue {
  readonly key: string;
  readonly parts: { readonly offset: number; readonly data: Uint8Array }[];
  /** Total length once the last fragment arrived, else -1. */
  total: number;
  /** The first fragment's unfragmentable part (IPv6 header, with next header fixed up). */
  head: Uint8Array | null;
  readonly timer: Timer;
  readonly dev: NetDevice;
}

/** struct netns_ipv6 (the parts we model). */
export interface Ipv6Net {
  readonly net: NetNamespace;
  /** fib6 tables by id, each sorted in dump (trie walk) order. */
  readonly tables: Map<number, Fib6Route[]>;
  /** nd_tbl. */
  readonly ndTbl: NeighTable<bigint>;
  /** Bound UDPv6 sockets. */
  readonly udpSocks: Set<Udp6Socket>;
  /** ICMPv6 echo ("ping") sockets. */
  readonly pingSocks: Set<Ping6Socket>;
  /** ICMPv6 error rate limit per destination. */
  readonly icmpPeers: Map<Ipv6Addr, PeerBucket>;
  /** SNMP6 counters (Ip6InReceives, Icmp6OutEchoReplies, Udp6InDatagrams ...). */
  readonly mib: Map<string, number>;
  /** Reassembly queues. */
  readonly frags: Map<string, FragQueue>;
  /** Next fragment identification. */
  fragIdent: number;
  /** Route expiry timers. */
  readonly routeTimers: Map<Fib6Route, Timer>;
  /** Learned path MTUs (route exceptions from Packet Too Big), by destination. */
  readonly pmtu: Map<Ipv6Addr, { mtu: number; expires: bigint }>;
  /** icmp_global_allow credit (tokens) and its last refill time. */
  readonly icmpGlobal: { credit: number; stamp: bigint };
}

/** Slot of the per-namespace state. */
export const IPV6_NET = slotKey<Ipv6Net>("ipv6");
/** Slot of the per-device state (dev->ip6_ptr). */
export const INET6_DEV = slotKey<Inet6DevPriv>("inet6_dev");

/** The namespace's IPv6 state (throws if ipv6Init did not run). */
export function ipv6Net(net: NetNamespace): Ipv6Net {
  return net.slots.must(IPV6_NET);
}

/** The device's inet6_dev, if any (__in6_dev_get). */
export function in6DevGet(dev: NetDevice): Inet6DevPriv | undefined {
  return dev.slots.get(INET6_DEV);
}

/** Adds to an SNMP6 counter. */
export function mibInc(net: NetNamespace, name: string, by = 1): void {
  const m = net.slots.get(IPV6_NET)?.mib;
  if (m) m.set(name, (m.get(name) ?? 0) + by);
}
