/**
 * Helpers shared by the tcpdump printers: bounds-checked reads that end a layer's output with
 * tcpdump's `[|proto]` marker, address text, and the two hex dump layouts tcpdump uses.
 */
import { formatIpv4, formatIpv6, formatMac, readIpv6 } from "../wire/index.ts";

/** Thrown when a printer reads past the captured bytes; caught where `[|proto]` is printed. */
export class Truncated extends Error {
  constructor() {
    super("truncated");
  }
}

const TRUNC = new Truncated();

/** The captured bytes of one frame with bounds-checked big-endian reads. */
export class Bytes {
  readonly data: Uint8Array;

  constructor(data: Uint8Array) {
    this.data = data;
  }

  get length(): number {
    return this.data.length;
  }

  /** Throws Truncated unless [off, off+n) is captured. */
  need(off: number, n: number): void {
    if (off < 0 || off + n > this.data.length) throw TRUNC;
  }

  u8(off: number): number {
    this.need(off, 1);
    return this.data[off]!;
  }

  u16(off: number): number {
    this.need(off, 2);
    return (this.data[off]! << 8) | this.data[off + 1]!;
  }

  u32(off: number): number {
    this.need(off, 4);
    return (
      ((this.data[off]! << 24) >>> 0) +
      ((this.data[off + 1]! << 16) | (this.data[off + 2]! << 8) | this.data[off + 3]!)
    );
  }

  mac(off: number): string {
    this.need(off, 6);
    let m = 0;
    for (let i = 0; i < 6; i++) m = m * 256 + this.data[off + i]!;
    return formatMac(m);
  }

  ip4(off: number): string {
    return formatIpv4(this.u32(off));
  }

  ip6(off: number): string {
    this.need(off, 16);
    return formatIpv6(readIpv6(this.data, off));
  }

  isZero(off: number, n: number): boolean {
    this.need(off, n);
    for (let i = 0; i < n; i++) if (this.data[off + i] !== 0) return false;
    return true;
  }
}

/** Runs a printer; on truncation appends ` [|name]` to what it printed so far. */
export function guarded(name: string, parts: string[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Truncated)) throw e;
    parts.push(` [|${name}]`);
  }
}

function hexGroups(data: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 2) {
    s += ` ${data[i]!.toString(16).padStart(2, "0")}`;
    if (i + 1 < end) s += data[i + 1]!.toString(16).padStart(2, "0");
  }
  return s;
}

/** tcpdump's hex_and_ascii_print: "\n\t0x0000:  xxxx xxxx ...  ascii" lines, 16 bytes each. */
export function hexAndAscii(data: Uint8Array, start = 0, end = data.length): string {
  let out = "";
  for (let off = start; off < end; off += 16) {
    const stop = Math.min(end, off + 16);
    const hex = hexGroups(data, off, stop);
    let ascii = "";
    for (let i = off; i < stop; i++) {
      const c = data[i]!;
      ascii += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : ".";
    }
    out += `\n\t0x${(off - start).toString(16).padStart(4, "0")}: ${hex.padEnd(40, " ")}  ${ascii}`;
  }
  return out;
}

/** tcpdump's hex_print: the same lines without the ASCII column. */
export function hexOnly(data: Uint8Array, start = 0, end = data.length): string {
  let out = "";
  for (let off = start; off < end; off += 16) {
    out += `\n\t0x${(off - start).toString(16).padStart(4, "0")}: ${hexGroups(data, off, Math.min(end, off + 16))}`;
  }
  return out;
}

/** IP protocol names from /etc/protocols, used when names are not suppressed (no -n). */
export const PROTO_NAMES: Readonly<Record<number, string>> = {
  0: "ip",
  1: "icmp",
  2: "igmp",
  4: "ipencap",
  6: "tcp",
  17: "udp",
  41: "ipv6",
  43: "ipv6-route",
  44: "ipv6-frag",
  47: "gre",
  50: "esp",
  51: "ah",
  58: "ipv6-icmp",
  59: "ipv6-nonxt",
  60: "ipv6-opts",
  89: "ospf",
  103: "pim",
  112: "vrrp",
  132: "sctp",
  136: "udplite",
  253: "exptest-253",
  254: "exptest-254",
};

/** /etc/services names for port numbers (no -n). */
export const SERVICE_NAMES: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  tcp: {
    21: "ftp",
    22: "ssh",
    23: "telnet",
    25: "smtp",
    53: "domain",
    80: "http",
    443: "https",
    8080: "http-alt",
  },
  udp: {
    9: "discard",
    53: "domain",
    67: "bootps",
    68: "bootpc",
    69: "tftp",
    123: "ntp",
    161: "snmp",
    514: "syslog",
    5353: "mdns",
  },
};

/** Time stamp formats: -t (none), default, -tt, -ttt, -tttt, -ttttt. */
export type StampMode = "none" | "default" | "epoch" | "delta" | "date" | "since-first";

/** Formats packet time stamps (UTC; the simulation has no time zone). */
export class Stamper {
  readonly #mode: StampMode;
  #prev: bigint | null = null;
  #first: bigint | null = null;

  constructor(mode: StampMode) {
    this.#mode = mode;
  }

  /** The prefix for a packet at `ns` nanoseconds since the epoch ("" for -t). */
  stamp(ns: bigint): string {
    const usec = ns / 1000n;
    const sec = usec / 1_000_000n;
    const frac = (usec % 1_000_000n).toString().padStart(6, "0");
    const p2 = (n: bigint) => n.toString().padStart(2, "0");
    const hms = (s: bigint) => `${p2((s / 3600n) % 24n)}:${p2((s / 60n) % 60n)}:${p2(s % 60n)}`;
    const delta = (from: bigint) => {
      const d = usec - from;
      const neg = d < 0n;
      const a = neg ? -d : d;
      return `${neg ? "-" : " "}${p2(a / 3_600_000_000n)}:${p2((a / 60_000_000n) % 60n)}:${p2((a / 1_000_000n) % 60n)}.${(a % 1_000_000n).toString().padStart(6, "0")} `;
    };
    switch (this.#mode) {
      case "none":
        return "";
      case "epoch":
        return `${sec}.${frac} `;
      case "delta": {
        const s = delta(this.#prev ?? usec);
        this.#prev = usec;
        return s;
      }
      case "since-first": {
        this.#first ??= usec;
        return delta(this.#first);
      }
      case "date": {
        const d = new Date(Number(sec) * 1000);
        const ymd = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}-${String(d.getUTCDate()).padStart(2, "0")}`;
        return `${ymd} ${hms(sec)}.${frac} `;
      }
      default:
        return `${hms(sec)}.${frac} `;
    }
  }
}
