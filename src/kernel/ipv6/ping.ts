/**
 * ICMPv6 echo sockets for `ping -6` (net/ipv6/ping.c on top of net/ipv4/ping.c): echo requests
 * with the socket's identifier, scope ids / SO_BINDTODEVICE for link-local and multicast
 * destinations, multicast hop limit and loopback, echo replies, and ICMPv6 / local errors in
 * the IPV6_RECVERR style. Mirrors the IPv4 PingSock (src/kernel/ipv4/ping.ts).
 */
import { type Ipv6Addr, ipv6IsMulticast } from "../../wire/index.ts";
import type { ErrnoName } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { allocSkb, type SkBuff } from "../skb.ts";
import { ipv6ChkAddr } from "./addr-util.ts";
import { buildIcmpv6Packet, ip6LocalOut, type Ip6OutOpts } from "./output.ts";
import { ip6DstLookup } from "./route.ts";
import {
  checkDest,
  icmpv6ErrConvert,
  ip6cbIifDev,
  type SockExtendedErr6,
  sockHopLimit,
} from "./sock-common.ts";
import { ipv6Net, mibInc } from "./state.ts";

/** IPV6_MTU_DISCOVER modes (`ping -M want|do|dont|probe`). */
export type Pmtu6Disc = "dont" | "want" | "do" | "probe";

/** An echo reply delivered to a ping socket. */
export interface Ping6Reply {
  readonly id: number;
  readonly seq: number;
  /** Source of the reply. */
  readonly from: Ipv6Addr;
  /** The address it was sent to (ours). */
  readonly to: Ipv6Addr;
  readonly hopLimit: number;
  /** Device it arrived on (the scope of a link-local `from`). */
  readonly dev: string;
  /** ICMPv6 payload (after the 8-byte header). */
  readonly data: Uint8Array;
  /** Virtual receive time (ns). */
  readonly time: bigint;
}

/** Per-send options. */
export interface Ping6SendOptions {
  /** sin6_scope_id: the interface of a link-local or multicast destination (`addr%if`). */
  readonly scopeId?: number;
}

/** An ICMPv6 echo socket. */
export class Ping6Socket {
  readonly net: NetNamespace;
  /** The echo identifier (the socket's "port"). */
  readonly id: number;
  /** SO_BINDTODEVICE (`ping -I dev`). */
  bindDev: NetDevice | null = null;
  /** Bound source address (0n = any; `ping -I addr`). */
  bindAddr: Ipv6Addr = 0n;
  /** IPV6_UNICAST_HOPS (null = the route's hop limit, 64). */
  hopLimit: number | null = null;
  /** IPV6_MULTICAST_HOPS (default 1). */
  mcastHops = 1;
  /** IPV6_MULTICAST_LOOP. */
  mcastLoop = true;
  /** IPV6_TCLASS. */
  tclass = 0;
  /** SO_MARK. */
  mark = 0;
  /** IPV6_MTU_DISCOVER. */
  pmtudisc: Pmtu6Disc = "want";
  /** IPV6_RECVERR. */
  recverr = true;
  /** Called for every echo reply (else they queue in `replies`). */
  onReply: ((r: Ping6Reply) => void) | null = null;
  /** Called for every error queue entry (else they queue in `errors`). */
  onError: ((e: SockExtendedErr6) => void) | null = null;
  readonly replies: Ping6Reply[] = [];
  readonly errors: SockExtendedErr6[] = [];
  /** Pending sk_err (reported once by the next send). */
  skErr: ErrnoName | null = null;
  closed = false;

  constructor(net: NetNamespace, id: number) {
    this.net = net;
    this.id = id;
  }

  /** bind(): the source address; EADDRNOTAVAIL if it is not ours. */
  bind(addr: Ipv6Addr): ErrnoName | 0 {
    if (addr !== 0n && !ipv6ChkAddr(this.net, addr, this.bindDev, false, 0)) return "EADDRNOTAVAIL";
    this.bindAddr = addr;
    return 0;
  }

