/**
 * Rule statements: parsing (parser_bison.y), evaluation (evaluate.c: datatypes, protocol
 * context, implicit dependencies such as `meta l4proto tcp` before `tcp dport`, conflicting
 * protocols) and the payload merging nft does before sending a rule (adjacent header fields
 * compared with constants become one load of up to 32 bits).
 */
import {
  type NftCmpOp,
  type NftFamily,
  type NftMatch,
  type NftRhs,
  type NftRuleSpec,
  type NftSelector,
  type NftSetElem,
  type NftStmt,
  isTerminalStmt,
} from "../kernel/index.ts";
import {
  CT_KEYS,
  type Datatype,
  DT,
  L4_PROTO_NUM,
  LOG_LEVELS,
  META_BARE_KEYS,
  META_KEYS,
  META_KNOWN_KEYS,
  PAYLOAD_FIELDS,
  type PayloadField,
} from "./nft-datatypes.ts";
import { NftSyntaxError, type Span, type Token } from "./nft-lexer.ts";
import type { Parser } from "./nft-parser.ts";
import { elemValue, normaliseSet, parseElem, scalar } from "./nft-values.ts";

/** A parsed rule: what the kernel gets, and one span per kernel statement. */
export interface ParsedRule {
  readonly spec: NftRuleSpec;
  readonly spans: readonly Span[];
}

interface Built {
  readonly stmt: NftStmt;
  readonly span: Span;
}

/** Protocol context (struct proto_ctx, reduced to the network and transport layers). */
interface ProtoCtx {
  net: "ip" | "ip6" | null;
  l4: string | null;
}

const OPS: Readonly<Record<string, NftCmpOp>> = {
  "==": "==",
  "!=": "!=",
  "<": "<",
  ">": ">",
  "<=": "<=",
  ">=": ">=",
  eq: "==",
  ne: "!=",
  lt: "<",
  gt: ">",
  le: "<=",
  ge: ">=",
};

/** Words that start a statement (and so cannot be a value). */
const STMT_WORDS: ReadonlySet<string> = new Set([
  "accept",
  "drop",
  "continue",
  "return",
  "jump",
  "goto",
  "counter",
  "log",
  "comment",
  "meta",
  "ct",
]);

const PAYLOAD_PROTOS: ReadonlySet<string> = new Set(["ip", "ip6", "tcp", "udp", "icmp", "icmpv6"]);
const L4_NAME_BY_NUM: ReadonlyMap<number, string> = new Map(
  Object.entries(L4_PROTO_NUM).map(([k, v]) => [v, k]),
);

/** Parses one rule up to the end of the line / `;` / `}`. */
export function parseRule(p: Parser, fam: NftFamily): ParsedRule {
  const built: Built[] = [];
  const ctx: ProtoCtx = { net: fam === "ip" ? "ip" : fam === "ip6" ? "ip6" : null, l4: null };
  let terminal: Span | null = null;
  let comment: string | null = null;
  let count = 0;
  while (!p.atEnd()) {
    if (p.isWord("comment")) {
      if (count === 0) throw p.unexpected();
      p.next();
      const t = p.peek();
      if (t.kind !== "string" && t.kind !== "word") throw p.unexpected("string");
      comment = p.next().text;
      if (!p.atEnd()) throw p.unexpected();
      break;
    }
    const start = p.peek();
    const stmts = parseStmt(p, fam, ctx);
    const span = p.spanFrom(start);
    if (terminal)
      throw new NftSyntaxError("Statement after terminal statement has no effect", span, terminal);
    const last = stmts[stmts.length - 1];
    if (last && isTerminalStmt(last.stmt)) terminal = span;
    built.push(...stmts);
    count++;
  }
  const merged = mergePayloads(built);
  return { spec: { stmts: merged.map((b) => b.stmt), comment }, spans: merged.map((b) => b.span) };
}

