/**
 * nft's datatypes (src/datatype.c, proto.c, meta.c, ct.c of nftables): how a value of each
 * selector is parsed from text and printed back, with the symbol tables nft 1.0.6 uses (protocol
 * names as in netbase's /etc/protocols, service names as in /etc/services, ICMP type names...).
 */
import type { NftCtKey, NftMetaKey, NftPayloadBase, NftPayloadProto } from "../kernel/index.ts";

/** How values of a type look. */
export type DatatypeKind = "integer" | "ipv4" | "ipv6" | "string" | "symbol" | "bitmask" | "mark" | "ifindex";

/** A datatype. */
export interface Datatype {
  readonly name: string;
  readonly kind: DatatypeKind;
  /** Width in bits (0 for strings). */
  readonly width: number;
  /** Symbolic names (parse and print); for bitmasks, one bit each. */
  readonly symbols?: readonly (readonly [string, number])[];
  /** Names accepted on input only. */
  readonly aliases?: readonly (readonly [string, number])[];
  /** Error when a word is neither a number nor a symbol. */
  readonly badSymbol?: string;
  /** Numbers print as names only if a symbol matches; false: always numeric (inet_service). */
  readonly printSymbols?: boolean;
  /** Numeric output is hex with this many digits (ether types). */
  readonly hexDigits?: number;
}

const PROTOCOLS: readonly (readonly [string, number])[] = [
  ["ip", 0],
  ["icmp", 1],
  ["igmp", 2],
  ["ggp", 3],
  ["ipencap", 4],
  ["st", 5],
  ["tcp", 6],
  ["egp", 8],
  ["igp", 9],
  ["pup", 12],
  ["udp", 17],
  ["hmp", 20],
  ["xns-idp", 22],
  ["rdp", 27],
  ["iso-tp4", 29],
  ["dccp", 33],
  ["xtp", 36],
  ["ddp", 37],
  ["idpr-cmtp", 38],
  ["ipv6", 41],
  ["ipv6-route", 43],
  ["ipv6-frag", 44],
  ["idrp", 45],
  ["rsvp", 46],
  ["gre", 47],
  ["esp", 50],
  ["ah", 51],
  ["skip", 57],
  ["ipv6-icmp", 58],
  ["ipv6-nonxt", 59],
  ["ipv6-opts", 60],
  ["rspf", 73],
  ["vmtp", 81],
  ["eigrp", 88],
  ["ospf", 89],
  ["ax.25", 93],
  ["ipip", 94],
  ["etherip", 97],
  ["encap", 98],
  ["pim", 103],
  ["ipcomp", 108],
  ["vrrp", 112],
  ["l2tp", 115],
  ["isis", 124],
  ["sctp", 132],
  ["fc", 133],
  ["mobility-header", 135],
  ["udplite", 136],
  ["mpls-in-ip", 137],
  ["manet", 138],
  ["hip", 139],
  ["shim6", 140],
  ["wesp", 141],
  ["rohc", 142],
  ["ethernet", 143],
];

const SERVICES: readonly (readonly [string, number])[] = [
  ["ftp-data", 20],
  ["ftp", 21],
  ["ssh", 22],
  ["telnet", 23],
  ["smtp", 25],
  ["domain", 53],
  ["bootps", 67],
  ["bootpc", 68],
  ["tftp", 69],
  ["http", 80],
  ["kerberos", 88],
  ["pop3", 110],
  ["ntp", 123],
  ["netbios-ns", 137],
  ["imap2", 143],
  ["snmp", 161],
  ["bgp", 179],
  ["ldap", 389],
  ["https", 443],
  ["microsoft-ds", 445],
  ["isakmp", 500],
  ["syslog", 514],
  ["submission", 587],
  ["ldaps", 636],
  ["rsync", 873],
  ["imaps", 993],
  ["pop3s", 995],
  ["mysql", 3306],
  ["sip", 5060],
  ["postgresql", 5432],
];

