/**
 * ICMPv6 (RFC 4443) with Neighbor Discovery (RFC 4861) and MLD (RFC 2710, RFC 3810) messages.
 * Echo, the four error messages, RS/RA/NS/NA/redirect with their options, MLDv1
 * query/report/done, MLDv2 query and report are decoded; other types are kept as raw
 * type/code/data. A message that does not fit its typed shape exactly (a non-zero code where the
 * RFC fixes 0, non-zero reserved bits, an odd length) is kept raw too, so emit(parse(x)) always
 * reproduces x. Malformed ND options and MLDv2 records are `malformed` (RFC 4861 § 6.1 says to
 * discard such messages).
 * @module
 */

import { type Ipv6Addr, readIpv6, writeIpv6 } from "./addr.ts";
import { allZero, copyInto, readU16, readU32, writeU16, writeU32 } from "./bytes.ts";
import {
  type ChecksumCaps,
  CHECKSUM_CAPS_DEFAULT,
  checksumRx,
  checksumTx,
  checksumValid,
  internetChecksum,
  ipv6PseudoHeaderSum,
} from "./checksum.ts";
import { badChecksum, truncated } from "./error.ts";
import { IpProto } from "./ip-proto.ts";
import {
  emitMldRecords,
  emitMldV2Query,
  MLD_V1_LEN,
  MLD_V2_QUERY_LEN,
  type MldRecord,
  type MldV2Query,
  mldRecordLen,
  parseMldRecords,
  parseMldV2Query,
} from "./mld.ts";
import { emitNdiscOptions, type NdiscOption, ndiscOptionsLen, parseNdiscOptions } from "./ndisc-option.ts";

/** ICMPv6 message types. */
export const Icmpv6Type = {
  DestUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParamProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  MldQuery: 130,
  MldReport: 131,
  MldDone: 132,
  RouterSolicit: 133,
  RouterAdvert: 134,
  NeighborSolicit: 135,
  NeighborAdvert: 136,
  Redirect: 137,
  MldV2Report: 143,
} as const;

/** Destination unreachable codes (RFC 4443 § 3.1). */
export const Icmpv6Unreachable = {
  NoRoute: 0,
  AdminProhibited: 1,
  BeyondScope: 2,
  AddrUnreachable: 3,
  PortUnreachable: 4,
  FailedPolicy: 5,
  RejectRoute: 6,
} as const;

/** Router advertisement flag bits (RFC 4861 § 4.2, RFC 4191, RFC 6275). */
export const Icmpv6RaFlag = { Managed: 0x80, Other: 0x40, HomeAgent: 0x20, Proxy: 0x04 } as const;

/** Length of the part common to most messages: type, code, checksum and 4 bytes. */
export const ICMPV6_HEADER_LEN = 8;

const field = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  REST: 4,
  ECHO_IDENT: 4,
  ECHO_SEQ: 6,
  BODY: 8,
  MLD_MAX_RESP: 4,
  MLD_RESERVED: 6,
  MLD_GROUP: 8,
  MLD_NUM_RECORDS: 6,
  RA_HOP_LIMIT: 4,
  RA_FLAGS: 5,
  RA_LIFETIME: 6,
  RA_REACHABLE: 8,
  RA_RETRANS: 12,
  RA_OPTIONS: 16,
  RS_OPTIONS: 8,
  ND_TARGET: 8,
  ND_OPTIONS: 24,
  REDIRECT_DEST: 24,
  REDIRECT_OPTIONS: 40,
} as const;

const NA_ROUTER = 0x8000_0000;
const NA_SOLICITED = 0x4000_0000;
const NA_OVERRIDE = 0x2000_0000;
const NA_FLAGS = NA_ROUTER | NA_SOLICITED | NA_OVERRIDE;

