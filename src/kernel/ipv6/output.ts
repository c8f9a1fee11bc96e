/**
 * IPv6 output (net/ipv6/ip6_output.c): LOCAL_OUT and POST_ROUTING hooks, fragmentation of
 * locally generated packets, multicast loopback, and neighbour output (ip6_finish_output2 with
 * nd_tbl resolution). Packets travel as bare IPv6 bytes until the link-layer header is added.
 */
import {
  emitEthernet,
  emitIcmpv6,
  emitIpv6Packet,
  EtherType,
  type Icmpv6Repr,
  icmpv6ReprLen,
  IpProto,
  type Ipv6Addr,
  ipv6ReprLen,
  type Ipv6ExtHeader,
  ipv6IsMulticast,
  ipv6MulticastMac,
  readIpv6,
} from "../../wire/index.ts";
import { BACKLOG_DELAY, devQueueXmit } from "../dev.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { NF, NF_INET, NFPROTO, nfHook } from "../netfilter/hooks.ts";
import { allocSkb, PacketType, type SkBuff } from "../skb.ts";
import { ipv6ChkMcastAddr } from "./mcast.ts";
import { ipv6Net, in6DevGet, mibInc } from "./state.ts";
import type { Rt6Dst } from "./types.ts";
import { RTN } from "./types.ts";

/** Per-packet output options a socket sets (kept in skb.cb.ip6). */
export interface Ip6OutOpts {
  /** IPV6_MULTICAST_LOOP (default on for sockets, off for ND/MLD). */
  readonly mcLoop?: boolean;
  /** IPV6_PMTUDISC_DO: never fragment locally; EMSGSIZE instead. */
  readonly dontFrag?: boolean;
}

/** Builds a bare IPv6 packet around an upper-layer payload. */
export function buildIpv6Packet(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  nextHeader: number,
  hopLimit: number,
  payload: Uint8Array,
  extHeaders: readonly Ipv6ExtHeader[] = [],
  tclass = 0,
  flowLabel = 0,
): Uint8Array {
  const repr = {
    src,
    dst,
    nextHeader,
    hopLimit,
    dscp: tclass >>> 2,
    ecn: tclass & 3,
    flowLabel,
    extHeaders,
    payloadLen: payload.length,
  };
  const hlen = ipv6ReprLen(repr);
  const out = new Uint8Array(hlen + payload.length);
  emitIpv6Packet(repr, out);
  out.set(payload, hlen);
  return out;
}

/** Builds a bare IPv6 packet carrying one ICMPv6 message (checksum filled). */
export function buildIcmpv6Packet(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  hopLimit: number,
  repr: Icmpv6Repr,
  extHeaders: readonly Ipv6ExtHeader[] = [],
): Uint8Array {
  const body = new Uint8Array(icmpv6ReprLen(repr));
  emitIcmpv6(repr, body, { src, dst });
  return buildIpv6Packet(src, dst, IpProto.Icmpv6, hopLimit, body, extHeaders);
}

/** The bare IPv6 bytes of an skb (from skb.network on). */
export function ip6Bytes(skb: SkBuff): Uint8Array {
  return skb.network === 0 ? skb.data : skb.data.subarray(skb.network);
}

function skbForBare(skb: SkBuff, dev: NetDevice, pkt: Uint8Array): SkBuff {
  return { ...skb, data: pkt, dev, network: 0, protocol: EtherType.Ipv6, cb: { ...skb.cb } };
}

/**
 * ndisc_send_skb / igmp6_send: a control packet (bare bytes) leaves through dev towards nexthop,
 * through LOCAL_OUT and POST_ROUTING, never looped back.
 */
export function ip6SendOnDev(dev: NetDevice, pkt: Uint8Array, nexthop: Ipv6Addr): void {
  const net = dev.netns;
  const skb = allocSkb(pkt, dev, 0);
  skb.protocol = EtherType.Ipv6;
  const dst: Rt6Dst = {
    error: null,
    route: null,
    dev,
    nexthop,
    saddr: readIpv6(pkt, 8),
    type: ipv6IsMulticast(nexthop) ? RTN.MULTICAST : RTN.UNICAST,
    mtu: dev.mtu,
    hopLimit: pkt[7],
  };
  ip6LocalOut(net, skb, dst);
}

