/**
 * IPv6 routing (net/ipv6/route.c): output and input route lookups producing a dst (Rt6Dst),
 * `ip -6 route add/del/replace` with Linux's validation and errors, `ip -6 route get`, and the
 * path MTU learned from Packet Too Big messages.
 */
import { type Ipv6Addr, ipv6IsLinkLocal, ipv6IsMulticast } from "../../wire/index.ts";
import { NSEC_PER_SEC } from "../clock.ts";
import { type ErrnoName, fail } from "../errno.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { ipv6ChkAddr, ipv6DevGetSaddr, ipv6NeedStrict } from "./addr-util.ts";
import {
  fib6DumpAll,
  fib6Insert,
  fib6Remove,
  fib6RuleLookup,
  fib6Table,
  fib6TableLookup,
  newFib6Route,
} from "./fib6.ts";
import { confInt, netInt } from "./sysctl.ts";
import { in6DevGet, ipv6Net } from "./state.ts";
import {
  type Fib6Config,
  type Fib6Route,
  type Flow6,
  IP6_RT_PRIO_USER,
  type Rt6Dst,
  type Rt6GetResult,
  RT_TABLE,
  RTF,
  RTN,
  RTNH_F,
  RTPROT,
} from "./types.ts";

/** The errno a reject route gives its users (ip6_pkt_discard / dst->error). */
export function rejectErrno(type: number): ErrnoName | null {
  switch (type) {
    case RTN.BLACKHOLE:
      return "EINVAL";
    case RTN.UNREACHABLE:
      return "EHOSTUNREACH";
    case RTN.PROHIBIT:
      return "EACCES";
    case RTN.THROW:
      return "EAGAIN";
    default:
      return null;
  }
}

/** The MTU of a route's path: route metric, learned PMTU, else the device's IPv6 MTU. */
function pathMtu(net: NetNamespace, dev: NetDevice, route: Fib6Route | null, daddr: Ipv6Addr): number {
  let mtu = route?.metrics.mtu ?? 0;
  if (!mtu) mtu = in6DevGet(dev)?.cnf.mtu ?? dev.mtu;
  const learned = ipv6Net(net).pmtu.get(daddr);
  if (learned) {
    if (learned.expires <= net.kernel.now) ipv6Net(net).pmtu.delete(daddr);
    else if (learned.mtu < mtu) mtu = learned.mtu;
  }
  return mtu;
}

function hopLimitOf(net: NetNamespace, dev: NetDevice, route: Fib6Route | null): number {
  const h = route?.metrics.hoplimit;
  if (h) return h;
  return in6DevGet(dev)?.cnf.hop_limit ?? confInt(net, "all", "hop_limit");
}

/** Builds the dst for a route result (null = ip6_null_entry: ENETUNREACH via lo). */
function makeDst(net: NetNamespace, route: Fib6Route | null, daddr: Ipv6Addr, saddr: Ipv6Addr): Rt6Dst {
  const lo = net.loopback;
  if (!route) {
    return {
      error: "ENETUNREACH",
      route: null,
      dev: lo,
      nexthop: daddr,
      saddr,
      type: RTN.UNREACHABLE,
      mtu: lo.mtu,
      hopLimit: 64,
    };
  }
  const err = route.flags & RTF.REJECT ? (rejectErrno(route.type) ?? "ENETUNREACH") : null;
  const local = route.type === RTN.LOCAL || route.type === RTN.ANYCAST;
  const dev = err || local ? lo : route.dev;
  let src = saddr;
  if (src === 0n && !err) src = route.prefsrc ?? ipv6DevGetSaddr(net, route.dev, daddr) ?? 0n;
  return {
    error: err,
    route,
    dev,
    nexthop: route.gateway ?? daddr,
    saddr: src,
    type: route.type,
    mtu: pathMtu(net, dev, route, daddr),
    hopLimit: hopLimitOf(net, route.dev, route),
  };
}

/**
 * ip6_route_output: strict output interface for link-local/multicast/loopback destinations and
 * whenever an oif is given without a source (no route through it: ENETUNREACH). Never throws;
 * check `error`. The source is filled in when one can be chosen (0n otherwise).
 */
export function ip6RouteOutput(net: NetNamespace, flow: Flow6): Rt6Dst {
  const saddr = flow.saddr ?? 0n;
  const oif = flow.oif ?? 0;
  const strict = ipv6NeedStrict(flow.daddr) || (oif !== 0 && saddr === 0n);
  const reachable = !confInt(net, "all", "forwarding");
  const route = fib6RuleLookup(net, flow.daddr, { oif, strict, reachable, saddr });
  return makeDst(net, route, flow.daddr, saddr);
}

