/**
 * Packet codec throughput: parse every layer of a frame and emit it back, for a minimum-size
 * UDP/IPv4 frame (64 bytes) and a full-MTU TCP/IPv6 frame (1500-byte IP packet, 1514-byte
 * frame). Prints one JSON line per result: {"name", "value", "unit"}.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/wire.bench.js
 */

import { Bench } from "tinybench";
import {
  EtherType,
  emitFrame,
  emitFrameInto,
  type FrameRepr,
  IpProto,
  parseFrame,
  parseIpv4,
  parseIpv6,
  parseMac,
  TcpFlag,
} from "../src/wire/index.ts";

const eth = (etherType: number) => ({
  dst: parseMac("02:00:00:00:00:02"),
  src: parseMac("02:00:00:00:00:01"),
  etherType,
});

function filled(len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

const udp4: FrameRepr = {
  eth: eth(EtherType.Ipv4),
  ipv4: {
    src: parseIpv4("10.0.0.1"),
    dst: parseIpv4("10.0.0.2"),
    protocol: IpProto.Udp,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    ident: 4242,
    dontFrag: true,
    moreFrags: false,
    fragOffset: 0,
    options: new Uint8Array(0),
    payloadLen: 0,
  },
  udp: { srcPort: 37109, dstPort: 6000, payload: filled(64 - 14 - 20 - 8) },
};

const tcpOptions = [
  { kind: "nop" as const },
  { kind: "nop" as const },
  { kind: "timestamp" as const, tsval: 199561275, tsecr: 3017185902 },
];
const tcp6: FrameRepr = {
  eth: eth(EtherType.Ipv6),
  ipv6: {
    src: parseIpv6("2001:db8::1"),
    dst: parseIpv6("2001:db8::2"),
    nextHeader: IpProto.Tcp,
    hopLimit: 64,
    dscp: 0,
    ecn: 0,
    flowLabel: 0x7e4ad,
    extHeaders: [],
    payloadLen: 0,
  },
  tcp: {
    srcPort: 50032,
    dstPort: 5000,
    seq: 1246264814,
    ack: 3989953206,
    flags: TcpFlag.Ack | TcpFlag.Psh,
    window: 64,
    urgent: 0,
    options: tcpOptions,
    payload: filled(1500 - 40 - 32),
  },
};

type Case = { readonly name: string; readonly frame: Uint8Array };
const cases: Case[] = [
  { name: "udp4", frame: emitFrame(udp4) },
  { name: "tcp6", frame: emitFrame(tcp6) },
];

const bench = new Bench({ time: 1000, warmupTime: 200 });
const names: string[] = [];
for (const c of cases) {
  const out = new Uint8Array(c.frame.length);
  const repr = parseFrame(c.frame);
  const size = c.name === "udp4" ? `${c.frame.length}B` : `${c.frame.length - 14}B`;
  const add = (what: string, fn: () => void): void => {
    const name = `wire.${c.name}.${what}.${size}`;
    names.push(name);
    bench.add(name, fn);
  };
  add("parse_emit", () => {
    emitFrameInto(parseFrame(c.frame), out);
  });
  add("parse", () => {
    parseFrame(c.frame);
  });
  add("emit", () => {
    emitFrameInto(repr, out);
  });
}

await bench.run();
for (const task of bench.tasks) {
  const r = task.result;
  if (r.state !== "completed") {
    console.error(`${task.name}: ${r.state}${"error" in r ? ` ${String(r.error)}` : ""}`);
    process.exitCode = 1;
    continue;
  }
  console.log(JSON.stringify({ name: task.name, value: Math.round(r.throughput.mean), unit: "frames/s" }));
}