/** An ICMPv6 message; `data` and byte fields are views into the parsed buffer, not copies. */
export type Icmpv6Repr =
  | {
      readonly kind: "echo-request" | "echo-reply";
      readonly ident: number;
      readonly seq: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: "dest-unreachable"; readonly code: number; readonly data: Uint8Array }
  | { readonly kind: "packet-too-big"; readonly mtu: number; readonly data: Uint8Array }
  | { readonly kind: "time-exceeded"; readonly code: number; readonly data: Uint8Array }
  | {
      readonly kind: "param-problem";
      readonly code: number;
      readonly pointer: number;
      readonly data: Uint8Array;
    }
  | {
      readonly kind: "mld-query";
      /** Maximum response code (milliseconds in MLDv1). */
      readonly maxResp: number;
      readonly group: Ipv6Addr;
      /** Present for an MLDv2 query. */
      readonly v2?: MldV2Query;
    }
  | { readonly kind: "mld-report" | "mld-done"; readonly group: Ipv6Addr }
  | { readonly kind: "mldv2-report"; readonly records: readonly MldRecord[] }
  | { readonly kind: "router-solicit"; readonly options: readonly NdiscOption[] }
  | {
      readonly kind: "router-advert";
      readonly hopLimit: number;
      /** Flag byte (`Icmpv6RaFlag`, router preference in bits 3-4), reserved bits included. */
      readonly flags: number;
      readonly routerLifetime: number;
      readonly reachableTime: number;
      readonly retransTimer: number;
      readonly options: readonly NdiscOption[];
    }
  | { readonly kind: "neighbor-solicit"; readonly target: Ipv6Addr; readonly options: readonly NdiscOption[] }
  | {
      readonly kind: "neighbor-advert";
      readonly router: boolean;
      readonly solicited: boolean;
      readonly override: boolean;
      readonly target: Ipv6Addr;
      readonly options: readonly NdiscOption[];
    }
  | {
      readonly kind: "redirect";
      readonly target: Ipv6Addr;
      readonly dest: Ipv6Addr;
      readonly options: readonly NdiscOption[];
    }
  | {
      readonly kind: "other";
      readonly type: number;
      readonly code: number;
      /** Everything after the checksum. */
      readonly data: Uint8Array;
    };

/** The source and destination an ICMPv6 checksum covers (an `Ipv6Repr` will do). */
export type Ipv6AddrPair = { readonly src: Ipv6Addr; readonly dst: Ipv6Addr };

/** A zero-copy view over an ICMPv6 message. */
export class Icmpv6Packet {
  /** The message (the whole upper-layer payload). */
  readonly buffer: Uint8Array;

  /** Wraps `buffer` without checks, for emission. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** Wraps untrusted bytes after checking the 4-byte type/code/checksum fits. */
  static check(buffer: Uint8Array): Icmpv6Packet {
    checkLen(buffer);
    return new Icmpv6Packet(buffer);
  }

  /** Message type (`Icmpv6Type`). */
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

  /** The message body after the checksum, without copying. */
  get body(): Uint8Array {
    return this.buffer.subarray(field.REST);
  }

  /** True when the checksum verifies against the pseudo-header of `ip`. */
  verifyChecksum(ip: Ipv6AddrPair): boolean {
    const len = this.buffer.length;
    return checksumValid(this.buffer, 0, len, ipv6PseudoHeaderSum(ip.src, ip.dst, IpProto.Icmpv6, len));
  }

  /** Computes and stores the checksum. */
  fillChecksum(ip: Ipv6AddrPair): void {
    const len = this.buffer.length;
    this.checksum = 0;
    this.checksum = internetChecksum(
      this.buffer,
      0,
      len,
      ipv6PseudoHeaderSum(ip.src, ip.dst, IpProto.Icmpv6, len),
    );
  }
}

function checkLen(buf: Uint8Array): void {
  if (buf.length < 4) throw truncated("ICMPv6 message", buf.length, 4);
}

function need(buf: Uint8Array, len: number, what: string): void {
  if (buf.length < len) throw truncated(what, buf.length, len);
}

