/**
 * UDP (net/ipv4/udp.c): sockets with bind/connect/sendto and a receive callback, the socket
 * lookup with Linux's scoring, broadcast/multicast delivery to every matching socket, port
 * unreachable when nothing listens, and ICMP errors mapped onto sockets (ECONNREFUSED ...).
 */
import { readU16 } from "../../wire/index.ts";
import { type ErrnoName, KernelError } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { allocSkb, type SkBuff } from "../skb.ts";
import { ipDevFind } from "./devinet.ts";
import {
  buildIpv4,
  buildUdp,
  ICMP,
  ICMP_UNREACH,
  IPPROTO,
  ipHdr,
  isMulticast,
  udpChecksumOk,
} from "./hdr.ts";
import { type IcmpErrorInfo, icmpErrConvert, icmpSend } from "./icmp.ts";
import { inetIif, ipcb, ipLocalOut, ipSelectIdent, skbDst } from "./output.ts";
import { ipRouteOutput } from "./route.ts";
import { ipv4Net } from "./state.ts";
import { ipv4Sysctl } from "./sysctl.ts";
import { RTCF, type SockExtendedErr } from "./types.ts";

/** A received datagram. */
export interface UdpDatagram {
  readonly data: Uint8Array;
  readonly saddr: number;
  readonly sport: number;
  readonly daddr: number;
  readonly dport: number;
  /** Device it arrived on. */
  readonly dev: string;
  readonly ttl: number;
  readonly tos: number;
  /** Virtual receive time (ns). */
  readonly time: bigint;
}

/** A UDP socket. */
export class UdpSock {
  readonly net: NetNamespace;
  /** Local address/port (0 = any / not bound). */
  laddr = 0;
  lport = 0;
  /** Connected peer (0 = not connected). */
  faddr = 0;
  fport = 0;
  /** SO_BINDTODEVICE. */
  bindDev: NetDevice | null = null;
  /** SO_BROADCAST. */
  broadcast = false;
  /** SO_REUSEADDR. */
  reuseAddr = false;
  /** IP_TTL (null = ip_default_ttl). */
  ttl: number | null = null;
  /** IP_MULTICAST_TTL. */
  mcastTtl = 1;
  tos = 0;
  mark = 0;
  /** IP_RECVERR. */
  recverr = false;
  /** Called for every datagram (else they queue in `queue`). */
  onMessage: ((d: UdpDatagram) => void) | null = null;
  /** Called for every error queue entry (IP_RECVERR; else they queue in `errors`). */
  onError: ((e: SockExtendedErr) => void) | null = null;
  readonly queue: UdpDatagram[] = [];
  readonly errors: SockExtendedErr[] = [];
  /** Pending sk_err, reported (and cleared) by the next send. */
  skErr: ErrnoName | null = null;
  closed = false;

  constructor(net: NetNamespace) {
    this.net = net;
  }

  /** bind(): EINVAL if already bound, EADDRNOTAVAIL for a foreign address, EADDRINUSE for a taken port. */
  bind(addr: number, port: number): void {
    if (this.lport) throw new KernelError("EINVAL");
    const a = addr >>> 0;
    const bcastOrMc = a === 0xffffffff || isMulticast(a);
    if (a && !bcastOrMc && !ipDevFind(this.net, a) && !ipv4Sysctl(this.net, "ip_nonlocal_bind")) {
      throw new KernelError("EADDRNOTAVAIL");
    }
    const p = port || allocPort(this.net);
    for (const s of ipv4Net(this.net).udp) {
      if (s === this || s.lport !== p) continue;
      if (s.laddr && a && s.laddr !== a) continue;
      if (s.bindDev && this.bindDev && s.bindDev !== this.bindDev) continue;
      if (s.reuseAddr && this.reuseAddr) continue;
      throw new KernelError("EADDRINUSE");
    }
    this.laddr = a;
    this.lport = p;
  }

  /** connect(): routes to the peer now (errors as ip4_datagram_connect) and fixes the source. */
  connect(addr: number, port: number): void {
    const rt = ipRouteOutput(this.net, {
      daddr: addr >>> 0,
      saddr: this.laddr,
      oif: this.bindDev?.ifindex ?? 0,
    });
    if (typeof rt === "string") throw new KernelError(rt);
    if (rt.flags & RTCF.BROADCAST && !this.broadcast) throw new KernelError("EACCES");
    if (!this.laddr) this.laddr = rt.saddr;
    if (!this.lport) this.bind(this.laddr, 0);
    this.faddr = addr >>> 0;
    this.fport = port;
  }

