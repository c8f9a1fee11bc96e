/**
 * tcpdump 4.99's one-line text for ICMP, ICMPv6 (echo, neighbour discovery, MLD, errors) and
 * IGMP, without -v. Message texts are the ones tcpdump prints (recorded in
 * test/fixtures/tcpdump/*.txt).
 */
import { type Bytes, hexOnly, SERVICE_NAMES } from "./tcpdump-util.ts";

/** What the ICMP printers need from the caller. */
export interface IcmpContext {
  readonly b: Bytes;
  /** Offset of the ICMP header. */
  readonly off: number;
  /** ICMP message length (from the IP header). */
  readonly len: number;
  /** Names for ports (no -n). */
  readonly names: boolean;
}

const UNREACH4: Readonly<Record<number, string>> = {
  0: "net %s unreachable",
  1: "host %s unreachable",
  5: "%s unreachable - source route failed",
  6: "net %s unreachable - unknown",
  7: "host %s unreachable - unknown",
  8: "%s unreachable - source host isolated",
  9: "net %s unreachable - admin prohibited",
  10: "host %s unreachable - admin prohibited",
  11: "net %s unreachable - tos prohibited",
  12: "host %s unreachable - tos prohibited",
  13: "host %s unreachable - admin prohibited filter",
  14: "host %s unreachable - host precedence violation",
  15: "host %s unreachable - precedence cutoff",
};

const SIMPLE4: Readonly<Record<number, string>> = {
  4: "source quench",
  10: "router solicitation",
  15: "information request",
  16: "information reply",
  17: "address mask request",
};

function portName(proto: "tcp" | "udp", port: number, names: boolean): string {
  return (names && SERVICE_NAMES[proto]?.[port]) || String(port);
}

