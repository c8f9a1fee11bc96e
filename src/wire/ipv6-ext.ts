/**
 * IPv6 extension headers (RFC 8200 § 4): hop-by-hop options, routing, fragment and destination
 * options. The chain walk is bounded (`IPV6_MAX_EXT_HEADERS`) so hostile chains cost little and
 * end in a `WireError`. Any other next-header value (AH, ESP, No Next Header, transports) ends
 * the chain and is reported as the upper-layer protocol.
 * @module
 */

import { EMPTY_BYTES, readU16, readU32, writeU16, writeU32 } from "./bytes.ts";
import { malformed, truncated, unsupported } from "./error.ts";
import { IpProto } from "./ip-proto.ts";

/** Longest extension-header chain we walk; a longer one is `malformed`. */
export const IPV6_MAX_EXT_HEADERS = 8;

/** Option types of hop-by-hop and destination options headers (RFC 8200 § 4.2, RFC 2711, RFC 2675). */
export const Ipv6OptionType = {
  Pad1: 0x00,
  PadN: 0x01,
  RouterAlert: 0x05,
  Jumbo: 0xc2,
} as const;

/** One TLV option, kept verbatim; Pad1 has empty `data` and is a single byte on the wire. */
export type Ipv6Option = { readonly type: number; readonly data: Uint8Array };

/** One extension header. The next-header bytes are implied by the order of the chain. */
export type Ipv6ExtHeader =
  | { readonly kind: "hop-by-hop"; readonly options: readonly Ipv6Option[] }
  | { readonly kind: "dest-opts"; readonly options: readonly Ipv6Option[] }
  | {
      readonly kind: "routing";
      readonly routingType: number;
      readonly segmentsLeft: number;
      /** The type-specific data after the first 4 bytes. */
      readonly data: Uint8Array;
    }
  | {
      readonly kind: "fragment";
      /** Offset in bytes (a multiple of 8). */
      readonly offset: number;
      readonly moreFrags: boolean;
      readonly ident: number;
    };

/** Where the upper-layer data starts after the extension headers. */
export type Ipv6UpperLayer = {
  /** Upper-layer protocol (`IpProto`), or the fragment's next header for a non-first fragment. */
  readonly protocol: number;
  /** Offset from the start of the IPv6 packet. */
  readonly offset: number;
  /** Number of extension headers walked. */
  readonly extCount: number;
};

const FRAGMENT_HEADER_LEN = 8;

/** True for the next-header values this module walks through. */
export function isIpv6ExtHeader(nextHeader: number): boolean {
  return (
    nextHeader === IpProto.HopByHop ||
    nextHeader === IpProto.Ipv6Route ||
    nextHeader === IpProto.Ipv6Frag ||
    nextHeader === IpProto.Ipv6Opts
  );
}

/**
 * Walks the chain that starts with `firstNext` at `start` and must end by `end`, checking every
 * length. Stops after a fragment header with a non-zero offset: what follows is opaque data.
 */
export function walkIpv6ExtHeaders(
  buf: Uint8Array,
  firstNext: number,
  start: number,
  end: number,
): Ipv6UpperLayer {
  let next = firstNext;
  let off = start;
  let count = 0;
  while (isIpv6ExtHeader(next)) {
    if (next === IpProto.HopByHop && count !== 0) {
      throw malformed("IPv6 extension headers", "hop-by-hop header is not first (RFC 8200 § 4.1)");
    }
    if (count === IPV6_MAX_EXT_HEADERS) {
      throw malformed("IPv6 extension headers", `chain is longer than ${IPV6_MAX_EXT_HEADERS} headers`);
    }
    count++;
    if (end - off < 8) throw truncated("IPv6 extension header", end - off, 8);
    const following = buf[off];
    if (next === IpProto.Ipv6Frag) {
      const fragOffset = readU16(buf, off + 2) & 0xfff8;
      off += FRAGMENT_HEADER_LEN;
      if (fragOffset !== 0) return { protocol: following, offset: off, extCount: count };
    } else {
      const len = (buf[off + 1] + 1) * 8;
      if (end - off < len) throw truncated("IPv6 extension header", end - off, len);
      off += len;
    }
    next = following;
  }
  return { protocol: next, offset: off, extCount: count };
}

