import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseIpv6 } from "./addr.ts";
import {
  CHECKSUM_CAPS_DEFAULT,
  CHECKSUM_CAPS_NONE,
  checksumFold,
  checksumRx,
  checksumSum,
  checksumTx,
  checksumUpdate16,
  checksumUpdate32,
  checksumValid,
  internetChecksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
  pseudoHeaderSum,
} from "./checksum.ts";
import { arbBytes, arbU16, arbU32 } from "./test-arbitraries.ts";

/** A straightforward reference implementation to compare against. */
function reference(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum += i % 2 === 0 ? bytes[i] << 8 : bytes[i];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

test("internetChecksum() computes the RFC 1071 § 3 example", () => {
  const data = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(checksumFold(checksumSum(data)), 0xddf2);
  assert.equal(internetChecksum(data), 0x220d);
});

test("internetChecksum() pads an odd final byte with zero", () => {
  assert.equal(internetChecksum(new Uint8Array([0x12])), ~0x1200 & 0xffff);
  assert.equal(internetChecksum(new Uint8Array([0x12, 0x34, 0x56]), 1, 3), ~0x3456 & 0xffff);
});

test("internetChecksum() agrees with a reference implementation and verifies once stored", () => {
  fc.assert(
    fc.property(arbBytes(0, 300), (data) => {
      assert.equal(internetChecksum(data), reference(data));
      const withSum = new Uint8Array(data.length + (data.length % 2) + 2);
      withSum.set(data);
      const c = internetChecksum(withSum);
      withSum[withSum.length - 2] = c >>> 8;
      withSum[withSum.length - 1] = c;
      assert.equal(checksumValid(withSum), true);
    }),
  );
});

test("checksumFold() folds sums beyond 32 bits", () => {
  assert.equal(checksumFold(0x1_0000_0000), 1);
  assert.equal(checksumFold(0xffff), 0xffff);
  assert.equal(checksumFold(0x1fffe), 0xffff);
});

test("ipv4PseudoHeaderSum() adds addresses, protocol and length", () => {
  assert.equal(ipv4PseudoHeaderSum(0x0a00_0001, 0x0a00_0002, 17, 18), 0x0a00 + 1 + 0x0a00 + 2 + 17 + 18);
});

test("ipv6PseudoHeaderSum() equals the sum over the RFC 8200 § 8.1 layout", () => {
  fc.assert(
    fc.property(arbU32, arbU32, arbU16, arbU16, (a, b, len, nh) => {
      const src = parseIpv6("2001:db8::1") ^ BigInt(a);
      const dst = parseIpv6("fe80::2") ^ (BigInt(b) << 64n);
      const layout = new Uint8Array(40);
      for (let i = 0; i < 16; i++) {
        layout[i] = Number((src >> BigInt(120 - 8 * i)) & 0xffn);
        layout[16 + i] = Number((dst >> BigInt(120 - 8 * i)) & 0xffn);
      }
      layout[34] = len >>> 8;
      layout[35] = len;
      layout[39] = nh & 0xff;
      assert.equal(
        checksumFold(ipv6PseudoHeaderSum(src, dst, nh & 0xff, len)),
        checksumFold(checksumSum(layout)),
      );
      assert.equal(
        pseudoHeaderSum({ src, dst }, nh & 0xff, len),
        ipv6PseudoHeaderSum(src, dst, nh & 0xff, len),
      );
    }),
  );
});

test("checksumUpdate16()/checksumUpdate32() match a full recomputation (RFC 1624)", () => {
  fc.assert(
    fc.property(arbBytes(8, 40), fc.nat(), arbU32, (data, where, value) => {
      const buf = data.slice(0, data.length & ~1);
      const off = (where % (buf.length / 2 - 1)) * 2;
      const before = internetChecksum(buf);
      const old16 = (buf[off] << 8) | buf[off + 1];
      const old32 = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
      const changed = buf.slice();
      changed[off] = value >>> 8;
      changed[off + 1] = value;
      assert.equal(
        checksumFold(~checksumUpdate16(before, old16, value & 0xffff) & 0xffff) % 0xffff,
        checksumFold(~internetChecksum(changed) & 0xffff) % 0xffff,
      );
      if (off + 4 <= buf.length) {
        const c32 = buf.slice();
        c32[off] = value >>> 24;
        c32[off + 1] = value >>> 16;
        c32[off + 2] = value >>> 8;
        c32[off + 3] = value;
        assert.equal(
          checksumFold(~checksumUpdate32(before, old32, value) & 0xffff) % 0xffff,
          checksumFold(~internetChecksum(c32) & 0xffff) % 0xffff,
        );
      }
    }),
  );
});

test("checksumRx()/checksumTx() read the capability modes", () => {
  assert.deepEqual(
    (["both", "rx", "tx", "none"] as const).map((m) => [checksumRx(m), checksumTx(m)]),
    [
      [true, true],
      [true, false],
      [false, true],
      [false, false],
    ],
  );
  assert.equal(CHECKSUM_CAPS_DEFAULT.udp, "both");
  assert.equal(CHECKSUM_CAPS_NONE.icmpv6, "none");
  assert.equal(Object.isFrozen(CHECKSUM_CAPS_DEFAULT), true);
});
