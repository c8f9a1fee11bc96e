/**
 * The ipvlan data path (drivers/net/ipvlan/ipvlan_core.c): the address table operations, L3
 * header extraction, the master's rx_handler, and transmit for L2 and L3 modes with the L3
 * outbound routing in the master's namespace (the multicast backlog is in multicast.ts).
 *
 * Frames are `skb.data` from the Ethernet header on, with `skb.network` at the L3 header.
 * The unicast decision reads bytes in place and allocates nothing. Every drop ipvlan makes is
 * counted twice: in the kernel-style counter Linux bumps, and under a named reason on the same
 * device (`dev.countDrop`), one name per counter increment.
 */
import {
  cloneSkb,
  devForwardSkb,
  devQueueXmit,
  ip6LocalOut,
  ip6RouteOutput,
  ipLocalOut,
  ipRouteOutput,
  type NetDevice,
  NetdevTx,
  type NetdevTxValue,
  PacketType,
  RxHandlerResult,
  type RxHandlerResultValue,
  type SkBuff,
  scrubSkb,
} from "../kernel/index.ts";
import { readIpv6 } from "../wire/index.ts";
import { ipvlanMulticastEnqueue } from "./multicast.ts";
import {
  ETH_HLEN,
  IpvlDrop,
  ipvlanCountRx,
  IPVL_ARP,
  IPVL_ICMPV6,
  IPVL_IPV4,
  IPVL_IPV6,
  type IpvlAddr,
  type IpvlDev,
  type IpvlPort,
  IPVLAN_MODE_L2,
  IPVLAN_MODE_L3,
  IPVLAN_MODE_L3S,
  IPVLAN_QBACKLOG_LIMIT,
  ipvlanIsPrivate,
  ipvlanIsVepa,
} from "./types.ts";

const ETH_P_IP = 0x0800;
const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;
const NEXTHDR_ICMP = 58;
const NDISC_NEIGHBOUR_SOLICITATION = 135;
const ICMP6_HDR_LEN = 8;

// ---- address table --------------------------------------------------------------------------

/** Mirrors ipvlan_core.c:ipvlan_ht_addr_add. */
export function ipvlanHtAddrAdd(ipvlan: IpvlDev, addr: IpvlAddr): void {
  const port = ipvlan.port;
  if (!port || addr.hashed) return;
  port.table.add(addr);
  addr.hashed = true;
}

/** Mirrors ipvlan_core.c:ipvlan_ht_addr_del. */
export function ipvlanHtAddrDel(addr: IpvlAddr): void {
  const port = addr.master.port;
  if (!addr.hashed || !port) return;
  port.table.delete(addr);
  addr.hashed = false;
}

/** Mirrors ipvlan_core.c:ipvlan_find_addr: a slave's listed address (hashed or not). */
export function ipvlanFindAddr(ipvlan: IpvlDev, ip: number | bigint): IpvlAddr | null {
  for (const a of ipvlan.addrs) {
    if (
      typeof ip === "bigint"
        ? a.ip6 === ip && a.atype === IPVL_IPV6
        : a.ip4 === ip >>> 0 && a.atype === IPVL_IPV4
    ) {
      return a;
    }
  }
  return null;
}

/** Mirrors ipvlan_core.c:ipvlan_addr_busy: any slave of the port lists ip (up or down, any netns). */
export function ipvlanAddrBusy(port: IpvlPort, ip: number | bigint): boolean {
  for (const ipvlan of port.ipvlans) if (ipvlanFindAddr(ipvlan, ip)) return true;
  return false;
}

// ---- L3 header ------------------------------------------------------------------------------

/**
 * Mirrors ipvlan_core.c:ipvlan_get_L3_hdr. Returns a handle `offset * 4 + IPVL_*` of the header
 * the lookup keys on, or -1 when there is nothing to look up. Bounds are checked against the
 * bytes after `skb.network` (the kernel's TX side compares some lengths against the whole frame).
 */
export function ipvlanGetL3Hdr(port: IpvlPort, skb: SkBuff): number {
  const d = skb.data;
  const off = skb.network;
  const len = d.length - off;
  switch (skb.protocol) {
    case ETH_P_IP: {
      if (len < 20) return -1;
      const vihl = d[off];
      const ihl = vihl & 0x0f;
      if (ihl < 5 || vihl >>> 4 !== 4) return -1;
      const totLen = (d[off + 2] << 8) | d[off + 3];
      if (len < totLen || totLen < ihl * 4) return -1;
      return off * 4 + IPVL_IPV4;
    }
    case ETH_P_IPV6: {
      if (len < 40) return -1;
      if (d[off] >>> 4 !== 6) return -1;
      if (d[off + 6] === NEXTHDR_ICMP && isZero16(d, off + 8)) {
        if (len < 40 + ICMP6_HDR_LEN) return -1;
        if (d[off + 40] === NDISC_NEIGHBOUR_SOLICITATION && len < 40 + ICMP6_HDR_LEN + 16) return -1;
        return (off + 40) * 4 + IPVL_ICMPV6;
      }
      return off * 4 + IPVL_IPV6;
    }
    case ETH_P_ARP:
      if (len < 8 + 2 * (port.dev.addrLen + 4)) return -1;
      return off * 4 + IPVL_ARP;
    default:
      return -1;
  }
}

