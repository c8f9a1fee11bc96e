import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { IPV6_ALL_NODES, parseIpv6 } from "./addr.ts";
import { CHECKSUM_CAPS_DEFAULT, CHECKSUM_CAPS_NONE } from "./checksum.ts";
import { WireError } from "./error.ts";
import {
  emitIcmpv6,
  Icmpv6Packet,
  Icmpv6RaFlag,
  type Icmpv6Repr,
  Icmpv6Type,
  type Ipv6AddrPair,
  icmpv6ReprLen,
  parseIcmpv6,
} from "./icmpv6.ts";
import { parseIpv6Packet } from "./ipv6.ts";
import { NdiscPrefixFlag } from "./ndisc-option.ts";
import { arbBytes, arbIcmpv6Repr, arbIpv6, patch, poisoned } from "./test-arbitraries.ts";
import { FRAMES, type FrameName } from "./test-frames.ts";

/** The ICMPv6 message of a captured frame and the addresses its checksum covers. */
function message(name: FrameName): { msg: Uint8Array; ip: Ipv6AddrPair } {
  const pkt = FRAMES[name].subarray(14);
  const ip = parseIpv6Packet(pkt);
  return { msg: pkt.subarray(pkt.length - ip.payloadLen), ip };
}

function isKind(kind: WireError["kind"]): (e: unknown) => boolean {
  return (e) => e instanceof WireError && e.kind === kind;
}

const ROUTER = parseIpv6("fe80::1");
const NODE = parseIpv6("fe80::ff:fe00:2");

test("Icmpv6Packet reads fields of a captured neighbour solicitation", () => {
  const { msg, ip } = message("ns");
  const p = Icmpv6Packet.check(msg);
  assert.deepEqual([p.type, p.code, p.body.length], [Icmpv6Type.NeighborSolicit, 0, 28]);
  assert.equal(p.verifyChecksum(ip), true);
  assert.equal(p.verifyChecksum({ src: ip.src, dst: IPV6_ALL_NODES }), false);
});

test("Icmpv6Packet setters write the captured neighbour solicitation", () => {
  const { msg, ip } = message("ns");
  const buf = poisoned(msg.length);
  buf.set(msg.subarray(4), 4);
  const p = new Icmpv6Packet(buf);
  p.type = Icmpv6Type.NeighborSolicit;
  p.code = 0;
  p.fillChecksum(ip);
  assert.deepEqual(buf, msg);
});

test("parseIcmpv6() decodes captured ND messages", () => {
  const ns = message("ns");
  assert.deepEqual(parseIcmpv6(ns.msg, ns.ip), {
    kind: "neighbor-solicit",
    target: parseIpv6("2001:db8::2"),
    options: [{ kind: "source-ll-addr", addr: 0x0200_0000_0001 }],
  });
  const na = message("naRouter");
  assert.deepEqual(parseIcmpv6(na.msg, na.ip), {
    kind: "neighbor-advert",
    router: true,
    solicited: true,
    override: true,
    target: parseIpv6("2001:db8::2"),
    options: [{ kind: "target-ll-addr", addr: 0x0200_0000_0002 }],
  });
  const rs = message("rs");
  assert.deepEqual(parseIcmpv6(rs.msg, rs.ip), {
    kind: "router-solicit",
    options: [{ kind: "source-ll-addr", addr: 0x0200_0000_0002 }],
  });
  const dad = message("nsDad");
  const r = parseIcmpv6(dad.msg, dad.ip);
  assert.equal(r.kind === "neighbor-solicit" && r.options[0].kind, "unknown");
});

test("parseIcmpv6() decodes captured MLD messages", () => {
  const v1 = message("mldv1Report");
  assert.deepEqual(parseIcmpv6(v1.msg, v1.ip), { kind: "mld-report", group: parseIpv6("ff12::1234") });
  const done = message("mldv1Done");
  assert.deepEqual(parseIcmpv6(done.msg, done.ip), { kind: "mld-done", group: parseIpv6("ff12::1234") });
  const v2 = message("mldv2Report4");
  const r = parseIcmpv6(v2.msg, v2.ip);
  assert.equal(r.kind, "mldv2-report");
  assert.deepEqual(r.kind === "mldv2-report" && r.records.map((x) => x.recordType), [4, 4, 4, 4]);
});

