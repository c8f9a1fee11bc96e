/**
 * ARP (net/ipv4/arp.c): the neighbour-table operations of IPv4 (constructor with NOARP cases,
 * solicitation with source-address choice and unicast-then-broadcast probing, error report),
 * arp_rcv/arp_process (replies for local addresses under arp_ignore/arp_filter, learning from
 * requests, replies and gratuitous ARP, proxy ARP) and arp_send.
 */
import { readIpv4, readMac, readU16, writeIpv4, writeMac, writeU16 } from "../../wire/index.ts";
import { devQueueXmit } from "../dev.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NeighOps, Neighbour } from "../neigh/neigh.ts";
import { pneighLookup } from "../neigh/admin.ts";
import { devHardHeader } from "../neigh/output.ts";
import { NEIGH_UPDATE_F, NUD } from "../neigh/types.ts";
import { NF, NFPROTO, type NfHookNum, nfHook } from "../netfilter/hooks.ts";
import { allocSkb, PacketType, type SkBuff } from "../skb.ts";
import { inDevGet, inetConfirmAddr, inetIfaMatch, inetSelectAddr } from "./devinet.ts";
import { inetAddrType } from "./fib.ts";
import { ICMP, ICMP_UNREACH, isLoopback, isMulticast, ntoa } from "./hdr.ts";
import { icmpSend } from "./icmp.ts";
import { ipRouteInput, ipRouteOutput } from "./route.ts";
import { IPV4_NET, ipv4Net } from "./state.ts";
import { inDevForward, inDevMaxconf, inDevOrconf, devconf } from "./sysctl.ts";
import { RT_SCOPE, RTN } from "./types.ts";

/** ARP opcodes. */
export const ARPOP = { REQUEST: 1, REPLY: 2 } as const;
/** ETH_P_ARP / ETH_P_IP. */
const ETH_P_ARP = 0x0806;
const ETH_P_IP = 0x0800;
/** NF_ARP_IN / NF_ARP_OUT hook numbers. */
const NF_ARP_IN = 0 as NfHookNum;
const NF_ARP_OUT = 1 as NfHookNum;

/** Whether the device builds link-layer headers (has header_ops). */
function hasHeaderOps(dev: NetDevice): boolean {
  return dev.hardHeaderLen > 0 && dev.addrLen > 0;
}

/** arp_mc_map for Ethernet: 01:00:5e + the low 23 bits. */
function mcMap(addr: number): number {
  return 0x01005e000000 + (addr & 0x7fffff);
}

/**
 * arp_constructor: multicast keys map to their group MAC, NOARP/loopback devices use their own
 * address, broadcast keys and point-to-point devices the broadcast address — all NUD_NOARP.
 */
function arpConstructor(n: Neighbour<number>): void {
  const dev = n.dev;
  n.type = inetAddrType(dev.netns, n.key, dev);
  if (!hasHeaderOps(dev)) {
    n.nudState = NUD.NOARP;
    return;
  }
  if (n.type === RTN.MULTICAST) {
    n.nudState = NUD.NOARP;
    n.lladdr = mcMap(n.key);
  } else if (dev.flags & (IFF.NOARP | IFF.LOOPBACK)) {
    n.nudState = NUD.NOARP;
    n.lladdr = dev.mac;
  } else if (n.type === RTN.BROADCAST || dev.flags & IFF.POINTOPOINT) {
    n.nudState = NUD.NOARP;
    n.lladdr = dev.broadcast;
  }
}

/**
 * arp_solicit: source address per arp_announce (0: the packet's source if local; 1: only if
 * on the target's subnet; 2: the best primary), then a unicast probe to the known address while
 * probes < ucast_solicit, else a broadcast request.
 */
function arpSolicit(n: Neighbour<number>, skb: SkBuff | null): void {
  const dev = n.dev;
  const net = dev.netns;
  const target = n.key;
  let saddr = 0;
  const pktSaddr = skb ? readIpv4(skb.data, skb.network + 12) : 0;
  switch (inDevMaxconf(dev, "arp_announce")) {
    case 1:
      if (skb && inetAddrType(net, pktSaddr, dev) === RTN.LOCAL && inetAddrOnlinkDev(dev, target, pktSaddr))
        saddr = pktSaddr;
      break;
    case 2:
      break;
    default:
      if (skb && inetAddrType(net, pktSaddr, dev) === RTN.LOCAL) saddr = pktSaddr;
  }
  if (!saddr) saddr = inetSelectAddr(dev, target, RT_SCOPE.LINK);
  const table = n.table;
  const p = table.parms(dev);
  // n.probes already counts this solicitation (see NeighOps.solicit).
  let probes = n.probes - 1 - p.ucastProbes;
  let dstHw: number | null = null;
  if (probes < 0) {
    dstHw = n.lladdr;
  } else {
    probes -= p.appProbes;
    if (probes < 0) return;
  }
  arpSend(ARPOP.REQUEST, target, dev, saddr, dstHw, dev.mac, null);
}

