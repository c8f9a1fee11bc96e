import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { WireError } from "./error.ts";
import { IpProto } from "./ip-proto.ts";
import {
  emitIpv6ExtHeader,
  IPV6_MAX_EXT_HEADERS,
  type Ipv6ExtHeader,
  Ipv6OptionType,
  ipv6ExtHeaderLen,
  ipv6ExtHeaderProto,
  isIpv6ExtHeader,
  parseIpv6ExtHeaders,
  walkIpv6ExtHeaders,
} from "./ipv6-ext.ts";
import { arbBytes, arbIpv6ExtHeaders, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

function isKind(kind: WireError["kind"]): (e: unknown) => boolean {
  return (e) => e instanceof WireError && e.kind === kind;
}

/** A chain of `n` 8-byte destination options headers (PadN filling each), then UDP. */
function destOptsChain(n: number): Uint8Array {
  const buf = new Uint8Array(8 * n);
  for (let i = 0; i < n; i++)
    buf.set([i === n - 1 ? IpProto.Udp : IpProto.Ipv6Opts, 0, 1, 4, 0, 0, 0, 0], 8 * i);
  return buf;
}

test("walkIpv6ExtHeaders() finds the upper layer behind a captured hop-by-hop header", () => {
  const pkt = FRAMES.udp6HopByHop.subarray(14);
  const upper = walkIpv6ExtHeaders(pkt, pkt[6], 40, pkt.length);
  assert.deepEqual(upper, { protocol: IpProto.Udp, offset: 48, extCount: 1 });
});

test("parseIpv6ExtHeaders() decodes captured hop-by-hop, destination and routing headers", () => {
  const hbh = FRAMES.udp6HopByHop.subarray(14);
  assert.deepEqual(parseIpv6ExtHeaders(hbh, 0, 40, 1), [
    {
      kind: "hop-by-hop",
      options: [
        { type: Ipv6OptionType.RouterAlert, data: new Uint8Array([0, 0]) },
        { type: Ipv6OptionType.PadN, data: new Uint8Array(0) },
      ],
    },
  ]);
  const dst = FRAMES.udp6DestOpts.subarray(14);
  assert.deepEqual(parseIpv6ExtHeaders(dst, 60, 40, 1), [
    { kind: "dest-opts", options: [{ type: Ipv6OptionType.PadN, data: new Uint8Array(4) }] },
  ]);
  const srh = FRAMES.udp6Srh.subarray(14);
  const [rt] = parseIpv6ExtHeaders(srh, 43, 40, 1);
  assert.equal(rt.kind, "routing");
  assert.deepEqual(rt.kind === "routing" && [rt.routingType, rt.segmentsLeft, rt.data.length], [4, 0, 20]);
});

test("parseIpv6ExtHeaders() decodes a captured fragment header", () => {
  const pkt = FRAMES.ipv6FragLast.subarray(14);
  assert.deepEqual(parseIpv6ExtHeaders(pkt, 44, 40, 1), [
    { kind: "fragment", offset: 2896, moreFrags: false, ident: 0x9549_762b },
  ]);
});

test("emitIpv6ExtHeader() writes every byte of captured headers", () => {
  for (const [frame, next] of [
    [FRAMES.udp6HopByHop, 0],
    [FRAMES.udp6DestOpts, 60],
    [FRAMES.udp6Srh, 43],
    [FRAMES.ipv6FragFirst, 44],
  ] as const) {
    const pkt = frame.subarray(14);
    const [h] = parseIpv6ExtHeaders(pkt, next, 40, 1);
    assert.equal(ipv6ExtHeaderProto(h), next);
    const out = poisoned(ipv6ExtHeaderLen(h));
    emitIpv6ExtHeader(h, pkt[40], out, 0);
    assert.deepEqual(out, pkt.subarray(40, 40 + out.length));
  }
});

test("walkIpv6ExtHeaders() stops after a non-first fragment", () => {
  const chain = new Uint8Array([IpProto.Ipv6Opts, 0, 0x0b, 0x50, 0, 0, 0, 1, 0xff, 0xff]);
  assert.deepEqual(walkIpv6ExtHeaders(chain, IpProto.Ipv6Frag, 0, chain.length), {
    protocol: IpProto.Ipv6Opts,
    offset: 8,
    extCount: 1,
  });
});

test("walkIpv6ExtHeaders() bounds long chains and loops of repeated headers", () => {
  const ok = destOptsChain(IPV6_MAX_EXT_HEADERS);
  assert.equal(walkIpv6ExtHeaders(ok, IpProto.Ipv6Opts, 0, ok.length).extCount, IPV6_MAX_EXT_HEADERS);
  const long = destOptsChain(IPV6_MAX_EXT_HEADERS + 1);
  assert.throws(() => walkIpv6ExtHeaders(long, IpProto.Ipv6Opts, 0, long.length), isKind("malformed"));
  // A chain whose headers all point at another one of the same kind: bounded, not endless.
  const loop = new Uint8Array(4096);
  for (let i = 0; i < loop.length; i += 8) loop.set([IpProto.Ipv6Route, 0, 0, 0], i);
  assert.throws(() => walkIpv6ExtHeaders(loop, IpProto.Ipv6Route, 0, loop.length), isKind("malformed"));
});

test("walkIpv6ExtHeaders() rejects a hop-by-hop header that is not first", () => {
  const chain = new Uint8Array([IpProto.HopByHop, 0, 1, 4, 0, 0, 0, 0, IpProto.Udp, 0, 1, 4, 0, 0, 0, 0]);
  assert.throws(() => walkIpv6ExtHeaders(chain, IpProto.Ipv6Opts, 0, chain.length), isKind("malformed"));
});

test("walkIpv6ExtHeaders() throws truncated when a header runs past the payload", () => {
  const chain = destOptsChain(2);
  assert.throws(() => walkIpv6ExtHeaders(chain, IpProto.Ipv6Opts, 0, 12), isKind("truncated"));
  chain[1] = 5;
  assert.throws(() => walkIpv6ExtHeaders(chain, IpProto.Ipv6Opts, 0, chain.length), isKind("truncated"));
});

test("parseIpv6ExtHeaders() rejects overrunning options and jumbo payloads", () => {
  const overrun = new Uint8Array([IpProto.Udp, 0, 0x1e, 5, 0, 0, 0, 0]);
  assert.throws(() => parseIpv6ExtHeaders(overrun, IpProto.Ipv6Opts, 0, 1), isKind("malformed"));
  const noLen = new Uint8Array([IpProto.Udp, 0, 1, 3, 0, 0, 0, 0x1e]);
  assert.throws(() => parseIpv6ExtHeaders(noLen, IpProto.Ipv6Opts, 0, 1), isKind("malformed"));
  const jumbo = new Uint8Array([IpProto.Udp, 0, 0xc2, 4, 0, 1, 0, 0]);
  assert.throws(() => parseIpv6ExtHeaders(jumbo, IpProto.HopByHop, 0, 1), isKind("unsupported"));
});

test("emitIpv6ExtHeader() rejects headers that are not 8-byte aligned", () => {
  const h: Ipv6ExtHeader = { kind: "dest-opts", options: [{ type: 1, data: new Uint8Array(3) }] };
  assert.throws(() => emitIpv6ExtHeader(h, 17, poisoned(16), 0), RangeError);
});

test("isIpv6ExtHeader() knows the four walked headers", () => {
  assert.deepEqual([0, 43, 44, 60, 6, 17, 51, 59].map(isIpv6ExtHeader), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
  ]);
});

