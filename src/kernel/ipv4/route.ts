/**
 * Route resolution (net/ipv4/route.c): output routes for locally generated packets
 * (ip_route_output_key_hash_rcu + __mkroute_output), input routes for received packets
 * (ip_route_input_slow: local delivery, broadcast, forwarding, martians, unreachable), source
 * validation (fib_validate_source) and learned path MTUs.
 */
import type { ErrnoName } from "../errno.ts";
import { NUD_VALID } from "../neigh/types.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { ipCheckMc, inDevGet, inetIfaMatch, inetLookupIfaddr, inetSelectAddr, ipDevFind } from "./devinet.ts";
import type { FibResult } from "./fib-table.ts";
import { FIB_LOOKUP } from "./fib-table.ts";
import { fibLookup, fibResultPrefsrc } from "./fib.ts";
import { IPPROTO, isLbcast, isLocalMulticast, isLoopback, isMulticast, isZeronet } from "./hdr.ts";
import { ipv4Net } from "./state.ts";
import { inDevAndconf, inDevForward, inDevMaxconf, inDevOrconf } from "./sysctl.ts";
import { type Flowi4, type RouteResult, type Rtable, RT_SCOPE, RTCF, RTN, type RouteType } from "./types.ts";

/** IP_MAX_MTU. */
const IP_MAX_MTU = 0xfff0;

/** The path MTU toward daddr on dev (dst_mtu: learned PMTU, route mtu metric, device MTU). */
export function routeMtu(net: NetNamespace, dev: NetDevice, daddr: number, res: FibResult | null): number {
  const ex = ipv4Net(net).pmtu.get(daddr);
  let mtu = res?.route.metrics.mtu ?? dev.mtu;
  if (ex) {
    if (ex.expires > net.kernel.now) mtu = Math.min(mtu, ex.mtu);
    else ipv4Net(net).pmtu.delete(daddr);
  }
  return Math.min(mtu, IP_MAX_MTU);
}

/** __mkroute_output: the route object, with broadcast/multicast/local flags and the gateway. */
function mkrouteOutput(
  net: NetNamespace,
  res: FibResult | null,
  resType: number,
  saddr: number,
  daddr: number,
  origOif: number,
  devOut: NetDevice,
  flags0: number,
): RouteResult {
  if (!inDevGet(devOut)) return "EINVAL";
  if (!inDevOrconf(devOut, "route_localnet") && isLoopback(saddr) && !(devOut.flags & IFF.LOOPBACK))
    return "EINVAL";
  let type = resType;
  let flags = flags0;
  let fi = res;
  if (isLbcast(daddr)) type = RTN.BROADCAST;
  else if (isMulticast(daddr)) type = RTN.MULTICAST;
  else if (isZeronet(daddr)) return "EINVAL";
  if (devOut.flags & IFF.LOOPBACK) flags |= RTCF.LOCAL;
  if (type === RTN.BROADCAST) {
    flags |= RTCF.BROADCAST | RTCF.LOCAL;
    fi = null;
  } else if (type === RTN.MULTICAST) {
    flags |= RTCF.MULTICAST | RTCF.LOCAL;
    if (!ipCheckMc(devOut, daddr)) flags &= ~RTCF.LOCAL;
    if (fi && fi.prefixLen < 4) fi = null;
  }
  const nh = fi?.nh;
  let gateway = nh?.gw && nh.scope === RT_SCOPE.LINK ? nh.gw : 0;
  const redirected = gateway ? redirectException(net, devOut, daddr) : 0;
  if (redirected) {
    gateway = redirected;
    flags |= RTCF.REDIRECTED;
  }
  return {
    dev: devOut,
    type: type as RouteType,
    nexthop: gateway || daddr,
    gateway,
    saddr,
    daddr,
    flags: flags >>> 0,
    mtu: routeMtu(net, devOut, daddr, fi),
    fib: fi?.route ?? null,
    table: fi?.table ?? 0,
    iif: origOif,
    action: "output",
    error: null,
  };
}

