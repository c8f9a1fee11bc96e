/**
 * Router discovery and stateless autoconfiguration: router solicitations after the first
 * link-local address is usable (RFC 3315 § 14 back-off, as addrconf_rs_timer), router
 * advertisements (ndisc_router_discovery: default router, hop limit, reachable/retrans times,
 * MTU) and prefix information (addrconf_prefix_rcv: on-link routes, SLAAC addresses).
 */
import {
  type Icmpv6Repr,
  type Ipv6Addr,
  ipv6IsLinkLocal,
  ipv6IsMulticast,
  ipv6Mask,
} from "../../wire/index.ts";
import { NSEC_PER_SEC } from "../clock.ts";
import { KernelError } from "../errno.ts";
import { IFF } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { NEIGH_UPDATE_F, NTF, NUD } from "../neigh/types.ts";
import type { SkBuff } from "../skb.ts";
import {
  addrconfGetPrefixRoute,
  addrconfPrefixRoute,
  addrconfVerify,
  IF_FLAGS,
  ipv6AddAddr,
  JIFFY,
} from "./addrconf.ts";
import { addrconfDadStart, addrconfEui64, addrconfIid } from "./addrconf-dad.ts";
import { ipv6AddrRtScope, ipv6ChkAddr, ipv6GetIfaddr, ipv6GetLladdr } from "./addr-util.ts";
import { fib6Insert, fib6Remove, fib6Table, newFib6Route } from "./fib6.ts";
import {
  type NdIpInfo,
  ndiscSendRs,
  ndiscUpdate,
  ndOptLladdr,
  setRouterDiscovery,
  setRouterToHost,
} from "./ndisc.ts";
import { type Inet6DevPriv, in6DevGet, ipv6Net } from "./state.ts";
import {
  ICMPV6_ROUTER_PREF,
  IFA_F,
  INFINITY_LIFE_TIME,
  RT_TABLE,
  RTF,
  RTPROT,
  type Fib6Route,
} from "./types.ts";

const HZ = 250;
/** MIN_VALID_LIFETIME: an RA cannot shorten a valid lifetime below 2 hours (RFC 4862 § 5.5.3 e). */
const MIN_VALID_LIFETIME = 2 * 3600;

/** ipv6_accept_ra: hosts accept RAs when accept_ra; routers only with accept_ra = 2. */
export function ipv6AcceptRa(idev: Inet6DevPriv): boolean {
  return idev.cnf.forwarding ? idev.cnf.accept_ra === 2 : idev.cnf.accept_ra > 0;
}

/** rfc3315_s14_backoff_init: the initial interval ± 10 % (jiffies). */
function backoffInit(idev: Inet6DevPriv, irt: number): number {
  return Math.floor(((900000 + idev.dev.netns.kernel.random.below(200001)) * irt) / 1000000);
}

/** rfc3315_s14_backoff_update: double ± 10 %, capped at the maximum ± 10 %. */
function backoffUpdate(idev: Inet6DevPriv, rt: number, mrt: number): number {
  const r = idev.dev.netns.kernel.random;
  let t = Math.floor(((1900000 + r.below(200001)) * rt) / 1000000);
  if (t > mrt) t = Math.floor(((900000 + r.below(200001)) * mrt) / 1000000);
  return t;
}

function modRsTimer(idev: Inet6DevPriv, jiffies: number): void {
  const loop = idev.dev.netns.kernel.loop;
  loop.cancel(idev.rsTimer);
  idev.rsTimer = loop.after(BigInt(jiffies) * JIFFY, () => {
    idev.rsTimer = null;
    addrconfRsTimer(idev);
  });
}

/**
 * The RS part of addrconf_dad_completed: a host (accepting RAs, rtr_solicits != 0, not
 * loopback) sends its first RS as soon as its first link-local address is usable.
 */
