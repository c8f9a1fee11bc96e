/**
 * Address configuration (net/ipv6/addrconf.c): the per-device inet6_dev, adding and removing
 * addresses with their routes and notifier calls, link-local generation (EUI-64 with dev_id,
 * random, none), duplicate address detection, lifetimes and the address side of device events.
 */
import {
  IPV6_ALL_NODES,
  IPV6_ALL_ROUTERS,
  type Ipv6Addr,
  ipv6IsLinkLocal,
  ipv6IsLoopback,
  ipv6IsMulticast,
  ipv6Mask,
  ipv6SolicitedNode,
} from "../../wire/index.ts";
import { NSEC_PER_MSEC, NSEC_PER_SEC } from "../clock.ts";
import { fail, KernelError } from "../errno.ts";
import { IFF, type NetDevice, OperState } from "../netdev.ts";
import { fib6Contains, fib6Insert, fib6Remove, fib6Table, newFib6Route } from "./fib6.ts";
import { ipv6DevMcDec, ipv6DevMcInc, ipv6McUp } from "./mcast.ts";
import { addrconfDadStart } from "./addrconf-dad.ts";
import { confInt, devConfView, ipv6SysctlDevInit } from "./sysctl.ts";
import { INET6_DEV, type Inet6DevPriv, type Inet6IfaddrPriv, in6DevGet } from "./state.ts";
import { ifaListScope, ipv6AddrRtScope } from "./addr-util.ts";
import {
  type Fib6Route,
  IFA_F,
  type Inet6AddrConfig,
  type Inet6Ifaddr,
  type Inet6Lifetimes,
  INFINITY_LIFE_TIME,
  IP6_RT_PRIO_ADDRCONF,
  RT_TABLE,
  RTF,
  RTN,
  RTPROT,
} from "./types.ts";

/** IPV6_MIN_MTU: devices with a smaller MTU get no IPv6. */
export const IPV6_MIN_MTU = 1280;
/** One jiffy at HZ=250 (Debian's kernels), the granularity of addrconf/MLD timers. */
export const JIFFY = 4n * NSEC_PER_MSEC;
/** inet6_dev if_flags. */
export const IF_FLAGS = {
  RA_OTHERCONF: 0x80,
  RA_MANAGED: 0x40,
  RA_RCVD: 0x20,
  RS_SENT: 0x10,
  READY: 0x80000000,
} as const;

/** What ipv6_add_addr needs (struct ifa6_config). */
export interface Ifa6Config {
  readonly addr: Ipv6Addr;
  readonly prefixLen: number;
  readonly peer?: Ipv6Addr | null;
  readonly scope: number;
  readonly flags: number;
  readonly validLft: number;
  readonly preferredLft: number;
  readonly rtPriority?: number;
  readonly autoconf?: boolean;
}

/** addrconf_link_ready: up with an operational state of UP or UNKNOWN (netif_oper_up). */
export function addrconfLinkReady(dev: NetDevice): boolean {
  return dev.isUp && (dev.operstate === OperState.UP || dev.operstate === OperState.UNKNOWN);
}

/**
 * ipv6_add_dev: creates the inet6_dev of a device (none below IPV6_MIN_MTU): its sysctls, and the
 * all-nodes groups (ff01::1, ff02::1; ff02::2 too when forwarding).
 */