/**
 * ip_route_output_flow for IPv4: picks the output device, next hop and source address.
 * With `oif`, only nexthops through that device qualify, and when none does the destination is
 * assumed on-link on it (Linux's "apparently, routing tables are wrong" rule). `anySrc`
 * (FLOWI_FLAG_ANYSRC) allows a saddr that is not local. Local destinations route through `lo`.
 * Returns the route or the errno the caller reports (ENETUNREACH, EHOSTUNREACH, EACCES, EINVAL,
 * ENODEV).
 */
export function ipRouteOutput(net: NetNamespace, flow: Flowi4): RouteResult {
  let saddr = flow.saddr >>> 0;
  let daddr = flow.daddr >>> 0;
  let oif = flow.oif ?? 0;
  let origOif = oif;
  const scope = flow.scope ?? RT_SCOPE.UNIVERSE;
  let devOut: NetDevice | undefined;
  if (saddr) {
    if (isMulticast(saddr) || isLbcast(saddr) || isZeronet(saddr)) return "EINVAL";
    if (oif === 0 && (isMulticast(daddr) || isLbcast(daddr))) {
      devOut = ipDevFind(net, saddr);
      if (!devOut) return "ENETUNREACH";
      return mkrouteOutput(net, null, RTN.UNSPEC, saddr, daddr, origOif, devOut, 0);
    }
    if (!flow.anySrc && !ipDevFind(net, saddr)) return "ENETUNREACH";
  }
  if (oif) {
    devOut = net.devices.get(oif);
    if (!devOut) return "ENODEV";
    if (!devOut.isUp || !inDevGet(devOut)) return "ENETUNREACH";
    if (isLocalMulticast(daddr) || isLbcast(daddr)) {
      if (!saddr) saddr = inetSelectAddr(devOut, 0, RT_SCOPE.LINK);
      return mkrouteOutput(net, null, RTN.UNSPEC, saddr, daddr, origOif, devOut, 0);
    }
    if (!saddr) {
      if (isMulticast(daddr)) saddr = inetSelectAddr(devOut, 0, scope);
      else if (!daddr) saddr = inetSelectAddr(devOut, 0, RT_SCOPE.HOST);
    }
  }
  if (!daddr) {
    daddr = saddr;
    if (!daddr) daddr = saddr = 0x7f000001;
    oif = 1;
    return mkrouteOutput(net, null, RTN.LOCAL, saddr, daddr, origOif, net.loopback, RTCF.LOCAL);
  }
  const fl: Flowi4 = {
    daddr,
    saddr,
    oif,
    scope,
    ...(flow.tos ? { tos: flow.tos } : {}),
    ...(flow.mark ? { mark: flow.mark } : {}),
  };
  const res = fibLookup(net, fl);
  if (typeof res === "string") {
    if (oif && devOut) {
      if (!saddr) saddr = inetSelectAddr(devOut, 0, RT_SCOPE.LINK);
      return mkrouteOutput(net, null, RTN.UNICAST, saddr, daddr, origOif, devOut, 0);
    }
    return res;
  }
  if (res.type === RTN.LOCAL) {
    if (!saddr) saddr = res.route.prefsrc || daddr;
    origOif = res.nh?.dev?.ifindex ?? 0;
    return mkrouteOutput(net, res, RTN.LOCAL, saddr, daddr, origOif, net.loopback, RTCF.LOCAL);
  }
  if (!saddr) saddr = fibResultPrefsrc(res);
  const dev = res.nh?.dev;
  if (!dev) return "EINVAL";
  return mkrouteOutput(net, res, res.type, saddr, daddr, origOif, dev, 0);
}

/** The gateway a redirect taught us for daddr through dev (0 if none or expired). */
function redirectException(net: NetNamespace, dev: NetDevice, daddr: number): number {
  const ex = ipv4Net(net).redirects.get(daddr);
  if (!ex || ex.dev !== dev) return 0;
  if (ex.expires <= net.kernel.now) {
    ipv4Net(net).redirects.delete(daddr);
    return 0;
  }
  return ex.gw;
}

/**
 * __ip_do_redirect: accepts "use newGw for daddr" from oldGw when our route to daddr goes
 * through oldGw on dev, redirects are accepted there (accept_redirects; shared_media or the new
 * gateway on-link; secure_redirects), and the new gateway's neighbour is already valid (otherwise
 * only its resolution starts). The exception lives ip_rt_gc_timeout (300 s).
 */
