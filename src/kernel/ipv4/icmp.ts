/**
 * ICMP (net/ipv4/icmp.c): receive (echo → reply, errors → the sockets they concern, replies →
 * ping sockets), sending errors with Linux's rules (never about broadcasts, non-first fragments or
 * ICMP errors; source address choice; 576-byte quote; per-peer and global rate limits driven by
 * the virtual clock).
 */
import { readIpv4, readU16 } from "../../wire/index.ts";
import { NSEC_PER_MSEC, NSEC_PER_SEC } from "../clock.ts";
import type { ErrnoName } from "../errno.ts";
import { IFF } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { allocSkb, PacketType, type SkBuff } from "../skb.ts";
import { inetSelectAddr } from "./devinet.ts";
import {
  buildIcmp,
  buildIpv4,
  ICMP,
  ICMP_UNREACH,
  icmpChecksumOk,
  IP_OFFSET,
  IPPROTO,
  ipHdr,
} from "./hdr.ts";
import { ipLocalOut, ipSelectIdent, setFragNeededReporter, skbDst } from "./output.ts";
import { pingErr, pingRcv } from "./ping.ts";
import { fibComputeSpecDst, ipDoRedirect, ipRouteOutput, ipRtUpdatePmtu } from "./route.ts";
import { inetGetPeer, ipv4Net } from "./state.ts";
import { ipv4Sysctl } from "./sysctl.ts";
import { RTCF, type Rtable } from "./types.ts";
import { udpErr } from "./udp.ts";

/** Types that are errors (icmp_pointers[].error). */
const ERROR_TYPES = new Set<number>([3, 4, 5, 11, 12]);
/** NR_ICMP_TYPES. */
const NR_ICMP_TYPES = 18;
/** XRLIM_BURST_FACTOR. */
const XRLIM_BURST_FACTOR = 6n;
/** INADDR_DUMMY (192.0.0.8): the source of last resort. */
const INADDR_DUMMY = 0xc0000008;
/** IPTOS_PREC_INTERNETCONTROL. */
const PREC_INTERNETCONTROL = 0xc0;

/** Whether the type is rate limited (icmp_ratemask). */
function maskAllow(net: NetNamespace, type: number): boolean {
  if (type > NR_ICMP_TYPES) return true;
  return !((1 << type) & ipv4Sysctl(net, "icmp_ratemask"));
}

/** icmp_global_allow: a credit bucket of icmp_msgs_per_sec with icmp_msgs_burst. */
function globalAllow(net: NetNamespace): boolean {
  const ipv4 = ipv4Net(net);
  const g = ipv4.icmpGlobal;
  const now = net.kernel.now;
  if (g.credit <= 0) {
    let delta = now - g.stamp;
    if (delta > NSEC_PER_SEC) delta = NSEC_PER_SEC;
    if (delta >= 20n * NSEC_PER_MSEC) {
      const incr = Number((BigInt(ipv4Sysctl(net, "icmp_msgs_per_sec")) * delta) / NSEC_PER_SEC);
      g.credit = Math.min(g.credit + incr, ipv4Sysctl(net, "icmp_msgs_burst"));
      g.stamp = now;
    }
  }
  if (g.credit <= 0) {
    ipv4.mib.IcmpOutRateLimitGlobal++;
    return false;
  }
  g.credit -= net.kernel.random.below(3);
  return true;
}

/** icmpv4_xrlim_allow / inet_peer_xrlim_allow: icmp_ratelimit per destination, burst ×6. */
function xrlimAllow(net: NetNamespace, rt: Rtable, daddr: number, type: number): boolean {
  if (maskAllow(net, type)) return true;
  if (rt.dev.flags & IFF.LOOPBACK) return true;
  const ipv4 = ipv4Net(net);
  const timeout = BigInt(ipv4Sysctl(net, "icmp_ratelimit")) * NSEC_PER_MSEC;
  const peer = inetGetPeer(ipv4, daddr);
  const now = net.kernel.now;
  let token = peer.tokens + (now - peer.last);
  peer.last = now;
  if (token > XRLIM_BURST_FACTOR * timeout) token = XRLIM_BURST_FACTOR * timeout;
  let ok = false;
  if (token >= timeout) {
    token -= timeout;
    ok = true;
  }
  peer.tokens = token;
  if (!ok) ipv4.mib.IcmpOutRateLimitHost++;
  return ok;
}

/** icmp_push_reply: an ICMP message from saddr along rt (TTL ip_default_ttl, DF clear). */
function icmpPush(
  net: NetNamespace,
  rt: Rtable,
  saddr: number,
  daddr: number,
  tos: number,
  icmp: Uint8Array,
): void {
  const pkt = buildIpv4({
    saddr,
    daddr,
    protocol: IPPROTO.ICMP,
    ttl: ipv4Sysctl(net, "ip_default_ttl") || 64,
    tos,
    id: ipSelectIdent(net, false),
    payload: icmp,
  });
  ipv4Net(net).mib.IcmpOutMsgs++;
  const skb = allocSkb(pkt, rt.dev, 0);
  ipLocalOut(net, skb, rt);
}