  /**
   * sendto() / send(): one datagram. Returns 0 or the errno (EDESTADDRREQ, EMSGSIZE,
   * ENETUNREACH, EHOSTUNREACH, EACCES for broadcast without SO_BROADCAST, a pending
   * ECONNREFUSED ...).
   */
  sendto(data: Uint8Array, addr?: number, port?: number): 0 | ErrnoName {
    if (this.closed) return "EBADF";
    if (data.length + 8 > 0xffff) return "EMSGSIZE";
    const daddr = addr === undefined ? this.faddr : addr >>> 0;
    const dport = port === undefined ? this.fport : port;
    if (addr === undefined && !this.faddr) return "EDESTADDRREQ";
    if (!dport) return "EINVAL";
    if (this.skErr) {
      const e = this.skErr;
      this.skErr = null;
      return e;
    }
    if (!this.lport) {
      try {
        this.bind(this.laddr, 0);
      } catch (e) {
        if (e instanceof KernelError) return e.code;
        throw e;
      }
    }
    const net = this.net;
    const rt = ipRouteOutput(net, {
      daddr,
      saddr: this.laddr,
      oif: this.bindDev?.ifindex ?? 0,
      tos: this.tos,
      mark: this.mark,
    });
    if (typeof rt === "string") {
      if (rt === "ENETUNREACH") ipv4Net(net).mib.OutNoRoutes++;
      return rt;
    }
    if (rt.flags & RTCF.BROADCAST && !this.broadcast) return "EACCES";
    const udp = buildUdp(rt.saddr, daddr, this.lport, dport, data);
    const ttl = isMulticast(daddr) ? this.mcastTtl : (this.ttl ?? (ipv4Sysctl(net, "ip_default_ttl") || 64));
    const df = 28 + data.length <= rt.mtu && !ipv4Sysctl(net, "ip_no_pmtu_disc");
    const pkt = buildIpv4({
      saddr: rt.saddr,
      daddr,
      protocol: IPPROTO.UDP,
      ttl,
      tos: this.tos,
      id: ipSelectIdent(net, df && !this.faddr),
      df,
      payload: udp,
    });
    const skb = allocSkb(pkt, rt.dev, 0);
    skb.mark = this.mark;
    ipcb(skb).sk = this;
    ipv4Net(net).mib.UdpOutDatagrams++;
    const r = ipLocalOut(net, skb, rt);
    if (r < 0) return r === -1 ? "EPERM" : r === -90 ? "EMSGSIZE" : "EINVAL";
    if (r === 1) {
      // ip_send_skb: net_xmit_errno(NET_XMIT_DROP) = -ENOBUFS, counted as IpOutDiscards.
      ipv4Net(net).mib.OutDiscards++;
      return "ENOBUFS";
    }
    return 0;
  }

  /** Delivers a datagram (udp_queue_rcv_skb). */
  deliver(d: UdpDatagram): void {
    if (this.onMessage) this.onMessage(d);
    else this.queue.push(d);
  }

  /** __udp4_lib_err's socket side. */
  deliverError(e: SockExtendedErr, hard: boolean): void {
    if (this.recverr) {
      if (this.onError) this.onError(e);
      else this.errors.push(e);
    } else if (!hard || !this.faddr) return;
    this.skErr = e.errno;
  }

  /** close(). */
  close(): void {
    this.closed = true;
    ipv4Net(this.net).udp.delete(this);
  }
}

/** socket(AF_INET, SOCK_DGRAM, 0). */
export function udpSocket(net: NetNamespace): UdpSock {
  const s = new UdpSock(net);
  ipv4Net(net).udp.add(s);
  return s;
}

/** inet_csk_get_port for UDP: a free port of ip_local_port_range, starting at a random offset. */
function allocPort(net: NetNamespace): number {
  const [lo, hi] = (net.sysctl.get("net.ipv4.ip_local_port_range") ?? "32768\t60999")
    .split(/\s+/)
    .map(Number);
  const used = new Set([...ipv4Net(net).udp].map((s) => s.lport));
  const span = hi - lo + 1;
  const start = net.kernel.random.below(span);
  for (let i = 0; i < span; i++) {
    const p = lo + ((start + i) % span);
    if (!used.has(p)) return p;
  }
  throw new KernelError("EADDRINUSE");
}