/** Datatypes by name. */
export const DT = {
  integer8: { name: "integer", kind: "integer", width: 8 },
  integer16: { name: "integer", kind: "integer", width: 16 },
  integer32: { name: "integer", kind: "integer", width: 32 },
  ipv4: { name: "ipv4_addr", kind: "ipv4", width: 32 },
  ipv6: { name: "ipv6_addr", kind: "ipv6", width: 128 },
  inetProto: {
    name: "inet_proto",
    kind: "symbol",
    width: 8,
    symbols: PROTOCOLS,
    aliases: [
      ["hopopt", 0],
      ["icmpv6", 58],
    ],
    badSymbol: "Could not resolve protocol name",
  },
  inetService: {
    name: "inet_service",
    kind: "symbol",
    width: 16,
    symbols: SERVICES,
    printSymbols: false,
    badSymbol: "Could not resolve service: Servname not supported for ai_socktype",
  },
  icmpType: {
    name: "icmp_type",
    kind: "symbol",
    width: 8,
    symbols: [
      ["echo-reply", 0],
      ["destination-unreachable", 3],
      ["source-quench", 4],
      ["redirect", 5],
      ["echo-request", 8],
      ["router-advertisement", 9],
      ["router-solicitation", 10],
      ["time-exceeded", 11],
      ["parameter-problem", 12],
      ["timestamp-request", 13],
      ["timestamp-reply", 14],
      ["info-request", 15],
      ["info-reply", 16],
      ["address-mask-request", 17],
      ["address-mask-reply", 18],
    ],
    badSymbol: "Could not parse ICMP type",
  },
  icmpCode: {
    name: "icmp_code",
    kind: "symbol",
    width: 8,
    symbols: [
      ["net-unreachable", 0],
      ["host-unreachable", 1],
      ["prot-unreachable", 2],
      ["port-unreachable", 3],
      ["frag-needed", 4],
      ["net-prohibited", 9],
      ["host-prohibited", 10],
      ["admin-prohibited", 13],
    ],
    badSymbol: "Could not parse icmp code",
  },
  icmpv6Type: {
    name: "icmpv6_type",
    kind: "symbol",
    width: 8,
    symbols: [
      ["destination-unreachable", 1],
      ["packet-too-big", 2],
      ["time-exceeded", 3],
      ["parameter-problem", 4],
      ["echo-request", 128],
      ["echo-reply", 129],
      ["mld-listener-query", 130],
      ["mld-listener-report", 131],
      ["mld-listener-done", 132],
      ["nd-router-solicit", 133],
      ["nd-router-advert", 134],
      ["nd-neighbor-solicit", 135],
      ["nd-neighbor-advert", 136],
      ["nd-redirect", 137],
      ["router-renumbering", 138],
      ["ind-neighbor-solicit", 141],
      ["ind-neighbor-advert", 142],
      ["mld2-listener-report", 143],
    ],
    aliases: [["mld-listener-reduction", 132]],
    badSymbol: "Could not parse ICMPv6 type",
  },
  icmpv6Code: {
    name: "icmpv6_code",
    kind: "symbol",
    width: 8,
    symbols: [
      ["no-route", 0],
      ["admin-prohibited", 1],
      ["addr-unreachable", 3],
      ["port-unreachable", 4],
      ["policy-fail", 5],
      ["reject-route", 6],
    ],
    badSymbol: "Could not parse icmpv6 code",
  },
  icmpxCode: {
    name: "icmpx_code",
    kind: "symbol",
    width: 8,
    symbols: [
      ["no-route", 0],
      ["port-unreachable", 1],
      ["host-unreachable", 2],
      ["admin-prohibited", 3],
    ],
    badSymbol: "Could not parse icmpx code",
  },
  ctState: {
    name: "ct_state",
    kind: "bitmask",
    width: 32,
    symbols: [
      ["invalid", 1],
      ["established", 2],
      ["related", 4],
      ["new", 8],
      ["untracked", 64],
    ],
    badSymbol: "Could not parse conntrack state",
  },
  ctStatus: {
    name: "ct_status",
    kind: "bitmask",
    width: 32,
    symbols: [
      ["expected", 1],
      ["seen-reply", 2],
      ["assured", 4],
      ["confirmed", 8],
      ["snat", 16],
      ["dnat", 32],
      ["dying", 512],
    ],
    badSymbol: "Could not parse conntrack status",
  },
  ctDir: {
    name: "ct_dir",
    kind: "symbol",
    width: 8,
    symbols: [
      ["original", 0],
      ["reply", 1],
    ],
    badSymbol: "Could not parse conntrack direction",
  },
  tcpFlag: {
    name: "tcp_flag",
    kind: "bitmask",
    width: 8,
    symbols: [
      ["fin", 1],
      ["syn", 2],
      ["rst", 4],
      ["psh", 8],
      ["ack", 16],
      ["urg", 32],
      ["ecn", 64],
      ["cwr", 128],
    ],
    badSymbol: "Could not parse TCP flag",
  },
  mark: { name: "mark", kind: "mark", width: 32, badSymbol: "Could not parse packet mark" },
  ifname: { name: "ifname", kind: "string", width: 0 },
  ifindex: { name: "iface_index", kind: "ifindex", width: 32 },
  ifaceType: {
    name: "iface_type",
    kind: "symbol",
    width: 16,
    symbols: [
      ["ether", 1],
      ["ppp", 512],
      ["ipip", 768],
      ["ipip6", 769],
      ["loopback", 772],
      ["sit", 776],
      ["ipgre", 778],
    ],
    badSymbol: "Could not parse interface type",
  },
  pktType: {
    name: "pkt_type",
    kind: "symbol",
    width: 8,
    symbols: [
      ["host", 0],
      ["broadcast", 1],
      ["multicast", 2],
      ["other", 3],
    ],
    badSymbol: "Could not parse packet type",
  },
  nfProto: {
    name: "nf_proto",
    kind: "symbol",
    width: 8,
    symbols: [
      ["ipv4", 2],
      ["ipv6", 10],
    ],
    badSymbol: "Could not parse netfilter protocol",
  },
  etherType: {
    name: "ether_type",
    kind: "symbol",
    width: 16,
    symbols: [
      ["ip", 0x0800],
      ["arp", 0x0806],
      ["8021q", 0x8100],
      ["8021ad", 0x88a8],
      ["ip6", 0x86dd],
    ],
    aliases: [["vlan", 0x8100]],
    badSymbol: "Could not parse ether type",
    hexDigits: 4,
  },
} as const satisfies Record<string, Datatype>;

