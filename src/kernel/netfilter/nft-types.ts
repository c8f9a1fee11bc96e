/**
 * The nf_tables object model as the kernel keeps it (net/netfilter/nf_tables_api.c): tables,
 * chains, rules and the expressions of a rule. Linux stores register-machine bytecode; here a
 * rule is a list of typed statements at about the level of `nft --debug=netlink` output (one
 * statement per kernel expression group), so userland can print it back the way nft does and
 * the evaluator can run it directly. Values are numbers in network (big-endian) order as bigint,
 * strings for interface names.
 */

/** Table families (NFPROTO_* as nft names them). */
export type NftFamily = "ip" | "ip6" | "inet" | "arp" | "bridge" | "netdev";

/** The NFPROTO_* number of each family. */
export const NFT_FAMILY_PF: Readonly<Record<NftFamily, number>> = {
  inet: 1,
  ip: 2,
  arp: 3,
  netdev: 5,
  bridge: 7,
  ip6: 10,
};

/** Base chain hook names. */
export type NftHookName =
  | "prerouting"
  | "input"
  | "forward"
  | "output"
  | "postrouting"
  | "ingress"
  | "egress";

/** Base chain types (nft_chain_type). */
export type NftChainType = "filter" | "nat" | "route";

/** The hook part of a base chain. */
export interface NftBaseSpec {
  readonly type: NftChainType;
  readonly hook: NftHookName;
  readonly priority: number;
  /** Netdev family: the device the chain is bound to. */
  readonly device: string | null;
}

/** Chain policy (NF_ACCEPT / NF_DROP). */
export type NftPolicy = "accept" | "drop";

/** Protocol headers a payload expression reads. */
export type NftPayloadProto = "ip" | "ip6" | "tcp" | "udp" | "icmp" | "icmpv6";

/** Header base of a payload load (NFT_PAYLOAD_NETWORK_HEADER / TRANSPORT_HEADER). */
export type NftPayloadBase = "network" | "transport";

/** Keys of the meta expression supported here (NFT_META_*). */
export type NftMetaKey =
  | "length"
  | "protocol"
  | "nfproto"
  | "l4proto"
  | "mark"
  | "iif"
  | "oif"
  | "iifname"
  | "oifname"
  | "iiftype"
  | "oiftype"
  | "pkttype";

/** Keys of the ct expression supported here (NFT_CT_*). */
export type NftCtKey = "state" | "direction" | "status" | "mark" | "l3proto" | "protocol" | "expiration";

/** Where the left-hand side of a comparison comes from. */
export type NftSelector =
  | {
      readonly kind: "payload";
      readonly proto: NftPayloadProto;
      readonly field: string;
      readonly base: NftPayloadBase;
      /** Byte offset from the start of the header. */
      readonly offset: number;
      /** Length in bytes. */
      readonly len: number;
    }
  | { readonly kind: "meta"; readonly key: NftMetaKey }
  | { readonly kind: "ct"; readonly key: NftCtKey };

/** A value: integers (addresses, ports, marks...) as bigint, interface names as strings. */
export type NftValue = bigint | string;

/** One element of an anonymous set. */
export type NftSetElem =
  | { readonly kind: "value"; readonly value: NftValue }
  | { readonly kind: "prefix"; readonly value: bigint; readonly len: number }
  | { readonly kind: "range"; readonly lo: bigint; readonly hi: bigint };

/** The right-hand side of a comparison. */
export type NftRhs =
  | NftSetElem
  /** An anonymous set (lookup expression); `handle` is the set's handle in the table. */
  | { readonly kind: "set"; readonly elems: readonly NftSetElem[]; readonly handle: number }
  /** A bitmask test: matches when `(x & mask) != 0` (or `== 0` for "!="), like ct state lists. */
  | { readonly kind: "flags"; readonly mask: bigint };

/** Comparison operators (NFT_CMP_*; `==` also covers the implicit operator). */
export type NftCmpOp = "==" | "!=" | "<" | ">" | "<=" | ">=";

/** A relational expression: selector, operator, value. */
export interface NftMatch {
  readonly kind: "match";
  readonly sel: NftSelector;
  readonly op: NftCmpOp;
  readonly rhs: NftRhs;
  /** Bit width of the selector's value (for prefixes), 0 for strings. */
  readonly width: number;
}

/** Payload matches userland merged into one load (nft's payload merging); all must match. */
export interface NftMerged {
  readonly kind: "merged";
  readonly parts: readonly NftMatch[];
}

/** A counter (nft_counter); mutated by the data path. */
export interface NftCounter {
  readonly kind: "counter";
  packets: number;
  bytes: number;
}

/** Verdict codes. */
export type NftVerdictCode = "accept" | "drop" | "continue" | "return" | "jump" | "goto";

/** A verdict statement (immediate expression writing the verdict register). */
export interface NftVerdictStmt {
  readonly kind: "verdict";
  readonly code: NftVerdictCode;
  /** Target of jump/goto. */
  readonly chain: string | null;
}

/** A log statement (nft_log). */
export interface NftLog {
  readonly kind: "log";
  readonly prefix: string | null;
  /** Syslog level 0..7, or null for the default (warn), 8 = audit. */
  readonly level: number | null;
}

/** A set statement writing packet metadata (`meta mark set 0x1`, `ct mark set 0x1`). */
export interface NftSetStmt {
  readonly kind: "set";
  readonly sel: NftSelector;
  readonly value: bigint;
}

/** NAT statement (not evaluated yet; the structure is where dnat/snat/masquerade will live). */
export interface NftNat {
  readonly kind: "nat";
  readonly type: "snat" | "dnat" | "masquerade";
  readonly family: 4 | 6 | null;
  readonly addr: bigint | null;
  readonly port: number | null;
}

/**
 * A reject statement (nft_reject): answers with an ICMP/ICMPv6 error (nft-reject.ts) and drops
 * the packet; a TCP reset is not sent (the packet is only dropped).
 */
export interface NftReject {
  readonly kind: "reject";
  readonly type: "icmp" | "icmpv6" | "icmpx" | "tcp reset";
  /** ICMP / ICMPv6 / icmpx code (0 for tcp reset). */
  readonly code: number;
}

/** One statement of a rule. */
export type NftStmt =
  | NftMatch
  | NftMerged
  | NftCounter
  | NftVerdictStmt
  | NftLog
  | NftSetStmt
  | NftNat
  | NftReject;

/** A rule. */
export interface NftRule {
  readonly handle: number;
  readonly stmts: readonly NftStmt[];
  /** Rule comment (NFTA_RULE_USERDATA). */
  readonly comment: string | null;
}

/** A chain; `base` is null for a regular chain. */
export interface NftChain {
  readonly name: string;
  readonly handle: number;
  base: NftBaseSpec | null;
  policy: NftPolicy;
  rules: NftRule[];
}

/** A table. */
export interface NftTable {
  readonly family: NftFamily;
  readonly name: string;
  readonly handle: number;
  chains: NftChain[];
  /** Per-table handle generator for chains, rules and sets (table->hgenerator). */
  nextHandle: number;
}

/** Rule statements that end evaluation of the rule (nothing after them runs). */
export function isTerminalStmt(s: NftStmt): boolean {
  return (s.kind === "verdict" && s.code !== "continue") || s.kind === "reject";
}
