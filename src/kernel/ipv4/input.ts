/**
 * IPv4 input (net/ipv4/ip_input.c, ip_forward.c, ip_fragment.c, route.c:ip_error): header
 * checks, PRE_ROUTING, the l3mdev hook, the routing decision, LOCAL_IN and delivery to the
 * transport protocols, reassembly, forwarding (TTL, FORWARD hook, redirects, frag-needed) and
 * the ICMP errors of unroutable packets.
 */
import { readU16, writeU16 } from "../../wire/index.ts";
import { NSEC_PER_MSEC, NSEC_PER_SEC, type Timer } from "../clock.ts";
import { IFF } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { NF, NF_INET, NFPROTO, nfHook } from "../netfilter/hooks.ts";
import { PacketType, type SkBuff } from "../skb.ts";
import { inDevGet } from "./devinet.ts";
import {
  ICMP,
  ICMP_UNREACH,
  IP_DF,
  IP_MF,
  IP_OFFSET,
  IPPROTO,
  ipDecreaseTtl,
  ipHdr,
  ipHdrChecksumOk,
  ipSendCheck,
} from "./hdr.ts";
import { icmpRcv, icmpSend } from "./icmp.ts";
import { ipcb, ipOutput, setLoopbackReceiver, skbDst, skbDstSet } from "./output.ts";
import { ipRouteInput } from "./route.ts";
import { IPV4_NET, inetGetPeer, ipv4Net } from "./state.ts";
import { inDevForward, inDevOrconf } from "./sysctl.ts";
import { RTCF, RTN, type Rtable } from "./types.ts";
import { udpRcv } from "./udp.ts";

/** A transport protocol handler (inet_protos[]): gets the skb with the IP header at skb.network. */
export type InetProtocolHandler = (skb: SkBuff) => void;

/** Extra protocol handlers (inet_add_protocol), e.g. for tests or other subsystems. */
export const inetProtos = new Map<number, InetProtocolHandler>();

/** ipfrag_time: 30 s. */
const IPFRAG_TIME = 30n * NSEC_PER_SEC;
/** ip_rt_redirect_load / number / silence. */
const REDIRECT_LOAD = 20n * NSEC_PER_MSEC;
const REDIRECT_NUMBER = 9;
const REDIRECT_SILENCE = REDIRECT_LOAD << 10n;
/** ip_rt_error_cost / burst. */
const ERROR_COST = NSEC_PER_SEC;
const ERROR_BURST = 5n * NSEC_PER_SEC;

/** Counts a dropped packet on the device it is on. */
function drop(skb: SkBuff, reason: string): void {
  skb.dev.countDrop(reason);
}

/**
 * ip_rcv: the IPv4 ethertype handler. Frames for other hosts are dropped; the header is
 * checked (version, IHL, checksum, lengths) and trimmed to tot_len; then PRE_ROUTING.
 */
export function ipRcv(skb: SkBuff): void {
  const dev = skb.dev;
  const net = dev.netns;
  const state = net.slots.get(IPV4_NET);
  if (!state) return;
  const mib = state.mib;
  if (skb.pktType === PacketType.OTHERHOST) {
    drop(skb, "OTHERHOST");
    return;
  }
  mib.InReceives++;
  const off = skb.network;
  const d = skb.data;
  if (d.length - off < 20 || d[off] >> 4 !== 4 || (d[off] & 0x0f) < 5) {
    mib.InHdrErrors++;
    drop(skb, "IP_INHDR");
    return;
  }
  const ihl = (d[off] & 0x0f) * 4;
  if (d.length - off < ihl || !ipHdrChecksumOk(d, off, ihl)) {
    mib.InHdrErrors++;
    drop(skb, "IP_CSUM");
    return;
  }
  const totLen = readU16(d, off + 2);
  if (d.length - off < totLen) {
    drop(skb, "PKT_TOO_SMALL");
    return;
  }
  if (totLen < ihl) {
    mib.InHdrErrors++;
    drop(skb, "IP_INHDR");
    return;
  }
  if (d.length - off > totLen) skb.data = d.subarray(0, off + totLen);
  // Only looped-back packets keep their route; anything else is routed afresh.
  const keep = skb.pktType === PacketType.LOOPBACK || (dev.flags & IFF.LOOPBACK) !== 0;
  const old = skbDst(skb);
  delete skb.cb.ipv4;
  if (keep && old && old.dev.netns === net) skbDstSet(skb, old);
  const v = nfHook(NFPROTO.IPV4, NF_INET.PRE_ROUTING, net, skb, dev, null);
  if (v === NF.DROP) {
    drop(skb, "NETFILTER_DROP");
    return;
  }
  if (v !== NF.ACCEPT) return;
  ipRcvFinish(skb);
}

