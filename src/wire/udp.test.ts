import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseIpv6 } from "./addr.ts";
import { CHECKSUM_CAPS_DEFAULT, CHECKSUM_CAPS_NONE, type IpAddrPair } from "./checksum.ts";
import { WireError } from "./error.ts";
import { arbBytes, arbIpv6, arbU32, arbUdpRepr, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";
import { emitUdp, parseUdp, UDP_HEADER_LEN, UdpPacket, type UdpRepr, udpReprLen } from "./udp.ts";

/** "hello udp4" from 10.0.0.1:37109 to 10.0.0.2:6000 (as captured, checksum completed). */
const DATAGRAM = FRAMES.udp4.subarray(34);
const IP4: IpAddrPair = { src: 0x0a00_0001, dst: 0x0a00_0002 };
const REPR: UdpRepr = { srcPort: 37109, dstPort: 6000, payload: new TextEncoder().encode("hello udp4") };
const DATAGRAM6 = FRAMES.udp6.subarray(54);
const IP6: IpAddrPair = { src: parseIpv6("2001:db8::1"), dst: parseIpv6("2001:db8::2") };

function isKind(kind: WireError["kind"]): (e: unknown) => boolean {
  return (e) => e instanceof WireError && e.kind === kind;
}

test("UdpPacket reads fields of a captured datagram", () => {
  const p = UdpPacket.check(DATAGRAM);
  assert.deepEqual([p.srcPort, p.dstPort, p.length], [37109, 6000, 18]);
  assert.deepEqual(p.payload, REPR.payload);
  assert.equal(p.verifyChecksum(IP4), true);
  assert.equal(p.verifyChecksum({ src: IP4.src, dst: 0x0a00_0003 }), false);
});

test("UdpPacket setters write the captured datagram", () => {
  const buf = poisoned(18);
  buf.set(REPR.payload, 8);
  const p = new UdpPacket(buf);
  p.srcPort = 37109;
  p.dstPort = 6000;
  p.length = 18;
  p.fillChecksum(IP4);
  assert.deepEqual(buf, DATAGRAM);
});

test("parseUdp() decodes captured IPv4 and IPv6 datagrams", () => {
  assert.deepEqual(parseUdp(DATAGRAM, IP4), REPR);
  assert.deepEqual(parseUdp(new UdpPacket(DATAGRAM6), IP6), {
    srcPort: 37926,
    dstPort: 6000,
    payload: new TextEncoder().encode("hello udp6"),
  });
});

test("emitUdp() writes every byte and fills the checksum", () => {
  const buf = poisoned(udpReprLen(REPR));
  emitUdp(REPR, buf, IP4);
  assert.deepEqual(buf, DATAGRAM);
});

test("emitUdp() writes a zero checksum when caps say not to fill", () => {
  const buf = poisoned(udpReprLen(REPR));
  emitUdp(REPR, buf, IP4, { ...CHECKSUM_CAPS_DEFAULT, udp: "rx" });
  assert.equal(new UdpPacket(buf).checksum, 0);
});

test("emitUdp() sends a computed checksum of 0 as 0xffff (RFC 768)", () => {
  // Choose the payload so the checksum computes to zero: the sum must be all ones.
  const repr: UdpRepr = { srcPort: 0, dstPort: 0, payload: new Uint8Array(2) };
  const probe = poisoned(10);
  emitUdp(repr, probe, IP4, CHECKSUM_CAPS_NONE);
  const p = new UdpPacket(probe);
  p.fillChecksum(IP4);
  const need = p.checksum;
  const payload = new Uint8Array([need >>> 8, need & 0xff]);
  const buf = poisoned(10);
  emitUdp({ ...repr, payload }, buf, IP4);
  assert.equal(new UdpPacket(buf).checksum, 0xffff);
  assert.deepEqual(parseUdp(buf, IP4).payload, payload);
});

test("parseUdp() accepts a zero checksum over IPv4 only (RFC 768, RFC 8200 § 8.1)", () => {
  const v4 = DATAGRAM.slice();
  v4[6] = 0;
  v4[7] = 0;
  assert.deepEqual(parseUdp(v4, IP4), REPR);
  const v6 = DATAGRAM6.slice();
  v6[6] = 0;
  v6[7] = 0;
  assert.throws(() => parseUdp(v6, IP6), isKind("checksum"));
  assert.equal(parseUdp(v6, IP6, CHECKSUM_CAPS_NONE).dstPort, 6000);
});

test("parseUdp() throws checksum on corruption unless caps skip it", () => {
  const bad = DATAGRAM.slice();
  bad[10] ^= 1;
  assert.throws(() => parseUdp(bad, IP4), isKind("checksum"));
  assert.equal(parseUdp(bad, IP4, { ...CHECKSUM_CAPS_DEFAULT, udp: "tx" }).payload.length, 10);
});

test("parseUdp() rejects truncated buffers and lying lengths", () => {
  assert.throws(() => parseUdp(DATAGRAM.subarray(0, 7), IP4), isKind("truncated"));
  const long = DATAGRAM.slice();
  long[5] = 19;
  assert.throws(() => parseUdp(long, IP4, CHECKSUM_CAPS_NONE), isKind("truncated"));
  const short = DATAGRAM.slice();
  short[5] = 7;
  assert.throws(() => parseUdp(short, IP4, CHECKSUM_CAPS_NONE), isKind("malformed"));
});

test("parseUdp() stops the payload at the length field", () => {
  const padded = new Uint8Array(24);
  padded.set(DATAGRAM);
  assert.deepEqual(parseUdp(padded, IP4), REPR);
});

test("parseUdp() inverts emitUdp() for every repr over IPv4 and IPv6", () => {
  fc.assert(
    fc.property(arbUdpRepr, arbU32, arbIpv6, fc.boolean(), (repr, a4, a6, v6) => {
      const ip: IpAddrPair = v6 ? { src: a6, dst: ~a6 & ((1n << 128n) - 1n) } : { src: a4, dst: ~a4 >>> 0 };
      const buf = poisoned(udpReprLen(repr));
      emitUdp(repr, buf, ip);
      assert.deepEqual(parseUdp(buf, ip), repr);
    }),
  );
});

test("parseUdp() throws nothing but WireError on random bytes", () => {
  fc.assert(
    fc.property(arbBytes(0, 40), (bytes) => {
      try {
        parseUdp(bytes, IP4);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
  );
});

test("UDP_HEADER_LEN is 8", () => assert.equal(UDP_HEADER_LEN, 8));