  /** Sends one echo request (ping_v6_sendmsg). Returns 0 or the errno sendmsg fails with. */
  send(daddr: Ipv6Addr, seq: number, payload: Uint8Array, opts: Ping6SendOptions = {}): 0 | ErrnoName {
    if (this.closed) return "EBADF";
    if (payload.length + 8 > 0xffff) return "EMSGSIZE";
    if (this.skErr) {
      const e = this.skErr;
      this.skErr = null;
      return e;
    }
    const net = this.net;
    const bound = this.bindDev?.ifindex ?? 0;
    const oif = opts.scopeId || bound;
    const bad = checkDest(daddr, oif, bound);
    if (bad) return bad;
    const dst = ip6DstLookup(net, { daddr, saddr: this.bindAddr, oif, mark: this.mark, proto: 58 });
    if (dst.error) {
      if (dst.error === "ENETUNREACH") mibInc(net, "Ip6OutNoRoutes");
      return dst.error;
    }
    const total = 40 + 8 + payload.length;
    const mtu = this.pmtudisc === "probe" ? dst.dev.mtu : dst.mtu;
    const dontFrag = this.pmtudisc === "do" || this.pmtudisc === "probe";
    if (dontFrag && total > mtu) {
      this.#queueError({
        errno: "EMSGSIZE",
        origin: 1,
        type: 0,
        code: 0,
        info: mtu,
        offender: dst.saddr,
        daddr,
        sequence: seq,
        time: net.kernel.now,
      });
      return "EMSGSIZE";
    }
    const hop = sockHopLimit(daddr, this.hopLimit, this.mcastHops, dst);
    const pkt = buildIcmpv6Packet(dst.saddr, daddr, hop, {
      kind: "echo-request",
      ident: this.id,
      seq: seq & 0xffff,
      data: payload,
    });
    if (this.tclass) {
      pkt[0] = 0x60 | (this.tclass >>> 4);
      pkt[1] = ((this.tclass & 0xf) << 4) | (pkt[1] & 0xf);
    }
    const skb: SkBuff = allocSkb(pkt, dst.dev, 0);
    skb.mark = this.mark;
    const o: Ip6OutOpts = { mcLoop: this.mcastLoop, dontFrag };
    skb.cb.ip6opts = o;
    skb.cb.sk = this;
    mibInc(net, "Icmp6OutMsgs");
    mibInc(net, "Icmp6OutEchos");
    const r = ip6LocalOut(net, skb, dst);
    if (r === -90) return "EMSGSIZE";
    if (r < 0 && r !== -1) return "EINVAL";
    if (r === 1) {
      // ip6_send_skb: net_xmit_errno(NET_XMIT_DROP) = -ENOBUFS, counted as Ip6OutDiscards.
      mibInc(net, "Ip6OutDiscards");
      return "ENOBUFS";
    }
    return r === -1 ? "EPERM" : 0;
  }

  #queueError(e: SockExtendedErr6): void {
    if (this.onError) this.onError(e);
    else this.errors.push(e);
  }

  /** ping_err: an ICMPv6 error about one of our requests. */
  deliverError(e: SockExtendedErr6): void {
    if (!this.recverr) return;
    this.#queueError(e);
    this.skErr = e.errno;
  }

  /** ping_queue_rcv_skb. */
  deliverReply(r: Ping6Reply): void {
    if (this.onReply) this.onReply(r);
    else this.replies.push(r);
  }

  /** close(). */
  close(): void {
    this.closed = true;
    ipv6Net(this.net).pingSocks.delete(this);
  }
}

/**
 * Opens an ICMPv6 echo socket (socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)). `id` picks the
 * identifier; by default a free one is drawn from the kernel PRNG.
 */
export function ping6Socket(net: NetNamespace, id?: number): Ping6Socket {
  const socks = ipv6Net(net).pingSocks;
  let ident = id;
  if (ident === undefined) {
    do ident = 1 + net.kernel.random.below(0xfffe);
    while ([...socks].some((s) => s.id === ident));
  }
  const s = new Ping6Socket(net, ident & 0xffff);
  socks.add(s);
  return s;
}

function pingLookup(
  net: NetNamespace,
  ident: number,
  daddr: Ipv6Addr | null,
  dev: NetDevice | null,
): Ping6Socket | undefined {
  for (const s of ipv6Net(net).pingSocks) {
    if (s.id !== ident || s.closed) continue;
    if (daddr !== null && s.bindAddr && s.bindAddr !== daddr && !ipv6IsMulticast(daddr)) continue;
    if (dev && s.bindDev && s.bindDev !== dev) continue;
    return s;
  }
  return undefined;
}

/** ping_rcv: an echo reply goes to the socket owning its identifier. */
export function pingRcvReply(
  net: NetNamespace,
  skb: SkBuff,
  from: Ipv6Addr,
  to: Ipv6Addr,
  hopLimit: number,
  ident: number,
  seq: number,
  data: Uint8Array,
): void {
  // ping_v6 lookup and recvmsg's sin6_scope_id both go by IP6CB(skb)->iif (inet6_iif).
  const iifDev = ip6cbIifDev(skb);
  const s = pingLookup(net, ident, to, iifDev);
  if (!s) {
    skb.dev.countDrop("NO_SOCKET");
    return;
  }
  s.deliverReply({
    id: ident,
    seq,
    from,
    to,
    hopLimit,
    dev: iifDev.name,
    data: data.slice(),
    time: net.kernel.now,
  });
}

/** ping_err for IPv6: the quoted echo request names the socket. */
export function pingRcvError(
  net: NetNamespace,
  skb: SkBuff,
  from: Ipv6Addr,
  type: number,
  code: number,
  info: number,
  innerSrc: Ipv6Addr,
  innerDst: Ipv6Addr,
  ident: number,
  seq: number,
): void {
  const s = pingLookup(net, ident, innerSrc, null);
  if (!s) return;
  void skb;
  const { errno } = icmpv6ErrConvert(type, code);
  s.deliverError({
    errno,
    origin: 3,
    type,
    code,
    info,
    offender: from,
    daddr: innerDst,
    sequence: seq,
    time: net.kernel.now,
  });
}