setLoopbackReceiver(ipRcv);

/**
 * ip_rcv_finish: the l3mdev hook (skb.dev.l3mdevRcv, e.g. ipvlan L3S, may move the packet to
 * another device and attach a route), the input route if none is attached, then dst_input.
 */
export function ipRcvFinish(input: SkBuff): void {
  let skb: SkBuff | null = input;
  if (skb.dev.l3mdevRcv) {
    skb = skb.dev.l3mdevRcv(skb, 4);
    if (!skb) return;
  }
  const dev = skb.dev;
  const d = skb.data;
  const off = skb.network;
  const h = ipHdr(d, off);
  let rt = skbDst(skb);
  if (!rt) {
    const r = ipRouteInput(h.daddr, h.saddr, dev, { tos: h.tos, mark: skb.mark, protocol: h.protocol });
    if (typeof r === "string") {
      drop(skb, r === "EXDEV" ? "IP_RPFILTER" : "IP_INADDRERRORS");
      if (r !== "EXDEV") ipv4Net(dev.netns).mib.InAddrErrors++;
      return;
    }
    rt = r;
    skbDstSet(skb, rt);
  }
  if (
    rt.type !== RTN.MULTICAST &&
    rt.type !== RTN.BROADCAST &&
    (skb.pktType === PacketType.BROADCAST || skb.pktType === PacketType.MULTICAST) &&
    inDevGet(dev) &&
    inDevOrconf(dev, "drop_unicast_in_l2_multicast")
  ) {
    drop(skb, "UNICAST_IN_L2_MULTICAST");
    return;
  }
  dstInput(skb, rt);
}

/** dst_input (an output route looped back through lo delivers locally when it is RTCF_LOCAL). */
function dstInput(skb: SkBuff, rt: Rtable): void {
  if (rt.action === "local" || (rt.action === "output" && rt.flags & RTCF.LOCAL)) ipLocalDeliver(skb);
  else if (rt.action === "forward") ipForward(skb, rt);
  else if (rt.action === "error") ipError(skb, rt);
  else drop(skb, "NO_ROUTE");
}

/** A reassembly queue (struct ipq). */
interface Ipq {
  readonly frags: { off: number; data: Uint8Array }[];
  header: Uint8Array | null;
  total: number;
  firstSkb: SkBuff | null;
  readonly timer: Timer;
}

const queues = new WeakMap<NetNamespace, Map<string, Ipq>>();

/**
 * ip_defrag: collects fragments by (saddr, daddr, id, protocol); returns the reassembled skb
 * once complete, null meanwhile. An incomplete queue expires after ipfrag_time (30 s) with an
 * ICMP time exceeded (fragment reassembly) if the first fragment had arrived.
 */
