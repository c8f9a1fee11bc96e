import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { WireError } from "./error.ts";
import { pcapToBytes } from "./pcap.ts";
import {
  isPcapng,
  PcapngReader,
  PcapngWriter,
  pcapngToBytes,
  pcapngUnitsToNanos,
  readPcapng,
} from "./pcapng.ts";

function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  return Uint8Array.from(digits.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
}

// Section 0, little-endian: an interface "veth0" with nanosecond timestamps, an Enhanced Packet,
// an unknown block, a Simple Packet.
const LE_SECTION = `
  0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
  01000000 2c000000 0100 0000 00000000 0900 0100 09000000 0200 0500 7665746830 000000 00000000 2c000000
  06000000 24000000 00000000 85573416 15cdfbdf 03000000 03000000 aabbcc00 24000000
  ad0b0000 10000000 01020304 10000000
  03000000 18000000 05000000 0102030405000000 18000000
`;
// Section 1, big-endian: a microsecond Ethernet interface with snaplen 262144, a raw-IPv4
// interface counting 1/1024 s, and a packet on each (the second one cut to 2 of 100 bytes).
const BE_SECTION = `
  0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffffffffffff 0000001c
  00000001 00000014 0001 0000 00040000 00000014
  00000001 00000020 00e4 0000 00000000 0009 0001 8a000000 00000000 00000020
  00000006 00000024 00000001 00000000 00000800 00000001 00000001 99000000 00000024
  00000006 00000024 00000000 00000000 000f4241 00000002 00000064 12340000 00000024
`;
const TWO_SECTIONS = hex(LE_SECTION + BE_SECTION);

function expectWireError(fn: () => unknown, kind: WireError["kind"]): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.kind === kind);
}

test("readPcapng() reads sections of both byte orders with several interfaces", () => {
  const file = readPcapng(TWO_SECTIONS);
  assert.equal(file.sectionCount, 2);
  assert.deepEqual(file.interfaces, [
    {
      index: 0,
      section: 0,
      linktype: 1,
      snaplen: 0,
      tsUnit: { base: 10, exponent: 9 },
      tsOffsetSeconds: 0n,
      name: "veth0",
    },
    {
      index: 1,
      section: 1,
      linktype: 1,
      snaplen: 262144,
      tsUnit: { base: 10, exponent: 6 },
      tsOffsetSeconds: 0n,
      name: undefined,
    },
    {
      index: 2,
      section: 1,
      linktype: 228,
      snaplen: 0,
      tsUnit: { base: 2, exponent: 10 },
      tsOffsetSeconds: 0n,
      name: undefined,
    },
  ]);
  assert.deepEqual(
    file.packets.map((p) => ({ ...p, data: [...p.data] })),
    [
      { tsNanos: 1600000000123456789n, data: [0xaa, 0xbb, 0xcc], origLen: 3, interfaceId: 0, linktype: 1 },
      { tsNanos: 0n, data: [1, 2, 3, 4, 5], origLen: 5, interfaceId: 0, linktype: 1 },
      { tsNanos: 2_000_000_000n, data: [0x99], origLen: 1, interfaceId: 2, linktype: 228 },
      { tsNanos: 1_000_001_000n, data: [0x12, 0x34], origLen: 100, interfaceId: 1, linktype: 1 },
    ],
  );
});

test("readPcapng() returns views into the input", () => {
  const packet = readPcapng(TWO_SECTIONS).packets[0];
  assert.equal(packet.data.buffer, TWO_SECTIONS.buffer);
  assert.equal(TWO_SECTIONS[packet.data.byteOffset], 0xaa);
});

test("readPcapng() returns plain Uint8Array views when given a Buffer", () => {
  const data = readPcapng(Buffer.from(TWO_SECTIONS)).packets[0].data;
  assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype);
});