export function ipv6AddDev(dev: NetDevice): Inet6DevPriv | null {
  const have = in6DevGet(dev);
  if (have) return have;
  if (dev.mtu < IPV6_MIN_MTU) return null;
  const net = dev.netns;
  ipv6SysctlDevInit(dev);
  dev.addrGenMode = confInt(net, "default", "addr_gen_mode");
  net.sysctl.set(`net.ipv6.conf.${dev.name}.addr_gen_mode`, String(dev.addrGenMode));
  const idev: Inet6DevPriv = {
    dev,
    addrs: [],
    mcList: [],
    mcTomb: [],
    cnf: devConfView(dev),
    ifFlags: 0,
    rsProbes: 0,
    rsTimer: null,
    dead: false,
    mcQrv: 2,
    mcIfcCount: 0,
    mcIfcTimer: null,
    mcDadCount: 0,
    mcDadTimer: null,
    mcGqTimer: null,
    rsInterval: 0n,
    rndIid: 0n,
    mroute: null,
    acList: [],
  };
  dev.slots.set(INET6_DEV, idev);
  if (addrconfLinkReady(dev)) idev.ifFlags |= IF_FLAGS.READY;
  ipv6DevMcInc(dev, 0xff01_0000_0000_0000_0000_0000_0000_0001n);
  ipv6DevMcInc(dev, IPV6_ALL_NODES);
  if (idev.cnf.forwarding && dev.flags & IFF.MULTICAST) ipv6DevMcInc(dev, IPV6_ALL_ROUTERS);
  return idev;
}

/** ipv6_find_idev: the inet6_dev (created if needed); an up device also gets ipv6_mc_up. */
export function ipv6FindIdev(dev: NetDevice): Inet6DevPriv | null {
  const idev = in6DevGet(dev) ?? ipv6AddDev(dev);
  if (!idev) return null;
  if (dev.isUp) ipv6McUp(idev);
  return idev;
}

/** addrconf_add_dev: inet6_dev + the ff00::/8 multicast route; EACCES when IPv6 is disabled. */
export function addrconfAddDev(dev: NetDevice): Inet6DevPriv {
  const idev = ipv6FindIdev(dev);
  if (!idev) fail("EINVAL");
  if (idev.cnf.disable_ipv6) fail("EACCES");
  if (!(dev.flags & IFF.LOOPBACK) && dev.isUp && (!idev.mroute || !fib6Contains(dev.netns, idev.mroute))) {
    idev.mroute = fib6Insert(
      dev.netns,
      newFib6Route({
        table: RT_TABLE.LOCAL,
        dst: 0xffn << 120n,
        dstLen: 8,
        type: RTN.MULTICAST,
        protocol: RTPROT.KERNEL,
        metric: IP6_RT_PRIO_ADDRCONF,
        dev,
      }),
      null,
    );
  }
  return idev;
}

/**
 * addrconf_prefix_route: the connected route of an address (main table, proto kernel, metric
 * 256 unless given). Skipped while the device is down (Linux's insert fails with ENETDOWN).
 */
