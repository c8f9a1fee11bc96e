/**
 * IPv4 headers (RFC 791). Options are kept verbatim; fragmentation fields are exposed but
 * fragments are not reassembled here. The reserved flag bit is ignored on parse and emitted as 0.
 * @module
 */

import { type Ipv4Addr, readIpv4, writeIpv4 } from "./addr.ts";
import { readU16, writeU16 } from "./bytes.ts";
import {
  type ChecksumCaps,
  CHECKSUM_CAPS_DEFAULT,
  checksumRx,
  checksumTx,
  checksumValid,
  internetChecksum,
} from "./checksum.ts";
import { badChecksum, malformed, truncated } from "./error.ts";

/** Length of an IPv4 header without options. */
export const IPV4_HEADER_LEN = 20;
/** Maximum length of the options area (IHL 15). */
export const IPV4_MAX_OPTIONS_LEN = 40;

const field = {
  VER_IHL: 0,
  DSCP_ECN: 1,
  LENGTH: 2,
  IDENT: 4,
  FLG_OFF: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
} as const;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

/** An IPv4 header; `payloadLen` is the length of what follows the header (total length - header). */
export type Ipv4Repr = {
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  readonly protocol: number;
  readonly ttl: number;
  readonly dscp: number;
  readonly ecn: number;
  readonly ident: number;
  readonly dontFrag: boolean;
  readonly moreFrags: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  readonly fragOffset: number;
  /** Options, verbatim, padding included: a multiple of 4 bytes, at most 40. */
  readonly options: Uint8Array;
  readonly payloadLen: number;
};

/** A zero-copy view over an IPv4 packet. */
export class Ipv4Packet {
  /** The packet; may extend past `totalLen` (link-layer padding). */
  readonly buffer: Uint8Array;

  /** Wraps `buffer` without checks, for emission. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** Wraps untrusted bytes after checking version, header length and total length against the buffer. */
  static check(buffer: Uint8Array): Ipv4Packet {
    checkLen(buffer);
    return new Ipv4Packet(buffer);
  }

  /** Version field (4). */
  get version(): number {
    return this.buffer[field.VER_IHL] >>> 4;
  }

  /** Header length in bytes (IHL * 4). */
  get headerLen(): number {
    return (this.buffer[field.VER_IHL] & 0xf) * 4;
  }
  set headerLen(len: number) {
    this.buffer[field.VER_IHL] = 0x40 | ((len >>> 2) & 0xf);
  }

  /** Differentiated services code point. */
  get dscp(): number {
    return this.buffer[field.DSCP_ECN] >>> 2;
  }
  set dscp(v: number) {
    this.buffer[field.DSCP_ECN] = ((v & 0x3f) << 2) | (this.buffer[field.DSCP_ECN] & 3);
  }

  /** Explicit congestion notification bits. */
  get ecn(): number {
    return this.buffer[field.DSCP_ECN] & 3;
  }
  set ecn(v: number) {
    this.buffer[field.DSCP_ECN] = (this.buffer[field.DSCP_ECN] & 0xfc) | (v & 3);
  }

  /** Total length: header plus payload. */
  get totalLen(): number {
    return readU16(this.buffer, field.LENGTH);
  }
  set totalLen(v: number) {
    writeU16(this.buffer, field.LENGTH, v);
  }

  /** Identification. */
  get ident(): number {
    return readU16(this.buffer, field.IDENT);
  }
  set ident(v: number) {
    writeU16(this.buffer, field.IDENT, v);
  }

  /** Don't Fragment flag. */
  get dontFrag(): boolean {
    return (readU16(this.buffer, field.FLG_OFF) & FLAG_DF) !== 0;
  }
  set dontFrag(v: boolean) {
    const w = readU16(this.buffer, field.FLG_OFF);
    writeU16(this.buffer, field.FLG_OFF, v ? w | FLAG_DF : w & ~FLAG_DF);
  }

  /** More Fragments flag. */
  get moreFrags(): boolean {
    return (readU16(this.buffer, field.FLG_OFF) & FLAG_MF) !== 0;
  }
  set moreFrags(v: boolean) {
    const w = readU16(this.buffer, field.FLG_OFF);
    writeU16(this.buffer, field.FLG_OFF, v ? w | FLAG_MF : w & ~FLAG_MF);
  }

  /** Fragment offset in bytes. */
  get fragOffset(): number {
    return (readU16(this.buffer, field.FLG_OFF) & OFFSET_MASK) * 8;
  }
  set fragOffset(bytes: number) {
    const w = readU16(this.buffer, field.FLG_OFF);
    writeU16(this.buffer, field.FLG_OFF, (w & ~OFFSET_MASK) | ((bytes >>> 3) & OFFSET_MASK));
  }

  /** True for any fragment of a larger datagram (MF set or non-zero offset). */
  get isFragment(): boolean {
    return (readU16(this.buffer, field.FLG_OFF) & (FLAG_MF | OFFSET_MASK)) !== 0;
  }

  /** Time to live. */
  get ttl(): number {
    return this.buffer[field.TTL];
  }
  set ttl(v: number) {
    this.buffer[field.TTL] = v;
  }

  /** Protocol of the payload (`IpProto`). */
  get protocol(): number {
    return this.buffer[field.PROTOCOL];
  }
  set protocol(v: number) {
    this.buffer[field.PROTOCOL] = v;
  }

  /** Header checksum field. */
  get checksum(): number {
    return readU16(this.buffer, field.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buffer, field.CHECKSUM, v);
  }

