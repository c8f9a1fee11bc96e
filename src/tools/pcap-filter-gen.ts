/**
 * The building blocks the pcap filter compiler (pcap-filter.ts) emits: bounds-checked loads
 * (a load past the end rejects the frame, as in BPF), protocol tests with libpcap's offsets,
 * address/network/port matches by direction, and the arithmetic and comparison operators.
 */
import { parseIpv4, parseIpv6, parseMac } from "../wire/index.ts";

/** What a compiled filter is evaluated on. */
export interface FilterPacket {
  /** The captured bytes, from the Ethernet header on. */
  readonly data: Uint8Array;
  /** Length on the wire (`len`, less, greater). */
  readonly len: number;
  /** Direction for inbound/outbound; undefined when reading a file. */
  readonly dir?: "in" | "out";
}

/** A compiled filter. */
export type FilterFn = (p: FilterPacket) => boolean;

/** A filter that cannot be compiled; `message` is what tcpdump prints after "tcpdump: ". */
export class FilterError extends Error {
  /** Not a parse failure that another reading of the tokens could avoid. */
  readonly fatal: boolean;

  constructor(message: string, fatal = false) {
    super(message);
    this.name = "FilterError";
    this.fatal = fatal;
  }
}

/** Thrown by a load past the end of the frame: the BPF program returns 0. */
export class Reject extends Error {}
/** The one Reject instance loads throw. */
export const REJECT = new Reject();
/** A load on a packet of the wrong protocol (ip[9] on ARP): the relation is false, not the filter. */
export const REJECT_FALSE = new Error("wrong protocol for this load");

/** A compiled boolean expression. */
export type Pred = (p: FilterPacket) => boolean;
/** A compiled arithmetic expression (unsigned 32-bit). */
export type Val = (p: FilterPacket) => number;

/** tcpdump's message for anything the grammar rejects. */
export const SYNTAX = "can't parse filter expression: syntax error";

/** EtherTypes the primitives test. */
export const ETHERTYPE = {
  IP: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  IPV6: 0x86dd,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ2: 0x9100,
};
/** IP protocol numbers of the protocol keywords. */
export const IPPROTO: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  icmp6: 58,
  sctp: 132,
};
/** Names `ether proto \NAME` accepts. */
export const ETHER_PROTO_NAMES: Readonly<Record<string, number>> = {
  ip: 0x0800,
  ip6: 0x86dd,
  arp: 0x0806,
  rarp: 0x8035,
  atalk: 0x809b,
  aarp: 0x80f3,
  ipx: 0x8137,
};

/** Constants the language predefines (pcap-filter(7)). */
export const NAMED: Readonly<Record<string, number>> = {
  icmptype: 0,
  icmpcode: 1,
  "icmp-echoreply": 0,
  "icmp-unreach": 3,
  "icmp-sourcequench": 4,
  "icmp-redirect": 5,
  "icmp-echo": 8,
  "icmp-routeradvert": 9,
  "icmp-routersolicit": 10,
  "icmp-timxceed": 11,
  "icmp-paramprob": 12,
  "icmp-tstamp": 13,
  "icmp-tstampreply": 14,
  "icmp-ireq": 15,
  "icmp-ireqreply": 16,
  "icmp-maskreq": 17,
  "icmp-maskreply": 18,
  icmp6type: 0,
  icmp6code: 1,
  "icmp6-destinationunreach": 1,
  "icmp6-packettoobig": 2,
  "icmp6-timeexceeded": 3,
  "icmp6-parameterproblem": 4,
  "icmp6-echo": 128,
  "icmp6-echoreply": 129,
  "icmp6-multicastlistenerquery": 130,
  "icmp6-multicastlistenerreportv1": 131,
  "icmp6-multicastlistenerdone": 132,
  "icmp6-routersolicit": 133,
  "icmp6-routeradvert": 134,
  "icmp6-neighborsolicit": 135,
  "icmp6-neighboradvert": 136,
  "icmp6-redirect": 137,
  "icmp6-multicastlistenerreportv2": 143,
  tcpflags: 13,
  "tcp-fin": 0x01,
  "tcp-syn": 0x02,
  "tcp-rst": 0x04,
  "tcp-push": 0x08,
  "tcp-ack": 0x10,
  "tcp-urg": 0x20,
  "tcp-ece": 0x40,
  "tcp-cwr": 0x80,
};

/** A few /etc/services names for `port NAME`. */
export const SERVICES: Readonly<Record<string, number>> = {
  echo: 7,
  discard: 9,
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  bootps: 67,
  bootpc: 68,
  tftp: 69,
  http: 80,
  ntp: 123,
  snmp: 161,
  https: 443,
  syslog: 514,
  mdns: 5353,
  "http-alt": 8080,
};

