import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseIpv6 } from "./addr.ts";
import { WireError } from "./error.ts";
import { IpProto } from "./ip-proto.ts";
import {
  emitIpv6Packet,
  IPV6_HEADER_LEN,
  Ipv6Packet,
  type Ipv6Repr,
  ipv6FragmentHeader,
  ipv6ReprLen,
  parseIpv6Packet,
} from "./ipv6.ts";
import { arbBytes, arbIpv6Repr, patch, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

/** ICMPv6 echo request 2001:db8::1 > 2001:db8::2, flow label 0xc57ff (as captured). */
const PACKET = FRAMES.icmp6EchoRequest.subarray(14);
const REPR: Ipv6Repr = {
  src: parseIpv6("2001:db8::1"),
  dst: parseIpv6("2001:db8::2"),
  nextHeader: IpProto.Icmpv6,
  hopLimit: 64,
  dscp: 0,
  ecn: 0,
  flowLabel: 0xc57ff,
  extHeaders: [],
  payloadLen: 64,
};

function isKind(kind: WireError["kind"]): (e: unknown) => boolean {
  return (e) => e instanceof WireError && e.kind === kind;
}

test("Ipv6Packet reads fields of a captured packet", () => {
  const p = Ipv6Packet.check(PACKET);
  assert.deepEqual([p.version, p.trafficClass, p.flowLabel, p.payloadLen], [6, 0, 0xc57ff, 64]);
  assert.deepEqual([p.nextHeader, p.hopLimit], [IpProto.Icmpv6, 64]);
  assert.equal(p.src, REPR.src);
  assert.equal(p.dst, REPR.dst);
  assert.deepEqual(p.upperLayer, { protocol: IpProto.Icmpv6, offset: 40, extCount: 0 });
  assert.equal(p.upperLayerPayload.length, 64);
  assert.equal(p.payload.buffer, PACKET.buffer);
});

test("Ipv6Packet setters write the captured header", () => {
  const buf = poisoned(PACKET.length);
  buf.set(PACKET.subarray(40), 40);
  buf[0] = 0x60;
  buf[1] = 0;
  const p = new Ipv6Packet(buf);
  p.trafficClass = 0;
  p.flowLabel = 0xc57ff;
  p.payloadLen = 64;
  p.nextHeader = IpProto.Icmpv6;
  p.hopLimit = 64;
  p.src = REPR.src;
  p.dst = REPR.dst;
  assert.deepEqual(buf, PACKET);
  p.trafficClass = 0xb8;
  assert.deepEqual([p.trafficClass, p.flowLabel, p.version], [0xb8, 0xc57ff, 6]);
});

test("parseIpv6Packet() decodes a captured header", () => {
  assert.deepEqual(parseIpv6Packet(PACKET), REPR);
});

test("parseIpv6Packet() exposes the upper layer behind extension headers", () => {
  const r = parseIpv6Packet(FRAMES.udp6Srh.subarray(14));
  assert.equal(r.nextHeader, IpProto.Udp);
  assert.equal(r.extHeaders.length, 1);
  assert.equal(r.payloadLen, 13);
  const frag = parseIpv6Packet(FRAMES.ipv6FragFirst.subarray(14));
  assert.deepEqual(ipv6FragmentHeader(frag), {
    kind: "fragment",
    offset: 0,
    moreFrags: true,
    ident: 0x9549_762b,
  });
  assert.equal(ipv6FragmentHeader(REPR), undefined);
});

test("emitIpv6Packet() writes every byte of captured headers, extension headers included", () => {
  const buf = poisoned(ipv6ReprLen(REPR));
  emitIpv6Packet(REPR, buf);
  assert.deepEqual(buf, PACKET.subarray(0, 40));
  for (const frame of [
    FRAMES.udp6HopByHop,
    FRAMES.udp6DestOpts,
    FRAMES.udp6Srh,
    FRAMES.mldv2Report4,
    FRAMES.ipv6FragLast,
  ]) {
    const pkt = frame.subarray(14);
    const r = parseIpv6Packet(pkt);
    const out = poisoned(ipv6ReprLen(r));
    emitIpv6Packet(r, out);
    assert.deepEqual(out, pkt.subarray(0, out.length));
  }
});

test("parseIpv6Packet() rejects truncated buffers and lying lengths", () => {
  const cases: [string, (b: Uint8Array) => Uint8Array, WireError["kind"]][] = [
    ["short header", (b) => b.subarray(0, 39), "truncated"],
    ["version 4", (b) => patch(b, { 0: 0x40 }), "malformed"],
    ["payload length beyond buffer", (b) => patch(b, { 5: 65 }), "truncated"],
    ["buffer cut inside payload", (b) => b.subarray(0, 100), "truncated"],
  ];
  for (const [name, mutate, kind] of cases) {
    assert.throws(() => parseIpv6Packet(mutate(PACKET.slice())), isKind(kind), name);
  }
  const hbh = FRAMES.udp6HopByHop.slice(14);
  hbh[41] = 200;
  assert.throws(() => parseIpv6Packet(hbh), isKind("truncated"));
});

test("parseIpv6Packet() ignores link-layer padding after the payload", () => {
  const padded = new Uint8Array(PACKET.length + 10);
  padded.set(PACKET);
  assert.deepEqual(parseIpv6Packet(padded), REPR);
  assert.equal(Ipv6Packet.check(padded).payload.length, 64);
});

test("emitIpv6Packet() rejects payloads beyond 65535 bytes", () => {
  assert.throws(() => emitIpv6Packet({ ...REPR, payloadLen: 65536 }, poisoned(40)), RangeError);
});

test("parseIpv6Packet() inverts emitIpv6Packet() for every repr", () => {
  fc.assert(
    fc.property(arbIpv6Repr, (repr) => {
      const buf = poisoned(ipv6ReprLen(repr) + repr.payloadLen);
      emitIpv6Packet(repr, buf);
      assert.deepEqual(parseIpv6Packet(buf), repr);
    }),
    { numRuns: 200 },
  );
});

test("parseIpv6Packet() throws nothing but WireError on random and mutated bytes", () => {
  const base = FRAMES.udp6HopByHop.subarray(14);
  fc.assert(
    fc.property(arbBytes(0, 80), fc.boolean(), (bytes, mutate) => {
      const b = mutate ? base.slice() : bytes;
      if (mutate) for (let i = 0; i + 1 < bytes.length; i += 2) b[bytes[i] % b.length] = bytes[i + 1];
      try {
        parseIpv6Packet(b);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
  );
});

test("IPV6_HEADER_LEN is 40", () => assert.equal(IPV6_HEADER_LEN, 40));
