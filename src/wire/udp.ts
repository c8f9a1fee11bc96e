/**
 * UDP datagrams (RFC 768). The checksum covers an IP pseudo-header, so parse and emit take the
 * addresses of the enclosing IP header (an `Ipv4Repr` or `Ipv6Repr` will do).
 * @module
 */

import { copyInto, readU16, writeU16 } from "./bytes.ts";
import {
  type ChecksumCaps,
  CHECKSUM_CAPS_DEFAULT,
  checksumRx,
  checksumTx,
  checksumValid,
  type IpAddrPair,
  internetChecksum,
  pseudoHeaderSum,
} from "./checksum.ts";
import { badChecksum, malformed, truncated } from "./error.ts";
import { IpProto } from "./ip-proto.ts";

/** Length of the UDP header. */
export const UDP_HEADER_LEN = 8;

const field = {
  SRC_PORT: 0,
  DST_PORT: 2,
  LENGTH: 4,
  CHECKSUM: 6,
  PAYLOAD: 8,
} as const;

/** A UDP datagram; `payload` is a view into the parsed buffer, not a copy. */
export type UdpRepr = {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
};

/** A zero-copy view over a UDP datagram. */
export class UdpPacket {
  /** The datagram; may extend past the length field. */
  readonly buffer: Uint8Array;

  /** Wraps `buffer` without checks, for emission. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** Wraps untrusted bytes after checking the header and the length field against the buffer. */
  static check(buffer: Uint8Array): UdpPacket {
    checkLen(buffer);
    return new UdpPacket(buffer);
  }

  /** Source port. */
  get srcPort(): number {
    return readU16(this.buffer, field.SRC_PORT);
  }
  set srcPort(v: number) {
    writeU16(this.buffer, field.SRC_PORT, v);
  }

  /** Destination port. */
  get dstPort(): number {
    return readU16(this.buffer, field.DST_PORT);
  }
  set dstPort(v: number) {
    writeU16(this.buffer, field.DST_PORT, v);
  }

  /** Length field: header plus payload. */
  get length(): number {
    return readU16(this.buffer, field.LENGTH);
  }
  set length(v: number) {
    writeU16(this.buffer, field.LENGTH, v);
  }

  /** Checksum field (0 means "not computed", IPv4 only). */
  get checksum(): number {
    return readU16(this.buffer, field.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buffer, field.CHECKSUM, v);
  }

  /** The payload up to the length field, without copying. */
  get payload(): Uint8Array {
    return this.buffer.subarray(field.PAYLOAD, this.length);
  }

  /**
   * True when the checksum verifies. A zero checksum means "none" over IPv4 (RFC 768) and is
   * invalid over IPv6 (RFC 8200 § 8.1).
   */
  verifyChecksum(ip: IpAddrPair): boolean {
    if (this.checksum === 0) return typeof ip.src !== "bigint";
    const len = this.length;
    return checksumValid(this.buffer, 0, len, pseudoHeaderSum(ip, IpProto.Udp, len));
  }

  /** Computes and stores the checksum; a result of 0 is sent as 0xffff (RFC 768). */
  fillChecksum(ip: IpAddrPair): void {
    const len = this.length;
    this.checksum = 0;
    this.checksum = internetChecksum(this.buffer, 0, len, pseudoHeaderSum(ip, IpProto.Udp, len)) || 0xffff;
  }
}

function checkLen(buf: Uint8Array): void {
  if (buf.length < UDP_HEADER_LEN) throw truncated("UDP datagram", buf.length, UDP_HEADER_LEN);
  const len = readU16(buf, field.LENGTH);
  if (len < UDP_HEADER_LEN) throw malformed("UDP datagram", `length field ${len} is below 8`);
  if (buf.length < len) throw truncated("UDP datagram", buf.length, len);
}

/** Parses a UDP datagram (bytes or a view) carried by `ip`, verifying the checksum per `caps.udp`. */
export function parseUdp(
  input: UdpPacket | Uint8Array,
  ip: IpAddrPair,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): UdpRepr {
  const pkt = input instanceof UdpPacket ? input : new UdpPacket(input);
  checkLen(pkt.buffer);
  if (checksumRx(caps.udp) && !pkt.verifyChecksum(ip)) throw badChecksum("UDP datagram");
  return { srcPort: pkt.srcPort, dstPort: pkt.dstPort, payload: pkt.payload };
}

/** Bytes `emitUdp` writes: header plus payload. */
export function udpReprLen(repr: UdpRepr): number {
  return UDP_HEADER_LEN + repr.payload.length;
}

/**
 * Writes the datagram of `repr` (header and payload) at the start of `buf`, filling the
 * checksum per `caps.udp` (else 0). A payload already in place is not copied.
 */
export function emitUdp(
  repr: UdpRepr,
  buf: Uint8Array,
  ip: IpAddrPair,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): void {
  const len = UDP_HEADER_LEN + repr.payload.length;
  if (len > 0xffff) throw new RangeError(`Cannot emit UDP datagram: length ${len} exceeds 65535`);
  // Copy first: a payload that overlaps the header area of `buf` must be read before it is overwritten.
  copyInto(buf, field.PAYLOAD, repr.payload);
  writeU16(buf, field.SRC_PORT, repr.srcPort);
  writeU16(buf, field.DST_PORT, repr.dstPort);
  writeU16(buf, field.LENGTH, len);
  writeU16(buf, field.CHECKSUM, 0);
  if (checksumTx(caps.udp)) {
    const sum = internetChecksum(buf, 0, len, pseudoHeaderSum(ip, IpProto.Udp, len));
    writeU16(buf, field.CHECKSUM, sum === 0 ? 0xffff : sum);
  }
}