function ipDefrag(skb: SkBuff): SkBuff | null {
  const net = skb.dev.netns;
  let m = queues.get(net);
  if (!m) {
    m = new Map();
    queues.set(net, m);
  }
  const d = skb.data;
  const off = skb.network;
  const h = ipHdr(d, off);
  const key = `${h.saddr}/${h.daddr}/${h.id}/${h.protocol}`;
  let q = m.get(key);
  ipv4Net(net).mib.ReasmReqds++;
  if (!q) {
    const map = m;
    const timer = net.kernel.loop.after(IPFRAG_TIME, () => {
      const qq = map.get(key);
      map.delete(key);
      if (qq?.firstSkb && net.slots.get(IPV4_NET)) icmpSend(qq.firstSkb, ICMP.TIME_EXCEEDED, 1, 0);
    });
    q = { frags: [], header: null, total: -1, firstSkb: null, timer };
    m.set(key, q);
  }
  const fragOff = (h.fragOff & IP_OFFSET) * 8;
  const payload = d.slice(off + h.ihl, off + h.totLen);
  if (fragOff === 0) {
    q.header = d.slice(off, off + h.ihl);
    q.firstSkb = skb;
  }
  if (!(h.fragOff & IP_MF)) q.total = fragOff + payload.length;
  if (!q.frags.some((f) => f.off === fragOff)) q.frags.push({ off: fragOff, data: payload });
  if (q.total < 0 || !q.header) return null;
  q.frags.sort((a, b) => a.off - b.off);
  let have = 0;
  for (const f of q.frags) {
    if (f.off > have) return null;
    have = Math.max(have, f.off + f.data.length);
  }
  if (have < q.total) return null;
  net.kernel.loop.cancel(q.timer);
  m.delete(key);
  const hlen = q.header.length;
  const out = new Uint8Array(hlen + q.total);
  out.set(q.header, 0);
  for (const f of q.frags)
    out.set(f.data.subarray(0, Math.max(0, Math.min(f.data.length, q.total - f.off))), hlen + f.off);
  writeU16(out, 2, out.length);
  writeU16(out, 6, readU16(q.header, 6) & IP_DF);
  ipSendCheck(out, 0);
  return { ...skb, data: out, network: 0 };
}

/** ip_local_deliver: reassembly, LOCAL_IN, then the transport protocol. */
export function ipLocalDeliver(input: SkBuff): void {
  let skb: SkBuff | null = input;
  const h0 = ipHdr(skb.data, skb.network);
  if (h0.fragOff & (IP_MF | IP_OFFSET)) {
    skb = ipDefrag(skb);
    if (!skb) return;
  }
  const net = skb.dev.netns;
  const v = nfHook(NFPROTO.IPV4, NF_INET.LOCAL_IN, net, skb, skb.dev, null);
  if (v === NF.DROP) {
    drop(skb, "NETFILTER_DROP");
    return;
  }
  if (v !== NF.ACCEPT) return;
  ipLocalDeliverFinish(skb);
}

/** ip_local_deliver_finish / ip_protocol_deliver_rcu. */
function ipLocalDeliverFinish(skb: SkBuff): void {
  const mib = ipv4Net(skb.dev.netns).mib;
  const proto = skb.data[skb.network + 9];
  mib.InDelivers++;
  const extra = inetProtos.get(proto);
  if (extra) extra(skb);
  else if (proto === IPPROTO.ICMP) icmpRcv(skb);
  else if (proto === IPPROTO.UDP) udpRcv(skb);
  else if (proto === IPPROTO.IGMP || proto === IPPROTO.TCP) {
    // No IGMP processing and no TCP stack here: consumed silently (Linux would answer TCP with RST).
    drop(skb, "NO_SOCKET");
  } else {
    mib.InUnknownProtos++;
    icmpSend(skb, ICMP.DEST_UNREACH, ICMP_UNREACH.PROT, 0);
    drop(skb, "IP_NOPROTO");
  }
}

/**
 * ip_forward: only for PACKET_HOST frames; TTL ≤ 1 → time exceeded; DF over the MTU →
 * frag-needed; TTL is decremented, a redirect is sent when the packet leaves through the
 * interface it came in on (send_redirects), then FORWARD and ip_output.
 */
