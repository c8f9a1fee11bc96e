/**
 * The Internet checksum (RFC 1071), pseudo-header sums for IPv4 (RFC 768/793) and IPv6
 * (RFC 8200 § 8.1), incremental update (RFC 1624), and the checksum capabilities that tell
 * each codec whether to verify on parse and fill on emit.
 *
 * Sums are kept unfolded as plain numbers (exact up to 2^53, far beyond any packet) and folded
 * once at the end. The loops index `Uint8Array` directly: about 4x faster than `DataView`.
 * @module
 */

import type { Ipv4Addr, Ipv6Addr } from "./addr.ts";

/** Source and destination of the IP header that covers a transport checksum. */
export type IpAddrPair =
  | { readonly src: Ipv4Addr; readonly dst: Ipv4Addr }
  | { readonly src: Ipv6Addr; readonly dst: Ipv6Addr };

/** Who handles a checksum: verify on receive (`rx`), fill on transmit (`tx`), both or neither. */
export type ChecksumMode = "both" | "rx" | "tx" | "none";

/** Per-protocol checksum policy passed to every parse and emit (devices with offload relax it). */
export type ChecksumCaps = {
  readonly ipv4: ChecksumMode;
  readonly udp: ChecksumMode;
  readonly tcp: ChecksumMode;
  readonly icmpv4: ChecksumMode;
  readonly icmpv6: ChecksumMode;
};

/** Verify every checksum on parse and fill every checksum on emit. */
export const CHECKSUM_CAPS_DEFAULT: ChecksumCaps = Object.freeze({
  ipv4: "both",
  udp: "both",
  tcp: "both",
  icmpv4: "both",
  icmpv6: "both",
});

/** Neither verify nor fill (emitters then write zero checksums). */
export const CHECKSUM_CAPS_NONE: ChecksumCaps = Object.freeze({
  ipv4: "none",
  udp: "none",
  tcp: "none",
  icmpv4: "none",
  icmpv6: "none",
});

/** True when the mode asks parse to verify the checksum. */
export function checksumRx(mode: ChecksumMode): boolean {
  return mode === "both" || mode === "rx";
}

/** True when the mode asks emit to compute the checksum. */
export function checksumTx(mode: ChecksumMode): boolean {
  return mode === "both" || mode === "tx";
}

/**
 * Adds the big-endian 16-bit words of `buf[start, end)` to `initial`, unfolded. An odd final
 * byte counts as the high half of a word padded with zero (RFC 1071 § 4.1).
 */
export function checksumSum(buf: Uint8Array, start = 0, end: number = buf.length, initial = 0): number {
  // High and low bytes are summed apart, eight bytes per turn: about 1.5x faster than one
  // word per turn, and the result is the same unfolded sum.
  let hi = 0;
  let lo = 0;
  let i = start;
  for (const last8 = end - 7; i < last8; i += 8) {
    hi += buf[i] + buf[i + 2] + buf[i + 4] + buf[i + 6];
    lo += buf[i + 1] + buf[i + 3] + buf[i + 5] + buf[i + 7];
  }
  for (const last = end - 1; i < last; i += 2) {
    hi += buf[i];
    lo += buf[i + 1];
  }
  if (i < end) hi += buf[i];
  return initial + hi * 256 + lo;
}

/** Folds an unfolded sum to 16 bits with end-around carry (not complemented). */
export function checksumFold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for `buf[start, end)` plus an optional pseudo-header sum. */
export function internetChecksum(buf: Uint8Array, start = 0, end: number = buf.length, initial = 0): number {
  return ~checksumFold(checksumSum(buf, start, end, initial)) & 0xffff;
}

/** True when the data (checksum field included) plus `initial` sums to all ones, i.e. it verifies. */
export function checksumValid(buf: Uint8Array, start = 0, end: number = buf.length, initial = 0): boolean {
  return checksumFold(checksumSum(buf, start, end, initial)) === 0xffff;
}

/** The unfolded sum of the IPv4 pseudo-header: addresses, protocol and transport length. */
export function ipv4PseudoHeaderSum(src: Ipv4Addr, dst: Ipv4Addr, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

function sumIpv6Words(addr: Ipv6Addr): number {
  const a = Number((addr >> 96n) & 0xffff_ffffn);
  const b = Number((addr >> 64n) & 0xffff_ffffn);
  const c = Number((addr >> 32n) & 0xffff_ffffn);
  const d = Number(addr & 0xffff_ffffn);
  return (
    (a >>> 16) +
    (a & 0xffff) +
    (b >>> 16) +
    (b & 0xffff) +
    (c >>> 16) +
    (c & 0xffff) +
    (d >>> 16) +
    (d & 0xffff)
  );
}

/** The unfolded sum of the IPv6 pseudo-header (RFC 8200 § 8.1); `length` may exceed 16 bits. */
export function ipv6PseudoHeaderSum(
  src: Ipv6Addr,
  dst: Ipv6Addr,
  nextHeader: number,
  length: number,
): number {
  return (
    sumIpv6Words(src) + sumIpv6Words(dst) + Math.floor(length / 0x10000) + (length & 0xffff) + nextHeader
  );
}

/** The pseudo-header sum for either IP version, chosen by the address type. */
export function pseudoHeaderSum(ip: IpAddrPair, protocol: number, length: number): number {
  if (typeof ip.src === "bigint") {
    return ipv6PseudoHeaderSum(ip.src, ip.dst as Ipv6Addr, protocol, length);
  }
  return ipv4PseudoHeaderSum(ip.src, ip.dst as Ipv4Addr, protocol, length);
}

/** The new checksum after a 16-bit word of the covered data changes (RFC 1624 eqn. 3). */
export function checksumUpdate16(check: number, oldWord: number, newWord: number): number {
  return ~checksumFold((~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** The new checksum after a 32-bit value (an IPv4 address) of the covered data changes. */
export function checksumUpdate32(check: number, oldValue: number, newValue: number): number {
  const sum =
    (~check & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    (newValue >>> 16) +
    (newValue & 0xffff);
  return ~checksumFold(sum) & 0xffff;
}
