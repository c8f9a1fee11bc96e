/**
 * The per-device side of addrconf: duplicate address detection (addrconf_dad_*), link-local
 * generation by addrgenmode (EUI-64 with dev_id, random, none), ::1 on lo, and what NETDEV_UP /
 * NETDEV_CHANGE do once the link is ready.
 */
import {
  eui64Iid,
  formatIpv6,
  formatMac,
  IPV6_ALL_NODES,
  IPV6_LOOPBACK,
  type Ipv6Addr,
  ipv6SolicitedNode,
} from "../../wire/index.ts";
import { NSEC_PER_MSEC } from "../clock.ts";
import { KernelError } from "../errno.ts";
import { ARPHRD, IFF, type NetDevice } from "../netdev.ts";
import {
  addrconfAddDev,
  addrconfLinkReady,
  addrconfPrefixRoute,
  IF_FLAGS,
  insertLocalRoute,
  ipv6AddAddr,
  ipv6AddDev,
  ipv6DelAddr,
  ipv6FindIdev,
  JIFFY,
  joinSolict,
} from "./addrconf.ts";
import { ipv6McDadComplete, ipv6McUp } from "./mcast.ts";
import { ndiscSendNa, ndiscSendNs } from "./ndisc.ts";
import { addrconfRsStart } from "./router-disc.ts";
import { confInt } from "./sysctl.ts";
import { type Inet6DevPriv, type Inet6IfaddrPriv, in6DevGet, ipv6Net } from "./state.ts";
import { IFA_F, IN6_ADDR_GEN_MODE, INFINITY_LIFE_TIME, RT_SCOPE } from "./types.ts";

/** addrconf_dad_start: DAD begins at once (the work item runs "immediately"). */
export function addrconfDadStart(ifa: Inet6IfaddrPriv): void {
  if (!ifa.live) return;
  addrconfDadBegin(ifa);
}

/**
 * addrconf_dad_begin: joins the solicited-node group, then either completes at once (NOARP,
 * loopback, nodad, accept_dad 0, not tentative), waits (link not ready), or kicks DAD.
 */
function addrconfDadBegin(ifa: Inet6IfaddrPriv): void {
  const dev = ifa.dev;
  const idev = in6DevGet(dev);
  if (!idev) return;
  joinSolict(ifa);
  const net = dev.netns;
  const acceptDad = Math.max(confInt(net, "all", "accept_dad"), idev.cnf.accept_dad);
  if (
    dev.flags & (IFF.NOARP | IFF.LOOPBACK) ||
    acceptDad < 1 ||
    !(ifa.flags & IFA_F.TENTATIVE) ||
    ifa.flags & IFA_F.NODAD
  ) {
    const sendNa = (ifa.flags & IFA_F.TENTATIVE) !== 0 && !(ifa.flags & IFA_F.OPTIMISTIC);
    ifa.flags &= ~(IFA_F.TENTATIVE | IFA_F.OPTIMISTIC | IFA_F.DADFAILED);
    addrconfDadCompleted(ifa, sendNa);
    return;
  }
  if (!(idev.ifFlags & IF_FLAGS.READY)) return;
  addrconfDadKick(ifa);
}

/** addrconf_dad_kick: first probe after a random delay below rtr_solicit_delay, with a nonce. */
function addrconfDadKick(ifa: Inet6IfaddrPriv): void {
  const idev = in6DevGet(ifa.dev)!;
  const net = ifa.dev.netns;
  const random = net.kernel.random;
  const delayJiffies = Math.max(1, idev.cnf.router_solicitation_delay * 250);
  const rand = ifa.flags & IFA_F.OPTIMISTIC ? 0n : BigInt(random.below(delayJiffies)) * JIFFY;
  ifa.dadNonce = 0n;
  if (idev.cnf.enhanced_dad || confInt(net, "all", "enhanced_dad")) {
    while (ifa.dadNonce === 0n) ifa.dadNonce = (BigInt(random.u32() & 0xffff) << 32n) | BigInt(random.u32());
  }
  ifa.dadProbes = idev.cnf.dad_transmits;
  scheduleDad(ifa, rand);
}

function scheduleDad(ifa: Inet6IfaddrPriv, delay: bigint): void {
  const loop = ifa.dev.netns.kernel.loop;
  loop.cancel(ifa.dadTimer);
  ifa.dadTimer = loop.after(delay, () => {
    ifa.dadTimer = null;
    addrconfDadWork(ifa);
  });
}

