/**
 * TCP segments (RFC 9293) with options: MSS, window scale (RFC 7323), SACK-permitted and SACK
 * (RFC 2018), timestamps (RFC 7323), NOP and EOL; other options, and known ones with an
 * unexpected length, are kept raw. Options keep their order, so a kernel's segment re-emits
 * byte for byte (Linux aligns with NOPs). Emit pads the options with zeros to a multiple of 4;
 * a zero byte is EOL, so such padding reads back as an `eol` option. Bytes after an EOL carry no
 * meaning; they are kept in `trailing` only when they differ from that zero padding.
 * @module
 */

import { copyInto, readU16, readU32, writeU16, writeU32 } from "./bytes.ts";
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

/** Length of a TCP header without options. */
export const TCP_HEADER_LEN = 20;
/** Maximum length of the options area (data offset 15). */
export const TCP_MAX_OPTIONS_LEN = 40;

const field = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  OFF_FLAGS: 12,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

/** TCP header flag bits (the low 12 bits of the data offset/flags word; 0xe00 is reserved). */
export const TcpFlag = {
  Fin: 0x001,
  Syn: 0x002,
  Rst: 0x004,
  Psh: 0x008,
  Ack: 0x010,
  Urg: 0x020,
  Ece: 0x040,
  Cwr: 0x080,
  Ae: 0x100,
} as const;

/** TCP option kinds. */
export const TcpOptionKind = {
  Eol: 0,
  Nop: 1,
  Mss: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamp: 8,
} as const;

/** One TCP option. */
export type TcpOption =
  | {
      readonly kind: "eol";
      /** Bytes after the EOL when they are not the usual zero padding to a multiple of 4. */
      readonly trailing?: Uint8Array;
    }
  | { readonly kind: "nop" }
  | { readonly kind: "mss"; readonly value: number }
  | { readonly kind: "window-scale"; readonly shift: number }
  | { readonly kind: "sack-permitted" }
  | { readonly kind: "sack"; readonly blocks: readonly (readonly [left: number, right: number])[] }
  | { readonly kind: "timestamp"; readonly tsval: number; readonly tsecr: number }
  | { readonly kind: "unknown"; readonly type: number; readonly data: Uint8Array };

/** A TCP segment; `flags` holds the 12 flag bits (`TcpFlag`), `payload` is a view, not a copy. */
export type TcpRepr = {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  readonly urgent: number;
  readonly options: readonly TcpOption[];
  readonly payload: Uint8Array;
};

/** A zero-copy view over a TCP segment. */
export class TcpPacket {
  /** The segment (the whole IP payload). */
  readonly buffer: Uint8Array;

  /** Wraps `buffer` without checks, for emission. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** Wraps untrusted bytes after checking the header and data offset against the buffer. */
  static check(buffer: Uint8Array): TcpPacket {
    checkLen(buffer);
    return new TcpPacket(buffer);
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

  /** Sequence number. */
  get seq(): number {
    return readU32(this.buffer, field.SEQ);
  }
  set seq(v: number) {
    writeU32(this.buffer, field.SEQ, v);
  }

  /** Acknowledgment number. */
  get ack(): number {
    return readU32(this.buffer, field.ACK);
  }
  set ack(v: number) {
    writeU32(this.buffer, field.ACK, v);
  }

  /** Header length in bytes (data offset * 4). */
  get headerLen(): number {
    return (this.buffer[field.OFF_FLAGS] >>> 4) * 4;
  }
  set headerLen(len: number) {
    this.buffer[field.OFF_FLAGS] = ((len >>> 2) << 4) | (this.buffer[field.OFF_FLAGS] & 0xf);
  }

  /** The 12 flag bits (`TcpFlag`). */
  get flags(): number {
    return readU16(this.buffer, field.OFF_FLAGS) & 0xfff;
  }
  set flags(v: number) {
    writeU16(this.buffer, field.OFF_FLAGS, (readU16(this.buffer, field.OFF_FLAGS) & 0xf000) | (v & 0xfff));
  }

  /** Window. */
  get window(): number {
    return readU16(this.buffer, field.WINDOW);
  }
  set window(v: number) {
    writeU16(this.buffer, field.WINDOW, v);
  }

  /** Checksum field. */
  get checksum(): number {
    return readU16(this.buffer, field.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buffer, field.CHECKSUM, v);
  }

  /** Urgent pointer. */
  get urgent(): number {
    return readU16(this.buffer, field.URGENT);
  }
  set urgent(v: number) {
    writeU16(this.buffer, field.URGENT, v);
  }

  /** The raw options area, without copying. */
  get options(): Uint8Array {
    return this.buffer.subarray(field.OPTIONS, this.headerLen);
  }

  /** The payload, without copying. */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen);
  }

  /** True when the checksum verifies against the pseudo-header of `ip`. */
  verifyChecksum(ip: IpAddrPair): boolean {
    const len = this.buffer.length;
    return checksumValid(this.buffer, 0, len, pseudoHeaderSum(ip, IpProto.Tcp, len));
  }

  /** Computes and stores the checksum. */
  fillChecksum(ip: IpAddrPair): void {
    const len = this.buffer.length;
    this.checksum = 0;
    this.checksum = internetChecksum(this.buffer, 0, len, pseudoHeaderSum(ip, IpProto.Tcp, len));
  }
}

