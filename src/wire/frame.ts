/**
 * Whole Ethernet frames decoded through every layer we know: Ethernet, then ARP, IPv4 or IPv6,
 * then UDP, TCP, ICMP or ICMPv6. What is not decoded (unknown ethertype or protocol, IP
 * fragments) is kept as raw `payload`, and bytes past the end of the IP packet as `padding`, so
 * `emitFrame(parseFrame(x))` reproduces any frame a kernel sends with correct checksums. The
 * exceptions are bits the RFCs reserve (IPv4's reserved flag, the fragment header's reserved
 * fields), written as 0, and checksums, always recomputed (a UDP/IPv4 datagram sent without one
 * gets one). For every frame that parses, `parseFrame(emitFrame(parseFrame(x)))` equals
 * `parseFrame(x)`; the tests and `scripts/fuzz-wire.ts` check it on mutated frames.
 * @module
 */

import { type ArpRepr, arpReprLen, emitArp, parseArp } from "./arp.ts";
import { copyInto } from "./bytes.ts";
import { type ChecksumCaps, CHECKSUM_CAPS_DEFAULT, type IpAddrPair } from "./checksum.ts";
import {
  EthernetFrame,
  type EthernetRepr,
  EtherType,
  emitEthernet,
  ethernetReprLen,
  parseEthernet,
} from "./ethernet.ts";
import { emitIcmpv4, type Icmpv4Repr, icmpv4ReprLen, parseIcmpv4 } from "./icmpv4.ts";
import { emitIcmpv6, type Icmpv6Repr, type Ipv6AddrPair, icmpv6ReprLen, parseIcmpv6 } from "./icmpv6.ts";
import { IpProto } from "./ip-proto.ts";
import { emitIpv4Packet, Ipv4Packet, type Ipv4Repr, ipv4ReprLen, parseIpv4Packet } from "./ipv4.ts";
import {
  emitIpv6Packet,
  Ipv6Packet,
  type Ipv6Repr,
  ipv6ChecksumDst,
  ipv6FragmentHeader,
  ipv6ReprLen,
  parseIpv6Packet,
} from "./ipv6.ts";
import { emitTcp, parseTcp, type TcpRepr, tcpReprLen } from "./tcp.ts";
import { emitUdp, parseUdp, type UdpRepr, udpReprLen } from "./udp.ts";

/**
 * A decoded frame. At most one of `arp`/`ipv4`/`ipv6` and at most one transport is set, as
 * `eth.etherType` and the IP protocol say; `emitFrame` derives the IP payload length from them.
 */
export type FrameRepr = {
  readonly eth: EthernetRepr;
  readonly arp?: ArpRepr;
  readonly ipv4?: Ipv4Repr;
  readonly ipv6?: Ipv6Repr;
  readonly udp?: UdpRepr;
  readonly tcp?: TcpRepr;
  readonly icmpv4?: Icmpv4Repr;
  readonly icmpv6?: Icmpv6Repr;
  /** Undecoded bytes of the innermost layer: unknown ethertype or protocol, or an IP fragment. */
  readonly payload?: Uint8Array;
  /** IP payload bytes after a UDP datagram shorter than the IP payload. */
  readonly trailer?: Uint8Array;
  /** Bytes after the end of the network-layer packet (Ethernet minimum-size padding). */
  readonly padding?: Uint8Array;
};

type Transport = Pick<FrameRepr, "udp" | "tcp" | "icmpv4" | "icmpv6" | "payload" | "trailer">;

/** The addresses a transport checksum covers. */
function checksumPair(ip: Ipv4Repr | Ipv6Repr): IpAddrPair {
  if (!("extHeaders" in ip)) return ip;
  const dst = ipv6ChecksumDst(ip);
  return dst === ip.dst ? ip : { src: ip.src, dst };
}

function parseTransport(protocol: number, data: Uint8Array, ip: IpAddrPair, caps: ChecksumCaps): Transport {
  const isV6 = typeof ip.src === "bigint";
  switch (protocol) {
    case IpProto.Udp: {
      const udp = parseUdp(data, ip, caps);
      const used = 8 + udp.payload.length;
      return used === data.length ? { udp } : { udp, trailer: data.subarray(used) };
    }
    case IpProto.Tcp:
      return { tcp: parseTcp(data, ip, caps) };
    case IpProto.Icmp:
      if (!isV6) return { icmpv4: parseIcmpv4(data, caps) };
      break;
    case IpProto.Icmpv6:
      if (isV6) return { icmpv6: parseIcmpv6(data, ip as Ipv6AddrPair, caps) };
      break;
  }
  return { payload: data };
}

/** Parses every layer of an Ethernet frame; throws `WireError` on the first layer that fails. */
export function parseFrame(bytes: Uint8Array, caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT): FrameRepr {
  const frame = EthernetFrame.check(bytes);
  const eth = parseEthernet(frame);
  const net = frame.payload;
  switch (eth.etherType) {
    case EtherType.Arp: {
      const arp = parseArp(net);
      return net.length > 28 ? { eth, arp, padding: net.subarray(28) } : { eth, arp };
    }
    case EtherType.Ipv4: {
      const pkt = Ipv4Packet.check(net);
      const ipv4 = parseIpv4Packet(pkt, caps);
      const data = pkt.payload;
      const transport: Transport = pkt.isFragment
        ? { payload: data }
        : parseTransport(ipv4.protocol, data, ipv4, caps);
      const end = pkt.totalLen;
      return end < net.length
        ? { eth, ipv4, ...transport, padding: net.subarray(end) }
        : { eth, ipv4, ...transport };
    }
    case EtherType.Ipv6: {
      const pkt = Ipv6Packet.check(net);
      const ipv6 = parseIpv6Packet(pkt);
      const data = pkt.upperLayerPayload;
      const frag = ipv6FragmentHeader(ipv6);
      const transport: Transport =
        frag !== undefined && (frag.offset !== 0 || frag.moreFrags)
          ? { payload: data }
          : parseTransport(ipv6.nextHeader, data, checksumPair(ipv6), caps);
      const end = 40 + pkt.payloadLen;
      return end < net.length
        ? { eth, ipv6, ...transport, padding: net.subarray(end) }
        : { eth, ipv6, ...transport };
    }
  }
  return { eth, payload: net };
}

