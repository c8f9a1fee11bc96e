import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseIpv6 } from "./addr.ts";
import { WireError } from "./error.ts";
import {
  emitNdiscOptions,
  type NdiscOption,
  NdiscPrefixFlag,
  ndiscOptionLen,
  ndiscOptionsLen,
  parseNdiscOptions,
} from "./ndisc-option.ts";
import { arbBytes, arbNdiscOption, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

const PREFIX: NdiscOption = {
  kind: "prefix-info",
  prefixLen: 64,
  flags: NdiscPrefixFlag.OnLink | NdiscPrefixFlag.Autonomous,
  validLifetime: 2592000,
  preferredLifetime: 604800,
  prefix: parseIpv6("2001:db8:1::"),
};
const PREFIX_BYTES = new Uint8Array([
  3, 4, 64, 0xc0, 0x00, 0x27, 0x8d, 0x00, 0x00, 0x09, 0x3a, 0x80, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

test("parseNdiscOptions() decodes captured link-layer and nonce options", () => {
  assert.deepEqual(parseNdiscOptions(FRAMES.ns.subarray(14 + 40 + 24)), [
    { kind: "source-ll-addr", addr: 0x0200_0000_0001 },
  ]);
  assert.deepEqual(parseNdiscOptions(FRAMES.na.subarray(14 + 40 + 24)), [
    { kind: "target-ll-addr", addr: 0x0200_0000_0002 },
  ]);
  const nonce = FRAMES.nsDad.subarray(14 + 40 + 24);
  assert.deepEqual(parseNdiscOptions(nonce), [{ kind: "unknown", type: 14, data: nonce.subarray(2) }]);
});

test("parseNdiscOptions()/emitNdiscOptions() handle prefix information (RFC 4861 § 4.6.2)", () => {
  assert.deepEqual(parseNdiscOptions(PREFIX_BYTES), [PREFIX]);
  const buf = poisoned(ndiscOptionLen(PREFIX));
  emitNdiscOptions([PREFIX], buf, 0);
  assert.deepEqual(buf, PREFIX_BYTES);
});

test("emitNdiscOptions() writes MTU and redirected header options", () => {
  const opts: NdiscOption[] = [
    { kind: "mtu", mtu: 1500 },
    { kind: "redirected-header", data: new Uint8Array(8).fill(7) },
  ];
  const buf = poisoned(ndiscOptionsLen(opts));
  assert.equal(emitNdiscOptions(opts, buf, 0), 24);
  assert.deepEqual([...buf], [5, 1, 0, 0, 0, 0, 5, 0xdc, 4, 2, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7, 7]);
  assert.deepEqual(parseNdiscOptions(buf), opts);
});

test("parseNdiscOptions() keeps odd-sized or non-zero-reserved typed options raw", () => {
  const bigLl = new Uint8Array(16);
  bigLl.set([1, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(parseNdiscOptions(bigLl), [{ kind: "unknown", type: 1, data: bigLl.subarray(2) }]);
  const mtu = new Uint8Array([5, 1, 0, 1, 0, 0, 5, 0xdc]);
  assert.equal(parseNdiscOptions(mtu)[0].kind, "unknown");
});

test("parseNdiscOptions() rejects zero lengths and overruns as malformed (RFC 4861 § 4.6)", () => {
  for (const bad of [[1, 0, 0, 0, 0, 0, 0, 0], [1, 2, 0, 0, 0, 0, 0, 0], [1]]) {
    assert.throws(
      () => parseNdiscOptions(new Uint8Array(bad)),
      (e: unknown) => e instanceof WireError && e.kind === "malformed",
    );
  }
});

test("emitNdiscOptions() rejects options that are not a multiple of 8 bytes", () => {
  assert.throws(
    () => emitNdiscOptions([{ kind: "unknown", type: 99, data: new Uint8Array(3) }], poisoned(8), 0),
    RangeError,
  );
});

test("parseNdiscOptions() inverts emitNdiscOptions() for every option list", () => {
  fc.assert(
    fc.property(fc.array(arbNdiscOption, { maxLength: 5 }), (opts) => {
      const buf = poisoned(ndiscOptionsLen(opts));
      emitNdiscOptions(opts, buf, 0);
      assert.deepEqual(parseNdiscOptions(buf), opts);
    }),
  );
});

test("parseNdiscOptions() throws nothing but WireError on random bytes", () => {
  fc.assert(
    fc.property(arbBytes(0, 48), (bytes) => {
      try {
        parseNdiscOptions(bytes);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
  );
});
