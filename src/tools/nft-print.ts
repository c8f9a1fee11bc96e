/**
 * How nft 1.0.6 prints a ruleset (rule.c, expression.c, statement.c, netlink_delinearize.c):
 * the text layout of `nft list`, values through their datatypes, and the removal of protocol
 * dependencies (`meta l4proto tcp` before `tcp dport 22` prints as `tcp dport 22`).
 */
import type {
  NetNamespace,
  NftChain,
  NftFamily,
  NftMatch,
  NftRhs,
  NftRule,
  NftSelector,
  NftSetElem,
  NftStmt,
  NftTable,
  NftValue,
} from "../kernel/index.ts";
import { formatIpv4, formatIpv6 } from "../wire/index.ts";
import {
  CT_KEYS,
  type Datatype,
  DT,
  LOG_LEVELS,
  META_KEYS,
  META_UNQUALIFIED,
  PAYLOAD_FIELDS,
  symbolName,
} from "./nft-datatypes.ts";
import { priorityText } from "./nft-priority.ts";
import { defaultReject, REJECT_PORT_UNREACH } from "./nft-rule.ts";

/** Output options (-a, -n, -s). */
export interface PrintOpts {
  readonly handles: boolean;
  readonly numeric: boolean;
  /** -y: chain priorities as numbers (implied by -n). */
  readonly numericPrio?: boolean;
  /** -p: layer 4 protocols as numbers (implied by -n). */
  readonly numericProto?: boolean;
  /** -S: ports as service names. */
  readonly services?: boolean;
  readonly stateless: boolean;
}

/** The datatype of a selector. */
export function selectorType(sel: NftSelector): Datatype {
  switch (sel.kind) {
    case "payload":
      return PAYLOAD_FIELDS[sel.proto].find((f) => f.field === sel.field)?.dtype ?? DT.integer32;
    case "meta":
      return META_KEYS[sel.key];
    case "ct":
      return CT_KEYS[sel.key] ?? DT.integer32;
  }
}

/** A value as nft prints it. */
export function valueText(dt: Datatype, v: NftValue, net: NetNamespace, o: PrintOpts): string {
  if (typeof v === "string") return `"${v}"`;
  switch (dt.kind) {
    case "ipv4":
      return formatIpv4(Number(v));
    case "ipv6":
      return formatIpv6(v);
    case "mark":
      return `0x${v.toString(16).padStart(8, "0")}`;
    case "ifindex": {
      const dev = [...net.devices.values()].find((d) => BigInt(d.ifindex) === v);
      return dev ? `"${dev.name}"` : String(v);
    }
    case "bitmask":
      return bitmaskText(dt, v, o);
    case "symbol": {
      if (o.numeric && dt.hexDigits) return `0x${v.toString(16).padStart(dt.hexDigits, "0")}`;
      if (dt.name === "inet_service" && o.services && !o.numeric) {
        const name = symbolName(dt, Number(v));
        return name ? `"${name}"` : String(v);
      }
      if (dt.name === "inet_proto" && o.numericProto) return String(v);
      if (o.numeric || dt.printSymbols === false) return String(v);
      return symbolName(dt, Number(v)) ?? String(v);
    }
    default:
      return String(v);
  }
}

function bitmaskText(dt: Datatype, v: bigint, o: PrintOpts): string {
  const names: string[] = [];
  let rest = v;
  for (const [name, bit] of dt.symbols ?? []) {
    if (v & BigInt(bit)) {
      names.push(o.numeric ? `0x${bit.toString(16)}` : name);
      rest &= ~BigInt(bit);
    }
  }
  if (rest !== 0n || names.length === 0) names.push(`0x${rest.toString(16)}`);
  return names.join(",");
}

function elemText(dt: Datatype, e: NftSetElem, net: NetNamespace, o: PrintOpts): string {
  switch (e.kind) {
    case "value":
      return valueText(dt, e.value, net, o);
    case "prefix":
      return `${valueText(dt, e.value, net, o)}/${e.len}`;
    case "range":
      return `${valueText(dt, e.lo, net, o)}-${valueText(dt, e.hi, net, o)}`;
  }
}

