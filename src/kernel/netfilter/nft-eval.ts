/**
 * Rule evaluation (net/netfilter/nf_tables_core.c:nft_do_chain and the expression eval
 * functions of nft_payload.c, nft_meta.c, nft_ct.c, nft_cmp.c, nft_lookup.c, nft_counter.c,
 * nft_log.c, nft_immediate.c). A failed match breaks to the next rule; verdicts accept/drop end
 * the hook, jump/goto/return walk a bounded call stack, the base chain's policy ends it.
 */
import { PacketType, type SkBuff } from "../skb.ts";
import { IP_CT } from "./conntrack-proto.ts";
import { NF, NFPROTO, type NfHookState, type NfVerdict } from "./hooks.ts";
import { nfLogPacket } from "./nf-log.ts";
import { nftRejectSend } from "./nft-reject.ts";
import type {
  NftChain,
  NftMatch,
  NftRhs,
  NftSelector,
  NftSetElem,
  NftStmt,
  NftTable,
  NftValue,
} from "./nft-types.ts";
import { ETH_P_IP, ETH_P_IPV6, type PktInfo, pktInfo, readBig } from "./pktinfo.ts";

/** NFT_JUMP_STACK_SIZE. */
export const NFT_JUMP_STACK_SIZE = 16;

/** ct state bits (NF_CT_STATE_*_BIT). */
export const NF_CT_STATE = { INVALID: 1, ESTABLISHED: 2, RELATED: 4, NEW: 8, UNTRACKED: 64 } as const;

/** The per-packet context of one chain traversal. */
interface EvalCtx {
  readonly skb: SkBuff;
  readonly state: NfHookState;
  readonly pkt: PktInfo;
}

type StmtResult =
  | "next"
  | "break"
  | {
      readonly code: "accept" | "drop" | "continue" | "return" | "jump" | "goto";
      readonly chain: string | null;
    };

/** nft_do_chain: runs a base chain of a table on a packet. */
export function nftDoChain(table: NftTable, base: NftChain, skb: SkBuff, state: NfHookState): NfVerdict {
  const ctx: EvalCtx = { skb, state, pkt: pktInfo(skb, state.pf) };
  const stack: { chain: NftChain; next: number }[] = [];
  let chain = base;
  let i = 0;
  for (;;) {
    if (i >= chain.rules.length) {
      const ret = stack.pop();
      if (!ret) return base.policy === "drop" ? NF.DROP : NF.ACCEPT;
      chain = ret.chain;
      i = ret.next;
      continue;
    }
    const rule = chain.rules[i++];
    let verdict: StmtResult = "next";
    for (const stmt of rule.stmts) {
      const r = evalStmt(stmt, ctx);
      if (r === "next") continue;
      verdict = r;
      break;
    }
    if (verdict === "next" || verdict === "break") continue;
    switch (verdict.code) {
      case "accept":
        return NF.ACCEPT;
      case "drop":
        return NF.DROP;
      case "continue":
        continue;
      case "return": {
        const ret = stack.pop();
        if (!ret) return base.policy === "drop" ? NF.DROP : NF.ACCEPT;
        chain = ret.chain;
        i = ret.next;
        continue;
      }
      case "jump":
      case "goto": {
        const target = table.chains.find((c) => c.name === verdict.chain);
        if (!target) return NF.DROP;
        if (verdict.code === "jump") {
          if (stack.length >= NFT_JUMP_STACK_SIZE) return NF.DROP;
          stack.push({ chain, next: i });
        }
        chain = target;
        i = 0;
        continue;
      }
    }
  }
}