/**
 * ip6_dst_lookup_flow: ip6_route_output plus source address selection; a flow that needs a
 * source and cannot get one fails with EADDRNOTAVAIL.
 */
export function ip6DstLookup(net: NetNamespace, flow: Flow6): Rt6Dst {
  const dst = ip6RouteOutput(net, flow);
  if (dst.error) return dst;
  if (dst.saddr === 0n && !flow.anySrc) return { ...dst, error: "EADDRNOTAVAIL" };
  return dst;
}

/**
 * ip6_route_input: the route of a received packet, looked up with the input device as oif
 * (strict for link-local/multicast destinations).
 */
export function ip6RouteInput(net: NetNamespace, dev: NetDevice, daddr: Ipv6Addr, saddr: Ipv6Addr): Rt6Dst {
  const strict = ipv6NeedStrict(daddr);
  const reachable = !confInt(net, "all", "forwarding");
  const route = fib6RuleLookup(net, daddr, { oif: dev.ifindex, strict, reachable, saddr });
  const dst = makeDst(net, route, daddr, 0n);
  return route && !dst.error ? { ...dst, dev: route.dev } : dst;
}

/** `ip -6 route get`: the output (or, with iif, input) route; reject results throw their errno. */
export function ip6RouteGet(net: NetNamespace, flow: Flow6): Rt6GetResult {
  let dst: Rt6Dst;
  let iif: NetDevice | null = null;
  if (flow.iif) {
    iif = [...net.devices.values()].find((d) => d.ifindex === flow.iif) ?? null;
    if (!iif) fail("ENODEV");
    dst = ip6RouteInput(net, iif, flow.daddr, flow.saddr ?? 0n);
    if (dst.route?.type === RTN.LOCAL) dst = { ...dst, dev: net.loopback };
  } else {
    dst = ip6RouteOutput(net, flow);
  }
  if (dst.error) fail(dst.error);
  return { ...dst, daddr: flow.daddr, iif };
}

/** All routes, `ip -6 route show table all` order. */
export function ip6RouteDump(net: NetNamespace): readonly Fib6Route[] {
  return fib6DumpAll(net);
}

/** ip6_route_check_nh: a non-link-local gateway must be reachable through a connected route. */
function checkNexthop(net: NetNamespace, table: number, gw: Ipv6Addr, dev: NetDevice | null): NetDevice {
  const opts = { oif: dev?.ifindex ?? 0, strict: dev !== null, reachable: false, saddr: 0n };
  let r: Fib6Route | null = fib6TableLookup(net, table, gw, opts);
  if (!r || r.flags & RTF.REJECT || r.gateway !== null || (dev && dev !== r.dev)) {
    r = fib6RuleLookup(net, gw, opts);
    if (!r || r.flags & RTF.REJECT || r.gateway !== null || r.type !== RTN.UNICAST) fail("EHOSTUNREACH");
  }
  if (dev && dev !== r.dev) fail("EHOSTUNREACH");
  return r.dev;
}

/**
 * ip6_route_add (ip6_route_info_create + fib6_nh_init + ip6_validate_gw): validates like Linux
 * (ENODEV, "Egress device not specified", "Gateway can not be a local address",
 * EHOSTUNREACH for unreachable gateways, "Nexthop device is not up", "Invalid source address")
 * and inserts with the request's NLM flags (default: create + excl, as `ip route add`).
 */