function parseStmt(p: Parser, fam: NftFamily, ctx: ProtoCtx): Built[] {
  const t = p.peek();
  if (t.kind !== "word") throw p.unexpected();
  switch (t.text) {
    case "accept":
    case "drop":
    case "continue":
    case "return":
      p.next();
      return [{ stmt: { kind: "verdict", code: t.text, chain: null }, span: t }];
    case "jump":
    case "goto": {
      p.next();
      const target = p.peek();
      if (target.kind !== "word" && target.kind !== "string") throw p.unexpected("'{'");
      p.next();
      return [{ stmt: { kind: "verdict", code: t.text, chain: target.text }, span: target }];
    }
    case "counter":
      return [{ stmt: parseCounter(p), span: t }];
    case "log":
      return [{ stmt: parseLog(p), span: t }];
    case "meta":
    case "ct":
      return parseMetaCt(p, fam, ctx);
    case "reject":
      return parseReject(p, fam, ctx);
    case "snat":
    case "dnat":
    case "masquerade":
      return [{ stmt: parseNat(p, fam), span: p.spanFrom(t) }];
  }
  if (META_BARE_KEYS.has(t.text)) return parseMetaCt(p, fam, ctx);
  if (PAYLOAD_PROTOS.has(t.text)) return parsePayload(p, fam, ctx);
  // An unknown word is a symbol expression: fine for the grammar, meaningless to evaluate.
  const after = p.peek(1);
  if (after.kind === "word" || after.kind === "string") {
    if (!STMT_WORDS.has(after.text) || after.kind === "string") {
      throw new NftSyntaxError("No symbol type information", t);
    }
  }
  p.next();
  throw p.unexpected();
}

function parseCounter(p: Parser): NftStmt {
  p.next();
  let packets = 0;
  let bytes = 0;
  if (p.isWord("packets")) {
    p.next();
    packets = p.number().value;
    if (!p.isWord("bytes")) throw p.unexpected("bytes");
    p.next();
    bytes = p.number().value;
  }
  return { kind: "counter", packets, bytes };
}

function parseLog(p: Parser): NftStmt {
  p.next();
  let prefix: string | null = null;
  let level: number | null = null;
  for (;;) {
    if (p.isWord("prefix")) {
      p.next();
      const v = p.peek();
      if (v.kind !== "string" && v.kind !== "word") throw p.unexpected("string");
      prefix = p.next().text;
    } else if (p.isWord("level")) {
      p.next();
      const v = p.peek();
      if (v.kind !== "word" && v.kind !== "string") throw p.unexpected("string");
      p.next();
      const n = LOG_LEVELS.indexOf(v.text);
      if (n < 0) throw new NftSyntaxError("invalid log level", v);
      level = n === 4 ? null : n;
    } else {
      return { kind: "log", prefix, level };
    }
  }
}

/** The reject type used when none is given, per family. */
export function defaultReject(fam: NftFamily): "icmp" | "icmpv6" | "icmpx" {
  return fam === "ip" ? "icmp" : fam === "ip6" ? "icmpv6" : "icmpx";
}

/** The port-unreachable code of each reject type (the default reason). */
export const REJECT_PORT_UNREACH: Readonly<Record<"icmp" | "icmpv6" | "icmpx", number>> = {
  icmp: 3,
  icmpv6: 4,
  icmpx: 1,
};

function parseReject(p: Parser, fam: NftFamily, ctx: ProtoCtx): Built[] {
  const kw = p.next();
  const def = defaultReject(fam);
  if (!p.isWord("with")) {
    return [{ stmt: { kind: "reject", type: def, code: REJECT_PORT_UNREACH[def] }, span: kw }];
  }
  p.next();
  const t = p.peek();
  if (t.kind !== "word" || !["icmp", "icmpv6", "icmpx", "tcp"].includes(t.text)) throw p.unexpected();
  p.next();
  if (t.text === "tcp") {
    if (!p.isWord("reset")) throw p.unexpected("reset");
    p.next();
    const deps: Built[] = [];
    if (fam === "inet" && ctx.l4 !== "tcp") {
      deps.push({ stmt: depMatch({ kind: "meta", key: "l4proto" }, 6, 8), span: kw });
      ctx.l4 = "tcp";
    }
    return [...deps, { stmt: { kind: "reject", type: "tcp reset", code: 0 }, span: p.spanFrom(kw) }];
  }
  if (p.isWord("type")) p.next();
  const codeTok = p.peek();
  if (codeTok.kind !== "word") throw p.unexpected();
  p.next();
  const type = t.text as "icmp" | "icmpv6" | "icmpx";
  const span = p.spanFrom(kw);
  if (type === "icmpx" && fam !== "inet" && fam !== "bridge" && fam !== "netdev") {
    throw new NftSyntaxError("abstracted ICMP unreachable not supported", codeTok, kw);
  }
  if ((type === "icmp" && fam === "ip6") || (type === "icmpv6" && fam === "ip")) {
    throw new NftSyntaxError(
      `conflicting protocols specified: ${fam} vs ${type === "icmp" ? "ip" : "ip6"}`,
      span,
    );
  }
  const dt = type === "icmp" ? DT.icmpCode : type === "icmpv6" ? DT.icmpv6Code : DT.icmpxCode;
  const code = Number(scalar(dt, codeTok.text, codeTok, p.net));
  return [{ stmt: { kind: "reject", type, code }, span }];
}

