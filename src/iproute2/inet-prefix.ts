/** get_prefix / get_addr (lib/utils.c): IPv4/IPv6 text to an address with family and length. */
import { parseIpv4, parseIpv6 } from "../wire/index.ts";
import { IpExit } from "./utils.ts";
import { AF } from "./options.ts";

/** An inet_prefix: the family, the value, the prefix length and whether one was written. */
export interface InetPrefix {
  /** 0 only for "default"/"any"/"all" parsed without a family. */
  readonly family: 0 | 2 | 10;
  readonly v4: number;
  readonly v6: bigint;
  readonly bitlen: number;
  readonly lenGiven: boolean;
}

/** get_addr_ipv4: dotted quads, with missing trailing parts allowed ("10" → 10.0.0.0). */
function parseV4Loose(text: string): number | null {
  if (!/^\d+(\.\d+){0,3}$/.test(text)) return null;
  const parts = text.split(".").map(Number);
  if (parts.some((p) => p > 255)) return null;
  while (parts.length < 4) parts.push(0);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function familyVerbose(family: number): string {
  return family === AF.INET ? "inet" : family === AF.INET6 ? "inet6" : "any valid";
}

/** Parses ADDR[/LEN] for `family` (0 = guess); null when invalid. */
export function parsePrefix(text: string, family: number, allowLen = true): InetPrefix | null {
  if (allowLen && (text === "default" || text === "any" || text === "all")) {
    if (family === AF.MPLS) return null;
    const fam = family === AF.INET || family === AF.INET6 ? family : 0;
    return { family: fam, v4: 0, v6: 0n, bitlen: 0, lenGiven: true };
  }
  const slash = text.indexOf("/");
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const lenText = slash >= 0 ? text.slice(slash + 1) : null;
  if (slash >= 0 && !allowLen) return null;
  const isV6 = addrText.includes(":");
  if ((isV6 && family === AF.INET) || (!isV6 && family === AF.INET6)) return null;
  let v4 = 0;
  let v6 = 0n;
  if (isV6) {
    try {
      v6 = parseIpv6(addrText);
    } catch {
      return null;
    }
  } else {
    const v = parseV4Loose(addrText);
    if (v === null) {
      try {
        v4 = parseIpv4(addrText);
      } catch {
        return null;
      }
    } else v4 = v;
  }
  const max = isV6 ? 128 : 32;
  let bitlen = max;
  if (lenText !== null) {
    if (!/^\d+$/.test(lenText)) return null;
    bitlen = Number(lenText);
    if (bitlen > max) return null;
  }
  return { family: isV6 ? AF.INET6 : AF.INET, v4, v6, bitlen, lenGiven: lenText !== null };
}

/** get_prefix: prints `Error: FAMILY prefix is expected rather than "X".` and exits 1 on failure. */
export function getPrefix(err: (s: string) => void, text: string, family: number): InetPrefix {
  const p = parsePrefix(text, family);
  if (p === null) {
    err(`Error: ${familyVerbose(family)} prefix is expected rather than "${text}".\n`);
    throw new IpExit(1);
  }
  return p;
}

/** get_addr: like get_prefix without a length. */
export function getAddr(err: (s: string) => void, text: string, family: number): InetPrefix {
  const p = parsePrefix(text, family, false);
  if (p === null) {
    err(`Error: ${familyVerbose(family)} address is expected rather than "${text}".\n`);
    throw new IpExit(1);
  }
  return p;
}
