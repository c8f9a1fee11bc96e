/**
 * ICMPv6 (net/ipv6/icmp.c): receive (checksum, echo replies, errors handed to the sockets they
 * concern, ND and MLD dispatch), error generation with RFC 4443 § 2.4 rules, the per-destination
 * rate limit (net.ipv6.icmp.ratelimit scaled by route prefix length, ratemask) and the global
 * 1000/s limit, and the echo responder (echo_ignore_all / echo_ignore_multicast).
 */
import {
  type Icmpv6Repr,
  IpProto,
  type Ipv6Addr,
  ipv6IsMulticast,
  parseIcmpv6,
  readIpv6,
  readMac,
  WireError,
} from "../../wire/index.ts";
import { NSEC_PER_MSEC } from "../clock.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { PacketType, type SkBuff } from "../skb.ts";
import { ipv6ChkAddr, ipv6DevGetSaddr, ipv6NeedStrict } from "./addr-util.ts";
import { mldEventQuery } from "./mcast.ts";
import { ndiscRcv } from "./ndisc.ts";
import { buildIcmpv6Packet, ip6Bytes, ip6LocalOut } from "./output.ts";
import { pingRcvError, pingRcvReply } from "./ping.ts";
import { ip6DstLookup, ip6RouteOutput, rt6PmtuUpdate } from "./route.ts";
import { netInt } from "./sysctl.ts";
import { ipv6Net, mibInc } from "./state.ts";
import type { Rt6Dst } from "./types.ts";
import { udp6RcvError } from "./udp.ts";

/** ICMPv6 error types. */
export const ICMPV6 = { DEST_UNREACH: 1, PKT_TOOBIG: 2, TIME_EXCEED: 3, PARAMPROB: 4 } as const;

/** What the IPv6 input path tells ICMPv6 about the packet. */
export interface Icmp6RcvInfo {
  readonly src: Ipv6Addr;
  readonly dst: Ipv6Addr;
  readonly hopLimit: number;
  readonly tclass: number;
}

/** Parses net.ipv6.icmp.ratemask ("0-1,3-127") into a membership test. */
function rateMasked(net: NetNamespace, type: number): boolean {
  const mask = net.sysctl.get("net.ipv6.icmp.ratemask") ?? "0-1,3-127";
  for (const part of mask.split(",")) {
    const [a, b] = part.split("-").map((x) => Number.parseInt(x, 10));
    if (Number.isNaN(a)) continue;
    if (type >= a && type <= (b ?? a)) return true;
  }
  return false;
}

/** icmp_global_allow: at most 1000 messages per second, bursts of 50. */
function globalAllow(net: NetNamespace, type: number): boolean {
  if (type >= 128 || type === ICMPV6.PKT_TOOBIG) return true;
  const g = ipv6Net(net).icmpGlobal;
  const now = net.kernel.now;
  const elapsedMs = Number((now - g.stamp) / NSEC_PER_MSEC);
  if (elapsedMs > 0) {
    g.credit = Math.min(50, g.credit + elapsedMs);
    g.stamp = now;
  }
  if (g.credit <= 0) return false;
  g.credit--;
  return true;
}

/**
 * icmpv6_xrlim_allow: informational messages, Packet Too Big, types outside ratemask and
 * loopback destinations are free; others share a token bucket per destination whose period is
 * ratelimit ms, halved for every 32 bits the route's prefix is shorter than /128.
 */
function xrlimAllow(net: NetNamespace, type: number, daddr: Ipv6Addr, oif: number): boolean {
  if (type >= 128 || type === ICMPV6.PKT_TOOBIG || !rateMasked(net, type)) return true;
  const dst = ip6RouteOutput(net, { daddr, oif });
  if (dst.error) return true;
  if (dst.dev.flags & IFF.LOOPBACK) return true;
  let tmo = BigInt(netInt(net, "icmp.ratelimit")) * NSEC_PER_MSEC;
  const plen = dst.route?.dstLen ?? 128;
  if (plen < 128) tmo >>= BigInt((128 - plen) >> 5);
  const peers = ipv6Net(net).icmpPeers;
  const now = net.kernel.now;
  let p = peers.get(daddr);
  if (!p) {
    p = { tokens: 0n, last: now - 60n * 1_000_000_000n };
    peers.set(daddr, p);
  }
  let token = p.tokens + (now - p.last);
  p.last = now;
  if (token > 6n * tmo) token = 6n * tmo;
  let ok = false;
  if (token >= tmo) {
    token -= tmo;
    ok = true;
  }
  p.tokens = token;
  return ok;
}

