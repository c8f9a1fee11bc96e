/**
 * ICMP echo sockets for `ping` (net/ipv4/ping.c, the datagram ICMP socket): send echo requests
 * with an identifier, receive the matching echo replies, and receive errors IP_RECVERR-style:
 * ICMP errors about our requests (host/net unreachable, time exceeded, frag needed, redirects)
 * and local errors (EMSGSIZE). Send failures are returned as the errno sendmsg would give.
 */
import { readU16, writeU16 } from "../../wire/index.ts";
import { type ErrnoName, KernelError } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { allocSkb, type SkBuff } from "../skb.ts";
import { ipDevFind } from "./devinet.ts";
import { buildIcmp, buildIpv4, ICMP, ICMP_UNREACH, IPPROTO, type IpHdr, isMulticast } from "./hdr.ts";
import { type IcmpErrorInfo, icmpErrConvert } from "./icmp.ts";
import { inetIif, ipcb, ipLocalOut, ipSelectIdent } from "./output.ts";
import { ipRouteOutput } from "./route.ts";
import { ipv4Net } from "./state.ts";
import { ipv4Sysctl } from "./sysctl.ts";
import { RTCF, type SockExtendedErr } from "./types.ts";

/** IP_MTU_DISCOVER modes (`ping -M want|do|dont|probe`). */
export type PmtuDisc = "dont" | "want" | "do" | "probe";

/** An echo reply delivered to a ping socket. */
export interface PingReply {
  readonly id: number;
  readonly seq: number;
  /** Source of the reply. */
  readonly from: number;
  /** The address it was sent to (ours). */
  readonly to: number;
  readonly ttl: number;
  readonly tos: number;
  /** ICMP payload (after the 8-byte header). */
  readonly data: Uint8Array;
  /** Device it arrived on. */
  readonly dev: string;
  /** Virtual receive time (ns). */
  readonly time: bigint;
}

/** Per-send options. */
export interface PingSendOptions {
  /** MSG_CONFIRM: the neighbour of the destination is confirmed reachable. */
  readonly confirm?: boolean;
}

/** An ICMP echo socket. */
export class PingSock {
  readonly net: NetNamespace;
  /** The echo identifier (the socket's "port"). */
  readonly id: number;
  /** SO_BINDTODEVICE. */
  bindDev: NetDevice | null = null;
  /** Bound source address (0 = any). */
  bindAddr = 0;
  /** SO_BROADCAST. */
  broadcast = false;
  /** IP_TTL (null = net.ipv4.ip_default_ttl). */
  ttl: number | null = null;
  /** IP_MULTICAST_TTL. */
  mcastTtl = 1;
  /** IP_MULTICAST_LOOP. */
  mcastLoop = true;
  /** IP_TOS. */
  tos = 0;
  /** SO_MARK. */
  mark = 0;
  /** IP_MTU_DISCOVER. */
  pmtudisc: PmtuDisc;
  /** IP_RECVERR. */
  recverr = true;
  /** Called for every echo reply (else they queue in `replies`). */
  onReply: ((r: PingReply) => void) | null = null;
  /** Called for every error queue entry (else they queue in `errors`). */
  onError: ((e: SockExtendedErr) => void) | null = null;
  readonly replies: PingReply[] = [];
  readonly errors: SockExtendedErr[] = [];
  /** Pending sk_err (reported once by the next send). */
  skErr: ErrnoName | null = null;
  /** Set by the output path's MSG_CONFIRM handling. */
  confirmNeigh = false;
  closed = false;

  constructor(net: NetNamespace, id: number) {
    this.net = net;
    this.id = id;
    this.pmtudisc = ipv4Sysctl(net, "ip_no_pmtu_disc") ? "dont" : "want";
  }

  /** bind(): the source address; EADDRNOTAVAIL if it is not ours (ip_nonlocal_bind allows it). */
  bind(addr: number): void {
    const a = addr >>> 0;
    if (a && !ipDevFind(this.net, a) && !ipv4Sysctl(this.net, "ip_nonlocal_bind"))
      throw new KernelError("EADDRNOTAVAIL");
    this.bindAddr = a;
  }

