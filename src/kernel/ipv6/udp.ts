/**
 * UDP over IPv6 (net/ipv6/udp.c): sockets with bind/connect/sendto and a receive callback,
 * Linux's lookup scoring (exact local address and connected peers beat wildcards, bound devices
 * must match), multicast delivery to every member socket, port unreachable when nothing listens
 * on a unicast destination, and ICMPv6 errors mapped onto sockets. Mirrors the IPv4 UdpSock.
 */
import {
  emitUdp,
  IpProto,
  type Ipv6Addr,
  ipv6IsMulticast,
  parseUdp,
  udpReprLen,
  WireError,
} from "../../wire/index.ts";
import { type ErrnoName, KernelError } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { allocSkb, type SkBuff } from "../skb.ts";
import { ipv6ChkAddr } from "./addr-util.ts";
import { ICMPV6, icmpv6Send } from "./icmp.ts";
import { buildIpv6Packet, ip6LocalOut, type Ip6OutOpts } from "./output.ts";
import { ip6DstLookup } from "./route.ts";
import { checkDest, icmpv6ErrConvert, type SockExtendedErr6, sockHopLimit } from "./sock-common.ts";
import { ipv6Net, mibInc } from "./state.ts";

/** A received datagram. */
export interface Udp6Datagram {
  readonly data: Uint8Array;
  readonly saddr: Ipv6Addr;
  readonly sport: number;
  readonly daddr: Ipv6Addr;
  readonly dport: number;
  /** Device it arrived on. */
  readonly dev: string;
  readonly hopLimit: number;
  /** Virtual receive time (ns). */
  readonly time: bigint;
}

/** A UDPv6 socket. */
export class Udp6Socket {
  readonly net: NetNamespace;
  /** Local address/port (0n / 0 = any / not bound). */
  laddr: Ipv6Addr = 0n;
  lport = 0;
  /** Connected peer. */
  faddr: Ipv6Addr = 0n;
  fport = 0;
  /** Scope of a connected link-local peer. */
  fscope = 0;
  /** SO_BINDTODEVICE. */
  bindDev: NetDevice | null = null;
  /** SO_REUSEADDR. */
  reuseAddr = false;
  /** IPV6_UNICAST_HOPS (null = route). */
  hopLimit: number | null = null;
  /** IPV6_MULTICAST_HOPS. */
  mcastHops = 1;
  /** IPV6_MULTICAST_LOOP. */
  mcastLoop = true;
  mark = 0;
  /** IPV6_RECVERR. */
  recverr = false;
  /** Multicast groups joined through this socket (IPV6_JOIN_GROUP), as [dev, group]. */
  readonly groups: [NetDevice, Ipv6Addr][] = [];
  onMessage: ((d: Udp6Datagram) => void) | null = null;
  onError: ((e: SockExtendedErr6) => void) | null = null;
  readonly queue: Udp6Datagram[] = [];
  readonly errors: SockExtendedErr6[] = [];
  skErr: ErrnoName | null = null;
  closed = false;

  constructor(net: NetNamespace) {
    this.net = net;
  }

  /** bind(): EINVAL if bound, EADDRNOTAVAIL for a foreign address, EADDRINUSE for a taken port. */
  bind(addr: Ipv6Addr, port: number): void {
    if (this.lport) throw new KernelError("EINVAL");
    if (addr !== 0n && !ipv6IsMulticast(addr) && !ipv6ChkAddr(this.net, addr, this.bindDev, false, 0)) {
      throw new KernelError("EADDRNOTAVAIL");
    }
    const p = port || allocPort(this.net);
    for (const s of ipv6Net(this.net).udpSocks) {
      if (s === this || s.lport !== p) continue;
      if (s.laddr && addr && s.laddr !== addr) continue;
      if (s.bindDev && this.bindDev && s.bindDev !== this.bindDev) continue;
      if (s.reuseAddr && this.reuseAddr) continue;
      throw new KernelError("EADDRINUSE");
    }
    this.laddr = addr;
    this.lport = p;
    ipv6Net(this.net).udpSocks.add(this);
  }