/** Byte at `off`; rejects the frame past its end. */
export function u8(p: FilterPacket, off: number): number {
  if (off < 0 || off >= p.data.length) throw REJECT;
  return p.data[off]!;
}

/** Big-endian 16 bits at `off`. */
export function u16(p: FilterPacket, off: number): number {
  return (u8(p, off) << 8) | u8(p, off + 1);
}

/** Big-endian 32 bits at `off`. */
export function u32(p: FilterPacket, off: number): number {
  return ((u16(p, off) << 16) >>> 0) + u16(p, off + 2);
}

/** A 1, 2 or 4-byte load (`proto[off:size]`). */
export function load(p: FilterPacket, off: number, size: number): number {
  return size === 1 ? u8(p, off) : size === 2 ? u16(p, off) : u32(p, off);
}

function bytesEq(p: FilterPacket, off: number, want: Uint8Array, mask?: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) {
    const m = mask ? mask[i]! : 0xff;
    if ((u8(p, off + i) & m) !== (want[i]! & m)) return false;
  }
  return true;
}

/** Protocol qualifier of a primitive. */
export type ProtoQ =
  | "ether"
  | "ip"
  | "ip6"
  | "arp"
  | "rarp"
  | "tcp"
  | "udp"
  | "sctp"
  | "icmp"
  | "icmp6"
  | "igmp"
  | null;
/** Direction qualifier. */
export type DirQ = "src" | "dst" | "src or dst" | "src and dst" | null;
/** Type qualifier. */
export type TypeQ = "host" | "net" | "port" | "portrange" | "proto" | null;

/** The qualifiers of a primitive (kept for ids that follow without any). */
export interface Qual {
  proto: ProtoQ;
  dir: DirQ;
  type: TypeQ;
}

/** Words that are protocol qualifiers. */
export const PROTO_WORDS = new Set([
  "ether",
  "ip",
  "ip6",
  "arp",
  "rarp",
  "tcp",
  "udp",
  "sctp",
  "icmp",
  "icmp6",
  "igmp",
]);
/** Words that are type qualifiers. */
export const TYPE_WORDS = new Set(["host", "net", "port", "portrange", "proto"]);
/** Comparison operators. */
export const RELOPS = new Set([">", "<", ">=", "<=", "=", "==", "!="]);
/** Reserved words (an id must be escaped with `\` to use one). */
export const KEYWORDS = new Set([
  ...PROTO_WORDS,
  ...TYPE_WORDS,
  "src",
  "dst",
  "and",
  "or",
  "not",
  "len",
  "less",
  "greater",
  "broadcast",
  "multicast",
  "vlan",
  "inbound",
  "outbound",
  "mask",
  "gateway",
]);

/** A comparison operator. */
export function relop(op: string): (a: number, b: number) => boolean {
  switch (op) {
    case ">":
      return (a, b) => a > b;
    case "<":
      return (a, b) => a < b;
    case ">=":
      return (a, b) => a >= b;
    case "<=":
      return (a, b) => a <= b;
    case "!=":
      return (a, b) => a !== b;
    default:
      return (a, b) => a === b;
  }
}

/** An arithmetic operator on unsigned 32-bit values; division by zero rejects. */
export function binop(op: string, a: Val, b: Val): Val {
  switch (op) {
    case "+":
      return (p) => (a(p) + b(p)) >>> 0;
    case "-":
      return (p) => (a(p) - b(p)) >>> 0;
    case "*":
      return (p) => Math.imul(a(p), b(p)) >>> 0;
    case "/":
      return (p) => {
        const d = b(p);
        if (d === 0) throw REJECT;
        return Math.floor(a(p) / d) >>> 0;
      };
    case "%":
      return (p) => {
        const d = b(p);
        if (d === 0) throw REJECT;
        return (a(p) % d) >>> 0;
      };
    case "&":
      return (p) => (a(p) & b(p)) >>> 0;
    case "|":
      return (p) => (a(p) | b(p)) >>> 0;
    case "^":
      return (p) => (a(p) ^ b(p)) >>> 0;
    case "<<":
      return (p) => {
        const s = b(p);
        return s > 31 ? 0 : (a(p) << s) >>> 0;
      };
    default:
      return (p) => {
        const s = b(p);
        return s > 31 ? 0 : a(p) >>> s;
      };
  }
}

