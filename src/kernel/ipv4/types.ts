/**
 * The IPv4 data model shared with rtnetlink/iproute2 and ipvlan: address (in_ifaddr), route
 * (fib_alias + fib_info), output route (rtable) and flow (flowi4) shapes, and the uapi
 * constants they carry (RTN_*, RT_SCOPE_*, RTPROT_*, RT_TABLE_*, IFA_F_*, RTNH_F_*).
 * Addresses are uint32 numbers (`Ipv4Addr`).
 */
import type { ErrnoName } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";

/** Route types (RTN_*). */
export const RTN = {
  UNSPEC: 0,
  UNICAST: 1,
  LOCAL: 2,
  BROADCAST: 3,
  ANYCAST: 4,
  MULTICAST: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
  THROW: 9,
  NAT: 10,
  XRESOLVE: 11,
} as const;

/** One route type. */
export type RouteType = (typeof RTN)[keyof typeof RTN];

/** Route/address scopes (RT_SCOPE_*). */
export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

/** Route origin (RTPROT_*); any number 0-255 is allowed. */
export const RTPROT = {
  UNSPEC: 0,
  REDIRECT: 1,
  KERNEL: 2,
  BOOT: 3,
  STATIC: 4,
  DHCP: 16,
} as const;

/** Reserved table ids (RT_TABLE_*). */
export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** Address flags (IFA_F_*). */
export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

/** Nexthop flags (RTNH_F_*). */
export const RTNH_F = {
  DEAD: 0x01,
  PERVASIVE: 0x02,
  ONLINK: 0x04,
  OFFLOAD: 0x08,
  LINKDOWN: 0x10,
  UNRESOLVED: 0x20,
  TRAP: 0x40,
} as const;

/** Route cache flags of an output/input route (RTCF_*). */
export const RTCF = {
  NOTIFY: 0x00010000,
  REDIRECTED: 0x00040000,
  DOREDIRECT: 0x01000000,
  DIRECTSRC: 0x04000000,
  BROADCAST: 0x10000000,
  MULTICAST: 0x20000000,
  LOCAL: 0x80000000,
} as const;

/** INFINITY_LIFE_TIME: "forever". */
export const INFINITY_LIFE_TIME = 0xffffffff;

/** struct in_ifaddr: one IPv4 address of a device. */
export interface InIfaddr {
  /** The device (ifa_dev->dev). */
  readonly dev: NetDevice;
  /** ifa_local: the local address. */
  readonly local: number;
  /** ifa_address: the peer on point-to-point setups, else equal to local. */
  readonly address: number;
  /** Prefix length (ifa_prefixlen). */
  readonly prefixLen: number;
  /** Netmask derived from the prefix length. */
  readonly mask: number;
  /** ifa_broadcast (0 if none). */
  broadcast: number;
  /** ifa_scope (RT_SCOPE_*). */
  scope: number;
  /** IFA_F_* flags (SECONDARY changes on promotion). */
  flags: number;
  /** ifa_label ("eth0", "eth0:1"). */
  label: string;
  /** IFA_RT_PRIORITY: metric of the prefix route (`ip addr replace ... metric N` changes it). */
  rtPriority: number;
  /** IFA_PROTO (0 = unspecified). */
  proto: number;
  /** Lifetimes in seconds (INFINITY_LIFE_TIME = forever) and their reference time. */
  validLft: number;
  preferredLft: number;
  /** Creation and last-update time stamps (ns). */
  readonly cstamp: bigint;
  tstamp: bigint;
}

/** What `ip addr add` asks for (RTM_NEWADDR after iproute2 parsing). */
export interface InAddrRequest {
  readonly local: number;
  readonly prefixLen: number;
  /** IFA_ADDRESS (peer); defaults to local. */
  readonly address?: number;
  /** IFA_BROADCAST; absent = none (`brd +` is computed by iproute2). */
  readonly broadcast?: number;
  /** ifa_scope; default RT_SCOPE_UNIVERSE (host for 127/8 is userland's choice). */
  readonly scope?: number;
  /** IFA_LABEL; default the device name. */
  readonly label?: string;
  /** IFA_F_* requested (NOPREFIXROUTE, NODAD, ...). */
  readonly flags?: number;
  readonly rtPriority?: number;
  readonly proto?: number;
  readonly validLft?: number;
  readonly preferredLft?: number;
}

/** One nexthop (struct fib_nh). */
export interface FibNh {
  /** Gateway, 0 for on-link routes. */
  readonly gw: number;
  /** Output device (null only for routes without a device: blackhole/unreachable/prohibit). */
  readonly dev: NetDevice | null;
  /** RTNH_F_* (DEAD/LINKDOWN change with device state). */
  flags: number;
  /** Scope of the nexthop (fib_nh_scope). */
  readonly scope: number;
  /** Weight (multipath). */
  readonly weight: number;
}

