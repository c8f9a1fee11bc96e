import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseIpv6 } from "./addr.ts";
import { CHECKSUM_CAPS_DEFAULT, CHECKSUM_CAPS_NONE, type IpAddrPair } from "./checksum.ts";
import { WireError } from "./error.ts";
import {
  emitTcp,
  parseTcp,
  parseTcpOptions,
  TCP_HEADER_LEN,
  TcpFlag,
  type TcpOption,
  TcpPacket,
  type TcpRepr,
  tcpOptionsLen,
  tcpReprLen,
} from "./tcp.ts";
import { arbBytes, arbIpv6, arbTcpRepr, arbU32, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

/** A Linux SYN: mss 1460, sackOK, TS val 4177924643 ecr 0, nop, wscale 10 (as captured). */
const SYN = FRAMES.tcp4Syn.subarray(34);
const IP4: IpAddrPair = { src: 0x0a00_0001, dst: 0x0a00_0002 };
const SYN_REPR: TcpRepr = {
  srcPort: 60242,
  dstPort: 5000,
  seq: 1370090087,
  ack: 0,
  flags: TcpFlag.Syn,
  window: 64240,
  urgent: 0,
  options: [
    { kind: "mss", value: 1460 },
    { kind: "sack-permitted" },
    { kind: "timestamp", tsval: 4177924643, tsecr: 0 },
    { kind: "nop" },
    { kind: "window-scale", shift: 10 },
  ],
  payload: new Uint8Array(0),
};
const DATA6 = FRAMES.tcp6Data.subarray(54);
const IP6: IpAddrPair = { src: parseIpv6("2001:db8::2"), dst: parseIpv6("2001:db8::1") };

function isKind(kind: WireError["kind"]): (e: unknown) => boolean {
  return (e) => e instanceof WireError && e.kind === kind;
}

test("TcpPacket reads fields of a captured SYN", () => {
  const p = TcpPacket.check(SYN);
  assert.deepEqual([p.srcPort, p.dstPort, p.seq, p.ack], [60242, 5000, 1370090087, 0]);
  assert.deepEqual([p.headerLen, p.flags, p.window, p.urgent], [40, TcpFlag.Syn, 64240, 0]);
  assert.equal(p.options.length, 20);
  assert.equal(p.payload.length, 0);
  assert.equal(p.verifyChecksum(IP4), true);
});

test("TcpPacket setters write the captured SYN", () => {
  const buf = poisoned(SYN.length);
  buf.set(SYN.subarray(20, 40), 20);
  buf[12] = 0;
  const p = new TcpPacket(buf);
  p.srcPort = 60242;
  p.dstPort = 5000;
  p.seq = 1370090087;
  p.ack = 0;
  p.headerLen = 40;
  p.flags = TcpFlag.Syn;
  p.window = 64240;
  p.urgent = 0;
  p.fillChecksum(IP4);
  assert.deepEqual(buf, SYN);
});

test("parseTcp() decodes a captured SYN with its options in order", () => {
  assert.deepEqual(parseTcp(SYN, IP4), SYN_REPR);
});

test("parseTcp() decodes a captured IPv6 data segment", () => {
  const r = parseTcp(new TcpPacket(DATA6), IP6);
  assert.equal(r.flags, TcpFlag.Psh | TcpFlag.Ack);
  assert.deepEqual(r.options.slice(0, 2), [{ kind: "nop" }, { kind: "nop" }]);
  assert.equal(new TextDecoder().decode(r.payload), "pong:ping");
});

test("emitTcp() writes every byte of captured segments", () => {
  const buf = poisoned(tcpReprLen(SYN_REPR));
  emitTcp(SYN_REPR, buf, IP4);
  assert.deepEqual(buf, SYN);
  const r = parseTcp(DATA6, IP6);
  const out = poisoned(tcpReprLen(r));
  emitTcp(r, out, IP6);
  assert.deepEqual(out, DATA6);
});

test("emitTcp() writes a zero checksum when caps say not to fill", () => {
  const buf = poisoned(tcpReprLen(SYN_REPR));
  emitTcp(SYN_REPR, buf, IP4, CHECKSUM_CAPS_NONE);
  assert.equal(new TcpPacket(buf).checksum, 0);
});

test("parseTcpOptions() decodes SACK, keeps unknown or odd-sized options raw, ends at EOL", () => {
  const bytes = new Uint8Array([
    5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 30, 4, 0xab, 0xcd, 2, 3, 9, 0, 0xff, 0xff,
  ]);
  const expected: TcpOption[] = [
    {
      kind: "sack",
      blocks: [
        [1, 2],
        [3, 4],
      ],
    },
    { kind: "unknown", type: 30, data: new Uint8Array([0xab, 0xcd]) },
    { kind: "unknown", type: 2, data: new Uint8Array([9]) },
    { kind: "eol", trailing: new Uint8Array([0xff, 0xff]) },
  ];
  assert.deepEqual(parseTcpOptions(bytes), expected);
  assert.equal(tcpOptionsLen(expected), 28);
});

test("parseTcpOptions() treats zero padding after EOL as implied, other trailing bytes as data", () => {
  assert.deepEqual(parseTcpOptions(new Uint8Array([1, 0, 0, 0])), [{ kind: "nop" }, { kind: "eol" }]);
  const long = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
  const opts = parseTcpOptions(long);
  assert.deepEqual(opts, [{ kind: "nop" }, { kind: "eol", trailing: new Uint8Array(6) }]);
  const repr: TcpRepr = { ...SYN_REPR, options: opts };
  const buf = poisoned(tcpReprLen(repr));
  emitTcp(repr, buf, IP4);
  assert.deepEqual(buf.subarray(20, 28), long);
  assert.deepEqual(parseTcp(buf, IP4).options, opts);
});

test("parseTcpOptions() rejects option lengths below 2 or past the header", () => {
  for (const bad of [[2], [2, 1, 0, 0], [2, 0], [8, 10, 0, 0]]) {
    assert.throws(() => parseTcpOptions(new Uint8Array(bad)), isKind("malformed"), String(bad));
  }
});

test("parseTcp() throws checksum on corruption unless caps skip it", () => {
  const bad = SYN.slice();
  bad[14] ^= 0x10;
  assert.throws(() => parseTcp(bad, IP4), isKind("checksum"));
  assert.equal(parseTcp(bad, IP4, { ...CHECKSUM_CAPS_DEFAULT, tcp: "tx" }).window, 64240 ^ 0x1000);
});

test("parseTcp() rejects truncated buffers and lying data offsets", () => {
  assert.throws(() => parseTcp(SYN.subarray(0, 19), IP4), isKind("truncated"));
  const small = SYN.slice();
  small[12] = 0x40;
  assert.throws(() => parseTcp(small, IP4, CHECKSUM_CAPS_NONE), isKind("malformed"));
  const big = SYN.slice();
  big[12] = 0xf0;
  assert.throws(() => parseTcp(big, IP4, CHECKSUM_CAPS_NONE), isKind("truncated"));
});

test("emitTcp() rejects more than 40 bytes of options", () => {
  const options: TcpOption[] = Array.from({ length: 5 }, () => ({ kind: "timestamp", tsval: 1, tsecr: 2 }));
  assert.throws(() => emitTcp({ ...SYN_REPR, options }, poisoned(80), IP4), RangeError);
});

test("parseTcp() inverts emitTcp() for every repr over IPv4 and IPv6", () => {
  fc.assert(
    fc.property(arbTcpRepr, arbU32, arbIpv6, fc.boolean(), (repr, a4, a6, v6) => {
      const ip: IpAddrPair = v6 ? { src: a6, dst: 1n } : { src: a4, dst: 0x0a00_0001 };
      const buf = poisoned(tcpReprLen(repr));
      emitTcp(repr, buf, ip);
      assert.deepEqual(parseTcp(buf, ip), repr);
    }),
    { numRuns: 200 },
  );
});

test("parseTcp() throws nothing but WireError on random and mutated bytes", () => {
  fc.assert(
    fc.property(arbBytes(0, 64), fc.boolean(), (bytes, mutate) => {
      const b = mutate ? SYN.slice() : bytes;
      if (mutate) for (let i = 0; i + 1 < bytes.length; i += 2) b[bytes[i] % b.length] = bytes[i + 1];
      try {
        parseTcp(b, IP4, CHECKSUM_CAPS_NONE);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
  );
});

test("TCP_HEADER_LEN is 20", () => assert.equal(TCP_HEADER_LEN, 20));
