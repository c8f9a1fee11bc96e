/**
 * Multicast Listener Discovery bodies: MLDv1 (RFC 2710) query/report/done and MLDv2
 * (RFC 3810) query and report records. The ICMPv6 framing is in `icmpv6.ts`; these helpers
 * decode and encode what follows the 4-byte ICMPv6 header.
 * @module
 */

import { type Ipv6Addr, readIpv6, writeIpv6 } from "./addr.ts";
import { readU16, writeU16 } from "./bytes.ts";
import { malformed, truncated } from "./error.ts";

/** MLDv2 multicast address record types (RFC 3810 § 5.2.12). */
export const MldRecordType = {
  ModeIsInclude: 1,
  ModeIsExclude: 2,
  ChangeToInclude: 3,
  ChangeToExclude: 4,
  AllowNewSources: 5,
  BlockOldSources: 6,
} as const;

/** Length of an MLDv1 message (and of the part of an MLDv2 query before its extra fields). */
export const MLD_V1_LEN = 24;
/** Length of an MLDv2 query without sources. */
export const MLD_V2_QUERY_LEN = 28;

/** The MLDv2-only fields of a query (RFC 3810 § 5.1). */
export type MldV2Query = {
  /** S flag: suppress router-side processing. */
  readonly suppress: boolean;
  /** Querier's robustness variable (3 bits). */
  readonly qrv: number;
  /** Querier's query interval code. */
  readonly qqic: number;
  readonly sources: readonly Ipv6Addr[];
};

/** One multicast address record of an MLDv2 report. */
export type MldRecord = {
  readonly recordType: number;
  readonly group: Ipv6Addr;
  readonly sources: readonly Ipv6Addr[];
  /** Auxiliary data, a multiple of 4 bytes (none is defined; kept verbatim). */
  readonly auxData: Uint8Array;
};

/**
 * Decodes the MLDv2 query fields of a message of at least 28 bytes; returns `undefined` when the
 * reserved bits are set or the length does not match the source count (kept raw by the caller).
 */
export function parseMldV2Query(buf: Uint8Array): MldV2Query | undefined {
  const flags = buf[24];
  const count = readU16(buf, 26);
  if ((flags & 0xf0) !== 0 || buf.length !== MLD_V2_QUERY_LEN + 16 * count) return undefined;
  const sources: Ipv6Addr[] = [];
  for (let i = 0; i < count; i++) sources.push(readIpv6(buf, MLD_V2_QUERY_LEN + 16 * i));
  return { suppress: (flags & 0x08) !== 0, qrv: flags & 7, qqic: buf[25], sources };
}

/** Writes the MLDv2 query fields at offset 24 of `buf`; returns the message length. */
export function emitMldV2Query(query: MldV2Query, buf: Uint8Array): number {
  buf[24] = (query.suppress ? 0x08 : 0) | (query.qrv & 7);
  buf[25] = query.qqic;
  writeU16(buf, 26, query.sources.length);
  let off = MLD_V2_QUERY_LEN;
  for (const s of query.sources) {
    writeIpv6(buf, off, s);
    off += 16;
  }
  return off;
}

/** Decodes `count` records starting at offset 8 of a report; they must fill the message exactly. */
export function parseMldRecords(buf: Uint8Array, count: number): MldRecord[] {
  const records: MldRecord[] = [];
  let off = 8;
  for (let n = 0; n < count; n++) {
    if (buf.length - off < 20) throw truncated("MLDv2 record", buf.length - off, 20);
    const auxLen = buf[off + 1] * 4;
    const nSrc = readU16(buf, off + 2);
    const len = 20 + 16 * nSrc + auxLen;
    if (buf.length - off < len) throw truncated("MLDv2 record", buf.length - off, len);
    const sources: Ipv6Addr[] = [];
    for (let i = 0; i < nSrc; i++) sources.push(readIpv6(buf, off + 20 + 16 * i));
    records.push({
      recordType: buf[off],
      group: readIpv6(buf, off + 4),
      sources,
      auxData: buf.subarray(off + 20 + 16 * nSrc, off + len),
    });
    off += len;
  }
  if (off !== buf.length) throw malformed("MLDv2 report", `${buf.length - off} bytes follow the last record`);
  return records;
}

/** Bytes one record takes on the wire. */
export function mldRecordLen(record: MldRecord): number {
  return 20 + 16 * record.sources.length + record.auxData.length;
}

/** Writes records at offset 8 of `buf`; returns the message length. */
export function emitMldRecords(records: readonly MldRecord[], buf: Uint8Array): number {
  let off = 8;
  for (const r of records) {
    if (r.auxData.length % 4 !== 0 || r.auxData.length > 255 * 4) {
      throw new RangeError(
        `Cannot emit MLDv2 record: aux data length ${r.auxData.length} is not a multiple of 4`,
      );
    }
    buf[off] = r.recordType;
    buf[off + 1] = r.auxData.length / 4;
    writeU16(buf, off + 2, r.sources.length);
    writeIpv6(buf, off + 4, r.group);
    let i = off + 20;
    for (const s of r.sources) {
      writeIpv6(buf, i, s);
      i += 16;
    }
    buf.set(r.auxData, i);
    off = i + r.auxData.length;
  }
  return off;
}