/** The right-hand side of a match. */
export function rhsText(dt: Datatype, rhs: NftRhs, net: NetNamespace, o: PrintOpts): string {
  switch (rhs.kind) {
    case "set":
      return `{ ${rhs.elems.map((e) => elemText(dt, e, net, o)).join(", ")} }`;
    case "flags":
      return bitmaskText(dt, rhs.mask, o);
    default:
      return elemText(dt, rhs, net, o);
  }
}

/** The left-hand side of a match. */
export function selectorText(sel: NftSelector): string {
  switch (sel.kind) {
    case "payload":
      return `${sel.proto} ${sel.field}`;
    case "meta":
      return META_UNQUALIFIED.has(sel.key) ? sel.key : `meta ${sel.key}`;
    case "ct":
      return `ct ${sel.key}`;
  }
}

function matchText(m: NftMatch, net: NetNamespace, o: PrintOpts): string {
  const dt = selectorType(m.sel);
  // An exact comparison on a bitmask type must say so: the implicit form means "any of".
  const exact = m.op === "==" && dt.kind === "bitmask" && m.rhs.kind !== "flags" && m.rhs.kind !== "set";
  const op = m.op === "==" && !exact ? "" : `${m.op} `;
  return `${selectorText(m.sel)} ${op}${rhsText(dt, m.rhs, net, o)}`;
}

/** A statement as text (a merged payload prints as its parts). */
export function stmtText(s: NftStmt, family: NftFamily, net: NetNamespace, o: PrintOpts): string {
  switch (s.kind) {
    case "match":
      return matchText(s, net, o);
    case "merged":
      return s.parts.map((m) => matchText(m, net, o)).join(" ");
    case "counter":
      return o.stateless ? "counter" : `counter packets ${s.packets} bytes ${s.bytes}`;
    case "verdict":
      return s.chain !== null ? `${s.code} ${s.chain}` : s.code;
    case "log": {
      let t = "log";
      if (s.prefix !== null) t += ` prefix "${s.prefix}"`;
      if (s.level !== null) t += ` level ${LOG_LEVELS[s.level]}`;
      return t;
    }
    case "set":
      return `${selectorText(s.sel)} set ${valueText(selectorType(s.sel), s.value, net, o)}`;
    case "reject": {
      if (s.type === "tcp reset") return "reject with tcp reset";
      const isDefault = s.type === defaultReject(family) && s.code === REJECT_PORT_UNREACH[s.type];
      if (isDefault) return "reject";
      const dt = s.type === "icmp" ? DT.icmpCode : s.type === "icmpv6" ? DT.icmpv6Code : DT.icmpxCode;
      return `reject with ${s.type} ${valueText(dt, BigInt(s.code), net, o)}`;
    }
    case "nat": {
      if (s.type === "masquerade") return "masquerade";
      const fam = family === "inet" ? (s.family === 4 ? " ip" : " ip6") : "";
      const addr = s.addr === null ? "" : s.family === 6 ? formatIpv6(s.addr) : formatIpv4(Number(s.addr));
      const port = s.port === null ? "" : `:${s.port}`;
      return `${s.type}${fam} to ${addr}${port}`;
    }
  }
}

/** Matches `meta X == v` with a single value; returns v. */
function depValue(s: NftStmt, pred: (sel: NftSelector) => boolean): number | null {
  if (s.kind !== "match" || s.op !== "==" || s.rhs.kind !== "value" || typeof s.rhs.value !== "bigint")
    return null;
  return pred(s.sel) ? Number(s.rhs.value) : null;
}

const isNfproto = (sel: NftSelector) =>
  sel.kind === "meta" && (sel.key === "nfproto" || sel.key === "protocol");
const isL4proto = (sel: NftSelector) => sel.kind === "meta" && sel.key === "l4proto";
const isIpProto = (sel: NftSelector) =>
  sel.kind === "payload" &&
  ((sel.proto === "ip" && sel.field === "protocol") || (sel.proto === "ip6" && sel.field === "nexthdr"));

function payloadOf(s: NftStmt): Extract<NftSelector, { kind: "payload" }> | null {
  if (s.kind === "match" && s.sel.kind === "payload") return s.sel;
  if (s.kind === "merged" && s.parts[0].sel.kind === "payload") return s.parts[0].sel;
  return null;
}

