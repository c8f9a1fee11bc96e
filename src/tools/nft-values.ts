/**
 * Values of nft datatypes on input (datatype.c parse functions): numbers, symbols, addresses,
 * prefixes (`a/len`, host bits cleared), ranges (`a-b`) and anonymous set contents, with the
 * error messages nft prints for each kind of bad value.
 */
import type { NetNamespace, NftSetElem, NftValue } from "../kernel/index.ts";
import { parseIpv4, parseIpv6 } from "../wire/index.ts";
import { type Datatype, symbolValue } from "./nft-datatypes.ts";
import { NftSyntaxError, type Span, type Token } from "./nft-lexer.ts";

/** Sorts, de-duplicates and merges overlapping intervals, as nft does for anonymous sets. */
export function normaliseSet(elems: readonly NftSetElem[], dt: Datatype): NftSetElem[] {
  if (dt.kind === "string") {
    const seen = new Set<string>();
    return elems.filter((e) => e.kind === "value" && !seen.has(String(e.value)) && seen.add(String(e.value)));
  }
  const width = BigInt(dt.width);
  const ranges = elems.map((e): [bigint, bigint] => {
    if (e.kind === "range") return [e.lo, e.hi];
    if (e.kind === "prefix") {
      const host = (1n << (width - BigInt(e.len))) - 1n;
      return [e.value, e.value | host];
    }
    return [e.value as bigint, e.value as bigint];
  });
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const merged: [bigint, bigint][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) {
      if (r[1] > last[1]) last[1] = r[1];
    } else {
      merged.push([r[0], r[1]]);
    }
  }
  const isAddr = dt.kind === "ipv4" || dt.kind === "ipv6";
  return merged.map(([lo, hi]): NftSetElem => {
    if (lo === hi) return { kind: "value", value: lo };
    if (isAddr) {
      const size = hi - lo + 1n;
      if ((size & (size - 1n)) === 0n && (lo & (size - 1n)) === 0n) {
        let bits = 0;
        while (1n << BigInt(bits) < size) bits++;
        return { kind: "prefix", value: lo, len: dt.width - bits };
      }
    }
    return { kind: "range", lo, hi };
  });
}

export function elemValue(dt: Datatype, t: Token, net: NetNamespace): bigint {
  const v = scalar(dt, t.text, t, net);
  if (typeof v !== "bigint") throw new NftSyntaxError("Could not parse value", t);
  return v;
}

/** One value, prefix (`a/len`) or range (`a-b`) word. */
export function parseElem(dt: Datatype, t: Token, net: NetNamespace): NftSetElem {
  const text = t.text;
  if (dt.kind === "string" || t.kind === "string") return { kind: "value", value: scalar(dt, text, t, net) };
  const whole = tryScalar(dt, text, net);
  if (typeof whole !== "string") return { kind: "value", value: whole.v };
  const slash = text.indexOf("/");
  if (slash > 0 && (dt.kind === "ipv4" || dt.kind === "ipv6" || dt.kind === "integer")) {
    const addr = tryScalar(dt, text.slice(0, slash), net);
    const lenText = text.slice(slash + 1);
    if (typeof addr !== "string" && /^\d+$/.test(lenText) && typeof addr.v === "bigint") {
      const len = Number(lenText);
      if (len > dt.width) {
        throw new NftSyntaxError(`Prefix length ${len} is invalid for type of ${dt.width} bits width`, t);
      }
      if (len === dt.width) return { kind: "value", value: addr.v };
      const w = BigInt(dt.width);
      const mask = ((1n << w) - 1n) ^ ((1n << (w - BigInt(len))) - 1n);
      return { kind: "prefix", value: addr.v & mask, len };
    }
  }
  for (let i = text.indexOf("-", 1); i > 0; i = text.indexOf("-", i + 1)) {
    const lo = tryScalar(dt, text.slice(0, i), net);
    const hi = tryScalar(dt, text.slice(i + 1), net);
    if (typeof lo === "string" || typeof hi === "string") continue;
    if (typeof lo.v !== "bigint" || typeof hi.v !== "bigint") continue;
    if (lo.v > hi.v) throw new NftSyntaxError("Range has zero or negative size", t);
    return { kind: "range", lo: lo.v, hi: hi.v };
  }
  throw new NftSyntaxError(whole, t);
}

export function scalar(dt: Datatype, text: string, t: Span, net: NetNamespace): NftValue {
  const r = tryScalar(dt, text, net);
  if (typeof r === "string") throw new NftSyntaxError(r, t);
  return r.v;
}

function parseNumber(text: string): bigint | null {
  if (/^\d+$/.test(text)) return BigInt(text);
  if (/^0x[0-9a-f]+$/i.test(text)) return BigInt(text);
  return null;
}

/** Parses one scalar of a datatype; a string result is the error message. */
export function tryScalar(dt: Datatype, text: string, net: NetNamespace): { v: NftValue } | string {
  const max = dt.width > 0 ? (1n << BigInt(dt.width)) - 1n : 0n;
  const ranged = (v: bigint): { v: NftValue } | string =>
    v > max ? `Value ${v} exceeds valid range 0-${max}` : { v };
  switch (dt.kind) {
    case "string":
      return { v: text };
    case "ipv4":
      try {
        return { v: BigInt(parseIpv4(text)) };
      } catch {
        return "Could not resolve hostname: Name or service not known";
      }
    case "ipv6":
      try {
        return { v: parseIpv6(text) };
      } catch {
        return "Could not resolve hostname: Name or service not known";
      }
    case "integer": {
      const n = parseNumber(text);
      return n === null ? "Could not parse integer" : ranged(n);
    }
    case "mark": {
      const n = parseNumber(text);
      return n === null ? (dt.badSymbol ?? "Could not parse mark") : ranged(n);
    }
    case "ifindex": {
      const dev = net.dev(text);
      if (dev) return { v: BigInt(dev.ifindex) };
      const n = parseNumber(text);
      return n === null ? "Interface does not exist" : ranged(n);
    }
    default: {
      const n = parseNumber(text);
      if (n !== null) {
        if (dt.name === "inet_service" && n > max) return "Service out of range";
        return ranged(n);
      }
      const s = symbolValue(dt, text);
      if (s !== undefined) return { v: BigInt(s) };
      return dt.badSymbol ?? `Could not parse ${dt.name}`;
    }
  }
}