/**
 * ip6_local_out: the skb holds an IPv6 packet at skb.network (anything before it is dropped);
 * the payload length is fixed up, LOCAL_OUT runs, then dst_output. Returns 0 or -errno.
 */
export function ip6LocalOut(net: NetNamespace, skb: SkBuff, route: Rt6Dst): number {
  const pkt = ip6Bytes(skb);
  if (pkt.length < 40) return -22;
  const len = pkt.length - 40;
  if (len <= 0xffff) {
    pkt[4] = len >>> 8;
    pkt[5] = len & 0xff;
  }
  const s = skbForBare(skb, route.dev, pkt);
  s.cb.ip6dst = route;
  mibInc(net, "Ip6OutRequests");
  const v = nfHook(NFPROTO.IPV6, NF_INET.LOCAL_OUT, net, s, null, route.dev);
  if (v !== NF.ACCEPT) {
    if (v === NF.DROP) route.dev.countDrop("NETFILTER_DROP");
    return v === NF.DROP ? -1 : 0;
  }
  return dstOutput(net, s, route);
}

/** dst_output for an IPv6 dst: reject routes fail, the rest go to ip6_output. */
export function dstOutput(net: NetNamespace, skb: SkBuff, route: Rt6Dst): number {
  if (route.error) {
    route.dev.countDrop("IP6_OUTNOROUTES");
    mibInc(net, "Ip6OutNoRoutes");
    return -101;
  }
  return ip6Output(net, skb, route);
}

/** ip6_output: IPv6 disabled on the device drops; POST_ROUTING; then ip6_finish_output. */
export function ip6Output(net: NetNamespace, skb: SkBuff, route: Rt6Dst): number {
  const dev = route.dev;
  skb.dev = dev;
  const idev = in6DevGet(dev);
  if (!idev || idev.cnf.disable_ipv6) {
    dev.countDrop("IPV6DISABLED");
    return -1;
  }
  const v = nfHook(NFPROTO.IPV6, NF_INET.POST_ROUTING, net, skb, null, dev);
  if (v !== NF.ACCEPT) {
    if (v === NF.DROP) dev.countDrop("NETFILTER_DROP");
    return v === NF.DROP ? -1 : 0;
  }
  return ip6FinishOutput(net, skb, route);
}

/** ip6_finish_output: fragments oversized local packets (or EMSGSIZE with dontFrag). */
function ip6FinishOutput(net: NetNamespace, skb: SkBuff, route: Rt6Dst): number {
  const pkt = skb.data;
  const mtu = Math.max(1280, Math.min(route.mtu, route.dev.mtu));
  if (pkt.length <= mtu || route.dev.flags & IFF.LOOPBACK) return ip6FinishOutput2(net, skb, route);
  const opts = (skb.cb.ip6opts ?? {}) as Ip6OutOpts;
  if (opts.dontFrag || skb.cb.forwarded) {
    mibInc(net, "Ip6FragFails");
    route.dev.countDrop("PKT_TOO_BIG");
    return -90;
  }
  const frags = ip6Fragment(net, pkt, mtu);
  mibInc(net, "Ip6FragOKs");
  for (const f of frags) {
    mibInc(net, "Ip6FragCreates");
    ip6FinishOutput2(net, { ...skb, data: f, cb: { ...skb.cb } }, route);
  }
  return 0;
}

/** ip6_fragment: splits after the fixed header with 8-byte aligned pieces and a fragment header. */
export function ip6Fragment(net: NetNamespace, pkt: Uint8Array, mtu: number): Uint8Array[] {
  const st = ipv6Net(net);
  if (st.fragIdent === 0) st.fragIdent = net.kernel.random.u32() || 1;
  const ident = st.fragIdent >>> 0;
  st.fragIdent = (st.fragIdent + 1) >>> 0;
  const nextHeader = pkt[6];
  const body = pkt.subarray(40);
  const chunk = Math.floor((mtu - 48) / 8) * 8;
  const out: Uint8Array[] = [];
  for (let off = 0; off < body.length; off += chunk) {
    const piece = body.subarray(off, Math.min(body.length, off + chunk));
    const more = off + chunk < body.length;
    const f = new Uint8Array(48 + piece.length);
    f.set(pkt.subarray(0, 40));
    f[6] = IpProto.Ipv6Frag;
    const plen = 8 + piece.length;
    f[4] = plen >>> 8;
    f[5] = plen & 0xff;
    f[40] = nextHeader;
    f[41] = 0;
    f[42] = (off >>> 8) & 0xff;
    f[43] = (off & 0xf8) | (more ? 1 : 0);
    f[44] = ident >>> 24;
    f[45] = (ident >>> 16) & 0xff;
    f[46] = (ident >>> 8) & 0xff;
    f[47] = ident & 0xff;
    f.set(piece, 48);
    out.push(f);
  }
  return out;
}