test("parseIcmpv6() decodes captured echo and error messages", () => {
  const echo = message("icmp6EchoRequest");
  const e = parseIcmpv6(echo.msg, echo.ip);
  assert.deepEqual(e.kind === "echo-request" && [e.ident, e.seq, e.data.length], [4261, 1, 56]);
  const te = message("icmp6TimeExceeded");
  const t = parseIcmpv6(te.msg, te.ip);
  assert.deepEqual(t.kind === "time-exceeded" && [t.code, t.data.length], [0, 104]);
  const pu = message("icmp6PortUnreachable");
  const u = parseIcmpv6(pu.msg, pu.ip);
  assert.deepEqual(u.kind === "dest-unreachable" && u.code, 4);
});

test("emitIcmpv6() writes every byte of captured messages", () => {
  const names: FrameName[] = [
    "ns",
    "na",
    "naRouter",
    "nsDad",
    "rs",
    "mldv1Report",
    "mldv1Done",
    "mldv2Report4",
    "mldv2ReportUnspecified",
    "mldv2ReportToIn",
    "icmp6EchoRequest",
    "icmp6EchoReply",
    "icmp6TimeExceeded",
    "icmp6PortUnreachable",
  ];
  for (const name of names) {
    const { msg, ip } = message(name);
    const r = parseIcmpv6(msg, ip);
    const buf = poisoned(icmpv6ReprLen(r));
    emitIcmpv6(r, buf, ip);
    assert.deepEqual(buf, msg, name);
  }
});

test("emitIcmpv6()/parseIcmpv6() handle a router advertisement with options", () => {
  const ra: Icmpv6Repr = {
    kind: "router-advert",
    hopLimit: 64,
    flags: Icmpv6RaFlag.Other,
    routerLifetime: 1800,
    reachableTime: 0,
    retransTimer: 0,
    options: [
      { kind: "source-ll-addr", addr: 0x0200_0000_0001 },
      { kind: "mtu", mtu: 1500 },
      {
        kind: "prefix-info",
        prefixLen: 64,
        flags: NdiscPrefixFlag.OnLink | NdiscPrefixFlag.Autonomous,
        validLifetime: 86400,
        preferredLifetime: 14400,
        prefix: parseIpv6("2001:db8:1::"),
      },
    ],
  };
  const ip = { src: ROUTER, dst: IPV6_ALL_NODES };
  const buf = poisoned(icmpv6ReprLen(ra));
  assert.equal(buf.length, 16 + 8 + 8 + 32);
  emitIcmpv6(ra, buf, ip);
  assert.deepEqual([...buf.subarray(0, 8)], [134, 0, buf[2], buf[3], 64, 0x40, 0x07, 0x08]);
  assert.deepEqual(parseIcmpv6(buf, ip), ra);
});

test("emitIcmpv6()/parseIcmpv6() handle redirect, MLD queries, packet too big and parameter problem", () => {
  const ip = { src: ROUTER, dst: NODE };
  const cases: Icmpv6Repr[] = [
    {
      kind: "redirect",
      target: parseIpv6("fe80::2"),
      dest: parseIpv6("2001:db8:9::9"),
      options: [
        { kind: "target-ll-addr", addr: 0x0200_0000_0003 },
        { kind: "redirected-header", data: new Uint8Array(48) },
      ],
    },
    { kind: "mld-query", maxResp: 10000, group: 0n },
    { kind: "mld-query", maxResp: 10000, group: 0n, v2: { suppress: false, qrv: 2, qqic: 125, sources: [] } },
    { kind: "packet-too-big", mtu: 1280, data: new Uint8Array(40) },
    { kind: "param-problem", code: 1, pointer: 40, data: new Uint8Array(48) },
  ];
  for (const r of cases) {
    const buf = poisoned(icmpv6ReprLen(r));
    emitIcmpv6(r, buf, ip);
    assert.deepEqual(parseIcmpv6(buf, ip), r, r.kind);
  }
  assert.equal(icmpv6ReprLen(cases[1]), 24);
  assert.equal(icmpv6ReprLen(cases[2]), 28);
});

