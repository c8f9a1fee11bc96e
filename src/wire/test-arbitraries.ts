/**
 * fast-check arbitraries for every repr, constrained to what the codecs can represent, for
 * emit-then-parse identity properties. Test support, not public API.
 * @module
 */

import fc from "fast-check";
import type { Ipv6Addr, MacAddr } from "./addr.ts";
import type { ArpRepr } from "./arp.ts";
import type { EthernetRepr } from "./ethernet.ts";
import type { Icmpv4Repr } from "./icmpv4.ts";
import type { Icmpv6Repr } from "./icmpv6.ts";
import type { Ipv4Repr } from "./ipv4.ts";
import type { Ipv6Repr } from "./ipv6.ts";
import type { Ipv6ExtHeader, Ipv6Option } from "./ipv6-ext.ts";
import type { MldRecord } from "./mld.ts";
import type { NdiscOption } from "./ndisc-option.ts";
import type { TcpOption, TcpRepr } from "./tcp.ts";
import type { UdpRepr } from "./udp.ts";

/** `fc.record` with plain prototypes, so generated reprs compare equal to parsed ones. */
function record<T, K extends keyof T = keyof T>(
  model: { [P in keyof T]: fc.Arbitrary<T[P]> },
  constraints?: fc.RecordConstraints<K>,
): fc.Arbitrary<fc.RecordValue<T, K>> {
  return fc.record<T, K>(model, { ...constraints, noNullPrototype: true });
}

/** 0-255. */
export const arbU8: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xff });
/** 0-65535. */
export const arbU16: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffff });
/** 0-2^32-1, biased towards edge values like any fast-check integer. */
export const arbU32: fc.Arbitrary<number> = fc
  .integer({ min: -0x8000_0000, max: 0x7fff_ffff })
  .map((x) => x >>> 0);
/** Any 48-bit MAC. */
export const arbMac: fc.Arbitrary<MacAddr> = fc
  .tuple(arbU16, arbU32)
  .map(([hi, lo]) => hi * 0x1_0000_0000 + lo);
/** Any IPv6 address, with many zero groups so compression paths are exercised. */
export const arbIpv6: fc.Arbitrary<Ipv6Addr> = fc
  .array(fc.oneof(fc.constant(0), arbU16, fc.constant(0xffff)), { minLength: 8, maxLength: 8 })
  .map((words) => words.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n));

/** Random bytes of a length in `[min, max]`. */
export function arbBytes(min: number, max: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: min, maxLength: max });
}

function arbBytesMultipleOf(unit: number, maxUnits: number, extra = 0): fc.Arbitrary<Uint8Array> {
  return fc.integer({ min: 0, max: maxUnits }).chain((n) => arbBytes(unit * n + extra, unit * n + extra));
}

/** Ethernet headers, tagged or not. */
export const arbEthernetRepr: fc.Arbitrary<EthernetRepr> = record(
  {
    dst: arbMac,
    src: arbMac,
    etherType: arbU16.filter((t) => t !== 0x8100),
    vlan: record({
      pcp: fc.integer({ min: 0, max: 7 }),
      dei: fc.boolean(),
      vid: fc.integer({ min: 0, max: 4095 }),
    }),
  },
  { requiredKeys: ["dst", "src", "etherType"] },
);

/** ARP packets. */
export const arbArpRepr: fc.Arbitrary<ArpRepr> = record({
  operation: arbU16,
  senderMac: arbMac,
  senderIp: arbU32,
  targetMac: arbMac,
  targetIp: arbU32,
});

/** IPv4 headers with random options. */
export const arbIpv4Repr: fc.Arbitrary<Ipv4Repr> = record({
  src: arbU32,
  dst: arbU32,
  protocol: arbU8,
  ttl: arbU8,
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  ident: arbU16,
  dontFrag: fc.boolean(),
  moreFrags: fc.boolean(),
  fragOffset: fc.integer({ min: 0, max: 0x1fff }).map((x) => x * 8),
  options: arbBytesMultipleOf(4, 10),
  payloadLen: fc.integer({ min: 0, max: 65535 - 60 }),
});

const arbIpv6Options: fc.Arbitrary<Ipv6Option[]> = fc
  .array(
    record({
      type: arbU8.filter((t) => t !== 0 && t !== 0xc2),
      data: arbBytes(0, 12),
    }),
    { maxLength: 4 },
  )
  .map((opts) => {
    let len = 2;
    for (const o of opts) len += 2 + o.data.length;
    const pad = (8 - (len % 8)) % 8;
    if (pad === 1) return [...opts, { type: 0, data: new Uint8Array(0) }];
    if (pad >= 2) return [...opts, { type: 1, data: new Uint8Array(pad - 2) }];
    return opts;
  });

const arbRouting: fc.Arbitrary<Ipv6ExtHeader> = record({
  kind: fc.constant("routing" as const),
  routingType: arbU8,
  segmentsLeft: arbU8,
  data: arbBytesMultipleOf(8, 4, 4),
});

