/**
 * The pcap filter language (pcap-filter(7), libpcap 1.10) compiled to a predicate over Ethernet
 * frames: protocol names, host/net/port/portrange with src/dst and protocol qualifiers (and
 * the "repeat the last qualifier" rule), ether host/src/dst/proto, broadcast/multicast, vlan
 * (which shifts later offsets by 4), less/greater, inbound/outbound, `proto[off:size]` loads
 * with C-like arithmetic and comparisons, and/or (equal precedence, left to right), not.
 * Like a BPF program, a load past the end of the frame rejects the frame outright.
 */
import { parseIpv4 } from "../wire/index.ts";
import {
  binop,
  etherHost,
  ETHERTYPE,
  FilterError,
  type FilterFn,
  type FilterPacket,
  hostPred,
  ip6Proto,
  IPPROTO,
  ipProto,
  isBroadcast,
  isEthertype,
  isMacText,
  KEYWORDS,
  load,
  looksLikeAddress,
  macBytes,
  NAMED,
  netPred,
  parseNumber,
  portNumber,
  type Pred,
  PROTO_WORDS,
  protoNumber,
  protoPred,
  type ProtoQ,
  type Qual,
  Reject,
  REJECT_FALSE,
  relop,
  RELOPS,
  SYNTAX,
  TYPE_WORDS,
  type TypeQ,
  u16,
  u32,
  u8,
  type Val,
} from "./pcap-filter-gen.ts";

export { FilterError, type FilterFn, type FilterPacket } from "./pcap-filter-gen.ts";

interface Tok {
  readonly kind: "word" | "op";
  readonly text: string;
}

const OPS2 = ["&&", "||", "==", "!=", "<=", ">=", "<<", ">>"];
const OPS1 = "()[]!=<>+-*/%&|^\\:";

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (OPS2.includes(two)) {
      toks.push({ kind: "op", text: two });
      i += 2;
      continue;
    }
    const word =
      /^[0-9][0-9A-Za-z.:]*(\/[0-9]+)?/.exec(src.slice(i)) ??
      /^[A-Za-z_][A-Za-z0-9_.:-]*(\/[0-9]+)?/.exec(src.slice(i));
    if (word) {
      toks.push({ kind: "word", text: word[0] });
      i += word[0].length;
      continue;
    }
    if (OPS1.includes(c)) {
      toks.push({ kind: "op", text: c });
      i++;
      continue;
    }
    throw new FilterError(SYNTAX);
  }
  return toks;
}

class Parser {
  readonly #toks: Tok[];
  #pos = 0;
  /** Offset of the link-layer payload (14, plus 4 per `vlan` already parsed). */
  #linkOff = 14;
  #last: Qual = { proto: null, dir: null, type: null };
  readonly #live: boolean;

  constructor(toks: Tok[], live: boolean) {
    this.#toks = toks;
    this.#live = live;
  }

  parse(): Pred {
    if (this.#toks.length === 0) return () => true;
    const e = this.#expr();
    if (this.#pos !== this.#toks.length) throw new FilterError(SYNTAX);
    return e;
  }

  #peek(k = 0): Tok | undefined {
    return this.#toks[this.#pos + k];
  }

  #isWord(t: Tok | undefined, text?: string): boolean {
    return t !== undefined && t.kind === "word" && (text === undefined || t.text === text);
  }

