/**
 * Helpers shared by the real-traffic tests: completing the partial TCP/UDP checksums Linux leaves
 * under transmit offload, naming frames by protocol, and rendering what the project's codecs
 * parsed in tshark's field syntax so the two decoders can be compared packet by packet.
 */
import {
  type FrameRepr,
  formatIpv4,
  formatIpv6,
  formatMac,
  type Icmpv4Repr,
  type Icmpv6Repr,
  ipv4ReprLen,
  ipv6ExtHeaderProto,
  ipv6ReprLen,
} from "../../src/wire/index.ts";
import { run } from "../support/netns.ts";

// Written here independently of src/wire on purpose, so a shared bug cannot hide itself.
function onesComplementSum(bytes: Uint8Array, initial: number): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function wordsSum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  return sum;
}

/** Where a frame's TCP or UDP checksum lives and what it should cover. */
type TransportChecksum = {
  readonly field: number;
  readonly start: number;
  readonly end: number;
  readonly pseudo: number;
};

function locateTransportChecksum(frame: Uint8Array): TransportChecksum | undefined {
  if (frame.length < 14) return undefined;
  const etherType = (frame[12] << 8) | frame[13];
  let protocol: number;
  let start: number;
  let end: number;
  let pseudo: number;
  if (etherType === 0x0800 && frame.length >= 34) {
    const headerLen = (frame[14] & 0xf) * 4;
    const fragment = ((frame[20] << 8) | frame[21]) & 0x3fff;
    if (fragment !== 0) return undefined;
    protocol = frame[23];
    start = 14 + headerLen;
    end = 14 + ((frame[16] << 8) | frame[17]);
    pseudo = wordsSum(frame.subarray(26, 34)) + protocol + (end - start);
  } else if (etherType === 0x86dd && frame.length >= 54) {
    // Only transports right after the fixed header; chains are left to the codecs alone.
    protocol = frame[20];
    start = 54;
    end = 54 + ((frame[18] << 8) | frame[19]);
    pseudo = wordsSum(frame.subarray(22, 54)) + protocol + (end - start);
  } else {
    return undefined;
  }
  if (protocol !== 6 && protocol !== 17) return undefined;
  const field = start + (protocol === 6 ? 16 : 6);
  if (end > frame.length || field + 2 > end) return undefined;
  return { field, start, end, pseudo };
}

/**
 * Linux transmits TCP and UDP with CHECKSUM_PARTIAL when the device offers checksum offload, as
 * veth does: the checksum field then holds only the folded pseudo-header sum, left for hardware
 * to finish. A veth peer delivers such packets as they are (the receiver trusts them), so
 * tcpdump records them on either end. This returns a copy of `frame` with the checksum
 * finished, `undefined` when it already is complete (or absent), and throws when the field is
 * neither complete nor partial, so only the offload artefact is ever forgiven.
 */
export function completePartialChecksum(frame: Uint8Array): Uint8Array | undefined {
  const at = locateTransportChecksum(frame);
  if (at === undefined) return undefined;
  const stored = (frame[at.field] << 8) | frame[at.field + 1];
  const isUdp = at.field - at.start === 6;
  if (isUdp && stored === 0 && (frame[12] << 8) + frame[13] === 0x0800) return undefined; // no checksum
  const copy = new Uint8Array(frame); // a copy, even when `frame` is a Buffer
  copy[at.field] = 0;
  copy[at.field + 1] = 0;
  let full = ~onesComplementSum(copy.subarray(at.start, at.end), at.pseudo) & 0xffff;
  if (isUdp && full === 0) full = 0xffff;
  if (stored === full) return undefined;
  const partial = onesComplementSum(new Uint8Array(0), at.pseudo);
  if (stored !== partial) {
    const hex = (n: number) => `0x${n.toString(16).padStart(4, "0")}`;
    throw new Error(
      `Cannot complete checksum ${hex(stored)}: neither complete (${hex(full)}) nor partial (${hex(partial)})`,
    );
  }
  copy[at.field] = full >>> 8;
  copy[at.field + 1] = full & 0xff;
  return copy;
}

const ICMPV4_TYPES: Readonly<Record<string, number>> = {
  "echo-reply": 0,
  "dest-unreachable": 3,
  redirect: 5,
  "echo-request": 8,
  "time-exceeded": 11,
};