/** compute_score: -1 if the socket cannot take the datagram, else higher is more specific. */
function score(s: UdpSock, saddr: number, sport: number, daddr: number, dport: number, dif: number): number {
  if (s.closed || s.lport !== dport) return -1;
  if (s.laddr && s.laddr !== daddr) return -1;
  let sc = 2;
  if (s.faddr) {
    if (s.faddr !== saddr) return -1;
    sc += 4;
  }
  if (s.fport) {
    if (s.fport !== sport) return -1;
    sc += 4;
  }
  if (s.bindDev) {
    if (s.bindDev.ifindex !== dif) return -1;
    sc += 4;
  }
  return sc;
}

/**
 * udp_rcv: checksum, then unicast delivery to the best socket (exact local address first) or
 * every matching socket for broadcast/multicast; no socket → ICMP port unreachable (unicast).
 */
export function udpRcv(skb: SkBuff): void {
  const net = skb.dev.netns;
  const mib = ipv4Net(net).mib;
  const d = skb.data;
  const off = skb.network;
  const h = ipHdr(d, off);
  const start = off + h.ihl;
  const end = off + h.totLen;
  if (end - start < 8) {
    mib.UdpInErrors++;
    skb.dev.countDrop("PKT_TOO_SMALL");
    return;
  }
  const ulen = readU16(d, start + 4);
  if (ulen < 8 || ulen > end - start || !udpChecksumOk(d, start, start + ulen, h.saddr, h.daddr)) {
    mib.UdpInErrors++;
    skb.dev.countDrop("UDP_CSUM");
    return;
  }
  const sport = readU16(d, start);
  const dport = readU16(d, start + 2);
  const dgram: UdpDatagram = {
    data: d.slice(start + 8, start + ulen),
    saddr: h.saddr,
    sport,
    daddr: h.daddr,
    dport,
    dev: skb.dev.name,
    ttl: h.ttl,
    tos: h.tos,
    time: net.kernel.now,
  };
  const rt = skbDst(skb);
  const dif = inetIif(skb);
  const socks = [...ipv4Net(net).udp];
  if (rt && rt.flags & (RTCF.BROADCAST | RTCF.MULTICAST)) {
    let n = 0;
    for (const s of socks) {
      if (score(s, h.saddr, sport, h.daddr, dport, dif) < 0) continue;
      s.deliver(dgram);
      n++;
    }
    if (n === 0) {
      mib.UdpNoPorts++;
      skb.dev.countDrop("NO_SOCKET");
    } else mib.UdpInDatagrams++;
    return;
  }
  let best: UdpSock | undefined;
  let bestScore = -1;
  for (const pass of [h.daddr, 0]) {
    for (const s of socks) {
      if (s.laddr !== pass) continue;
      const sc = score(s, h.saddr, sport, h.daddr, dport, dif);
      if (sc > bestScore) {
        best = s;
        bestScore = sc;
      }
    }
    if (best) break;
  }
  if (!best) {
    mib.UdpNoPorts++;
    icmpSend(skb, ICMP.DEST_UNREACH, ICMP_UNREACH.PORT, 0);
    skb.dev.countDrop("NO_SOCKET");
    return;
  }
  mib.UdpInDatagrams++;
  best.deliver(dgram);
}

/** __udp4_lib_err: the quoted datagram names the socket (laddr/lport → faddr/fport). */
export function udpErr(net: NetNamespace, e: IcmpErrorInfo): void {
  const t = e.transport;
  const d = e.data;
  const sport = readU16(d, t);
  const dport = readU16(d, t + 2);
  let sock: UdpSock | undefined;
  for (const s of ipv4Net(net).udp) {
    if (s.closed || s.lport !== sport) continue;
    if (s.laddr && s.laddr !== e.inner.saddr) continue;
    if (s.faddr && (s.faddr !== e.inner.daddr || s.fport !== dport)) continue;
    sock = s;
    break;
  }
  if (!sock) {
    ipv4Net(net).mib.IcmpInErrors++;
    return;
  }
  let errno: ErrnoName = "EHOSTUNREACH";
  let hard = false;
  if (e.type === 4) return;
  if (e.type === ICMP.PARAMETERPROB) {
    errno = "EPROTO";
    hard = true;
  } else if (e.type === ICMP.DEST_UNREACH) {
    if (e.code === ICMP_UNREACH.FRAG_NEEDED) {
      errno = "EMSGSIZE";
      hard = true;
    } else {
      const c = icmpErrConvert(e.type, e.code);
      errno = c.errno;
      hard = c.fatal;
    }
  } else if (e.type === ICMP.REDIRECT) return;
  sock.deliverError(
    {
      errno,
      origin: 2,
      type: e.type,
      code: e.code,
      info: e.info,
      offender: e.from,
      daddr: e.inner.daddr,
      time: net.kernel.now,
    },
    hard,
  );
}