function isZero16(d: Uint8Array, o: number): boolean {
  return (
    (d[o] |
      d[o + 1] |
      d[o + 2] |
      d[o + 3] |
      d[o + 4] |
      d[o + 5] |
      d[o + 6] |
      d[o + 7] |
      d[o + 8] |
      d[o + 9] |
      d[o + 10] |
      d[o + 11] |
      d[o + 12] |
      d[o + 13] |
      d[o + 14] |
      d[o + 15]) ===
    0
  );
}

/**
 * Mirrors ipvlan_core.c:ipvlan_addr_lookup: the hashed address keyed by the header `h` from
 * ipvlanGetL3Hdr (destination when useDest, else source; the NS target for DAD probes).
 */
export function ipvlanAddrLookup(
  port: IpvlPort,
  d: Uint8Array,
  h: number,
  useDest: boolean,
): IpvlAddr | null {
  const off = h >>> 2;
  switch (h & 3) {
    case IPVL_IPV4: {
      const o = off + (useDest ? 16 : 12);
      return port.table.get4((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]);
    }
    case IPVL_IPV6:
      return port.table.get6At(d, off + (useDest ? 24 : 8));
    case IPVL_ICMPV6:
      if (d[off] !== NDISC_NEIGHBOUR_SOLICITATION) return null;
      return port.table.get6At(d, off + ICMP6_HDR_LEN);
    default: {
      const alen = port.dev.addrLen;
      const o = off + 8 + (useDest ? 2 * alen + 4 : alen);
      return port.table.get4((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]);
    }
  }
}

// ---- receive side ---------------------------------------------------------------------------

/** ipvlan_skb_crossing_ns: scrub for a namespace crossing; retarget to dev if given. */
export function ipvlanSkbCrossingNs(skb: SkBuff, dev: NetDevice | null): void {
  const xnet = dev === null ? true : skb.dev.netns !== dev.netns;
  scrubSkb(skb, xnet);
  if (dev !== null) skb.dev = dev;
}

/**
 * Mirrors ipvlan_core.c:ipvlan_rcv_frame. Local (sibling) frames still carry their Ethernet
 * header in skb->len, so their byte count is frame + 14; wire frames count the frame length.
 */
export function ipvlanRcvFrame(addr: IpvlAddr, skb: SkBuff, local: boolean): RxHandlerResultValue {
  const ipvlan = addr.master;
  if (local) {
    const len = skb.data.length + ETH_HLEN;
    let ok = false;
    if (!ipvlan.isUp) {
      ipvlan.countDrop(IpvlDrop.TARGET_DOWN);
    } else {
      skb.pktType = PacketType.HOST;
      ok = devForwardSkb(ipvlan, skb) === 0;
      if (!ok) ipvlan.countDrop(IpvlDrop.FORWARD_FAIL);
    }
    ipvlanCountRx(ipvlan, len, ok, false);
    return RxHandlerResult.CONSUMED;
  }
  skb.dev = ipvlan;
  ipvlanCountRx(ipvlan, skb.data.length - skb.network + ETH_HLEN, true, false);
  return RxHandlerResult.ANOTHER;
}

/**
 * ipvlan_addr_lookup for the receive fast path: the port slot of the slave owning the key
 * (destination side), or -1. Same keys as ipvlanAddrLookup; reads only the table's entries.
 */
export function ipvlanAddrLookupSlot(port: IpvlPort, d: Uint8Array, h: number): number {
  const off = h >>> 2;
  switch (h & 3) {
    case IPVL_IPV4:
      return port.table.slot4((d[off + 16] << 24) | (d[off + 17] << 16) | (d[off + 18] << 8) | d[off + 19]);
    case IPVL_IPV6:
      return port.table.slot6At(d, off + 24);
    case IPVL_ICMPV6:
      return d[off] === NDISC_NEIGHBOUR_SOLICITATION ? port.table.slot6At(d, off + ICMP6_HDR_LEN) : -1;
    default: {
      const o = off + 8 + 2 * port.dev.addrLen + 4;
      return port.table.slot4((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]);
    }
  }
}