/** A payload field template (proto_hdr_template). */
export interface PayloadField {
  readonly proto: NftPayloadProto;
  readonly field: string;
  readonly base: NftPayloadBase;
  readonly offset: number;
  readonly len: number;
  readonly dtype: Datatype;
}

function fields(
  proto: NftPayloadProto,
  base: NftPayloadBase,
  list: readonly (readonly [string, number, number, Datatype])[],
): readonly PayloadField[] {
  return list.map(([field, offset, len, dtype]) => ({ proto, field, base, offset, len, dtype }));
}

/** Header fields by protocol, in header order. */
export const PAYLOAD_FIELDS: Readonly<Record<NftPayloadProto, readonly PayloadField[]>> = {
  ip: fields("ip", "network", [
    ["length", 2, 2, DT.integer16],
    ["id", 4, 2, DT.integer16],
    ["ttl", 8, 1, DT.integer8],
    ["protocol", 9, 1, DT.inetProto],
    ["checksum", 10, 2, DT.integer16],
    ["saddr", 12, 4, DT.ipv4],
    ["daddr", 16, 4, DT.ipv4],
  ]),
  ip6: fields("ip6", "network", [
    ["length", 4, 2, DT.integer16],
    ["nexthdr", 6, 1, DT.inetProto],
    ["hoplimit", 7, 1, DT.integer8],
    ["saddr", 8, 16, DT.ipv6],
    ["daddr", 24, 16, DT.ipv6],
  ]),
  tcp: fields("tcp", "transport", [
    ["sport", 0, 2, DT.inetService],
    ["dport", 2, 2, DT.inetService],
    ["sequence", 4, 4, DT.integer32],
    ["ackseq", 8, 4, DT.integer32],
    ["flags", 13, 1, DT.tcpFlag],
    ["window", 14, 2, DT.integer16],
    ["checksum", 16, 2, DT.integer16],
    ["urgptr", 18, 2, DT.integer16],
  ]),
  udp: fields("udp", "transport", [
    ["sport", 0, 2, DT.inetService],
    ["dport", 2, 2, DT.inetService],
    ["length", 4, 2, DT.integer16],
    ["checksum", 6, 2, DT.integer16],
  ]),
  icmp: fields("icmp", "transport", [
    ["type", 0, 1, DT.icmpType],
    ["code", 1, 1, DT.icmpCode],
    ["checksum", 2, 2, DT.integer16],
  ]),
  icmpv6: fields("icmpv6", "transport", [
    ["type", 0, 1, DT.icmpv6Type],
    ["code", 1, 1, DT.icmpv6Code],
    ["checksum", 2, 2, DT.integer16],
  ]),
};