const arbFragment = (offset: fc.Arbitrary<number>): fc.Arbitrary<Ipv6ExtHeader> =>
  record({ kind: fc.constant("fragment" as const), offset, moreFrags: fc.boolean(), ident: arbU32 });

/** Extension-header chains the parser accepts: hop-by-hop first, a non-first fragment last. */
export const arbIpv6ExtHeaders: fc.Arbitrary<Ipv6ExtHeader[]> = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        arbIpv6Options.map((options): Ipv6ExtHeader => ({ kind: "dest-opts", options })),
        arbRouting,
        arbFragment(fc.constant(0)),
      ),
      { maxLength: 5 },
    ),
    fc.option(arbFragment(fc.integer({ min: 1, max: 0x1fff }).map((x) => x * 8)), { nil: undefined }),
    arbIpv6Options,
  )
  .map(([hbh, middle, lastFrag, hbhOptions]) => {
    const chain: Ipv6ExtHeader[] = hbh ? [{ kind: "hop-by-hop", options: hbhOptions }] : [];
    chain.push(...middle);
    if (lastFrag !== undefined) chain.push(lastFrag);
    return chain;
  });

const EXT_PROTOS = new Set([0, 43, 44, 60]);

/** IPv6 headers with extension-header chains. */
export const arbIpv6Repr: fc.Arbitrary<Ipv6Repr> = record({
  src: arbIpv6,
  dst: arbIpv6,
  nextHeader: arbU8.filter((p) => !EXT_PROTOS.has(p)),
  hopLimit: arbU8,
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
  extHeaders: arbIpv6ExtHeaders,
  payloadLen: fc.integer({ min: 0, max: 4096 }),
});

/** UDP datagrams. */
export const arbUdpRepr: fc.Arbitrary<UdpRepr> = record({
  srcPort: arbU16,
  dstPort: arbU16,
  payload: arbBytes(0, 64),
});

const KNOWN_TCP_OPTIONS = new Set([0, 1, 2, 3, 4, 5, 8]);

const arbTcpOption: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant({ kind: "nop" as const }),
  record({ kind: fc.constant("mss" as const), value: arbU16 }),
  record({ kind: fc.constant("window-scale" as const), shift: arbU8 }),
  fc.constant({ kind: "sack-permitted" as const }),
  record({
    kind: fc.constant("sack" as const),
    blocks: fc.array(fc.tuple(arbU32, arbU32), { minLength: 1, maxLength: 4 }),
  }),
  record({ kind: fc.constant("timestamp" as const), tsval: arbU32, tsecr: arbU32 }),
  record({
    kind: fc.constant("unknown" as const),
    type: arbU8.filter((t) => !KNOWN_TCP_OPTIONS.has(t)),
    data: arbBytes(0, 8),
  }),
);

function tcpOptionBytes(o: TcpOption): number {
  switch (o.kind) {
    case "eol":
    case "nop":
      return 1;
    case "mss":
      return 4;
    case "window-scale":
      return 3;
    case "sack-permitted":
      return 2;
    case "sack":
      return 2 + 8 * o.blocks.length;
    case "timestamp":
      return 10;
    case "unknown":
      return 2 + o.data.length;
  }
}

/**
 * TCP option lists that fit in 40 bytes, EOL only last, and present whenever padding follows
 * the options (zero padding reads back as EOL).
 */
export const arbTcpOptions: fc.Arbitrary<TcpOption[]> = fc
  .tuple(fc.array(arbTcpOption, { maxLength: 6 }), fc.boolean())
  .map(([opts, eol]) => {
    const len = opts.reduce((n, o) => n + tcpOptionBytes(o), 0);
    return eol || len % 4 !== 0 ? [...opts, { kind: "eol" as const }] : opts;
  })
  .filter((opts) => opts.reduce((n, o) => n + tcpOptionBytes(o), 0) <= 40);

/** TCP segments. */
export const arbTcpRepr: fc.Arbitrary<TcpRepr> = record({
  srcPort: arbU16,
  dstPort: arbU16,
  seq: arbU32,
  ack: arbU32,
  flags: fc.integer({ min: 0, max: 0xfff }),
  window: arbU16,
  urgent: arbU16,
  options: arbTcpOptions,
  payload: arbBytes(0, 64),
});

const TYPED_ICMPV4 = new Set([0, 3, 5, 8, 11]);

/** ICMP messages of every kind. */
export const arbIcmpv4Repr: fc.Arbitrary<Icmpv4Repr> = fc.oneof(
  record({
    kind: fc.constantFrom("echo-request" as const, "echo-reply" as const),
    ident: arbU16,
    seq: arbU16,
    data: arbBytes(0, 64),
  }),
  record({
    kind: fc.constant("dest-unreachable" as const),
    code: arbU8,
    nextHopMtu: arbU16,
    data: arbBytes(0, 64),
  }),
  record({ kind: fc.constant("time-exceeded" as const), code: arbU8, data: arbBytes(0, 64) }),
  record({ kind: fc.constant("redirect" as const), code: arbU8, gateway: arbU32, data: arbBytes(0, 64) }),
  record({
    kind: fc.constant("other" as const),
    type: arbU8.filter((t) => !TYPED_ICMPV4.has(t)),
    code: arbU8,
    data: arbBytes(4, 64),
  }),
);