function checkLen(buf: Uint8Array): void {
  if (buf.length < TCP_HEADER_LEN) throw truncated("TCP segment", buf.length, TCP_HEADER_LEN);
  const headerLen = (buf[field.OFF_FLAGS] >>> 4) * 4;
  if (headerLen < TCP_HEADER_LEN) throw malformed("TCP segment", `data offset ${headerLen} is below 20`);
  if (buf.length < headerLen) throw truncated("TCP segment", buf.length, headerLen);
}

function parseOption(type: number, buf: Uint8Array, start: number, len: number): TcpOption {
  const dataLen = len - 2;
  const d = start + 2;
  switch (type) {
    case TcpOptionKind.Mss:
      if (len === 4) return { kind: "mss", value: readU16(buf, d) };
      break;
    case TcpOptionKind.WindowScale:
      if (len === 3) return { kind: "window-scale", shift: buf[d] };
      break;
    case TcpOptionKind.SackPermitted:
      if (len === 2) return { kind: "sack-permitted" };
      break;
    case TcpOptionKind.Sack:
      if (dataLen > 0 && dataLen % 8 === 0) {
        const blocks: (readonly [number, number])[] = [];
        for (let i = d; i < start + len; i += 8) blocks.push([readU32(buf, i), readU32(buf, i + 4)]);
        return { kind: "sack", blocks };
      }
      break;
    case TcpOptionKind.Timestamp:
      if (len === 10) return { kind: "timestamp", tsval: readU32(buf, d), tsecr: readU32(buf, d + 4) };
      break;
  }
  return { kind: "unknown", type, data: buf.subarray(d, start + len) };
}

/** Decodes an options area; a length byte below 2 or running past the area is `malformed`. */
export function parseTcpOptions(buf: Uint8Array): TcpOption[] {
  const options: TcpOption[] = [];
  let i = 0;
  while (i < buf.length) {
    const type = buf[i];
    if (type === TcpOptionKind.Eol) {
      const rest = buf.subarray(i + 1);
      const padding = ((i + 4) & ~3) - (i + 1);
      options.push(
        rest.length === padding && rest.every((b) => b === 0)
          ? { kind: "eol" }
          : { kind: "eol", trailing: rest },
      );
      break;
    }
    if (type === TcpOptionKind.Nop) {
      options.push({ kind: "nop" });
      i++;
      continue;
    }
    if (buf.length - i < 2) throw malformed("TCP options", `option ${type} has no length byte`);
    const len = buf[i + 1];
    if (len < 2) throw malformed("TCP options", `option ${type} has length ${len}`);
    if (buf.length - i < len) throw malformed("TCP options", `option ${type} overruns the header`);
    options.push(parseOption(type, buf, i, len));
    i += len;
  }
  return options;
}

function optionLen(o: TcpOption): number {
  switch (o.kind) {
    case "eol":
      return 1 + (o.trailing?.length ?? 0);
    case "nop":
      return 1;
    case "mss":
      return 4;
    case "window-scale":
      return 3;
    case "sack-permitted":
      return 2;
    case "sack":
      return 2 + 8 * o.blocks.length;
    case "timestamp":
      return 10;
    case "unknown":
      return 2 + o.data.length;
  }
}

/** Bytes the options take on the wire, padded to a multiple of 4. */
export function tcpOptionsLen(options: readonly TcpOption[]): number {
  let len = 0;
  for (const o of options) len += optionLen(o);
  return (len + 3) & ~3;
}