/** addrconf_dad_work (DAD_PROCESS): one probe per retrans_time; success when none are left. */
function addrconfDadWork(ifa: Inet6IfaddrPriv): void {
  if (!ifa.live || !(ifa.flags & IFA_F.TENTATIVE) || ifa.flags & IFA_F.DADFAILED) return;
  const idev = in6DevGet(ifa.dev);
  if (!idev || !(idev.ifFlags & IF_FLAGS.READY)) return;
  if (ifa.dadProbes === 0) {
    const sendNa = !(ifa.flags & IFA_F.OPTIMISTIC);
    ifa.flags &= ~(IFA_F.TENTATIVE | IFA_F.OPTIMISTIC | IFA_F.DADFAILED);
    addrconfDadCompleted(ifa, sendNa);
    return;
  }
  ifa.dadProbes--;
  const retrans = BigInt(ipv6Net(ifa.dev.netns).ndTbl.parmValue(ifa.dev, "retrans_time_ms")) * NSEC_PER_MSEC;
  scheduleDad(ifa, retrans > 10n * NSEC_PER_MSEC ? retrans : 10n * NSEC_PER_MSEC);
  ndiscSendNs(ifa.dev, ifa.addr, ipv6SolicitedNode(ifa.addr), 0n, ifa.dadNonce);
}

/**
 * addrconf_dad_completed: the local route goes in; the first usable link-local re-sends MLD
 * reports from its own address and starts router solicitation; an unsolicited NA goes out
 * when ndisc_notify is set.
 */
function addrconfDadCompleted(ifa: Inet6IfaddrPriv, sendNa: boolean): void {
  const dev = ifa.dev;
  const idev = in6DevGet(dev);
  if (!idev) return;
  insertLocalRoute(ifa);
  const net = dev.netns;
  const lonely =
    ifa.scope === RT_SCOPE.LINK &&
    idev.addrs.filter((a) => a.scope === RT_SCOPE.LINK && !(a.flags & IFA_F.TENTATIVE)).length === 1;
  if (lonely) ipv6McDadComplete(idev);
  if (sendNa && (idev.cnf.ndisc_notify || confInt(net, "all", "ndisc_notify"))) {
    ndiscSendNa(dev, IPV6_ALL_NODES, ifa.addr, idev.cnf.forwarding > 0, false, true, true);
  }
  if (lonely) addrconfRsStart(idev);
}

/**
 * addrconf_dad_failure: an NS or NA for our tentative address came from someone else. Logs
 * the duplicate; a permanent address stays, flagged dadfailed (and tentative); others go.
 */
export function addrconfDadFailure(ifa: Inet6IfaddrPriv, srcMac: number): void {
  if (!ifa.live || !(ifa.flags & IFA_F.TENTATIVE) || ifa.flags & IFA_F.DADFAILED) return;
  const dev = ifa.dev;
  dev.netns.kernel.printk(
    `IPv6: ${dev.name}: IPv6 duplicate address ${formatIpv6(ifa.addr)} used by ${formatMac(srcMac)} detected!`,
  );
  dev.netns.kernel.loop.cancel(ifa.dadTimer);
  ifa.dadTimer = null;
  if (ifa.flags & IFA_F.PERMANENT) ifa.flags |= IFA_F.TENTATIVE | IFA_F.DADFAILED;
  else ipv6DelAddr(ifa);
}

/** addrconf_dad_run: restarts DAD for tentative addresses once the link is ready. */
export function addrconfDadRun(idev: Inet6DevPriv, restart: boolean): void {
  for (const ifa of [...idev.addrs]) {
    if (restart) {
      if (ifa.flags & IFA_F.NODAD) continue;
      ifa.flags |= IFA_F.TENTATIVE;
      ifa.flags &= ~IFA_F.DADFAILED;
    }
    if (ifa.flags & IFA_F.TENTATIVE && !(ifa.flags & IFA_F.DADFAILED)) addrconfDadBegin(ifa);
    else if (!(ifa.flags & IFA_F.TENTATIVE)) insertLocalRoute(ifa);
  }
}

// ---------------------------------------------------------------------------------------------
// Link-local generation

/** ipv6_generate_eui64: the EUI-64 interface id of an Ethernet device (dev_id aware), or null. */
export function addrconfEui64(dev: NetDevice): bigint | null {
  if (dev.type !== ARPHRD.ETHER || dev.addrLen !== 6) return null;
  return eui64Iid(dev.mac, dev.devId);
}

/** The 64-bit interface id addrgenmode gives this device, or null (none, or no EUI-64 possible). */
export function addrconfIid(idev: Inet6DevPriv): bigint | null {
  const dev = idev.dev;
  switch (dev.addrGenMode) {
    case IN6_ADDR_GEN_MODE.EUI64:
      return addrconfEui64(dev);
    case IN6_ADDR_GEN_MODE.RANDOM:
    case IN6_ADDR_GEN_MODE.STABLE_PRIVACY: {
      if (idev.rndIid === 0n) {
        const r = dev.netns.kernel.random;
        idev.rndIid = ((BigInt(r.u32()) << 32n) | BigInt(r.u32())) & ~(0x02n << 56n);
      }
      return idev.rndIid;
    }
    default:
      return null;
  }
}