/**
 * icmp_send / __icmp_send: an ICMP error about skbIn (whose IP header is at skbIn.network and
 * whose route is attached). `info` fills the 4 "rest of header" bytes (gateway for redirects,
 * next-hop MTU for frag-needed).
 */
export function icmpSend(skbIn: SkBuff, type: number, code: number, info: number): void {
  const rtIn = skbDst(skbIn);
  if (!rtIn) return;
  const net = rtIn.dev.netns;
  const off = skbIn.network;
  const d = skbIn.data;
  if (d.length - off < 20) return;
  const h = ipHdr(d, off);
  if (skbIn.pktType !== PacketType.HOST) return;
  if (rtIn.flags & (RTCF.BROADCAST | RTCF.MULTICAST)) return;
  if (h.fragOff & IP_OFFSET) return;
  if (ERROR_TYPES.has(type) && h.protocol === IPPROTO.ICMP) {
    const inner = d[off + h.ihl];
    if (inner === undefined || inner > NR_ICMP_TYPES || ERROR_TYPES.has(inner)) return;
  }
  if (!(skbIn.dev.flags & IFF.LOOPBACK) && !maskAllow(net, type) && !globalAllow(net)) return;
  let saddr = h.daddr;
  if (!(rtIn.flags & RTCF.LOCAL)) {
    saddr = 0;
    if (rtIn.action !== "output" && ipv4Sysctl(net, "icmp_errors_use_inbound_ifaddr")) {
      const inDev = net.devices.get(rtIn.iif);
      if (inDev) saddr = inetSelectAddr(inDev, h.saddr, 253);
    }
  }
  const tos = ERROR_TYPES.has(type) ? (h.tos & 0x1e) | PREC_INTERNETCONTROL : h.tos;
  const rt = ipRouteOutput(net, { daddr: h.saddr, saddr, tos, mark: skbIn.mark, anySrc: true });
  if (typeof rt === "string") return;
  if (!xrlimAllow(net, rt, h.saddr, type)) return;
  let room = Math.min(rt.mtu, 576) - 20 - 8;
  if (room <= 20) return;
  const quoteLen = Math.min(d.length - off, room);
  room = quoteLen;
  const icmp = buildIcmp(type, code, info, d.subarray(off, off + room));
  icmpPush(net, rt, rt.saddr || INADDR_DUMMY, h.saddr, tos, icmp);
}

setFragNeededReporter((skb, mtu) => icmpSend(skb, ICMP.DEST_UNREACH, ICMP_UNREACH.FRAG_NEEDED, mtu));

/** icmp_rcv: checksum, broadcast policy, then the handler of the type. */
export function icmpRcv(skb: SkBuff): void {
  const net = skb.dev.netns;
  const mib = ipv4Net(net).mib;
  const rt = skbDst(skb);
  const off = skb.network;
  const d = skb.data;
  const h = ipHdr(d, off);
  const start = off + h.ihl;
  const end = off + h.totLen;
  mib.IcmpInMsgs++;
  if (end - start < 8 || !icmpChecksumOk(d, start, end)) {
    mib.IcmpInErrors++;
    skb.dev.countDrop("ICMP_CSUM");
    return;
  }
  const type = d[start];
  if (type > NR_ICMP_TYPES) {
    skb.dev.countDrop("UNHANDLED_PROTO");
    return;
  }
  if (rt && rt.flags & (RTCF.BROADCAST | RTCF.MULTICAST)) {
    if ((type === ICMP.ECHO || type === ICMP.TIMESTAMP) && ipv4Sysctl(net, "icmp_echo_ignore_broadcasts")) {
      skb.dev.countDrop("INVALID_PROTO");
      return;
    }
    if (type !== ICMP.ECHO && type !== ICMP.TIMESTAMP && type !== 17 && type !== 18) {
      skb.dev.countDrop("INVALID_PROTO");
      return;
    }
  }
  switch (type) {
    case ICMP.ECHOREPLY:
      pingRcv(skb, h, start, end);
      return;
    case ICMP.DEST_UNREACH:
    case 4:
    case ICMP.TIME_EXCEEDED:
    case ICMP.PARAMETERPROB:
      icmpUnreach(skb, start, end);
      return;
    case ICMP.REDIRECT:
      icmpUnreach(skb, start, end);
      return;
    case ICMP.ECHO:
      icmpEcho(skb, start, end);
      return;
    case ICMP.TIMESTAMP:
      icmpTimestamp(skb, start, end);
      return;
    default:
      return;
  }
}

/** icmp_reply: answers from the address the request was sent to (fib_compute_spec_dst). */
function icmpReply(skb: SkBuff, icmp: Uint8Array): void {
  const rtIn = skbDst(skb);
  if (!rtIn) return;
  const net = skb.dev.netns;
  const h = ipHdr(skb.data, skb.network);
  const saddr = fibComputeSpecDst(rtIn, h.saddr, h.daddr, skb.dev);
  const rt = ipRouteOutput(net, { daddr: h.saddr, saddr, tos: h.tos, mark: skb.mark, anySrc: true });
  if (typeof rt === "string") return;
  if (!xrlimAllow(net, rt, h.saddr, icmp[0])) return;
  icmpPush(net, rt, rt.saddr, h.saddr, h.tos, icmp);
}

