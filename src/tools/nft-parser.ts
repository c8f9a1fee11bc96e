/**
 * The nft command grammar (src/parser_bison.y of nftables 1.0.6, as a recursive-descent
 * parser): commands `add|create|insert|replace|delete|flush|list`, the implicit `add` of
 * `table ... { ... }` blocks, chain blocks with `type ... hook ... priority ...; policy ...;`
 * and rules. Produces kernel commands (with the spans nft underlines on errors) and list
 * requests. Syntax errors read like bison's ("syntax error, unexpected newline, expecting string").
 */
import type {
  NetNamespace,
  NftBaseSpec,
  NftChainType,
  NftCommand,
  NftFamily,
  NftHookName,
  NftPolicy,
} from "../kernel/index.ts";
import { NftSyntaxError, type Span, type Token, tokenize } from "./nft-lexer.ts";
import { KEYWORDS, RESERVED } from "./nft-keywords.ts";
import { priorityByName } from "./nft-priority.ts";
import { parseRule } from "./nft-rule.ts";

/** Spans of the parts of a command (what an error may point at). */
export interface CmdLocs {
  readonly command: Span;
  readonly table?: Span;
  readonly chain?: Span;
  readonly name?: Span;
  readonly handle?: Span;
  readonly position?: Span;
  readonly index?: Span;
  readonly policy?: Span;
  /** One span per kernel statement of a rule. */
  readonly stmts?: readonly Span[];
  /** An error nft finds when evaluating the command (after checking that the table exists). */
  readonly evalError?: EvalError;
}

/** An evaluation-time error and where it points. */
export interface EvalError {
  readonly message: string;
  readonly span: Span;
}

/** A `list` request. */
export interface ListCmd {
  readonly what: "ruleset" | "tables" | "table" | "chains" | "chain";
  readonly family: NftFamily | null;
  readonly table: string | null;
  readonly chain: string | null;
}

/** One parsed command. */
export type ParsedItem =
  | { readonly kind: "kernel"; readonly cmd: NftCommand; readonly locs: CmdLocs }
  | { readonly kind: "list"; readonly list: ListCmd; readonly locs: CmdLocs };

const FAMILIES: ReadonlySet<string> = new Set(["ip", "ip6", "inet", "arp", "bridge", "netdev"]);
const HOOKS: ReadonlySet<string> = new Set([
  "prerouting",
  "input",
  "forward",
  "output",
  "postrouting",
  "ingress",
  "egress",
]);

/** A token stream with bison-like error helpers; shared by the command and rule parsers. */
export class Parser {
  readonly src: string;
  readonly net: NetNamespace;
  readonly #toks: Token[];
  #pos = 0;

  constructor(src: string, net: NetNamespace) {
    this.src = src;
    this.net = net;
    this.#toks = tokenize(src);
  }

  /** The current token. */
  peek(k = 0): Token {
    return this.#toks[Math.min(this.#pos + k, this.#toks.length - 1)];
  }