  /** Sends one echo request (ping_v4_sendmsg). Returns 0 or the errno sendmsg would fail with. */
  send(daddr: number, seq: number, payload: Uint8Array, opts: PingSendOptions = {}): 0 | ErrnoName {
    if (this.closed) return "EBADF";
    if (payload.length + 8 > 0xffff) return "EMSGSIZE";
    if (this.skErr) {
      const e = this.skErr;
      this.skErr = null;
      return e;
    }
    const net = this.net;
    const dst = daddr >>> 0;
    const oif = this.bindDev?.ifindex ?? 0;
    const rt = ipRouteOutput(net, { daddr: dst, saddr: this.bindAddr, oif, tos: this.tos, mark: this.mark });
    if (typeof rt === "string") {
      if (rt === "ENETUNREACH") ipv4Net(net).mib.OutNoRoutes++;
      return rt;
    }
    if (rt.flags & RTCF.BROADCAST && !this.broadcast) return "EACCES";
    if (opts.confirm && !(rt.flags & (RTCF.MULTICAST | RTCF.BROADCAST | RTCF.LOCAL))) {
      const n = ipv4Net(net).arp.lookup(rt.dev, rt.nexthop);
      if (n) ipv4Net(net).arp.confirm(n);
    }
    const total = 20 + 8 + payload.length;
    const devMtu = rt.dev.mtu;
    const mtu = this.pmtudisc === "probe" ? devMtu : rt.mtu;
    const ignoreDf = this.pmtudisc === "dont" || this.pmtudisc === "want";
    if (!ignoreDf && total > mtu) {
      this.#queueError({
        errno: "EMSGSIZE",
        origin: 1,
        type: 0,
        code: 0,
        info: mtu,
        offender: 0,
        daddr: dst,
        sequence: seq,
        time: net.kernel.now,
      });
      return "EMSGSIZE";
    }
    const df =
      this.pmtudisc === "do" || this.pmtudisc === "probe" || (this.pmtudisc === "want" && total <= mtu);
    const icmp = buildIcmp(ICMP.ECHO, 0, ((this.id & 0xffff) << 16) | (seq & 0xffff), payload);
    const ttl = isMulticast(dst) ? this.mcastTtl : (this.ttl ?? (ipv4Sysctl(net, "ip_default_ttl") || 64));
    const pkt = buildIpv4({
      saddr: rt.saddr,
      daddr: dst,
      protocol: IPPROTO.ICMP,
      ttl,
      tos: this.tos,
      id: ipSelectIdent(net, df),
      df,
      payload: icmp,
    });
    const skb = allocSkb(pkt, rt.dev, 0);
    skb.mark = this.mark;
    const cb = ipcb(skb);
    cb.sk = this;
    cb.mcLoop = this.mcastLoop;
    const r = ipLocalOut(net, skb, rt);
    if (r < 0) return r === -1 ? "EPERM" : r === -90 ? "EMSGSIZE" : "EINVAL";
    if (r === 1) {
      // ip_send_skb: net_xmit_errno(NET_XMIT_DROP) = -ENOBUFS, counted as IpOutDiscards.
      ipv4Net(net).mib.OutDiscards++;
      return "ENOBUFS";
    }
    return 0;
  }

  /** Queues an error (sock_queue_err_skb) or hands it to onError. */
  #queueError(e: SockExtendedErr): void {
    if (this.onError) this.onError(e);
    else this.errors.push(e);
  }

  /** ping_err: an ICMP error about one of our requests. */
  deliverError(e: SockExtendedErr, harderr: boolean): void {
    if (this.recverr) this.#queueError(e);
    else if (!harderr) return;
    this.skErr = e.errno;
  }

  /** ping_queue_rcv_skb. */
  deliverReply(r: PingReply): void {
    if (this.onReply) this.onReply(r);
    else this.replies.push(r);
  }

  /** close(). */
  close(): void {
    this.closed = true;
    ipv4Net(this.net).ping.delete(this);
  }
}

/**
 * Opens an ICMP echo socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) + bind to an ident).
 * `id` picks the identifier; by default a free one is drawn from the kernel PRNG.
 */