/** A duration in seconds the way tcpdump's unsigned_relts prints it ("0", "30m", "1h2m3s"). */
function relTime(secs: number): string {
  if (secs === 0) return "0";
  let out = "";
  let rest = secs;
  for (const [unit, n] of [
    ["y", 31536000],
    ["w", 604800],
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${unit}`;
      rest %= n;
    }
  }
  return out;
}

/** Milliseconds since midnight as tcpdump prints ICMP timestamps. */
function msTime(ms: number): string {
  const h = Math.floor(ms / 3600000) % 24;
  const m = Math.floor(ms / 60000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${p2(h)}:${p2(m)}:${p2(s)}.${String(ms % 1000).padStart(3, "0")}`;
}

/** The text after "ICMP " for an IPv4 ICMP message (including ", length N"). */
export function icmpText(c: IcmpContext): string {
  const { b, off } = c;
  const type = b.u8(off);
  const code = b.u8(off + 1);
  const tail = `, length ${c.len}`;
  switch (type) {
    case 0:
    case 8:
      return `echo ${type === 8 ? "request" : "reply"}, id ${b.u16(off + 4)}, seq ${b.u16(off + 6)}${tail}`;
    case 3: {
      const inner = off + 8;
      const dst = b.ip4(inner + 16);
      if (code === 2) return `${dst} protocol ${b.u8(inner + 9)} unreachable${tail}`;
      if (code === 3) {
        const proto = b.u8(inner + 9);
        const t = inner + (b.u8(inner) & 0x0f) * 4;
        const dport = b.u16(t + 2);
        if (proto === 6 || proto === 17) {
          const p = proto === 6 ? "tcp" : "udp";
          return `${dst} ${p} port ${portName(p, dport, c.names)} unreachable${tail}`;
        }
        return `${dst} protocol ${proto} port ${dport} unreachable${tail}`;
      }
      if (code === 4) {
        const mtu = b.u16(off + 6);
        return `${dst} unreachable - need to frag${mtu ? ` (mtu ${mtu})` : ""}${tail}`;
      }
      const fmt = UNREACH4[code];
      return `${fmt ? fmt.replace("%s", dst) : `${dst} unreachable - #${code}`}${tail}`;
    }
    case 5: {
      const dst = b.ip4(off + 8 + 16);
      const gw = b.ip4(off + 4);
      const kind = [
        "redirect %s to net %s",
        "redirect %s to host %s",
        "redirect-tos %s to net %s",
        "redirect-tos %s to host %s",
      ][code];
      return `${(kind ?? "redirect-#%s to %s").replace("%s", dst).replace("%s", gw)}${tail}`;
    }
    case 9: {
      const n = b.u8(off + 4);
      const size = b.u8(off + 5);
      let text = `router advertisement lifetime ${relTime(b.u16(off + 6))} ${n}: `;
      if (size !== 2) return `${text}[size ${size}]${tail}`;
      for (let i = 0; i < n; i++) text += `{${b.ip4(off + 8 + 8 * i)} ${b.u32(off + 12 + 8 * i)}}`;
      return `${text}${tail}`;
    }
    case 11:
      return `${code === 0 ? "time exceeded in-transit" : code === 1 ? "ip reassembly time exceeded" : `time exceeded-#${code}`}${tail}`;
    case 12:
      return `${code === 0 ? `parameter problem - octet ${b.u8(off + 4)}` : `parameter problem - code ${code}`}${tail}`;
    case 13:
      return `time stamp query id ${b.u16(off + 4)} seq ${b.u16(off + 6)}${tail}`;
    case 14:
      return `time stamp reply id ${b.u16(off + 4)} seq ${b.u16(off + 6)}: org ${msTime(b.u32(off + 8))}, recv ${msTime(b.u32(off + 12))}, xmit ${msTime(b.u32(off + 16))}${tail}`;
    case 18:
      return `address mask is 0x${b
        .u32(off + 8)
        .toString(16)
        .padStart(8, "0")}${tail}`;
    default: {
      const simple = SIMPLE4[type];
      return `${simple ?? `type-#${type}`}${tail}`;
    }
  }
}

const ICMP6_NAMES: Readonly<Record<number, string>> = {
  1: "destination unreachable",
  2: "packet too big",
  3: "time exceeded",
  4: "parameter problem",
  128: "echo request",
  129: "echo reply",
  130: "multicast listener query",
  131: "multicast listener report",
  132: "multicast listener done",
  133: "router solicitation",
  134: "router advertisement",
  135: "neighbor solicitation",
  136: "neighbor advertisement",
  137: "redirect",
  138: "router renumbering",
  139: "who-are-you request",
  140: "who-are-you reply",
  141: "inverse neighbor solicitation",
  142: "inverse neighbor advertisement",
  143: "multicast listener report v2",
  144: "ha discovery request",
  145: "ha discovery reply",
  146: "mobile router solicitation",
  147: "mobile router advertisement",
  151: "multicast router advertisement",
  152: "multicast router solicitation",
  153: "multicast router termination",
  200: "mtrace response",
  201: "mtrace",
};

const PARAMPROB6 = ["erroneous", "next header", "option", "incomplete header chain"];

/** The upper-layer header of a quoted IPv6 packet (skipping extension headers), or null. */
function quotedUpper(b: Bytes, ip: number, end: number): { proto: number; off: number } | null {
  let nh = b.u8(ip + 6);
  let off = ip + 40;
  for (let i = 0; i < 8 && off < end; i++) {
    if (nh === 0 || nh === 43 || nh === 60) {
      const next = b.u8(off);
      off += (b.u8(off + 1) + 1) * 8;
      nh = next;
    } else if (nh === 44) {
      nh = b.u8(off);
      off += 8;
    } else return { proto: nh, off };
  }
  return null;
}

/**
 * The text after "ICMP6, " for an ICMPv6 message. Messages tcpdump ends with a hex dump (unknown
 * codes and types) return it as part of the text.
 */
export function icmp6Text(c: IcmpContext): string {
  const { b, off } = c;
  const type = b.u8(off);
  const code = b.u8(off + 1);
  const tail = `, length ${c.len}`;
  const end = off + c.len;
  const name = ICMP6_NAMES[type];
  switch (type) {
    case 1: {
      const inner = off + 8;
      const dst = () => b.ip6(inner + 24);
      switch (code) {
        case 0:
          return `${name}, unreachable route ${dst()}${tail}`;
        case 1:
          return `${name},  unreachable prohibited ${dst()}${tail}`;
        case 2:
          return `${name}, beyond scope ${dst()}, source address ${b.ip6(inner + 8)}${tail}`;
        case 3:
          return `${name}, unreachable address ${dst()}${tail}`;
        case 4: {
          const up = quotedUpper(b, inner, Math.min(end, b.length));
          if (!up || (up.proto !== 6 && up.proto !== 17)) return `${name}, unreachable port [|icmp6]`;
          const p = up.proto === 6 ? "tcp" : "udp";
          return `${name}, unreachable port, ${dst()} ${p} port ${portName(p, b.u16(up.off + 2), c.names)}${tail}`;
        }
        default:
          return `${name}, unknown unreach code (${code})${hexOnly(b.data, off, Math.min(end, b.length))}`;
      }
    }
    case 2:
      return `${name}, mtu ${b.u32(off + 4)}${tail}`;
    case 3:
      if (code === 0) return `${name} in-transit for ${b.ip6(off + 8 + 24)}${tail}`;
      if (code === 1) return `${name} in-transit (reassembly)${tail}`;
      return `${name}: unknown code (${code})${tail}`;
    case 4:
      return `${name}, ${PARAMPROB6[code] ?? `code-#${code}`} - octet ${b.u32(off + 4)}${tail}`;
    case 128:
    case 129:
      return `${name}, id ${b.u16(off + 4)}, seq ${b.u16(off + 6)}${tail}`;
    case 130:
      if (c.len >= 28) {
        const n = b.u16(off + 26);
        return `multicast listener query v2 [gaddr ${b.ip6(off + 8)}${n ? `, ${n} source(s)` : ""}]${tail}`;
      }
      return `${name}max resp delay: ${b.u16(off + 4)} addr: ${b.ip6(off + 8)}${tail}`;
    case 131:
    case 132:
      return `${name}max resp delay: ${b.u16(off + 4)} addr: ${b.ip6(off + 8)}${tail}`;
    case 133:
    case 134:
      return `${name}${tail}`;
    case 135:
      return `${name}, who has ${b.ip6(off + 8)}${tail}`;
    case 136:
      return `${name}, tgt is ${b.ip6(off + 8)}${tail}`;
    case 137:
      return `${name}, ${b.ip6(off + 24)} to ${b.ip6(off + 8)}${tail}`;
    case 143:
      return `${name}, ${b.u16(off + 6)} group record(s)${tail}`;
    default:
      if (name === undefined) return `unknown icmp6 type (${type})${tail}`;
      return `${name}${tail}${hexOnly(b.data, off, Math.min(end, b.length))}`;
  }
}

/** The text for an IGMP message (after "src > dst: "). */
export function igmpText(b: Bytes, off: number, len: number): string {
  const type = b.u8(off);
  switch (type) {
    case 0x11: {
      const mrc = b.u8(off + 1);
      const group = b.u32(off + 4);
      const gaddr = group ? ` [gaddr ${b.ip4(off + 4)}]` : "";
      if (len >= 12) return `igmp query v3${mrc ? ` [max resp time ${mrc}]` : ""}${gaddr}`;
      if (mrc === 0) return `igmp query v1${gaddr}`;
      return `igmp query v2${mrc !== 100 ? ` [max resp time ${mrc}]` : ""}${gaddr}`;
    }
    case 0x12:
      return `igmp v1 report ${b.ip4(off + 4)}`;
    case 0x16:
      return `igmp v2 report ${b.ip4(off + 4)}`;
    case 0x17:
      return `igmp leave ${b.ip4(off + 4)}`;
    case 0x22:
      return `igmp v3 report, ${b.u16(off + 6)} group record(s)`;
    default:
      return `igmp-${type}`;
  }
}
