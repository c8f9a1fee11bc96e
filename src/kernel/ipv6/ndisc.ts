/**
 * Neighbour discovery (net/ipv6/ndisc.c): the nd_tbl protocol hooks for the generic neighbour
 * table (constructor, solicit, error report), sending NS/NA/RS, and receiving NS/NA/RS
 * (answering solicitations for our addresses, DAD conflicts, neighbour state updates). Router
 * advertisements are handled in router-disc.ts.
 */
import {
  type Icmpv6Repr,
  IPV6_ALL_NODES,
  IPV6_ALL_ROUTERS,
  type Ipv6Addr,
  ipv6IsMulticast,
  ipv6IsSolicitedNode,
  ipv6MulticastMac,
  type NdiscOption,
  NdiscOptionType,
  formatIpv6,
  formatMac,
} from "../../wire/index.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { type NeighOps, NeighTable, type Neighbour } from "../neigh/neigh.ts";
import { NEIGH_UPDATE_F, NTF, NUD } from "../neigh/types.ts";
import { PacketType, type SkBuff } from "../skb.ts";
import { addrconfDadFailure } from "./addrconf-dad.ts";
import { ipv6ChkAddr, ipv6DevGetSaddr, ipv6GetIfaddr, ipv6GetLladdr } from "./addr-util.ts";
import { icmpv6Send } from "./icmp.ts";
import { buildIcmpv6Packet, ip6SendOnDev, ip6XmitFrame } from "./output.ts";
import { in6DevGet, ipv6Net } from "./state.ts";
import { IFA_F } from "./types.ts";

/** ICMPv6 destination unreachable, address unreachable. */
const ICMPV6_DEST_UNREACH = 1;
const ICMPV6_ADDR_UNREACH = 3;

/** The link-layer address carried in an option of the given kind, if any. */
export function ndOptLladdr(
  options: readonly NdiscOption[],
  kind: "source-ll-addr" | "target-ll-addr",
): number | null {
  for (const o of options) if (o.kind === kind) return o.addr;
  return null;
}

/** The nonce option of a DAD probe (type 14, 6 bytes), as a number, or 0n. */
function ndOptNonce(options: readonly NdiscOption[]): bigint {
  for (const o of options) {
    if (o.kind === "unknown" && o.type === NdiscOptionType.Nonce && o.data.length === 6) {
      let v = 0n;
      for (const b of o.data) v = (v << 8n) | BigInt(b);
      return v;
    }
  }
  return 0n;
}

function nonceOption(nonce: bigint): NdiscOption {
  const data = new Uint8Array(6);
  for (let i = 5, v = nonce; i >= 0; i--, v >>= 8n) data[i] = Number(v & 0xffn);
  return { kind: "unknown", type: NdiscOptionType.Nonce, data };
}

/** ndisc_constructor: multicast, NOARP, loopback and headerless devices need no resolution. */
function ndiscConstruct(n: Neighbour<bigint>): void {
  const dev = n.dev;
  if (dev.hardHeaderLen === 0) {
    n.nudState = NUD.NOARP;
    return;
  }
  if (ipv6IsMulticast(n.key)) {
    n.nudState = NUD.NOARP;
    n.lladdr = ipv6MulticastMac(n.key);
  } else if (dev.flags & (IFF.NOARP | IFF.LOOPBACK)) {
    n.nudState = NUD.NOARP;
    n.lladdr = dev.mac;
    if (dev.flags & IFF.LOOPBACK) n.type = 2;
  }
}

/**
 * ndisc_solicit: unicast probes (to the known address) while in PROBE, multicast to the
 * solicited-node group while resolving; the source is the queued packet's source if it is ours.
 */