export function addrconfRsStart(idev: Inet6DevPriv): void {
  const dev = idev.dev;
  if (!ipv6AcceptRa(idev) || idev.cnf.router_solicitations === 0 || dev.flags & IFF.LOOPBACK) return;
  const ll = ipv6GetLladdr(dev, IFA_F.TENTATIVE);
  if (ll === null) return;
  ndiscSendRs(dev, ll);
  idev.rsInterval = BigInt(backoffInit(idev, idev.cnf.router_solicitation_interval * HZ));
  idev.rsProbes = 1;
  idev.ifFlags |= IF_FLAGS.RS_SENT;
  modRsTimer(idev, Number(idev.rsInterval));
}

/** addrconf_rs_timer: more RSs until an RA arrives or rtr_solicits are spent (-1: forever). */
function addrconfRsTimer(idev: Inet6DevPriv): void {
  const dev = idev.dev;
  if (idev.dead || !(idev.ifFlags & IF_FLAGS.READY) || !ipv6AcceptRa(idev)) return;
  if (idev.ifFlags & IF_FLAGS.RA_RCVD) return;
  const max = idev.cnf.router_solicitations;
  if (idev.rsProbes++ < max || max < 0) {
    const ll = ipv6GetLladdr(dev, IFA_F.TENTATIVE);
    if (ll === null) return;
    ndiscSendRs(dev, ll);
    idev.rsInterval = BigInt(
      backoffUpdate(idev, Number(idev.rsInterval), idev.cnf.router_solicitation_max_interval * HZ),
    );
    modRsTimer(
      idev,
      idev.rsProbes === max ? idev.cnf.router_solicitation_delay * HZ : Number(idev.rsInterval),
    );
  }
}

/** Stops router solicitation (addrconf_ifdown, forwarding on). */
export function addrconfRsStop(idev: Inet6DevPriv): void {
  idev.dev.netns.kernel.loop.cancel(idev.rsTimer);
  idev.rsTimer = null;
}

/** rt6_get_dflt_router: the RA default route via gw on dev. */
function getDfltRouter(net: NetNamespace, gw: Ipv6Addr, dev: SkBuff["dev"]): Fib6Route | undefined {
  return (fib6Table(net, RT_TABLE.MAIN, false) ?? []).find(
    (r) =>
      r.dstLen === 0 &&
      r.gateway === gw &&
      r.dev === dev &&
      (r.flags & (RTF.ADDRCONF | RTF.DEFAULT)) === (RTF.ADDRCONF | RTF.DEFAULT),
  );
}

/** rt6_purge_dflt_routers: forwarding was switched on; RA-learned default routes go. */
export function rt6PurgeDfltRouters(net: NetNamespace): void {
  for (const r of [...(fib6Table(net, RT_TABLE.MAIN, false) ?? [])]) {
    if ((r.flags & (RTF.ADDRCONF | RTF.DEFAULT)) === (RTF.ADDRCONF | RTF.DEFAULT)) fib6Remove(net, r);
  }
}

/** rt6_clean_tohost: a router became a host; its RA default routes go. */
function rt6CleanTohost(net: NetNamespace, gw: Ipv6Addr): void {
  for (const r of [...(fib6Table(net, RT_TABLE.MAIN, false) ?? [])]) {
    if ((r.flags & (RTF.ADDRCONF | RTF.DEFAULT)) === (RTF.ADDRCONF | RTF.DEFAULT) && r.gateway === gw)
      fib6Remove(net, r);
  }
}

/** The router preference bits of the RA flag byte (10b counts as medium). */
function raPref(flags: number, accept: boolean): number {
  const p = (flags >> 3) & 3;
  return p === ICMPV6_ROUTER_PREF.INVALID || !accept ? ICMPV6_ROUTER_PREF.MEDIUM : p;
}