export function ipDoRedirect(dev: NetDevice, daddr: number, oldGw: number, newGw: number): boolean {
  const net = dev.netns;
  const rt = ipRouteOutput(net, { daddr, saddr: 0 });
  if (typeof rt === "string" || rt.gateway !== oldGw || rt.dev !== dev) return false;
  if (!inDevGet(dev)) return false;
  const rx = inDevForward(dev) ? inDevAndconf(dev, "accept_redirects") : inDevOrconf(dev, "accept_redirects");
  if (newGw === oldGw || !rx || isMulticast(newGw) || isLbcast(newGw) || isZeronet(newGw)) return false;
  if (!inDevOrconf(dev, "shared_media")) {
    if (!inetAddrOnlink(dev, newGw, oldGw)) return false;
  } else {
    const t = fibLookup(net, { daddr: newGw, saddr: 0 });
    if (typeof t !== "string" && t.type !== RTN.UNICAST) return false;
  }
  const arp = ipv4Net(net).arp;
  let n = arp.lookup(dev, newGw);
  if (!n) {
    try {
      n = arp.create(dev, newGw);
    } catch {
      return false;
    }
  }
  if (!(n.nudState & NUD_VALID)) {
    arp.eventSend(n, null);
    return false;
  }
  ipv4Net(net).redirects.set(daddr, { gw: newGw, dev, expires: net.kernel.now + 300n * 1_000_000_000n });
  return true;
}

/** IN_DEV_TX_REDIRECTS. */
function txRedirects(dev: NetDevice): boolean {
  return inDevOrconf(dev, "send_redirects");
}

/** inet_addr_onlink: a and (if given) b share a subnet of the device. */
function inetAddrOnlink(dev: NetDevice, a: number, b: number): boolean {
  return (inDevGet(dev)?.addrs ?? []).some((ifa) => inetIfaMatch(a, ifa) && (!b || inetIfaMatch(b, ifa)));
}

/**
 * fib_validate_source: is `src` a plausible source for a packet arriving on dev? Returns 1 when
 * it is directly connected through dev (a redirect may be sent), 0 when acceptable, or an errno
 * (EINVAL: martian — a local address or an unroutable source; EXDEV: reverse-path filter).
 */
export function fibValidateSource(
  src: number,
  dst: number,
  tos: number,
  oif: number,
  dev: NetDevice,
  mark = 0,
): number | ErrnoName {
  const net = dev.netns;
  const rpf = inDevMaxconf(dev, "rp_filter");
  if (!rpf && (dev.ifindex !== oif || !txRedirects(dev))) {
    if (inDevOrconf(dev, "accept_local")) return 0;
    if (!hasOnlyDefaultRules(net)) return fullValidate(src, dst, tos, oif, dev, rpf, mark);
    if (inetLookupIfaddr(net, src)) return "EINVAL";
    return 0;
  }
  return fullValidate(src, dst, tos, oif, dev, rpf, mark);
}

function hasOnlyDefaultRules(net: NetNamespace): boolean {
  const r = ipv4Net(net).rules;
  return r.length === 3 && r[0].table === 255 && r[1].table === 254 && r[2].table === 253;
}

/** __fib_validate_source. */
function fullValidate(
  src: number,
  dst: number,
  tos: number,
  oif: number,
  dev: NetDevice,
  rpf: number,
  mark: number,
): number | ErrnoName {
  const net = dev.netns;
  const noAddr = (inDevGet(dev)?.addrs.length ?? 0) === 0;
  const markUse = inDevOrconf(dev, "src_valid_mark") ? mark : 0;
  const fl: Flowi4 = { daddr: src, saddr: dst, tos, iif: oif || 1, scope: RT_SCOPE.UNIVERSE, mark: markUse };
  const res = fibLookup(net, fl);
  if (typeof res === "string") return rpf ? "EXDEV" : 0;
  if (res.type !== RTN.UNICAST && (res.type !== RTN.LOCAL || !inDevOrconf(dev, "accept_local")))
    return "EINVAL";
  const devMatch =
    res.route.nexthops.some((n) => n.dev === dev) || (res.type === RTN.LOCAL && dev === net.loopback);
  if (devMatch) return (res.nh?.scope ?? 0) >= RT_SCOPE.HOST ? 1 : 0;
  if (noAddr) return rpf ? "EXDEV" : 0;
  if (rpf === 1) return "EXDEV";
  const res2 = fibLookup(net, { ...fl, oif: dev.ifindex }, FIB_LOOKUP.IGNORE_LINKSTATE);
  if (typeof res2 !== "string" && res2.type === RTN.UNICAST)
    return (res2.nh?.scope ?? 0) >= RT_SCOPE.HOST ? 1 : 0;
  return 0;
}

