/**
 * `nft -j list ...` (src/json.c of nftables 1.0.6): the ruleset as one JSON document, objects in
 * dump order (per table: the table, its chains, then the rules of each chain).
 */
import type {
  NetNamespace,
  NftChain,
  NftFamily,
  NftRhs,
  NftRule,
  NftSelector,
  NftSetElem,
  NftStmt,
  NftTable,
  NftValue,
} from "../kernel/index.ts";
import { formatIpv4, formatIpv6 } from "../wire/index.ts";
import { type Datatype, DT, LOG_LEVELS, symbolName } from "./nft-datatypes.ts";
import { selectorType, visibleStmts } from "./nft-print.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The metainfo object nft puts first. */
export const NFT_JSON_METAINFO: Json = {
  metainfo: { version: "1.0.6", release_name: "Lester Gooch #5", json_schema_version: 1 },
};

/** Serialises like jansson with nft's flags (", " and ": " separators, no newline). */
export function jsonText(v: Json): string {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v)) return `[${v.map(jsonText).join(", ")}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${JSON.stringify(k)}: ${jsonText(x)}`)
    .join(", ")}}`;
}

function value(dt: Datatype, v: NftValue, net: NetNamespace): Json {
  if (typeof v === "string") return v;
  switch (dt.kind) {
    case "ipv4":
      return formatIpv4(Number(v));
    case "ipv6":
      return formatIpv6(v);
    case "ifindex": {
      const dev = [...net.devices.values()].find((d) => BigInt(d.ifindex) === v);
      return dev ? dev.name : Number(v);
    }
    case "symbol": {
      if (dt.printSymbols === false) return Number(v);
      return symbolName(dt, Number(v)) ?? Number(v);
    }
    case "bitmask": {
      const names = bits(dt, v);
      return names.length === 1 ? names[0] : names;
    }
    default:
      return Number(v);
  }
}

function bits(dt: Datatype, v: bigint): Json[] {
  const out: Json[] = [];
  for (const [name, bit] of dt.symbols ?? []) if (v & BigInt(bit)) out.push(name);
  return out;
}

function elem(dt: Datatype, e: NftSetElem, net: NetNamespace): Json {
  switch (e.kind) {
    case "value":
      return value(dt, e.value, net);
    case "prefix":
      return { prefix: { addr: value(dt, e.value, net), len: e.len } };
    case "range":
      return { range: [value(dt, e.lo, net), value(dt, e.hi, net)] };
  }
}

function rhs(dt: Datatype, r: NftRhs, net: NetNamespace): Json {
  if (r.kind === "set") return { set: r.elems.map((e) => elem(dt, e, net)) };
  if (r.kind === "flags") return value(dt, r.mask, net);
  return elem(dt, r, net);
}

function selector(sel: NftSelector): Json {
  switch (sel.kind) {
    case "payload":
      return { payload: { protocol: sel.proto, field: sel.field } };
    case "meta":
      return { meta: { key: sel.key } };
    case "ct":
      return { ct: { key: sel.key } };
  }
}

function stmtJson(s: NftStmt, net: NetNamespace, family: NftFamily): Json[] {
  switch (s.kind) {
    case "match": {
      const op = s.rhs.kind === "flags" && s.op === "==" ? "in" : s.op;
      return [{ match: { op, left: selector(s.sel), right: rhs(selectorType(s.sel), s.rhs, net) } }];
    }
    case "merged":
      return s.parts.flatMap((m) => stmtJson(m, net, family));
    case "counter":
      return [{ counter: { packets: s.packets, bytes: s.bytes } }];
    case "verdict":
      return [{ [s.code]: s.chain !== null ? { target: s.chain } : null }];
    case "log": {
      const o: { [k: string]: Json } = {};
      if (s.prefix !== null) o.prefix = s.prefix;
      if (s.level !== null) o.level = LOG_LEVELS[s.level];
      return [{ log: Object.keys(o).length ? o : null }];
    }
    case "set":
      return [{ mangle: { key: selector(s.sel), value: Number(s.value) } }];
    case "reject": {
      if (s.type === "tcp reset") return [{ reject: { type: "tcp reset" } }];
      const dt = s.type === "icmp" ? DT.icmpCode : s.type === "icmpv6" ? DT.icmpv6Code : DT.icmpxCode;
      return [{ reject: { type: s.type, expr: symbolName(dt, s.code) ?? s.code } }];
    }
    case "nat": {
      if (s.type === "masquerade") return [{ masquerade: null }];
      const o: { [k: string]: Json } = {};
      if (s.family !== null && family === "inet") o.family = s.family === 4 ? "ip" : "ip6";
      if (s.addr !== null) o.addr = s.family === 6 ? formatIpv6(s.addr) : formatIpv4(Number(s.addr));
      if (s.port !== null) o.port = s.port;
      return [{ [s.type]: o }];
    }
  }
}

function tableJson(t: NftTable): Json {
  return { table: { family: t.family, name: t.name, handle: t.handle } };
}

function chainJson(t: NftTable, c: NftChain): Json {
  const o: { [k: string]: Json } = { family: t.family, table: t.name, name: c.name, handle: c.handle };
  if (c.base) {
    o.type = c.base.type;
    o.hook = c.base.hook;
    o.prio = c.base.priority;
    o.policy = c.policy;
  }
  return { chain: o };
}

function ruleJson(t: NftTable, c: NftChain, r: NftRule, net: NetNamespace): Json {
  const o: { [k: string]: Json } = { family: t.family, table: t.name, chain: c.name, handle: r.handle };
  if (r.comment !== null) o.comment = r.comment;
  o.expr = visibleStmts(r.stmts, t.family).flatMap((s) => stmtJson(s, net, t.family));
  return { rule: o };
}

/** The JSON objects of some tables (with chosen chains and whether rules are included). */
export function tablesJson(
  net: NetNamespace,
  tables: readonly NftTable[],
  opts: { withTable: boolean; chains?: (t: NftTable) => readonly NftChain[]; rules: boolean },
): string {
  const out: Json[] = [NFT_JSON_METAINFO];
  for (const t of tables) {
    if (opts.withTable) out.push(tableJson(t));
    const chains = opts.chains ? opts.chains(t) : t.chains;
    for (const c of chains) out.push(chainJson(t, c));
    if (opts.rules) for (const c of chains) for (const r of c.rules) out.push(ruleJson(t, c, r, net));
  }
  return `${jsonText({ nftables: out })}\n`;
}