test("PcapngReader reads one packet at a time and learns interfaces as it goes", () => {
  const reader = new PcapngReader(TWO_SECTIONS);
  assert.equal(reader.interfaces.length, 0);
  assert.equal(reader.next()?.origLen, 3);
  assert.equal(reader.interfaces.length, 1);
  assert.equal(reader.sectionCount, 1);
  assert.equal([...reader].length, 3);
  assert.equal(reader.sectionCount, 2);
  assert.equal(reader.offset, TWO_SECTIONS.length);
  assert.equal(reader.next(), undefined);
});

test("readPcapng() applies if_tsoffset", () => {
  const bytes = hex(`
    0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
    01000000 24000000 0100 0000 00000000 0e00 0800 0a00000000000000 00000000 24000000
    06000000 20000000 00000000 00000000 07000000 00000000 00000000 20000000
  `);
  assert.equal(readPcapng(bytes).packets[0].tsNanos, 10_000_007_000n);
});

test("pcapngUnitsToNanos() converts decimal and binary units", () => {
  assert.equal(pcapngUnitsToNanos(5n, { base: 10, exponent: 0 }), 5_000_000_000n);
  assert.equal(pcapngUnitsToNanos(5n, { base: 10, exponent: 6 }), 5000n);
  assert.equal(pcapngUnitsToNanos(5n, { base: 10, exponent: 9 }), 5n);
  assert.equal(pcapngUnitsToNanos(56_789n, { base: 10, exponent: 12 }), 56n);
  assert.equal(pcapngUnitsToNanos(3n, { base: 2, exponent: 1 }), 1_500_000_000n);
});

test("isPcapng() tells pcapng from pcap", () => {
  assert.equal(isPcapng(TWO_SECTIONS), true);
  assert.equal(isPcapng(pcapToBytes([])), false);
  assert.equal(isPcapng(new Uint8Array(3)), false);
});

test("readPcapng() throws WireError on bad files", () => {
  expectWireError(() => readPcapng(new Uint8Array(2)), "truncated");
  expectWireError(() => readPcapng(pcapToBytes([])), "malformed");
  expectWireError(() => readPcapng(TWO_SECTIONS.subarray(0, 10)), "truncated");
  expectWireError(() => readPcapng(TWO_SECTIONS.subarray(0, TWO_SECTIONS.length - 4)), "truncated");
  const badMagic = TWO_SECTIONS.slice();
  badMagic[8] = 0;
  expectWireError(() => readPcapng(badMagic), "malformed");
  const version2 = TWO_SECTIONS.slice();
  version2[12] = 2;
  expectWireError(() => readPcapng(version2), "unsupported");
  const badTrailer = TWO_SECTIONS.slice();
  badTrailer[27] = 1;
  expectWireError(() => readPcapng(badTrailer), "malformed");
  const oddLength = TWO_SECTIONS.slice();
  oddLength[4] = 0x1d;
  expectWireError(() => readPcapng(oddLength), "malformed");
  const unknownInterface = TWO_SECTIONS.slice();
  unknownInterface[28 + 44 + 8] = 1; // EPB names interface 1 of a one-interface section
  expectWireError(() => readPcapng(unknownInterface), "malformed");
  const capOverBlock = TWO_SECTIONS.slice();
  capOverBlock[28 + 44 + 20] = 9; // 9 captured bytes in a block with room for 4
  expectWireError(() => readPcapng(capOverBlock), "malformed");
  const optionOverrun = TWO_SECTIONS.slice();
  optionOverrun[28 + 16 + 2] = 0x40; // if_tsresol claims 64 bytes
  expectWireError(() => readPcapng(optionOverrun), "malformed");
});