function inputRoute(
  dev: NetDevice,
  type: number,
  flags: number,
  saddr: number,
  daddr: number,
  action: Rtable["action"],
  error: ErrnoName | null,
  res: FibResult | null,
  out: NetDevice = dev.netns.loopback,
): Rtable {
  const nh = res?.nh;
  const gateway = action === "forward" && nh?.gw && nh.scope === RT_SCOPE.LINK ? nh.gw : 0;
  return {
    dev: out,
    type: type as RouteType,
    nexthop: gateway || daddr,
    gateway,
    saddr,
    daddr,
    flags: flags >>> 0,
    mtu: action === "forward" ? routeMtu(dev.netns, out, daddr, res) : out.mtu,
    fib: res?.route ?? null,
    table: res?.table ?? 0,
    iif: dev.ifindex,
    action,
    error,
  };
}

/** Options of an input route lookup. */
export interface InputRouteOpts {
  readonly tos?: number;
  readonly mark?: number;
  /** The IP protocol (IGMP may come from 0.0.0.0 to a group). */
  readonly protocol?: number;
  /** The lookup is for an ARP packet (proxy ARP rules), not an IP packet. */
  readonly arp?: boolean;
}

/**
 * ip_route_input_noref / ip_route_input_slow: what to do with a packet from `saddr` to
 * `daddr` received on dev: deliver locally (local, broadcast, joined multicast), forward,
 * or answer with an ICMP error ("error" routes when nothing routes it). Martians give the errno
 * (EINVAL, EXDEV) and the packet is dropped.
 */
export function ipRouteInput(
  daddr: number,
  saddr: number,
  dev: NetDevice,
  opts: InputRouteOpts = {},
): RouteResult {
  const net = dev.netns;
  const inDev = inDevGet(dev);
  if (!inDev) return "EINVAL";
  daddr >>>= 0;
  saddr >>>= 0;
  const tos = opts.tos ?? 0;
  const localnet = inDevOrconf(dev, "route_localnet");
  if (isMulticast(daddr)) {
    if (!ipCheckMc(dev, daddr)) return "EINVAL";
    if (isMulticast(saddr) || isLbcast(saddr)) return "EINVAL";
    if (isLoopback(saddr) && !localnet) return "EINVAL";
    if (isZeronet(saddr)) {
      if (!isLocalMulticast(daddr) && opts.protocol !== IPPROTO.IGMP) return "EINVAL";
    } else {
      const v = fibValidateSource(saddr, 0, tos, 0, dev, opts.mark ?? 0);
      if (typeof v === "string") return v;
    }
    return inputRoute(dev, RTN.MULTICAST, RTCF.MULTICAST | RTCF.LOCAL, saddr, daddr, "local", null, null);
  }
  const brdInput = (): RouteResult => {
    if (!isZeronet(saddr)) {
      const v = fibValidateSource(saddr, 0, tos, 0, dev, opts.mark ?? 0);
      if (typeof v === "string") return v;
    }
    return inputRoute(dev, RTN.BROADCAST, RTCF.BROADCAST | RTCF.LOCAL, saddr, daddr, "local", null, null);
  };
  if (isLbcast(daddr) || (saddr === 0 && daddr === 0)) return brdInput();
  if (isMulticast(saddr) || isLbcast(saddr) || isZeronet(saddr)) return "EINVAL";
  if (isZeronet(daddr)) return "EINVAL";
  if (isLoopback(daddr) && !localnet) return "EINVAL";
  if (isLoopback(saddr) && !localnet) return "EINVAL";
  const res = fibLookup(net, {
    daddr,
    saddr,
    iif: dev.ifindex,
    tos,
    mark: opts.mark ?? 0,
    scope: RT_SCOPE.UNIVERSE,
  });
  const forwarding = inDevForward(dev);
  if (typeof res === "string") {
    const err: ErrnoName = forwarding ? res : "EHOSTUNREACH";
    // no_route → local_input: an RTN_UNREACHABLE route loses RTCF_LOCAL (so icmp_send
    // answers from the router's own address, not from the unreachable destination).
    return inputRoute(dev, RTN.UNREACHABLE, 0, saddr, daddr, "error", err, null);
  }
  if (res.type === RTN.BROADCAST) {
    if (inDevAndconf(dev, "bc_forwarding")) return mkrouteInput(dev, res, saddr, daddr, tos, opts);
    return brdInput();
  }
  if (res.type === RTN.LOCAL) {
    const v = fibValidateSource(saddr, daddr, tos, 0, dev, opts.mark ?? 0);
    if (typeof v === "string") return v;
    return inputRoute(
      dev,
      RTN.LOCAL,
      RTCF.LOCAL,
      saddr,
      daddr,
      "local",
      null,
      res,
      res.nh?.dev ?? net.loopback,
    );
  }
  if (!forwarding) return inputRoute(dev, RTN.UNREACHABLE, 0, saddr, daddr, "error", "EHOSTUNREACH", null);
  if (res.type !== RTN.UNICAST) return "EINVAL";
  return mkrouteInput(dev, res, saddr, daddr, tos, opts);
}

