import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseIpv4, parseIpv6, parseMac, writeIpv6 } from "./addr.ts";
import { CHECKSUM_CAPS_DEFAULT, CHECKSUM_CAPS_NONE } from "./checksum.ts";
import { WireError } from "./error.ts";
import { EtherType } from "./ethernet.ts";
import { emitFrame, emitFrameInto, type FrameRepr, frameReprLen, parseFrame } from "./frame.ts";
import { IpProto } from "./ip-proto.ts";
import { assertNoNaN, poisoned } from "./test-arbitraries.ts";
import { FRAMES, type FrameName } from "./test-frames.ts";
import { createRng, mutateFrame, randomFrame } from "./test-mutate.ts";
import { UdpPacket } from "./udp.ts";

const NAMES = Object.keys(FRAMES) as FrameName[];

/** Parses as a data path would; returns the error kind or the repr. */
function attempt(bytes: Uint8Array, caps = CHECKSUM_CAPS_DEFAULT): FrameRepr | WireError["kind"] {
  try {
    return parseFrame(bytes, caps);
  } catch (e) {
    if (e instanceof WireError) return e.kind;
    throw e;
  }
}

test("emitFrame() reproduces every captured kernel frame byte for byte", () => {
  for (const name of NAMES) {
    const bytes = FRAMES[name];
    const repr = parseFrame(bytes);
    assert.equal(frameReprLen(repr), bytes.length, name);
    assert.deepEqual(emitFrame(repr), bytes, name);
    const buf = poisoned(bytes.length);
    assert.equal(emitFrameInto(repr, buf), bytes.length);
    assert.deepEqual(buf, bytes, name);
  }
});

test("parseFrame() decodes each layer of a captured TCP/IPv6 segment", () => {
  const f = parseFrame(FRAMES.tcp6Syn);
  assert.equal(f.eth.etherType, EtherType.Ipv6);
  assert.equal(f.ipv6?.nextHeader, IpProto.Tcp);
  assert.equal(f.tcp?.dstPort, 5000);
  assert.equal(f.udp, undefined);
  assert.equal(f.padding, undefined);
});

test("parseFrame() keeps IP fragments and unknown protocols as raw payload", () => {
  for (const name of ["ipv4FragFirst", "ipv4FragLast", "ipv6FragFirst", "ipv6FragLast"] as const) {
    const f = parseFrame(FRAMES[name]);
    assert.equal(f.icmpv4 ?? f.icmpv6, undefined, name);
    assert.ok(f.payload !== undefined && f.payload.length > 0, name);
  }
  const unknown = FRAMES.arpRequest.slice();
  unknown[13] = 0x07;
  assert.deepEqual(parseFrame(unknown).payload, unknown.subarray(14));
});

test("parseFrame() keeps Ethernet padding and a UDP trailer so emit reproduces them", () => {
  const arp = new Uint8Array(60);
  arp.set(FRAMES.arpRequest);
  const a = parseFrame(arp);
  assert.equal(a.padding?.length, 18);
  assert.deepEqual(emitFrame(a), arp);
  // UDP length 16 inside an 18-byte IP payload: Linux trims, we keep the 2 bytes as a trailer.
  const f = parseFrame(FRAMES.udp4);
  const shorter: FrameRepr = {
    ...f,
    udp: { ...f.udp!, payload: f.udp!.payload.subarray(0, 8) },
    trailer: new Uint8Array([1, 2]),
  };
  const bytes = emitFrame(shorter);
  assert.equal(bytes.length, FRAMES.udp4.length);
  assert.deepEqual(parseFrame(bytes).trailer, new Uint8Array([1, 2]));
});

