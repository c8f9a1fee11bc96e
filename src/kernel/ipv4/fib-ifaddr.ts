/**
 * The kernel's own routes for addresses and devices (net/ipv4/fib_frontend.c): fib_add_ifaddr /
 * fib_del_ifaddr (local, broadcast and prefix routes, kept while another address still needs
 * them), and the reactions to device state (fib_sync_down_dev, fib_sync_up, fib_flush,
 * fib_disable_ip).
 */
import { KernelError } from "../errno.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { type InDevice, inDevGet, inetIfaByprefix, inetIfaMatch } from "./devinet.ts";
import { fibGetTable, fibNewTable, fibNotify, fibRouteDel, fibTableInsert, inetAddrType } from "./fib.ts";
import { isZeronet } from "./hdr.ts";
import { ipv4Net } from "./state.ts";
import {
  type FibNh,
  type FibRoute,
  IFA_F,
  type InIfaddr,
  RT_SCOPE,
  RT_TABLE,
  RTN,
  RTNH_F,
  RTPROT,
  type RouteType,
} from "./types.ts";

/** fib_magic: the kernel's own route changes for addresses (proto kernel, prefsrc = primary). */
function fibMagic(
  cmd: "add" | "del",
  type: RouteType,
  dst: number,
  len: number,
  prim: InIfaddr,
  priority: number,
): void {
  const dev = prim.dev;
  const net = dev.netns;
  const table = type === RTN.UNICAST ? RT_TABLE.MAIN : RT_TABLE.LOCAL;
  const scope = type === RTN.LOCAL ? RT_SCOPE.HOST : RT_SCOPE.LINK;
  if (cmd === "del") {
    try {
      fibRouteDel(net, {
        dst,
        dstLen: len,
        table,
        type,
        scope,
        prefsrc: prim.local,
        dev,
        protocol: RTPROT.KERNEL,
        priority,
      });
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
    }
    return;
  }
  const nh: FibNh =
    scope === RT_SCOPE.HOST
      ? { gw: 0, dev, flags: 0, scope: RT_SCOPE.NOWHERE, weight: 1 }
      : { gw: 0, dev, flags: dev.carrier ? 0 : RTNH_F.LINKDOWN, scope: RT_SCOPE.HOST, weight: 1 };
  const route: FibRoute = {
    table,
    dst: dst >>> 0,
    dstLen: len,
    tos: 0,
    type,
    scope,
    protocol: RTPROT.KERNEL,
    priority,
    prefsrc: prim.local,
    nexthops: [nh],
    metrics: {},
    flags: nh.flags & RTNH_F.LINKDOWN,
  };
  try {
    fibTableInsert(net, fibNewTable(net, table), route, { create: true, append: true });
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
}

/** fib_add_ifaddr: local route, broadcast routes and the prefix route of an address. */
export function fibAddIfaddr(ifa: InIfaddr): void {
  const dev = ifa.dev;
  const inDev = inDevGet(dev);
  if (!inDev) return;
  let prim: InIfaddr | undefined = ifa;
  const prefix = (ifa.address & ifa.mask) >>> 0;
  if (ifa.flags & IFA_F.SECONDARY) {
    prim = inetIfaByprefix(inDev, prefix, ifa.mask);
    if (!prim) return;
  }
  fibMagic("add", RTN.LOCAL, ifa.local, 32, prim, 0);
  if (!dev.isUp) return;
  if (ifa.broadcast && ifa.broadcast !== 0xffffffff)
    fibMagic("add", RTN.BROADCAST, ifa.broadcast, 32, prim, 0);
  if (!isZeronet(prefix) && !(ifa.flags & IFA_F.SECONDARY) && (prefix !== ifa.local || ifa.prefixLen < 32)) {
    if (!(ifa.flags & IFA_F.NOPREFIXROUTE)) {
      fibMagic(
        "add",
        dev.flags & IFF.LOOPBACK ? RTN.LOCAL : RTN.UNICAST,
        prefix,
        ifa.prefixLen,
        prim,
        ifa.rtPriority,
      );
    }
    if (ifa.prefixLen < 31) fibMagic("add", RTN.BROADCAST, (prefix | ~ifa.mask) >>> 0, 32, prim, 0);
  }
}

/** fib_modify_prefix_metric: the prefix route moves to the new metric. */
export function fibModifyPrefixMetric(ifa: InIfaddr, metric: number): void {
  const prefix = (ifa.address & ifa.mask) >>> 0;
  if (!ifa.dev.isUp || ifa.flags & (IFA_F.SECONDARY | IFA_F.NOPREFIXROUTE) || isZeronet(prefix)) return;
  if (prefix === ifa.local && ifa.prefixLen === 32) return;
  fibMagic("add", RTN.UNICAST, prefix, ifa.prefixLen, ifa, metric);
  fibMagic("del", RTN.UNICAST, prefix, ifa.prefixLen, ifa, ifa.rtPriority);
}

const LOCAL_OK = 1;
const BRD_OK = 2;
const BRD0_OK = 4;
const BRD1_OK = 8;

/**
 * fib_del_ifaddr: removes the address's routes that no other address still needs (the
 * local route, its broadcast routes, the prefix route), and flushes routes using the address as
 * prefsrc once it is gone entirely. `iprim` is the primary being deleted during a promotion.
 */
export function fibDelIfaddr(ifa: InIfaddr, iprim: InIfaddr | null): void {
  const dev = ifa.dev;
  const inDev: InDevice | undefined = inDevGet(dev);
  if (!inDev) return;
  const net = dev.netns;
  const any = (ifa.address & ifa.mask) >>> 0;
  const brd = (ifa.address | ~ifa.mask) >>> 0;
  let prim: InIfaddr | undefined = ifa;
  let ok = 0;
  let subnet = false;
  let gone = true;
  let samePrefsrc = false;
  if (ifa.flags & IFA_F.SECONDARY) {
    prim = inetIfaByprefix(inDev, any, ifa.mask);
    if (!prim) {
      // The primary is already gone (promotion in progress): use the address itself.
      prim = iprim ?? ifa;
    }
  } else if (!isZeronet(any) && (any !== ifa.local || ifa.prefixLen < 32)) {
    if (!(ifa.flags & IFA_F.NOPREFIXROUTE)) {
      fibMagic("del", dev.flags & IFF.LOOPBACK ? RTN.LOCAL : RTN.UNICAST, any, ifa.prefixLen, prim, 0);
    }
    subnet = true;
  }
  if (!inDev.dead) {
    let prim1: InIfaddr | undefined;
    for (const ifa1 of inDev.addrs) {
      if (ifa1 === ifa) {
        gone = false;
        continue;
      }
      if (iprim && ifa1.mask === iprim.mask && inetIfaMatch(ifa1.address, iprim)) continue;
      if (ifa1.flags & IFA_F.SECONDARY) {
        if (ifa1.mask === prim.mask && inetIfaMatch(ifa1.address, prim)) prim1 = prim;
        else {
          if (!samePrefsrc) continue;
          if (!prim1 || ifa1.mask !== prim1.mask || !inetIfaMatch(ifa1.address, prim1)) {
            prim1 = inetIfaByprefix(inDev, ifa1.address, ifa1.mask);
          }
          if (!prim1 || prim1.local !== prim.local) continue;
        }
      } else {
        if (prim.local !== ifa1.local) continue;
        prim1 = ifa1;
        if (prim !== prim1) samePrefsrc = true;
      }
      if (ifa.local === ifa1.local) ok |= LOCAL_OK;
      if (ifa.broadcast === ifa1.broadcast) ok |= BRD_OK;
      if (brd === ifa1.broadcast) ok |= BRD1_OK;
      if (any === ifa1.broadcast) ok |= BRD0_OK;
      if (prim1 === ifa1 && ifa1.prefixLen < 31) {
        const brd1 = (ifa1.address | ~ifa1.mask) >>> 0;
        const any1 = (ifa1.address & ifa1.mask) >>> 0;
        if (!isZeronet(any1)) {
          if (ifa.broadcast === brd1 || ifa.broadcast === any1) ok |= BRD_OK;
          if (brd === brd1 || brd === any1) ok |= BRD1_OK;
          if (any === brd1 || any === any1) ok |= BRD0_OK;
        }
      }
    }
  }
  if (!(ok & BRD_OK) && ifa.broadcast) fibMagic("del", RTN.BROADCAST, ifa.broadcast, 32, prim, 0);
  if (subnet && ifa.prefixLen < 31) {
    if (!(ok & BRD1_OK)) fibMagic("del", RTN.BROADCAST, brd, 32, prim, 0);
    if (!(ok & BRD0_OK)) fibMagic("del", RTN.BROADCAST, any, 32, prim, 0);
  }
  if (!(ok & LOCAL_OK)) {
    fibMagic("del", RTN.LOCAL, ifa.local, 32, prim, 0);
    if (gone && inetAddrType(net, ifa.local, dev) !== RTN.LOCAL) {
      if (fibSyncDownAddr(dev, ifa.local)) fibFlush(net);
    }
  }
}

/** fib_sync_down_addr: main-table routes whose prefsrc was this address die. */
export function fibSyncDownAddr(dev: NetDevice, local: number): boolean {
  let n = 0;
  for (const r of fibGetTable(dev.netns, RT_TABLE.MAIN)?.routes() ?? []) {
    if (r.prefsrc === local) {
      r.flags |= RTNH_F.DEAD;
      n++;
    }
  }
  return n > 0;
}

/**
 * fib_sync_down_dev: nexthops on dev are marked dead (DOWN/UNREGISTER) or linkdown (CHANGE);
 * host-scope nexthops survive a plain DOWN unless forced. Returns how many routes died.
 */
export function fibSyncDownDev(
  dev: NetDevice,
  event: "DOWN" | "UNREGISTER" | "CHANGE",
  force: boolean,
): number {
  const scope = force ? -1 : RT_SCOPE.NOWHERE;
  let ret = 0;
  for (const tb of ipv4Net(dev.netns).tables.values()) {
    for (const r of tb.routes()) {
      if (!r.nexthops.some((n) => n.dev === dev)) continue;
      let dead = 0;
      for (const nh of r.nexthops) {
        if (event === "UNREGISTER" && nh.dev === dev) {
          dead = r.nexthops.length;
          break;
        }
        if (nh.flags & RTNH_F.DEAD) dead++;
        else if (nh.dev === dev && nh.scope !== scope) {
          if (event !== "CHANGE") nh.flags |= RTNH_F.DEAD;
          nh.flags |= RTNH_F.LINKDOWN;
          dead++;
        }
      }
      if (dead === r.nexthops.length) {
        if (event !== "CHANGE") r.flags |= RTNH_F.DEAD;
        r.flags |= RTNH_F.LINKDOWN;
        ret++;
      }
    }
  }
  return ret;
}

/** fib_sync_up: nexthops on dev come back (DEAD or LINKDOWN cleared) when it is up/has carrier. */
export function fibSyncUp(dev: NetDevice, nhFlags: number): void {
  if (!dev.isUp) return;
  let flags = nhFlags;
  if (flags & RTNH_F.DEAD && dev.carrier) flags |= RTNH_F.LINKDOWN;
  for (const tb of ipv4Net(dev.netns).tables.values()) {
    for (const r of tb.routes()) {
      if (!r.nexthops.some((n) => n.dev === dev)) continue;
      let alive = 0;
      for (const nh of r.nexthops) {
        if (!(nh.flags & flags)) {
          alive++;
          continue;
        }
        if (!nh.dev?.isUp || nh.dev !== dev || !inDevGet(dev)) continue;
        alive++;
        nh.flags &= ~flags;
      }
      if (alive > 0) r.flags &= ~flags;
    }
  }
}

/** fib_flush: removes dead routes from every table. */
export function fibFlush(net: NetNamespace): void {
  for (const tb of ipv4Net(net).tables.values()) {
    for (const r of tb.routes()) {
      if (r.flags & RTNH_F.DEAD) {
        tb.remove(r);
        fibNotify(net, "DEL", r);
      }
    }
  }
}

/** fib_disable_ip: routes through dev die (forced: host-scope ones too), neighbours go (arp_ifdown). */
export function fibDisableIp(
  dev: NetDevice,
  force: boolean,
  event: "DOWN" | "UNREGISTER" = force ? "UNREGISTER" : "DOWN",
): void {
  if (fibSyncDownDev(dev, event, force)) fibFlush(dev.netns);
  ipv4Net(dev.netns).arp.flushDev(dev, false);
}