export function addrconfPrefixRoute(
  dev: NetDevice,
  addr: Ipv6Addr,
  prefixLen: number,
  metric: number,
  expires: bigint | null,
  flags: number,
): void {
  if (!dev.isUp) return;
  try {
    fib6Insert(
      dev.netns,
      newFib6Route({
        dst: addr,
        dstLen: prefixLen,
        protocol: RTPROT.KERNEL,
        metric: metric || IP6_RT_PRIO_ADDRCONF,
        dev,
        expires,
        flags: flags | RTF.NONEXTHOP,
      }),
      null,
    );
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
}

/** The connected route of a prefix on dev (addrconf_get_prefix_route), if present. */
export function addrconfGetPrefixRoute(dev: NetDevice, addr: Ipv6Addr, prefixLen: number, flagsNeeded = 0) {
  const table = fib6Table(dev.netns, RT_TABLE.MAIN, false) ?? [];
  const dst = addr & ipv6Mask(prefixLen);
  return table.find(
    (r) =>
      r.dst === dst &&
      r.dstLen === prefixLen &&
      r.dev === dev &&
      r.gateway === null &&
      r.type === RTN.UNICAST &&
      (r.flags & flagsNeeded) === flagsNeeded,
  );
}

/**
 * ipv6_add_addr: validates (inet6addr_validator_chain first, so a driver can refuse), links the
 * address into the device list (global before host before link scope, newest first within a
 * scope) and raises inet6addr_chain UP.
 */
export function ipv6AddAddr(idev: Inet6DevPriv, cfg: Ifa6Config): Inet6IfaddrPriv {
  const dev = idev.dev;
  if (
    cfg.addr === 0n ||
    (ipv6IsMulticast(cfg.addr) && !(cfg.flags & IFA_F.MCAUTOJOIN)) ||
    (!(dev.flags & IFF.LOOPBACK) && ipv6IsLoopback(cfg.addr))
  ) {
    fail("EADDRNOTAVAIL");
  }
  if (idev.dead) fail("ENODEV");
  if (idev.cnf.disable_ipv6) fail("EACCES");
  const kernel = dev.netns.kernel;
  kernel.inet6addrValidatorChain.call({
    event: "UP",
    dev,
    addr: { addr: cfg.addr, prefixLen: cfg.prefixLen },
  });
  if (idev.addrs.some((a) => a.addr === cfg.addr)) fail("EEXIST");
  const now = kernel.now;
  const ifa: Inet6IfaddrPriv = {
    addr: cfg.addr,
    prefixLen: cfg.prefixLen,
    peer: cfg.peer ?? null,
    dev,
    scope: cfg.scope,
    flags: cfg.flags | (cfg.flags & IFA_F.NODAD ? 0 : IFA_F.TENTATIVE),
    validLft: cfg.validLft,
    preferredLft: cfg.preferredLft,
    cstamp: now,
    tstamp: now,
    rtPriority: cfg.rtPriority ?? 0,
    live: true,
    dadProbes: 0,
    dadNonce: 0n,
    dadTimer: null,
    lftTimer: null,
    localRoute: null,
    solictJoined: false,
    autoconf: cfg.autoconf ?? false,
    anycastJoined: false,
  };
  const rank = ifaListScope(ifa.scope);
  const at = idev.addrs.findIndex((a) => ifaListScope(a.scope) >= rank);
  if (at < 0) idev.addrs.push(ifa);
  else idev.addrs.splice(at, 0, ifa);
  addrconfVerify(ifa);
  kernel.inet6addrChain.call({ event: "UP", dev, addr: { addr: ifa.addr, prefixLen: ifa.prefixLen } });
  return ifa;
}

/** The local (table local) route of an address (addrconf_f6i_alloc), inserted when DAD ends. */
export function insertLocalRoute(ifa: Inet6IfaddrPriv): void {
  const net = ifa.dev.netns;
  if (ifa.localRoute && fib6Contains(net, ifa.localRoute)) return;
  try {
    ifa.localRoute = fib6Insert(
      net,
      newFib6Route({
        table: RT_TABLE.LOCAL,
        dst: ifa.addr,
        dstLen: 128,
        type: RTN.LOCAL,
        protocol: RTPROT.KERNEL,
        metric: 0,
        dev: ifa.dev,
        flags: RTF.NONEXTHOP | RTF.LOCAL,
      }),
      null,
    );
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
  if (in6DevGet(ifa.dev)?.cnf.forwarding) addrconfJoinAnycast(ifa);
}

/** addrconf_join_anycast: a router also owns the subnet-router anycast address of each prefix. */
export function addrconfJoinAnycast(ifa: Inet6IfaddrPriv): void {
  if (ifa.anycastJoined || ifa.prefixLen >= 128) return;
  const prefix = ifa.addr & ipv6Mask(ifa.prefixLen);
  if (prefix === 0n) return;
  const idev = in6DevGet(ifa.dev);
  if (!idev) return;
  ifa.anycastJoined = true;
  const have = idev.acList.find((a) => a.addr === prefix);
  if (have) {
    have.users++;
    return;
  }
  let route: Fib6Route | null = null;
  try {
    route = fib6Insert(
      ifa.dev.netns,
      newFib6Route({
        table: RT_TABLE.LOCAL,
        dst: prefix,
        dstLen: 128,
        type: RTN.ANYCAST,
        protocol: RTPROT.KERNEL,
        metric: 0,
        dev: ifa.dev,
        flags: RTF.NONEXTHOP | RTF.ANYCAST,
      }),
      null,
    );
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
  idev.acList.push({ addr: prefix, users: 1, route });
  if (!(ifa.dev.flags & (IFF.LOOPBACK | IFF.NOARP))) ipv6DevMcInc(ifa.dev, ipv6SolicitedNode(prefix));
}

/** addrconf_leave_anycast. */
export function addrconfLeaveAnycast(ifa: Inet6IfaddrPriv): void {
  if (!ifa.anycastJoined) return;
  ifa.anycastJoined = false;
  const idev = in6DevGet(ifa.dev);
  if (!idev) return;
  const prefix = ifa.addr & ipv6Mask(ifa.prefixLen);
  const i = idev.acList.findIndex((a) => a.addr === prefix);
  if (i < 0) return;
  const ac = idev.acList[i];
  if (--ac.users > 0) return;
  idev.acList.splice(i, 1);
  if (ac.route) fib6Remove(ifa.dev.netns, ac.route);
  if (!(ifa.dev.flags & (IFF.LOOPBACK | IFF.NOARP))) ipv6DevMcDec(ifa.dev, ipv6SolicitedNode(prefix));
}

/** addrconf_join_solict / addrconf_leave_solict (never on NOARP or loopback devices). */
export function joinSolict(ifa: Inet6IfaddrPriv): void {
  if (ifa.solictJoined || ifa.dev.flags & (IFF.LOOPBACK | IFF.NOARP)) return;
  ifa.solictJoined = true;
  ipv6DevMcInc(ifa.dev, ipv6SolicitedNode(ifa.addr));
}

function leaveSolict(ifa: Inet6IfaddrPriv): void {
  if (!ifa.solictJoined) return;
  ifa.solictJoined = false;
  ipv6DevMcDec(ifa.dev, ipv6SolicitedNode(ifa.addr));
}

function stopTimers(ifa: Inet6IfaddrPriv): void {
  const loop = ifa.dev.netns.kernel.loop;
  loop.cancel(ifa.dadTimer);
  loop.cancel(ifa.lftTimer);
  ifa.dadTimer = null;
  ifa.lftTimer = null;
}

/** __ipv6_ifa_notify(RTM_DELADDR) + inet6addr_chain DOWN: what every removal does. */
function addrGone(ifa: Inet6IfaddrPriv): void {
  const net = ifa.dev.netns;
  leaveSolict(ifa);
  addrconfLeaveAnycast(ifa);
  if (ifa.localRoute) fib6Remove(net, ifa.localRoute);
  ifa.localRoute = null;
  ifa.live = false;
  net.kernel.inet6addrChain.call({
    event: "DOWN",
    dev: ifa.dev,
    addr: { addr: ifa.addr, prefixLen: ifa.prefixLen },
  });
}

/**
 * ipv6_del_addr: unlinks an address, drops its local route and solicited-node membership,
 * raises inet6addr_chain DOWN, and removes its prefix route when no other permanent address
 * of the prefix remains (cleanup_prefix_route).
 */
export function ipv6DelAddr(ifa: Inet6IfaddrPriv): void {
  const idev = in6DevGet(ifa.dev);
  if (!idev || !ifa.live) return;
  stopTimers(ifa);
  const i = idev.addrs.indexOf(ifa);
  if (i >= 0) idev.addrs.splice(i, 1);
  addrGone(ifa);
  if (ifa.flags & IFA_F.PERMANENT && !(ifa.flags & IFA_F.NOPREFIXROUTE)) {
    const mask = ipv6Mask(ifa.prefixLen);
    const shared = idev.addrs.some(
      (o) => o.prefixLen === ifa.prefixLen && (o.addr & mask) === (ifa.addr & mask),
    );
    if (!shared) {
      const rt = addrconfGetPrefixRoute(ifa.dev, ifa.addr, ifa.prefixLen);
      if (rt && !(rt.flags & RTF.ADDRCONF)) fib6Remove(ifa.dev.netns, rt);
    }
  }
}

/** Seconds elapsed since a time stamp (whole seconds, as jiffies/HZ). */
function ageSeconds(ifa: Inet6Ifaddr): number {
  return Number((ifa.dev.netns.kernel.now - ifa.tstamp) / NSEC_PER_SEC);
}

/** Remaining lifetimes as `ip -6 addr` prints them. */
export function inet6AddrLifetimes(ifa: Inet6Ifaddr): Inet6Lifetimes {
  const age = ageSeconds(ifa);
  const left = (lft: number) => (lft === INFINITY_LIFE_TIME ? INFINITY_LIFE_TIME : Math.max(0, lft - age));
  return { valid: left(ifa.validLft), preferred: left(ifa.preferredLft) };
}

/**
 * addrconf_verify for one address: deprecate when the preferred lifetime ran out, delete when
 * the valid lifetime did, and set a timer for the next of those moments.
 */
export function addrconfVerify(ifa: Inet6IfaddrPriv): void {
  const loop = ifa.dev.netns.kernel.loop;
  loop.cancel(ifa.lftTimer);
  ifa.lftTimer = null;
  if (!ifa.live || ifa.flags & IFA_F.PERMANENT) return;
  const now = loop.now;
  const at = (lft: number) => ifa.tstamp + BigInt(lft) * NSEC_PER_SEC;
  if (ifa.validLft !== INFINITY_LIFE_TIME && now >= at(ifa.validLft)) {
    ipv6DelAddr(ifa);
    return;
  }
  if (ifa.preferredLft !== INFINITY_LIFE_TIME && now >= at(ifa.preferredLft)) ifa.flags |= IFA_F.DEPRECATED;
  let next: bigint | null = null;
  if (ifa.validLft !== INFINITY_LIFE_TIME) next = at(ifa.validLft);
  if (!(ifa.flags & IFA_F.DEPRECATED) && ifa.preferredLft !== INFINITY_LIFE_TIME) {
    const p = at(ifa.preferredLft);
    if (next === null || p < next) next = p;
  }
  if (next !== null) ifa.lftTimer = loop.at(next, () => addrconfVerify(ifa));
}

/** Applies lifetimes from netlink/RA values: PERMANENT for forever, DEPRECATED for preferred 0. */
function lifetimeFlags(validLft: number, preferredLft: number): number {
  let f = 0;
  if (validLft === INFINITY_LIFE_TIME) f |= IFA_F.PERMANENT;
  if (preferredLft === 0) f |= IFA_F.DEPRECATED;
  return f;
}

/**
 * RTM_NEWADDR (inet6_rtm_newaddr): adds an address, or modifies an existing one when
 * `replace` is set without `excl`. Errors as Linux 6.1: EEXIST (from 6.7 on with the extack
 * "ipv6: address already assigned", docs/kernel-versions.md), EINVAL (bad lifetimes),
 * EACCES (disable_ipv6), EADDRNOTAVAIL (::, multicast without autojoin, ::1 off lo), and
 * whatever the validator chain throws.
 */
export function inet6AddrAdd(dev: NetDevice, cfg: Inet6AddrConfig): Inet6IfaddrPriv {
  if (cfg.prefixLen < 0 || cfg.prefixLen > 128) fail("EINVAL");
  const validLft = cfg.validLft ?? INFINITY_LIFE_TIME;
  const preferredLft = cfg.preferredLft ?? INFINITY_LIFE_TIME;
  if (validLft === 0 || preferredLft > validLft) fail("EINVAL");
  const existing = in6DevGet(dev)?.addrs.find((a) => a.addr === cfg.addr);
  if (existing) {
    if (cfg.excl || !cfg.replace) {
      fail("EEXIST", dev.netns.kernel.releaseAtLeast(6, 7) ? "ipv6: address already assigned" : undefined);
    }
    inet6AddrModify(existing, cfg, validLft, preferredLft);
    return existing;
  }
  const idev = addrconfAddDev(dev);
  const userFlags =
    (cfg.flags ?? 0) &
    (IFA_F.NODAD |
      IFA_F.OPTIMISTIC |
      IFA_F.HOMEADDRESS |
      IFA_F.MANAGETEMPADDR |
      IFA_F.NOPREFIXROUTE |
      IFA_F.MCAUTOJOIN);
  const ifa = ipv6AddAddr(idev, {
    addr: cfg.addr,
    prefixLen: cfg.prefixLen,
    peer: cfg.peer ?? null,
    scope: ipv6AddrRtScope(cfg.addr),
    flags: userFlags | lifetimeFlags(validLft, preferredLft),
    validLft,
    preferredLft,
    rtPriority: cfg.metric ?? 0,
  });
  if (!(ifa.flags & IFA_F.NOPREFIXROUTE)) {
    const expires =
      validLft === INFINITY_LIFE_TIME ? null : dev.netns.kernel.now + BigInt(validLft) * NSEC_PER_SEC;
    addrconfPrefixRoute(
      dev,
      ifa.peer ?? ifa.addr,
      ifa.peer ? 128 : ifa.prefixLen,
      ifa.rtPriority,
      expires,
      0,
    );
  }
  if (ifa.flags & IFA_F.MCAUTOJOIN) ipv6DevMcInc(dev, ifa.addr);
  addrconfDadStart(ifa);
  return ifa;
}

/** inet6_addr_modify: new lifetimes / flags / metric for an existing address. */
function inet6AddrModify(
  ifa: Inet6IfaddrPriv,
  cfg: Inet6AddrConfig,
  validLft: number,
  preferredLft: number,
): void {
  const keep = ifa.flags & (IFA_F.TENTATIVE | IFA_F.DADFAILED | IFA_F.OPTIMISTIC);
  const user =
    (cfg.flags ?? 0) & (IFA_F.NODAD | IFA_F.HOMEADDRESS | IFA_F.MANAGETEMPADDR | IFA_F.NOPREFIXROUTE);
  ifa.flags = keep | user | lifetimeFlags(validLft, preferredLft);
  ifa.validLft = validLft;
  ifa.preferredLft = preferredLft;
  ifa.tstamp = ifa.dev.netns.kernel.now;
  if (cfg.metric !== undefined) ifa.rtPriority = cfg.metric;
  addrconfVerify(ifa);
}

/**
 * RTM_DELADDR (inet6_addr_del): EADDRNOTAVAIL when no address matches (plen must match if
 * given); from 6.7 on with the extack "ipv6: address not found".
 */
export function inet6AddrDel(dev: NetDevice, addr: Ipv6Addr, prefixLen?: number): void {
  const idev = in6DevGet(dev);
  if (!idev) fail("ENXIO");
  const ifa = idev.addrs.find(
    (a) => a.addr === addr && (prefixLen === undefined || a.prefixLen === prefixLen),
  );
  if (!ifa)
    fail("EADDRNOTAVAIL", dev.netns.kernel.releaseAtLeast(6, 7) ? "ipv6: address not found" : undefined);
  ipv6DelAddr(ifa);
  if (ifa.flags & IFA_F.MCAUTOJOIN) ipv6DevMcDec(dev, addr);
}

/** Removes every address of a device (keep_addr_on_down keeps permanent global ones, tentative again). */
export function addrconfFlushAddrs(idev: Inet6DevPriv, keep: boolean): void {
  for (const ifa of [...idev.addrs]) {
    const keepIt = keep && ifa.flags & IFA_F.PERMANENT && !ipv6IsLinkLocal(ifa.addr);
    stopTimers(ifa);
    if (keepIt) {
      if (!(ifa.flags & IFA_F.NODAD)) ifa.flags |= IFA_F.TENTATIVE;
      if (ifa.localRoute) fib6Remove(ifa.dev.netns, ifa.localRoute);
      ifa.localRoute = null;
      leaveSolict(ifa);
      addrconfLeaveAnycast(ifa);
      continue;
    }
    const i = idev.addrs.indexOf(ifa);
    if (i >= 0) idev.addrs.splice(i, 1);
    addrGone(ifa);
  }
}