test("parseIcmpv6() keeps unknown types and odd shapes raw, and they re-emit exactly", () => {
  const ip = { src: ROUTER, dst: NODE };
  const odd: [string, (b: Uint8Array) => Uint8Array][] = [
    ["NS with code 1", (b) => patch(b, { 1: 1 })],
    ["NS with reserved bits", (b) => patch(b, { 5: 1 })],
    ["NA with reserved bits", (b) => patch(b, { 0: Icmpv6Type.NeighborAdvert, 7: 1 })],
    ["MLD report with trailing byte", (b) => patch(b, { 0: Icmpv6Type.MldReport })],
    ["MLD query of 26 bytes", (b) => patch(b, { 0: Icmpv6Type.MldQuery })],
    ["echo with code 3", (b) => patch(b, { 0: Icmpv6Type.EchoReply, 1: 3 })],
    ["unknown type", (b) => patch(b, { 0: 200 })],
  ];
  for (const [name, mutate] of odd) {
    const { msg } = message("ns");
    const b = msg.slice(0, name.includes("26") ? 26 : name.includes("trailing") ? 25 : msg.length);
    mutate(b);
    new Icmpv6Packet(b).fillChecksum(ip);
    const r = parseIcmpv6(b, ip);
    assert.equal(r.kind, "other", name);
    const out = poisoned(icmpv6ReprLen(r));
    emitIcmpv6(r, out, ip);
    assert.deepEqual(out, b, name);
  }
});

test("parseIcmpv6() throws checksum on corruption unless caps skip it", () => {
  const { msg, ip } = message("ns");
  const bad = msg.slice();
  bad[10] ^= 1;
  assert.throws(() => parseIcmpv6(bad, ip), isKind("checksum"));
  assert.equal(parseIcmpv6(bad, ip, { ...CHECKSUM_CAPS_DEFAULT, icmpv6: "tx" }).kind, "neighbor-solicit");
  const out = poisoned(msg.length);
  emitIcmpv6(parseIcmpv6(msg, ip), out, ip, CHECKSUM_CAPS_NONE);
  assert.deepEqual([out[2], out[3]], [0, 0]);
});

test("parseIcmpv6() rejects truncated messages and malformed options", () => {
  const { msg, ip } = message("ns");
  for (const len of [0, 3, 8, 23]) {
    assert.throws(
      () => parseIcmpv6(msg.subarray(0, len), ip, CHECKSUM_CAPS_NONE),
      isKind("truncated"),
      `len ${len}`,
    );
  }
  const zeroLen = msg.slice();
  zeroLen[25] = 0;
  assert.throws(() => parseIcmpv6(zeroLen, ip, CHECKSUM_CAPS_NONE), isKind("malformed"));
  const overrun = msg.slice();
  overrun[25] = 2;
  assert.throws(() => parseIcmpv6(overrun, ip, CHECKSUM_CAPS_NONE), isKind("malformed"));
});

test("parseIcmpv6() inverts emitIcmpv6() for every repr", () => {
  fc.assert(
    fc.property(arbIcmpv6Repr, arbIpv6, (repr, src) => {
      const ip = { src, dst: IPV6_ALL_NODES };
      const buf = poisoned(icmpv6ReprLen(repr));
      emitIcmpv6(repr, buf, ip);
      assert.deepEqual(parseIcmpv6(buf, ip), repr);
    }),
    { numRuns: 300 },
  );
});

test("parseIcmpv6() throws nothing but WireError on random and mutated bytes", () => {
  const ip = { src: ROUTER, dst: NODE };
  fc.assert(
    fc.property(
      arbBytes(0, 64),
      fc.constantFrom(0, 1, 2, 3, 4, 128, 130, 131, 133, 134, 135, 136, 137, 143),
      (bytes, type) => {
        if (bytes.length > 1) {
          bytes[0] = type;
          bytes[1] = 0;
        }
        try {
          parseIcmpv6(bytes, ip, CHECKSUM_CAPS_NONE);
        } catch (e) {
          assert.ok(e instanceof WireError, String(e));
        }
      },
    ),
  );
});
