/**
 * Cross-checks the capture-file layer against Wireshark's own tools: tshark must read what our
 * writers write (and decode the same fields our codecs decode), and our readers must read what
 * editcap, tshark, dumpcap and tcpdump write.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import fc from "fast-check";
import {
  EtherType,
  emitFrame,
  type FrameRepr,
  IpProto,
  type Ipv6ExtHeader,
  parseFrame,
} from "../../src/wire/index.ts";
import { type CapturedPacket, pcapToBytes, readPcap } from "../../src/wire/pcap.ts";
import { pcapngToBytes, readPcapng } from "../../src/wire/pcapng.ts";
import {
  arbArpRepr,
  arbBytes,
  arbIcmpv4Repr,
  arbIcmpv6Repr,
  arbIpv4Repr,
  arbIpv6Repr,
  arbMac,
  arbTcpRepr,
  arbUdpRepr,
} from "../../src/wire/test-arbitraries.ts";
import { hasCommand, netnsLab, run } from "../support/netns.ts";
import {
  diffWithTshark,
  epochText,
  protocolOf,
  TSHARK_FIELDS,
  TSHARK_PREFS,
  tsharkFields,
  tsharkView,
} from "./dissect.ts";

/** A scratch directory removed after the test. */
function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "ipvlt-tshark-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function skipWithout(t: TestContext, ...commands: string[]): boolean {
  const missing = commands.filter((c) => !hasCommand(c));
  if (missing.length > 0) t.skip(`missing commands: ${missing.join(", ")}`);
  return missing.length > 0;
}

function comparable(
  packets: readonly CapturedPacket[],
): { tsNanos: bigint; data: string; origLen: number }[] {
  return packets.map((p) => ({
    tsNanos: p.tsNanos,
    data: Buffer.from(p.data).toString("hex"),
    origLen: p.origLen,
  }));
}

// Arbitrary frames (their bytes do not matter to the file formats), some cut by a snaplen.
const RANDOM_PACKETS = fc.sample(
  fc.record({
    tsNanos: fc.bigInt({ min: 0n, max: 4_000_000_000n * 1_000_000_000n }),
    data: fc.uint8Array({ minLength: 14, maxLength: 200 }),
    extra: fc.oneof(fc.constant(0), fc.nat({ max: 1000 })),
  }),
  { numRuns: 40, seed: 0x1b5 },
);

function arbEth(etherType: number) {
  return fc.record({ dst: arbMac, src: arbMac }).map((e) => ({ ...e, etherType }));
}

// Ethernet minimum-size padding, as real NICs add it (veth does not).
const arbPadding = fc.option(arbBytes(1, 18), { nil: undefined });

function withPadding(repr: FrameRepr, padding: Uint8Array | undefined): FrameRepr {
  return padding === undefined ? repr : { ...repr, padding };
}

// Extension headers as hosts send them: a hop-by-hop router alert (MLD) and a padded destination
// options header. Random option types are avoided on purpose: tshark interprets known ones
// (home address, CALIPSO...) and then reads the packet differently, by design.
const HOP_BY_HOP: Ipv6ExtHeader = {
  kind: "hop-by-hop",
  options: [
    { type: 0x05, data: new Uint8Array(2) },
    { type: 0x01, data: new Uint8Array(0) },
  ],
};
const DEST_OPTS: Ipv6ExtHeader = { kind: "dest-opts", options: [{ type: 0x01, data: new Uint8Array(4) }] };
const arbExtHeaders = fc.constantFrom<Ipv6ExtHeader[]>(
  [],
  [HOP_BY_HOP],
  [DEST_OPTS],
  [HOP_BY_HOP, DEST_OPTS],
);

// IPv4 without fragments or options, IPv6 with the headers above: frames that both decoders
// dissect to the last layer, so that every field can be compared.
const arbIpv4 = (protocol: number) =>
  arbIpv4Repr.map((ip) => ({ ...ip, protocol, moreFrags: false, fragOffset: 0, options: new Uint8Array(0) }));
const arbIpv6 = (nextHeader: number) =>
  fc.tuple(arbIpv6Repr, arbExtHeaders).map(([ip, extHeaders]) => ({ ...ip, nextHeader, extHeaders }));
// Requests and replies only: tshark reads other operations (DRARP, InARP...) with other layouts.
const arbArp = fc.tuple(arbArpRepr, fc.constantFrom(1, 2)).map(([arp, operation]) => ({ ...arp, operation }));

