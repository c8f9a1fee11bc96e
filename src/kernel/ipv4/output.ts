/**
 * IPv4 output (net/ipv4/ip_output.c): ip_local_out (LOCAL_OUT hook, re-routing when the hook
 * rewrote the destination), dst_output (ip_output / ip_mc_output with the local copies of
 * broadcast and multicast), POST_ROUTING, fragmentation (ip_fragment / ip_do_fragment with the
 * DF rules) and ip_finish_output2 (the neighbour of the next hop).
 *
 * An skb on this path holds the bare IP packet: `skb.data` starts at the IPv4 header
 * (`skb.network` = 0); the neighbour layer prepends the link-layer header. Its route is kept in
 * `skb.cb` (see {@link skbDst}).
 */
import { BACKLOG_DELAY } from "../dev.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { NF, NF_INET, NFPROTO, nfHook } from "../netfilter/hooks.ts";
import { PacketType, type SkBuff } from "../skb.ts";
import { readIpv4, writeU16 } from "../../wire/index.ts";
import { IP_DF, IP_MF, IP_OFFSET, ipHdr, ipSendCheck } from "./hdr.ts";
import { ipv4Net } from "./state.ts";
import { ipRouteOutput } from "./route.ts";
import { RTCF, type Rtable } from "./types.ts";

/** NET_XMIT_SUCCESS / NET_XMIT_DROP / NET_XMIT_CN. */
export const NET_XMIT = { SUCCESS: 0, DROP: 1, CN: 2 } as const;

/** Per-skb IPv4 control data (IPCB + skb_dst). */
export interface Ipv4Cb {
  /** skb_dst: the route. */
  rt: Rtable | null;
  /** IPSKB_FORWARDED. */
  forwarded?: boolean;
  /** The socket that sent it (for error reports on the sender's own host). */
  sk?: unknown;
  /** IP_MULTICAST_LOOP of the sending socket (default on). */
  mcLoop?: boolean;
  /** The device a forwarded packet came in on (the `in` of POST_ROUTING). */
  inDev?: NetDevice;
}

/** skb_dst: the IPv4 route attached to an skb (undefined if none). */
export function skbDst(skb: SkBuff): Rtable | null {
  return (skb.cb.ipv4 as Ipv4Cb | undefined)?.rt ?? null;
}

/** inet_iif: the route's input interface (for traffic looped through lo: the original device), else skb_iif. */
export function inetIif(skb: SkBuff): number {
  return skbDst(skb)?.iif || skb.iif || skb.dev.ifindex;
}

/** skb_dst_set (ipvlan's l3s handler and the input path attach routes this way). */
export function skbDstSet(skb: SkBuff, rt: Rtable | null): void {
  const cb = (skb.cb.ipv4 as Ipv4Cb | undefined) ?? { rt: null };
  cb.rt = rt;
  skb.cb.ipv4 = cb;
}

/** The IPv4 control block of an skb (created on first use). */
export function ipcb(skb: SkBuff): Ipv4Cb {
  let cb = skb.cb.ipv4 as Ipv4Cb | undefined;
  if (!cb) {
    cb = { rt: null };
    skb.cb.ipv4 = cb;
  }
  return cb;
}

/** Makes skb hold the bare IP packet (drops anything before the network header). */
function toBareIp(skb: SkBuff): void {
  if (skb.network > 0) {
    skb.data = skb.data.subarray(skb.network);
    skb.network = 0;
  }
}

/** ip_select_ident: the IP id for a packet (0 for unconnected DF packets, else the counter). */
export function ipSelectIdent(net: NetNamespace, df: boolean): number {
  if (df) return 0;
  const v = ipv4Net(net);
  v.ipId = (v.ipId + 1) & 0xffff;
  return v.ipId;
}

/**
 * ip_local_out for an already-built IPv4 packet: tot_len and checksum are fixed up, then
 * LOCAL_OUT, dst_output (POST_ROUTING, fragmentation, neighbour resolution on the route's device).
 * The packet's IPv4 header must be at `skb.network` (a link-layer header before it is dropped).
 * Returns 0 (NET_XMIT_SUCCESS, also when queued for ARP), NET_XMIT_DROP (1), or -errno
 * (-EPERM when netfilter dropped it, -EMSGSIZE for DF packets over the MTU, -EINVAL ...).
 */
