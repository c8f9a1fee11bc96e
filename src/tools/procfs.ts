/**
 * The /proc/sys tree as the caller's namespace shows it: the namespace's sysctl map (net.*)
 * plus a few kernel-wide values (kernel.*). Shared by `sysctl` and by `cat /proc/sys/...`.
 *
 * Names: the sysctl map is keyed by dotted names with device names as they are
 * ("net.ipv4.conf.eth0.100.forwarding" for device "eth0.100"); paths are the /proc/sys paths
 * without the prefix ("net/ipv4/conf/eth0.100/forwarding").
 */
import type { Kernel, NetNamespace } from "../kernel/index.ts";

/** `uname -r` of the kernel the oracle outputs were recorded on (kernel.osrelease). */
export const SIM_OSRELEASE = "6.1.0-56-amd64";

/** Errors a /proc/sys access reports (errno names). */
export type ProcSysError = "ENOENT" | "EINVAL" | "EISDIR" | "ENOTDIR";

/** One directory level that holds a device name (net.ipv4.conf.<dev>.x and the like). */
const DEV_DIRS = /^net\.(ipv4|ipv6)\.(conf|neigh)\.(.+)\.([^.]+)$/;

/** The /proc/sys path of a sysctl map key ("net.ipv4.conf.eth0.100.rp_filter" → ".../eth0.100/rp_filter"). */
export function keyToPath(key: string): string {
  const m = DEV_DIRS.exec(key);
  if (m) return `net/${m[1]}/${m[2]}/${m[3]}/${m[4]}`;
  return key.replaceAll(".", "/");
}

/** The sysctl map key of a /proc/sys path. */
export function pathToKey(path: string): string {
  return path.replaceAll("/", ".");
}

/** How `sysctl` displays the variable at a path: "/" becomes "." and "." becomes "/". */
export function pathToDisplay(path: string): string {
  let out = "";
  for (const c of path) out += c === "/" ? "." : c === "." ? "/" : c;
  return out;
}

/** The console log level of a kernel as kernel.printk shows it (console, default, minimum, boot-time default). */
function printkText(kernel: Kernel): string {
  return `${kernel.consoleLevel}\t4\t1\t7`;
}

/** Kernel-wide read-only values (not per namespace). */
const KERNEL_FIXED: Readonly<Record<string, string>> = {
  "kernel/ostype": "Linux",
  "kernel/osrelease": SIM_OSRELEASE,
};

/** Every /proc/sys file the caller sees, as path → value. */
export function procSysEntries(kernel: Kernel, net: NetNamespace): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(KERNEL_FIXED)) out.set(k, v);
  out.set("kernel/printk", printkText(kernel));
  for (const [k, v] of net.sysctl) out.set(keyToPath(k), v);
  return out;
}

/** Normalises a path below /proc/sys: no leading/trailing or doubled slashes. */
export function normalizeProcPath(path: string): string {
  return path
    .split("/")
    .filter((p) => p !== "" && p !== ".")
    .join("/");
}

/** What is at a /proc/sys path: a file (its value), a directory (its file paths, sorted), or nothing. */
export type ProcSysNode =
  | { readonly kind: "file"; readonly value: string }
  | { readonly kind: "dir"; readonly files: readonly string[] }
  | { readonly kind: "none" };

/** Looks up a path below /proc/sys ("" is the root). */
export function procSysLookup(kernel: Kernel, net: NetNamespace, path: string): ProcSysNode {
  const p = normalizeProcPath(path);
  const entries = procSysEntries(kernel, net);
  const value = entries.get(p);
  if (value !== undefined) return { kind: "file", value };
  const prefix = p === "" ? "" : `${p}/`;
  const files = [...entries.keys()].filter((k) => k.startsWith(prefix));
  if (files.length === 0) return { kind: "none" };
  return { kind: "dir", files: sortPaths(files) };
}

/** Sorts paths the way procfs lists sysctl directories: component by component, by name. */
export function sortPaths(paths: readonly string[]): string[] {
  return [...paths].sort((a, b) => {
    const x = a.split("/");
    const y = b.split("/");
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    }
    return x.length - y.length;
  });
}

/**
 * Writes a /proc/sys file as proc_dointvec would: integer files take whitespace-separated
 * integers (stored tab-separated, as read back), others take the text as is (without the
 * trailing newline). Returns null or the errno the write fails with.
 */
export function procSysWrite(
  kernel: Kernel,
  net: NetNamespace,
  path: string,
  text: string,
): ProcSysError | null {
  const p = normalizeProcPath(path);
  const node = procSysLookup(kernel, net, p);
  if (node.kind === "none") return "ENOENT";
  if (node.kind === "dir") return "EISDIR";
  const value = text.replace(/\n$/, "");
  const numeric = node.value !== "" && /^-?\d+(\t-?\d+)*$/.test(node.value);
  let stored = value;
  if (numeric) {
    const words = value.trim().split(/\s+/);
    if (value.trim() === "" || !words.every((w) => /^[+-]?\d+$/.test(w))) return "EINVAL";
    stored = words.map((w) => String(Number.parseInt(w, 10))).join("\t");
  }
  if (p === "kernel/printk") {
    const level = Number.parseInt(stored.split("\t")[0]!, 10);
    kernel.consoleLevel = Math.min(8, Math.max(1, level));
    return null;
  }
  if (p in KERNEL_FIXED) return "EINVAL";
  net.sysctl.set(pathToKey(p), stored);
  return null;
}