function evalStmt(stmt: NftStmt, ctx: EvalCtx): StmtResult {
  switch (stmt.kind) {
    case "match":
      return evalMatch(stmt, ctx) ? "next" : "break";
    case "merged":
      for (const m of stmt.parts) if (!evalMatch(m, ctx)) return "break";
      return "next";
    case "counter":
      stmt.packets++;
      stmt.bytes += ctx.pkt.len;
      return "next";
    case "verdict":
      return { code: stmt.code, chain: stmt.chain };
    case "log":
      nfLogPacket(ctx.state.net, ctx.state.pf, ctx.skb, ctx.state.in, ctx.state.out, stmt.prefix ?? "");
      return "next";
    case "set":
      if (stmt.sel.kind === "meta" && stmt.sel.key === "mark")
        ctx.skb.mark = Number(stmt.value & 0xffffffffn);
      else if (stmt.sel.kind === "ct" && stmt.sel.key === "mark") {
        const ct = ctx.skb.ct as { mark: number } | null;
        if (ct) ct.mark = Number(stmt.value & 0xffffffffn);
      }
      return "next";
    case "nat":
      // NAT is not implemented yet: the statement is accepted and does nothing.
      return "next";
    case "reject":
      // nft_reject_*_eval: the ICMP error goes out, then NF_DROP (TCP resets are not sent).
      nftRejectSend(stmt, ctx.skb, ctx.state, ctx.pkt);
      return { code: "drop", chain: null };
  }
}

/** Loads the selector's value; undefined = NFT_BREAK (no such data for this packet). */
export function loadSelector(
  sel: NftSelector,
  ctx: { skb: SkBuff; state: NfHookState; pkt: PktInfo },
): NftValue | undefined {
  const { skb, state, pkt } = ctx;
  switch (sel.kind) {
    case "payload": {
      let off: number;
      const end = pkt.nh + pkt.len;
      if (sel.base === "network") {
        const want = sel.proto === "ip" ? 4 : 6;
        if (pkt.l3 !== want) return undefined;
        off = pkt.nh + sel.offset;
      } else {
        if (pkt.tprot < 0 || pkt.fragoff !== 0) return undefined;
        off = pkt.thoff + sel.offset;
      }
      if (off + sel.len > end) return undefined;
      return readBig(skb.data, off, sel.len);
    }
    case "meta":
      return loadMeta(sel.key, skb, state, pkt);
    case "ct":
      return loadCt(sel.key, skb);
  }
}

function loadMeta(key: string, skb: SkBuff, state: NfHookState, pkt: PktInfo): NftValue | undefined {
  switch (key) {
    case "length":
      return BigInt(pkt.len);
    case "protocol":
      if (skb.protocol) return BigInt(skb.protocol);
      return pkt.l3 === 4 ? BigInt(ETH_P_IP) : pkt.l3 === 6 ? BigInt(ETH_P_IPV6) : 0n;
    case "nfproto":
      return BigInt(state.pf);
    case "l4proto":
      return pkt.tprot < 0 ? undefined : BigInt(pkt.tprot);
    case "mark":
      return BigInt(skb.mark >>> 0);
    case "iif":
      return state.in ? BigInt(state.in.ifindex) : undefined;
    case "oif":
      return state.out ? BigInt(state.out.ifindex) : undefined;
    case "iifname":
      return state.in ? state.in.name : undefined;
    case "oifname":
      return state.out ? state.out.name : undefined;
    case "iiftype":
      return state.in ? BigInt(state.in.type) : undefined;
    case "oiftype":
      return state.out ? BigInt(state.out.type) : undefined;
    case "pkttype":
      return BigInt(pktType(skb, state, pkt));
  }
  return undefined;
}

/** nft_meta_get_eval NFT_META_PKTTYPE: loopback packets are classified by destination. */
function pktType(skb: SkBuff, state: NfHookState, pkt: PktInfo): number {
  if (skb.pktType !== PacketType.LOOPBACK) return skb.pktType;
  const d = skb.data;
  if (pkt.l3 === 4 || state.pf === NFPROTO.IPV4) {
    const b0 = d[pkt.nh + 16];
    if (b0 >= 224 && b0 < 240) return PacketType.MULTICAST;
    if (
      d[pkt.nh + 16] === 255 &&
      d[pkt.nh + 17] === 255 &&
      d[pkt.nh + 18] === 255 &&
      d[pkt.nh + 19] === 255
    ) {
      return PacketType.BROADCAST;
    }
    return PacketType.HOST;
  }
  if (pkt.l3 === 6) return d[pkt.nh + 24] === 0xff ? PacketType.MULTICAST : PacketType.HOST;
  return PacketType.HOST;
}

