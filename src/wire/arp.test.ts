import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ARP_LEN, ArpOp, ArpPacket, type ArpRepr, arpReprLen, emitArp, parseArp } from "./arp.ts";
import { WireError } from "./error.ts";
import { arbArpRepr, arbBytes, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

const PACKET = FRAMES.arpReply.subarray(14);
const REPR: ArpRepr = {
  operation: ArpOp.Reply,
  senderMac: 0x0200_0000_0002,
  senderIp: 0x0a00_0002,
  targetMac: 0x0200_0000_0001,
  targetIp: 0x0a00_0001,
};

test("ArpPacket reads fields of a captured reply", () => {
  const p = ArpPacket.check(PACKET);
  assert.deepEqual([p.htype, p.ptype, p.hlen, p.plen, p.operation], [1, 0x0800, 6, 4, ArpOp.Reply]);
  assert.equal(p.senderMac, 0x0200_0000_0002);
  assert.equal(p.senderIp, 0x0a00_0002);
  assert.equal(p.targetMac, 0x0200_0000_0001);
  assert.equal(p.targetIp, 0x0a00_0001);
});

test("ArpPacket setters write the captured reply", () => {
  const buf = poisoned(ARP_LEN);
  const p = new ArpPacket(buf);
  p.htype = 1;
  p.ptype = 0x0800;
  p.hlen = 6;
  p.plen = 4;
  p.operation = ArpOp.Reply;
  p.senderMac = REPR.senderMac;
  p.senderIp = REPR.senderIp;
  p.targetMac = REPR.targetMac;
  p.targetIp = REPR.targetIp;
  assert.deepEqual(buf, PACKET);
});

test("parseArp() decodes a captured request and reply", () => {
  assert.deepEqual(parseArp(PACKET), REPR);
  assert.deepEqual(parseArp(FRAMES.arpRequest.subarray(14)), {
    operation: ArpOp.Request,
    senderMac: 0x0200_0000_0001,
    senderIp: 0x0a00_0001,
    targetMac: 0,
    targetIp: 0x0a00_0002,
  });
});

test("emitArp() writes every byte", () => {
  const buf = poisoned(arpReprLen(REPR));
  emitArp(REPR, buf);
  assert.deepEqual(buf, PACKET);
});

test("parseArp() accepts Ethernet padding after the packet", () => {
  const padded = new Uint8Array(46);
  padded.set(PACKET);
  assert.deepEqual(parseArp(padded), REPR);
});

test("parseArp() rejects other hardware/protocol types as unsupported", () => {
  for (const [off, value] of [
    [1, 6],
    [2, 0x86],
    [4, 8],
    [5, 16],
  ]) {
    const bad = PACKET.slice();
    bad[off] = value;
    assert.throws(
      () => parseArp(bad),
      (e: unknown) => e instanceof WireError && e.kind === "unsupported",
    );
  }
});

test("parseArp() throws truncated on short packets", () => {
  for (const len of [0, 7, 8, 27]) {
    assert.throws(
      () => parseArp(PACKET.subarray(0, len)),
      (e: unknown) => e instanceof WireError && e.kind === "truncated",
    );
  }
});

test("parseArp() inverts emitArp() for every repr", () => {
  fc.assert(
    fc.property(arbArpRepr, (repr) => {
      const buf = poisoned(ARP_LEN);
      emitArp(repr, buf);
      assert.deepEqual(parseArp(buf), repr);
    }),
  );
});

test("parseArp() throws nothing but WireError on random bytes", () => {
  fc.assert(
    fc.property(arbBytes(0, 40), fc.boolean(), (bytes, plausible) => {
      if (plausible && bytes.length >= 6) bytes.set([0, 1, 8, 0, 6, 4]);
      try {
        parseArp(bytes);
      } catch (e) {
        assert.ok(e instanceof WireError);
      }
    }),
  );
});