/**
 * Mirrors ipvlan_core.c:ipvlan_handle_mode_l3 (also L2 unicast) with ipvlan_rcv_frame's
 * non-local branch inlined: retarget to the slave (RX_HANDLER_ANOTHER) and count it there.
 * Hashed addresses belong to running slaves only, so no up check is needed.
 */
export function ipvlanHandleModeL3(skb: SkBuff, port: IpvlPort): RxHandlerResultValue {
  const h = ipvlanGetL3Hdr(port, skb);
  if (h < 0) return RxHandlerResult.PASS;
  const d = skb.data;
  const slot = ipvlanAddrLookupSlot(port, d, h);
  if (slot < 0) return RxHandlerResult.PASS;
  skb.dev = port.devs[slot]!;
  const rx = port.rx;
  rx[2 * slot]++;
  rx[2 * slot + 1] += d.length - skb.network + ETH_HLEN;
  return RxHandlerResult.ANOTHER;
}

/** Mirrors ipvlan_core.c:ipvlan_external_frame: false for a slave's own frame reflected back. */
export function ipvlanExternalFrame(skb: SkBuff, port: IpvlPort): boolean {
  const d = skb.data;
  const m = skb.dev.mac;
  const src =
    ((d[6] << 8) | d[7]) * 0x1_0000_0000 + (((d[8] << 24) | (d[9] << 16) | (d[10] << 8) | d[11]) >>> 0);
  if (src === m) {
    const h = ipvlanGetL3Hdr(port, skb);
    if (h < 0) return true;
    if (ipvlanAddrLookup(port, d, h, false) !== null) return false;
  }
  return true;
}

/** Mirrors ipvlan_core.c:ipvlan_handle_mode_l2. */
export function ipvlanHandleModeL2(skb: SkBuff, port: IpvlPort): RxHandlerResultValue {
  if ((skb.data[0] & 1) === 0) return ipvlanHandleModeL3(skb, port);
  // Looped-back frames (the master's own broadcasts/multicasts) are the master's only. In 6.1
  // ipvlan does not test PACKET_LOOPBACK, but dev_loopback_xmit clones the packet before
  // neighbour output, with the "MAC header" reset onto the IP header: IPv6 (0x6.) reads as
  // unicast and goes to the L3 lookup (no slave owns ff02::1: PASS); IPv4 (0x45) reads as
  // multicast, and its clone reaches a slave only if the IP header bytes hash into that slave's
  // mac_filters (a few of 256 bits, keyed by a per-boot secret). bcast-mcast.out: root's
  // broadcast ping is answered by 10.0.0.1 and itself, never by a slave.
  if (skb.pktType === PacketType.LOOPBACK) return RxHandlerResult.PASS;
  if (ipvlanExternalFrame(skb, port)) {
    if (port.backlog.length >= IPVLAN_QBACKLOG_LIMIT) {
      skb.dev.stats.rxDropped++;
      skb.dev.countDrop(IpvlDrop.MULTICAST_BACKLOG);
    } else {
      const nskb = cloneSkb(skb);
      ipvlanSkbCrossingNs(nskb, null);
      ipvlanMulticastEnqueue(port, nskb, false);
    }
  }
  return RxHandlerResult.PASS;
}

/** Mirrors ipvlan_core.c:ipvlan_handle_frame: the master's rx_handler. */
export function ipvlanHandleFrame(skb: SkBuff): RxHandlerResultValue {
  const port = skb.dev.rxHandlerData as IpvlPort | null;
  if (port === null || skb.data.length < ETH_HLEN) return RxHandlerResult.PASS;
  switch (port.mode) {
    case IPVLAN_MODE_L2:
      // Unicast goes straight to the L3 demux (what ipvlan_handle_mode_l2 does first).
      return (skb.data[0] & 1) === 0 ? ipvlanHandleModeL3(skb, port) : ipvlanHandleModeL2(skb, port);
    case IPVLAN_MODE_L3:
      return ipvlanHandleModeL3(skb, port);
    case IPVLAN_MODE_L3S:
      return RxHandlerResult.PASS;
  }
  skb.dev.countDrop(IpvlDrop.BAD_MODE);
  return RxHandlerResult.CONSUMED;
}

// ---- transmit side --------------------------------------------------------------------------

function macEqual(d: Uint8Array): boolean {
  return d[0] === d[6] && d[1] === d[7] && d[2] === d[8] && d[3] === d[9] && d[4] === d[10] && d[5] === d[11];
}