/** Decodes a typed message, or returns `undefined` when it must be kept raw. */
function parseTyped(buf: Uint8Array): Icmpv6Repr | undefined {
  const type = buf[field.TYPE];
  const code = buf[field.CODE];
  const zeroRest = (): boolean => allZero(buf, field.REST, field.BODY);
  switch (type) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply:
      need(buf, ICMPV6_HEADER_LEN, "ICMPv6 echo");
      if (code !== 0) return undefined;
      return {
        kind: type === Icmpv6Type.EchoRequest ? "echo-request" : "echo-reply",
        ident: readU16(buf, field.ECHO_IDENT),
        seq: readU16(buf, field.ECHO_SEQ),
        data: buf.subarray(field.BODY),
      };
    case Icmpv6Type.DestUnreachable:
    case Icmpv6Type.TimeExceeded:
      need(buf, ICMPV6_HEADER_LEN, "ICMPv6 error");
      if (!zeroRest()) return undefined;
      return {
        kind: type === Icmpv6Type.DestUnreachable ? "dest-unreachable" : "time-exceeded",
        code,
        data: buf.subarray(field.BODY),
      };
    case Icmpv6Type.PacketTooBig:
      need(buf, ICMPV6_HEADER_LEN, "ICMPv6 packet too big");
      if (code !== 0) return undefined;
      return { kind: "packet-too-big", mtu: readU32(buf, field.REST), data: buf.subarray(field.BODY) };
    case Icmpv6Type.ParamProblem:
      need(buf, ICMPV6_HEADER_LEN, "ICMPv6 parameter problem");
      return {
        kind: "param-problem",
        code,
        pointer: readU32(buf, field.REST),
        data: buf.subarray(field.BODY),
      };
  }
  // Neighbor Discovery and MLD messages all have code 0.
  if (code !== 0) return undefined;
  switch (type) {
    case Icmpv6Type.MldQuery: {
      need(buf, MLD_V1_LEN, "MLD query");
      if (readU16(buf, field.MLD_RESERVED) !== 0) return undefined;
      const maxResp = readU16(buf, field.MLD_MAX_RESP);
      const group = readIpv6(buf, field.MLD_GROUP);
      if (buf.length === MLD_V1_LEN) return { kind: "mld-query", maxResp, group };
      if (buf.length < MLD_V2_QUERY_LEN) return undefined;
      const v2 = parseMldV2Query(buf);
      return v2 === undefined ? undefined : { kind: "mld-query", maxResp, group, v2 };
    }
    case Icmpv6Type.MldReport:
    case Icmpv6Type.MldDone:
      need(buf, MLD_V1_LEN, "MLD message");
      if (buf.length !== MLD_V1_LEN || !zeroRest()) return undefined;
      return {
        kind: type === Icmpv6Type.MldReport ? "mld-report" : "mld-done",
        group: readIpv6(buf, field.MLD_GROUP),
      };
    case Icmpv6Type.MldV2Report:
      need(buf, ICMPV6_HEADER_LEN, "MLDv2 report");
      if (readU16(buf, field.REST) !== 0) return undefined;
      return { kind: "mldv2-report", records: parseMldRecords(buf, readU16(buf, field.MLD_NUM_RECORDS)) };
    case Icmpv6Type.RouterSolicit:
      need(buf, field.RS_OPTIONS, "router solicitation");
      if (!zeroRest()) return undefined;
      return { kind: "router-solicit", options: parseNdiscOptions(buf.subarray(field.RS_OPTIONS)) };
    case Icmpv6Type.RouterAdvert:
      need(buf, field.RA_OPTIONS, "router advertisement");
      return {
        kind: "router-advert",
        hopLimit: buf[field.RA_HOP_LIMIT],
        flags: buf[field.RA_FLAGS],
        routerLifetime: readU16(buf, field.RA_LIFETIME),
        reachableTime: readU32(buf, field.RA_REACHABLE),
        retransTimer: readU32(buf, field.RA_RETRANS),
        options: parseNdiscOptions(buf.subarray(field.RA_OPTIONS)),
      };
    case Icmpv6Type.NeighborSolicit:
      need(buf, field.ND_OPTIONS, "neighbor solicitation");
      if (!zeroRest()) return undefined;
      return {
        kind: "neighbor-solicit",
        target: readIpv6(buf, field.ND_TARGET),
        options: parseNdiscOptions(buf.subarray(field.ND_OPTIONS)),
      };
    case Icmpv6Type.NeighborAdvert: {
      need(buf, field.ND_OPTIONS, "neighbor advertisement");
      const flags = readU32(buf, field.REST);
      if ((flags & ~NA_FLAGS) !== 0) return undefined;
      return {
        kind: "neighbor-advert",
        router: (flags & NA_ROUTER) !== 0,
        solicited: (flags & NA_SOLICITED) !== 0,
        override: (flags & NA_OVERRIDE) !== 0,
        target: readIpv6(buf, field.ND_TARGET),
        options: parseNdiscOptions(buf.subarray(field.ND_OPTIONS)),
      };
    }
    case Icmpv6Type.Redirect:
      need(buf, field.REDIRECT_OPTIONS, "redirect");
      if (!zeroRest()) return undefined;
      return {
        kind: "redirect",
        target: readIpv6(buf, field.ND_TARGET),
        dest: readIpv6(buf, field.REDIRECT_DEST),
        options: parseNdiscOptions(buf.subarray(field.REDIRECT_OPTIONS)),
      };
  }
  return undefined;
}