/** A FIB entry: prefix in a table with its attributes (fib_alias + fib_info). */
export interface FibRoute {
  readonly table: number;
  readonly dst: number;
  readonly dstLen: number;
  readonly tos: number;
  readonly type: RouteType;
  readonly scope: number;
  readonly protocol: number;
  /** Metric (RTA_PRIORITY). */
  readonly priority: number;
  /** Preferred source (RTA_PREFSRC), 0 if none. */
  readonly prefsrc: number;
  readonly nexthops: readonly FibNh[];
  /** RTAX metrics set on the route (mtu, advmss ...). */
  readonly metrics: Readonly<Record<string, number>>;
  /** fib_info->fib_flags: RTNH_F_DEAD / RTNH_F_LINKDOWN once every nexthop is. */
  flags: number;
}

/** What `ip route add|del|replace|append|change` asks for. */
export interface RouteRequest {
  readonly dst: number;
  readonly dstLen: number;
  /** Default RT_TABLE_MAIN (RT_TABLE_LOCAL for local/broadcast types is iproute2's choice). */
  readonly table?: number;
  readonly tos?: number;
  /** Default RTN_UNICAST. */
  readonly type?: RouteType;
  /** Default: link if no gateway, universe otherwise; host for local routes (iproute2 decides). */
  readonly scope?: number;
  /** Default RTPROT_BOOT (iproute2's default for `ip route add`). */
  readonly protocol?: number;
  readonly priority?: number;
  readonly prefsrc?: number;
  readonly gw?: number;
  readonly dev?: NetDevice;
  /** RTNH_F_ONLINK. */
  readonly onlink?: boolean;
  readonly metrics?: Readonly<Record<string, number>>;
  /** Multipath nexthops (RTA_MULTIPATH); replaces gw/dev. */
  readonly multipath?: readonly {
    readonly gw?: number;
    readonly dev?: NetDevice;
    readonly weight?: number;
  }[];
}

/** Selector for deletes (`ip route del` matches only what is given). */
export interface RouteSelector {
  readonly dst: number;
  readonly dstLen: number;
  readonly table?: number;
  readonly tos?: number;
  readonly type?: RouteType;
  readonly scope?: number;
  readonly protocol?: number;
  readonly priority?: number;
  readonly prefsrc?: number;
  readonly gw?: number;
  readonly dev?: NetDevice;
}

/** struct flowi4: the key of an output route lookup. */
export interface Flowi4 {
  readonly daddr: number;
  /** 0 = let the kernel choose. */
  readonly saddr: number;
  /** Output interface index (0 = any); restricts nexthops to that device. */
  readonly oif?: number;
  /** Input interface (forwarding lookups). */
  readonly iif?: number;
  readonly mark?: number;
  readonly tos?: number;
  /** FLOWI_FLAG_ANYSRC: saddr need not be a local address. */
  readonly anySrc?: boolean;
  /** Scope limit (RT_SCOPE_UNIVERSE unless the caller says). */
  readonly scope?: number;
}

/** struct rtable: the result of a route lookup (input or output). */
export interface Rtable {
  /** Output device (lo for local delivery). */
  readonly dev: NetDevice;
  /** RTN_* of the matched route. */
  readonly type: RouteType;
  /** Next hop: the gateway, or the destination itself for on-link routes (rt_nexthop). */
  readonly nexthop: number;
  /** rt_gw4, 0 for on-link. */
  readonly gateway: number;
  /** Chosen source address (fl4->saddr after the lookup). */
  readonly saddr: number;
  readonly daddr: number;
  /** RTCF_* flags (LOCAL, BROADCAST, MULTICAST, DOREDIRECT). */
  readonly flags: number;
  /** Path MTU to use (route mtu metric, else the device MTU). */
  readonly mtu: number;
  /** The FIB entry it came from (null for synthesized routes: oif fallback, local-only). */
  readonly fib: FibRoute | null;
  /** Table the match was found in. */
  readonly table: number;
  /** Input interface for input routes (0 for output routes). */
  readonly iif: number;
  /**
   * What dst.input/dst.output does with a packet: "output" (an output route), "local"
   * (ip_local_deliver), "forward" (ip_forward) or "error" (ip_error, sending `error`'s ICMP).
   */
  readonly action: "output" | "local" | "forward" | "error";
  /** dst.error for "error" routes (ENETUNREACH, EHOSTUNREACH, EACCES, EINVAL). */
  readonly error: ErrnoName | null;
}

/** The result of a route lookup: a route, or the errno the caller reports. */
export type RouteResult = Rtable | ErrnoName;

/** An ICMP error or local error delivered to a socket's error queue (sock_extended_err). */
export interface SockExtendedErr {
  /** errno the error maps to (EHOSTUNREACH, ENETUNREACH, ECONNREFUSED, EMSGSIZE ...). */
  readonly errno: ErrnoName;
  /** SO_EE_ORIGIN_LOCAL (1) or SO_EE_ORIGIN_ICMP (2). */
  readonly origin: 1 | 2;
  /** ICMP type/code for ICMP-origin errors (0 for local). */
  readonly type: number;
  readonly code: number;
  /** ee_info: the MTU for frag-needed / local EMSGSIZE. */
  readonly info: number;
  /** Who reported it (the ICMP sender, or our own address for local errors). */
  readonly offender: number;
  /** The original packet's destination and, for ping sockets, its echo sequence. */
  readonly daddr: number;
  readonly sequence?: number;
  /** Virtual receive time (ns). */
  readonly time: bigint;
}
