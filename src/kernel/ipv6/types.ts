/**
 * The IPv6 stack's data model: per-device state (inet6_dev), addresses (inet6_ifaddr), routes
 * (fib6_info), the route lookup result (rt6_info as a dst) and the constants userland prints.
 * iproute2 reads these through the functions listed in {@link Ipv6Api} (exported from
 * src/kernel/ipv6/index.ts under the same names).
 */
import type { Ipv6Addr, MacAddr } from "../../wire/index.ts";
import type { Timer } from "../clock.ts";
import type { ErrnoName } from "../errno.ts";
import type { Kernel } from "../kernel.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import type { SkBuff } from "../skb.ts";

/** IFA_F_* address flags (include/uapi/linux/if_addr.h). */
export const IFA_F = {
  SECONDARY: 0x01,
  TEMPORARY: 0x01,
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

/** Route/address scopes (enum rt_scope_t), as `ip` prints them: global, site, link, host. */
export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

/** Route protocols (RTPROT_*). `ip -6 route` prints kernel, boot, static, ra. */
export const RTPROT = { UNSPEC: 0, REDIRECT: 1, KERNEL: 2, BOOT: 3, STATIC: 4, RA: 9 } as const;

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
} as const;

/** Route tables (RT_TABLE_*). */
export const RT_TABLE = { UNSPEC: 0, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** Router preference (ICMPV6_ROUTER_PREF_*): `pref low|medium|high` in `ip -6 route`. */
export const ICMPV6_ROUTER_PREF = { MEDIUM: 0, HIGH: 1, INVALID: 2, LOW: 3 } as const;

/** Route flags (RTF_*, include/uapi/linux/ipv6_route.h) that matter here. */
export const RTF = {
  UP: 0x0001,
  GATEWAY: 0x0002,
  HOST: 0x0004,
  REJECT: 0x0200,
  DYNAMIC: 0x0010,
  MODIFIED: 0x0020,
  DEFAULT: 0x10000,
  ALLONLINK: 0x20000,
  ADDRCONF: 0x40000,
  PREFIX_RT: 0x80000,
  ANYCAST: 0x100000,
  NONEXTHOP: 0x200000,
  EXPIRES: 0x400000,
  ROUTEINFO: 0x800000,
  CACHE: 0x1000000,
  LOCAL: 0x80000000,
} as const;

/** Next-hop flags (RTNH_F_*) shown by `ip route`: "dead", "linkdown". */
export const RTNH_F = { DEAD: 1, PERVASIVE: 2, ONLINK: 4, OFFLOAD: 8, LINKDOWN: 16 } as const;

/** IN6_ADDR_GEN_MODE_* (also `NetDevice.addrGenMode`). */
export const IN6_ADDR_GEN_MODE = { EUI64: 0, NONE: 1, STABLE_PRIVACY: 2, RANDOM: 3 } as const;

/** Lifetime value meaning "forever" (INFINITY_LIFE_TIME). */
export const INFINITY_LIFE_TIME = 0xffffffff;

/** The metric the kernel gives routes without one (IP6_RT_PRIO_USER). */
export const IP6_RT_PRIO_USER = 1024;
/** The metric of connected/prefix routes (IP6_RT_PRIO_ADDRCONF). */
export const IP6_RT_PRIO_ADDRCONF = 256;

/** One IPv6 address on a device (struct inet6_ifaddr). */
export interface Inet6Ifaddr {
  /** The local address. */
  readonly addr: Ipv6Addr;
  /** Prefix length. */
  readonly prefixLen: number;
  /** IFA_ADDRESS when a peer was given (`ip addr add A peer P`), else null. */
  readonly peer: Ipv6Addr | null;
  /** The device it is on. */
  readonly dev: NetDevice;
  /** RT_SCOPE_* as `ip` prints it (global/site/link/host). */
  scope: number;
  /** IFA_F_* flags (tentative, dadfailed, deprecated, nodad, permanent, ...). */
  flags: number;
  /** Configured valid lifetime in seconds (INFINITY_LIFE_TIME = forever), counted from `tstamp`. */
  validLft: number;
  /** Configured preferred lifetime in seconds, counted from `tstamp`. */
  preferredLft: number;
  /** Creation time (ns, virtual clock); IFA_CACHEINFO cstamp. */
  readonly cstamp: bigint;
  /** Last update time (ns); lifetimes run from here. IFA_CACHEINFO tstamp. */
  tstamp: bigint;
  /** IFA_RT_PRIORITY: metric of the prefix route (0 = default 256). */
  rtPriority: number;
  /** Whether the address is still on its device's list (false once deleted). */
  live: boolean;
}

/** Remaining lifetimes of an address in seconds, as `ip -6 addr` prints valid_lft/preferred_lft. */
export interface Inet6Lifetimes {
  /** Seconds left, or INFINITY_LIFE_TIME for forever. */
  readonly valid: number;
  readonly preferred: number;
}

/** A joined IPv6 multicast group on a device (struct ifmcaddr6), for `ip -6 maddr`. */
export interface Ifmcaddr6 {
  readonly addr: Ipv6Addr;
  /** Link-layer multicast address added to the device (33:33:xx:xx:xx:xx). */
  readonly mac: MacAddr;
  /** Reference count (joins). */
  users: number;
}

/** Per-device IPv6 configuration (struct ipv6_devconf), mirrored from net.ipv6.conf.<dev>.* sysctls. */
export interface Ipv6DevConf {
  forwarding: number;
  hop_limit: number;
  mtu6: number;
  accept_ra: number;
  accept_redirects: number;
  autoconf: number;
  dad_transmits: number;
  rtr_solicits: number;
  rtr_solicit_interval: number;
  rtr_solicit_max_interval: number;
  rtr_solicit_delay: number;
  use_tempaddr: number;
  disable_ipv6: number;
  accept_dad: number;
  addr_gen_mode: number;
  keep_addr_on_down: number;
  ndisc_notify: number;
  force_mld_version: number;
  mldv1_unsolicited_report_interval: number;
  mldv2_unsolicited_report_interval: number;
  accept_ra_defrtr: number;
  accept_ra_pinfo: number;
  accept_ra_min_hop_limit: number;
  accept_ra_mtu: number;
  ignore_routes_with_linkdown: number;
  drop_unsolicited_na: number;
  accept_untracked_na: number;
  [key: string]: number;
}

/** Per-device IPv6 state (struct inet6_dev), in `dev.slots`. */
export interface Inet6Dev {
  readonly dev: NetDevice;
  /** Addresses in Linux list order (what `ip -6 addr` dumps). */
  readonly addrs: Inet6Ifaddr[];
  /** Joined groups, most recent first (as Linux's mc_list). */
  readonly mcList: Ifmcaddr6[];
  /** Configuration (sysctl values of net.ipv6.conf.<dev>). */
  readonly cnf: Ipv6DevConf;
  /** IF_READY / IF_RS_SENT / IF_RA_RCVD ... (if_flags). */
  ifFlags: number;
  /** Router solicitations sent so far. */
  rsProbes: number;
  /** Pending router solicitation timer. */
  rsTimer: Timer | null;
  /** Whether the device is being torn down. */
  dead: boolean;
}

/** A route in a fib6 table (struct fib6_info), as `ip -6 route` dumps it. */
export interface Fib6Route {
  /** RT_TABLE_* or a user table id. */
  readonly table: number;
  readonly dst: Ipv6Addr;
  readonly dstLen: number;
  /** Source prefix (subtrees); ::/0 normally. */
  readonly src: Ipv6Addr;
  readonly srcLen: number;
  /** RTN_* type. */
  readonly type: number;
  /** RTPROT_*. */
  protocol: number;
  /** Metric (rtm priority). */
  readonly metric: number;
  /** Output device (lo for reject routes, as Linux reports). */
  dev: NetDevice;
  /** Gateway, or null for on-link routes. */
  gateway: Ipv6Addr | null;
  /** Preferred source (RTA_PREFSRC), or null. */
  prefsrc: Ipv6Addr | null;
  /** ICMPV6_ROUTER_PREF_*. */
  pref: number;
  /** Absolute expiry time (ns) or null. */
  expires: bigint | null;
  /** RTF_* flags. */
  flags: number;
  /** RTNH_F_ONLINK when added with `onlink`. */
  nhFlags: number;
  /** RTAX_* metrics given at creation (mtu, hoplimit, advmss ...), printed by `ip route`. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** Netlink request flags of RTM_NEWROUTE/NEWADDR (NLM_F_CREATE/EXCL/REPLACE/APPEND). */
export interface NlFlags {
  readonly create?: boolean;
  readonly excl?: boolean;
  readonly replace?: boolean;
  readonly append?: boolean;
}

/** An `ip -6 route add/del/replace` request (struct fib6_config). */
export interface Fib6Config extends NlFlags {
  readonly table?: number;
  readonly dst: Ipv6Addr;
  readonly dstLen: number;
  readonly src?: Ipv6Addr;
  readonly srcLen?: number;
  /** RTN_*; default unicast. */
  readonly type?: number;
  /** RTPROT_*; default boot (as `ip route add`). */
  readonly protocol?: number;
  /** Metric; 0/absent = 1024 on add, "any" on delete. */
  readonly metric?: number;
  readonly dev?: NetDevice;
  readonly gateway?: Ipv6Addr;
  readonly prefsrc?: Ipv6Addr;
  readonly pref?: number;
  /** Lifetime in seconds (RTA_EXPIRES). */
  readonly expires?: number;
  readonly onlink?: boolean;
  readonly metrics?: Readonly<Record<string, number>>;
}

/** An `ip -6 addr add/change/replace` request. */
export interface Inet6AddrConfig extends NlFlags {
  readonly addr: Ipv6Addr;
  readonly prefixLen: number;
  readonly peer?: Ipv6Addr;
  /** IFA_F_NODAD / NOPREFIXROUTE / MANAGETEMPADDR / HOMEADDRESS / MCAUTOJOIN / OPTIMISTIC. */
  readonly flags?: number;
  /** Seconds; default forever. */
  readonly validLft?: number;
  readonly preferredLft?: number;
  /** IFA_RT_PRIORITY (`metric N`). */
  readonly metric?: number;
}

/** A flow to route (struct flowi6). */
export interface Flow6 {
  readonly daddr: Ipv6Addr;
  /** Source address, or 0n / undefined for "pick one". */
  readonly saddr?: Ipv6Addr;
  /** Output interface (ifindex); strict: no route via it → ENETUNREACH. */
  readonly oif?: number;
  /** Input interface (for `ip route get ... iif`). */
  readonly iif?: number;
  readonly mark?: number;
  readonly flowlabel?: number;
  /** Upper-layer protocol (flowi6_proto). */
  readonly proto?: number;
  /** Do not select a source address (RT6_LOOKUP_F_ANY semantics / no saddr needed). */
  readonly anySrc?: boolean;
}

/** The result of a route lookup (struct rt6_info as a dst_entry). */
export interface Rt6Dst {
  /** null on success; else the errno a sender gets (ENETUNREACH, EHOSTUNREACH, EACCES, EINVAL). */
  readonly error: ErrnoName | null;
  /** The route that matched (null for the null entry). */
  readonly route: Fib6Route | null;
  /** Output device (lo for local delivery and reject routes). */
  readonly dev: NetDevice;
  /** Next hop to resolve with ND (gateway, or daddr itself when on-link). */
  readonly nexthop: Ipv6Addr;
  /** Chosen source address (flow saddr, route prefsrc, or ipv6_dev_get_saddr), 0n if none. */
  readonly saddr: Ipv6Addr;
  /** RTN_* of the matched route. */
  readonly type: number;
  /** Path MTU towards the destination. */
  readonly mtu: number;
  /** Hop limit for unicast packets (route metric or the device's hop_limit). */
  readonly hopLimit: number;
}

/** What `ip -6 route get` prints (one dst, with the flow's addresses). */
export interface Rt6GetResult extends Rt6Dst {
  readonly daddr: Ipv6Addr;
  readonly iif: NetDevice | null;
}

/** The surface iproute2, ipvlan and userland tools use (functions exported from ipv6/index.ts). */
export interface Ipv6Api {
  /** Registers pernet state, the 0x86dd handler, netdev notifiers and sysctls. */
  ipv6Init(kernel: Kernel): void;
  /** The device's inet6_dev, or undefined (IPv6 disabled / not yet registered). */
  inet6Dev(dev: NetDevice): Inet6Dev | undefined;
  /** Addresses of one device in dump order. */
  ipv6DevAddrs(dev: NetDevice): readonly Inet6Ifaddr[];
  /** Remaining valid/preferred lifetimes now. */
  inet6AddrLifetimes(ifa: Inet6Ifaddr): Inet6Lifetimes;
  /** RTM_NEWADDR: adds (or with replace, changes) an address. Errors: EEXIST, EINVAL, ENODEV, EACCES (disable_ipv6). */
  inet6AddrAdd(dev: NetDevice, cfg: Inet6AddrConfig): Inet6Ifaddr;
  /** RTM_DELADDR: removes an address (EADDRNOTAVAIL if absent). */
  inet6AddrDel(dev: NetDevice, addr: Ipv6Addr, prefixLen?: number): void;
  /** Every route of a namespace in `ip -6 route show table all` order. */
  ip6RouteDump(net: NetNamespace): readonly Fib6Route[];
  /** RTM_NEWROUTE (add/replace/append per cfg flags). */
  ip6RouteAdd(net: NetNamespace, cfg: Fib6Config): Fib6Route;
  /** RTM_DELROUTE (ESRCH when nothing matches). */
  ip6RouteDel(net: NetNamespace, cfg: Partial<Fib6Config>): void;
  /** ip6_route_output: the dst for locally generated traffic (never throws; see `error`). */
  ip6RouteOutput(net: NetNamespace, flow: Flow6): Rt6Dst;
  /** `ip -6 route get`: output lookup, or input lookup when flow.iif is set. Throws KernelError. */
  ip6RouteGet(net: NetNamespace, flow: Flow6): Rt6GetResult;
  /**
   * ip6_local_out: sends an IPv6 packet along `route` (LOCAL_OUT, POST_ROUTING, neighbour output).
   * `skb.data.subarray(skb.network)` is the bare IPv6 packet (headers filled, payload length set);
   * anything before skb.network (an old link-layer header) is discarded. Returns 0 or -errno.
   */
  ip6LocalOut(net: NetNamespace, skb: SkBuff, route: Rt6Dst): number;
  /** ipv6_rcv: the 0x86dd protocol handler (skb.data from the link-layer header, skb.network set). */
  ipv6Rcv(skb: SkBuff): void;
  /** Joined multicast groups of a device (`ip -6 maddr`). */
  ipv6DevMcList(dev: NetDevice): readonly Ifmcaddr6[];
}