  /** connect(): routes now (errors as ip6_datagram_connect) and fixes the source. */
  connect(addr: Ipv6Addr, port: number, scopeId = 0): void {
    const oif = scopeId || this.bindDev?.ifindex || 0;
    const bad = checkDest(addr, oif, this.bindDev?.ifindex ?? 0);
    if (bad) throw new KernelError(bad);
    const dst = ip6DstLookup(this.net, { daddr: addr, saddr: this.laddr, oif });
    if (dst.error) throw new KernelError(dst.error);
    if (!this.laddr) this.laddr = dst.saddr;
    if (!this.lport) this.bind(this.laddr, 0);
    this.faddr = addr;
    this.fport = port;
    this.fscope = oif;
  }

  /** sendto() / send(): one datagram; 0 or the errno. */
  sendto(data: Uint8Array, addr?: Ipv6Addr, port?: number, scopeId = 0): 0 | ErrnoName {
    if (this.closed) return "EBADF";
    if (data.length + 8 > 0xffff) return "EMSGSIZE";
    if (addr === undefined && !this.fport) return "EDESTADDRREQ";
    const daddr = addr ?? this.faddr;
    const dport = port ?? this.fport;
    if (!dport) return "EINVAL";
    if (this.skErr) {
      const e = this.skErr;
      this.skErr = null;
      return e;
    }
    if (!this.lport) {
      try {
        this.bind(0n, 0);
      } catch (e) {
        if (e instanceof KernelError) return e.code;
        throw e;
      }
    }
    const bound = this.bindDev?.ifindex ?? 0;
    const oif = scopeId || (addr === undefined ? this.fscope : 0) || bound;
    const bad = checkDest(daddr, oif, bound);
    if (bad) return bad;
    const net = this.net;
    const saddr = this.laddr && !ipv6IsMulticast(this.laddr) ? this.laddr : 0n;
    const dst = ip6DstLookup(net, { daddr, saddr, oif, mark: this.mark, proto: IpProto.Udp });
    if (dst.error) return dst.error;
    const repr = { srcPort: this.lport, dstPort: dport, payload: data };
    const udp = new Uint8Array(udpReprLen(repr));
    emitUdp(repr, udp, { src: dst.saddr, dst: daddr });
    const hop = sockHopLimit(daddr, this.hopLimit, this.mcastHops, dst);
    const pkt = buildIpv6Packet(dst.saddr, daddr, IpProto.Udp, hop, udp);
    const skb: SkBuff = allocSkb(pkt, dst.dev, 0);
    skb.mark = this.mark;
    const o: Ip6OutOpts = { mcLoop: this.mcastLoop };
    skb.cb.ip6opts = o;
    mibInc(net, "Udp6OutDatagrams");
    const r = ip6LocalOut(net, skb, dst);
    if (r === -90) return "EMSGSIZE";
    if (r === 1) {
      // ip6_send_skb: net_xmit_errno(NET_XMIT_DROP) = -ENOBUFS, counted as Ip6OutDiscards.
      mibInc(net, "Ip6OutDiscards");
      return "ENOBUFS";
    }
    return r < 0 ? "EPERM" : 0;
  }

  /** send() on a connected socket. */
  send(data: Uint8Array): 0 | ErrnoName {
    return this.sendto(data);
  }

  /** udp_err: an ICMPv6 error about one of our datagrams. */
  deliverError(e: SockExtendedErr6, fatal: boolean): void {
    if (this.recverr) {
      if (this.onError) this.onError(e);
      else this.errors.push(e);
    } else if (!fatal || !this.fport) return;
    this.skErr = e.errno;
  }

  deliver(d: Udp6Datagram): void {
    if (this.onMessage) this.onMessage(d);
    else this.queue.push(d);
  }

  /** close(). */
  close(): void {
    this.closed = true;
    ipv6Net(this.net).udpSocks.delete(this);
  }
}

/** Opens a UDPv6 socket (unbound; bind or sendto binds it). */
export function udp6Socket(net: NetNamespace): Udp6Socket {
  return new Udp6Socket(net);
}