export function ipLocalOut(net: NetNamespace, skb: SkBuff, route: Rtable): number {
  toBareIp(skb);
  const d = skb.data;
  const totLen = ipHdr(d, 0).totLen;
  if (totLen !== d.length) writeU16(d, 2, d.length);
  ipSendCheck(d, 0);
  skb.protocol = 0x0800;
  skbDstSet(skb, route);
  const v = nfHook(NFPROTO.IPV4, NF_INET.LOCAL_OUT, net, skb, null, route.dev);
  if (v === NF.DROP) {
    route.dev.countDrop("NETFILTER_DROP");
    return -1;
  }
  if (v !== NF.ACCEPT) return 0;
  let rt = route;
  // ip_route_me_harder: a LOCAL_OUT hook (NAT) changed the destination.
  const daddr = readIpv4(skb.data, 16);
  if (daddr !== rt.daddr) {
    const r = ipRouteOutput(net, { daddr, saddr: readIpv4(skb.data, 12), anySrc: true });
    if (typeof r === "string") {
      rt.dev.countDrop("IP_OUTNOROUTES");
      return -1;
    }
    rt = r;
    skbDstSet(skb, rt);
  }
  return dstOutput(net, skb, rt);
}

/** dst_output: ip_mc_output for broadcast/multicast routes, ip_output otherwise. */
export function dstOutput(net: NetNamespace, skb: SkBuff, rt: Rtable): number {
  const mc = rt.flags & (RTCF.BROADCAST | RTCF.MULTICAST);
  if (mc && rt.flags & RTCF.LOCAL && !(rt.dev.flags & IFF.LOOPBACK)) return ipMcOutput(net, skb, rt);
  return ipOutput(net, skb, rt);
}

/** ip_output: POST_ROUTING then ip_finish_output. */
export function ipOutput(net: NetNamespace, skb: SkBuff, rt: Rtable): number {
  const inDev = ipcb(skb).inDev ?? null;
  skb.dev = rt.dev;
  skb.protocol = 0x0800;
  const v = nfHook(NFPROTO.IPV4, NF_INET.POST_ROUTING, net, skb, inDev, rt.dev);
  if (v === NF.DROP) {
    rt.dev.countDrop("NETFILTER_DROP");
    return -1;
  }
  if (v !== NF.ACCEPT) return 0;
  return ipFinishOutput(net, skb, rt);
}

/**
 * ip_mc_output: broadcast (always) and multicast (when we joined the group and multicast loop
 * is on) packets are also looped back to local delivery, then sent on the device.
 */
function ipMcOutput(net: NetNamespace, skb: SkBuff, rt: Rtable): number {
  skb.dev = rt.dev;
  skb.protocol = 0x0800;
  const cb = ipcb(skb);
  const loop =
    rt.flags & RTCF.BROADCAST || (rt.flags & RTCF.MULTICAST && (rt.flags & RTCF.LOCAL || !cb.forwarded));
  if (loop && cb.mcLoop !== false) {
    const copy: SkBuff = { ...skb, data: skb.data.slice(), cb: { ipv4: { rt } } };
    const v = nfHook(NFPROTO.IPV4, NF_INET.POST_ROUTING, net, copy, null, rt.dev);
    if (v === NF.ACCEPT) devLoopbackXmit(net, copy);
  }
  if (rt.flags & RTCF.MULTICAST && skb.data[8] === 0) return 0;
  return ipOutput(net, skb, rt);
}

/** The input side, registered by input.ts (avoids an import cycle). */
let localReceive: ((skb: SkBuff) => void) | null = null;

/** Registers the function that receives looped-back packets (ip_rcv). */
export function setLoopbackReceiver(fn: (skb: SkBuff) => void): void {
  localReceive = fn;
}

