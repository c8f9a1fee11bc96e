import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseIpv6 } from "./addr.ts";
import { WireError } from "./error.ts";
import {
  emitMldRecords,
  emitMldV2Query,
  MLD_V2_QUERY_LEN,
  MldRecordType,
  type MldV2Query,
  mldRecordLen,
  parseMldRecords,
  parseMldV2Query,
} from "./mld.ts";
import { arbBytes, arbMldRecord, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

/** The ICMPv6 part of a captured MLDv2 report with 2 CHANGE_TO_INCLUDE records. */
const REPORT = FRAMES.mldv2ReportToIn.subarray(14 + 48);

test("parseMldRecords() decodes a captured MLDv2 report", () => {
  assert.deepEqual(parseMldRecords(REPORT, 2), [
    {
      recordType: MldRecordType.ChangeToInclude,
      group: parseIpv6("ff12::1"),
      sources: [],
      auxData: new Uint8Array(0),
    },
    {
      recordType: MldRecordType.ChangeToInclude,
      group: parseIpv6("ff15::abcd"),
      sources: [],
      auxData: new Uint8Array(0),
    },
  ]);
});

test("emitMldRecords() writes every byte of the captured records", () => {
  const records = parseMldRecords(REPORT, 2);
  const buf = poisoned(REPORT.length);
  buf.set(REPORT.subarray(0, 8));
  assert.equal(emitMldRecords(records, buf), REPORT.length);
  assert.deepEqual(buf, REPORT);
});

test("parseMldRecords() rejects truncated records and trailing bytes", () => {
  const isKind = (kind: string) => (e: unknown) => e instanceof WireError && e.kind === kind;
  assert.throws(() => parseMldRecords(REPORT, 3), isKind("truncated"));
  assert.throws(() => parseMldRecords(REPORT, 1), isKind("malformed"));
  const lying = REPORT.slice();
  lying[8 + 3] = 1;
  assert.throws(() => parseMldRecords(lying, 2), isKind("truncated"));
});

test("parseMldV2Query()/emitMldV2Query() handle sources, S flag and QRV (RFC 3810 § 5.1)", () => {
  const q: MldV2Query = { suppress: true, qrv: 2, qqic: 125, sources: [parseIpv6("2001:db8::1")] };
  const buf = poisoned(MLD_V2_QUERY_LEN + 16);
  assert.equal(emitMldV2Query(q, buf), 44);
  assert.deepEqual([...buf.subarray(24, 28)], [0x0a, 125, 0, 1]);
  assert.deepEqual(parseMldV2Query(buf), q);
  buf[24] |= 0x10;
  assert.equal(parseMldV2Query(buf), undefined);
  assert.equal(parseMldV2Query(buf.subarray(0, 43)), undefined);
});

test("parseMldRecords() inverts emitMldRecords() for every record list", () => {
  fc.assert(
    fc.property(fc.array(arbMldRecord, { maxLength: 4 }), (records) => {
      const buf = poisoned(8 + records.reduce((n, r) => n + mldRecordLen(r), 0));
      emitMldRecords(records, buf);
      assert.deepEqual(parseMldRecords(buf, records.length), records);
    }),
  );
});

test("parseMldRecords() throws nothing but WireError on random bytes", () => {
  fc.assert(
    fc.property(arbBytes(8, 80), fc.integer({ min: 0, max: 5 }), (bytes, count) => {
      try {
        parseMldRecords(bytes, count);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
  );
});
