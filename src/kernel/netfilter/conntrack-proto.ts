/**
 * Connection tracking tuples and the layer-4 trackers (net/netfilter/nf_conntrack_proto_*.c):
 * how a packet's tuple is built and inverted, which packets may start a connection, the TCP
 * state machine and the default timeouts.
 */
import { NSEC_PER_SEC } from "../clock.ts";

/** Directions (enum ip_conntrack_dir). */
export const IP_CT_DIR = { ORIGINAL: 0, REPLY: 1 } as const;

/** ctinfo values (enum ip_conntrack_info). */
export const IP_CT = {
  ESTABLISHED: 0,
  RELATED: 1,
  NEW: 2,
  IS_REPLY: 3,
  ESTABLISHED_REPLY: 3,
  RELATED_REPLY: 4,
  UNTRACKED: 7,
} as const;

/** Status bits (enum ip_conntrack_status). */
export const IPS = {
  EXPECTED: 1 << 0,
  SEEN_REPLY: 1 << 1,
  ASSURED: 1 << 2,
  CONFIRMED: 1 << 3,
  SRC_NAT: 1 << 4,
  DST_NAT: 1 << 5,
  DYING: 1 << 9,
} as const;

/** A conntrack tuple (struct nf_conntrack_tuple). */
export interface CtTuple {
  readonly l3: 4 | 6;
  readonly proto: number;
  readonly src: bigint;
  readonly dst: bigint;
  /** Ports for TCP/UDP; the echo id for ICMP (in `sport`); 0 otherwise. */
  readonly sport: number;
  readonly dport: number;
  /** ICMP/ICMPv6 type and code (0 otherwise). */
  readonly type: number;
  readonly code: number;
}

/** The hash key of a tuple. */
export function tupleKey(t: CtTuple): string {
  return `${t.l3}|${t.proto}|${t.src}|${t.dst}|${t.sport}|${t.dport}|${t.type}|${t.code}`;
}

/** ICMP request → reply types that conntrack tracks (nf_conntrack_proto_icmp.c invmap). */
const ICMP_INVERSE: ReadonlyMap<number, number> = new Map([
  [8, 0],
  [0, 8],
  [13, 14],
  [14, 13],
  [15, 16],
  [16, 15],
  [17, 18],
  [18, 17],
]);
/** ICMPv6 request ↔ reply (nf_conntrack_proto_icmpv6.c invmap). */
const ICMPV6_INVERSE: ReadonlyMap<number, number> = new Map([
  [128, 129],
  [129, 128],
  [139, 140],
  [140, 139],
]);

/** ICMP types that may start a connection. */
const ICMP_VALID_NEW = new Set([8, 13, 15, 17]);
/** ICMPv6 types that may start a connection. */
const ICMPV6_VALID_NEW = new Set([128, 139]);
/** ICMPv6 types conntrack leaves untracked (neighbour discovery, MLD). */
export const ICMPV6_NOCT = new Set([130, 131, 132, 133, 134, 135, 136, 137, 143]);
/** ICMP error types (they relate to an existing flow). */
export const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);
/** ICMPv6 error types. */
export const ICMPV6_ERRORS = new Set([1, 2, 3, 4]);

/** Whether a protocol's tuple includes ports / ICMP fields. */
export function isIcmpProto(l3: 4 | 6, proto: number): boolean {
  return (l3 === 4 && proto === 1) || (l3 === 6 && proto === 58);
}

/** nf_ct_invert_tuple: null when the tuple cannot be inverted (ICMP type without a reply). */
export function invertTuple(t: CtTuple): CtTuple | null {
  if (isIcmpProto(t.l3, t.proto)) {
    const inv = (t.l3 === 4 ? ICMP_INVERSE : ICMPV6_INVERSE).get(t.type);
    if (inv === undefined) return null;
    return { ...t, src: t.dst, dst: t.src, type: inv };
  }
  return { ...t, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

/** Whether an ICMP/ICMPv6 tuple's type may create a new entry. */
export function icmpValidNew(t: CtTuple): boolean {
  return (t.l3 === 4 ? ICMP_VALID_NEW : ICMPV6_VALID_NEW).has(t.type);
}

/** TCP conntrack states (enum tcp_conntrack), in kernel order. */
export const TCP_CONNTRACK = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  SYN_SENT2: 9,
  MAX: 10,
  IGNORE: 11,
} as const;

/** The names conntrack-tools prints for TCP states. */
export const TCP_STATE_NAMES = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
] as const;

const S = TCP_CONNTRACK;
const sSS = S.SYN_SENT;
const sSR = S.SYN_RECV;
const sES = S.ESTABLISHED;
const sFW = S.FIN_WAIT;
const sCW = S.CLOSE_WAIT;
const sLA = S.LAST_ACK;
const sTW = S.TIME_WAIT;
const sCL = S.CLOSE;
const sS2 = S.SYN_SENT2;
const sIV = S.MAX;
const sIG = S.IGNORE;

/**
 * The TCP transition table of nf_conntrack_proto_tcp.c, indexed [dir][flag class][old state]
 * with flag classes SYN, SYN+ACK, FIN, ACK, RST, none; columns NONE, SYN_SENT, ... SYN_SENT2.
 */
const TCP_TABLE: readonly (readonly (readonly number[])[])[] = [
  [
    [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [
    [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

/** TCP flag bits. */
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** get_conntrack_index: the flag class of a segment. */
export function tcpFlagIndex(flags: number): number {
  if (flags & TCP_FLAG.RST) return 4;
  if (flags & TCP_FLAG.SYN) return flags & TCP_FLAG.ACK ? 1 : 0;
  if (flags & TCP_FLAG.FIN) return 2;
  if (flags & TCP_FLAG.ACK) return 3;
  return 5;
}

/** The next TCP state (may be MAX = invalid or IGNORE). */
export function tcpNextState(dir: number, flags: number, old: number): number {
  return TCP_TABLE[dir][tcpFlagIndex(flags)][old];
}

const SEC = NSEC_PER_SEC;

/** Default TCP timeouts per state (nf_conntrack_tcp_timeout_*). */
export const TCP_TIMEOUTS: readonly bigint[] = [
  0n,
  120n * SEC,
  60n * SEC,
  432000n * SEC,
  120n * SEC,
  60n * SEC,
  30n * SEC,
  120n * SEC,
  10n * SEC,
  120n * SEC,
];

/** nf_conntrack_udp_timeout (unreplied). */
export const UDP_TIMEOUT = 30n * SEC;
/** nf_conntrack_udp_timeout_stream. */
export const UDP_TIMEOUT_STREAM = 120n * SEC;
/** After this long with traffic both ways a UDP flow counts as a stream. */
export const UDP_STREAM_DELAY = 2n * SEC;
/** nf_conntrack_icmp_timeout / icmpv6_timeout. */
export const ICMP_TIMEOUT = 30n * SEC;
/** nf_conntrack_generic_timeout. */
export const GENERIC_TIMEOUT = 600n * SEC;