function allocPort(net: NetNamespace): number {
  const used = new Set([...ipv6Net(net).udpSocks].map((s) => s.lport));
  for (;;) {
    const p = 32768 + net.kernel.random.below(60999 - 32768 + 1);
    if (!used.has(p)) return p;
  }
}

/** compute_score: -1 = no match; higher = better. */
function score(
  s: Udp6Socket,
  saddr: Ipv6Addr,
  sport: number,
  daddr: Ipv6Addr,
  dport: number,
  dev: NetDevice,
): number {
  if (s.closed || s.lport !== dport) return -1;
  let sc = 0;
  if (s.laddr) {
    if (s.laddr !== daddr) return -1;
    sc++;
  }
  if (s.faddr) {
    if (s.faddr !== saddr) return -1;
    sc++;
  }
  if (s.fport) {
    if (s.fport !== sport) return -1;
    sc++;
  }
  if (s.bindDev) {
    if (s.bindDev !== dev) return -1;
    sc++;
  }
  return sc;
}

/** udpv6_rcv: checksum, socket lookup (all members for multicast), port unreachable otherwise. */
export function udp6Rcv(
  net: NetNamespace,
  skb: SkBuff,
  ip: { src: Ipv6Addr; dst: Ipv6Addr; hopLimit: number },
  data: Uint8Array,
): void {
  let repr: ReturnType<typeof parseUdp>;
  try {
    repr = parseUdp(data, { src: ip.src, dst: ip.dst });
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    mibInc(net, "Udp6InErrors");
    mibInc(net, "Udp6InCsumErrors");
    skb.dev.countDrop("UDP_CSUM");
    return;
  }
  const socks = [...ipv6Net(net).udpSocks];
  const dgram = (): Udp6Datagram => ({
    data: repr.payload.slice(),
    saddr: ip.src,
    sport: repr.srcPort,
    daddr: ip.dst,
    dport: repr.dstPort,
    dev: skb.dev.name,
    hopLimit: ip.hopLimit,
    time: net.kernel.now,
  });
  if (ipv6IsMulticast(ip.dst)) {
    const members = socks.filter((s) => score(s, ip.src, repr.srcPort, ip.dst, repr.dstPort, skb.dev) >= 0);
    if (members.length === 0) {
      mibInc(net, "Udp6NoPorts");
      return;
    }
    mibInc(net, "Udp6InDatagrams");
    for (const s of members) s.deliver(dgram());
    return;
  }
  let best: Udp6Socket | null = null;
  let bestScore = -1;
  for (const s of socks) {
    const sc = score(s, ip.src, repr.srcPort, ip.dst, repr.dstPort, skb.dev);
    if (sc > bestScore) {
      best = s;
      bestScore = sc;
    }
  }
  if (!best) {
    mibInc(net, "Udp6NoPorts");
    skb.dev.countDrop("NO_SOCKET");
    icmpv6Send(net, skb, ICMPV6.DEST_UNREACH, 4, 0);
    return;
  }
  mibInc(net, "Udp6InDatagrams");
  best.deliver(dgram());
}

/** __udp6_lib_err: the quoted datagram names the socket. */
export function udp6RcvError(
  net: NetNamespace,
  skb: SkBuff,
  from: Ipv6Addr,
  type: number,
  code: number,
  info: number,
  innerSrc: Ipv6Addr,
  innerDst: Ipv6Addr,
  sport: number,
  dport: number,
): void {
  let best: Udp6Socket | null = null;
  let bestScore = -1;
  for (const s of ipv6Net(net).udpSocks) {
    const sc = score(s, innerDst, dport, innerSrc, sport, s.bindDev ?? skb.dev);
    if (sc > bestScore) {
      best = s;
      bestScore = sc;
    }
  }
  if (!best) return;
  const { errno, fatal } = icmpv6ErrConvert(type, code);
  best.deliverError(
    { errno, origin: 3, type, code, info, offender: from, daddr: innerDst, time: net.kernel.now },
    fatal,
  );
}
