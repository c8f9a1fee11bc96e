/**
 * In-place access to the IPv4, ICMP and UDP headers of a packet (what the kernel does with
 * ip_hdr()/icmp_hdr()/udp_hdr()), and builders for the packets the stack originates.
 * Offsets are into a byte array holding the IP packet at `off`.
 */
import {
  checksumFold,
  checksumSum,
  internetChecksum,
  ipv4PseudoHeaderSum,
  readIpv4,
  readU16,
  writeIpv4,
  writeU16,
} from "../../wire/index.ts";

/** IP protocol numbers the stack handles. */
export const IPPROTO = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17 } as const;

/** IP_DF / IP_MF / IP_OFFSET bits of frag_off. */
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFSET = 0x1fff;

/** ICMP types and codes used by the stack. */
export const ICMP = {
  ECHOREPLY: 0,
  DEST_UNREACH: 3,
  REDIRECT: 5,
  ECHO: 8,
  TIME_EXCEEDED: 11,
  PARAMETERPROB: 12,
  TIMESTAMP: 13,
  TIMESTAMPREPLY: 14,
} as const;

/** Destination-unreachable codes. */
export const ICMP_UNREACH = {
  NET: 0,
  HOST: 1,
  PROT: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  SR_FAILED: 5,
  NET_UNKNOWN: 6,
  HOST_UNKNOWN: 7,
  HOST_ISOLATED: 8,
  NET_ANO: 9,
  HOST_ANO: 10,
  NET_UNR_TOS: 11,
  HOST_UNR_TOS: 12,
  PKT_FILTERED: 13,
  PREC_VIOLATION: 14,
  PREC_CUTOFF: 15,
} as const;

/** A parsed view of an IPv4 header at `off` in `buf`. */
export interface IpHdr {
  readonly ihl: number;
  readonly tos: number;
  readonly totLen: number;
  readonly id: number;
  readonly fragOff: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly saddr: number;
  readonly daddr: number;
}

/** Reads the IPv4 header fields (no validation). */
export function ipHdr(buf: Uint8Array, off: number): IpHdr {
  return {
    ihl: (buf[off] & 0x0f) * 4,
    tos: buf[off + 1],
    totLen: readU16(buf, off + 2),
    id: readU16(buf, off + 4),
    fragOff: readU16(buf, off + 6),
    ttl: buf[off + 8],
    protocol: buf[off + 9],
    saddr: readIpv4(buf, off + 12),
    daddr: readIpv4(buf, off + 16),
  };
}

/** ip_send_check: recomputes the header checksum. */
export function ipSendCheck(buf: Uint8Array, off: number): void {
  const ihl = (buf[off] & 0x0f) * 4;
  writeU16(buf, off + 10, 0);
  writeU16(buf, off + 10, internetChecksum(buf, off, off + ihl));
}

/** ip_fast_csum == 0: the header checksum verifies. */
export function ipHdrChecksumOk(buf: Uint8Array, off: number, ihl: number): boolean {
  return checksumFold(checksumSum(buf, off, off + ihl)) === 0xffff;
}

/** ip_decrease_ttl: TTL minus one with an incremental checksum update. */
export function ipDecreaseTtl(buf: Uint8Array, off: number): void {
  buf[off + 8]--;
  ipSendCheck(buf, off);
}

/** Options for {@link buildIpv4}. */
export interface BuildIpv4 {
  readonly saddr: number;
  readonly daddr: number;
  readonly protocol: number;
  readonly ttl: number;
  readonly tos?: number;
  readonly id: number;
  readonly df?: boolean;
  readonly payload: Uint8Array;
}

/** Builds an IPv4 packet without options (ip_build_and_send_pkt / __ip_make_skb header). */
export function buildIpv4(o: BuildIpv4): Uint8Array {
  const out = new Uint8Array(20 + o.payload.length);
  out[0] = 0x45;
  out[1] = o.tos ?? 0;
  writeU16(out, 2, out.length);
  writeU16(out, 4, o.id & 0xffff);
  writeU16(out, 6, o.df ? IP_DF : 0);
  out[8] = o.ttl;
  out[9] = o.protocol;
  writeIpv4(out, 12, o.saddr);
  writeIpv4(out, 16, o.daddr);
  out.set(o.payload, 20);
  ipSendCheck(out, 0);
  return out;
}

/** Builds an ICMP message: type, code, the 4 "rest of header" bytes and data, checksummed. */
export function buildIcmp(type: number, code: number, rest: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out[0] = type;
  out[1] = code;
  writeIpv4(out, 4, rest >>> 0);
  out.set(data, 8);
  writeU16(out, 2, internetChecksum(out));
  return out;
}

/** Whether an ICMP message's checksum verifies. */
export function icmpChecksumOk(buf: Uint8Array, start: number, end: number): boolean {
  return checksumFold(checksumSum(buf, start, end)) === 0xffff;
}

/** Builds a UDP datagram with its checksum (0 is sent as 0xffff). */
export function buildUdp(
  saddr: number,
  daddr: number,
  sport: number,
  dport: number,
  data: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  writeU16(out, 0, sport);
  writeU16(out, 2, dport);
  writeU16(out, 4, out.length);
  out.set(data, 8);
  const c = internetChecksum(out, 0, out.length, ipv4PseudoHeaderSum(saddr, daddr, IPPROTO.UDP, out.length));
  writeU16(out, 6, c === 0 ? 0xffff : c);
  return out;
}

/** Whether a UDP datagram's checksum verifies (a zero checksum means "none"). */
export function udpChecksumOk(
  buf: Uint8Array,
  start: number,
  end: number,
  saddr: number,
  daddr: number,
): boolean {
  if (readU16(buf, start + 6) === 0) return true;
  const pseudo = ipv4PseudoHeaderSum(saddr, daddr, IPPROTO.UDP, end - start);
  return checksumFold(checksumSum(buf, start, end, pseudo)) === 0xffff;
}

/** ipv4_is_multicast. */
export function isMulticast(a: number): boolean {
  return a >>> 28 === 0xe;
}

/** ipv4_is_lbcast (255.255.255.255). */
export function isLbcast(a: number): boolean {
  return a >>> 0 === 0xffffffff;
}

/** ipv4_is_zeronet (0.0.0.0/8). */
export function isZeronet(a: number): boolean {
  return a >>> 24 === 0;
}

/** ipv4_is_loopback (127/8). */
export function isLoopback(a: number): boolean {
  return a >>> 24 === 127;
}

/** ipv4_is_local_multicast (224.0.0.0/24). */
export function isLocalMulticast(a: number): boolean {
  return a >>> 8 === 0xe00000;
}

/** inet_make_mask. */
export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Text form of an address, for log lines. */
export function ntoa(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}