/** icmp_echo: unless icmp_echo_ignore_all, the same id/sequence/data come back as a reply. */
function icmpEcho(skb: SkBuff, start: number, end: number): void {
  const net = skb.dev.netns;
  if (ipv4Sysctl(net, "icmp_echo_ignore_all")) return;
  const d = skb.data;
  const rest = readIpv4(d, start + 4);
  icmpReply(skb, buildIcmp(ICMP.ECHOREPLY, 0, rest, d.subarray(start + 8, end)));
}

/** icmp_timestamp: originate copied, receive/transmit = ms since midnight UTC of virtual time. */
function icmpTimestamp(skb: SkBuff, start: number, end: number): void {
  if (end - start < 20) return;
  const d = skb.data;
  const ms = Number((skb.dev.netns.kernel.now / NSEC_PER_MSEC) % 86_400_000n);
  const data = new Uint8Array(12);
  data.set(d.subarray(start + 8, start + 12), 0);
  for (const o of [4, 8]) {
    data[o] = ms >>> 24;
    data[o + 1] = (ms >>> 16) & 0xff;
    data[o + 2] = (ms >>> 8) & 0xff;
    data[o + 3] = ms & 0xff;
  }
  icmpReply(skb, buildIcmp(ICMP.TIMESTAMPREPLY, 0, readIpv4(d, start + 4), data));
}

/** An ICMP error as the transport protocols see it (icmp_socket_deliver). */
export interface IcmpErrorInfo {
  readonly type: number;
  readonly code: number;
  /** Frag-needed MTU, parameter-problem pointer, redirect gateway. */
  readonly info: number;
  /** Who sent the ICMP error. */
  readonly from: number;
  /** The quoted IP header's fields and the offset of its transport header in `data`. */
  readonly inner: ReturnType<typeof ipHdr>;
  readonly data: Uint8Array;
  readonly transport: number;
}

/** icmp_unreach: validates the quoted header and hands the error to the inner protocol. */
function icmpUnreach(skb: SkBuff, start: number, end: number): void {
  const net = skb.dev.netns;
  const d = skb.data;
  const type = d[start];
  const code = d[start + 1];
  let info = 0;
  if (type === ICMP.DEST_UNREACH) {
    if (code === ICMP_UNREACH.FRAG_NEEDED) {
      const mode = ipv4Sysctl(net, "ip_no_pmtu_disc");
      if (mode === 2) return;
      if (mode === 0 || mode === 3) info = readU16(d, start + 6);
    }
    if (code > 15) return;
  } else if (type === ICMP.PARAMETERPROB) info = d[start + 4];
  else if (type === ICMP.REDIRECT) info = readIpv4(d, start + 4);
  const innerOff = start + 8;
  if (end - innerOff < 20) return;
  const inner = ipHdr(d, innerOff);
  if (end - innerOff < inner.ihl + 8) return;
  const from = readIpv4(d, skb.network + 12);
  if (type === ICMP.DEST_UNREACH && code === ICMP_UNREACH.FRAG_NEEDED && info)
    ipRtUpdatePmtu(net, inner.daddr, info);
  const e: IcmpErrorInfo = { type, code, info, from, inner, data: d, transport: innerOff + inner.ihl };
  if (type === ICMP.REDIRECT && code <= 3) ipDoRedirect(skb.dev, inner.daddr, from, info);
  if (inner.protocol === IPPROTO.UDP) udpErr(net, e);
  else if (inner.protocol === IPPROTO.ICMP) pingErr(net, e);
}

/** icmp_err_convert: the errno an ICMP error maps to (and whether it is "hard"). */
export function icmpErrConvert(type: number, code: number): { errno: ErrnoName; fatal: boolean } {
  if (type === ICMP.DEST_UNREACH) {
    const table: [ErrnoName, boolean][] = [
      ["ENETUNREACH", false],
      ["EHOSTUNREACH", false],
      ["ENOPROTOOPT", true],
      ["ECONNREFUSED", true],
      ["EMSGSIZE", false],
      ["EOPNOTSUPP", false],
      ["ENETUNREACH", true],
      ["EHOSTDOWN", true],
      ["ENONET", true],
      ["ENETUNREACH", true],
      ["EHOSTUNREACH", true],
      ["ENETUNREACH", false],
      ["EHOSTUNREACH", false],
      ["EHOSTUNREACH", true],
      ["EHOSTUNREACH", true],
      ["EHOSTUNREACH", true],
    ];
    const [errno, fatal] = table[code] ?? ["EHOSTUNREACH", false];
    return { errno, fatal };
  }
  if (type === ICMP.PARAMETERPROB) return { errno: "EPROTO", fatal: true };
  return { errno: "EHOSTUNREACH", fatal: false };
}