/** IP protocol number of each transport header. */
export const L4_PROTO_NUM: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

/** Meta keys and their datatypes (the ones supported here). */
export const META_KEYS: Readonly<Record<NftMetaKey, Datatype>> = {
  length: DT.integer32,
  protocol: DT.etherType,
  nfproto: DT.nfProto,
  l4proto: DT.inetProto,
  mark: DT.mark,
  iif: DT.ifindex,
  oif: DT.ifindex,
  iifname: DT.ifname,
  oifname: DT.ifname,
  iiftype: DT.ifaceType,
  oiftype: DT.ifaceType,
  pkttype: DT.pktType,
};

/** Every meta key nft 1.0.6 knows, in its order (for the "known keys" error). */
export const META_KNOWN_KEYS =
  "length, protocol, priority, mark, iif, oif, iifname, oifname, iiftype, oiftype, skuid, skgid, nftrace, " +
  "rtclassid, secmark, nfproto, l4proto, ibrname, obrname, pkttype, cpu, iifgroup, oifgroup, cgroup, random, " +
  "ipsec, iifkind, oifkind, ibrpvid, ibrvproto, time, day, hour, sdif, sdifname";

/** Meta keys printed without "meta" (meta_key_is_unqualified). */
export const META_UNQUALIFIED: ReadonlySet<string> = new Set(["iif", "oif", "iifname", "oifname"]);

/** Meta keys accepted without "meta" on input. */
export const META_BARE_KEYS: ReadonlySet<string> = new Set([
  "mark",
  "iif",
  "iifname",
  "iiftype",
  "oif",
  "oifname",
  "oiftype",
  "pkttype",
]);

/** ct keys and their datatypes. */
export const CT_KEYS: Readonly<Partial<Record<NftCtKey, Datatype>>> = {
  state: DT.ctState,
  direction: DT.ctDir,
  status: DT.ctStatus,
  mark: DT.mark,
  l3proto: DT.nfProto,
  protocol: DT.inetProto,
};

/** Syslog levels as nft names them. */
export const LOG_LEVELS: readonly string[] = [
  "emerg",
  "alert",
  "crit",
  "err",
  "warn",
  "notice",
  "info",
  "debug",
  "audit",
];

/** The symbol name of a value, if any. */
export function symbolName(dt: Datatype, v: number): string | undefined {
  return dt.symbols?.find(([, n]) => n === v)?.[0];
}

/** The value of a symbol name, if any. */
export function symbolValue(dt: Datatype, name: string): number | undefined {
  return (dt.symbols?.find(([s]) => s === name) ?? dt.aliases?.find(([s]) => s === name))?.[1];
}