function ndiscSolicit(n: Neighbour<bigint>, skb: SkBuff | null): void {
  const dev = n.dev;
  const net = dev.netns;
  let saddr: Ipv6Addr | null = null;
  if (skb) {
    const pkt = skb.network === 0 ? skb.data : skb.data.subarray(skb.network);
    if (pkt.length >= 40) {
      let s = 0n;
      for (let i = 8; i < 24; i++) s = (s << 8n) | BigInt(pkt[i]);
      if (ipv6ChkAddr(net, s, dev, false, IFA_F.TENTATIVE | IFA_F.OPTIMISTIC)) saddr = s;
    }
  }
  const tbl = n.table;
  const p = tbl.parms(dev);
  // neigh.ts counts the probe before calling us; Linux counts after.
  let probes = n.probes - 1 - p.ucastProbes;
  if (probes < 0) {
    ndiscSendNs(dev, n.key, n.key, saddr, 0n);
    return;
  }
  probes -= p.appProbes;
  if (probes < 0) return;
  ndiscSendNs(dev, n.key, 0xff02_0000_0000_0000_0000_0001_ff00_0000n | (n.key & 0xff_ffffn), saddr, 0n);
}

/** ndisc_error_report → ip6_link_failure: the sender learns the address is unreachable. */
function ndiscErrorReport(n: Neighbour<bigint>, skb: SkBuff): void {
  icmpv6Send(n.dev.netns, skb, ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, 0, n.dev);
}

/** The nd_tbl protocol operations. */
export const ndiscOps: NeighOps<bigint> = {
  family: 6,
  id: "ndisc_cache",
  sysctlPrefix: "net.ipv6.neigh",
  keyString: (k) => formatIpv6(k),
  construct: ndiscConstruct,
  solicit: ndiscSolicit,
  errorReport: ndiscErrorReport,
};

/** Creates a namespace's nd_tbl. */
export function ndiscTableInit(net: NetNamespace): NeighTable<bigint> {
  return new NeighTable<bigint>(net, ndiscOps);
}

/**
 * ndisc_send_ns: saddr null = our link-local (nothing is sent without a usable one); saddr ::
 * (DAD) carries no source link-layer option but the nonce.
 */
export function ndiscSendNs(
  dev: NetDevice,
  target: Ipv6Addr,
  daddr: Ipv6Addr,
  saddr: Ipv6Addr | null,
  nonce: bigint,
): void {
  let src = saddr;
  if (src === null) {
    src = ipv6GetLladdr(dev, IFA_F.TENTATIVE | IFA_F.OPTIMISTIC);
    if (src === null) return;
  }
  const options: NdiscOption[] = [];
  if (src !== 0n && dev.addrLen === 6) options.push({ kind: "source-ll-addr", addr: dev.mac });
  if (nonce !== 0n) options.push(nonceOption(nonce));
  const pkt = buildIcmpv6Packet(src, daddr, 255, { kind: "neighbor-solicit", target, options });
  ip6SendOnDev(dev, pkt, daddr);
}

/**
 * ndisc_send_na: from the target itself when it is ours (else the best source for daddr), with
 * the target link-layer option when incOpt (or force_tllao).
 */
export function ndiscSendNa(
  dev: NetDevice,
  daddr: Ipv6Addr,
  target: Ipv6Addr,
  router: boolean,
  solicited: boolean,
  override: boolean,
  incOpt: boolean,
): void {
  const net = dev.netns;
  const ifa = ipv6GetIfaddr(net, target, dev, true);
  let src: Ipv6Addr;
  if (ifa) {
    src = target;
    if (ifa.flags & IFA_F.OPTIMISTIC) override = false;
    if (in6DevGet(dev)?.cnf.force_tllao) incOpt = true;
  } else {
    const s = ipv6DevGetSaddr(net, dev, daddr);
    if (s === null) return;
    src = s;
  }
  const options: NdiscOption[] =
    incOpt && dev.addrLen === 6 ? [{ kind: "target-ll-addr", addr: dev.mac }] : [];
  const pkt = buildIcmpv6Packet(src, daddr, 255, {
    kind: "neighbor-advert",
    router,
    solicited,
    override,
    target,
    options,
  });
  ip6SendOnDev(dev, pkt, daddr);
}

/** ndisc_send_unsol_na: unsolicited NAs for every usable address (NETDEV_NOTIFY_PEERS, ndisc_notify). */
export function ndiscSendUnsolNa(dev: NetDevice): void {
  const idev = in6DevGet(dev);
  if (!idev) return;
  for (const ifa of idev.addrs) {
    if (ifa.flags & IFA_F.TENTATIVE) continue;
    ndiscSendNa(dev, IPV6_ALL_NODES, ifa.addr, idev.cnf.forwarding > 0, false, true, true);
  }
}