/**
 * ip6_finish_output2: multicast is looped back to local listeners when the socket asked for it
 * and the device is a member; then the neighbour layer resolves the next hop and transmits.
 */
function ip6FinishOutput2(net: NetNamespace, skb: SkBuff, route: Rt6Dst): number {
  const dev = route.dev;
  const pkt = skb.data;
  const daddr = readIpv6(pkt, 24);
  mibInc(net, "Ip6OutOctets", pkt.length);
  if (ipv6IsMulticast(daddr)) {
    mibInc(net, "Ip6OutMcastPkts");
    const opts = (skb.cb.ip6opts ?? {}) as Ip6OutOpts;
    if (opts.mcLoop && !(dev.flags & IFF.LOOPBACK) && ipv6ChkMcastAddr(dev, daddr)) {
      const copy: SkBuff = {
        ...skb,
        data: pkt.slice(),
        dev,
        network: 0,
        pktType: PacketType.LOOPBACK,
        cb: {},
      };
      copy.iif = dev.ifindex;
      net.kernel.loop.after(BACKLOG_DELAY, () => loopbackRcv(copy));
    }
    // Hop limit 0: for local listeners only (looped above); the original is freed, unnamed in
    // Linux (kfree_skb), counted as Ip6OutDiscards.
    if (pkt[7] === 0) {
      mibInc(net, "Ip6OutDiscards");
      dev.countDrop("NOT_SPECIFIED");
      return 0;
    }
  }
  return neighOutput(net, skb, dev, route.nexthop);
}

let loopbackRcv: (skb: SkBuff) => void = () => {};

/** Installs the receive function looped multicast copies are handed to (ipv6_rcv). */
export function setLoopbackRcv(fn: (skb: SkBuff) => void): void {
  loopbackRcv = fn;
}

/** Adds the link-layer header for lladdr and hands the frame to the device (dev_hard_header + dev_queue_xmit). */
export function ip6XmitFrame(skb: SkBuff, dev: NetDevice, lladdr: number): number {
  const pkt = ip6Bytes(skb);
  if (dev.hardHeaderLen === 0) {
    return devQueueXmit({ ...skb, data: pkt, dev, network: 0, protocol: EtherType.Ipv6 });
  }
  const frame = new Uint8Array(14 + pkt.length);
  emitEthernet(
    { dst: lladdr, src: dev.flags & IFF.LOOPBACK ? 0 : dev.hardHeaderSource(), etherType: EtherType.Ipv6 },
    frame,
  );
  frame.set(pkt, 14);
  return devQueueXmit({ ...skb, data: frame, dev, network: 14, protocol: EtherType.Ipv6 });
}

/**
 * neigh_output through nd_tbl: multicast maps directly to 33:33:..., loopback and headerless
 * devices need no resolution, everything else waits for (or triggers) neighbour discovery.
 */
export function neighOutput(net: NetNamespace, skb: SkBuff, dev: NetDevice, nexthop: Ipv6Addr): number {
  if (dev.hardHeaderLen === 0 || dev.flags & IFF.LOOPBACK) return ip6XmitFrame(skb, dev, 0);
  if (ipv6IsMulticast(nexthop)) return ip6XmitFrame(skb, dev, ipv6MulticastMac(nexthop));
  const tbl = ipv6Net(net).ndTbl;
  let n: ReturnType<typeof tbl.lookupOrCreate>;
  try {
    n = tbl.lookupOrCreate(dev, nexthop);
  } catch {
    dev.countDrop("NEIGH_CREATEFAIL");
    return -105;
  }
  const bare = { ...skb, data: ip6Bytes(skb), network: 0 };
  if (tbl.eventSend(n, bare) === 0) return ip6XmitFrame(bare, dev, n.lladdr);
  return 0;
}
