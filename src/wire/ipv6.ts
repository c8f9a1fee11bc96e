/**
 * IPv6 packets (RFC 8200): the fixed header plus the extension-header chain, exposing the
 * upper-layer protocol and where its data starts. Reserved fields of the fragment header are
 * ignored on parse and emitted as 0.
 * @module
 */

import { type Ipv6Addr, readIpv6, writeIpv6 } from "./addr.ts";
import { readU16, writeU16 } from "./bytes.ts";
import { malformed, truncated } from "./error.ts";
import {
  emitIpv6ExtHeader,
  type Ipv6ExtHeader,
  type Ipv6UpperLayer,
  ipv6ExtHeaderLen,
  ipv6ExtHeaderProto,
  parseIpv6ExtHeaders,
  walkIpv6ExtHeaders,
} from "./ipv6-ext.ts";

/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LEN = 40;

const field = {
  VER_TC_FLOW: 0,
  PAYLOAD_LEN: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
} as const;

/**
 * An IPv6 packet header and its extension headers. `nextHeader` is the upper-layer protocol
 * (after the chain) and `payloadLen` the upper-layer length; the header's payload length field
 * is their sum with the extension headers.
 */
export type Ipv6Repr = {
  readonly src: Ipv6Addr;
  readonly dst: Ipv6Addr;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly dscp: number;
  readonly ecn: number;
  readonly flowLabel: number;
  readonly extHeaders: readonly Ipv6ExtHeader[];
  readonly payloadLen: number;
};

/** A zero-copy view over an IPv6 packet. */
export class Ipv6Packet {
  /** The packet; may extend past the payload length (link-layer padding). */
  readonly buffer: Uint8Array;
  #upper: Ipv6UpperLayer | undefined;

  /** Wraps `buffer` without checks, for emission. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** Wraps untrusted bytes after checking the fixed header, payload length and extension chain. */
  static check(buffer: Uint8Array): Ipv6Packet {
    const pkt = new Ipv6Packet(buffer);
    pkt.#upper = checkLen(buffer);
    return pkt;
  }

  /** Version field (6). */
  get version(): number {
    return this.buffer[field.VER_TC_FLOW] >>> 4;
  }

  /** Traffic class (DSCP << 2 | ECN). */
  get trafficClass(): number {
    return (readU16(this.buffer, field.VER_TC_FLOW) >>> 4) & 0xff;
  }
  set trafficClass(v: number) {
    const w = readU16(this.buffer, field.VER_TC_FLOW);
    writeU16(this.buffer, field.VER_TC_FLOW, (w & 0xf00f) | ((v & 0xff) << 4));
  }

  /** Flow label (20 bits). */
  get flowLabel(): number {
    return ((this.buffer[1] & 0xf) << 16) | readU16(this.buffer, 2);
  }
  set flowLabel(v: number) {
    this.buffer[1] = (this.buffer[1] & 0xf0) | ((v >>> 16) & 0xf);
    writeU16(this.buffer, 2, v);
  }

  /** Payload length field: extension headers plus upper-layer data. */
  get payloadLen(): number {
    return readU16(this.buffer, field.PAYLOAD_LEN);
  }
  set payloadLen(v: number) {
    writeU16(this.buffer, field.PAYLOAD_LEN, v);
  }

  /** Next header field of the fixed header. */
  get nextHeader(): number {
    return this.buffer[field.NEXT_HEADER];
  }
  set nextHeader(v: number) {
    this.buffer[field.NEXT_HEADER] = v;
  }

  /** Hop limit. */
  get hopLimit(): number {
    return this.buffer[field.HOP_LIMIT];
  }
  set hopLimit(v: number) {
    this.buffer[field.HOP_LIMIT] = v;
  }

  /** Source address. */
  get src(): Ipv6Addr {
    return readIpv6(this.buffer, field.SRC);
  }
  set src(v: Ipv6Addr) {
    writeIpv6(this.buffer, field.SRC, v);
  }

  /** Destination address. */
  get dst(): Ipv6Addr {
    return readIpv6(this.buffer, field.DST);
  }
  set dst(v: Ipv6Addr) {
    writeIpv6(this.buffer, field.DST, v);
  }

  /** Everything after the fixed header up to the payload length, without copying. */
  get payload(): Uint8Array {
    return this.buffer.subarray(IPV6_HEADER_LEN, IPV6_HEADER_LEN + this.payloadLen);
  }

  /** The upper-layer protocol and its offset; walks the chain on first use (may throw `WireError`). */
  get upperLayer(): Ipv6UpperLayer {
    if (this.#upper === undefined) {
      const end = Math.min(this.buffer.length, IPV6_HEADER_LEN + this.payloadLen);
      this.#upper = walkIpv6ExtHeaders(this.buffer, this.nextHeader, IPV6_HEADER_LEN, end);
    }
    return this.#upper;
  }

