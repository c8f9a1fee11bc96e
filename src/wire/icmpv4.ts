/**
 * ICMP for IPv4 (RFC 792): echo request/reply, destination unreachable (with the RFC 1191
 * next-hop MTU), time exceeded and redirect are decoded; everything else is kept as raw
 * type/code/data. A message that does not fit its typed shape exactly (a non-zero code for
 * echo, non-zero unused bytes) is also kept raw, so emit(parse(x)) always reproduces x.
 * @module
 */

import { type Ipv4Addr, readIpv4, writeIpv4 } from "./addr.ts";
import { allZero, copyInto, readU16, writeU16 } from "./bytes.ts";
import {
  type ChecksumCaps,
  CHECKSUM_CAPS_DEFAULT,
  checksumRx,
  checksumTx,
  checksumValid,
  internetChecksum,
} from "./checksum.ts";
import { badChecksum, truncated } from "./error.ts";

/** Length of the ICMP header (type, code, checksum, 4 bytes of rest-of-header). */
export const ICMPV4_HEADER_LEN = 8;

/** ICMP message types. */
export const Icmpv4Type = {
  EchoReply: 0,
  DestUnreachable: 3,
  Redirect: 5,
  EchoRequest: 8,
  RouterAdvert: 9,
  RouterSolicit: 10,
  TimeExceeded: 11,
  ParamProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
} as const;

/** Destination unreachable codes (RFC 792, RFC 1122 § 3.2.2.1, RFC 1812 § 5.2.7.1). */
export const Icmpv4Unreachable = {
  NetUnreachable: 0,
  HostUnreachable: 1,
  ProtoUnreachable: 2,
  PortUnreachable: 3,
  FragNeeded: 4,
  SrcRouteFailed: 5,
  DstNetUnknown: 6,
  DstHostUnknown: 7,
  SrcHostIsolated: 8,
  NetProhibited: 9,
  HostProhibited: 10,
  NetUnreachToS: 11,
  HostUnreachToS: 12,
  CommProhibited: 13,
  HostPrecedViol: 14,
  PrecedCutoff: 15,
} as const;

/** Time exceeded codes. */
export const Icmpv4TimeExceeded = { TtlExpired: 0, FragReassembly: 1 } as const;

/** Redirect codes. */
export const Icmpv4Redirect = { Net: 0, Host: 1, NetToS: 2, HostToS: 3 } as const;

const field = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  ECHO_IDENT: 4,
  ECHO_SEQ: 6,
  UNUSED: 4,
  MTU: 6,
  GATEWAY: 4,
  DATA: 8,
} as const;

/** An ICMP message; `data` (echo payload or the quoted datagram) is a view, not a copy. */
export type Icmpv4Repr =
  | {
      readonly kind: "echo-request" | "echo-reply";
      readonly ident: number;
      readonly seq: number;
      readonly data: Uint8Array;
    }
  | {
      readonly kind: "dest-unreachable";
      readonly code: number;
      readonly nextHopMtu: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: "time-exceeded"; readonly code: number; readonly data: Uint8Array }
  | {
      readonly kind: "redirect";
      readonly code: number;
      readonly gateway: Ipv4Addr;
      readonly data: Uint8Array;
    }
  | {
      readonly kind: "other";
      readonly type: number;
      readonly code: number;
      /** Everything after the checksum: the 4 rest-of-header bytes, then the body. */
      readonly data: Uint8Array;
    };

/** A zero-copy view over an ICMP message. */
export class Icmpv4Packet {
  /** The message (the whole IP payload). */
  readonly buffer: Uint8Array;

  /** Wraps `buffer` without checks, for emission. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** Wraps untrusted bytes after checking the 8-byte header fits. */
  static check(buffer: Uint8Array): Icmpv4Packet {
    checkLen(buffer);
    return new Icmpv4Packet(buffer);
  }

  /** Message type (`Icmpv4Type`). */
  get type(): number {
    return this.buffer[field.TYPE];
  }
  set type(v: number) {
    this.buffer[field.TYPE] = v;
  }

  /** Message code. */
  get code(): number {
    return this.buffer[field.CODE];
  }
  set code(v: number) {
    this.buffer[field.CODE] = v;
  }

  /** Checksum field. */
  get checksum(): number {
    return readU16(this.buffer, field.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buffer, field.CHECKSUM, v);
  }

  /** Echo identifier. */
  get echoIdent(): number {
    return readU16(this.buffer, field.ECHO_IDENT);
  }
  set echoIdent(v: number) {
    writeU16(this.buffer, field.ECHO_IDENT, v);
  }

  /** Echo sequence number. */
  get echoSeq(): number {
    return readU16(this.buffer, field.ECHO_SEQ);
  }
  set echoSeq(v: number) {
    writeU16(this.buffer, field.ECHO_SEQ, v);
  }