/** C-style number: 0x hex, leading-0 octal, decimal. */
export function parseNumber(text: string): number | null {
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text, 16) >>> 0;
  if (/^0[0-7]*$/.test(text)) return Number.parseInt(text, 8) >>> 0;
  if (/^[1-9][0-9]*$/.test(text)) return Number(text) > 0xffffffff ? null : Number(text);
  return null;
}

/** A port number or /etc/services name. */
export function portNumber(text: string): number {
  const n = parseNumber(text);
  if (n !== null) {
    if (n > 65535) throw new FilterError(`illegal port number ${n} > 65535`);
    return n;
  }
  const s = SERVICES[text];
  if (s === undefined) throw new FilterError(`unknown port '${text}'`);
  return s;
}

/** The number of a protocol name (EtherType names after `ether`). */
export function protoNumber(q: ProtoQ, text: string): number | null {
  if (q === "ether") return ETHER_PROTO_NAMES[text] ?? null;
  return IPPROTO[text] ?? null;
}

/** Whether a word is a MAC address (":", "." or "-" separated). */
export function isMacText(text: string): boolean {
  return /^[0-9a-f]{1,2}([:.-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$/i.test(text);
}

/** A word that names an address or network (accepted without qualifiers, as a host). */
export function looksLikeAddress(text: string): boolean {
  return /^[0-9.]+(\/\d+)?$/.test(text) || (text.includes(":") && /^[0-9a-f:.]+(\/\d+)?$/i.test(text));
}

/** The EtherType in front of the link payload at L. */
export function isEthertype(L: number, type: number): Pred {
  return (p) => u16(p, L - 2) === type;
}

/** `ip proto N`. */
export function ipProto(L: number, proto: number): Pred {
  const ip = isEthertype(L, ETHERTYPE.IP);
  return (p) => ip(p) && u8(p, L + 9) === proto;
}

/** ip6 proto N: the next header, or the one after a fragment header (libpcap's gen_proto). */
export function ip6Proto(L: number, proto: number): Pred {
  const ip6 = isEthertype(L, ETHERTYPE.IPV6);
  return (p) => {
    if (!ip6(p)) return false;
    const nh = u8(p, L + 6);
    if (nh === proto) return true;
    return nh === 44 && u8(p, L + 40) === proto;
  };
}

/** A protocol keyword used alone (`ip`, `tcp`, `icmp6` ...). */
export function protoPred(proto: Exclude<ProtoQ, null>, L: number): Pred {
  switch (proto) {
    case "ether":
      throw new FilterError(SYNTAX);
    case "ip":
      return isEthertype(L, ETHERTYPE.IP);
    case "ip6":
      return isEthertype(L, ETHERTYPE.IPV6);
    case "arp":
      return isEthertype(L, ETHERTYPE.ARP);
    case "rarp":
      return isEthertype(L, ETHERTYPE.RARP);
    case "icmp":
    case "igmp":
      return ipProto(L, IPPROTO[proto]!);
    case "icmp6":
      return ip6Proto(L, 58);
    default: {
      const a = ipProto(L, IPPROTO[proto]!);
      const b = ip6Proto(L, IPPROTO[proto]!);
      return (p) => a(p) || b(p);
    }
  }
}

/** `ether broadcast`: all-ones destination MAC. */
export function isBroadcast(p: FilterPacket): boolean {
  for (let i = 0; i < 6; i++) if (u8(p, i) !== 0xff) return false;
  return true;
}

/** A MAC address word as bytes. */
export function macBytes(text: string): Uint8Array {
  let mac: number;
  try {
    mac = parseMac(text);
  } catch {
    throw new FilterError(`bogus ethernet address ${text}`);
  }
  const b = new Uint8Array(6);
  for (let i = 5; i >= 0; i--) {
    b[i] = mac % 256;
    mac = Math.floor(mac / 256);
  }
  return b;
}

/** `ether host/src/dst MAC`. */
export function etherHost(dir: DirQ, mac: Uint8Array): Pred {
  const src: Pred = (p) => bytesEq(p, 6, mac);
  const dst: Pred = (p) => bytesEq(p, 0, mac);
  return combineDir(dir, src, dst);
}

function combineDir(dir: DirQ, src: Pred, dst: Pred): Pred {
  switch (dir) {
    case "src":
      return src;
    case "dst":
      return dst;
    case "src and dst":
      return (p) => src(p) && dst(p);
    default:
      return (p) => src(p) || dst(p);
  }
}

function ipv4Bytes(a: number): Uint8Array {
  return new Uint8Array([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]);
}

function ipv6Bytes(a: bigint): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(a & 0xffn);
    a >>= 8n;
  }
  return b;
}

