/**
 * IPv6 input (net/ipv6/ip6_input.c, ip6_output.c:ip6_forward, reassembly.c): header checks,
 * PRE_ROUTING, the l3mdev hook, the input route (local delivery, forwarding, reject routes),
 * multicast delivery to groups the device joined, LOCAL_IN and upper-layer dispatch, forwarding
 * with hop limit / Packet Too Big / FORWARD hook, and reassembly of fragments for local delivery.
 */
import {
  IpProto,
  type Ipv6Addr,
  ipv6IsLoopback,
  ipv6IsMulticast,
  ipv6IsV4Mapped,
  ipv6IsLinkLocal,
  ipv6MulticastScope,
  readIpv6,
} from "../../wire/index.ts";
import { NSEC_PER_SEC } from "../clock.ts";
import { IFF } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { NF, NF_INET, NFPROTO, nfHook } from "../netfilter/hooks.ts";
import { PacketType, type SkBuff } from "../skb.ts";
import { ICMPV6, icmpv6Rcv, icmpv6Send } from "./icmp.ts";
import { ipv6ChkMcastAddr } from "./mcast.ts";
import { ip6Bytes, ip6Output } from "./output.ts";
import { ip6RouteInput } from "./route.ts";
import { confInt } from "./sysctl.ts";
import { type FragQueue, in6DevGet, ipv6Net, mibInc } from "./state.ts";
import { RTN, type Rt6Dst } from "./types.ts";
import { udp6Rcv } from "./udp.ts";

/** Reassembly timeout (net.ipv6.ip6frag_time). */
const IP6FRAG_TIME = 60n * NSEC_PER_SEC;

function drop(net: NetNamespace, skb: SkBuff, reason: string, mib?: string): void {
  skb.dev.countDrop(reason);
  if (mib) mibInc(net, mib);
}

/**
 * ipv6_rcv (ip6_rcv_core): the EtherType 0x86dd handler. skb.data starts at the link-layer
 * header with skb.network at the IPv6 header (or is a bare packet with network 0).
 */
export function ipv6Rcv(skb: SkBuff): void {
  const dev = skb.dev;
  const net = dev.netns;
  if (skb.pktType === PacketType.OTHERHOST) {
    drop(net, skb, "OTHERHOST");
    return;
  }
  const idev = in6DevGet(dev);
  if (!idev || idev.cnf.disable_ipv6) {
    drop(net, skb, "IPV6DISABLED", "Ip6InDiscards");
    return;
  }
  mibInc(net, "Ip6InReceives");
  const pkt = ip6Bytes(skb);
  if (pkt.length < 40 || pkt[0] >> 4 !== 6) {
    drop(net, skb, "IP_INHDR", "Ip6InHdrErrors");
    return;
  }
  const plen = (pkt[4] << 8) | pkt[5];
  if (40 + plen > pkt.length) {
    drop(net, skb, "PKT_TOO_SMALL", "Ip6InTruncatedPkts");
    return;
  }
  if (40 + plen < pkt.length) skb.data = skb.data.subarray(0, skb.network + 40 + plen);
  mibInc(net, "Ip6InOctets", 40 + plen);
  const saddr = readIpv6(pkt, 8);
  const daddr = readIpv6(pkt, 24);
  const loopback = (dev.flags & IFF.LOOPBACK) !== 0;
  if (
    (ipv6IsLoopback(daddr) && !loopback) ||
    (ipv6IsMulticast(daddr) && ipv6MulticastScope(daddr) === 1 && !loopback) ||
    (ipv6IsMulticast(daddr) && ipv6MulticastScope(daddr) === 0) ||
    ipv6IsMulticast(saddr) ||
    ipv6IsV4Mapped(saddr)
  ) {
    drop(net, skb, "IP_INADDRERRORS", "Ip6InAddrErrors");
    return;
  }
  if (ipv6IsMulticast(daddr)) mibInc(net, "Ip6InMcastPkts");
  if (!skb.iif) skb.iif = dev.ifindex;
  // Only lo keeps the dst a packet was sent with (loopback_xmit); anything that crossed
  // another device had it dropped (skb_scrub_packet).
  if (!loopback) delete skb.cb.ip6dst;
  const v = nfHook(NFPROTO.IPV6, NF_INET.PRE_ROUTING, net, skb, dev, null);
  if (v !== NF.ACCEPT) {
    if (v === NF.DROP) drop(net, skb, "NETFILTER_DROP");
    return;
  }
  ip6RcvFinish(skb);
}