/** Parses an ICMPv6 message (bytes or a view) carried by `ip`, verifying the checksum per `caps.icmpv6`. */
export function parseIcmpv6(
  input: Icmpv6Packet | Uint8Array,
  ip: Ipv6AddrPair,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): Icmpv6Repr {
  const pkt = input instanceof Icmpv6Packet ? input : new Icmpv6Packet(input);
  const buf = pkt.buffer;
  checkLen(buf);
  if (checksumRx(caps.icmpv6) && !pkt.verifyChecksum(ip)) throw badChecksum("ICMPv6 message");
  return (
    parseTyped(buf) ?? {
      kind: "other",
      type: buf[field.TYPE],
      code: buf[field.CODE],
      data: buf.subarray(field.REST),
    }
  );
}

/** Bytes `emitIcmpv6` writes: the whole message. */
export function icmpv6ReprLen(repr: Icmpv6Repr): number {
  switch (repr.kind) {
    case "echo-request":
    case "echo-reply":
    case "dest-unreachable":
    case "packet-too-big":
    case "time-exceeded":
    case "param-problem":
      return ICMPV6_HEADER_LEN + repr.data.length;
    case "mld-query":
      return repr.v2 === undefined ? MLD_V1_LEN : MLD_V2_QUERY_LEN + 16 * repr.v2.sources.length;
    case "mld-report":
    case "mld-done":
      return MLD_V1_LEN;
    case "mldv2-report": {
      let len = ICMPV6_HEADER_LEN;
      for (const r of repr.records) len += mldRecordLen(r);
      return len;
    }
    case "router-solicit":
      return field.RS_OPTIONS + ndiscOptionsLen(repr.options);
    case "router-advert":
      return field.RA_OPTIONS + ndiscOptionsLen(repr.options);
    case "neighbor-solicit":
    case "neighbor-advert":
      return field.ND_OPTIONS + ndiscOptionsLen(repr.options);
    case "redirect":
      return field.REDIRECT_OPTIONS + ndiscOptionsLen(repr.options);
    case "other":
      return field.REST + repr.data.length;
  }
}