test("emitFrame() builds a UDP/IPv4 frame from hand-written reprs, deriving the IP length", () => {
  const repr: FrameRepr = {
    eth: {
      dst: parseMac("02:00:00:00:00:02"),
      src: parseMac("02:00:00:00:00:01"),
      etherType: EtherType.Ipv4,
    },
    ipv4: {
      src: parseIpv4("10.0.0.1"),
      dst: parseIpv4("10.0.0.2"),
      protocol: IpProto.Udp,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      ident: 38178,
      dontFrag: true,
      moreFrags: false,
      fragOffset: 0,
      options: new Uint8Array(0),
      payloadLen: 0,
    },
    udp: { srcPort: 37109, dstPort: 6000, payload: new TextEncoder().encode("hello udp4") },
  };
  assert.deepEqual(emitFrame(repr), FRAMES.udp4);
});

test("emitFrame() builds an ICMPv6 echo over IPv6 and refuses ICMPv6 over IPv4", () => {
  const f = parseFrame(FRAMES.icmp6EchoRequest);
  assert.deepEqual(
    emitFrame({ ...f, ipv6: { ...f.ipv6!, src: parseIpv6("2001:db8::1"), payloadLen: 0 } }),
    FRAMES.icmp6EchoRequest,
  );
  const v4 = parseFrame(FRAMES.icmp4EchoRequest);
  assert.throws(() => emitFrame({ eth: v4.eth, ipv4: v4.ipv4!, icmpv6: f.icmpv6! }), TypeError);
  assert.throws(() => emitFrameInto(f, new Uint8Array(10)), RangeError);
  assert.throws(() => emitFrame({ ...v4, ipv4: { ...v4.ipv4!, protocol: IpProto.Udp } }), TypeError);
});

test("emitFrame()/parseFrame() checksum a transport behind a routing header against its final destination", () => {
  const f = parseFrame(FRAMES.udp6);
  const final = parseIpv6("2001:db8:f::1");
  const next = parseIpv6("2001:db8::2");
  const segments = new Uint8Array(4 + 32);
  segments[0] = 1; // last entry
  writeIpv6(segments, 4, final);
  writeIpv6(segments, 20, next);
  const routed: FrameRepr = {
    ...f,
    ipv6: {
      ...f.ipv6!,
      dst: next,
      extHeaders: [{ kind: "routing", routingType: 4, segmentsLeft: 1, data: segments }],
    },
  };
  const bytes = emitFrame(routed);
  assert.deepEqual(parseFrame(bytes), { ...routed, ipv6: { ...routed.ipv6!, payloadLen: 18 } });
  const udp = bytes.subarray(bytes.length - 18);
  assert.equal(new UdpPacket(udp).verifyChecksum({ src: f.ipv6!.src, dst: final }), true);
  assert.equal(new UdpPacket(udp).verifyChecksum({ src: f.ipv6!.src, dst: next }), false);
});

test("parseFrame() throws only WireError for every truncation of every captured frame", () => {
  for (const name of NAMES) {
    const bytes = FRAMES[name];
    for (let len = 0; len < bytes.length; len++) {
      const r = attempt(bytes.subarray(0, len), CHECKSUM_CAPS_NONE);
      if (typeof r !== "string") assertNoNaN(r);
    }
  }
});

test("parseFrame() on mutated frames throws only WireError, and emit then parse is stable", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...NAMES),
      fc.integer({ min: 0, max: 0x7fff_ffff }),
      fc.boolean(),
      (name, seed, strict) => {
        const mutated = mutateFrame(FRAMES[name], createRng(seed));
        const r = attempt(mutated, strict ? CHECKSUM_CAPS_DEFAULT : CHECKSUM_CAPS_NONE);
        if (typeof r === "string") return;
        assertNoNaN(r);
        const again = parseFrame(emitFrame(r));
        assert.deepEqual(again, r);
      },
    ),
    { numRuns: 2000 },
  );
});

test("parseFrame() on random frames throws only WireError", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0x7fff_ffff }), (seed) => {
      const r = attempt(randomFrame(createRng(seed)), CHECKSUM_CAPS_NONE);
      if (typeof r !== "string") {
        assertNoNaN(r);
        assert.deepEqual(parseFrame(emitFrame(r)), r);
      }
    }),
    { numRuns: 2000 },
  );
});