/** addrconf_add_linklocal: fe80::/64 + IID, permanent, with its prefix route, then DAD. */
function addrconfAddLinklocal(idev: Inet6DevPriv, addr: Ipv6Addr): void {
  let ifa: Inet6IfaddrPriv;
  try {
    ifa = ipv6AddAddr(idev, {
      addr,
      prefixLen: 64,
      scope: RT_SCOPE.LINK,
      flags:
        IFA_F.PERMANENT |
        (idev.dev.addrGenMode === IN6_ADDR_GEN_MODE.STABLE_PRIVACY ? IFA_F.STABLE_PRIVACY : 0),
      validLft: INFINITY_LIFE_TIME,
      preferredLft: INFINITY_LIFE_TIME,
    });
  } catch (e) {
    if (e instanceof KernelError) return;
    throw e;
  }
  addrconfPrefixRoute(idev.dev, ifa.addr, 64, 0, null, 0);
  addrconfDadStart(ifa);
}

/** addrconf_addr_gen: the link-local address per addrgenmode (none: nothing at all). */
export function addrconfAddrGen(idev: Inet6DevPriv): void {
  const iid = addrconfIid(idev);
  if (iid === null) return;
  addrconfAddLinklocal(idev, (0xfe80n << 112n) | iid);
}

/** addrconf_dev_config: Ethernet-like and headerless devices autoconfigure their link-local. */
function addrconfDevConfig(dev: NetDevice): void {
  if (dev.type !== ARPHRD.ETHER && dev.type !== ARPHRD.NONE) return;
  let idev: Inet6DevPriv;
  try {
    idev = addrconfAddDev(dev);
  } catch (e) {
    if (e instanceof KernelError) return;
    throw e;
  }
  if (dev.type === ARPHRD.NONE && dev.addrGenMode === IN6_ADDR_GEN_MODE.EUI64)
    dev.addrGenMode = IN6_ADDR_GEN_MODE.RANDOM;
  addrconfAddrGen(idev);
}

/** init_loopback: ::1/128 scope host on lo. */
function initLoopback(dev: NetDevice): void {
  const idev = ipv6FindIdev(dev);
  if (!idev || idev.cnf.disable_ipv6) return;
  const have = idev.addrs.find((a) => a.addr === IPV6_LOOPBACK);
  if (have) {
    addrconfDadRun(idev, false);
    return;
  }
  try {
    const ifa = ipv6AddAddr(idev, {
      addr: IPV6_LOOPBACK,
      prefixLen: 128,
      scope: RT_SCOPE.HOST,
      flags: IFA_F.PERMANENT,
      validLft: INFINITY_LIFE_TIME,
      preferredLft: INFINITY_LIFE_TIME,
    });
    addrconfDadStart(ifa);
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
}

/**
 * The address side of NETDEV_UP / NETDEV_CHANGE (addrconf_notify): once the link is ready,
 * mark the device ready, configure link-local (or ::1), run pending DAD.
 */
export function addrconfUp(dev: NetDevice, event: "UP" | "CHANGE"): void {
  let idev = in6DevGet(dev);
  if (idev?.cnf.disable_ipv6) return;
  if (event === "UP") {
    if (idev) restorePermanentRoutes(idev);
    if (!addrconfLinkReady(dev)) return;
    if (!idev) idev = ipv6AddDev(dev) ?? undefined;
    if (idev) idev.ifFlags |= IF_FLAGS.READY;
  } else {
    if (!addrconfLinkReady(dev)) return;
    if (idev) {
      if (idev.ifFlags & IF_FLAGS.READY) {
        ipv6McUp(idev);
        return;
      }
      idev.ifFlags |= IF_FLAGS.READY;
    }
    dev.netns.kernel.printk(`IPv6: ADDRCONF(NETDEV_CHANGE): ${dev.name}: link becomes ready`);
  }
  if (dev.type === ARPHRD.LOOPBACK) initLoopback(dev);
  else addrconfDevConfig(dev);
  idev = in6DevGet(dev);
  if (idev) addrconfDadRun(idev, false);
}

/** addrconf_permanent_addr: an up device gets the prefix routes of its permanent addresses back. */
function restorePermanentRoutes(idev: Inet6DevPriv): void {
  for (const ifa of idev.addrs) {
    if (!(ifa.flags & IFA_F.PERMANENT) || ifa.flags & IFA_F.NOPREFIXROUTE) continue;
    if (ifa.scope === RT_SCOPE.HOST) continue;
    addrconfPrefixRoute(
      idev.dev,
      ifa.peer ?? ifa.addr,
      ifa.peer ? 128 : ifa.prefixLen,
      ifa.rtPriority,
      null,
      0,
    );
  }
}