function transportLen(repr: FrameRepr): number {
  let len = 0;
  if (repr.udp !== undefined) len = udpReprLen(repr.udp);
  else if (repr.tcp !== undefined) len = tcpReprLen(repr.tcp);
  else if (repr.icmpv4 !== undefined) len = icmpv4ReprLen(repr.icmpv4);
  else if (repr.icmpv6 !== undefined) len = icmpv6ReprLen(repr.icmpv6);
  else if (repr.payload !== undefined) len = repr.payload.length;
  return len + (repr.trailer?.length ?? 0);
}

function networkLen(repr: FrameRepr): number {
  if (repr.arp !== undefined) return arpReprLen(repr.arp);
  if (repr.ipv4 !== undefined) return ipv4ReprLen(repr.ipv4) + transportLen(repr);
  if (repr.ipv6 !== undefined) return ipv6ReprLen(repr.ipv6) + transportLen(repr);
  return repr.payload?.length ?? 0;
}

/** Bytes `emitFrame` writes. */
export function frameReprLen(repr: FrameRepr): number {
  return ethernetReprLen(repr.eth) + networkLen(repr) + (repr.padding?.length ?? 0);
}

function emitTransport(repr: FrameRepr, buf: Uint8Array, ip: IpAddrPair, caps: ChecksumCaps): number {
  if (repr.udp !== undefined) emitUdp(repr.udp, buf, ip, caps);
  else if (repr.tcp !== undefined) emitTcp(repr.tcp, buf, ip, caps);
  else if (repr.icmpv4 !== undefined) emitIcmpv4(repr.icmpv4, buf, caps);
  else if (repr.icmpv6 !== undefined) emitIcmpv6(repr.icmpv6, buf, ip as Ipv6AddrPair, caps);
  else if (repr.payload !== undefined) copyInto(buf, 0, repr.payload);
  const len = transportLen(repr) - (repr.trailer?.length ?? 0);
  if (repr.trailer !== undefined) copyInto(buf, len, repr.trailer);
  return len + (repr.trailer?.length ?? 0);
}

/** Throws `TypeError` when the decoded transport disagrees with the IP protocol that announces it. */
function checkTransport(repr: FrameRepr, protocol: number, isV6: boolean): void {
  const expected =
    repr.udp !== undefined
      ? IpProto.Udp
      : repr.tcp !== undefined
        ? IpProto.Tcp
        : repr.icmpv4 !== undefined && !isV6
          ? IpProto.Icmp
          : repr.icmpv6 !== undefined && isV6
            ? IpProto.Icmpv6
            : repr.icmpv4 === undefined && repr.icmpv6 === undefined
              ? protocol
              : -1;
  if (expected !== protocol) {
    throw new TypeError(`Cannot emit frame: the transport does not match IP protocol ${protocol}`);
  }
}

/** Writes every layer of `repr` into `buf` (at least `frameReprLen(repr)` bytes); returns the length. */
export function emitFrameInto(
  repr: FrameRepr,
  buf: Uint8Array,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): number {
  const total = frameReprLen(repr);
  if (buf.length < total)
    throw new RangeError(`Cannot emit frame: buffer is ${buf.length} bytes, need ${total}`);
  emitEthernet(repr.eth, buf);
  let off = ethernetReprLen(repr.eth);
  if (repr.arp !== undefined) {
    emitArp(repr.arp, buf.subarray(off));
    off += arpReprLen(repr.arp);
  } else if (repr.ipv4 !== undefined || repr.ipv6 !== undefined) {
    // The IP payload length follows from the layers above, so hand-built reprs need not set it.
    let ip: Ipv4Repr | Ipv6Repr;
    if (repr.ipv4 !== undefined) checkTransport(repr, repr.ipv4.protocol, false);
    else checkTransport(repr, (repr.ipv6 as Ipv6Repr).nextHeader, true);
    if (repr.ipv4 !== undefined) {
      ip = { ...repr.ipv4, payloadLen: transportLen(repr) };
      emitIpv4Packet(ip, buf.subarray(off), caps);
      off += ipv4ReprLen(ip);
    } else {
      ip = { ...(repr.ipv6 as Ipv6Repr), payloadLen: transportLen(repr) };
      emitIpv6Packet(ip, buf.subarray(off));
      off += ipv6ReprLen(ip);
    }
    off += emitTransport(repr, buf.subarray(off), checksumPair(ip), caps);
  } else if (repr.payload !== undefined) {
    copyInto(buf, off, repr.payload);
    off += repr.payload.length;
  }
  if (repr.padding !== undefined) {
    copyInto(buf, off, repr.padding);
    off += repr.padding.length;
  }
  return off;
}

/** Emits `repr` into a new buffer of exactly `frameReprLen(repr)` bytes. */
export function emitFrame(repr: FrameRepr, caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT): Uint8Array {
  const buf = new Uint8Array(frameReprLen(repr));
  emitFrameInto(repr, buf, caps);
  return buf;
}