/** inet_addr_onlink on one device. */
function inetAddrOnlinkDev(dev: NetDevice, a: number, b: number): boolean {
  return (inDevGet(dev)?.addrs ?? []).some((ifa) => inetIfaMatch(a, ifa) && (!b || inetIfaMatch(b, ifa)));
}

/** arp_error_report → ipv4_link_failure: ICMP host unreachable to the packet's sender. */
function arpErrorReport(_n: Neighbour<number>, skb: SkBuff): void {
  icmpSend(skb, ICMP.DEST_UNREACH, ICMP_UNREACH.HOST, 0);
}

/** The neighbour operations of the ARP table. */
export const arpOps: NeighOps<number> = {
  family: 4,
  id: "arp_cache",
  sysctlPrefix: "net.ipv4.neigh",
  keyString: ntoa,
  construct: arpConstructor,
  solicit: arpSolicit,
  errorReport: arpErrorReport,
};

/**
 * arp_send_dst / arp_create + arp_xmit: an ARP packet (Ethernet/IPv4) through NF_ARP_OUT to the
 * device. destHw null = broadcast; targetHw null = zeros (requests).
 */
export function arpSend(
  op: number,
  destIp: number,
  dev: NetDevice,
  srcIp: number,
  destHw: number | null,
  srcHw: number,
  targetHw: number | null,
): void {
  if (dev.flags & IFF.NOARP) return;
  const a = new Uint8Array(28);
  writeU16(a, 0, 1);
  writeU16(a, 2, ETH_P_IP);
  a[4] = 6;
  a[5] = 4;
  writeU16(a, 6, op);
  writeMac(a, 8, srcHw);
  writeIpv4(a, 14, srcIp);
  writeMac(a, 18, targetHw ?? 0);
  writeIpv4(a, 24, destIp);
  const skb = allocSkb(a, dev, 0);
  skb.protocol = ETH_P_ARP;
  const v = nfHook(NFPROTO.ARP, NF_ARP_OUT, dev.netns, skb, null, dev);
  if (v !== NF.ACCEPT) return;
  devHardHeader(dev, destHw ?? dev.broadcast, skb);
  devQueueXmit(skb);
}

/** arp_rcv: ignored on NOARP devices and for frames to other hosts; malformed ones dropped; NF_ARP_IN. */
export function arpRcv(skb: SkBuff): void {
  const dev = skb.dev;
  if (!dev.netns.slots.get(IPV4_NET)) return;
  if (dev.flags & IFF.NOARP || skb.pktType === PacketType.OTHERHOST || skb.pktType === PacketType.LOOPBACK)
    return;
  const off = skb.network;
  const d = skb.data;
  if (d.length - off < 28 || d[off + 4] !== dev.addrLen || d[off + 5] !== 4) {
    dev.countDrop("ARP_MALFORMED");
    return;
  }
  const v = nfHook(NFPROTO.ARP, NF_ARP_IN, dev.netns, skb, dev, null);
  if (v === NF.DROP) {
    dev.countDrop("NETFILTER_DROP");
    return;
  }
  if (v !== NF.ACCEPT) return;
  arpProcess(skb);
}

/** arp_ignore: whether a request for tip from sip gets no reply (modes 0-3, 8). */
function arpIgnore(dev: NetDevice, sip: number, tip: number): boolean {
  const net = dev.netns;
  switch (inDevMaxconf(dev, "arp_ignore")) {
    case 0:
      return false;
    case 1:
      return !inetConfirmAddr(net, dev, 0, tip, RT_SCOPE.HOST);
    case 2:
      return !inetConfirmAddr(net, dev, sip, tip, RT_SCOPE.HOST);
    case 3:
      return !inetConfirmAddr(net, null, 0, tip, RT_SCOPE.LINK);
    case 8:
      return true;
    default:
      return false;
  }
}

/** arp_filter: reply only if the route back to sip leaves through this device. */
function arpFilter(sip: number, tip: number, dev: NetDevice): boolean {
  const rt = ipRouteOutput(dev.netns, { daddr: sip, saddr: tip });
  return typeof rt === "string" || rt.dev !== dev;
}

/** arp_accept: whether unsolicited ARP may create entries (0 no, 1 yes, 2 only from our subnets). */
function arpAccept(dev: NetDevice, sip: number): boolean {
  const v = inDevMaxconf(dev, "arp_accept");
  if (v === 1) return true;
  if (v === 2) return inetConfirmAddr(dev.netns, dev, sip, 0, RT_SCOPE.LINK) !== 0;
  return false;
}