  #isOp(t: Tok | undefined, text: string): boolean {
    return t !== undefined && t.kind === "op" && t.text === text;
  }

  #next(): Tok {
    const t = this.#toks[this.#pos++];
    if (!t) throw new FilterError(SYNTAX);
    return t;
  }

  #expectOp(text: string): void {
    if (!this.#isOp(this.#next(), text)) throw new FilterError(SYNTAX);
  }

  /** and/or: equal precedence, left to right. */
  #expr(): Pred {
    let left = this.#unary();
    for (;;) {
      const t = this.#peek();
      const isAnd = this.#isWord(t, "and") || this.#isOp(t, "&&");
      const isOr = this.#isWord(t, "or") || this.#isOp(t, "||");
      if (!isAnd && !isOr) return left;
      this.#pos++;
      const right = this.#unary();
      const l = left;
      left = isAnd ? (p) => l(p) && right(p) : (p) => l(p) || right(p);
    }
  }

  #unary(): Pred {
    const t = this.#peek();
    if (this.#isWord(t, "not") || this.#isOp(t, "!")) {
      this.#pos++;
      const e = this.#unary();
      return (p) => !e(p);
    }
    // A relation (arithmetic on both sides) is tried first: "(ip[9] + 1) % 7 == 2".
    const save = this.#pos;
    const saveLink = this.#linkOff;
    const rel = this.#tryRelation();
    if (rel) return rel;
    this.#pos = save;
    this.#linkOff = saveLink;
    if (this.#isOp(t, "(")) {
      this.#pos++;
      const e = this.#expr();
      this.#expectOp(")");
      return e;
    }
    return this.#primitive();
  }

  #tryRelation(): Pred | null {
    let left: Val;
    try {
      left = this.#arith(0);
    } catch (e) {
      if (e instanceof FilterError && !e.fatal) return null;
      throw e;
    }
    const op = this.#peek();
    if (op?.kind !== "op" || !RELOPS.has(op.text)) return null;
    this.#pos++;
    const right = this.#arith(0);
    const cmp = relop(op.text);
    // A load guarded by a protocol check (ip[9] on an ARP frame) makes the relation false.
    return (p) => {
      try {
        return cmp(left(p), right(p));
      } catch (e) {
        if (e === REJECT_FALSE) return false;
        throw e;
      }
    };
  }

  /** Binary arithmetic by precedence level: | ^ & <</>> +/- * / %. */
  #arith(level: number): Val {
    const LEVELS: readonly (readonly string[])[] = [
      ["|"],
      ["^"],
      ["&"],
      ["<<", ">>"],
      ["+", "-"],
      ["*", "/", "%"],
    ];
    if (level >= LEVELS.length) return this.#factor();
    let left = this.#arith(level + 1);
    for (;;) {
      const t = this.#peek();
      if (t?.kind !== "op" || !LEVELS[level]!.includes(t.text)) return left;
      // "a & b" inside an arithmetic context: the relational parse decides later.
      this.#pos++;
      const right = this.#arith(level + 1);
      left = binop(t.text, left, right);
    }
  }

  #factor(): Val {
    const t = this.#next();
    if (t.kind === "op") {
      if (t.text === "(") {
        const v = this.#arith(0);
        this.#expectOp(")");
        return v;
      }
      if (t.text === "-") {
        const v = this.#factor();
        return (p) => -v(p) >>> 0;
      }
      throw new FilterError(SYNTAX);
    }
    const num = parseNumber(t.text);
    if (num !== null) return () => num;
    if (t.text === "len") return (p) => p.len;
    const named = NAMED[t.text];
    if (named !== undefined) return () => named;
    if (this.#isOp(this.#peek(), "[")) return this.#accessor(t.text);
    throw new FilterError(SYNTAX);
  }

  /** proto[expr], proto[expr:size]. */
  #accessor(proto: string): Val {
    this.#expectOp("[");
    let off: Val;
    let size = 1;
    const t = this.#peek();
    const m = t?.kind === "word" ? /^(\d+):(\d+)$/.exec(t.text) : null;
    if (m) {
      this.#pos++;
      const n = Number.parseInt(m[1]!, 10);
      off = () => n;
      size = Number.parseInt(m[2]!, 10);
    } else {
      off = this.#arith(0);
      if (this.#isOp(this.#peek(), ":")) {
        this.#pos++;
        const s = parseNumber(this.#next().text);
        if (s === null) throw new FilterError(SYNTAX);
        size = s;
      }
    }
    this.#expectOp("]");
    if (size !== 1 && size !== 2 && size !== 4) throw new FilterError("data size must be 1, 2, or 4", true);
    const L = this.#linkOff;
    const guard = (cond: Pred, base: (p: FilterPacket) => number): Val => {
      return (p) => {
        if (!cond(p)) throw REJECT_FALSE;
        return load(p, base(p) + off(p), size);
      };
    };
    switch (proto) {
      case "ether":
        return (p) => load(p, off(p), size);
      case "ip":
        return guard(isEthertype(L, ETHERTYPE.IP), () => L);
      case "ip6":
        return guard(isEthertype(L, ETHERTYPE.IPV6), () => L);
      case "arp":
        return guard(isEthertype(L, ETHERTYPE.ARP), () => L);
      case "rarp":
        return guard(isEthertype(L, ETHERTYPE.RARP), () => L);
      case "icmp6":
        return guard(ip6Proto(L, 58), () => L + 40);
      case "tcp":
      case "udp":
      case "icmp":
      case "igmp":
      case "sctp": {
        const proto4 = ipProto(L, IPPROTO[proto]!);
        const cond: Pred = (p) => proto4(p) && (u16(p, L + 6) & 0x1fff) === 0;
        return guard(cond, (p) => L + (u8(p, L) & 0x0f) * 4);
      }
      default:
        throw new FilterError(SYNTAX);
    }
  }

  #primitive(): Pred {
    const t = this.#next();
    if (t.kind !== "word") {
      if (t.text === "\\") throw new FilterError(SYNTAX);
      throw new FilterError(SYNTAX);
    }
    const L = this.#linkOff;
    switch (t.text) {
      case "less":
        return this.#lenCmp((len, n) => len <= n);
      case "greater":
        return this.#lenCmp((len, n) => len >= n);
      case "broadcast":
        return isBroadcast;
      case "multicast":
        return (p) => (u8(p, 0) & 1) === 1;
      case "inbound":
      case "outbound":
        if (!this.#live)
          throw new FilterError("inbound/outbound not supported on Ethernet when reading savefiles");
        return t.text === "inbound" ? (p) => p.dir === "in" : (p) => p.dir === "out";
      case "vlan":
        return this.#vlan();
      case "gateway":
        throw new FilterError("'gateway' requires a name");
    }
    // qualifiers: [proto] [dir] [type] id
    const q: Qual = { proto: null, dir: null, type: null };
    let tok: Tok | undefined = t;
    if (PROTO_WORDS.has(tok.text)) {
      q.proto = tok.text as ProtoQ;
      const nx = this.#peek();
      // `ether broadcast`, `ip multicast`, `ip proto N`, `ether proto N` ...
      if (this.#isWord(nx, "broadcast")) {
        this.#pos++;
        if (q.proto === "ether") return isBroadcast;
        if (q.proto !== "ip") throw new FilterError(SYNTAX);
        // The netmask is 0 (unknown to us): only 0.0.0.0 and 255.255.255.255 count.
        const ip = isEthertype(L, ETHERTYPE.IP);
        return (p) => {
          if (!ip(p)) return false;
          const d = u32(p, L + 16);
          return d === 0 || d === 0xffffffff;
        };
      }
      if (this.#isWord(nx, "multicast")) {
        this.#pos++;
        if (q.proto === "ether") return (p) => (u8(p, 0) & 1) === 1;
        if (q.proto === "ip") {
          const ip = isEthertype(L, ETHERTYPE.IP);
          return (p) => ip(p) && u8(p, L + 16) >= 224;
        }
        if (q.proto === "ip6") {
          const ip6 = isEthertype(L, ETHERTYPE.IPV6);
          return (p) => ip6(p) && u8(p, L + 24) === 0xff;
        }
        throw new FilterError(SYNTAX);
      }
      tok = this.#peek();
      if (!this.#isWord(tok) || (!["src", "dst"].includes(tok!.text) && !TYPE_WORDS.has(tok!.text))) {
        this.#last = { proto: q.proto, dir: null, type: null };
        return protoPred(q.proto!, L);
      }
      tok = this.#next();
    }
    if (tok.text === "src" || tok.text === "dst") {
      q.dir = tok.text;
      const a = this.#peek();
      const b = this.#peek(1);
      if (
        (this.#isWord(a, "or") || this.#isWord(a, "and")) &&
        this.#isWord(b, tok.text === "src" ? "dst" : "src")
      ) {
        q.dir = this.#isWord(a, "or") ? "src or dst" : "src and dst";
        this.#pos += 2;
      }
      const nx = this.#peek();
      if (this.#isWord(nx) && TYPE_WORDS.has(nx!.text)) tok = this.#next();
      else tok = undefined;
    }
    if (tok && TYPE_WORDS.has(tok.text)) q.type = tok.text as TypeQ;
    else if (tok && q.dir === null && q.proto === null) {
      // A bare id: the last qualifiers apply; with none, only an address is accepted (as host).
      const last = this.#last;
      if (last.proto === null && last.dir === null && last.type === null && !looksLikeAddress(tok.text)) {
        throw new FilterError(SYNTAX);
      }
      if (KEYWORDS.has(tok.text)) throw new FilterError(SYNTAX);
      return this.#id(last, tok);
    }
    this.#last = { ...q };
    const id = this.#next();
    if (id.kind === "op" && id.text === "\\") return this.#id(q, this.#next(), true);
    if (id.kind !== "word" || KEYWORDS.has(id.text)) throw new FilterError(SYNTAX);
    return this.#id(q, id);
  }

  #lenCmp(cmp: (len: number, n: number) => boolean): Pred {
    const t = this.#next();
    const n = parseNumber(t.text);
    if (n === null) throw new FilterError(SYNTAX);
    return (p) => cmp(p.len, n);
  }

  #vlan(): Pred {
    const L = this.#linkOff;
    this.#linkOff += 4;
    const isTag: Pred = (p) => {
      const et = u16(p, L - 2);
      return et === ETHERTYPE.VLAN || et === ETHERTYPE.QINQ || et === ETHERTYPE.QINQ2;
    };
    const nx = this.#peek();
    const id = nx?.kind === "word" ? parseNumber(nx.text) : null;
    if (id === null) return isTag;
    this.#pos++;
    if (id > 4095) throw new FilterError(`VLAN tag ${id} greater than maximum 4095`);
    return (p) => isTag(p) && (u16(p, L) & 0x0fff) === id;
  }

  /** An id with its qualifiers. */
  #id(q: Qual, t: Tok, escaped = false): Pred {
    const L = this.#linkOff;
    const type = q.type ?? "host";
    const text = t.text;
    if (type === "proto") {
      const n = parseNumber(text) ?? (escaped || !KEYWORDS.has(text) ? protoNumber(q.proto, text) : null);
      if (n === null) throw new FilterError(`unknown ${q.proto === "ether" ? "ether " : ""}proto '${text}'`);
      if (q.proto === "ether") return isEthertype(L, n);
      if (q.proto === "ip") return ipProto(L, n);
      if (q.proto === "ip6") return ip6Proto(L, n);
      if (q.proto === null) {
        const a = ipProto(L, n);
        const b = ip6Proto(L, n);
        return (p) => a(p) || b(p);
      }
      throw new FilterError(SYNTAX);
    }
    if (type === "port" || type === "portrange") return this.#port(q, text, type === "portrange");
    if (q.proto === "ether") {
      if (type !== "host" || !isMacText(text)) throw new FilterError("illegal link layer address");
      return etherHost(q.dir, macBytes(text));
    }
    if (type === "net") return netPred(q, text, L);
    return hostPred(q, text, L);
  }

  #port(q: Qual, text: string, range: boolean): Pred {
    const L = this.#linkOff;
    let lo: number;
    let hi: number;
    if (range) {
      let m = /^([\w-]+?)-(\w+)$/.exec(text);
      if (!m && this.#isOp(this.#peek(), "-") && this.#isWord(this.#peek(1))) {
        // "5000-6000" lexes as a number, "-", a number
        m = ["", text, this.#peek(1)!.text] as unknown as RegExpExecArray;
        this.#pos += 2;
      }
      if (!m) throw new FilterError(SYNTAX);
      lo = portNumber(m[1]!);
      hi = portNumber(m[2]!);
      if (lo > hi) [lo, hi] = [hi, lo];
    } else {
      lo = hi = portNumber(text);
    }
    const protos =
      q.proto === "tcp" || q.proto === "udp" || q.proto === "sctp"
        ? [IPPROTO[q.proto]!]
        : q.proto === null || q.proto === "ip" || q.proto === "ip6"
          ? [6, 17, 132]
          : null;
    if (!protos) throw new FilterError(`illegal qualifier of 'port'`);
    const v4 = q.proto !== "ip6";
    const v6 = q.proto !== "ip";
    const inRange = (n: number) => n >= lo && n <= hi;
    const dirTest = (sport: number, dport: number): boolean => {
      switch (q.dir) {
        case "src":
          return inRange(sport);
        case "dst":
          return inRange(dport);
        case "src and dst":
          return inRange(sport) && inRange(dport);
        default:
          return inRange(sport) || inRange(dport);
      }
    };
    const isIp = isEthertype(L, ETHERTYPE.IP);
    const isIp6 = isEthertype(L, ETHERTYPE.IPV6);
    return (p) => {
      if (v4 && isIp(p) && protos.includes(u8(p, L + 9)) && (u16(p, L + 6) & 0x1fff) === 0) {
        const t = L + (u8(p, L) & 0x0f) * 4;
        if (dirTest(u16(p, t), u16(p, t + 2))) return true;
      }
      if (v6 && isIp6(p) && protos.includes(u8(p, L + 6))) {
        if (dirTest(u16(p, L + 40), u16(p, L + 42))) return true;
      }
      return false;
    };
  }
}

export function compileFilter(expression: string, options: { readonly live?: boolean } = {}): FilterFn {
  const toks = lex(expression);
  // `net A mask M` is rewritten to `net A/len` before parsing.
  const out: Tok[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === "word" && t.text === "mask" && out.length > 0) {
      const netTok = out[out.length - 1]!;
      const m = toks[++i];
      if (m?.kind !== "word") throw new FilterError(SYNTAX);
      let mask: number;
      try {
        mask = parseIpv4(m.text);
      } catch {
        throw new FilterError(`invalid IPv4 address '${m.text}'`);
      }
      let len = 0;
      while (len < 32 && (mask >>> (31 - len)) & 1) len++;
      out[out.length - 1] = { kind: "word", text: `${netTok.text}/${len}` };
      continue;
    }
    out.push(t);
  }
  const pred = new Parser(out, options.live ?? false).parse();
  return (p) => {
    try {
      return pred(p);
    } catch (e) {
      if (e instanceof Reject) return false;
      throw e;
    }
  };
}
