/**
 * The IPv6 stack of the simulated kernel: addrconf (link-local with dev_id, DAD, SLAAC),
 * fib6 routes, neighbour discovery on the generic neighbour table, MLDv2, input/output/forward,
 * ICMPv6, UDPv6 and ICMPv6 echo sockets. `ipv6Init(kernel)` wires it into a kernel.
 */
import { EtherType } from "../../wire/index.ts";
import type { Kernel } from "../kernel.ts";
import type { NetNamespace } from "../netns.ts";
import { neighTableRegister, neighTableUnregister } from "../neigh/admin.ts";
import { ipv6AddDev } from "./addrconf.ts";
import { addrconfUp } from "./addrconf-dad.ts";
import { ipv6Rcv } from "./input.ts";
import { ipv6NetdevEvent, ipv6SysctlHandlers } from "./lifecycle.ts";
import { ndiscTableInit } from "./ndisc.ts";
import { setLoopbackRcv } from "./output.ts";
import { routerDiscInit } from "./router-disc.ts";
import { IPV6_NET, type Ipv6Net } from "./state.ts";
import { ipv6SysctlNetInit } from "./sysctl.ts";

export type {
  Fib6Config,
  Fib6Route,
  Flow6,
  Ifmcaddr6,
  Inet6AddrConfig,
  Inet6Dev,
  Inet6Ifaddr,
  Inet6Lifetimes,
  Ipv6Api,
  Ipv6DevConf,
  NlFlags,
  Rt6Dst,
  Rt6GetResult,
} from "./types.ts";
export {
  ICMPV6_ROUTER_PREF,
  IN6_ADDR_GEN_MODE,
  IP6_RT_PRIO_ADDRCONF,
  IP6_RT_PRIO_USER,
  RTF,
} from "./types.ts";
/** RTPROT_RA: routes learned from router advertisements (`proto ra`). */
export const RTPROT_RA = 9;
export {
  inet6AddrAdd,
  inet6AddrDel,
  inet6AddrLifetimes,
  addrconfLinkReady,
  IPV6_MIN_MTU,
} from "./addrconf.ts";
export { ipv6DevGetSaddr, ipv6ChkAddr, ipv6GetIfaddr, ipv6AddrRtScope } from "./addr-util.ts";
export { fib6NhFlags, fib6TableOrder } from "./fib6.ts";
export { ipv6Rcv } from "./input.ts";
export { ipv6DevMcList, ipv6ChkMcastAddr, ipv6DevMcInc, ipv6DevMcDec } from "./mcast.ts";
export { ip6LocalOut, buildIpv6Packet, buildIcmpv6Packet } from "./output.ts";
export { type Ping6Reply, type Ping6SendOptions, Ping6Socket, ping6Socket, type Pmtu6Disc } from "./ping.ts";
export {
  ip6DstLookup,
  ip6RouteAdd,
  ip6RouteDel,
  ip6RouteDump,
  ip6RouteGet,
  ip6RouteInput,
  ip6RouteOutput,
  rejectErrno,
} from "./route.ts";
export type { SockExtendedErr6 } from "./sock-common.ts";
export { icmpv6ErrConvert } from "./sock-common.ts";
export { in6DevGet as inet6Dev, ipv6Net } from "./state.ts";
export { type Udp6Datagram, Udp6Socket, udp6Socket } from "./udp.ts";
export { IPV6_CONF_DEFAULTS } from "./sysctl.ts";

import type { NetDevice } from "../netdev.ts";
import { in6DevGet } from "./state.ts";
import type { Inet6Ifaddr } from "./types.ts";

/** Addresses of one device in dump order (`ip -6 addr show dev X`). */
export function ipv6DevAddrs(dev: NetDevice): readonly Inet6Ifaddr[] {
  return in6DevGet(dev)?.addrs ?? [];
}

/** The nd_tbl of a namespace (`ip -6 neigh`). */
export function ndTable(net: NetNamespace) {
  return net.slots.must(IPV6_NET).ndTbl;
}

/** SNMP6 counters of a namespace (/proc/net/snmp6), by name. */
export function ipv6Snmp(net: NetNamespace): ReadonlyMap<string, number> {
  return net.slots.must(IPV6_NET).mib;
}

function pernetInit(net: NetNamespace): void {
  if (net.slots.get(IPV6_NET)) return;
  ipv6SysctlNetInit(net);
  const ndTbl = ndiscTableInit(net);
  const st: Ipv6Net = {
    net,
    tables: new Map([
      [255, []],
      [254, []],
    ]),
    ndTbl,
    udpSocks: new Set(),
    pingSocks: new Set(),
    icmpPeers: new Map(),
    mib: new Map(),
    frags: new Map(),
    fragIdent: 0,
    routeTimers: new Map(),
    pmtu: new Map(),
    icmpGlobal: { credit: 50, stamp: net.kernel.now },
  };
  net.slots.set(IPV6_NET, st);
  neighTableRegister(net, ndTbl);
  ipv6SysctlHandlers(net);
  // Devices registered before IPv6 came up (lo of existing namespaces) get their inet6_dev now.
  for (const dev of net.devicesInOrder()) {
    ipv6AddDev(dev);
    if (dev.isUp) addrconfUp(dev, "UP");
  }
}

function pernetExit(net: NetNamespace): void {
  const st = net.slots.get(IPV6_NET);
  if (!st) return;
  for (const t of st.routeTimers.values()) net.kernel.loop.cancel(t);
  for (const q of st.frags.values()) net.kernel.loop.cancel(q.timer);
  neighTableUnregister(net, 6);
}

/**
 * Registers IPv6 in a kernel: per-namespace state (tables local/main, nd_tbl, sysctls with Linux
 * defaults), the EtherType 0x86dd handler and the netdev notifier. Idempotent.
 */
export function ipv6Init(kernel: Kernel): void {
  if (kernel.protocols.get(EtherType.Ipv6) === ipv6Rcv) return;
  routerDiscInit();
  setLoopbackRcv(ipv6Rcv);
  kernel.registerProtocol(EtherType.Ipv6, ipv6Rcv);
  kernel.netdevChain.register(ipv6NetdevEvent);
  kernel.registerPernet({ name: "ipv6", init: pernetInit, exit: pernetExit });
}