/** __mkroute_input: a forwarding route; DOREDIRECT when it leaves by the arrival device. */
function mkrouteInput(
  dev: NetDevice,
  res: FibResult,
  saddr: number,
  daddr: number,
  tos: number,
  opts: InputRouteOpts,
): RouteResult {
  const out = res.nh?.dev;
  if (!out || !inDevGet(out)) return "EINVAL";
  const v = fibValidateSource(saddr, daddr, tos, out.ifindex, dev, opts.mark ?? 0);
  if (typeof v === "string") return v;
  let flags = 0;
  if (out === dev && v > 0 && txRedirects(out)) {
    const gw = res.nh?.gw && res.nh.scope === RT_SCOPE.LINK ? res.nh.gw : 0;
    if (inDevOrconf(out, "shared_media") || inetAddrOnlink(out, saddr, gw)) flags |= RTCF.DOREDIRECT;
  }
  if (opts.arp && out === dev && !inDevOrconf(dev, "proxy_arp_pvlan")) return "EINVAL";
  return inputRoute(dev, res.type, flags, saddr, daddr, "forward", null, res, out);
}

/** fib_compute_spec_dst: the address a reply to skb should come from (icmp echo replies). */
export function fibComputeSpecDst(rt: Rtable, saddr: number, daddr: number, dev: NetDevice): number {
  if ((rt.flags & (RTCF.BROADCAST | RTCF.MULTICAST | RTCF.LOCAL)) >>> 0 === RTCF.LOCAL >>> 0) return daddr;
  let scope: number = RT_SCOPE.UNIVERSE;
  if (!isZeronet(saddr)) {
    const res = fibLookup(dev.netns, { daddr: saddr, saddr: 0, iif: 1, scope });
    if (typeof res !== "string") return fibResultPrefsrc(res);
  } else scope = RT_SCOPE.LINK;
  return inetSelectAddr(dev, saddr, scope);
}

/** Records a learned path MTU for a destination (__ip_rt_update_pmtu), clamped to min_pmtu. */
export function ipRtUpdatePmtu(net: NetNamespace, daddr: number, mtu: number): void {
  const min = net.sysctlInt("net.ipv4.route.min_pmtu") || 552;
  const expires = BigInt(net.sysctlInt("net.ipv4.route.mtu_expires") || 600) * 1_000_000_000n;
  ipv4Net(net).pmtu.set(daddr >>> 0, { mtu: Math.max(mtu, min), expires: net.kernel.now + expires });
}
