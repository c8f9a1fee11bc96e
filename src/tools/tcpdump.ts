/**
 * The `tcpdump` command (tcpdump 4.99.3 / libpcap 1.10.3) on the simulated kernel: live
 * capture on a device of the caller's namespace through a packet tap (promiscuous unless -p),
 * printed or written with -w (pcap, virtual-time stamps); -r reads a capture file. The filter
 * expression is compiled by pcap-filter.ts, packets are printed by tcpdump-print.ts.
 *
 * A live capture registers its tap, creates its -w file, then calls `detach()` so the script
 * goes on; it ends on a signal (or the end of the run) or after -c packets, printing the
 * "packets captured" statistics to stderr as tcpdump does.
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { ARPHRD, devSetPromiscuity, type NetDevice, type PacketTap, type SkBuff } from "../kernel/index.ts";
import {
  type CapturedPacket,
  isPcapng,
  LINKTYPE_ETHERNET,
  PCAP_DEFAULT_SNAPLEN,
  PcapWriter,
  readPcap,
  readPcapng,
} from "../wire/index.ts";
import type { ToolContext } from "./context.ts";
import { compileFilter, type FilterFn, FilterError } from "./pcap-filter.ts";
import { PacketPrinter } from "./tcpdump-print.ts";
import { Stamper, type StampMode } from "./tcpdump-util.ts";

/** LINKTYPE_RAW (devices without a link-layer header, such as tun). */
const LINKTYPE_RAW = 101;

const LINKTYPE_TEXT: Readonly<Record<number, string>> = {
  [LINKTYPE_ETHERNET]: "EN10MB (Ethernet)",
  [LINKTYPE_RAW]: "RAW (Raw IP)",
};

const USAGE = `tcpdump version 4.99.3
libpcap version 1.10.3 (with TPACKET_V3)
OpenSSL 3.0.19 27 Jan 2026
Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]
\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]
\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]
\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]
\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]
\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]
\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]
`;

const STAMP_MODES: readonly StampMode[] = ["default", "none", "epoch", "delta", "date", "since-first"];

interface Options {
  iface: string | null;
  read: string | null;
  write: string | null;
  count: number;
  link: boolean;
  numeric: number;
  stamp: number;
  verbose: number;
  absoluteSeq: boolean;
  promisc: boolean;
  direction: "in" | "out" | "inout";
  snaplen: number;
  filterFile: string | null;
  number: boolean;
  expression: string[];
}

/** Options that take an argument (short form). */
const WITH_ARG = new Set([
  "i",
  "w",
  "r",
  "c",
  "s",
  "Q",
  "F",
  "B",
  "y",
  "Z",
  "j",
  "T",
  "C",
  "G",
  "W",
  "E",
  "M",
  "V",
  "z",
]);
const LONG_ARGS: Readonly<Record<string, string>> = {
  interface: "i",
  count: "c",
  "snapshot-length": "s",
  direction: "Q",
  "buffer-size": "B",
  linktype: "y",
  "relinquish-privileges": "Z",
};

function parseArgs(ctx: ToolContext, argv: readonly string[]): Options | number {
  const o: Options = {
    iface: null,
    read: null,
    write: null,
    count: 0,
    link: false,
    numeric: 0,
    stamp: 0,
    verbose: 0,
    absoluteSeq: false,
    promisc: true,
    direction: "inout",
    snaplen: PCAP_DEFAULT_SNAPLEN,
    filterFile: null,
    number: false,
    expression: [],
  };
  const apply = (c: string, arg: string): number | null => {
    switch (c) {
      case "i":
        o.iface = arg;
        break;
      case "w":
        o.write = arg;
        break;
      case "r":
        o.read = arg;
        break;
      case "c": {
        const n = Number(arg);
        if (!/^\d+$/.test(arg) || n <= 0) {
          ctx.err(`tcpdump: invalid packet count ${arg}\n`);
          return 1;
        }
        o.count = n;
        break;
      }
      case "s": {
        const n = Number(arg);
        if (!/^\d+$/.test(arg)) {
          ctx.err(`tcpdump: invalid snaplen ${arg}\n`);
          return 1;
        }
        o.snaplen = n === 0 ? PCAP_DEFAULT_SNAPLEN : n;
        break;
      }
      case "Q":
        if (arg !== "in" && arg !== "out" && arg !== "inout") {
          ctx.err(`tcpdump: unknown capture direction '${arg}'\n`);
          return 1;
        }
        o.direction = arg;
        break;
      case "F":
        o.filterFile = arg;
        break;
      default:
        // -B -y -Z -j -T ...: accepted and ignored
        break;
    }
    return null;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
      if (name === "immediate-mode" || name === "packet-buffered" || name === "print" || name === "micro")
        continue;
      if (name === "number") {
        o.number = true;
        continue;
      }
      if (name === "version") {
        ctx.out(USAGE.split("Usage")[0]!);
        return 0;
      }
      if (name === "help") {
        ctx.out(USAGE);
        return 0;
      }
      const short = LONG_ARGS[name];
      if (short === undefined) {
        ctx.err(`tcpdump: unrecognized option '${a}'\n${USAGE}`);
        return 1;
      }
      const arg = inline ?? argv[++i];
      if (arg === undefined) {
        ctx.err(`tcpdump: option '--${name}' requires an argument\n${USAGE}`);
        return 1;
      }
      const r = apply(short, arg);
      if (r !== null) return r;
      continue;
    }
    if (!a.startsWith("-") || a === "-") break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (WITH_ARG.has(c)) {
        const arg = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (arg === undefined) {
          ctx.err(`tcpdump: option requires an argument -- '${c}'\n${USAGE}`);
          return 1;
        }
        const r = apply(c, arg);
        if (r !== null) return r;
        break;
      }
      switch (c) {
        case "e":
          o.link = true;
          break;
        case "n":
          o.numeric++;
          break;
        case "t":
          o.stamp++;
          break;
        case "v":
          o.verbose++;
          break;
        case "S":
          o.absoluteSeq = true;
          break;
        case "p":
          o.promisc = false;
          break;
        case "#":
          o.number = true;
          break;
        case "h":
          ctx.out(USAGE);
          return 0;
        case "U":
        case "l":
        case "q":
        case "K":
        case "N":
        case "O":
        case "I":
        case "u":
        case "x":
        case "X":
        case "A":
        case "H":
        case "J":
        case "L":
        case "b":
        case "d":
        case "f":
          break;
        default:
          ctx.err(`tcpdump: invalid option -- '${c}'\n${USAGE}`);
          return 1;
      }
    }
  }
  o.expression = argv.slice(i) as string[];
  return o;
}