function maskBytes(len: number, n: number): Uint8Array {
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const bits = Math.max(0, Math.min(8, len - 8 * i));
    m[i] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return m;
}

/** IPv4 (or IPv6) address match for ip/arp/rarp headers by direction. */
export function addrPred(
  q: Qual,
  L: number,
  v4: Uint8Array | null,
  v6: Uint8Array | null,
  mask4?: Uint8Array,
  mask6?: Uint8Array,
): Pred {
  const preds: Pred[] = [];
  if (v4) {
    const proto = q.proto;
    const layers: [number, number, number][] = [];
    if (proto === null || proto === "ip") layers.push([ETHERTYPE.IP, 12, 16]);
    if (proto === null || proto === "arp") layers.push([ETHERTYPE.ARP, 14, 24]);
    if (proto === null || proto === "rarp") layers.push([ETHERTYPE.RARP, 14, 24]);
    if (layers.length === 0) throw new FilterError(`'${proto}' modifier applied to host`);
    for (const [type, s, d] of layers) {
      const is = isEthertype(L, type);
      const inner = combineDir(
        q.dir,
        (p) => bytesEq(p, L + s, v4, mask4),
        (p) => bytesEq(p, L + d, v4, mask4),
      );
      preds.push((p) => is(p) && inner(p));
    }
  }
  if (v6) {
    if (q.proto !== null && q.proto !== "ip6")
      throw new FilterError(`'${q.proto}' modifier applied to ip6 host`);
    const is = isEthertype(L, ETHERTYPE.IPV6);
    const inner = combineDir(
      q.dir,
      (p) => bytesEq(p, L + 8, v6, mask6),
      (p) => bytesEq(p, L + 24, v6, mask6),
    );
    preds.push((p) => is(p) && inner(p));
  }
  return (p) => preds.some((f) => f(p));
}

/** `[ip|ip6|arp|rarp] [src|dst] host ADDR`. */
export function hostPred(q: Qual, text: string, L: number): Pred {
  if (text.includes(":")) {
    if (isMacText(text)) throw new FilterError("ethernet address used in non-ether expression");
    let a: bigint;
    try {
      a = parseIpv6(text);
    } catch {
      throw new FilterError(`invalid IPv6 address '${text}'`);
    }
    return addrPred(q, L, null, ipv6Bytes(a));
  }
  if (/^[0-9.]+$/.test(text)) {
    let a: number;
    try {
      a = parseIpv4(text);
    } catch {
      throw new FilterError(`invalid IPv4 address '${text}'`);
    }
    if (q.proto === "ip6") throw new FilterError(`'ip6' modifier applied to ip host`);
    return addrPred(q, L, ipv4Bytes(a), null);
  }
  throw new FilterError(`unknown host '${text}'`);
}

/** `[src|dst] net ADDR[/LEN]` (IPv4 or IPv6). */
export function netPred(q: Qual, text: string, L: number): Pred {
  const slash = text.indexOf("/");
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  let len = slash >= 0 ? Number.parseInt(text.slice(slash + 1), 10) : -1;
  if (addrText.includes(":")) {
    if (len < 0) len = 128;
    if (len > 128) throw new FilterError(`mask length must be <= 128`);
    let a: bigint;
    try {
      a = parseIpv6(addrText);
    } catch {
      throw new FilterError(`invalid IPv6 address '${addrText}'`);
    }
    const bytes = ipv6Bytes(a);
    const mask = maskBytes(len, 16);
    if (bytes.some((b, i) => (b & ~mask[i]!) !== 0))
      throw new FilterError(`non-network bits set in "${text}"`);
    return addrPred(q, L, null, bytes, undefined, mask);
  }
  const parts = addrText.split(".");
  if (parts.length > 4 || parts.some((x) => !/^\d+$/.test(x) || Number(x) > 255)) {
    throw new FilterError(`invalid IPv4 address '${addrText}'`);
  }
  const bytes = new Uint8Array(4);
  parts.forEach((x, i) => {
    bytes[i] = Number(x);
  });
  if (len < 0) len = 8 * parts.length;
  if (len > 32) throw new FilterError(`mask length must be <= 32`);
  const mask = maskBytes(len, 4);
  if (bytes.some((b, i) => (b & ~mask[i]!) !== 0)) throw new FilterError(`non-network bits set in "${text}"`);
  return addrPred(q, L, bytes, null, mask);
}

/**
 * Compiles a filter expression (the words after the options, joined by spaces); throws
 * FilterError with tcpdump's message when it does not compile.
 */