/** ndisc_router_discovery. */
function ndiscRouterDiscovery(
  skb: SkBuff,
  ip: NdIpInfo,
  ra: Extract<Icmpv6Repr, { kind: "router-advert" }>,
): void {
  const dev = skb.dev;
  const net = dev.netns;
  if (!ipv6IsLinkLocal(ip.src)) return;
  const idev = in6DevGet(dev);
  if (!idev) return;
  const tbl = ipv6Net(net).ndTbl;
  const accept = ipv6AcceptRa(idev);
  if (accept) {
    if (idev.ifFlags & IF_FLAGS.RS_SENT) idev.ifFlags |= IF_FLAGS.RA_RCVD;
    idev.ifFlags =
      (idev.ifFlags & ~(IF_FLAGS.RA_MANAGED | IF_FLAGS.RA_OTHERCONF)) |
      (ra.flags & 0x80 ? IF_FLAGS.RA_MANAGED : 0) |
      (ra.flags & 0x40 ? IF_FLAGS.RA_OTHERCONF : 0);
    if (idev.cnf.accept_ra_defrtr && (idev.cnf.accept_ra_from_local || !ipv6ChkAddr(net, ip.src, dev))) {
      const lifetime = ra.routerLifetime;
      const pref = raPref(ra.flags, idev.cnf.accept_ra_rtr_pref > 0);
      const metric = idev.cnf.ra_defrtr_metric || 1024;
      let rt = getDfltRouter(net, ip.src, dev);
      if (rt && (lifetime === 0 || rt.metric !== metric)) {
        fib6Remove(net, rt);
        rt = undefined;
      }
      const expires = net.kernel.now + BigInt(lifetime) * NSEC_PER_SEC;
      if (!rt && lifetime) {
        try {
          rt = fib6Insert(
            net,
            newFib6Route({
              dst: 0n,
              dstLen: 0,
              gateway: ip.src,
              dev,
              protocol: RTPROT.RA,
              metric,
              pref,
              expires,
              flags: RTF.ADDRCONF | RTF.DEFAULT,
            }),
            null,
          );
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
          return;
        }
        try {
          const n = tbl.lookupOrCreate(dev, ip.src);
          n.flags |= NTF.ROUTER;
        } catch {
          return;
        }
      } else if (rt) {
        rt.pref = pref;
        rt.expires = expires;
        rt.flags |= RTF.EXPIRES;
        fib6Insert(net, rt, { replace: true, create: true });
      }
      if (
        idev.cnf.accept_ra_min_hop_limit < 256 &&
        ra.hopLimit &&
        idev.cnf.accept_ra_min_hop_limit <= ra.hopLimit
      ) {
        idev.cnf.hop_limit = ra.hopLimit;
        if (rt) (rt.metrics as Record<string, number>).hoplimit = ra.hopLimit;
      }
    }
    if (ra.retransTimer) {
      const ms = Math.max(10, ra.retransTimer);
      net.sysctl.set(`net.ipv6.neigh.${dev.name}.retrans_time_ms`, String(ms));
    }
    if (ra.reachableTime) {
      const ms = Math.max(100, ra.reachableTime);
      net.sysctl.set(`net.ipv6.neigh.${dev.name}.base_reachable_time_ms`, String(ms));
      net.sysctl.set(`net.ipv6.neigh.${dev.name}.gc_stale_time`, String(Math.floor((3 * ms) / 1000)));
    }
  }
  // The router's own entry: STALE with its link-layer address, router flag set.
  try {
    const n = tbl.lookupOrCreate(dev, ip.src);
    ndiscUpdate(
      n,
      ndOptLladdr(ra.options, "source-ll-addr"),
      NUD.STALE,
      NEIGH_UPDATE_F.WEAK_OVERRIDE |
        NEIGH_UPDATE_F.OVERRIDE |
        NEIGH_UPDATE_F.OVERRIDE_ISROUTER |
        NEIGH_UPDATE_F.ISROUTER,
    );
  } catch {
    // table full: the router stays unknown
  }
  if (!accept) return;
  if (idev.cnf.accept_ra_pinfo) {
    for (const o of ra.options) if (o.kind === "prefix-info") addrconfPrefixRcv(idev, o);
  }
  for (const o of ra.options) {
    if (o.kind !== "mtu" || !idev.cnf.accept_ra_mtu) continue;
    if (o.mtu < 1280 || o.mtu > dev.mtu) continue;
    net.sysctl.set(`net.ipv6.conf.${dev.name}.mtu`, String(o.mtu));
    const rt = getDfltRouter(net, ip.src, dev);
    if (rt) (rt.metrics as Record<string, number>).mtu = o.mtu;
  }
}

