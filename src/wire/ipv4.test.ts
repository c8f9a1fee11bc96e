import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CHECKSUM_CAPS_DEFAULT, CHECKSUM_CAPS_NONE } from "./checksum.ts";
import { WireError } from "./error.ts";
import { IpProto } from "./ip-proto.ts";
import {
  emitIpv4Packet,
  IPV4_HEADER_LEN,
  Ipv4Packet,
  type Ipv4Repr,
  ipv4ReprLen,
  parseIpv4Packet,
} from "./ipv4.ts";
import { arbBytes, arbIpv4Repr, patch, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

/** ICMP echo request, 10.0.0.1 > 10.0.0.2, DF, id 2297, ttl 64 (as captured). */
const PACKET = FRAMES.icmp4EchoRequest.subarray(14);
const REPR: Ipv4Repr = {
  src: 0x0a00_0001,
  dst: 0x0a00_0002,
  protocol: IpProto.Icmp,
  ttl: 64,
  dscp: 0,
  ecn: 0,
  ident: 2297,
  dontFrag: true,
  moreFrags: false,
  fragOffset: 0,
  options: new Uint8Array(0),
  payloadLen: 64,
};
const WITH_OPTIONS = FRAMES.icmp4RecordRoute.subarray(14);

function isKind(kind: WireError["kind"]): (e: unknown) => boolean {
  return (e) => e instanceof WireError && e.kind === kind;
}

test("Ipv4Packet reads fields of a captured packet", () => {
  const p = Ipv4Packet.check(PACKET);
  assert.deepEqual([p.version, p.headerLen, p.dscp, p.ecn, p.totalLen], [4, 20, 0, 0, 84]);
  assert.deepEqual(
    [p.ident, p.dontFrag, p.moreFrags, p.fragOffset, p.isFragment],
    [2297, true, false, 0, false],
  );
  assert.deepEqual([p.ttl, p.protocol, p.src, p.dst], [64, 1, 0x0a00_0001, 0x0a00_0002]);
  assert.equal(p.verifyChecksum(), true);
  assert.equal(p.payload.length, 64);
  assert.equal(p.payload.buffer, PACKET.buffer);
});

test("Ipv4Packet setters write the captured header", () => {
  const buf = poisoned(PACKET.length);
  buf.set(PACKET.subarray(20), 20);
  const p = new Ipv4Packet(buf);
  p.headerLen = 20;
  p.dscp = 0;
  p.ecn = 0;
  p.totalLen = 84;
  p.ident = 2297;
  buf[6] = 0;
  buf[7] = 0;
  p.dontFrag = true;
  p.moreFrags = false;
  p.fragOffset = 0;
  p.ttl = 64;
  p.protocol = IpProto.Icmp;
  p.src = 0x0a00_0001;
  p.dst = 0x0a00_0002;
  p.fillChecksum();
  assert.deepEqual(buf, PACKET);
});

test("parseIpv4Packet() decodes a captured header, and options verbatim", () => {
  assert.deepEqual(parseIpv4Packet(PACKET), REPR);
  const r = parseIpv4Packet(WITH_OPTIONS);
  assert.equal(r.options.length, 40);
  assert.deepEqual([...r.options.subarray(0, 4)], [0x01, 0x07, 0x27, 0x08]); // NOP, RR len 39 ptr 8
  assert.equal(r.payloadLen, 64);
});

test("parseIpv4Packet() decodes fragment fields", () => {
  const first = parseIpv4Packet(FRAMES.ipv4FragFirst.subarray(14));
  assert.deepEqual([first.moreFrags, first.fragOffset, first.dontFrag], [true, 0, false]);
  const last = parseIpv4Packet(FRAMES.ipv4FragLast.subarray(14));
  assert.deepEqual([last.moreFrags, last.fragOffset, last.payloadLen], [false, 2960, 48]);
  assert.equal(Ipv4Packet.check(FRAMES.ipv4FragLast.subarray(14)).isFragment, true);
});

test("emitIpv4Packet() writes every header byte, options included", () => {
  const buf = poisoned(ipv4ReprLen(REPR));
  emitIpv4Packet(REPR, buf);
  assert.deepEqual(buf, PACKET.subarray(0, 20));
  const r = parseIpv4Packet(WITH_OPTIONS);
  const out = poisoned(ipv4ReprLen(r));
  emitIpv4Packet(r, out);
  assert.deepEqual(out, WITH_OPTIONS.subarray(0, 60));
});

test("emitIpv4Packet() leaves the checksum 0 when caps say so", () => {
  const buf = poisoned(20);
  emitIpv4Packet(REPR, buf, { ...CHECKSUM_CAPS_DEFAULT, ipv4: "rx" });
  assert.deepEqual([buf[10], buf[11]], [0, 0]);
});

test("emitIpv4Packet() rejects options that are not 4-byte aligned or too long", () => {
  assert.throws(() => emitIpv4Packet({ ...REPR, options: new Uint8Array(3) }, poisoned(24)), RangeError);
  assert.throws(() => emitIpv4Packet({ ...REPR, options: new Uint8Array(44) }, poisoned(64)), RangeError);
  assert.throws(() => emitIpv4Packet({ ...REPR, payloadLen: 65520 }, poisoned(20)), RangeError);
});

test("parseIpv4Packet() throws checksum on a corrupted header unless caps skip it", () => {
  const bad = PACKET.slice();
  bad[8] = 63;
  assert.throws(() => parseIpv4Packet(bad), isKind("checksum"));
  assert.equal(parseIpv4Packet(bad, CHECKSUM_CAPS_NONE).ttl, 63);
  assert.equal(parseIpv4Packet(bad, { ...CHECKSUM_CAPS_DEFAULT, ipv4: "tx" }).ttl, 63);
});

test("parseIpv4Packet() rejects truncated buffers and lying lengths", () => {
  const cases: [string, (b: Uint8Array) => Uint8Array, WireError["kind"]][] = [
    ["short header", (b) => b.subarray(0, 19), "truncated"],
    ["version 6", (b) => patch(b, { 0: 0x65 }), "malformed"],
    ["IHL 4", (b) => patch(b, { 0: 0x44 }), "malformed"],
    ["IHL beyond buffer", (b) => patch(b, { 0: 0x4f }).subarray(0, 40), "truncated"],
    ["total length beyond buffer", (b) => patch(b, { 3: 85 }), "truncated"],
    ["total length below header", (b) => patch(b, { 2: 0, 3: 19 }), "malformed"],
    ["buffer cut inside payload", (b) => b.subarray(0, 83), "truncated"],
  ];
  for (const [name, mutate, kind] of cases) {
    assert.throws(() => parseIpv4Packet(mutate(PACKET.slice()), CHECKSUM_CAPS_NONE), isKind(kind), name);
  }
});

test("Ipv4Packet.payload stops at total length, ignoring link-layer padding", () => {
  const padded = new Uint8Array(PACKET.length + 6);
  padded.set(PACKET);
  const p = Ipv4Packet.check(padded);
  assert.equal(p.payload.length, 64);
  assert.equal(parseIpv4Packet(padded).payloadLen, 64);
});

test("parseIpv4Packet() inverts emitIpv4Packet() for every repr", () => {
  fc.assert(
    fc.property(arbIpv4Repr, (repr) => {
      const len = ipv4ReprLen(repr);
      const buf = poisoned(len + repr.payloadLen);
      emitIpv4Packet(repr, buf);
      assert.deepEqual(parseIpv4Packet(buf), repr);
    }),
    { numRuns: 200 },
  );
});

test("parseIpv4Packet() throws nothing but WireError on random and mutated bytes", () => {
  fc.assert(
    fc.property(arbBytes(0, 80), fc.integer({ min: 0, max: 3 }), (bytes, shape) => {
      const b = shape === 0 ? bytes : PACKET.slice();
      if (shape !== 0) for (let i = 0; i < bytes.length; i += 2) b[bytes[i] % b.length] = bytes[i + 1] ?? 0;
      try {
        parseIpv4Packet(b, shape === 3 ? CHECKSUM_CAPS_DEFAULT : CHECKSUM_CAPS_NONE);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
  );
});

test("IPV4_HEADER_LEN is 20", () => assert.equal(IPV4_HEADER_LEN, 20));