/** ip6_rcv_finish: l3mdev hook, then the input route decides. */
function ip6RcvFinish(skbIn: SkBuff): void {
  let skb = skbIn;
  if (skb.dev.l3mdevRcv) {
    const r = skb.dev.l3mdevRcv(skb, 6);
    if (!r) return;
    skb = r;
  }
  const dev = skb.dev;
  const net = dev.netns;
  const pkt = ip6Bytes(skb);
  const saddr = readIpv6(pkt, 8);
  const daddr = readIpv6(pkt, 24);
  // skb_valid_dst: a dst attached by lo (looped packets) or by an l3mdev hook (ipvlan L3S
  // routes in the slave's namespace) is used as is; otherwise the input route is looked up.
  const kept = skb.cb.ip6dst as Rt6Dst | undefined;
  if (!kept && ipv6IsMulticast(daddr)) {
    ip6McInput(net, skb, daddr);
    return;
  }
  const dst = kept ?? ip6RouteInput(net, dev, daddr, saddr);
  if (dst.error) {
    ip6PktDiscard(net, skb, dst);
    return;
  }
  if (dst.type === RTN.LOCAL || dst.type === RTN.ANYCAST) {
    ip6Input(net, skb, false);
    return;
  }
  if (dst.type === RTN.UNICAST) {
    ip6Forward(net, skb, dst);
    return;
  }
  drop(net, skb, "IP_INADDRERRORS", "Ip6InAddrErrors");
}

/** ip6_pkt_discard: reject routes answer with Destination Unreachable (blackhole stays silent). */
function ip6PktDiscard(net: NetNamespace, skb: SkBuff, dst: Rt6Dst): void {
  mibInc(net, "Ip6InNoRoutes");
  if (dst.type === RTN.BLACKHOLE) {
    drop(net, skb, "IP6_BLACKHOLE");
    return;
  }
  const code = dst.type === RTN.PROHIBIT ? 1 : 0;
  icmpv6Send(net, skb, ICMPV6.DEST_UNREACH, code, 0);
  drop(net, skb, "IP_NOROUTE");
}

/** ip6_mc_input: delivered only if the receiving device joined the group. */
function ip6McInput(net: NetNamespace, skb: SkBuff, daddr: Ipv6Addr): void {
  if (!ipv6ChkMcastAddr(skb.dev, daddr)) {
    drop(net, skb, "IP_INADDRERRORS");
    return;
  }
  ip6Input(net, skb, true);
}

/** ip6_input: LOCAL_IN, then ip6_input_finish. */
function ip6Input(net: NetNamespace, skb: SkBuff, multicast: boolean): void {
  const v = nfHook(NFPROTO.IPV6, NF_INET.LOCAL_IN, net, skb, skb.dev, null);
  if (v !== NF.ACCEPT) {
    if (v === NF.DROP) drop(net, skb, "NETFILTER_DROP");
    return;
  }
  // A LOCAL_IN hook may have moved the packet to another device (ipvlan L3S): the transport
  // protocols work in the namespace of skb.dev, as dev_net(skb->dev) does.
  ip6InputFinish(skb.dev.netns, skb, ip6Bytes(skb), multicast);
}

/**
 * ip6_protocol_deliver_rcu: walks hop-by-hop / destination options, reassembles fragments and
 * hands the payload to ICMPv6 or UDP; unknown protocols get a Parameter Problem.
 */