const L4_NUM: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

/**
 * Which statements print: protocol matches that only guard a later header match are left
 * out (payload_dependency_kill and meta_may_dependency_kill). Any statement that is not a
 * match forgets pending dependencies.
 */
export function visibleStmts(stmts: readonly NftStmt[], family: NftFamily): NftStmt[] {
  const killed = new Set<number>();
  let ll: number | null = null;
  let nw: number | null = null;
  const l3Of = (i: number): number | null => depValue(stmts[i], isNfproto);
  stmts.forEach((s, i) => {
    if (s.kind !== "match" && s.kind !== "merged") {
      ll = null;
      nw = null;
      return;
    }
    const nf = depValue(s, isNfproto);
    if (nf !== null) {
      ll = i;
      return;
    }
    const l4 = depValue(s, isL4proto);
    if (l4 !== null) {
      if (ll !== null) {
        const v = l3Of(ll);
        if ((v === 2 || v === 0x0800) && l4 === 1) killed.add(ll);
        if ((v === 10 || v === 0x86dd) && l4 === 58) killed.add(ll);
        if (killed.has(ll)) ll = null;
      }
      nw = i;
      return;
    }
    const pl = payloadOf(s);
    if (!pl) return;
    if (pl.base === "network") {
      if (ll !== null) {
        const v = l3Of(ll);
        const want = pl.proto === "ip" ? [2, 0x0800] : [10, 0x86dd];
        if (v !== null && want.includes(v)) {
          killed.add(ll);
          ll = null;
        }
      }
      if ((family === "ip" || family === "ip6") && depValue(s, isIpProto) !== null) nw = i;
      return;
    }
    if (nw !== null) {
      const v = depValue(stmts[nw], isL4proto) ?? depValue(stmts[nw], isIpProto);
      if (v === L4_NUM[pl.proto]) {
        killed.add(nw);
        nw = null;
      }
    }
  });
  return stmts.filter((_, i) => !killed.has(i));
}

/** A rule line without indentation. */
export function ruleText(r: NftRule, family: NftFamily, net: NetNamespace, o: PrintOpts): string {
  const parts = visibleStmts(r.stmts, family).map((s) => stmtText(s, family, net, o));
  if (r.comment !== null) parts.push(`comment "${r.comment}"`);
  let line = parts.join(" ");
  if (o.handles) line += ` # handle ${r.handle}`;
  return line;
}

function chainHeader(c: NftChain, o: PrintOpts): string {
  return `\tchain ${c.name} {${o.handles ? ` # handle ${c.handle}` : ""}\n`;
}

function baseLine(t: NftTable, c: NftChain, o: PrintOpts): string {
  if (!c.base) return "";
  const b = c.base;
  const dev = b.device !== null ? ` device "${b.device}"` : "";
  const prio = priorityText(t.family, b.hook, b.priority, o.numeric || o.numericPrio === true);
  return `\t\ttype ${b.type} hook ${b.hook}${dev} priority ${prio}; policy ${c.policy};\n`;
}

/** One chain with its rules, as inside `nft list table`. */
export function chainText(t: NftTable, c: NftChain, net: NetNamespace, o: PrintOpts): string {
  let s = chainHeader(c, o) + baseLine(t, c, o);
  for (const r of c.rules) s += `\t\t${ruleText(r, t.family, net, o)}\n`;
  return `${s}\t}\n`;
}

/** `table F N { ... }` with the given chains; `list chain` prints the table line without handle. */
export function tableText(
  t: NftTable,
  chains: readonly NftChain[],
  net: NetNamespace,
  o: PrintOpts,
  tableHandle = true,
): string {
  let s = `table ${t.family} ${t.name} {${o.handles && tableHandle ? ` # handle ${t.handle}` : ""}\n`;
  s += chains.map((c) => chainText(t, c, net, o)).join("\n");
  return `${s}}\n`;
}

/** `nft list chains` output for one table. */
export function tableChainsText(t: NftTable, o: PrintOpts): string {
  let s = `table ${t.family} ${t.name} {\n`;
  for (const c of t.chains) s += `${chainHeader(c, o)}${baseLine(t, c, o)}\t}\n`;
  return `${s}}\n`;
}