  /** Source address. */
  get src(): Ipv4Addr {
    return readIpv4(this.buffer, field.SRC);
  }
  set src(v: Ipv4Addr) {
    writeIpv4(this.buffer, field.SRC, v);
  }

  /** Destination address. */
  get dst(): Ipv4Addr {
    return readIpv4(this.buffer, field.DST);
  }
  set dst(v: Ipv4Addr) {
    writeIpv4(this.buffer, field.DST, v);
  }

  /** The options area, without copying. */
  get options(): Uint8Array {
    return this.buffer.subarray(field.OPTIONS, this.headerLen);
  }

  /** The payload (up to total length, excluding link-layer padding), without copying. */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen, this.totalLen);
  }

  /** True when the header checksum verifies. */
  verifyChecksum(): boolean {
    return checksumValid(this.buffer, 0, this.headerLen);
  }

  /** Computes and stores the header checksum. */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = internetChecksum(this.buffer, 0, this.headerLen);
  }
}

/** Mirrors the length checks of net/ipv4/ip_input.c:ip_rcv_core. */
function checkLen(buf: Uint8Array): void {
  if (buf.length < IPV4_HEADER_LEN) throw truncated("IPv4 packet", buf.length, IPV4_HEADER_LEN);
  const version = buf[field.VER_IHL] >>> 4;
  if (version !== 4) throw malformed("IPv4 packet", `version is ${version}, expected 4`);
  const headerLen = (buf[field.VER_IHL] & 0xf) * 4;
  if (headerLen < IPV4_HEADER_LEN) throw malformed("IPv4 packet", `header length ${headerLen} is below 20`);
  if (buf.length < headerLen) throw truncated("IPv4 packet", buf.length, headerLen);
  const totalLen = readU16(buf, field.LENGTH);
  if (totalLen < headerLen) {
    throw malformed("IPv4 packet", `total length ${totalLen} is below header length ${headerLen}`);
  }
  if (buf.length < totalLen) throw truncated("IPv4 packet", buf.length, totalLen);
}

/** Parses an IPv4 header (bytes or a view), verifying its checksum unless `caps.ipv4` says otherwise. */
export function parseIpv4Packet(
  input: Ipv4Packet | Uint8Array,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): Ipv4Repr {
  const buf = input instanceof Ipv4Packet ? input.buffer : input;
  checkLen(buf);
  const headerLen = (buf[field.VER_IHL] & 0xf) * 4;
  if (checksumRx(caps.ipv4) && !checksumValid(buf, 0, headerLen)) throw badChecksum("IPv4 packet");
  const flgOff = readU16(buf, field.FLG_OFF);
  return {
    src: readIpv4(buf, field.SRC),
    dst: readIpv4(buf, field.DST),
    protocol: buf[field.PROTOCOL],
    ttl: buf[field.TTL],
    dscp: buf[field.DSCP_ECN] >>> 2,
    ecn: buf[field.DSCP_ECN] & 3,
    ident: readU16(buf, field.IDENT),
    dontFrag: (flgOff & FLAG_DF) !== 0,
    moreFrags: (flgOff & FLAG_MF) !== 0,
    fragOffset: (flgOff & OFFSET_MASK) * 8,
    options: buf.subarray(field.OPTIONS, headerLen),
    payloadLen: readU16(buf, field.LENGTH) - headerLen,
  };
}

/** Bytes `emitIpv4` writes: the header with its options. */
export function ipv4ReprLen(repr: Ipv4Repr): number {
  return IPV4_HEADER_LEN + repr.options.length;
}

/**
 * Writes the IPv4 header of `repr` at the start of `buf` (the payload goes at `ipv4ReprLen`),
 * filling the checksum unless `caps.ipv4` says otherwise (then it is 0).
 */
export function emitIpv4Packet(
  repr: Ipv4Repr,
  buf: Uint8Array,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): void {
  const optLen = repr.options.length;
  if (optLen % 4 !== 0 || optLen > IPV4_MAX_OPTIONS_LEN) {
    throw new RangeError(`Cannot emit IPv4 header: options length ${optLen} is not a multiple of 4 up to 40`);
  }
  const headerLen = IPV4_HEADER_LEN + optLen;
  const totalLen = headerLen + repr.payloadLen;
  if (totalLen > 0xffff)
    throw new RangeError(`Cannot emit IPv4 header: total length ${totalLen} exceeds 65535`);
  if (repr.fragOffset % 8 !== 0) {
    throw new RangeError(
      `Cannot emit IPv4 header: fragment offset ${repr.fragOffset} is not a multiple of 8`,
    );
  }
  buf[field.VER_IHL] = 0x40 | (headerLen >>> 2);
  buf[field.DSCP_ECN] = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 3);
  writeU16(buf, field.LENGTH, totalLen);
  writeU16(buf, field.IDENT, repr.ident);
  const flags = (repr.dontFrag ? FLAG_DF : 0) | (repr.moreFrags ? FLAG_MF : 0);
  writeU16(buf, field.FLG_OFF, flags | ((repr.fragOffset >>> 3) & OFFSET_MASK));
  buf[field.TTL] = repr.ttl;
  buf[field.PROTOCOL] = repr.protocol;
  writeU16(buf, field.CHECKSUM, 0);
  writeIpv4(buf, field.SRC, repr.src);
  writeIpv4(buf, field.DST, repr.dst);
  if (optLen > 0) buf.set(repr.options, field.OPTIONS);
  if (checksumTx(caps.ipv4)) writeU16(buf, field.CHECKSUM, internetChecksum(buf, 0, headerLen));
}
