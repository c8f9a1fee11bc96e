/**
 * Neighbor Discovery options (RFC 4861 § 4.6): source/target link-layer address (Ethernet),
 * prefix information, redirected header and MTU are decoded; others (the RFC 3971 nonce that
 * Linux puts in DAD probes, RDNSS, ...) are kept raw. An option whose size or reserved bytes do
 * not match its typed shape is also kept raw, so options always re-emit byte for byte.
 * @module
 */

import { type Ipv6Addr, type MacAddr, readIpv6, readMac, writeIpv6, writeMac } from "./addr.ts";
import { allZero, readU32, writeU32 } from "./bytes.ts";
import { malformed } from "./error.ts";

/** Neighbor Discovery option types. */
export const NdiscOptionType = {
  SourceLinkLayerAddr: 1,
  TargetLinkLayerAddr: 2,
  PrefixInfo: 3,
  RedirectedHeader: 4,
  Mtu: 5,
  Nonce: 14,
  RouteInfo: 24,
  Rdnss: 25,
} as const;

/** Flag bits of the prefix information option. */
export const NdiscPrefixFlag = { OnLink: 0x80, Autonomous: 0x40, RouterAddr: 0x20 } as const;

/** One Neighbor Discovery option. */
export type NdiscOption =
  | { readonly kind: "source-ll-addr"; readonly addr: MacAddr }
  | { readonly kind: "target-ll-addr"; readonly addr: MacAddr }
  | {
      readonly kind: "prefix-info";
      readonly prefixLen: number;
      /** Flag byte (`NdiscPrefixFlag`), reserved bits included. */
      readonly flags: number;
      readonly validLifetime: number;
      readonly preferredLifetime: number;
      readonly prefix: Ipv6Addr;
    }
  | {
      readonly kind: "redirected-header";
      /** The quoted packet; its length plus 8 must be a multiple of 8. */
      readonly data: Uint8Array;
    }
  | { readonly kind: "mtu"; readonly mtu: number }
  | {
      readonly kind: "unknown";
      readonly type: number;
      /** The bytes after type and length; their length plus 2 must be a multiple of 8. */
      readonly data: Uint8Array;
    };

const PREFIX_INFO_LEN = 32;

function parseOne(buf: Uint8Array, off: number, len: number): NdiscOption {
  const type = buf[off];
  switch (type) {
    case NdiscOptionType.SourceLinkLayerAddr:
    case NdiscOptionType.TargetLinkLayerAddr:
      if (len !== 8) break;
      return {
        kind: type === NdiscOptionType.SourceLinkLayerAddr ? "source-ll-addr" : "target-ll-addr",
        addr: readMac(buf, off + 2),
      };
    case NdiscOptionType.PrefixInfo:
      if (len !== PREFIX_INFO_LEN || !allZero(buf, off + 12, off + 16)) break;
      return {
        kind: "prefix-info",
        prefixLen: buf[off + 2],
        flags: buf[off + 3],
        validLifetime: readU32(buf, off + 4),
        preferredLifetime: readU32(buf, off + 8),
        prefix: readIpv6(buf, off + 16),
      };
    case NdiscOptionType.RedirectedHeader:
      if (!allZero(buf, off + 2, off + 8)) break;
      return { kind: "redirected-header", data: buf.subarray(off + 8, off + len) };
    case NdiscOptionType.Mtu:
      if (len !== 8 || !allZero(buf, off + 2, off + 4)) break;
      return { kind: "mtu", mtu: readU32(buf, off + 4) };
  }
  return { kind: "unknown", type, data: buf.subarray(off + 2, off + len) };
}

/** Decodes the options area of an ND message; a zero length or an overrun is `malformed` (RFC 4861 § 4.6). */
export function parseNdiscOptions(buf: Uint8Array): NdiscOption[] {
  const options: NdiscOption[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 2) throw malformed("ND option", "option has no length byte");
    const len = buf[off + 1] * 8;
    if (len === 0) throw malformed("ND option", `option ${buf[off]} has length 0`);
    if (buf.length - off < len) throw malformed("ND option", `option ${buf[off]} overruns the message`);
    options.push(parseOne(buf, off, len));
    off += len;
  }
  return options;
}

/** Bytes one option takes on the wire. */
export function ndiscOptionLen(option: NdiscOption): number {
  switch (option.kind) {
    case "source-ll-addr":
    case "target-ll-addr":
    case "mtu":
      return 8;
    case "prefix-info":
      return PREFIX_INFO_LEN;
    case "redirected-header":
      return 8 + option.data.length;
    case "unknown":
      return 2 + option.data.length;
  }
}

/** Bytes a list of options takes on the wire. */
export function ndiscOptionsLen(options: readonly NdiscOption[]): number {
  let len = 0;
  for (const o of options) len += ndiscOptionLen(o);
  return len;
}

/** Writes `options` at `off`; returns the bytes written. */
export function emitNdiscOptions(options: readonly NdiscOption[], buf: Uint8Array, off: number): number {
  let i = off;
  for (const o of options) {
    const len = ndiscOptionLen(o);
    if (len % 8 !== 0 || len > 255 * 8) {
      throw new RangeError(
        `Cannot emit ND ${o.kind} option: length ${len} is not a multiple of 8 up to 2040`,
      );
    }
    buf[i + 1] = len / 8;
    switch (o.kind) {
      case "source-ll-addr":
      case "target-ll-addr":
        buf[i] =
          o.kind === "source-ll-addr"
            ? NdiscOptionType.SourceLinkLayerAddr
            : NdiscOptionType.TargetLinkLayerAddr;
        writeMac(buf, i + 2, o.addr);
        break;
      case "prefix-info":
        buf[i] = NdiscOptionType.PrefixInfo;
        buf[i + 2] = o.prefixLen;
        buf[i + 3] = o.flags;
        writeU32(buf, i + 4, o.validLifetime);
        writeU32(buf, i + 8, o.preferredLifetime);
        writeU32(buf, i + 12, 0);
        writeIpv6(buf, i + 16, o.prefix);
        break;
      case "redirected-header":
        buf[i] = NdiscOptionType.RedirectedHeader;
        buf.fill(0, i + 2, i + 8);
        buf.set(o.data, i + 8);
        break;
      case "mtu":
        buf[i] = NdiscOptionType.Mtu;
        buf[i + 2] = 0;
        buf[i + 3] = 0;
        writeU32(buf, i + 4, o.mtu);
        break;
      case "unknown":
        buf[i] = o.type;
        buf.set(o.data, i + 2);
        break;
    }
    i += len;
  }
  return i - off;
}
