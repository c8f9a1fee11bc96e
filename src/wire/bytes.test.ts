import assert from "node:assert/strict";
import { test } from "node:test";
import { allZero, copyInto, readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

test("readU16()/readU32() are big-endian and unsigned", () => {
  const b = new Uint8Array([0xff, 0xfe, 0xfd, 0xfc, 0x01]);
  assert.equal(readU16(b, 0), 0xfffe);
  assert.equal(readU32(b, 0), 0xfffe_fdfc);
  assert.equal(readU32(b, 1), 0xfefd_fc01);
});

test("writeU16()/writeU32() keep only the low bits", () => {
  const b = new Uint8Array(6).fill(0xa5);
  writeU16(b, 0, 0x1_2345);
  writeU32(b, 2, 0xdead_beef);
  assert.deepEqual([...b], [0x23, 0x45, 0xde, 0xad, 0xbe, 0xef]);
});

test("copyInto() copies, and skips a source already in place", () => {
  const dst = new Uint8Array(6);
  copyInto(dst, 2, new Uint8Array([1, 2]));
  assert.deepEqual([...dst], [0, 0, 1, 2, 0, 0]);
  const view = dst.subarray(2, 4);
  view[0] = 9;
  copyInto(dst, 2, view);
  assert.deepEqual([...dst], [0, 0, 9, 2, 0, 0]);
});

test("allZero() checks a range", () => {
  const b = new Uint8Array([0, 0, 1, 0]);
  assert.equal(allZero(b, 0, 2), true);
  assert.equal(allZero(b, 0, 3), false);
  assert.equal(allZero(b, 3, 3), true);
});
