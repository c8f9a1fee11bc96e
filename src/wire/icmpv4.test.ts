import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CHECKSUM_CAPS_DEFAULT, CHECKSUM_CAPS_NONE } from "./checksum.ts";
import { WireError } from "./error.ts";
import {
  emitIcmpv4,
  ICMPV4_HEADER_LEN,
  Icmpv4Packet,
  type Icmpv4Repr,
  Icmpv4Type,
  Icmpv4Unreachable,
  icmpv4ReprLen,
  parseIcmpv4,
} from "./icmpv4.ts";
import { arbBytes, arbIcmpv4Repr, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

/** Echo request id 4260 seq 1 with 56 bytes of ping data (as captured). */
const ECHO = FRAMES.icmp4EchoRequest.subarray(34);
const UNREACH = FRAMES.icmp4PortUnreachable.subarray(34);

function isKind(kind: WireError["kind"]): (e: unknown) => boolean {
  return (e) => e instanceof WireError && e.kind === kind;
}

test("Icmpv4Packet reads fields of a captured echo request", () => {
  const p = Icmpv4Packet.check(ECHO);
  assert.deepEqual([p.type, p.code, p.echoIdent, p.echoSeq], [Icmpv4Type.EchoRequest, 0, 4260, 1]);
  assert.equal(p.data.length, 56);
  assert.equal(p.verifyChecksum(), true);
});

test("Icmpv4Packet setters write the captured echo request", () => {
  const buf = poisoned(ECHO.length);
  buf.set(ECHO.subarray(8), 8);
  const p = new Icmpv4Packet(buf);
  p.type = Icmpv4Type.EchoRequest;
  p.code = 0;
  p.echoIdent = 4260;
  p.echoSeq = 1;
  p.fillChecksum();
  assert.deepEqual(buf, ECHO);
});

test("parseIcmpv4() decodes captured echo, unreachable, time exceeded and redirect messages", () => {
  assert.deepEqual(parseIcmpv4(ECHO), { kind: "echo-request", ident: 4260, seq: 1, data: ECHO.subarray(8) });
  assert.deepEqual(parseIcmpv4(new Icmpv4Packet(UNREACH)), {
    kind: "dest-unreachable",
    code: Icmpv4Unreachable.PortUnreachable,
    nextHopMtu: 0,
    data: UNREACH.subarray(8),
  });
  const te = parseIcmpv4(FRAMES.icmp4TimeExceeded.subarray(34));
  assert.deepEqual(
    [te.kind, te.kind === "time-exceeded" && te.code, te.kind === "time-exceeded" && te.data.length],
    ["time-exceeded", 0, 84],
  );
  const rd = parseIcmpv4(FRAMES.icmp4Redirect.subarray(34));
  assert.deepEqual(rd.kind === "redirect" && [rd.code, rd.gateway], [1, 0x0a00_0001]);
});

test("emitIcmpv4() writes every byte of captured messages", () => {
  for (const frame of [
    FRAMES.icmp4EchoRequest,
    FRAMES.icmp4EchoReply,
    FRAMES.icmp4PortUnreachable,
    FRAMES.icmp4TimeExceeded,
    FRAMES.icmp4Redirect,
  ]) {
    const msg = frame.subarray(34);
    const r = parseIcmpv4(msg);
    const buf = poisoned(icmpv4ReprLen(r));
    emitIcmpv4(r, buf);
    assert.deepEqual(buf, msg);
  }
});

test("emitIcmpv4() writes the RFC 1191 next-hop MTU", () => {
  const r: Icmpv4Repr = {
    kind: "dest-unreachable",
    code: Icmpv4Unreachable.FragNeeded,
    nextHopMtu: 1400,
    data: new Uint8Array(28),
  };
  const buf = poisoned(icmpv4ReprLen(r));
  emitIcmpv4(r, buf);
  assert.deepEqual([...buf.subarray(4, 8)], [0, 0, 0x05, 0x78]);
  assert.equal(new Icmpv4Packet(buf).nextHopMtu, 1400);
});

test("parseIcmpv4() keeps unknown types and odd shapes raw", () => {
  const ts = poisoned(20);
  ts[0] = Icmpv4Type.Timestamp;
  ts[1] = 0;
  new Icmpv4Packet(ts).fillChecksum();
  const r = parseIcmpv4(ts);
  assert.deepEqual(r, { kind: "other", type: 13, code: 0, data: ts.subarray(4) });
  const echoCode = ECHO.slice();
  echoCode[1] = 1;
  new Icmpv4Packet(echoCode).fillChecksum();
  assert.equal(parseIcmpv4(echoCode).kind, "other");
  const te = FRAMES.icmp4TimeExceeded.slice(34);
  te[5] = 1;
  new Icmpv4Packet(te).fillChecksum();
  const raw = parseIcmpv4(te);
  assert.equal(raw.kind, "other");
  const out = poisoned(icmpv4ReprLen(raw));
  emitIcmpv4(raw, out);
  assert.deepEqual(out, te);
});

test("emitIcmpv4() leaves the checksum 0 when caps say so", () => {
  const r = parseIcmpv4(ECHO);
  const buf = poisoned(icmpv4ReprLen(r));
  emitIcmpv4(r, buf, CHECKSUM_CAPS_NONE);
  assert.deepEqual([buf[2], buf[3]], [0, 0]);
  assert.throws(
    () => emitIcmpv4({ kind: "other", type: 99, code: 0, data: new Uint8Array(3) }, poisoned(8)),
    RangeError,
  );
});

test("parseIcmpv4() throws checksum on corruption and truncated on short messages", () => {
  const bad = ECHO.slice();
  bad[20] ^= 0xff;
  assert.throws(() => parseIcmpv4(bad), isKind("checksum"));
  assert.equal(parseIcmpv4(bad, { ...CHECKSUM_CAPS_DEFAULT, icmpv4: "tx" }).kind, "echo-request");
  assert.throws(() => parseIcmpv4(ECHO.subarray(0, 7)), isKind("truncated"));
});

test("parseIcmpv4() inverts emitIcmpv4() for every repr", () => {
  fc.assert(
    fc.property(arbIcmpv4Repr, (repr) => {
      const buf = poisoned(icmpv4ReprLen(repr));
      emitIcmpv4(repr, buf);
      assert.deepEqual(parseIcmpv4(buf), repr);
    }),
  );
});

test("parseIcmpv4() throws nothing but WireError on random bytes", () => {
  fc.assert(
    fc.property(arbBytes(0, 40), (bytes) => {
      try {
        parseIcmpv4(bytes, CHECKSUM_CAPS_NONE);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
  );
});

test("ICMPV4_HEADER_LEN is 8", () => assert.equal(ICMPV4_HEADER_LEN, 8));