/**
 * dev_loopback_xmit: a local copy re-enters the stack through the backlog as PACKET_LOOPBACK,
 * keeping its route (so it is delivered locally, never re-routed). Packet taps do not see it.
 */
function devLoopbackXmit(net: NetNamespace, skb: SkBuff): void {
  skb.pktType = PacketType.LOOPBACK;
  skb.network = 0;
  net.kernel.loop.after(BACKLOG_DELAY, () => localReceive?.(skb));
}

/** ip_finish_output: fragments what exceeds the path MTU. */
function ipFinishOutput(net: NetNamespace, skb: SkBuff, rt: Rtable): number {
  const mtu = rt.dev.flags & IFF.LOOPBACK ? rt.dev.mtu || 65536 : rt.mtu;
  if (skb.data.length > mtu) return ipFragment(net, skb, rt, mtu);
  return ipFinishOutput2(net, skb, rt);
}

/** Callback used by ip_fragment to report frag-needed (icmp.ts registers it). */
let fragNeeded: ((skb: SkBuff, mtu: number) => void) | null = null;

/** Registers icmp_send(ICMP_FRAG_NEEDED) for ip_fragment. */
export function setFragNeededReporter(fn: (skb: SkBuff, mtu: number) => void): void {
  fragNeeded = fn;
}

/**
 * ip_fragment: a DF packet over the MTU is refused (frag-needed to the sender, -EMSGSIZE);
 * others are cut into fragments (ip_do_fragment) of (mtu - header) rounded down to 8 bytes.
 */
export function ipFragment(net: NetNamespace, skb: SkBuff, rt: Rtable, mtu: number): number {
  const d = skb.data;
  const h = ipHdr(d, 0);
  const mib = ipv4Net(net).mib;
  if (h.fragOff & IP_DF) {
    mib.FragFails++;
    fragNeeded?.(skb, mtu);
    rt.dev.countDrop("PKT_TOO_BIG");
    return -90;
  }
  const hlen = h.ihl;
  const payload = d.subarray(hlen, h.totLen);
  const chunk = (mtu - hlen) & ~7;
  if (chunk <= 0) {
    mib.FragFails++;
    return -90;
  }
  const baseOff = (h.fragOff & IP_OFFSET) * 8;
  const moreAfter = (h.fragOff & IP_MF) !== 0;
  let ret = 0;
  for (let off = 0; off < payload.length; off += chunk) {
    const part = payload.subarray(off, Math.min(off + chunk, payload.length));
    const last = off + chunk >= payload.length;
    const f = new Uint8Array(hlen + part.length);
    f.set(d.subarray(0, hlen), 0);
    f.set(part, hlen);
    writeU16(f, 2, f.length);
    const fo = ((baseOff + off) >> 3) | (!last || moreAfter ? IP_MF : 0);
    writeU16(f, 6, fo);
    ipSendCheck(f, 0);
    mib.FragCreates++;
    const fs: SkBuff = { ...skb, data: f, network: 0, cb: { ipv4: { ...ipcb(skb) } } };
    const r = ipFinishOutput2(net, fs, rt);
    if (r !== 0 && ret === 0) ret = r;
  }
  mib.FragOKs++;
  return ret;
}

/**
 * ip_finish_output2: the neighbour of the next hop (the gateway, or the destination itself for
 * on-link/broadcast/multicast routes) on the route's device sends it, resolving first if needed.
 */
export function ipFinishOutput2(net: NetNamespace, skb: SkBuff, rt: Rtable): number {
  const nexthop = rt.gateway || readIpv4(skb.data, 16);
  const arp = ipv4Net(net).arp;
  let n = arp.lookup(rt.dev, nexthop);
  if (!n) {
    try {
      n = arp.create(rt.dev, nexthop);
    } catch {
      rt.dev.countDrop("NEIGH_CREATEFAIL");
      return -22;
    }
  }
  const sk = ipcb(skb).sk as { confirmNeigh?: boolean } | undefined;
  if (sk?.confirmNeigh) {
    arp.confirm(n);
    sk.confirmNeigh = false;
  }
  ipv4Net(net).mib.OutRequests++;
  return arp.output(n, skb);
}