const ICMPV6_TYPES: Readonly<Record<string, number>> = {
  "dest-unreachable": 1,
  "packet-too-big": 2,
  "time-exceeded": 3,
  "param-problem": 4,
  "echo-request": 128,
  "echo-reply": 129,
  "mld-query": 130,
  "mld-report": 131,
  "mld-done": 132,
  "router-solicit": 133,
  "router-advert": 134,
  "neighbor-solicit": 135,
  "neighbor-advert": 136,
  redirect: 137,
  "mldv2-report": 143,
};

function icmpv4TypeCode(icmp: Icmpv4Repr): [number, number] {
  if (icmp.kind === "other") return [icmp.type, icmp.code];
  return [ICMPV4_TYPES[icmp.kind], "code" in icmp ? icmp.code : 0];
}

function icmpv6TypeCode(icmp: Icmpv6Repr): [number, number] {
  if (icmp.kind === "other") return [icmp.type, icmp.code];
  return [ICMPV6_TYPES[icmp.kind], "code" in icmp ? icmp.code : 0];
}

/** A short protocol name for counting: "arp", "icmp echo-request", "icmpv6 neighbor-solicit", "udp4", "tcp6"... */
export function protocolOf(repr: FrameRepr): string {
  if (repr.arp !== undefined) return repr.arp.operation === 1 ? "arp request" : "arp reply";
  const v = repr.ipv6 !== undefined ? "6" : "4";
  if (repr.udp !== undefined) return `udp${v}`;
  if (repr.tcp !== undefined) return `tcp${v}`;
  if (repr.icmpv4 !== undefined) return `icmp ${repr.icmpv4.kind}`;
  if (repr.icmpv6 !== undefined) return `icmpv6 ${repr.icmpv6.kind}`;
  return "undecoded";
}

/** tshark preferences that make it verify every checksum it can. */
export const TSHARK_PREFS: readonly string[] = [
  "ip.check_checksum:TRUE",
  "udp.check_checksum:TRUE",
  "tcp.check_checksum:TRUE",
];

/** The tshark fields compared with the project's decoding. */
export const TSHARK_FIELDS: readonly string[] = [
  "frame.time_epoch",
  "frame.len",
  "eth.src",
  "eth.dst",
  "eth.type",
  "arp.opcode",
  "arp.src.hw_mac",
  "arp.src.proto_ipv4",
  "arp.dst.hw_mac",
  "arp.dst.proto_ipv4",
  "ip.src",
  "ip.dst",
  "ip.proto",
  "ip.ttl",
  "ip.id",
  "ip.dsfield",
  "ip.flags",
  "ip.len",
  "ip.checksum.status",
  "ipv6.src",
  "ipv6.dst",
  "ipv6.nxt",
  "ipv6.hlim",
  "ipv6.flow",
  "ipv6.plen",
  "udp.srcport",
  "udp.dstport",
  "udp.length",
  "udp.checksum.status",
  "tcp.srcport",
  "tcp.dstport",
  "tcp.seq_raw",
  "tcp.ack_raw",
  "tcp.flags",
  "tcp.window_size_value",
  "tcp.len",
  "tcp.checksum.status",
  "icmp.type",
  "icmp.code",
  "icmp.checksum.status",
  "icmpv6.type",
  "icmpv6.code",
  "icmpv6.checksum.status",
];

// tshark's "checksum status" value for a checksum it verified as good.
const GOOD = "1";

function hex(n: number, digits: number): string {
  return `0x${n.toString(16).padStart(digits, "0")}`;
}

/**
 * The project's decoding of a frame, in tshark's field syntax. Only layers the codecs decoded
 * appear, so fields tshark finds deeper (a datagram quoted in an ICMP error) are not compared.
 * Checksums are "good" because the frame was parsed with every checksum verified.
 */