function pathOf(ctx: ToolContext, file: string): string {
  return resolve(ctx.cwd ?? ".", file);
}

/** Runs `tcpdump` with ctx.argv; resolves to the exit status. */
export async function tcpdumpMain(ctx: ToolContext): Promise<number> {
  const parsed = parseArgs(ctx, ctx.argv);
  if (typeof parsed === "number") return parsed;
  const o = parsed;
  let expr = o.expression.join(" ");
  if (o.filterFile !== null) {
    try {
      expr = readFileSync(pathOf(ctx, o.filterFile), "utf8").replace(/#.*$/gm, "").trim();
    } catch {
      ctx.err(`tcpdump: can't open ${o.filterFile}: No such file or directory\n`);
      return 1;
    }
  }
  let filter: FilterFn;
  try {
    filter = compileFilter(expr, { live: o.read === null });
  } catch (e) {
    if (e instanceof FilterError) {
      ctx.err(`tcpdump: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const printer = new PacketPrinter({
    link: o.link,
    names: o.numeric === 0,
    verbose: o.verbose,
    absoluteSeq: o.absoluteSeq,
  });
  const stamper = new Stamper(STAMP_MODES[Math.min(o.stamp, 5)] ?? "default");
  if (o.read !== null) return readFile(ctx, o, filter, printer, stamper);
  return await capture(ctx, o, filter, printer, stamper);
}

/** Opens -w FILE (stdout for "-"); returns a writer and a closer, or null after printing the error. */
function openWriter(
  ctx: ToolContext,
  o: Options,
  linktype: number,
): { w: PcapWriter; close: () => void } | null {
  const file = o.write!;
  if (file === "-") {
    ctx.err("tcpdump: writing a capture to stdout is not supported by ipvl\n");
    return null;
  }
  let fd: number;
  try {
    fd = openSync(pathOf(ctx, file), "w");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg =
      code === "EACCES"
        ? "Permission denied"
        : code === "EISDIR"
          ? "Is a directory"
          : "No such file or directory";
    ctx.err(`tcpdump: ${file}: ${msg}\n`);
    return null;
  }
  const w = new PcapWriter((chunk) => writeSync(fd, chunk), { snaplen: o.snaplen, linktype });
  return { w, close: () => closeSync(fd) };
}

function readFile(
  ctx: ToolContext,
  o: Options,
  filter: FilterFn,
  printer: PacketPrinter,
  stamper: Stamper,
): number {
  const file = o.read!;
  let bytes: Uint8Array;
  try {
    bytes = file === "-" ? ctx.stdin : readFileSync(pathOf(ctx, file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    ctx.err(
      `tcpdump: ${file}: ${code === "EISDIR" ? "Is a directory" : code === "EACCES" ? "Permission denied" : "No such file or directory"}\n`,
    );
    return 1;
  }
  let packets: readonly CapturedPacket[];
  let linktype: number;
  let snaplen: number;
  try {
    if (isPcapng(bytes)) {
      const f = readPcapng(bytes);
      const first = f.interfaces[0];
      linktype = first?.linktype ?? LINKTYPE_ETHERNET;
      snaplen = first?.snaplen || PCAP_DEFAULT_SNAPLEN;
      packets = f.packets;
    } else {
      const f = readPcap(bytes);
      linktype = f.linktype;
      snaplen = f.snaplen;
      packets = f.packets;
    }
  } catch {
    ctx.err(`tcpdump: ${file}: unknown file format\n`);
    return 1;
  }
  const lt = LINKTYPE_TEXT[linktype];
  if (lt === undefined) {
    ctx.err(`tcpdump: ${file}: link-type ${linktype} is not supported by ipvl\n`);
    return 1;
  }
  ctx.err(`reading from file ${file}, link-type ${lt}, snapshot length ${snaplen}\n`);
  const writer = o.write !== null ? openWriter(ctx, o, linktype) : null;
  if (o.write !== null && writer === null) return 1;
  let n = 0;
  let text = "";
  for (const p of packets) {
    if (!filter({ data: p.data, len: p.origLen })) continue;
    n++;
    if (writer) writer.w.write(p.tsNanos, p.data, p.origLen);
    else text += line(o, printer, stamper, n, p.tsNanos, p.data, p.origLen, linktype);
    if (o.count && n >= o.count) break;
  }
  writer?.close();
  ctx.out(text);
  return 0;
}

function line(
  o: Options,
  printer: PacketPrinter,
  stamper: Stamper,
  n: number,
  ts: bigint,
  data: Uint8Array,
  origLen: number,
  linktype: number,
): string {
  const num = o.number ? `${String(n).padStart(5, " ")}  ` : "";
  const body = linktype === LINKTYPE_RAW ? printer.formatRaw(data) : printer.format(data, origLen);
  return `${num}${stamper.stamp(ts)}${body}\n`;
}

/** The device a capture without -i uses: the first up, non-loopback device (pcap_lookupdev). */
function defaultDevice(ctx: ToolContext): NetDevice | undefined {
  return ctx.net.devicesInOrder().find((d) => d.isUp && d.type !== ARPHRD.LOOPBACK);
}

async function capture(
  ctx: ToolContext,
  o: Options,
  filter: FilterFn,
  printer: PacketPrinter,
  stamper: Stamper,
): Promise<number> {
  const net = ctx.net;
  let dev: NetDevice | undefined;
  if (o.iface === null) {
    dev = defaultDevice(ctx);
    if (!dev) {
      ctx.err("tcpdump: no suitable device found\n");
      return 1;
    }
  } else {
    if (o.iface === "any") {
      ctx.err('tcpdump: capturing on "any" (Linux cooked headers) is not supported by ipvl\n');
      return 1;
    }
    dev = net.dev(o.iface);
    if (!dev) {
      ctx.err(`tcpdump: ${o.iface}: No such device exists\n(No such device exists)\n`);
      return 1;
    }
  }
  if (!dev.isUp) {
    ctx.err(`tcpdump: ${dev.name}: That device is not up\n`);
    return 1;
  }
  const linktype = dev.type === ARPHRD.NONE ? LINKTYPE_RAW : LINKTYPE_ETHERNET;
  const writer = o.write !== null ? openWriter(ctx, o, linktype) : null;
  if (o.write !== null && writer === null) return 1;
  const ltText = LINKTYPE_TEXT[linktype]!;
  if (o.write !== null || o.verbose > 0) {
    ctx.err(`tcpdump: listening on ${dev.name}, link-type ${ltText}, snapshot length ${o.snaplen} bytes\n`);
  } else {
    ctx.err(
      `tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on ${dev.name}, link-type ${ltText}, snapshot length ${o.snaplen} bytes\n`,
    );
  }
  const kernel = ctx.kernel;
  let captured = 0;
  let received = 0;
  let finish!: (how: "count" | "signal") => void;
  const done = new Promise<"count" | "signal">((r) => {
    finish = r;
  });
  const capDev = dev;
  const tap: PacketTap = {
    dev: capDev,
    deliver: (skb: SkBuff, dir) => {
      if (o.count && captured >= o.count) return;
      if (o.direction !== "inout" && o.direction !== dir) return;
      // The frame as it is now: later layers may change the skb's bytes.
      const origLen = skb.data.length;
      const data = skb.data.slice(0, Math.min(origLen, o.snaplen));
      if (!filter({ data, len: origLen, dir })) return;
      received++;
      captured++;
      if (writer) writer.w.write(kernel.now, data, origLen);
      else ctx.out(line(o, printer, stamper, captured, kernel.now, data, origLen, linktype));
      if (o.count && captured >= o.count) finish("count");
    },
  };
  net.taps.add(tap);
  if (o.promisc) devSetPromiscuity(capDev, 1);
  const signal = ctx.signal;
  const onAbort = () => finish("signal");
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  ctx.detach?.();
  const how = await done;
  signal?.removeEventListener("abort", onAbort);
  net.taps.delete(tap);
  if (o.promisc && capDev.registered) devSetPromiscuity(capDev, -1);
  writer?.close();
  if (how === "signal" && !writer) ctx.out("\n");
  ctx.err(
    `${captured} packet${captured === 1 ? "" : "s"} captured\n${received} packet${received === 1 ? "" : "s"} received by filter\n0 packets dropped by kernel\n`,
  );
  return 0;
}