function parseNat(p: Parser, fam: NftFamily): NftStmt {
  const kw = p.next().text as "snat" | "dnat" | "masquerade";
  if (kw === "masquerade") return { kind: "nat", type: kw, family: null, addr: null, port: null };
  let nf: 4 | 6 | null = fam === "ip" ? 4 : fam === "ip6" ? 6 : null;
  if (p.isWord("ip") || p.isWord("ip6")) nf = p.next().text === "ip" ? 4 : 6;
  if (!p.isWord("to")) throw p.unexpected("to");
  p.next();
  const t = p.peek();
  if (t.kind !== "word") throw p.unexpected();
  p.next();
  if (nf === null)
    throw new NftSyntaxError("specify `" + kw + " ip' or '" + kw + " ip6' in inet table to disambiguate", t);
  let text = t.text;
  let port: number | null = null;
  const m = nf === 4 ? /^(.*):(\d+)$/.exec(text) : null;
  if (m) {
    text = m[1];
    port = Number(m[2]);
  }
  const dt = nf === 4 ? DT.ipv4 : DT.ipv6;
  return { kind: "nat", type: kw, family: nf, addr: scalar(dt, text, t, p.net) as bigint, port };
}

function parseMetaCt(p: Parser, fam: NftFamily, ctx: ProtoCtx): Built[] {
  const first = p.next();
  let sel: NftSelector;
  let dt: Datatype;
  if (first.text === "ct") {
    const k = p.peek();
    const d = k.kind === "word" ? CT_KEYS[k.text as keyof typeof CT_KEYS] : undefined;
    if (!d) throw p.unexpected();
    p.next();
    sel = { kind: "ct", key: k.text as Extract<NftSelector, { kind: "ct" }>["key"] };
    dt = d;
  } else {
    let key = first;
    if (first.text === "meta") {
      key = p.peek();
      if (key.kind !== "word") throw p.unexpected();
      p.next();
      if (!(key.text in META_KEYS)) {
        throw new NftSyntaxError(`syntax error, unexpected ${key.text}, known keys are ${META_KNOWN_KEYS}`, {
          start: first.start,
          end: key.end,
        });
      }
    }
    sel = { kind: "meta", key: key.text as Extract<NftSelector, { kind: "meta" }>["key"] };
    dt = META_KEYS[sel.key];
    if (sel.key === "nfproto" && fam !== "inet") {
      throw new NftSyntaxError("meta nfproto is only useful in the inet family", p.spanFrom(first));
    }
  }
  const lhs = p.spanFrom(first);
  if (p.isWord("set")) {
    p.next();
    const v = p.peek();
    if (v.kind !== "word" && v.kind !== "string") throw p.unexpected();
    p.next();
    if (!(sel.key === "mark")) throw new NftSyntaxError("Statement not supported", p.spanFrom(first));
    const value = scalar(DT.mark, v.text, v, p.net);
    return [{ stmt: { kind: "set", sel, value: value as bigint }, span: p.spanFrom(first) }];
  }
  const m = parseRelational(p, sel, dt, lhs);
  noteProtocol(m, ctx);
  return [{ stmt: m, span: p.spanFrom(first) }];
}