function parseOptions(buf: Uint8Array, start: number, end: number): Ipv6Option[] {
  const options: Ipv6Option[] = [];
  let i = start;
  while (i < end) {
    const type = buf[i];
    if (type === Ipv6OptionType.Pad1) {
      options.push({ type, data: EMPTY_BYTES });
      i++;
      continue;
    }
    if (end - i < 2 || end - i - 2 < buf[i + 1]) {
      throw malformed("IPv6 options header", `option ${type} overruns the header`);
    }
    if (type === Ipv6OptionType.Jumbo)
      throw unsupported("IPv6 options header", "jumbo payloads are not supported");
    const len = buf[i + 1];
    options.push({ type, data: buf.subarray(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return options;
}

/**
 * Decodes `count` extension headers starting at `start`, as validated by `walkIpv6ExtHeaders`.
 * @internal
 */
export function parseIpv6ExtHeaders(
  buf: Uint8Array,
  firstNext: number,
  start: number,
  count: number,
): Ipv6ExtHeader[] {
  const headers: Ipv6ExtHeader[] = [];
  let next = firstNext;
  let off = start;
  for (let n = 0; n < count; n++) {
    const following = buf[off];
    if (next === IpProto.Ipv6Frag) {
      const w = readU16(buf, off + 2);
      headers.push({
        kind: "fragment",
        offset: w & 0xfff8,
        moreFrags: (w & 1) !== 0,
        ident: readU32(buf, off + 4),
      });
      off += FRAGMENT_HEADER_LEN;
    } else {
      const len = (buf[off + 1] + 1) * 8;
      if (next === IpProto.Ipv6Route) {
        headers.push({
          kind: "routing",
          routingType: buf[off + 2],
          segmentsLeft: buf[off + 3],
          data: buf.subarray(off + 4, off + len),
        });
      } else {
        const options = parseOptions(buf, off + 2, off + len);
        headers.push(
          next === IpProto.HopByHop ? { kind: "hop-by-hop", options } : { kind: "dest-opts", options },
        );
      }
      off += len;
    }
    next = following;
  }
  return headers;
}

/** The next-header value that announces `header`. */
export function ipv6ExtHeaderProto(header: Ipv6ExtHeader): number {
  switch (header.kind) {
    case "hop-by-hop":
      return IpProto.HopByHop;
    case "dest-opts":
      return IpProto.Ipv6Opts;
    case "routing":
      return IpProto.Ipv6Route;
    case "fragment":
      return IpProto.Ipv6Frag;
  }
}

function optionsLen(options: readonly Ipv6Option[]): number {
  let len = 0;
  for (const o of options) len += o.type === Ipv6OptionType.Pad1 ? 1 : 2 + o.data.length;
  return len;
}

/** Bytes one extension header occupies on the wire. */
export function ipv6ExtHeaderLen(header: Ipv6ExtHeader): number {
  switch (header.kind) {
    case "hop-by-hop":
    case "dest-opts":
      return 2 + optionsLen(header.options);
    case "routing":
      return 4 + header.data.length;
    case "fragment":
      return FRAGMENT_HEADER_LEN;
  }
}

/** Writes one extension header at `off` with the given next-header byte; returns its length. */
export function emitIpv6ExtHeader(header: Ipv6ExtHeader, next: number, buf: Uint8Array, off: number): number {
  const len = ipv6ExtHeaderLen(header);
  if (len % 8 !== 0 || len > 2048) {
    throw new RangeError(
      `Cannot emit IPv6 ${header.kind} header: length ${len} is not a multiple of 8 up to 2048`,
    );
  }
  buf[off] = next;
  switch (header.kind) {
    case "fragment":
      buf[off + 1] = 0;
      writeU16(buf, off + 2, (header.offset & 0xfff8) | (header.moreFrags ? 1 : 0));
      writeU32(buf, off + 4, header.ident);
      return len;
    case "routing":
      buf[off + 1] = len / 8 - 1;
      buf[off + 2] = header.routingType;
      buf[off + 3] = header.segmentsLeft;
      buf.set(header.data, off + 4);
      return len;
    case "hop-by-hop":
    case "dest-opts": {
      buf[off + 1] = len / 8 - 1;
      let i = off + 2;
      for (const o of header.options) {
        buf[i++] = o.type;
        if (o.type === Ipv6OptionType.Pad1) continue;
        if (o.data.length > 255)
          throw new RangeError(`Cannot emit IPv6 option ${o.type}: data exceeds 255 bytes`);
        buf[i++] = o.data.length;
        buf.set(o.data, i);
        i += o.data.length;
      }
      return len;
    }
  }
}