export function tsharkView(repr: FrameRepr, frameLen: number): Record<string, string> {
  const out: Record<string, string> = {
    "frame.len": String(frameLen),
    "eth.src": formatMac(repr.eth.src),
    "eth.dst": formatMac(repr.eth.dst),
    "eth.type": hex(repr.eth.etherType, 4),
  };
  if (repr.arp !== undefined) {
    out["arp.opcode"] = String(repr.arp.operation);
    out["arp.src.hw_mac"] = formatMac(repr.arp.senderMac);
    out["arp.src.proto_ipv4"] = formatIpv4(repr.arp.senderIp);
    out["arp.dst.hw_mac"] = formatMac(repr.arp.targetMac);
    out["arp.dst.proto_ipv4"] = formatIpv4(repr.arp.targetIp);
  }
  if (repr.ipv4 !== undefined) {
    const ip = repr.ipv4;
    out["ip.src"] = formatIpv4(ip.src);
    out["ip.dst"] = formatIpv4(ip.dst);
    out["ip.proto"] = String(ip.protocol);
    out["ip.ttl"] = String(ip.ttl);
    out["ip.id"] = hex(ip.ident, 4);
    out["ip.dsfield"] = hex((ip.dscp << 2) | ip.ecn, 2);
    out["ip.flags"] = hex((ip.dontFrag ? 2 : 0) | (ip.moreFrags ? 1 : 0), 2);
    out["ip.len"] = String(ipv4ReprLen(ip) + ip.payloadLen);
    out["ip.checksum.status"] = GOOD;
  }
  if (repr.ipv6 !== undefined) {
    const ip = repr.ipv6;
    out["ipv6.src"] = formatIpv6(ip.src);
    out["ipv6.dst"] = formatIpv6(ip.dst);
    // tshark shows the fixed header's next header, i.e. the first extension header if any.
    out["ipv6.nxt"] = String(ip.extHeaders.length > 0 ? ipv6ExtHeaderProto(ip.extHeaders[0]) : ip.nextHeader);
    out["ipv6.hlim"] = String(ip.hopLimit);
    out["ipv6.flow"] = hex(ip.flowLabel, 6);
    out["ipv6.plen"] = String(ipv6ReprLen(ip) - 40 + ip.payloadLen);
  }
  if (repr.udp !== undefined) {
    out["udp.srcport"] = String(repr.udp.srcPort);
    out["udp.dstport"] = String(repr.udp.dstPort);
    out["udp.length"] = String(8 + repr.udp.payload.length);
    out["udp.checksum.status"] = GOOD;
  }
  if (repr.tcp !== undefined) {
    const tcp = repr.tcp;
    out["tcp.srcport"] = String(tcp.srcPort);
    out["tcp.dstport"] = String(tcp.dstPort);
    out["tcp.seq_raw"] = String(tcp.seq);
    out["tcp.ack_raw"] = String(tcp.ack);
    out["tcp.flags"] = hex(tcp.flags, 4);
    out["tcp.window_size_value"] = String(tcp.window);
    out["tcp.len"] = String(tcp.payload.length);
    out["tcp.checksum.status"] = GOOD;
  }
  if (repr.icmpv4 !== undefined) {
    const [type, code] = icmpv4TypeCode(repr.icmpv4);
    out["icmp.type"] = String(type);
    out["icmp.code"] = String(code);
    out["icmp.checksum.status"] = GOOD;
  }
  if (repr.icmpv6 !== undefined) {
    const [type, code] = icmpv6TypeCode(repr.icmpv6);
    out["icmpv6.type"] = String(type);
    out["icmpv6.code"] = String(code);
    out["icmpv6.checksum.status"] = GOOD;
  }
  return out;
}

/** tshark's frame.time_epoch text for a timestamp: seconds, a dot, nine digits. */
export function epochText(tsNanos: bigint): string {
  return `${tsNanos / 1_000_000_000n}.${(tsNanos % 1_000_000_000n).toString().padStart(9, "0")}`;
}

/** Runs tshark over `file` and returns, per packet, the first occurrence of each field ("" if absent). */
export async function tsharkFields(
  file: string,
  fields: readonly string[],
  prefs: readonly string[] = [],
): Promise<Record<string, string>[]> {
  const args = ["tshark", "-n", "-r", file, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"];
  for (const pref of prefs) args.push("-o", pref);
  for (const field of fields) args.push("-e", field);
  const { stdout } = await run(args, 20_000);
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const values = line.split("\t");
      return Object.fromEntries(fields.map((field, i) => [field, values[i] ?? ""]));
    });
}

/**
 * Compares our views with tshark's rows, field by field, for the fields our view defines, and
 * returns one line per difference (empty when they agree).
 */
export function diffWithTshark(
  ours: readonly Record<string, string>[],
  theirs: readonly Record<string, string>[],
  labels: readonly string[] = [],
): string[] {
  const problems: string[] = [];
  if (ours.length !== theirs.length)
    problems.push(`packet count: ours ${ours.length}, tshark ${theirs.length}`);
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
    for (const [field, value] of Object.entries(ours[i])) {
      if (theirs[i][field] !== value) {
        problems.push(
          `packet ${i + 1} ${labels[i] ?? ""}: ${field} ours "${value}", tshark "${theirs[i][field]}"`,
        );
      }
    }
  }
  return problems;
}