/** Explicit protocol matches become the context later payload expressions depend on. */
function noteProtocol(m: NftMatch, ctx: ProtoCtx): void {
  if (m.op !== "==" || m.rhs.kind !== "value" || typeof m.rhs.value !== "bigint") return;
  const v = Number(m.rhs.value);
  const s = m.sel;
  if (s.kind === "meta" && s.key === "nfproto") ctx.net = v === 2 ? "ip" : v === 10 ? "ip6" : ctx.net;
  if (s.kind === "meta" && s.key === "protocol")
    ctx.net = v === 0x0800 ? "ip" : v === 0x86dd ? "ip6" : ctx.net;
  const isL4 =
    (s.kind === "meta" && s.key === "l4proto") ||
    (s.kind === "payload" &&
      ((s.proto === "ip" && s.field === "protocol") || (s.proto === "ip6" && s.field === "nexthdr")));
  if (isL4) ctx.l4 = L4_NAME_BY_NUM.get(v) ?? `proto ${v}`;
}

function parsePayload(p: Parser, fam: NftFamily, ctx: ProtoCtx): Built[] {
  const protoTok = p.next();
  const fieldTok = p.peek();
  const field = PAYLOAD_FIELDS[protoTok.text as keyof typeof PAYLOAD_FIELDS].find(
    (f) => f.field === fieldTok.text,
  );
  if (fieldTok.kind !== "word" || !field) throw p.unexpected();
  p.next();
  const lhs = p.spanFrom(protoTok);
  const deps = payloadDeps(fam, ctx, field, lhs);
  const sel: NftSelector = {
    kind: "payload",
    proto: field.proto,
    field: field.field,
    base: field.base,
    offset: field.offset,
    len: field.len,
  };
  const m = parseRelational(p, sel, field.dtype, lhs);
  noteProtocol(m, ctx);
  return [...deps, { stmt: m, span: p.spanFrom(protoTok) }];
}

function depMatch(sel: NftSelector, value: number, width: number): NftMatch {
  return { kind: "match", sel, op: "==", rhs: { kind: "value", value: BigInt(value) }, width };
}

/** payload_gen_dependency: what must hold before a header can be read. */
function payloadDeps(fam: NftFamily, ctx: ProtoCtx, f: PayloadField, span: Span): Built[] {
  const deps: Built[] = [];
  const l3dep = (want: "ip" | "ip6"): void => {
    if (fam === "inet") {
      deps.push({ stmt: depMatch({ kind: "meta", key: "nfproto" }, want === "ip" ? 2 : 10, 8), span });
    } else {
      deps.push({
        stmt: depMatch({ kind: "meta", key: "protocol" }, want === "ip" ? 0x0800 : 0x86dd, 16),
        span,
      });
    }
    ctx.net = want;
  };
  if (f.base === "network") {
    const want = f.proto as "ip" | "ip6";
    if (ctx.net && ctx.net !== want)
      throw new NftSyntaxError(`conflicting protocols specified: ${ctx.net} vs. ${want}`, span);
    if (!ctx.net) l3dep(want);
    return deps;
  }
  const want = f.proto;
  if (ctx.l4 && ctx.l4 !== want)
    throw new NftSyntaxError(`conflicting protocols specified: ${ctx.l4} vs. ${want}`, span);
  if (!ctx.l4) {
    if ((want === "icmp" || want === "icmpv6") && !ctx.net) l3dep(want === "icmp" ? "ip" : "ip6");
    deps.push({ stmt: depMatch({ kind: "meta", key: "l4proto" }, L4_PROTO_NUM[want], 8), span });
    ctx.l4 = want;
  }
  return deps;
}