/** Writes options at `off` followed by zero padding; returns the padded length. */
function emitOptions(options: readonly TcpOption[], buf: Uint8Array, off: number): number {
  let i = off;
  for (const o of options) {
    switch (o.kind) {
      case "eol":
        buf[i++] = TcpOptionKind.Eol;
        if (o.trailing !== undefined) {
          buf.set(o.trailing, i);
          i += o.trailing.length;
        }
        break;
      case "nop":
        buf[i++] = TcpOptionKind.Nop;
        break;
      case "mss":
        buf[i] = TcpOptionKind.Mss;
        buf[i + 1] = 4;
        writeU16(buf, i + 2, o.value);
        i += 4;
        break;
      case "window-scale":
        buf[i] = TcpOptionKind.WindowScale;
        buf[i + 1] = 3;
        buf[i + 2] = o.shift;
        i += 3;
        break;
      case "sack-permitted":
        buf[i] = TcpOptionKind.SackPermitted;
        buf[i + 1] = 2;
        i += 2;
        break;
      case "sack":
        buf[i] = TcpOptionKind.Sack;
        buf[i + 1] = 2 + 8 * o.blocks.length;
        i += 2;
        for (const [left, right] of o.blocks) {
          writeU32(buf, i, left);
          writeU32(buf, i + 4, right);
          i += 8;
        }
        break;
      case "timestamp":
        buf[i] = TcpOptionKind.Timestamp;
        buf[i + 1] = 10;
        writeU32(buf, i + 2, o.tsval);
        writeU32(buf, i + 6, o.tsecr);
        i += 10;
        break;
      case "unknown":
        buf[i] = o.type;
        buf[i + 1] = 2 + o.data.length;
        buf.set(o.data, i + 2);
        i += 2 + o.data.length;
        break;
    }
  }
  const end = off + ((i - off + 3) & ~3);
  buf.fill(0, i, end);
  return end - off;
}

/** Parses a TCP segment (bytes or a view) carried by `ip`, verifying the checksum per `caps.tcp`. */
export function parseTcp(
  input: TcpPacket | Uint8Array,
  ip: IpAddrPair,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): TcpRepr {
  const pkt = input instanceof TcpPacket ? input : new TcpPacket(input);
  const buf = pkt.buffer;
  checkLen(buf);
  if (checksumRx(caps.tcp) && !pkt.verifyChecksum(ip)) throw badChecksum("TCP segment");
  const headerLen = (buf[field.OFF_FLAGS] >>> 4) * 4;
  return {
    srcPort: readU16(buf, field.SRC_PORT),
    dstPort: readU16(buf, field.DST_PORT),
    seq: readU32(buf, field.SEQ),
    ack: readU32(buf, field.ACK),
    flags: readU16(buf, field.OFF_FLAGS) & 0xfff,
    window: readU16(buf, field.WINDOW),
    urgent: readU16(buf, field.URGENT),
    options: headerLen === TCP_HEADER_LEN ? [] : parseTcpOptions(buf.subarray(field.OPTIONS, headerLen)),
    payload: buf.subarray(headerLen),
  };
}

/** Bytes `emitTcp` writes: header, padded options and payload. */
export function tcpReprLen(repr: TcpRepr): number {
  return TCP_HEADER_LEN + tcpOptionsLen(repr.options) + repr.payload.length;
}

/**
 * Writes the segment of `repr` (header, options, payload) at the start of `buf`, filling the
 * checksum per `caps.tcp` (else 0). A payload already in place is not copied.
 */
export function emitTcp(
  repr: TcpRepr,
  buf: Uint8Array,
  ip: IpAddrPair,
  caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT,
): void {
  const optLen = tcpOptionsLen(repr.options);
  if (optLen > TCP_MAX_OPTIONS_LEN) {
    throw new RangeError(`Cannot emit TCP segment: options take ${optLen} bytes, more than 40`);
  }
  const headerLen = TCP_HEADER_LEN + optLen;
  const len = headerLen + repr.payload.length;
  // Copy first: a payload that overlaps the header area of `buf` must be read before it is overwritten.
  copyInto(buf, headerLen, repr.payload);
  writeU16(buf, field.SRC_PORT, repr.srcPort);
  writeU16(buf, field.DST_PORT, repr.dstPort);
  writeU32(buf, field.SEQ, repr.seq);
  writeU32(buf, field.ACK, repr.ack);
  writeU16(buf, field.OFF_FLAGS, ((headerLen >>> 2) << 12) | (repr.flags & 0xfff));
  writeU16(buf, field.WINDOW, repr.window);
  writeU16(buf, field.CHECKSUM, 0);
  writeU16(buf, field.URGENT, repr.urgent);
  emitOptions(repr.options, buf, field.OPTIONS);
  if (checksumTx(caps.tcp)) {
    writeU16(buf, field.CHECKSUM, internetChecksum(buf, 0, len, pseudoHeaderSum(ip, IpProto.Tcp, len)));
  }
}