/** Frames built from random reprs of every codec. */
const arbFrameRepr: fc.Arbitrary<FrameRepr> = fc.oneof(
  fc.record({ eth: arbEth(EtherType.Arp), arp: arbArp }),
  fc.record({ eth: arbEth(EtherType.Ipv4), ipv4: arbIpv4(IpProto.Udp), udp: arbUdpRepr }),
  fc.record({ eth: arbEth(EtherType.Ipv4), ipv4: arbIpv4(IpProto.Tcp), tcp: arbTcpRepr }),
  fc.record({ eth: arbEth(EtherType.Ipv4), ipv4: arbIpv4(IpProto.Icmp), icmpv4: arbIcmpv4Repr }),
  fc.record({ eth: arbEth(EtherType.Ipv6), ipv6: arbIpv6(IpProto.Udp), udp: arbUdpRepr }),
  fc.record({ eth: arbEth(EtherType.Ipv6), ipv6: arbIpv6(IpProto.Tcp), tcp: arbTcpRepr }),
  fc.record({ eth: arbEth(EtherType.Ipv6), ipv6: arbIpv6(IpProto.Icmpv6), icmpv6: arbIcmpv6Repr }),
);

test("tshark decodes the same fields as our codecs from frames they built", async (t) => {
  if (skipWithout(t, "tshark")) return;
  const dir = scratch(t);
  const reprs = fc.sample(
    fc.tuple(arbFrameRepr, arbPadding).map(([repr, padding]) => withPadding(repr, padding)),
    { numRuns: 300, seed: 0x1b5 },
  );
  const frames = reprs.map((repr) => emitFrame(repr));
  const times = frames.map((_, i) => 1_700_000_000_000_000_000n + BigInt(i) * 1_001_000n);
  const file = join(dir, "codecs.pcap");
  writeFileSync(file, pcapToBytes(frames.map((data, i) => ({ tsNanos: times[i], data }))));
  const parsed = frames.map((f) => parseFrame(f));
  const ours = parsed.map((repr, i) => ({
    ...tsharkView(repr, frames[i].length),
    "frame.time_epoch": epochText(times[i]),
  }));
  const theirs = await tsharkFields(file, TSHARK_FIELDS, TSHARK_PREFS);
  assert.deepEqual(diffWithTshark(ours, theirs, parsed.map(protocolOf)), []);
  const kinds = new Set(parsed.map(protocolOf));
  t.diagnostic(`${frames.length} frames, ${kinds.size} kinds: ${[...kinds].sort().join(", ")}`);
});

test("readPcapng() reads the pcapng that editcap and tshark make of our pcap files", async (t) => {
  if (skipWithout(t, "tshark", "editcap")) return;
  const dir = scratch(t);
  for (const tsResolution of ["micro", "nano"] as const) {
    const inputs = RANDOM_PACKETS.map((p) => ({
      tsNanos: p.tsNanos,
      data: p.data,
      origLen: p.data.length + p.extra,
    }));
    const pcapFile = join(dir, `in-${tsResolution}.pcap`);
    writeFileSync(pcapFile, pcapToBytes(inputs, { tsResolution }));
    const expected = comparable(readPcap(readFileSync(pcapFile)).packets);
    assert.equal(expected.length, inputs.length);

    const viaEditcap = join(dir, `editcap-${tsResolution}.pcapng`);
    await run(["editcap", "-F", "pcapng", pcapFile, viaEditcap]);
    const viaTshark = join(dir, `tshark-${tsResolution}.pcapng`);
    await run(["tshark", "-r", pcapFile, "-F", "pcapng", "-w", viaTshark], 20_000);
    for (const file of [viaEditcap, viaTshark]) {
      const ng = readPcapng(readFileSync(file));
      assert.equal(ng.interfaces.length, 1, file);
      assert.equal(ng.interfaces[0].linktype, 1);
      assert.equal(ng.interfaces[0].tsUnit.exponent, tsResolution === "nano" ? 9 : 6, file);
      assert.deepEqual(comparable(ng.packets), expected, file);
    }
    // And back: editcap turns our nanosecond file into a microsecond one and the other way round.
    const converted = join(dir, `converted-${tsResolution}.pcap`);
    await run(["editcap", "-F", tsResolution === "nano" ? "pcap" : "nsecpcap", pcapFile, converted]);
    const back = readPcap(readFileSync(converted));
    assert.equal(back.tsResolution, tsResolution === "nano" ? "micro" : "nano");
    assert.deepEqual(
      comparable(back.packets),
      expected.map((p) => ({ ...p, tsNanos: p.tsNanos - (p.tsNanos % 1000n) })),
    );
  }
});