  /** Next-hop MTU of a "fragmentation needed" message (RFC 1191). */
  get nextHopMtu(): number {
    return readU16(this.buffer, field.MTU);
  }
  set nextHopMtu(v: number) {
    writeU16(this.buffer, field.MTU, v);
  }

  /** Gateway address of a redirect. */
  get gateway(): Ipv4Addr {
    return readIpv4(this.buffer, field.GATEWAY);
  }
  set gateway(v: Ipv4Addr) {
    writeIpv4(this.buffer, field.GATEWAY, v);
  }

  /** The data after the 8-byte header, without copying. */
  get data(): Uint8Array {
    return this.buffer.subarray(field.DATA);
  }

  /** True when the checksum over the whole message verifies. */
  verifyChecksum(): boolean {
    return checksumValid(this.buffer);
  }

  /** Computes and stores the checksum over the whole message. */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = internetChecksum(this.buffer);
  }
}

function checkLen(buf: Uint8Array): void {
  if (buf.length < ICMPV4_HEADER_LEN) throw truncated("ICMP message", buf.length, ICMPV4_HEADER_LEN);
}

/** Parses an ICMP message (bytes or a view), verifying the checksum per `caps.icmpv4`. */
export function parseIcmpv4(
  input: Icmpv4Packet | Uint8Array,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): Icmpv4Repr {
  const buf = input instanceof Icmpv4Packet ? input.buffer : input;
  checkLen(buf);
  if (checksumRx(caps.icmpv4) && !checksumValid(buf)) throw badChecksum("ICMP message");
  const type = buf[field.TYPE];
  const code = buf[field.CODE];
  const data = buf.subarray(field.DATA);
  switch (type) {
    case Icmpv4Type.EchoRequest:
    case Icmpv4Type.EchoReply:
      if (code !== 0) break;
      return {
        kind: type === Icmpv4Type.EchoRequest ? "echo-request" : "echo-reply",
        ident: readU16(buf, field.ECHO_IDENT),
        seq: readU16(buf, field.ECHO_SEQ),
        data,
      };
    case Icmpv4Type.DestUnreachable:
      if (!allZero(buf, field.UNUSED, field.MTU)) break;
      return { kind: "dest-unreachable", code, nextHopMtu: readU16(buf, field.MTU), data };
    case Icmpv4Type.TimeExceeded:
      if (!allZero(buf, field.UNUSED, field.DATA)) break;
      return { kind: "time-exceeded", code, data };
    case Icmpv4Type.Redirect:
      return { kind: "redirect", code, gateway: readIpv4(buf, field.GATEWAY), data };
  }
  return { kind: "other", type, code, data: buf.subarray(field.UNUSED) };
}

/** Bytes `emitIcmpv4` writes: the whole message. */
export function icmpv4ReprLen(repr: Icmpv4Repr): number {
  return repr.kind === "other" ? 4 + repr.data.length : ICMPV4_HEADER_LEN + repr.data.length;
}

/** Writes the message of `repr` at the start of `buf`, filling the checksum per `caps.icmpv4` (else 0). */
export function emitIcmpv4(
  repr: Icmpv4Repr,
  buf: Uint8Array,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): void {
  const len = icmpv4ReprLen(repr);
  if (len < ICMPV4_HEADER_LEN)
    throw new RangeError("Cannot emit ICMP message: raw data is shorter than 4 bytes");
  // Copy first: data that overlaps the header area of `buf` must be read before it is overwritten.
  copyInto(buf, repr.kind === "other" ? field.UNUSED : field.DATA, repr.data);
  switch (repr.kind) {
    case "echo-request":
    case "echo-reply":
      buf[field.TYPE] = repr.kind === "echo-request" ? Icmpv4Type.EchoRequest : Icmpv4Type.EchoReply;
      buf[field.CODE] = 0;
      writeU16(buf, field.ECHO_IDENT, repr.ident);
      writeU16(buf, field.ECHO_SEQ, repr.seq);
      break;
    case "dest-unreachable":
      buf[field.TYPE] = Icmpv4Type.DestUnreachable;
      buf[field.CODE] = repr.code;
      writeU16(buf, field.UNUSED, 0);
      writeU16(buf, field.MTU, repr.nextHopMtu);
      break;
    case "time-exceeded":
      buf[field.TYPE] = Icmpv4Type.TimeExceeded;
      buf[field.CODE] = repr.code;
      buf.fill(0, field.UNUSED, field.DATA);
      break;
    case "redirect":
      buf[field.TYPE] = Icmpv4Type.Redirect;
      buf[field.CODE] = repr.code;
      writeIpv4(buf, field.GATEWAY, repr.gateway);
      break;
    case "other":
      buf[field.TYPE] = repr.type;
      buf[field.CODE] = repr.code;
      break;
  }
  writeU16(buf, field.CHECKSUM, 0);
  if (checksumTx(caps.icmpv4)) writeU16(buf, field.CHECKSUM, internetChecksum(buf, 0, len));
}
