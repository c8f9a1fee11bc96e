/**
 * Read-only /sys/class/net (and /sys/devices/virtual/net) of the caller's namespace, and the
 * /proc/sys files, for `cat` and `test -e/-f/-d` on those paths. File contents follow
 * net/core/net-sysfs.c: one value and a newline; hex for dev_id and flags; lowercase operstate;
 * EINVAL for carrier/speed/duplex of a device that is down.
 */
import {
  type Kernel,
  type LinkStats,
  type NetDevice,
  type NetNamespace,
  OperState,
} from "../kernel/index.ts";
import type { ToolContext } from "./context.ts";
import { normalizeProcPath, type ProcSysError, procSysLookup } from "./procfs.ts";

/** Result of reading one virtual file. */
export type SysfsRead =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly errno: ProcSysError };

/** What a path names: a regular file, a directory, or nothing. */
export type SysfsKind = "file" | "dir" | "none";

/** statistics/<name> → the LinkStats field (net-sysfs's netstat attributes). */
const STAT_FILES: Readonly<Record<string, keyof LinkStats>> = {
  collisions: "collisions",
  multicast: "multicast",
  rx_bytes: "rxBytes",
  rx_compressed: "rxCompressed",
  rx_crc_errors: "rxCrcErrors",
  rx_dropped: "rxDropped",
  rx_errors: "rxErrors",
  rx_fifo_errors: "rxFifoErrors",
  rx_frame_errors: "rxFrameErrors",
  rx_length_errors: "rxLengthErrors",
  rx_missed_errors: "rxMissedErrors",
  rx_nohandler: "rxNohandler",
  rx_over_errors: "rxOverErrors",
  rx_packets: "rxPackets",
  tx_aborted_errors: "txAbortedErrors",
  tx_bytes: "txBytes",
  tx_carrier_errors: "txCarrierErrors",
  tx_compressed: "txCompressed",
  tx_dropped: "txDropped",
  tx_errors: "txErrors",
  tx_fifo_errors: "txFifoErrors",
  tx_heartbeat_errors: "txHeartbeatErrors",
  tx_packets: "txPackets",
  tx_window_errors: "txWindowErrors",
};

const OPERSTATE_NAMES: Readonly<Record<number, string>> = {
  [OperState.UNKNOWN]: "unknown",
  [OperState.NOTPRESENT]: "notpresent",
  [OperState.DOWN]: "down",
  [OperState.LOWERLAYERDOWN]: "lowerlayerdown",
  [OperState.TESTING]: "testing",
  [OperState.DORMANT]: "dormant",
  [OperState.UP]: "up",
};

/** A link-layer address as sysfs prints it: hex bytes joined by ":" (empty for addr_len 0). */
function llAddr(mac: number, len: number): string {
  const bytes: string[] = [];
  for (let i = len - 1; i >= 0; i--)
    bytes.push((Math.floor(mac / 2 ** (8 * i)) & 0xff).toString(16).padStart(2, "0"));
  return bytes.join(":");
}

/** The speed/duplex a device reports through ethtool (veth: 10000 full; stacked devices: their lower's). */
function linkSettings(dev: NetDevice): { speed: string; duplex: string } | null {
  if (dev.kind === "veth") return { speed: "10000", duplex: "full" };
  const lower = dev.lowerDevice();
  return lower && lower !== dev ? linkSettings(lower) : null;
}

/** The attribute files of a device directory: name → value or errno. */
function deviceFile(dev: NetDevice, name: string): SysfsRead | null {
  const ok = (v: string | number): SysfsRead => ({ ok: true, text: `${v}\n` });
  const down: SysfsRead = { ok: false, errno: "EINVAL" };
  switch (name) {
    case "addr_len":
      return ok(dev.addrLen);
    case "address":
      return ok(llAddr(dev.mac, dev.addrLen));
    case "broadcast":
      return ok(llAddr(dev.broadcast, dev.addrLen));
    case "carrier":
      return dev.isUp ? ok(dev.carrier ? 1 : 0) : down;
    case "carrier_changes":
      return ok(dev.carrierChanges);
    case "dev_id":
      return ok(`0x${dev.devId.toString(16)}`);
    case "dev_port":
      return ok(dev.devPort);
    case "dormant":
      return ok(dev.dormant ? 1 : 0);
    case "flags":
      return ok(`0x${dev.flags.toString(16)}`);
    case "ifalias":
      return ok(dev.alias);
    case "ifindex":
      return ok(dev.ifindex);
    case "iflink":
      return ok(dev.ndoGetIflink());
    case "link_mode":
      return ok(dev.linkMode);
    case "mtu":
      return ok(dev.mtu);
    case "netdev_group":
      return ok(dev.group);
    case "operstate":
      return ok(OPERSTATE_NAMES[dev.reportedOperstate] ?? "unknown");
    case "proto_down":
    case "testing":
      return ok(0);
    case "tx_queue_len":
      return ok(dev.txqlen);
    case "type":
      return ok(dev.type);
    case "uevent":
      return { ok: true, text: `INTERFACE=${dev.name}\nIFINDEX=${dev.ifindex}\n` };
    case "speed":
    case "duplex": {
      const s = linkSettings(dev);
      if (!s || !dev.isUp || !dev.carrier) return down;
      return ok(name === "speed" ? s.speed : s.duplex);
    }
    default:
      return null;
  }
}

