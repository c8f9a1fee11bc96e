import assert from "node:assert/strict";
import { test } from "node:test";
import { badChecksum, malformed, truncated, unsupported, WireError } from "./error.ts";

test("WireError carries its kind and a Deno-style message", () => {
  const e = truncated("IPv4 packet", 12, 20);
  assert.ok(e instanceof WireError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "WireError");
  assert.equal(e.kind, "truncated");
  assert.equal(e.message, "Cannot parse IPv4 packet: buffer is 12 bytes, need 20");
});

test("error helpers build each kind", () => {
  assert.equal(malformed("x", "bad").kind, "malformed");
  assert.equal(unsupported("x", "no").kind, "unsupported");
  assert.equal(badChecksum("UDP datagram").kind, "checksum");
  assert.equal(badChecksum("UDP datagram").message, "Cannot parse UDP datagram: checksum is invalid");
});