function loadCt(key: string, skb: SkBuff): NftValue | undefined {
  const ct = skb.ct as {
    mark: number;
    status: number;
    timeout: bigint;
    tuple: readonly { l3: number; proto: number }[];
  } | null;
  const ctinfo = skb.ctinfo;
  if (key === "state") {
    if (ct) return BigInt(1 << ((ctinfo % IP_CT.IS_REPLY) + 1));
    return BigInt(ctinfo === IP_CT.UNTRACKED ? NF_CT_STATE.UNTRACKED : NF_CT_STATE.INVALID);
  }
  if (!ct) return undefined;
  switch (key) {
    case "direction":
      return ctinfo >= IP_CT.IS_REPLY ? 1n : 0n;
    case "status":
      return BigInt(ct.status);
    case "mark":
      return BigInt(ct.mark >>> 0);
    case "l3proto":
      return BigInt(ct.tuple[0].l3 === 4 ? NFPROTO.IPV4 : NFPROTO.IPV6);
    case "protocol":
      return BigInt(ct.tuple[0].proto);
  }
  return undefined;
}

function evalMatch(m: NftMatch, ctx: EvalCtx): boolean {
  const v = loadSelector(m.sel, ctx);
  if (v === undefined) return false;
  return compare(v, m.op, m.rhs, m.width);
}

/** nft_cmp / nft_range / nft_lookup / nft_bitwise semantics for one loaded value. */
export function compare(v: NftValue, op: NftMatch["op"], rhs: NftRhs, width: number): boolean {
  let hit: boolean;
  switch (rhs.kind) {
    case "value":
      if (typeof v === "string" || typeof rhs.value === "string") {
        hit = ifnameMatch(String(v), String(rhs.value));
        break;
      }
      switch (op) {
        case "<":
          return v < rhs.value;
        case ">":
          return v > rhs.value;
        case "<=":
          return v <= rhs.value;
        case ">=":
          return v >= rhs.value;
        default:
          hit = v === rhs.value;
      }
      break;
    case "set":
      hit = rhs.elems.some((e) => elemMatch(v, e, width));
      break;
    case "flags":
      hit = typeof v === "bigint" && (v & rhs.mask) !== 0n;
      break;
    default:
      hit = elemMatch(v, rhs, width);
  }
  return op === "!=" ? !hit : hit;
}

function elemMatch(v: NftValue, e: NftSetElem, width: number): boolean {
  if (e.kind === "value") {
    if (typeof v === "string" || typeof e.value === "string") return ifnameMatch(String(v), String(e.value));
    return v === e.value;
  }
  if (typeof v === "string") return false;
  if (e.kind === "range") return v >= e.lo && v <= e.hi;
  const shift = BigInt(width - e.len);
  return v >> shift === e.value >> shift;
}

/** Interface name match; a trailing `*` matches any suffix (nft's wildcard). */
function ifnameMatch(name: string, pattern: string): boolean {
  if (pattern.endsWith("*") && !pattern.endsWith("\\*")) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

/** Chains referenced by the jump/goto statements of a rule list. */
export function jumpTargets(stmts: readonly NftStmt[]): string[] {
  const out: string[] = [];
  for (const s of stmts)
    if (s.kind === "verdict" && (s.code === "jump" || s.code === "goto") && s.chain) out.push(s.chain);
  return out;
}

/** Whether a namespace-independent ruleset statement uses conntrack. */
export function stmtUsesCt(s: NftStmt): boolean {
  if (s.kind === "match" || s.kind === "set") return s.sel.kind === "ct";
  if (s.kind === "merged") return false;
  return s.kind === "nat";
}