export function pingSocket(net: NetNamespace, id?: number): PingSock {
  const socks = ipv4Net(net).ping;
  let ident = id;
  if (ident === undefined) {
    do ident = 1 + net.kernel.random.below(0xfffe);
    while ([...socks].some((s) => s.id === ident));
  }
  const s = new PingSock(net, ident & 0xffff);
  socks.add(s);
  return s;
}

/** ping_lookup: the socket with this ident, bound address and device compatible with the packet. */
function pingLookup(
  net: NetNamespace,
  ident: number,
  daddr: number,
  dif: number,
  sdif: number,
): PingSock | undefined {
  for (const s of ipv4Net(net).ping) {
    if (s.id !== ident || s.closed) continue;
    if (s.bindAddr && s.bindAddr !== daddr) continue;
    if (s.bindDev && s.bindDev.ifindex !== dif && s.bindDev.ifindex !== sdif) continue;
    return s;
  }
  return undefined;
}

/** ping_rcv: an echo reply goes to the socket owning its identifier. */
export function pingRcv(skb: SkBuff, h: IpHdr, start: number, end: number): void {
  const d = skb.data;
  const ident = readU16(d, start + 4);
  const s = pingLookup(skb.dev.netns, ident, h.daddr, inetIif(skb), skb.dev.ifindex);
  if (!s) {
    skb.dev.countDrop("NO_SOCKET");
    return;
  }
  s.deliverReply({
    id: ident,
    seq: readU16(d, start + 6),
    from: h.saddr,
    to: h.daddr,
    ttl: h.ttl,
    tos: h.tos,
    data: d.slice(start + 8, end),
    dev: skb.dev.name,
    time: skb.dev.netns.kernel.now,
  });
}

/** ping_err: the quoted echo request names the socket; the error is mapped as Linux does. */
export function pingErr(net: NetNamespace, e: IcmpErrorInfo): void {
  const t = e.transport;
  const d = e.data;
  if (d[t] !== ICMP.ECHO) return;
  const ident = readU16(d, t + 4);
  const seq = readU16(d, t + 6);
  let s: PingSock | undefined;
  for (const x of ipv4Net(net).ping) {
    if (x.id === ident && !x.closed && (!x.bindAddr || x.bindAddr === e.inner.saddr)) s = x;
  }
  if (!s) return;
  let errno: ErrnoName = "EHOSTUNREACH";
  let hard = false;
  if (e.type === 4 || e.type === ICMP.REDIRECT) errno = "EREMOTEIO";
  else if (e.type === ICMP.PARAMETERPROB) {
    errno = "EPROTO";
    hard = true;
  } else if (e.type === ICMP.DEST_UNREACH) {
    if (e.code === ICMP_UNREACH.FRAG_NEEDED) {
      if (s.pmtudisc === "dont") return;
      errno = "EMSGSIZE";
      hard = true;
    } else {
      const c = icmpErrConvert(e.type, e.code);
      errno = c.errno;
      hard = c.fatal;
    }
  }
  s.deliverError(
    {
      errno,
      origin: 2,
      type: e.type,
      code: e.code,
      info: e.info,
      offender: e.from,
      daddr: e.inner.daddr,
      sequence: seq,
      time: net.kernel.now,
    },
    hard,
  );
}

/** Builds the payload iputils ping sends: a timestamp (virtual time) then a byte pattern. */
export function pingPayload(size: number, now: bigint): Uint8Array {
  const out = new Uint8Array(size);
  if (size >= 16) {
    const sec = Number(now / 1_000_000_000n);
    const usec = Number((now % 1_000_000_000n) / 1000n);
    writeU16(out, 0, 0);
    writeU16(out, 2, 0);
    out[4] = sec >>> 24;
    out[5] = (sec >>> 16) & 0xff;
    out[6] = (sec >>> 8) & 0xff;
    out[7] = sec & 0xff;
    out[12] = usec >>> 24;
    out[13] = (usec >>> 16) & 0xff;
    out[14] = (usec >>> 8) & 0xff;
    out[15] = usec & 0xff;
  }
  for (let i = 16; i < size; i++) out[i] = (i - 16 + 0x10) & 0xff;
  return out;
}