const TYPED_NDISC_OPTIONS = new Set([1, 2, 3, 4, 5]);

/** Neighbor Discovery options of every kind. */
export const arbNdiscOption: fc.Arbitrary<NdiscOption> = fc.oneof(
  record({ kind: fc.constantFrom("source-ll-addr" as const, "target-ll-addr" as const), addr: arbMac }),
  record({
    kind: fc.constant("prefix-info" as const),
    prefixLen: arbU8,
    flags: arbU8,
    validLifetime: arbU32,
    preferredLifetime: arbU32,
    prefix: arbIpv6,
  }),
  record({ kind: fc.constant("redirected-header" as const), data: arbBytesMultipleOf(8, 4) }),
  record({ kind: fc.constant("mtu" as const), mtu: arbU32 }),
  record({
    kind: fc.constant("unknown" as const),
    type: arbU8.filter((t) => !TYPED_NDISC_OPTIONS.has(t)),
    data: arbBytesMultipleOf(8, 3, 6),
  }),
);

const arbNdiscOptions = fc.array(arbNdiscOption, { maxLength: 4 });

/** MLDv2 report records. */
export const arbMldRecord: fc.Arbitrary<MldRecord> = record({
  recordType: arbU8,
  group: arbIpv6,
  sources: fc.array(arbIpv6, { maxLength: 3 }),
  auxData: arbBytesMultipleOf(4, 2),
});

const TYPED_ICMPV6 = new Set([1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143]);

/** ICMPv6 messages of every kind. */
export const arbIcmpv6Repr: fc.Arbitrary<Icmpv6Repr> = fc.oneof(
  record({
    kind: fc.constantFrom("echo-request" as const, "echo-reply" as const),
    ident: arbU16,
    seq: arbU16,
    data: arbBytes(0, 64),
  }),
  record({
    kind: fc.constantFrom("dest-unreachable" as const, "time-exceeded" as const),
    code: arbU8,
    data: arbBytes(0, 64),
  }),
  record({ kind: fc.constant("packet-too-big" as const), mtu: arbU32, data: arbBytes(0, 64) }),
  record({
    kind: fc.constant("param-problem" as const),
    code: arbU8,
    pointer: arbU32,
    data: arbBytes(0, 64),
  }),
  record(
    {
      kind: fc.constant("mld-query" as const),
      maxResp: arbU16,
      group: arbIpv6,
      v2: record({
        suppress: fc.boolean(),
        qrv: fc.integer({ min: 0, max: 7 }),
        qqic: arbU8,
        sources: fc.array(arbIpv6, { maxLength: 3 }),
      }),
    },
    { requiredKeys: ["kind", "maxResp", "group"] },
  ),
  record({ kind: fc.constantFrom("mld-report" as const, "mld-done" as const), group: arbIpv6 }),
  record({ kind: fc.constant("mldv2-report" as const), records: fc.array(arbMldRecord, { maxLength: 3 }) }),
  record({ kind: fc.constant("router-solicit" as const), options: arbNdiscOptions }),
  record({
    kind: fc.constant("router-advert" as const),
    hopLimit: arbU8,
    flags: arbU8,
    routerLifetime: arbU16,
    reachableTime: arbU32,
    retransTimer: arbU32,
    options: arbNdiscOptions,
  }),
  record({ kind: fc.constant("neighbor-solicit" as const), target: arbIpv6, options: arbNdiscOptions }),
  record({
    kind: fc.constant("neighbor-advert" as const),
    router: fc.boolean(),
    solicited: fc.boolean(),
    override: fc.boolean(),
    target: arbIpv6,
    options: arbNdiscOptions,
  }),
  record({
    kind: fc.constant("redirect" as const),
    target: arbIpv6,
    dest: arbIpv6,
    options: arbNdiscOptions,
  }),
  record({
    kind: fc.constant("other" as const),
    type: arbU8.filter((t) => !TYPED_ICMPV6.has(t)),
    code: arbU8,
    data: arbBytes(0, 64),
  }),
);

/** A buffer of `len` bytes filled with 0xa5, so bytes an emitter forgot to write stand out. */
export function poisoned(len: number): Uint8Array {
  return new Uint8Array(len).fill(0xa5);
}

/** Writes `edits` (offset -> byte) into `bytes` and returns it. */
export function patch(bytes: Uint8Array, edits: Readonly<Record<number, number>>): Uint8Array {
  for (const [off, value] of Object.entries(edits)) bytes[Number(off)] = value;
  return bytes;
}

/** Fails when any number inside `value` is NaN (a sign of a read past the end of a buffer). */
export function assertNoNaN(value: unknown, path = "repr"): void {
  if (typeof value === "number") {
    if (Number.isNaN(value)) throw new Error(`${path} is NaN`);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertNoNaN(value[i], `${path}[${i}]`);
  } else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(value)) assertNoNaN(v, `${path}.${k}`);
  }
}