/** Mirrors ipvlan_core.c:ipvlan_xmit_mode_l2. */
export function ipvlanXmitModeL2(skb: SkBuff, dev: IpvlDev, port: IpvlPort): NetdevTxValue {
  const d = skb.data;
  if (!ipvlanIsVepa(port) && macEqual(d)) {
    const h = ipvlanGetL3Hdr(port, skb);
    if (h >= 0) {
      const addr = ipvlanAddrLookup(port, d, h, true);
      if (addr !== null) {
        if (ipvlanIsPrivate(port)) {
          dev.countDrop(IpvlDrop.PRIVATE);
          return NetdevTx.DROP;
        }
        ipvlanRcvFrame(addr, skb, true);
        return NetdevTx.OK;
      }
    }
    // Not for a sibling but addressed to the shared MAC: the master's stack gets it.
    devForwardSkb(port.dev, skb);
    return NetdevTx.OK;
  }
  if (d[0] & 1) {
    ipvlanSkbCrossingNs(skb, null);
    ipvlanMulticastEnqueue(port, skb, true);
    return NetdevTx.OK;
  }
  skb.dev = dev.phyDev;
  const ret = devQueueXmit(skb);
  if (ret !== NetdevTx.OK && ret !== NetdevTx.CN) dev.countDrop(IpvlDrop.MASTER_XMIT_FAIL);
  return ret;
}

/** RTN_UNICAST / RTN_LOCAL (include/uapi/linux/rtnetlink.h). */
const RTN_UNICAST = 1;
const RTN_LOCAL = 2;

let warnBudget = 10;
let warnWindow = -1n;

/** pr_warn_ratelimited with the printk defaults (10 messages per 5 s of virtual time). */
function warnRatelimited(dev: NetDevice, text: string): void {
  const kernel = dev.netns.kernel;
  const window = kernel.now / 5_000_000_000n;
  if (window !== warnWindow) {
    warnWindow = window;
    warnBudget = 10;
  }
  if (warnBudget-- > 0) kernel.printk(text);
}

/**
 * Mirrors ipvlan_core.c:ipvlan_process_v4_outbound: route in the master's namespace (oif =
 * master, any source allowed, mark after the scrub), unicast/local routes only, then
 * ip_local_out without a socket. Failures count tx_errors on the master (skb.dev by then).
 */
export function ipvlanProcessV4Outbound(skb: SkBuff, slave: IpvlDev): NetdevTxValue {
  const dev = skb.dev;
  const net = dev.netns;
  const d = skb.data;
  const off = skb.network;
  if (d.length - off < 20) {
    slave.countDrop(IpvlDrop.BAD_IP_HEADER);
    return NetdevTx.DROP;
  }
  const rt = ipRouteOutput(net, {
    oif: dev.ifindex,
    tos: d[off + 1] & 0xfc,
    anySrc: true,
    mark: skb.mark,
    daddr: ((d[off + 16] << 24) | (d[off + 17] << 16) | (d[off + 18] << 8) | d[off + 19]) >>> 0,
    saddr: ((d[off + 12] << 24) | (d[off + 13] << 16) | (d[off + 14] << 8) | d[off + 15]) >>> 0,
  });
  if (typeof rt === "string" || (rt.type !== RTN_UNICAST && rt.type !== RTN_LOCAL)) {
    // ipvlan bumps the master's dev->stats.tx_errors; only some drivers report it.
    if (dev.devStatsVisible) dev.stats.txErrors++;
    slave.countDrop(IpvlDrop.ROUTE_FAIL);
    return NetdevTx.DROP;
  }
  const err = ipLocalOut(net, skb, rt);
  // net_xmit_eval: congestion counts as success.
  if (err !== 0 && err !== NetdevTx.CN) {
    // ipvlan bumps the master's dev->stats.tx_errors; only some drivers report it.
    if (dev.devStatsVisible) dev.stats.txErrors++;
    slave.countDrop(IpvlDrop.OUTPUT_FAIL);
    return NetdevTx.DROP;
  }
  return NetdevTx.OK;
}

/**
 * Mirrors ipvlan_core.c:ipvlan_process_v6_outbound: ip6_route_output in the master's namespace
 * (oif = master, flow label, mark, next header, any source); any error drops (there is no
 * on-link fallback in IPv6), else ip6_local_out without a socket.
 */