test("PcapngWriter writes blocks that readPcapng() reads back", () => {
  const chunks: Uint8Array[] = [];
  const writer = new PcapngWriter((chunk) => chunks.push(chunk));
  assert.equal(chunks.length, 1);
  const eth = writer.addInterface({ linktype: 1, tsResolution: "nano", name: "v0" });
  const raw = writer.addInterface({ linktype: 101, snaplen: 2 });
  writer.write(raw, 1_000_999n, Uint8Array.of(1, 2, 3));
  writer.write(eth, 7n, Uint8Array.of(9));
  assert.equal(writer.packetCount, 2);
  assert.throws(() => writer.write(5, 0n, new Uint8Array(1)), RangeError);
  assert.throws(() => writer.write(eth, -1n, new Uint8Array(1)), RangeError);
  const file = readPcapng(Buffer.concat(chunks));
  assert.deepEqual(
    file.interfaces.map((i) => [i.linktype, i.snaplen, i.tsUnit.exponent, i.name]),
    [
      [1, 0, 9, "v0"],
      [101, 2, 6, undefined],
    ],
  );
  assert.deepEqual(
    file.packets.map((p) => [p.interfaceId, p.tsNanos, [...p.data], p.origLen]),
    [
      [1, 1_000_000n, [1, 2], 3],
      [0, 7n, [9], 1],
    ],
  );
});

test("pcapngToBytes() then readPcapng() gives back every packet (property)", () => {
  const ifaceArb = fc.record({
    linktype: fc.integer({ min: 0, max: 0xffff }),
    snaplen: fc.integer({ min: 0, max: 400 }),
    tsResolution: fc.constantFrom("micro" as const, "nano" as const),
    name: fc.string({ maxLength: 12 }),
  });
  fc.assert(
    fc.property(
      fc.array(ifaceArb, { minLength: 1, maxLength: 4 }),
      fc.array(
        fc.record({
          iface: fc.nat(),
          tsNanos: fc.bigInt({ min: 0n, max: 2n ** 62n }),
          data: fc.uint8Array({ maxLength: 300 }),
          extra: fc.nat({ max: 100 }),
        }),
        { maxLength: 20 },
      ),
      (interfaces, packets) => {
        const inputs = packets.map((p) => ({
          interfaceId: p.iface % interfaces.length,
          tsNanos: p.tsNanos,
          data: p.data,
          origLen: p.data.length + p.extra,
        }));
        const file = readPcapng(pcapngToBytes(interfaces, inputs));
        assert.deepEqual(
          file.interfaces.map((i) => [i.linktype, i.snaplen, i.name]),
          interfaces.map((i) => [i.linktype, i.snaplen, i.name]),
        );
        assert.deepEqual(
          file.packets.map((p) => [p.interfaceId, p.tsNanos, [...p.data], p.origLen]),
          inputs.map((p) => {
            const { snaplen, tsResolution } = interfaces[p.interfaceId];
            const data = snaplen === 0 ? p.data : p.data.subarray(0, snaplen);
            const ts = tsResolution === "nano" ? p.tsNanos : p.tsNanos - (p.tsNanos % 1000n);
            return [p.interfaceId, ts, [...data], p.origLen];
          }),
        );
      },
    ),
  );
});

// Reads `input` placed between guard bytes: any packet view must stay inside the input.
function readGuarded(input: Uint8Array): void {
  const backing = new Uint8Array(input.length + 64).fill(0xee);
  backing.set(input, 32);
  const window = backing.subarray(32, 32 + input.length);
  try {
    for (const packet of new PcapngReader(window)) {
      assert.ok(packet.data.byteOffset >= 32);
      assert.ok(packet.data.byteOffset + packet.data.length <= 32 + input.length);
    }
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
  }
}

test("readPcapng() throws nothing but WireError on random bytes (property)", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), readGuarded), { numRuns: 500 });
  const shb = TWO_SECTIONS.subarray(0, 28);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => readGuarded(Uint8Array.from([...shb, ...tail]))),
    { numRuns: 1000 },
  );
});

test("readPcapng() throws nothing but WireError on damaged files (property)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ at: fc.nat({ max: TWO_SECTIONS.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
        { minLength: 1, maxLength: 6 },
      ),
      fc.nat({ max: TWO_SECTIONS.length }),
      (edits, cut) => {
        const damaged = TWO_SECTIONS.slice(0, cut);
        for (const { at, value } of edits) if (at < damaged.length) damaged[at] = value;
        readGuarded(damaged);
      },
    ),
    { numRuns: 3000 },
  );
});
