import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { WireError } from "./error.ts";
import {
  type CapturedPacket,
  LINKTYPE_ETHERNET,
  PCAP_MAGIC_NANOS,
  PcapReader,
  PcapWriter,
  pcapToBytes,
  readPcap,
  readPcapHeader,
} from "./pcap.ts";

function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  return Uint8Array.from(digits.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
}

// Little-endian, microseconds, snaplen 65535, Ethernet; two records, the second cut by the snaplen
// of its producer (4 of 60 bytes).
const LE_MICROS = hex(`
  d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
  00105e5f 40e20100 02000000 02000000 0102
  01105e5f 00000000 04000000 3c000000 deadbeef
`);

// Big-endian, nanoseconds, snaplen 262144, linktype 228 (raw IPv4), FCS flag with 2 words.
const BE_NANOS = hex(`
  a1b23c4d 0002 0004 00000000 00000000 00040000 500000e4
  5f5e1000 3b9ac9ff 00000003 00000003 abcdef
`);

const T0 = 1_600_000_000n * 1_000_000_000n;

function expectWireError(fn: () => unknown, kind: WireError["kind"]): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.kind === kind);
}

function assertOnlyWireError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
  }
}

test("readPcap() reads a little-endian microsecond file", () => {
  const file = readPcap(LE_MICROS);
  assert.equal(file.linktype, LINKTYPE_ETHERNET);
  assert.equal(file.fcsLen, 0);
  assert.equal(file.tsResolution, "micro");
  assert.equal(file.snaplen, 65535);
  assert.equal(file.littleEndian, true);
  assert.deepEqual([file.versionMajor, file.versionMinor], [2, 4]);
  assert.equal(file.packets.length, 2);
  assert.equal(file.packets[0].tsNanos, T0 + 123_456_000n);
  assert.deepEqual([...file.packets[0].data], [1, 2]);
  assert.equal(file.packets[0].origLen, 2);
  assert.equal(file.packets[1].tsNanos, T0 + 1_000_000_000n);
  assert.deepEqual([...file.packets[1].data], [0xde, 0xad, 0xbe, 0xef]);
  assert.equal(file.packets[1].origLen, 60);
});

test("readPcap() reads a big-endian nanosecond file with an FCS length", () => {
  const file = readPcap(BE_NANOS);
  assert.equal(file.linktype, 228);
  assert.equal(file.fcsLen, 4);
  assert.equal(file.tsResolution, "nano");
  assert.equal(file.snaplen, 262144);
  assert.equal(file.littleEndian, false);
  assert.equal(file.packets.length, 1);
  assert.equal(file.packets[0].tsNanos, T0 + 999_999_999n);
  assert.deepEqual([...file.packets[0].data], [0xab, 0xcd, 0xef]);
});

test("readPcap() returns views into the input, not copies", () => {
  const file = readPcap(LE_MICROS);
  assert.equal(file.packets[1].data.buffer, LE_MICROS.buffer);
  assert.equal(file.packets[1].data.byteOffset, LE_MICROS.length - 4);
});

test("readPcap() returns plain Uint8Array views when given a Buffer", () => {
  const data = readPcap(Buffer.from(LE_MICROS)).packets[0].data;
  assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype);
  // Uint8Array#slice copies (Buffer#slice would not), so changing the copy leaves the file alone.
  const copy = data.slice();
  copy[0] = 0xff;
  assert.equal(data[0], 1);
});

test("readPcap() reads a header-only file as no packets", () => {
  assert.equal(readPcap(LE_MICROS.subarray(0, 24)).packets.length, 0);
});

test("PcapReader reads one packet at a time and tracks its offset", () => {
  const reader = new PcapReader(LE_MICROS);
  assert.equal(reader.header.snaplen, 65535);
  assert.equal(reader.offset, 24);
  assert.equal(reader.next()?.origLen, 2);
  assert.equal(reader.offset, 42);
  assert.deepEqual(
    [...reader].map((p) => p.origLen),
    [60],
  );
  assert.equal(reader.next(), undefined);
  assert.equal(reader.offset, LE_MICROS.length);
});

test("readPcapHeader() throws WireError on bad headers", () => {
  expectWireError(() => readPcapHeader(LE_MICROS.subarray(0, 23)), "truncated");
  expectWireError(() => readPcapHeader(new Uint8Array(24)), "malformed");
  const pcapng = new Uint8Array(24);
  pcapng.set([0x0a, 0x0d, 0x0d, 0x0a]);
  expectWireError(() => readPcapHeader(pcapng), "unsupported");
  const kuznetzov = LE_MICROS.slice(0, 24);
  kuznetzov.set([0x34, 0xcd, 0xb2, 0xa1]);
  expectWireError(() => readPcapHeader(kuznetzov), "unsupported");
  const version3 = LE_MICROS.slice(0, 24);
  version3[4] = 3;
  expectWireError(() => readPcapHeader(version3), "unsupported");
});

test("readPcap() throws WireError on bad records", () => {
  expectWireError(() => readPcap(LE_MICROS.subarray(0, 24 + 15)), "truncated");
  expectWireError(() => readPcap(LE_MICROS.subarray(0, LE_MICROS.length - 1)), "truncated");
  const capOverOrig = LE_MICROS.slice();
  capOverOrig[24 + 12] = 1; // original length 1 < captured length 2
  expectWireError(() => readPcap(capOverOrig), "malformed");
  const hugeCap = LE_MICROS.slice();
  hugeCap.set([0xff, 0xff, 0xff, 0xff], 24 + 8);
  expectWireError(() => readPcap(hugeCap), "truncated");
});