export function ip6RouteAdd(net: NetNamespace, cfg: Fib6Config): Fib6Route {
  if (cfg.dstLen < 0 || cfg.dstLen > 128) fail("EINVAL");
  const type = cfg.type ?? RTN.UNICAST;
  const table = cfg.table ?? RT_TABLE.MAIN;
  let dev: NetDevice | null = cfg.dev ?? null;
  let flags = 0;
  if (type === RTN.LOCAL) flags |= RTF.LOCAL;
  if (type === RTN.ANYCAST) flags |= RTF.ANYCAST;
  const reject =
    type === RTN.BLACKHOLE || type === RTN.UNREACHABLE || type === RTN.PROHIBIT || type === RTN.THROW;
  if (dev && !in6DevGet(dev)) fail("ENODEV");
  if (cfg.onlink) {
    if (!dev) fail("EINVAL", "Nexthop device required for onlink");
    if (!dev.isUp) fail("ENETDOWN", "Nexthop device is not up");
  }
  const viaLo =
    dev !== null &&
    (dev.flags & IFF.LOOPBACK) !== 0 &&
    cfg.dst !== 1n &&
    !(flags & (RTF.LOCAL | RTF.ANYCAST));
  let gateway: Ipv6Addr | null = null;
  if (reject || viaLo) {
    flags |= RTF.REJECT;
    dev = net.loopback;
  } else {
    if (cfg.gateway !== undefined && cfg.gateway !== 0n) {
      const gw = cfg.gateway;
      gateway = gw;
      flags |= RTF.GATEWAY;
      if (dev && ipv6ChkAddr(net, gw, dev, false, 0)) fail("EINVAL", "Gateway can not be a local address");
      if (!ipv6IsLinkLocal(gw)) {
        if (ipv6IsMulticast(gw) || gw === 0n) fail("EINVAL", "Invalid gateway address");
        if (!cfg.onlink) dev = checkNexthop(net, table, gw, dev);
      }
      if (!dev) fail("EINVAL", "Egress device not specified");
      if (dev.flags & IFF.LOOPBACK) fail("EINVAL", "Egress device can not be loopback device for this route");
      if (ipv6ChkAddr(net, gw, dev, false, 0)) fail("EINVAL", "Gateway can not be a local address");
    }
    if (!dev) fail("ENODEV");
    const idev = in6DevGet(dev);
    if (!idev) fail("ENODEV");
    if (idev.cnf.disable_ipv6) fail("EACCES", "IPv6 is disabled on nexthop device");
    if (!dev.isUp) fail("ENETDOWN", "Nexthop device is not up");
  }
  if (cfg.prefsrc !== undefined && cfg.prefsrc !== 0n && !ipv6ChkAddr(net, cfg.prefsrc, dev, false)) {
    fail("EINVAL", "Invalid source address");
  }
  const route = newFib6Route({
    table,
    dst: cfg.dst,
    dstLen: cfg.dstLen,
    src: cfg.src ?? 0n,
    srcLen: cfg.srcLen ?? 0,
    type: viaLo ? RTN.UNREACHABLE : type,
    protocol: cfg.protocol ?? RTPROT.BOOT,
    metric: cfg.metric || IP6_RT_PRIO_USER,
    dev: dev!,
    gateway,
    prefsrc: cfg.prefsrc && cfg.prefsrc !== 0n ? cfg.prefsrc : null,
    pref: cfg.pref ?? 0,
    expires: cfg.expires ? net.kernel.now + BigInt(cfg.expires) * NSEC_PER_SEC : null,
    flags,
    nhFlags: cfg.onlink ? RTNH_F.ONLINK : 0,
    metrics: cfg.metrics ?? {},
  });
  const nl =
    cfg.create === undefined &&
    cfg.excl === undefined &&
    cfg.replace === undefined &&
    cfg.append === undefined
      ? { create: true, excl: true }
      : cfg;
  return fib6Insert(net, route, nl);
}

/**
 * ip6_route_del: the first route of the exact prefix matching the given device, gateway,
 * metric and protocol goes. ESRCH when the table or a match is missing.
 */
export function ip6RouteDel(net: NetNamespace, cfg: Partial<Fib6Config>): void {
  const tableId = cfg.table ?? RT_TABLE.MAIN;
  const table = fib6Table(net, tableId, false);
  if (!table) fail("ESRCH", "FIB table does not exist");
  const dstLen = cfg.dstLen ?? 0;
  const route = newFib6Route({
    dst: cfg.dst ?? 0n,
    dstLen,
    src: cfg.src ?? 0n,
    srcLen: cfg.srcLen ?? 0,
    protocol: 0,
    metric: 0,
    dev: net.loopback,
  });
  for (const r of table) {
    if (r.dst !== route.dst || r.dstLen !== dstLen || r.src !== route.src || r.srcLen !== route.srcLen)
      continue;
    if (cfg.dev && r.dev !== cfg.dev) continue;
    if (cfg.gateway !== undefined && cfg.gateway !== 0n && r.gateway !== cfg.gateway) continue;
    if (cfg.metric && cfg.metric !== r.metric) continue;
    if (cfg.protocol && cfg.protocol !== r.protocol) continue;
    fib6Remove(net, r);
    return;
  }
  fail("ESRCH");
}

/** rt6_pmtu_update: a Packet Too Big lowers the path MTU towards daddr for mtu_expires seconds. */
export function rt6PmtuUpdate(net: NetNamespace, daddr: Ipv6Addr, mtu: number): void {
  if (mtu < 1280) mtu = 1280;
  const expires = net.kernel.now + BigInt(netInt(net, "route.mtu_expires") || 600) * NSEC_PER_SEC;
  const have = ipv6Net(net).pmtu.get(daddr);
  if (have && have.mtu <= mtu && have.expires > net.kernel.now) return;
  ipv6Net(net).pmtu.set(daddr, { mtu, expires });
}