test("parseIpv6ExtHeaders() inverts emitIpv6ExtHeader() for every chain", () => {
  fc.assert(
    fc.property(arbIpv6ExtHeaders, (chain) => {
      const len = chain.reduce((n, h) => n + ipv6ExtHeaderLen(h), 0);
      const buf = poisoned(len + 4);
      let off = 0;
      chain.forEach((h, i) => {
        off += emitIpv6ExtHeader(
          h,
          i + 1 < chain.length ? ipv6ExtHeaderProto(chain[i + 1]) : IpProto.Udp,
          buf,
          off,
        );
      });
      const first = chain.length === 0 ? IpProto.Udp : ipv6ExtHeaderProto(chain[0]);
      const upper = walkIpv6ExtHeaders(buf, first, 0, buf.length);
      assert.deepEqual(upper, { protocol: IpProto.Udp, offset: len, extCount: chain.length });
      assert.deepEqual(parseIpv6ExtHeaders(buf, first, 0, upper.extCount), chain);
    }),
    { numRuns: 200 },
  );
});

test("walkIpv6ExtHeaders() and parseIpv6ExtHeaders() throw nothing but WireError on random chains", () => {
  fc.assert(
    fc.property(fc.constantFrom(0, 43, 44, 60), arbBytes(0, 96), (first, bytes) => {
      try {
        const upper = walkIpv6ExtHeaders(bytes, first, 0, bytes.length);
        parseIpv6ExtHeaders(bytes, first, 0, upper.extCount);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
  );
});