export function ipForward(skb: SkBuff, rt: Rtable): void {
  const net = rt.dev.netns;
  const mib = ipv4Net(net).mib;
  if (skb.pktType !== PacketType.HOST) {
    drop(skb, "OTHERHOST");
    return;
  }
  const off = skb.network;
  const d = skb.data;
  const h = ipHdr(d, off);
  if (h.ttl <= 1) {
    mib.InHdrErrors++;
    icmpSend(skb, ICMP.TIME_EXCEEDED, 0, 0);
    drop(skb, "IP_INHDR");
    return;
  }
  ipcb(skb).forwarded = true;
  const mtu = rt.mtu;
  if (h.totLen > mtu && h.fragOff & IP_DF) {
    mib.FragFails++;
    icmpSend(skb, ICMP.DEST_UNREACH, ICMP_UNREACH.FRAG_NEEDED, mtu);
    drop(skb, "PKT_TOO_BIG");
    return;
  }
  // Work on the bare IP packet from here (skb_cow + the header becomes the start of data).
  const pkt = d.slice(off, off + h.totLen);
  const inDev = skb.dev;
  const fwd: SkBuff = { ...skb, data: pkt, network: 0, iif: inDev.ifindex };
  ipcb(fwd).inDev = inDev;
  ipDecreaseTtl(pkt, 0);
  if (rt.flags & RTCF.DOREDIRECT) ipRtSendRedirect(skb, rt);
  const v = nfHook(NFPROTO.IPV4, NF_INET.FORWARD, net, fwd, inDev, rt.dev);
  if (v === NF.DROP) {
    drop(fwd, "NETFILTER_DROP");
    return;
  }
  if (v !== NF.ACCEPT) return;
  mib.ForwDatagrams++;
  ipOutput(net, fwd, rt);
}

/**
 * ip_rt_send_redirect: ICMP host redirect to the sender with exponential back-off
 * (20 ms << n, at most 9, reset after ~20 s of silence).
 */
function ipRtSendRedirect(skb: SkBuff, rt: Rtable): void {
  const net = rt.dev.netns;
  const h = ipHdr(skb.data, skb.network);
  const peer = inetGetPeer(ipv4Net(net), h.saddr);
  const now = net.kernel.now;
  if (now > peer.redirectLast + REDIRECT_SILENCE) peer.redirects = 0;
  if (peer.redirects >= REDIRECT_NUMBER) {
    peer.redirectLast = now;
    return;
  }
  if (peer.redirects === 0 || now > peer.redirectLast + (REDIRECT_LOAD << BigInt(peer.redirects))) {
    icmpSend(skb, ICMP.REDIRECT, 1, rt.nexthop);
    peer.redirectLast = now;
    peer.redirects++;
  }
}

/**
 * ip_error: the route said "unreachable". Without forwarding nothing is sent; else an ICMP
 * net/host unreachable or "administratively filtered", rate limited per source (1 s cost,
 * 5 s burst); blackholes stay silent.
 */
function ipError(skb: SkBuff, rt: Rtable): void {
  const net = skb.dev.netns;
  const mib = ipv4Net(net).mib;
  const inDev = inDevGet(skb.dev);
  if (!inDev) {
    drop(skb, "NO_ROUTE");
    return;
  }
  if (!inDevForward(skb.dev)) {
    if (rt.error === "EHOSTUNREACH") mib.InAddrErrors++;
    else if (rt.error === "ENETUNREACH") mib.InNoRoutes++;
    drop(skb, "IP_INADDRERRORS");
    return;
  }
  let code: number;
  if (rt.error === "EHOSTUNREACH") code = ICMP_UNREACH.HOST;
  else if (rt.error === "ENETUNREACH") {
    code = ICMP_UNREACH.NET;
    mib.InNoRoutes++;
  } else if (rt.error === "EACCES") code = ICMP_UNREACH.PKT_FILTERED;
  else {
    drop(skb, "IP_INADDRERRORS");
    return;
  }
  const h = ipHdr(skb.data, skb.network);
  const peer = inetGetPeer(ipv4Net(net), h.saddr);
  const now = net.kernel.now;
  peer.tokens += now - peer.last;
  if (peer.tokens > ERROR_BURST) peer.tokens = ERROR_BURST;
  peer.last = now;
  let send = true;
  if (peer.tokens >= ERROR_COST) peer.tokens -= ERROR_COST;
  else send = false;
  if (send) icmpSend(skb, ICMP.DEST_UNREACH, code, 0);
  drop(skb, "IP_NOROUTE");
}