const DEVICE_FILES = [
  "addr_len",
  "address",
  "broadcast",
  "carrier",
  "carrier_changes",
  "dev_id",
  "dev_port",
  "dormant",
  "flags",
  "ifalias",
  "ifindex",
  "iflink",
  "link_mode",
  "mtu",
  "netdev_group",
  "operstate",
  "proto_down",
  "testing",
  "tx_queue_len",
  "type",
  "uevent",
];

/** Resolves "." and ".." and doubled slashes of an absolute path. */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

type Node =
  | { readonly kind: "file"; readonly read: () => SysfsRead }
  | { readonly kind: "dir" }
  | { readonly kind: "none" };

const NONE: Node = { kind: "none" };
const DIR: Node = { kind: "dir" };

function netClassNode(net: NetNamespace, parts: readonly string[]): Node {
  if (parts.length === 0) return DIR;
  const dev = net.dev(parts[0]!);
  if (!dev) return NONE;
  if (parts.length === 1) return DIR;
  const name = parts[1]!;
  if (name === "statistics") {
    if (parts.length === 2) return DIR;
    const field = STAT_FILES[parts[2]!];
    if (parts.length !== 3 || field === undefined) return NONE;
    return { kind: "file", read: () => ({ ok: true, text: `${dev.stats[field]}\n` }) };
  }
  if (parts.length !== 2 || (!DEVICE_FILES.includes(name) && name !== "speed" && name !== "duplex"))
    return NONE;
  if ((name === "speed" || name === "duplex") && linkSettings(dev) === null) return NONE;
  return { kind: "file", read: () => deviceFile(dev, name) ?? { ok: false, errno: "ENOENT" } };
}

function lookup(kernel: Kernel, net: NetNamespace, path: string): Node {
  const p = normalizePath(path);
  const parts = p.split("/").slice(1);
  if (p.startsWith("/proc/sys/") || p === "/proc/sys") {
    const node = procSysLookup(kernel, net, normalizeProcPath(parts.slice(2).join("/")));
    if (node.kind === "none") return NONE;
    if (node.kind === "dir") return DIR;
    return { kind: "file", read: () => ({ ok: true, text: `${node.value}\n` }) };
  }
  if (parts[0] !== "sys") return NONE;
  if (parts.length === 1) return DIR;
  if (parts[1] === "class") {
    if (parts.length === 2) return DIR;
    if (parts[2] !== "net") return NONE;
    return netClassNode(net, parts.slice(3));
  }
  if (parts[1] === "devices") {
    if (parts.length === 2) return DIR;
    if (parts[2] !== "virtual") return NONE;
    if (parts.length === 3) return DIR;
    if (parts[3] !== "net") return NONE;
    return netClassNode(net, parts.slice(4));
  }
  return NONE;
}

/** What a /sys or /proc/sys path names in `net`. */
export function sysfsKind(kernel: Kernel, net: NetNamespace, path: string): SysfsKind {
  return lookup(kernel, net, path).kind;
}

/** Reads a /sys or /proc/sys file of `net`. */
export function sysfsRead(kernel: Kernel, net: NetNamespace, path: string): SysfsRead {
  const node = lookup(kernel, net, path);
  if (node.kind === "none") return { ok: false, errno: "ENOENT" };
  if (node.kind === "dir") return { ok: false, errno: "EISDIR" };
  return node.read();
}

const STRERROR: Readonly<Record<ProcSysError, string>> = {
  ENOENT: "No such file or directory",
  EINVAL: "Invalid argument",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
};

/**
 * `cat FILE...` and `test -e|-f|-d PATH` on virtual paths: ctx.argv is `["cat", ...]` or
 * `["test", OP, PATH]` (the harness already checked the paths are virtual).
 */
export function catSysMain(ctx: ToolContext): number {
  const [cmd, ...args] = ctx.argv;
  if (cmd === "test") {
    const [op, path] = args;
    const kind = sysfsKind(ctx.kernel, ctx.net, path ?? "");
    if (op === "-e") return kind === "none" ? 1 : 0;
    if (op === "-f") return kind === "file" ? 0 : 1;
    if (op === "-d") return kind === "dir" ? 0 : 1;
    ctx.err(`test: ${op}: unary operator expected\n`);
    return 2;
  }
  let status = 0;
  let optionsDone = false;
  for (const a of args) {
    if (!optionsDone && a === "--") {
      optionsDone = true;
      continue;
    }
    if (!optionsDone && a.startsWith("-") && a !== "-") continue;
    const r = sysfsRead(ctx.kernel, ctx.net, a);
    if (r.ok) ctx.out(r.text);
    else {
      ctx.err(`cat: ${a}: ${STRERROR[r.errno]}\n`);
      status = 1;
    }
  }
  return status;
}