/** arp_process. */
function arpProcess(skb: SkBuff): void {
  const dev = skb.dev;
  const net = dev.netns;
  if (!inDevGet(dev)) return;
  const off = skb.network;
  const d = skb.data;
  const hrd = readU16(d, off);
  const pro = readU16(d, off + 2);
  const op = readU16(d, off + 6);
  if ((hrd !== 1 && hrd !== 6) || pro !== ETH_P_IP) return;
  if (op !== ARPOP.REQUEST && op !== ARPOP.REPLY) return;
  const sha = readMac(d, off + 8);
  const sip = readIpv4(d, off + 14);
  const tha = readMac(d, off + 18);
  const tip = readIpv4(d, off + 24);
  if (isMulticast(tip) || (!inDevOrconf(dev, "route_localnet") && isLoopback(tip))) return;
  if (sip === tip && inDevOrconf(dev, "drop_gratuitous_arp")) return;
  const arp = ipv4Net(net).arp;
  if (sip === 0) {
    // RFC 2131 duplicate address detection probe.
    if (op === ARPOP.REQUEST && inetAddrType(net, tip, dev) === RTN.LOCAL && !arpIgnore(dev, sip, tip)) {
      arpSend(ARPOP.REPLY, sip, dev, tip, sha, dev.mac, sha);
    }
    return;
  }
  if (op === ARPOP.REQUEST) {
    const rt = ipRouteInput(tip, sip, dev, { arp: true });
    if (typeof rt !== "string") {
      if (rt.type === RTN.LOCAL) {
        let dontSend = arpIgnore(dev, sip, tip);
        if (!dontSend && inDevOrconf(dev, "arp_filter")) dontSend = arpFilter(sip, tip, dev);
        if (!dontSend) {
          const n = arp.eventNs(dev, sip, sha);
          if (n) arpSend(ARPOP.REPLY, sip, dev, tip, sha, dev.mac, sha);
        }
        return;
      }
      if (inDevForward(dev) && rt.type === RTN.UNICAST) {
        const proxy =
          (rt.dev !== dev && arpFwdProxy(dev, rt.dev)) || (rt.dev !== dev && pneighLookup(arp, dev, tip));
        if (proxy) {
          arp.eventNs(dev, sip, sha);
          const delayTicks = devconfNeigh(dev, "proxy_delay");
          if (skb.pktType === PacketType.HOST || delayTicks === 0)
            arpSend(ARPOP.REPLY, sip, dev, tip, sha, dev.mac, sha);
          else {
            const delay = BigInt(net.kernel.random.below(delayTicks * 10)) * 1_000_000n;
            net.kernel.loop.after(delay, () => {
              if (dev.registered && dev.isUp) arpSend(ARPOP.REPLY, sip, dev, tip, sha, dev.mac, sha);
            });
          }
          return;
        }
      }
    }
  }
  let n = arp.lookup(dev, sip);
  let addrType = -1;
  let isGarp = false;
  const accept = arpAccept(dev, sip);
  if (n || accept) {
    isGarp = tip === sip;
    if (isGarp && op === ARPOP.REPLY) isGarp = tha === sha;
    if (isGarp) {
      addrType = inetAddrType(net, sip, dev);
      if (addrType !== RTN.UNICAST) isGarp = false;
    }
  }
  if (accept && !n) {
    const unicastSrc =
      addrType === RTN.UNICAST || (addrType < 0 && inetAddrType(net, sip, dev) === RTN.UNICAST);
    if (isGarp || (op === ARPOP.REPLY && unicastSrc)) {
      try {
        n = arp.create(dev, sip);
      } catch {
        n = undefined;
      }
    }
  }
  if (!n) return;
  const p = arp.parms(dev);
  const override = net.kernel.now > n.updated + p.locktime || isGarp;
  const state = op !== ARPOP.REPLY || skb.pktType !== PacketType.HOST ? NUD.STALE : NUD.REACHABLE;
  try {
    arp.update(n, sha, state, override ? NEIGH_UPDATE_F.OVERRIDE : 0);
  } catch {
    // NOARP/PERMANENT entries do not learn from the network.
  }
}

/** A neighbour parameter of the device (ticks of 10 ms for proxy_delay). */
function devconfNeigh(dev: NetDevice, name: string): number {
  return ipv4Net(dev.netns).arp.parmValue(dev, name);
}

/** arp_fwd_proxy: proxy_arp on the input device, medium_id permitting. */
function arpFwdProxy(inDev: NetDevice, outDev: NetDevice): boolean {
  if (!inDevOrconf(inDev, "proxy_arp")) return false;
  const imi = devconf(inDev, "medium_id");
  if (imi === 0) return true;
  if (imi === -1) return false;
  const omi = devconf(outDev, "medium_id");
  return omi !== imi && omi !== -1;
}

/** inetdev_send_gratuitous_arp: one gratuitous request per address (arp_notify, NOTIFY_PEERS). */
export function sendGratuitousArp(dev: NetDevice): void {
  const inDev = inDevGet(dev);
  if (!inDev) return;
  for (const ifa of inDev.addrs) arpSend(ARPOP.REQUEST, ifa.local, dev, ifa.local, null, dev.mac, null);
}