/** is_ineligible: no errors about ICMPv6 errors. */
function isIneligible(pkt: Uint8Array): boolean {
  if (pkt[6] !== IpProto.Icmpv6 || pkt.length < 41) return false;
  return pkt[40] < 128;
}

/**
 * icmp6_send: an error about `skb` (an IPv6 packet, received or our own) goes to its source.
 * Not for multicast/non-host destinations (except Packet Too Big), not to ::/multicast
 * sources, never about ICMPv6 errors; rate limited. `inDev` is where the packet came from.
 */
export function icmpv6Send(
  net: NetNamespace,
  skb: SkBuff,
  type: number,
  code: number,
  info: number,
  inDev?: NetDevice,
): void {
  const pkt = ip6Bytes(skb);
  if (pkt.length < 40) return;
  const hdrSrc = readIpv6(pkt, 8);
  const hdrDst = readIpv6(pkt, 24);
  const dev = inDev ?? skb.dev;
  let saddr: Ipv6Addr | null = ipv6ChkAddr(net, hdrDst, dev, false) ? hdrDst : null;
  if (
    ipv6IsMulticast(hdrDst) ||
    (skb.pktType !== PacketType.HOST && skb.pktType !== PacketType.LOOPBACK && skb.iif !== 0)
  ) {
    if (type !== ICMPV6.PKT_TOOBIG && !(type === ICMPV6.PARAMPROB && code === 2)) return;
    saddr = null;
  }
  if (hdrSrc === 0n || ipv6IsMulticast(hdrSrc)) return;
  if (isIneligible(pkt)) return;
  if (!(dev.flags & IFF.LOOPBACK) && !globalAllow(net, type)) return;
  const oif = ipv6NeedStrict(hdrSrc) ? skb.iif || dev.ifindex : 0;
  if (saddr === null) saddr = ipv6DevGetSaddr(net, dev, hdrSrc);
  if (!xrlimAllow(net, type, hdrSrc, oif)) return;
  const dst = ip6DstLookup(net, { daddr: hdrSrc, saddr: saddr ?? 0n, oif });
  if (dst.error) return;
  const quoted = pkt.subarray(0, Math.min(pkt.length, 1280 - 40 - 8));
  let repr: Icmpv6Repr;
  if (type === ICMPV6.DEST_UNREACH) repr = { kind: "dest-unreachable", code, data: quoted };
  else if (type === ICMPV6.PKT_TOOBIG) repr = { kind: "packet-too-big", mtu: info, data: quoted };
  else if (type === ICMPV6.TIME_EXCEED) repr = { kind: "time-exceeded", code, data: quoted };
  else repr = { kind: "param-problem", code, pointer: info, data: quoted };
  const out = buildIcmpv6Packet(dst.saddr, hdrSrc, dst.hopLimit, repr);
  mibInc(net, "Icmp6OutMsgs");
  mibInc(net, `Icmp6OutType${type}`);
  const s: SkBuff = { ...skb, data: out, network: 0, dev: dst.dev, iif: 0, ct: null, cb: {} };
  ip6LocalOut(net, s, dst);
}

/**
 * icmp6_iif: the input interface, except that traffic looped through lo counts as arriving on
 * the device of the local route it was sent with (replies to our own link-local addresses).
 */
function icmp6Iif(skb: SkBuff): number {
  if (skb.dev.flags & IFF.LOOPBACK) {
    const d = skb.cb.ip6dst as Rt6Dst | undefined;
    if (d?.route) return d.route.dev.ifindex;
  }
  return skb.iif || skb.dev.ifindex;
}