  /** The upper-layer data after the extension headers, without copying. */
  get upperLayerPayload(): Uint8Array {
    return this.buffer.subarray(this.upperLayer.offset, IPV6_HEADER_LEN + this.payloadLen);
  }
}

function checkLen(buf: Uint8Array): Ipv6UpperLayer {
  if (buf.length < IPV6_HEADER_LEN) throw truncated("IPv6 packet", buf.length, IPV6_HEADER_LEN);
  const version = buf[field.VER_TC_FLOW] >>> 4;
  if (version !== 6) throw malformed("IPv6 packet", `version is ${version}, expected 6`);
  const end = IPV6_HEADER_LEN + readU16(buf, field.PAYLOAD_LEN);
  if (buf.length < end) throw truncated("IPv6 packet", buf.length, end);
  return walkIpv6ExtHeaders(buf, buf[field.NEXT_HEADER], IPV6_HEADER_LEN, end);
}

/** Parses an IPv6 packet header and its extension headers (bytes or a view). */
export function parseIpv6Packet(input: Ipv6Packet | Uint8Array): Ipv6Repr {
  const pkt = input instanceof Ipv6Packet ? Ipv6Packet.check(input.buffer) : Ipv6Packet.check(input);
  const buf = pkt.buffer;
  const upper = pkt.upperLayer;
  const tc = (readU16(buf, field.VER_TC_FLOW) >>> 4) & 0xff;
  return {
    src: readIpv6(buf, field.SRC),
    dst: readIpv6(buf, field.DST),
    nextHeader: upper.protocol,
    hopLimit: buf[field.HOP_LIMIT],
    dscp: tc >>> 2,
    ecn: tc & 3,
    flowLabel: pkt.flowLabel,
    extHeaders:
      upper.extCount === 0
        ? []
        : parseIpv6ExtHeaders(buf, buf[field.NEXT_HEADER], IPV6_HEADER_LEN, upper.extCount),
    payloadLen: IPV6_HEADER_LEN + readU16(buf, field.PAYLOAD_LEN) - upper.offset,
  };
}

/** Bytes `emitIpv6` writes: the fixed header plus the extension headers. */
export function ipv6ReprLen(repr: Ipv6Repr): number {
  let len = IPV6_HEADER_LEN;
  for (const h of repr.extHeaders) len += ipv6ExtHeaderLen(h);
  return len;
}

/** Writes the IPv6 header and extension headers of `repr` at the start of `buf`. */
export function emitIpv6Packet(repr: Ipv6Repr, buf: Uint8Array): void {
  const headerLen = ipv6ReprLen(repr);
  const payloadLen = headerLen - IPV6_HEADER_LEN + repr.payloadLen;
  if (payloadLen > 0xffff)
    throw new RangeError(`Cannot emit IPv6 header: payload length ${payloadLen} exceeds 65535`);
  const tc = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 3);
  const flow = repr.flowLabel;
  buf[0] = 0x60 | (tc >>> 4);
  buf[1] = ((tc & 0xf) << 4) | ((flow >>> 16) & 0xf);
  writeU16(buf, 2, flow);
  writeU16(buf, field.PAYLOAD_LEN, payloadLen);
  const ext = repr.extHeaders;
  buf[field.NEXT_HEADER] = ext.length === 0 ? repr.nextHeader : ipv6ExtHeaderProto(ext[0]);
  buf[field.HOP_LIMIT] = repr.hopLimit;
  writeIpv6(buf, field.SRC, repr.src);
  writeIpv6(buf, field.DST, repr.dst);
  let off = IPV6_HEADER_LEN;
  for (let i = 0; i < ext.length; i++) {
    const next = i + 1 < ext.length ? ipv6ExtHeaderProto(ext[i + 1]) : repr.nextHeader;
    off += emitIpv6ExtHeader(ext[i], next, buf, off);
  }
}

/**
 * The destination an upper-layer checksum covers (RFC 8200 § 8.1): the final destination named
 * by a routing header that still has segments left (types 0 and 2: its last address; type 4,
 * segment routing: segment 0, RFC 8754 § 2), otherwise the header's destination.
 */
export function ipv6ChecksumDst(repr: Ipv6Repr): Ipv6Addr {
  for (const h of repr.extHeaders) {
    if (h.kind !== "routing" || h.segmentsLeft === 0 || h.data.length < 20) continue;
    if (h.routingType === 4) return readIpv6(h.data, 4);
    if (h.routingType === 0 || h.routingType === 2) return readIpv6(h.data, h.data.length - 16);
  }
  return repr.dst;
}

/** True when the chain holds a fragment header (the payload is then a fragment, or an atomic one). */
export function ipv6FragmentHeader(repr: Ipv6Repr): Extract<Ipv6ExtHeader, { kind: "fragment" }> | undefined {
  for (const h of repr.extHeaders) if (h.kind === "fragment") return h;
  return undefined;
}