function emitBody(repr: Icmpv6Repr, buf: Uint8Array): void {
  switch (repr.kind) {
    case "echo-request":
    case "echo-reply":
      buf[field.TYPE] = repr.kind === "echo-request" ? Icmpv6Type.EchoRequest : Icmpv6Type.EchoReply;
      buf[field.CODE] = 0;
      writeU16(buf, field.ECHO_IDENT, repr.ident);
      writeU16(buf, field.ECHO_SEQ, repr.seq);
      return;
    case "dest-unreachable":
    case "time-exceeded":
      buf[field.TYPE] =
        repr.kind === "dest-unreachable" ? Icmpv6Type.DestUnreachable : Icmpv6Type.TimeExceeded;
      buf[field.CODE] = repr.code;
      writeU32(buf, field.REST, 0);
      return;
    case "packet-too-big":
      buf[field.TYPE] = Icmpv6Type.PacketTooBig;
      buf[field.CODE] = 0;
      writeU32(buf, field.REST, repr.mtu);
      return;
    case "param-problem":
      buf[field.TYPE] = Icmpv6Type.ParamProblem;
      buf[field.CODE] = repr.code;
      writeU32(buf, field.REST, repr.pointer);
      return;
    case "mld-query":
      buf[field.TYPE] = Icmpv6Type.MldQuery;
      buf[field.CODE] = 0;
      writeU16(buf, field.MLD_MAX_RESP, repr.maxResp);
      writeU16(buf, field.MLD_RESERVED, 0);
      writeIpv6(buf, field.MLD_GROUP, repr.group);
      if (repr.v2 !== undefined) emitMldV2Query(repr.v2, buf);
      return;
    case "mld-report":
    case "mld-done":
      buf[field.TYPE] = repr.kind === "mld-report" ? Icmpv6Type.MldReport : Icmpv6Type.MldDone;
      buf[field.CODE] = 0;
      writeU32(buf, field.REST, 0);
      writeIpv6(buf, field.MLD_GROUP, repr.group);
      return;
    case "mldv2-report":
      buf[field.TYPE] = Icmpv6Type.MldV2Report;
      buf[field.CODE] = 0;
      writeU16(buf, field.REST, 0);
      writeU16(buf, field.MLD_NUM_RECORDS, repr.records.length);
      emitMldRecords(repr.records, buf);
      return;
    case "router-solicit":
      buf[field.TYPE] = Icmpv6Type.RouterSolicit;
      buf[field.CODE] = 0;
      writeU32(buf, field.REST, 0);
      emitNdiscOptions(repr.options, buf, field.RS_OPTIONS);
      return;
    case "router-advert":
      buf[field.TYPE] = Icmpv6Type.RouterAdvert;
      buf[field.CODE] = 0;
      buf[field.RA_HOP_LIMIT] = repr.hopLimit;
      buf[field.RA_FLAGS] = repr.flags;
      writeU16(buf, field.RA_LIFETIME, repr.routerLifetime);
      writeU32(buf, field.RA_REACHABLE, repr.reachableTime);
      writeU32(buf, field.RA_RETRANS, repr.retransTimer);
      emitNdiscOptions(repr.options, buf, field.RA_OPTIONS);
      return;
    case "neighbor-solicit":
    case "neighbor-advert": {
      const na = repr.kind === "neighbor-advert";
      buf[field.TYPE] = na ? Icmpv6Type.NeighborAdvert : Icmpv6Type.NeighborSolicit;
      buf[field.CODE] = 0;
      const flags = na
        ? (repr.router ? NA_ROUTER : 0) |
          (repr.solicited ? NA_SOLICITED : 0) |
          (repr.override ? NA_OVERRIDE : 0)
        : 0;
      writeU32(buf, field.REST, flags);
      writeIpv6(buf, field.ND_TARGET, repr.target);
      emitNdiscOptions(repr.options, buf, field.ND_OPTIONS);
      return;
    }
    case "redirect":
      buf[field.TYPE] = Icmpv6Type.Redirect;
      buf[field.CODE] = 0;
      writeU32(buf, field.REST, 0);
      writeIpv6(buf, field.ND_TARGET, repr.target);
      writeIpv6(buf, field.REDIRECT_DEST, repr.dest);
      emitNdiscOptions(repr.options, buf, field.REDIRECT_OPTIONS);
      return;
    case "other":
      buf[field.TYPE] = repr.type;
      buf[field.CODE] = repr.code;
      return;
  }
}

/** Writes the message of `repr` at the start of `buf`, filling the checksum per `caps.icmpv6` (else 0). */
export function emitIcmpv6(
  repr: Icmpv6Repr,
  buf: Uint8Array,
  ip: Ipv6AddrPair,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): void {
  const len = icmpv6ReprLen(repr);
  // Copy data first: data that overlaps the header area of `buf` must be read before it is overwritten.
  if (repr.kind === "other") copyInto(buf, field.REST, repr.data);
  else if ("data" in repr) copyInto(buf, field.BODY, repr.data);
  emitBody(repr, buf);
  writeU16(buf, field.CHECKSUM, 0);
  if (checksumTx(caps.icmpv6)) {
    writeU16(
      buf,
      field.CHECKSUM,
      internetChecksum(buf, 0, len, ipv6PseudoHeaderSum(ip.src, ip.dst, IpProto.Icmpv6, len)),
    );
  }
}