function ip6InputFinish(net: NetNamespace, skb: SkBuff, pkt: Uint8Array, multicast: boolean): void {
  let next = pkt[6];
  let off = 40;
  let nhoff = 6;
  for (let guard = 0; guard < 8; guard++) {
    if (next === IpProto.HopByHop || next === IpProto.Ipv6Opts || next === IpProto.Ipv6Route) {
      if (off + 8 > pkt.length) {
        drop(net, skb, "IP_INHDR", "Ip6InHdrErrors");
        return;
      }
      if (next === IpProto.Ipv6Route && pkt[off + 3] !== 0) {
        icmpv6Send(net, skb, ICMPV6.PARAMPROB, 0, off + 2);
        drop(net, skb, "IP_INHDR", "Ip6InHdrErrors");
        return;
      }
      nhoff = off;
      next = pkt[off];
      off += (pkt[off + 1] + 1) * 8;
      continue;
    }
    if (next === IpProto.Ipv6Frag) {
      const whole = ip6FragRcv(net, skb, pkt, off, nhoff);
      if (whole) ip6InputFinish(net, { ...skb, data: whole, network: 0 }, whole, multicast);
      return;
    }
    break;
  }
  const src = readIpv6(pkt, 8);
  const dst = readIpv6(pkt, 24);
  const data = pkt.subarray(off);
  const ip = { src, dst, hopLimit: pkt[7], tclass: ((pkt[0] & 0xf) << 4) | (pkt[1] >> 4) };
  mibInc(net, "Ip6InDelivers");
  switch (next) {
    case IpProto.Icmpv6:
      icmpv6Rcv(net, skb, ip, data);
      return;
    case IpProto.Udp:
      udp6Rcv(net, skb, ip, data);
      return;
    case IpProto.Ipv6NoNext:
      return;
    case IpProto.Tcp:
      drop(net, skb, "NO_SOCKET");
      return;
    default:
      mibInc(net, "Ip6InUnknownProtos");
      if (!multicast) icmpv6Send(net, skb, ICMPV6.PARAMPROB, 1, nhoff);
      drop(net, skb, "UNHANDLED_PROTO");
  }
}

/**
 * ipv6_frag_rcv: collects fragments by (source, destination, identification); once every byte
 * arrived the packet is rebuilt (unfragmentable part + data, next header restored). An
 * incomplete queue expires after 60 s with Time Exceeded (reassembly) if the first fragment came.
 */
function ip6FragRcv(
  net: NetNamespace,
  skb: SkBuff,
  pkt: Uint8Array,
  off: number,
  nhoff: number,
): Uint8Array | null {
  if (off + 8 > pkt.length) {
    drop(net, skb, "IP_INHDR", "Ip6InHdrErrors");
    return null;
  }
  mibInc(net, "Ip6ReasmReqds");
  const fragOff = ((pkt[off + 2] << 8) | pkt[off + 3]) & 0xfff8;
  const more = (pkt[off + 3] & 1) !== 0;
  const ident = ((pkt[off + 4] << 24) | (pkt[off + 5] << 16) | (pkt[off + 6] << 8) | pkt[off + 7]) >>> 0;
  const data = pkt.subarray(off + 8);
  if (fragOff === 0 && !more) {
    const whole = new Uint8Array(off + data.length);
    whole.set(pkt.subarray(0, off));
    whole.set(data, off);
    whole[nhoff] = pkt[off];
    const plen = whole.length - 40;
    whole[4] = plen >>> 8;
    whole[5] = plen & 0xff;
    return whole;
  }
  const key = `${readIpv6(pkt, 8)}/${readIpv6(pkt, 24)}/${ident}`;
  const frags = ipv6Net(net).frags;
  let q = frags.get(key);
  if (!q) {
    const timer = net.kernel.loop.after(IP6FRAG_TIME, () => {
      frags.delete(key);
      mibInc(net, "Ip6ReasmFails");
      mibInc(net, "Ip6ReasmTimeout");
      const head = q?.head;
      if (head) icmpv6Send(net, { ...skb, data: head, network: 0 }, ICMPV6.TIME_EXCEED, 1, 0);
    });
    q = { key, parts: [], total: -1, head: null, timer, dev: skb.dev } satisfies FragQueue;
    frags.set(key, q);
  }
  q.parts.push({ offset: fragOff, data: data.slice() });
  if (!more) q.total = fragOff + data.length;
  if (fragOff === 0) {
    const head = pkt.slice(0, off);
    head[nhoff] = pkt[off];
    q.head = head;
  }
  if (q.total < 0 || !q.head) return null;
  const body = new Uint8Array(q.total);
  const have = new Uint8Array(q.total);
  for (const p of q.parts) {
    if (p.offset + p.data.length > q.total) continue;
    body.set(p.data, p.offset);
    have.fill(1, p.offset, p.offset + p.data.length);
  }
  if (have.includes(0)) return null;
  net.kernel.loop.cancel(q.timer);
  frags.delete(key);
  mibInc(net, "Ip6ReasmOKs");
  const whole = new Uint8Array(q.head.length + body.length);
  whole.set(q.head);
  whole.set(body, q.head.length);
  const plen = whole.length - 40;
  whole[4] = plen >>> 8;
  whole[5] = plen & 0xff;
  return whole;
}