/** ndisc_send_rs: a router solicitation, with our link-layer address unless the source is ::. */
export function ndiscSendRs(dev: NetDevice, saddr: Ipv6Addr): void {
  const options: NdiscOption[] =
    saddr !== 0n && dev.addrLen === 6 ? [{ kind: "source-ll-addr", addr: dev.mac }] : [];
  const pkt = buildIcmpv6Packet(saddr, IPV6_ALL_ROUTERS, 255, { kind: "router-solicit", options });
  ip6SendOnDev(dev, pkt, IPV6_ALL_ROUTERS);
}

/** neigh_update with a sender for queued packets (they leave once the entry is valid). */
export function ndiscUpdate(n: Neighbour<bigint>, lladdr: number | null, state: number, flags: number): void {
  try {
    n.table.update(n, lladdr, state, flags, (q) => ip6XmitFrame(q, n.dev, n.lladdr));
  } catch {
    // NOARP/PERMANENT entries and address-less updates of invalid entries are ignored.
  }
}

/** The IPv6 header fields ND processing needs. */
export interface NdIpInfo {
  readonly src: Ipv6Addr;
  readonly dst: Ipv6Addr;
  readonly hopLimit: number;
  /** Source MAC of the frame (for the duplicate-address log line). */
  readonly srcMac: number;
}

/** ndisc_recv_ns. */
function ndiscRecvNs(
  skb: SkBuff,
  ip: NdIpInfo,
  msg: Extract<Icmpv6Repr, { kind: "neighbor-solicit" }>,
): void {
  const dev = skb.dev;
  const net = dev.netns;
  const dad = ip.src === 0n;
  if (ipv6IsMulticast(msg.target)) return;
  if (dad && !ipv6IsSolicitedNode(ip.dst)) return;
  const lladdr = ndOptLladdr(msg.options, "source-ll-addr");
  if (lladdr !== null && dad) return;
  const inc = ipv6IsMulticast(ip.dst);
  const ifa = ipv6GetIfaddr(net, msg.target, dev, true);
  const idev = in6DevGet(dev);
  if (!idev) return;
  if (ifa) {
    if (ifa.flags & (IFA_F.TENTATIVE | IFA_F.OPTIMISTIC)) {
      if (dad) {
        const nonce = ndOptNonce(msg.options);
        if (nonce !== 0n && nonce === ifa.dadNonce) return;
        addrconfDadFailure(ifa, ip.srcMac);
        return;
      }
      if (!(ifa.flags & IFA_F.OPTIMISTIC)) return;
    }
  } else {
    return;
  }
  const isRouter = idev.cnf.forwarding > 0;
  if (dad) {
    ndiscSendNa(dev, IPV6_ALL_NODES, msg.target, isRouter, false, true, true);
    return;
  }
  const tbl = ipv6Net(net).ndTbl;
  let n: Neighbour<bigint> | undefined;
  if (!inc || lladdr !== null || dev.addrLen === 0) {
    try {
      n = tbl.lookupOrCreate(dev, ip.src);
    } catch {
      n = undefined;
    }
  } else n = tbl.lookup(dev, ip.src);
  if (n) ndiscUpdate(n, lladdr, NUD.STALE, NEIGH_UPDATE_F.WEAK_OVERRIDE | NEIGH_UPDATE_F.OVERRIDE);
  if (n || dev.hardHeaderLen === 0) ndiscSendNa(dev, ip.src, msg.target, isRouter, true, inc, inc);
}