test("PcapWriter writes the header once, then one chunk per packet", () => {
  const chunks: Uint8Array[] = [];
  const writer = new PcapWriter((chunk) => chunks.push(chunk), { snaplen: 65535 });
  assert.deepEqual(chunks, [LE_MICROS.subarray(0, 24)]);
  writer.write(T0 + 123_456_789n, Uint8Array.of(1, 2));
  writer.write(T0 + 1_000_000_000n, hex("deadbeef"), 60);
  assert.equal(chunks.length, 3);
  assert.equal(writer.packetCount, 2);
  assert.equal(writer.byteCount, LE_MICROS.length);
  // Microsecond files drop the last three digits of the nanoseconds.
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(LE_MICROS));
});

test("PcapWriter cuts frames at the snaplen and keeps the original length", () => {
  const bytes = pcapToBytes([{ tsNanos: 5n, data: new Uint8Array(100).fill(7) }], {
    snaplen: 64,
    tsResolution: "nano",
    linktype: 101,
  });
  assert.equal(new DataView(bytes.buffer).getUint32(0, true), PCAP_MAGIC_NANOS);
  const file = readPcap(bytes);
  assert.equal(file.linktype, 101);
  assert.equal(file.packets[0].tsNanos, 5n);
  assert.equal(file.packets[0].data.length, 64);
  assert.equal(file.packets[0].origLen, 100);
});

test("PcapWriter throws RangeError on bad options and arguments", () => {
  const sink = () => {};
  assert.throws(() => new PcapWriter(sink, { snaplen: 0 }), RangeError);
  assert.throws(() => new PcapWriter(sink, { linktype: 0x10000 }), RangeError);
  const writer = new PcapWriter(sink);
  assert.throws(() => writer.write(-1n, new Uint8Array(1)), RangeError);
  assert.throws(() => writer.write(2n ** 32n * 1_000_000_000n, new Uint8Array(1)), RangeError);
  assert.throws(() => writer.write(0n, new Uint8Array(4), 3), RangeError);
  assert.equal(writer.packetCount, 0);
});

const packetArb = fc.record({
  tsNanos: fc.bigInt({ min: 0n, max: 2n ** 32n * 1_000_000_000n - 1n }),
  data: fc.uint8Array({ maxLength: 300 }),
  extra: fc.nat({ max: 2000 }),
});

test("pcapToBytes() then readPcap() gives back every packet (property)", () => {
  fc.assert(
    fc.property(
      fc.array(packetArb, { maxLength: 20 }),
      fc.constantFrom("micro" as const, "nano" as const),
      fc.integer({ min: 1, max: 400 }),
      (packets, tsResolution, snaplen) => {
        const bytes = pcapToBytes(
          packets.map((p) => ({ tsNanos: p.tsNanos, data: p.data, origLen: p.data.length + p.extra })),
          { tsResolution, snaplen },
        );
        const file = readPcap(bytes);
        assert.equal(file.tsResolution, tsResolution);
        assert.equal(file.snaplen, snaplen);
        const expected: CapturedPacket[] = packets.map((p) => ({
          tsNanos: tsResolution === "nano" ? p.tsNanos : p.tsNanos - (p.tsNanos % 1000n),
          data: p.data.subarray(0, snaplen),
          origLen: p.data.length + p.extra,
        }));
        assert.deepEqual(
          file.packets.map((p) => ({ ...p, data: [...p.data] })),
          expected.map((p) => ({ ...p, data: [...p.data] })),
        );
      },
    ),
  );
});

// The input sits between guard bytes inside a larger buffer, so a read past its end would return
// guard bytes instead of failing; every returned view must lie inside the input.
function readGuarded(input: Uint8Array): void {
  const backing = new Uint8Array(input.length + 64).fill(0xee);
  backing.set(input, 32);
  const window = backing.subarray(32, 32 + input.length);
  assertOnlyWireError(() => {
    for (const packet of new PcapReader(window)) {
      assert.ok(packet.data.byteOffset >= 32 + 24);
      assert.ok(packet.data.byteOffset + packet.data.length <= 32 + input.length);
    }
  });
}

test("readPcap() throws nothing but WireError on random bytes (property)", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), readGuarded), { numRuns: 500 });
  const headers = fc.constantFrom(LE_MICROS.subarray(0, 24), BE_NANOS.subarray(0, 24));
  fc.assert(
    fc.property(headers, fc.uint8Array({ maxLength: 200 }), (header, tail) => {
      readGuarded(Uint8Array.from([...header, ...tail]));
    }),
    { numRuns: 1000 },
  );
});

test("readPcap() throws nothing but WireError on damaged files (property)", () => {
  const valid = pcapToBytes([
    { tsNanos: T0, data: new Uint8Array(20).fill(1) },
    { tsNanos: T0 + 1n, data: new Uint8Array(3).fill(2), origLen: 90 },
    { tsNanos: T0 + 2n, data: new Uint8Array(0) },
  ]);
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ at: fc.nat({ max: valid.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
        {
          minLength: 1,
          maxLength: 6,
        },
      ),
      fc.nat({ max: valid.length }),
      (edits, cut) => {
        const damaged = valid.slice(0, cut);
        for (const { at, value } of edits) if (at < damaged.length) damaged[at] = value;
        readGuarded(damaged);
      },
    ),
    { numRuns: 2000 },
  );
});