/**
 * ip6_forward: all.forwarding must be on; hop limit 1 → Time Exceeded; link-local sources are
 * not forwarded (Destination Unreachable, beyond scope); oversized packets get Packet Too Big
 * (IPv6 routers never fragment); then hop limit - 1, FORWARD hook, ip6_output.
 */
function ip6Forward(net: NetNamespace, skb: SkBuff, dst: Rt6Dst): void {
  if (!confInt(net, "all", "forwarding")) {
    drop(net, skb, "IP_INADDRERRORS", "Ip6InAddrErrors");
    return;
  }
  if (skb.pktType !== PacketType.HOST) {
    drop(net, skb, "OTHERHOST");
    return;
  }
  const pkt = ip6Bytes(skb);
  if (pkt[7] <= 1) {
    icmpv6Send(net, skb, ICMPV6.TIME_EXCEED, 0, 0);
    drop(net, skb, "IP_INHDR", "Ip6InHdrErrors");
    return;
  }
  const saddr = readIpv6(pkt, 8);
  if (saddr === 0n || ipv6IsMulticast(saddr) || ipv6IsLoopback(saddr)) {
    drop(net, skb, "IP_INADDRERRORS", "Ip6InAddrErrors");
    return;
  }
  if (ipv6IsLinkLocal(saddr) || ipv6IsLinkLocal(readIpv6(pkt, 24))) {
    icmpv6Send(net, skb, ICMPV6.DEST_UNREACH, 2, 0);
    drop(net, skb, "IP_INADDRERRORS", "Ip6InAddrErrors");
    return;
  }
  const mtu = Math.max(1280, dst.mtu);
  if (pkt.length > mtu) {
    icmpv6Send(net, skb, ICMPV6.PKT_TOOBIG, 0, mtu);
    mibInc(net, "Ip6InTooBigErrors");
    mibInc(net, "Ip6FragFails");
    drop(net, skb, "PKT_TOO_BIG");
    return;
  }
  const out = pkt.slice();
  out[7]--;
  const fwd: SkBuff = { ...skb, data: out, network: 0, cb: { ...skb.cb, forwarded: true, ip6dst: dst } };
  const v = nfHook(NFPROTO.IPV6, NF_INET.FORWARD, net, fwd, skb.dev, dst.dev);
  if (v !== NF.ACCEPT) {
    if (v === NF.DROP) drop(net, skb, "NETFILTER_DROP");
    return;
  }
  mibInc(net, "Ip6OutForwDatagrams");
  ip6Output(net, fwd, dst);
}