/** icmpv6_echo_reply. */
function echoReply(
  net: NetNamespace,
  skb: SkBuff,
  ip: Icmp6RcvInfo,
  msg: { readonly ident: number; readonly seq: number; readonly data: Uint8Array },
): void {
  if (ipv6IsMulticast(ip.dst) && netInt(net, "icmp.echo_ignore_multicast")) return;
  const unicast = !ipv6IsMulticast(ip.dst);
  const oif = icmp6Iif(skb);
  const dst = ip6DstLookup(net, { daddr: ip.src, saddr: unicast ? ip.dst : 0n, oif });
  if (dst.error) return;
  if (!(skb.dev.flags & IFF.LOOPBACK) && !globalAllow(net, 129)) return;
  if (!xrlimAllow(net, 129, ip.src, oif)) return;
  const hop = ipv6IsMulticast(ip.src) ? 1 : dst.hopLimit;
  const out = buildIcmpv6Packet(dst.saddr, ip.src, hop, {
    kind: "echo-reply",
    ident: msg.ident,
    seq: msg.seq,
    data: msg.data.slice(),
  });
  mibInc(net, "Icmp6OutMsgs");
  mibInc(net, "Icmp6OutEchoReplies");
  const s: SkBuff = { ...skb, data: out, network: 0, dev: dst.dev, iif: 0, ct: null, ctinfo: 0, cb: {} };
  ip6LocalOut(net, s, dst);
}

/** icmpv6_notify: an error's quoted packet tells which socket (ping ident, UDP ports) it concerns. */
function icmpv6Notify(
  net: NetNamespace,
  skb: SkBuff,
  ip: Icmp6RcvInfo,
  type: number,
  code: number,
  info: number,
  quoted: Uint8Array,
): void {
  if (quoted.length < 40) return;
  const inner = { src: readIpv6(quoted, 8), dst: readIpv6(quoted, 24), next: quoted[6] };
  if (type === ICMPV6.PKT_TOOBIG) rt6PmtuUpdate(net, inner.dst, info);
  const upper = quoted.subarray(40);
  if (inner.next === IpProto.Icmpv6 && upper.length >= 8 && upper[0] === 128) {
    pingRcvError(
      net,
      skb,
      ip.src,
      type,
      code,
      info,
      inner.src,
      inner.dst,
      (upper[4] << 8) | upper[5],
      (upper[6] << 8) | upper[7],
    );
  } else if (inner.next === IpProto.Udp && upper.length >= 8) {
    udp6RcvError(
      net,
      skb,
      ip.src,
      type,
      code,
      info,
      inner.src,
      inner.dst,
      (upper[0] << 8) | upper[1],
      (upper[2] << 8) | upper[3],
    );
  }
}

/** icmpv6_rcv: the ICMPv6 protocol handler of local delivery. */
export function icmpv6Rcv(net: NetNamespace, skb: SkBuff, ip: Icmp6RcvInfo, data: Uint8Array): void {
  let msg: Icmpv6Repr;
  try {
    msg = parseIcmpv6(data, { src: ip.src, dst: ip.dst });
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    mibInc(net, "Icmp6InErrors");
    mibInc(net, "Icmp6InCsumErrors");
    skb.dev.countDrop("ICMP_CSUM");
    return;
  }
  mibInc(net, "Icmp6InMsgs");
  const srcMac = skb.network >= 14 ? readMac(skb.data, 6) : 0;
  if (ndiscRcv(skb, { src: ip.src, dst: ip.dst, hopLimit: ip.hopLimit, srcMac }, msg)) return;
  switch (msg.kind) {
    case "echo-request":
      mibInc(net, "Icmp6InEchos");
      if (!netInt(net, "icmp.echo_ignore_all")) echoReply(net, skb, ip, msg);
      return;
    case "echo-reply":
      mibInc(net, "Icmp6InEchoReplies");
      pingRcvReply(net, skb, ip.src, ip.dst, ip.hopLimit, msg.ident, msg.seq, msg.data);
      return;
    case "dest-unreachable":
      icmpv6Notify(net, skb, ip, ICMPV6.DEST_UNREACH, msg.code, 0, msg.data);
      return;
    case "packet-too-big":
      icmpv6Notify(net, skb, ip, ICMPV6.PKT_TOOBIG, 0, msg.mtu, msg.data);
      return;
    case "time-exceeded":
      icmpv6Notify(net, skb, ip, ICMPV6.TIME_EXCEED, msg.code, 0, msg.data);
      return;
    case "param-problem":
      icmpv6Notify(net, skb, ip, ICMPV6.PARAMPROB, msg.code, msg.pointer, msg.data);
      return;
    case "mld-query":
      mldEventQuery(skb.dev, ip.src, msg);
      return;
    default:
      return;
  }
}