/** ndisc_recv_na. */
function ndiscRecvNa(skb: SkBuff, ip: NdIpInfo, msg: Extract<Icmpv6Repr, { kind: "neighbor-advert" }>): void {
  const dev = skb.dev;
  const net = dev.netns;
  const idev = in6DevGet(dev);
  if (ipv6IsMulticast(msg.target)) return;
  if (ipv6IsMulticast(ip.dst) && msg.solicited) return;
  if (!msg.solicited && idev?.cnf.drop_unsolicited_na) return;
  const lladdr = ndOptLladdr(msg.options, "target-ll-addr");
  const ifa = ipv6GetIfaddr(net, msg.target, dev, true);
  if (ifa) {
    if (skb.pktType !== PacketType.LOOPBACK && ifa.flags & IFA_F.TENTATIVE) {
      addrconfDadFailure(ifa, ip.srcMac);
      return;
    }
    if (skb.pktType !== PacketType.LOOPBACK) {
      net.kernel.printk(
        `ICMPv6: NA: ${formatMac(ip.srcMac)} advertised our address ${formatIpv6(ifa.addr)} on ${dev.name}!`,
      );
    }
    return;
  }
  const tbl = ipv6Net(net).ndTbl;
  let n = tbl.lookup(dev, msg.target);
  let state = msg.solicited ? NUD.REACHABLE : NUD.STALE;
  if (!n && lladdr !== null && idev?.cnf.forwarding && idev.cnf.accept_untracked_na) {
    try {
      n = tbl.create(dev, msg.target);
      state = NUD.STALE;
    } catch {
      n = undefined;
    }
  }
  if (!n || n.nudState & NUD.FAILED) return;
  const wasRouter = (n.flags & NTF.ROUTER) !== 0;
  ndiscUpdate(
    n,
    lladdr,
    state,
    NEIGH_UPDATE_F.WEAK_OVERRIDE |
      (msg.override ? NEIGH_UPDATE_F.OVERRIDE : 0) |
      NEIGH_UPDATE_F.OVERRIDE_ISROUTER |
      (msg.router ? NEIGH_UPDATE_F.ISROUTER : 0),
  );
  if (wasRouter && !(n.flags & NTF.ROUTER)) routerToHost(net, ip.src);
}

let routerToHost: (net: NetNamespace, addr: Ipv6Addr) => void = () => {};

/** Installs rt6_clean_tohost (removing default routes via a router that became a host). */
export function setRouterToHost(fn: (net: NetNamespace, addr: Ipv6Addr) => void): void {
  routerToHost = fn;
}

/** ndisc_recv_rs: routers learn the soliciting host's link-layer address. */
function ndiscRecvRs(skb: SkBuff, ip: NdIpInfo, msg: Extract<Icmpv6Repr, { kind: "router-solicit" }>): void {
  const dev = skb.dev;
  const idev = in6DevGet(dev);
  if (!idev?.cnf.forwarding || ip.src === 0n) return;
  const lladdr = ndOptLladdr(msg.options, "source-ll-addr");
  let n: Neighbour<bigint>;
  try {
    n = ipv6Net(dev.netns).ndTbl.lookupOrCreate(dev, ip.src);
  } catch {
    return;
  }
  ndiscUpdate(
    n,
    lladdr,
    NUD.STALE,
    NEIGH_UPDATE_F.WEAK_OVERRIDE | NEIGH_UPDATE_F.OVERRIDE | NEIGH_UPDATE_F.OVERRIDE_ISROUTER,
  );
}

let routerDiscovery: (
  skb: SkBuff,
  ip: NdIpInfo,
  msg: Extract<Icmpv6Repr, { kind: "router-advert" }>,
) => void = () => {};

/** Installs the RA handler (ndisc_router_discovery, in router-disc.ts). */
export function setRouterDiscovery(fn: typeof routerDiscovery): void {
  routerDiscovery = fn;
}

/** ndisc_rcv: hop limit must be 255; dispatch by type. Returns whether the message was ND. */
export function ndiscRcv(skb: SkBuff, ip: NdIpInfo, msg: Icmpv6Repr): boolean {
  switch (msg.kind) {
    case "neighbor-solicit":
    case "neighbor-advert":
    case "router-solicit":
    case "router-advert":
    case "redirect":
      break;
    default:
      return false;
  }
  if (ip.hopLimit !== 255) {
    skb.dev.countDrop("NDISC_HOP_LIMIT");
    return true;
  }
  if (msg.kind === "neighbor-solicit") ndiscRecvNs(skb, ip, msg);
  else if (msg.kind === "neighbor-advert") ndiscRecvNa(skb, ip, msg);
  else if (msg.kind === "router-solicit") ndiscRecvRs(skb, ip, msg);
  else if (msg.kind === "router-advert") routerDiscovery(skb, ip, msg);
  return true;
}