export function ipvlanProcessV6Outbound(skb: SkBuff, slave: IpvlDev): NetdevTxValue {
  const dev = skb.dev;
  const net = dev.netns;
  const d = skb.data;
  const off = skb.network;
  if (d.length - off < 40) {
    slave.countDrop(IpvlDrop.BAD_IP_HEADER);
    return NetdevTx.DROP;
  }
  const dst = ip6RouteOutput(net, {
    oif: dev.ifindex,
    daddr: readIpv6(d, off + 24),
    saddr: readIpv6(d, off + 8),
    anySrc: true,
    flowlabel: ((d[off + 1] & 0x0f) << 16) | (d[off + 2] << 8) | d[off + 3],
    mark: skb.mark,
    proto: d[off + 6],
  });
  if (dst.error !== null) {
    // ipvlan bumps the master's dev->stats.tx_errors; only some drivers report it.
    if (dev.devStatsVisible) dev.stats.txErrors++;
    slave.countDrop(IpvlDrop.ROUTE_FAIL);
    return NetdevTx.DROP;
  }
  const err = ip6LocalOut(net, skb, dst);
  if (err !== 0 && err !== NetdevTx.CN) {
    // ipvlan bumps the master's dev->stats.tx_errors; only some drivers report it.
    if (dev.devStatsVisible) dev.stats.txErrors++;
    slave.countDrop(IpvlDrop.OUTPUT_FAIL);
    return NetdevTx.DROP;
  }
  return NetdevTx.OK;
}

/**
 * Mirrors ipvlan_core.c:ipvlan_process_outbound: multicast/broadcast destinations are dropped,
 * the Ethernet header is discarded (the IP stack starts from skb.network), then per family.
 */
export function ipvlanProcessOutbound(skb: SkBuff, slave: IpvlDev): NetdevTxValue {
  if (skb.data[0] & 1) {
    slave.countDrop(IpvlDrop.L3_MULTICAST);
    return NetdevTx.DROP;
  }
  if (skb.protocol === ETH_P_IPV6) return ipvlanProcessV6Outbound(skb, slave);
  if (skb.protocol === ETH_P_IP) return ipvlanProcessV4Outbound(skb, slave);
  warnRatelimited(slave, `Dropped outbound packet type=${skb.protocol.toString(16)}`);
  slave.countDrop(IpvlDrop.NON_IP);
  return NetdevTx.DROP;
}

/** Mirrors ipvlan_core.c:ipvlan_xmit_mode_l3 (L3S transmits the same way). */
export function ipvlanXmitModeL3(skb: SkBuff, dev: IpvlDev, port: IpvlPort): NetdevTxValue {
  const h = ipvlanGetL3Hdr(port, skb);
  if (h >= 0 && !ipvlanIsVepa(port)) {
    const addr = ipvlanAddrLookup(port, skb.data, h, true);
    if (addr !== null) {
      if (ipvlanIsPrivate(port)) {
        dev.countDrop(IpvlDrop.PRIVATE);
        return NetdevTx.DROP;
      }
      ipvlanRcvFrame(addr, skb, true);
      return NetdevTx.OK;
    }
  }
  ipvlanSkbCrossingNs(skb, dev.phyDev);
  return ipvlanProcessOutbound(skb, dev);
}

/** Mirrors ipvlan_core.c:ipvlan_queue_xmit. */
export function ipvlanQueueXmit(skb: SkBuff, dev: IpvlDev): NetdevTxValue {
  const port = dev.port;
  if (port === null || dev.phyDev.rxHandlerData !== port) {
    dev.countDrop(IpvlDrop.NO_PORT);
    return NetdevTx.DROP;
  }
  const d = skb.data;
  if (d.length < ETH_HLEN) {
    dev.countDrop(IpvlDrop.SHORT_FRAME);
    return NetdevTx.DROP;
  }
  // Frames from packet sockets may come without skb->protocol: take the EtherType.
  if (skb.protocol === 0) skb.protocol = (d[12] << 8) | d[13];
  switch (port.mode) {
    case IPVLAN_MODE_L2:
      return ipvlanXmitModeL2(skb, dev, port);
    case IPVLAN_MODE_L3:
    case IPVLAN_MODE_L3S:
      return ipvlanXmitModeL3(skb, dev, port);
  }
  dev.countDrop(IpvlDrop.BAD_MODE);
  return NetdevTx.DROP;
}

/** Mirrors ipvlan_main.c:ipvlan_start_xmit: success/congestion count as sent, anything else as tx_dropped. */
export function ipvlanStartXmit(skb: SkBuff, dev: IpvlDev): NetdevTxValue {
  const len = skb.data.length;
  const ret = ipvlanQueueXmit(skb, dev);
  const st = dev.stats;
  if (ret === NetdevTx.OK || ret === NetdevTx.CN) {
    st.txPackets++;
    st.txBytes += len;
  } else {
    dev.txDrps++;
    st.txDropped++;
  }
  return ret;
}
