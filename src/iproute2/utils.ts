/**
 * The helpers every `ip` object shares, as iproute2's lib/utils.c has them: prefix keyword
 * matching, number and address parsing with the same acceptance rules (strtol/strtoul), and the
 * standard complaints (invarg, duparg, incomplete_command ...) with their exit codes.
 */
import type { Kernel, NetNamespace } from "../kernel/index.ts";

/** What `ip` runs against: the kernel, the caller's namespace, its arguments and its output. */
export interface IpToolContext {
  readonly kernel: Kernel;
  readonly net: NetNamespace;
  /** Arguments after "ip". */
  readonly argv: readonly string[];
  readonly stdin: Uint8Array;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

/** Thrown to end the program with an exit status (after the message was printed). */
export class IpExit extends Error {
  /** Exit status (0..255). */
  readonly status: number;

  constructor(status: number) {
    super(`ip exited with ${status}`);
    this.name = "IpExit";
    this.status = status & 255;
  }
}

/** matches(): true when `arg` is a non-empty prefix of `keyword` (iproute2's `matches(arg, kw) == 0`). */
export function matches(arg: string, keyword: string): boolean {
  return arg.length > 0 && keyword.startsWith(arg);
}

/** A cursor over the arguments, with NEXT_ARG semantics. */
export class Args {
  readonly #argv: readonly string[];
  readonly #err: (s: string) => void;
  #i = 0;

  constructor(argv: readonly string[], err: (s: string) => void) {
    this.#argv = argv;
    this.#err = err;
  }

  /** Arguments left (argc). */
  get left(): number {
    return this.#argv.length - this.#i;
  }

  /** The current argument (*argv). */
  get cur(): string {
    return this.#argv[this.#i] ?? "";
  }

  /** The remaining arguments from the current one. */
  rest(): string[] {
    return this.#argv.slice(this.#i);
  }

  /** argc--, argv++. */
  shift(): void {
    this.#i++;
  }

  /** PREV_ARG. */
  back(): void {
    this.#i--;
  }

  /** NEXT_ARG(): move on, or complain that the command line is incomplete (exit 255). */
  next(): string {
    this.#i++;
    if (this.#i >= this.#argv.length) incompleteCommand(this.#err);
    return this.cur;
  }

  /** NEXT_ARG_OK(). */
  nextOk(): boolean {
    return this.#i + 1 < this.#argv.length;
  }
}

/** incomplete_command(). */
export function incompleteCommand(err: (s: string) => void): never {
  err('Command line is not complete. Try option "help"\n');
  throw new IpExit(255);
}

/** invarg(): `Error: argument "ARG" is wrong: MSG`, exit 255. */
export function invarg(err: (s: string) => void, msg: string, arg: string): never {
  err(`Error: argument "${arg}" is wrong: ${msg}\n`);
  throw new IpExit(255);
}

/** duparg(). */
export function duparg(err: (s: string) => void, key: string, arg: string): never {
  err(`Error: duplicate "${key}": "${arg}" is the second value.\n`);
  throw new IpExit(255);
}

/** duparg2(). */
export function duparg2(err: (s: string) => void, key: string, arg: string): never {
  err(`Error: either "${key}" is duplicate, or "${arg}" is a garbage.\n`);
  throw new IpExit(255);
}

/** missarg(). */
export function missarg(err: (s: string) => void, key: string): never {
  err(`Error: argument "${key}" is required\n`);
  throw new IpExit(255);
}

/** nodev(): `Cannot find device "X"`, exit 1. */
export function nodev(err: (s: string) => void, dev: string): never {
  err(`Cannot find device "${dev}"\n`);
  throw new IpExit(1);
}

/**
 * strtoul/strtol with base 0 over the whole string, as get_unsigned/get_integer use them:
 * leading blanks and a sign allowed, 0x for hex, a leading 0 for octal. Returns null when the
 * string is not entirely a number.
 */
export function parseCNumber(text: string, base = 0): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(.*)$/s.exec(text);
  if (!m) return null;
  const neg = m[1] === "-";
  let body = m[2]!;
  let b = base;
  if ((b === 0 || b === 16) && /^0[xX][0-9a-fA-F]/.test(body)) {
    body = body.slice(2);
    b = 16;
  } else if (b === 0) b = body.startsWith("0") ? 8 : 10;
  const digits = b === 16 ? /^[0-9a-fA-F]+$/ : b === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(body)) return null;
  let v = 0n;
  for (const c of body) v = v * BigInt(b) + BigInt(Number.parseInt(c, 16));
  return neg ? -v : v;
}

/** get_unsigned / get_u32: an unsigned 32-bit value (strtoul: "-1" wraps and is refused). */
export function getU32(text: string, base = 0): number | null {
  const v = parseCNumber(text, base);
  if (v === null || v < 0n || v > 0xffffffffn) return null;
  return Number(v);
}

/** get_integer: a signed int (strtol then an INT_MIN..INT_MAX check). */
export function getInteger(text: string, base = 0): number | null {
  const v = parseCNumber(text, base);
  if (v === null || v < -0x80000000n || v > 0x7fffffffn) return null;
  return Number(v);
}

/** get_u8 / get_u16 with their bounds. */
export function getUnsignedMax(text: string, max: number, base = 0): number | null {
  const v = parseCNumber(text, base);
  if (v === null || v < 0n || v > BigInt(max)) return null;
  return Number(v);
}

/**
 * ll_addr_a2n: colon-separated hex bytes ("02:00:00:00:00:01"); each part is read as sscanf %x
 * (leading 0x allowed, trailing garbage ignored) and must be ≤ 255. Returns the bytes, or null
 * after printing `"PART" is invalid lladdr.`.
 */
export function llAddrA2n(err: (s: string) => void, text: string, max = 32): Uint8Array | null {
  const out: number[] = [];
  let rest = text;
  for (let i = 0; i < max; i++) {
    const colon = rest.indexOf(":");
    const part = colon >= 0 ? rest.slice(0, colon) : rest;
    const m = /^\s*(?:0[xX])?([0-9a-fA-F]+)/.exec(part);
    const v = m ? Number.parseInt(m[1]!.slice(-9), 16) : Number.NaN;
    if (!m || Number.isNaN(v) || v > 255 || m[1]!.replace(/^0+/, "").length > 8) {
      err(`"${part}" is invalid lladdr.\n`);
      return null;
    }
    out.push(v);
    if (colon < 0) break;
    rest = rest.slice(colon + 1);
  }
  return Uint8Array.from(out);
}

/** ll_addr_n2a for Ethernet-like addresses: lower-case hex bytes joined by colons. */
export function llAddrN2a(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** A MacAddr number as bytes. */
export function macBytes(mac: number, len = 6): Uint8Array {
  const out = new Uint8Array(len);
  let v = mac;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** check_ifname: length < 16, not "." or "..", no '/' or blanks (':' is left to the kernel). */
export function checkIfname(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) >= 16) return false;
  if (name === "." || name === "..") return false;
  return !/[/\s]/.test(name);
}

/** Looks a device up by name in a namespace (ll_name_to_index); also accepts "ifN" for an index. */
export function lookupDev(net: NetNamespace, name: string) {
  const d = net.dev(name);
  if (d) return d;
  const m = /^if(\d+)$/.exec(name);
  if (m) return net.devices.get(Number(m[1]));
  return undefined;
}