  /** Consumes and returns the current token. */
  next(): Token {
    const t = this.peek();
    if (this.#pos < this.#toks.length - 1) this.#pos++;
    return t;
  }

  /** The previous token (the last consumed). */
  prev(): Token {
    return this.#toks[Math.max(this.#pos - 1, 0)];
  }

  /** Whether the current token is a word with this text. */
  isWord(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === "word" && t.text === text;
  }

  /** Whether the current token is this punctuation. */
  isPunct(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === "punct" && t.text === text;
  }

  /** Whether the current token ends a command or rule (newline, `;`, `}`, end of input). */
  atEnd(k = 0): boolean {
    const t = this.peek(k);
    return t.kind === "nl" || t.kind === "eof" || (t.kind === "punct" && (t.text === ";" || t.text === "}"));
  }

  /** How bison names a token in "unexpected X". */
  describe(t: Token): string {
    switch (t.kind) {
      case "nl":
        return "newline";
      case "eof":
        return "end of file";
      case "string":
        return "quoted string";
      case "punct":
        if (t.text === ";") return "semicolon";
        if (t.text === ",") return "comma";
        return `'${t.text}'`;
      case "word":
        if (KEYWORDS.has(t.text) || RESERVED.has(t.text)) return t.text;
        if (/^\d+$/.test(t.text)) return "number";
        return "string";
    }
  }

  /** A syntax error at the current token. */
  unexpected(expecting?: string): NftSyntaxError {
    const t = this.peek();
    const msg = `syntax error, unexpected ${this.describe(t)}${expecting ? `, expecting ${expecting}` : ""}`;
    return new NftSyntaxError(msg, t.kind === "eof" ? { start: this.src.length, end: this.src.length } : t);
  }

  /** Consumes an identifier (word or quoted string) or fails with "expecting string". */
  identifier(): Token {
    const t = this.peek();
    if (t.kind === "string" || (t.kind === "word" && !FAMILIES.has(t.text) && !RESERVED.has(t.text))) {
      return this.next();
    }
    throw this.unexpected("string");
  }

  /** Consumes a decimal number or fails with "expecting number". */
  number(): { value: number; span: Span } {
    const t = this.peek();
    if (t.kind === "word" && /^\d+$/.test(t.text)) {
      this.next();
      return { value: Number(t.text), span: t };
    }
    throw this.unexpected("number");
  }

  /** A span from `from` to the end of the last consumed token. */
  spanFrom(from: Span): Span {
    return { start: from.start, end: Math.max(this.prev().end, from.end) };
  }
}

/** Parses a whole nft input (a file, stdin or the joined command line). */
export function parseNft(src: string, net: NetNamespace): ParsedItem[] {
  const p = new Parser(src, net);
  const items: ParsedItem[] = [];
  for (;;) {
    while (p.peek().kind === "nl" || p.isPunct(";")) p.next();
    if (p.peek().kind === "eof") break;
    const first = items.length;
    parseCommand(p, items);
    extendToTerminator(p, items, first);
    if (p.peek().kind === "nl" || p.isPunct(";")) continue;
    if (p.peek().kind === "eof") break;
    throw p.unexpected("end of file or newline or semicolon");
  }
  return items;
}

/** A command's location includes its terminator (newline or semicolon), as bison's does. */
function extendToTerminator(p: Parser, items: ParsedItem[], first: number): void {
  const term = p.peek();
  if (term.kind !== "nl" && !(term.kind === "punct" && term.text === ";")) return;
  const end = p.prev().end;
  for (let i = first; i < items.length; i++) {
    const it = items[i];
    if (it.locs.command.end !== end) continue;
    const locs = { ...it.locs, command: { start: it.locs.command.start, end: term.end } };
    items[i] = it.kind === "kernel" ? { ...it, locs } : { ...it, locs };
  }
}

function family(p: Parser): NftFamily {
  if (p.peek().kind === "word" && FAMILIES.has(p.peek().text)) return p.next().text as NftFamily;
  return "ip";
}

function parseCommand(p: Parser, items: ParsedItem[]): void {
  const t = p.peek();
  if (t.kind !== "word") throw p.unexpected();
  switch (t.text) {
    case "add":
    case "create": {
      p.next();
      const what = p.peek();
      if (what.kind !== "word" || !["table", "chain", "rule"].includes(what.text))
        throw p.unexpected("string");
      parseAdd(p, items, t.text, t);
      return;
    }
    case "table":
    case "chain":
    case "rule":
      parseAdd(p, items, "add", t);
      return;
    case "insert":
    case "replace": {
      p.next();
      if (!p.isWord("rule")) throw p.unexpected("rule");
      p.next();
      parseRuleCmd(p, items, t.text, t);
      return;
    }
    case "delete":
    case "flush":
      p.next();
      parseDeleteFlush(p, items, t.text, t);
      return;
    case "list":
      p.next();
      parseList(p, items, t);
      return;
    default: {
      // nft reads an unknown word as the start of an expression; the error comes at the end.
      p.next();
      const alone = p.atEnd();
      while (!p.atEnd()) p.next();
      throw p.unexpected(alone ? "string" : undefined);
    }
  }
}

function parseAdd(p: Parser, items: ParsedItem[], op: string, start: Span): void {
  const what = p.next().text;
  if (what === "rule") {
    parseRuleCmd(p, items, op, start);
    return;
  }
  const fam = family(p);
  if (what === "table") {
    const name = p.identifier();
    items.push({
      kind: "kernel",
      cmd: { op: op as "add", obj: "table", family: fam, name: name.text },
      locs: { command: p.spanFrom(start), name },
    });
    if (p.isPunct("{")) parseTableBlock(p, items, fam, name);
    return;
  }
  const table = p.identifier();
  const name = p.identifier();
  let base: NftBaseSpec | null = null;
  let policy: NftPolicy | null = null;
  let policySpan: Span | undefined;
  let evalError: EvalError | undefined;
  const rules: ParsedItem[] = [];
  if (p.isPunct("{")) {
    const block = parseChainBlock(p, fam, table, name, rules);
    base = block.base;
    policy = block.policy;
    policySpan = block.policySpan;
    evalError = block.evalError;
  }
  items.push({
    kind: "kernel",
    cmd: { op: op as "add", obj: "chain", family: fam, table: table.text, name: name.text, base, policy },
    locs: {
      command: p.spanFrom(start),
      table,
      name,
      ...(policySpan ? { policy: policySpan } : {}),
      ...(evalError ? { evalError } : {}),
    },
  });
  items.push(...rules);
}

function parseTableBlock(p: Parser, items: ParsedItem[], fam: NftFamily, table: Token): void {
  p.next();
  // nft expands a table block into the table, then all its chains, then all their rules.
  const rules: ParsedItem[] = [];
  for (;;) {
    while (p.peek().kind === "nl" || p.isPunct(";")) p.next();
    if (p.isPunct("}")) {
      p.next();
      items.push(...rules);
      return;
    }
    if (p.peek().kind === "eof") throw p.unexpected();
    if (p.isWord("chain")) {
      const start = p.next();
      const name = p.identifier();
      if (!p.isPunct("{")) throw p.unexpected("'{'");
      const block = parseChainBlock(p, fam, table, name, rules);
      items.push({
        kind: "kernel",
        cmd: {
          op: "add",
          obj: "chain",
          family: fam,
          table: table.text,
          name: name.text,
          base: block.base,
          policy: block.policy,
        },
        locs: {
          command: p.spanFrom(start),
          table,
          name,
          ...(block.policySpan ? { policy: block.policySpan } : {}),
          ...(block.evalError ? { evalError: block.evalError } : {}),
        },
      });
      continue;
    }
    throw p.unexpected();
  }
}

interface ChainBlock {
  base: NftBaseSpec | null;
  policy: NftPolicy | null;
  policySpan: Span | undefined;
  evalError: EvalError | undefined;
}

function parseChainBlock(
  p: Parser,
  fam: NftFamily,
  table: Token,
  chain: Token,
  rules: ParsedItem[],
): ChainBlock {
  try {
    return chainBlockBody(p, fam, table, chain, rules);
  } catch (e) {
    // Bison recovers from an error at a "}" by dropping the block, then hits the end of input.
    if (e instanceof NftSyntaxError && p.src[e.span.start] === "}" && e.message.startsWith("syntax error")) {
      e.followUp = new NftSyntaxError("syntax error, unexpected end of file", {
        start: p.src.length,
        end: p.src.length,
      });
    }
    throw e;
  }
}

function chainBlockBody(
  p: Parser,
  fam: NftFamily,
  table: Token,
  chain: Token,
  rules: ParsedItem[],
): ChainBlock {
  p.next();
  const out: ChainBlock = { base: null, policy: null, policySpan: undefined, evalError: undefined };
  for (;;) {
    while (p.peek().kind === "nl" || p.isPunct(";")) p.next();
    if (p.isPunct("}")) {
      p.next();
      return out;
    }
    if (p.peek().kind === "eof") throw p.unexpected();
    let spec = false;
    if (p.isWord("type")) {
      const hs = parseHookSpec(p, fam);
      out.base = hs.base;
      out.evalError = hs.evalError;
      spec = true;
    } else if (p.isWord("policy")) {
      const start = p.next();
      const v = p.peek();
      if (v.kind !== "word" || (v.text !== "accept" && v.text !== "drop")) {
        throw p.unexpected("accept or drop or '$'");
      }
      p.next();
      out.policy = v.text as NftPolicy;
      out.policySpan = p.spanFrom(start);
      spec = true;
    } else {
      const start = p.peek();
      const rule = parseRule(p, fam);
      rules.push({
        kind: "kernel",
        cmd: { op: "add", obj: "rule", family: fam, table: table.text, chain: chain.text, rule: rule.spec },
        locs: { command: p.spanFrom(start), table, chain, stmts: rule.spans },
      });
      extendToTerminator(p, rules, rules.length - 1);
    }
    // The hook and policy specs must end with a newline or semicolon, even before "}".
    if (!p.atEnd() || (spec && p.isPunct("}"))) throw p.unexpected("newline or semicolon");
  }
}

function parseHookSpec(p: Parser, fam: NftFamily): { base: NftBaseSpec; evalError: EvalError | undefined } {
  const typeKw = p.next();
  const typeTok = p.identifier();
  if (!["filter", "nat", "route"].includes(typeTok.text))
    throw new NftSyntaxError("unknown chain type", typeTok);
  if (!p.isWord("hook")) throw p.unexpected("hook");
  p.next();
  const hookTok = p.identifier();
  if (!HOOKS.has(hookTok.text)) throw new NftSyntaxError("unknown chain hook", hookTok);
  const hook = hookTok.text as NftHookName;
  let device: string | null = null;
  if (p.isWord("device")) {
    p.next();
    device = p.identifier().text;
  }
  if (!p.isWord("priority")) throw p.unexpected("priority");
  const prioKw = p.next();
  const first = p.peek();
  if (first.kind !== "word") throw p.unexpected();
  p.next();
  let prio: number;
  let evalError: EvalError | undefined;
  if (/^-?\d+$/.test(first.text)) {
    prio = Number(first.text);
  } else {
    let value = priorityByName(fam, hook, first.text);
    if (p.isPunct("+") || p.isWord("-")) {
      const sign = p.next().text === "+" ? 1 : -1;
      const n = p.number();
      if (value !== undefined) value += sign * n.value;
    }
    const span = p.spanFrom(prioKw);
    if (value === undefined)
      evalError = { message: "invalid priority expression value in this context.", span };
    prio = value ?? 0;
  }
  if (fam === "netdev" && device === null && !evalError) {
    evalError = { message: "Missing `device' in this chain definition", span: p.spanFrom(typeKw) };
  }
  return { base: { type: typeTok.text as NftChainType, hook, priority: prio, device }, evalError };
}

function parseRuleCmd(p: Parser, items: ParsedItem[], op: string, start: Span): void {
  const fam = family(p);
  const table = p.identifier();
  const chain = p.identifier();
  let position: number | null = null;
  let index: number | null = null;
  let handle: number | null = null;
  let posSpan: Span | undefined;
  let idxSpan: Span | undefined;
  let handleSpan: Span | undefined;
  if (p.isWord("position") || (p.isWord("handle") && op !== "replace")) {
    const s = p.next();
    position = p.number().value;
    posSpan = p.spanFrom(s);
  } else if (p.isWord("index")) {
    const s = p.next();
    index = p.number().value;
    idxSpan = p.spanFrom(s);
  } else if (p.isWord("handle")) {
    p.next();
    const n = p.number();
    handle = n.value;
    handleSpan = n.span;
  }
  if (op === "replace" && handle === null) throw p.unexpected("handle");
  const rule = parseRule(p, fam);
  const locs: CmdLocs = {
    command: p.spanFrom(start),
    table,
    chain,
    stmts: rule.spans,
    ...(posSpan ? { position: posSpan } : {}),
    ...(idxSpan ? { index: idxSpan } : {}),
    ...(handleSpan ? { handle: handleSpan } : {}),
  };
  const base = { family: fam, table: table.text, chain: chain.text, rule: rule.spec };
  if (op === "replace") {
    items.push({ kind: "kernel", cmd: { op: "replace", obj: "rule", ...base, handle: handle ?? 0 }, locs });
  } else {
    items.push({
      kind: "kernel",
      cmd: { op: op === "insert" ? "insert" : "add", obj: "rule", ...base, position, index },
      locs,
    });
  }
}

function parseDeleteFlush(p: Parser, items: ParsedItem[], op: string, start: Span): void {
  const what = p.peek();
  if (what.kind !== "word") throw p.unexpected();
  if (op === "flush" && what.text === "ruleset") {
    p.next();
    let fam: NftFamily | null = null;
    if (p.peek().kind === "word" && FAMILIES.has(p.peek().text)) fam = p.next().text as NftFamily;
    items.push({
      kind: "kernel",
      cmd: { op: "flush", obj: "ruleset", family: fam },
      locs: { command: p.spanFrom(start) },
    });
    return;
  }
  if (!["table", "chain", "rule"].includes(what.text)) throw p.unexpected();
  p.next();
  const fam = family(p);
  const o = op as "delete";
  if (what.text === "table") {
    if (op === "delete" && p.isWord("handle")) {
      p.next();
      const n = p.number();
      items.push({
        kind: "kernel",
        cmd: { op: o, obj: "table", family: fam, name: null, handle: n.value },
        locs: { command: p.spanFrom(start), handle: n.span },
      });
      return;
    }
    const name = p.identifier();
    items.push({
      kind: "kernel",
      cmd: { op: o, obj: "table", family: fam, name: name.text },
      locs: { command: p.spanFrom(start), table: name, name },
    });
    return;
  }
  const table = p.identifier();
  if (what.text === "chain") {
    if (op === "delete" && p.isWord("handle")) {
      p.next();
      const n = p.number();
      items.push({
        kind: "kernel",
        cmd: { op: o, obj: "chain", family: fam, table: table.text, name: null, handle: n.value },
        locs: { command: p.spanFrom(start), table, handle: n.span },
      });
      return;
    }
    const name = p.identifier();
    items.push({
      kind: "kernel",
      cmd: { op: o, obj: "chain", family: fam, table: table.text, name: name.text },
      locs: { command: p.spanFrom(start), table, chain: name, name },
    });
    return;
  }
  if (op === "flush") throw p.unexpected();
  const chain = p.identifier();
  if (!p.isWord("handle")) throw p.unexpected("handle");
  p.next();
  const n = p.number();
  items.push({
    kind: "kernel",
    cmd: { op: "delete", obj: "rule", family: fam, table: table.text, chain: chain.text, handle: n.value },
    locs: { command: p.spanFrom(start), table, chain, handle: n.span },
  });
}

function parseList(p: Parser, items: ParsedItem[], start: Span): void {
  const what = p.peek();
  if (what.kind !== "word" || !["ruleset", "tables", "table", "chains", "chain"].includes(what.text)) {
    throw p.unexpected();
  }
  p.next();
  const w = what.text as ListCmd["what"];
  if (w === "ruleset" || w === "tables" || w === "chains") {
    let fam: NftFamily | null = null;
    if (p.peek().kind === "word" && FAMILIES.has(p.peek().text)) fam = p.next().text as NftFamily;
    items.push({
      kind: "list",
      list: { what: w, family: fam, table: null, chain: null },
      locs: { command: p.spanFrom(start) },
    });
    return;
  }
  const fam = family(p);
  const table = p.identifier();
  if (w === "table") {
    items.push({
      kind: "list",
      list: { what: w, family: fam, table: table.text, chain: null },
      locs: { command: p.spanFrom(start), table },
    });
    return;
  }
  const chain = p.identifier();
  items.push({
    kind: "list",
    list: { what: w, family: fam, table: table.text, chain: chain.text },
    locs: { command: p.spanFrom(start), table, chain },
  });
}