function parseRelational(p: Parser, sel: NftSelector, dt: Datatype, lhs: Span): NftMatch {
  let op: NftCmpOp = "==";
  let explicit = false;
  const o = p.peek();
  if ((o.kind === "punct" || o.kind === "word") && OPS[o.text] && !(o.kind === "word" && p.atEnd(1))) {
    op = OPS[o.text];
    explicit = true;
    p.next();
  }
  void lhs;
  const width = dt.width;
  if (p.isPunct("{")) {
    const rhs = parseSet(p, dt);
    return { kind: "match", sel, op, rhs, width };
  }
  const first = valueToken(p);
  if (dt.kind === "bitmask" && (op === "==" || op === "!=") && (!explicit || op === "!=")) {
    let mask = elemValue(dt, first, p.net);
    while (p.isPunct(",")) {
      p.next();
      mask |= elemValue(dt, valueToken(p), p.net);
    }
    return { kind: "match", sel, op, rhs: { kind: "flags", mask }, width };
  }
  let rhs: NftRhs;
  if (p.isWord("-")) {
    p.next();
    const hi = valueToken(p);
    const lo = elemValue(dt, first, p.net);
    const h = elemValue(dt, hi, p.net);
    if (lo > h)
      throw new NftSyntaxError("Range has zero or negative size", { start: first.start, end: hi.end });
    rhs = { kind: "range", lo, hi: h };
  } else {
    rhs = parseElem(dt, first, p.net);
  }
  return { kind: "match", sel, op, rhs, width };
}

function valueToken(p: Parser): Token {
  const t = p.peek();
  if (t.kind === "string") return p.next();
  if (t.kind === "word" && !STMT_WORDS.has(t.text)) return p.next();
  throw p.unexpected();
}

function parseSet(p: Parser, dt: Datatype): NftRhs {
  p.next();
  const elems: NftSetElem[] = [];
  for (;;) {
    while (p.peek().kind === "nl") p.next();
    if (p.isPunct("}") && elems.length > 0) {
      p.next();
      break;
    }
    if (p.peek().kind === "eof") throw p.unexpected("comma or '}'");
    const t = valueToken(p);
    let e = parseElem(dt, t, p.net);
    if (p.isWord("-")) {
      p.next();
      const hi = valueToken(p);
      const lo = elemValue(dt, t, p.net);
      const h = elemValue(dt, hi, p.net);
      if (lo > h)
        throw new NftSyntaxError("Range has zero or negative size", { start: t.start, end: hi.end });
      e = { kind: "range", lo, hi: h };
    }
    elems.push(e);
    while (p.peek().kind === "nl") p.next();
    if (p.isPunct(",")) {
      p.next();
      continue;
    }
    if (p.isPunct("}")) {
      p.next();
      break;
    }
    throw p.unexpected("comma or '}'");
  }
  const norm = normaliseSet(elems, dt);
  if (elems.length === 1 && norm.length === 1) return norm[0];
  return { kind: "set", elems: norm, handle: 0 };
}

/**
 * payload_try_merge: equality matches on adjacent fields of one header, constant on the right,
 * become one load of at most 32 bits, placed where the lowest-offset field was.
 */
function mergePayloads(built: readonly Built[]): Built[] {
  const groups = new Map<string, number[]>();
  built.forEach((b, i) => {
    const s = b.stmt;
    if (s.kind !== "match" || s.sel.kind !== "payload" || s.op !== "==") return;
    if (s.rhs.kind !== "value" || typeof s.rhs.value !== "bigint") return;
    const list = groups.get(s.sel.proto) ?? [];
    list.push(i);
    groups.set(s.sel.proto, list);
  });
  const replace = new Map<number, Built>();
  const drop = new Set<number>();
  const off = (i: number) => {
    const s = built[i].stmt as NftMatch;
    return s.sel as Extract<NftSelector, { kind: "payload" }>;
  };
  for (const idx of groups.values()) {
    if (idx.length < 2) continue;
    const sorted = [...idx].sort((a, b) => off(a).offset - off(b).offset || a - b);
    let run: number[] = [];
    const flush = () => {
      if (run.length >= 2) {
        replace.set(run[0], {
          stmt: { kind: "merged", parts: run.map((i) => built[i].stmt as NftMatch) },
          span: built[run[0]].span,
        });
        for (const i of run.slice(1)) drop.add(i);
      }
    };
    for (const i of sorted) {
      const last = run[run.length - 1];
      const total = run.reduce((n, k) => n + off(k).len, 0);
      if (
        last !== undefined &&
        off(last).offset + off(last).len === off(i).offset &&
        total + off(i).len <= 4
      ) {
        run.push(i);
      } else {
        flush();
        run = [i];
      }
    }
    flush();
  }
  const out: Built[] = [];
  built.forEach((b, i) => {
    if (drop.has(i)) return;
    out.push(replace.get(i) ?? b);
  });
  return out;
}