/** addrconf_prefix_rcv: on-link prefix routes and SLAAC addresses (/64 prefixes with the A flag). */
export function addrconfPrefixRcv(
  idev: Inet6DevPriv,
  pi: {
    readonly prefixLen: number;
    readonly flags: number;
    readonly validLifetime: number;
    readonly preferredLifetime: number;
    readonly prefix: Ipv6Addr;
  },
): void {
  const dev = idev.dev;
  const net = dev.netns;
  if (ipv6IsMulticast(pi.prefix) || ipv6IsLinkLocal(pi.prefix)) return;
  const validLft = pi.validLifetime;
  const preferredLft = pi.preferredLifetime;
  if (preferredLft > validLft) {
    net.kernel.printk("IPv6: addrconf: prefix option has invalid lifetime");
    return;
  }
  const prefix = pi.prefix & ipv6Mask(pi.prefixLen);
  if (pi.flags & 0x80) {
    const finite = validLft !== INFINITY_LIFE_TIME;
    const expires = finite ? net.kernel.now + BigInt(validLft) * NSEC_PER_SEC : null;
    const rt = addrconfGetPrefixRoute(dev, prefix, pi.prefixLen, RTF.ADDRCONF | RTF.PREFIX_RT);
    if (rt) {
      if (validLft === 0) fib6Remove(net, rt);
      else {
        rt.expires = expires;
        if (expires === null) rt.flags &= ~RTF.EXPIRES;
        else rt.flags |= RTF.EXPIRES;
        fib6Insert(net, rt, { replace: true, create: true });
      }
    } else if (validLft) {
      addrconfPrefixRoute(dev, prefix, pi.prefixLen, 0, expires, RTF.ADDRCONF | RTF.PREFIX_RT);
    }
  }
  if (!(pi.flags & 0x40) || !idev.cnf.autoconf) return;
  if (pi.prefixLen !== 64) return;
  const iid = dev.addrGenMode === 2 || dev.addrGenMode === 3 ? addrconfIid(idev) : addrconfEui64(dev);
  if (iid === null) return;
  const addr = prefix | iid;
  let ifa = ipv6GetIfaddr(net, addr, dev, true);
  let create = false;
  if (!ifa && validLft) {
    const max = idev.cnf.max_addresses;
    if (max && idev.addrs.length >= max) return;
    try {
      ifa = ipv6AddAddr(idev, {
        addr,
        prefixLen: 64,
        scope: ipv6AddrRtScope(addr),
        flags: (preferredLft === 0 ? IFA_F.DEPRECATED : 0) | IFA_F.MANAGETEMPADDR,
        validLft,
        preferredLft,
        autoconf: true,
      });
    } catch (e) {
      if (e instanceof KernelError) return;
      throw e;
    }
    create = true;
    addrconfDadStart(ifa);
  }
  if (!ifa) return;
  if (!create) {
    const age = Number((net.kernel.now - ifa.tstamp) / NSEC_PER_SEC);
    const stored = ifa.validLft === INFINITY_LIFE_TIME ? INFINITY_LIFE_TIME : Math.max(0, ifa.validLft - age);
    if (stored) {
      const minimum = Math.min(stored, MIN_VALID_LIFETIME);
      ifa.validLft = Math.max(validLft, minimum);
      ifa.preferredLft = preferredLft;
      ifa.tstamp = net.kernel.now;
      ifa.flags &= ~IFA_F.DEPRECATED;
      if (preferredLft === 0) ifa.flags |= IFA_F.DEPRECATED;
    }
  }
  addrconfVerify(ifa);
}

/** Wires the RA handler and router-to-host cleanup into ndisc. */
export function routerDiscInit(): void {
  setRouterDiscovery(ndiscRouterDiscovery);
  setRouterToHost(rt6CleanTohost);
}