test("tshark reads the timestamps, lengths and interfaces of files our writers write", async (t) => {
  if (skipWithout(t, "tshark")) return;
  const dir = scratch(t);
  const fields = ["frame.time_epoch", "frame.len", "frame.cap_len", "frame.interface_id"];
  for (const tsResolution of ["micro", "nano"] as const) {
    const file = join(dir, `ours-${tsResolution}.pcap`);
    const inputs = RANDOM_PACKETS.map((p) => ({
      tsNanos: p.tsNanos,
      data: p.data,
      origLen: p.data.length + p.extra,
    }));
    writeFileSync(file, pcapToBytes(inputs, { tsResolution, snaplen: 150 }));
    const rows = await tsharkFields(file, fields);
    assert.deepEqual(
      rows.map((r) => [r["frame.time_epoch"], Number(r["frame.len"]), Number(r["frame.cap_len"])]),
      inputs.map((p) => [
        epochText(tsResolution === "nano" ? p.tsNanos : p.tsNanos - (p.tsNanos % 1000n)),
        p.origLen,
        Math.min(p.data.length, 150),
      ]),
    );
  }
  const ngFile = join(dir, "ours.pcapng");
  const interfaces = [
    { linktype: 1, tsResolution: "nano" as const, name: "first" },
    { linktype: 1, snaplen: 100, name: "second" },
  ];
  const packets = RANDOM_PACKETS.map((p, i) => ({ interfaceId: i % 2, tsNanos: p.tsNanos, data: p.data }));
  writeFileSync(ngFile, pcapngToBytes(interfaces, packets));
  const rows = await tsharkFields(ngFile, [...fields, "frame.interface_name"]);
  assert.deepEqual(
    rows.map((r) => [
      r["frame.time_epoch"],
      Number(r["frame.len"]),
      Number(r["frame.cap_len"]),
      Number(r["frame.interface_id"]),
      r["frame.interface_name"],
    ]),
    packets.map((p) => [
      epochText(p.interfaceId === 0 ? p.tsNanos : p.tsNanos - (p.tsNanos % 1000n)),
      p.data.length,
      p.interfaceId === 0 ? p.data.length : Math.min(p.data.length, 100),
      p.interfaceId,
      interfaces[p.interfaceId].name,
    ]),
  );
});

test("readPcap() and readPcapng() read live captures by tcpdump and dumpcap", {
  timeout: 30_000,
}, async (t) => {
  const lab = await netnsLab(t, { needs: ["tcpdump", "dumpcap", "tshark", "ping"] });
  if (lab === undefined) return;
  const dir = scratch(t);
  const a = await lab.addNamespace("a");
  const b = await lab.addNamespace("b");
  await lab.addVeth({ ns: a, name: "va" }, { ns: b, name: "vb" });
  await lab.ip(a, "addr", "add", "10.78.0.1/24", "dev", "va");
  await lab.ip(b, "addr", "add", "10.78.0.2/24", "dev", "vb");

  const nanoFile = join(dir, "tcpdump-nano.pcap");
  const tcpdump = lab.spawn(b, [
    "tcpdump",
    "-n",
    "-i",
    "vb",
    "-w",
    nanoFile,
    "-U",
    "--immediate-mode",
    "--time-stamp-precision",
    "nano",
  ]);
  // Two interfaces in one capture: the veth end and the loopback, as two IDBs in one section.
  const ngFile = join(dir, "dumpcap.pcapng");
  const dumpcap = lab.spawn(b, ["dumpcap", "-q", "-i", "vb", "-i", "lo", "-w", ngFile]);
  await tcpdump.waitForOutput(/listening on vb/);
  await dumpcap.waitForOutput(/Capturing on/);
  // dumpcap prints before both interfaces are open; give the second a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await lab.exec(a, ["ping", "-n", "-c", "3", "-i", "0.1", "10.78.0.2"]);
  await lab.exec(b, ["ping", "-n", "-c", "2", "-i", "0.1", "127.0.0.1"]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await tcpdump.stop("SIGINT")).code, 0, tcpdump.stderr);
  assert.equal((await dumpcap.stop("SIGINT")).code, 0, dumpcap.stderr);

  const nano = readPcap(readFileSync(nanoFile));
  assert.equal(nano.tsResolution, "nano");
  assert.ok(nano.packets.length >= 8, `${nano.packets.length} packets`); // ARP x2, ICMP x6
  const nanoRows = await tsharkFields(nanoFile, ["frame.time_epoch", "frame.len"]);
  assert.deepEqual(
    nanoRows.map((r) => [r["frame.time_epoch"], Number(r["frame.len"])]),
    nano.packets.map((p) => [epochText(p.tsNanos), p.origLen]),
  );
  // Real kernel timestamps have nanosecond digits that a microsecond file would have lost.
  assert.ok(nano.packets.some((p) => p.tsNanos % 1000n !== 0n));

  const ng = readPcapng(readFileSync(ngFile));
  assert.deepEqual(
    ng.interfaces.map((i) => i.name),
    ["vb", "lo"],
  );
  const ngRows = await tsharkFields(ngFile, [
    "frame.interface_id",
    "frame.time_epoch",
    "frame.len",
    "frame.cap_len",
  ]);
  assert.deepEqual(
    ngRows.map((r) => [
      Number(r["frame.interface_id"]),
      r["frame.time_epoch"],
      Number(r["frame.len"]),
      Number(r["frame.cap_len"]),
    ]),
    ng.packets.map((p) => [p.interfaceId, epochText(p.tsNanos), p.origLen, p.data.length]),
  );
  const perInterface = [0, 1].map((id) => ng.packets.filter((p) => p.interfaceId === id).length);
  assert.ok(perInterface[0] >= 8 && perInterface[1] >= 4, `packets per interface: ${perInterface}`);
  t.diagnostic(`tcpdump nano: ${nano.packets.length} packets; dumpcap: ${perInterface.join(" + ")} packets`);
});
