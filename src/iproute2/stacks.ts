/**
 * The protocol stacks as `ip` sees them: IPv4/IPv6 addresses and routes read from (and
 * requests sent to) the kernel's stacks through the functions their index files export.
 * Looked up by name so that `ip` works (printing no addresses) on a kernel built without a stack.
 */
import * as kernelApi from "../kernel/index.ts";
import type { NetDevice, NetNamespace } from "../kernel/index.ts";

/** One address as RTM_GETADDR reports it (struct ifaddrmsg + IFA_* attributes). */
export interface AddrMsg {
  readonly family: 4 | 6;
  readonly dev: NetDevice;
  /** IFA_LOCAL (v4) / IFA_ADDRESS (v6), as text. */
  readonly local: string;
  /** IFA_ADDRESS when it differs from local (peer), as text. */
  readonly peer: string | null;
  readonly prefixLen: number;
  readonly broadcast: string | null;
  readonly scope: number;
  readonly flags: number;
  readonly label: string | null;
  /** Remaining lifetimes in seconds (0xffffffff = forever). */
  readonly valid: number;
  readonly preferred: number;
  readonly metric: number;
  /** The address value, for filters and deletes. */
  readonly value: number | bigint;
}

/** Generic access to a function the kernel index may export. */
function fn<T>(name: string): T | undefined {
  const f = (kernelApi as unknown as Record<string, unknown>)[name];
  return typeof f === "function" ? (f as T) : undefined;
}

/** Calls an optional stack function; undefined when the stack is not there. */
export function stackCall<R>(name: string, ...args: unknown[]): R | undefined {
  const f = fn<(...a: unknown[]) => R>(name);
  return f ? f(...args) : undefined;
}

/** Whether the kernel exports a function. */
export function stackHas(name: string): boolean {
  return fn(name) !== undefined;
}

const INFINITY = 0xffffffff;
const IFA_F_PERMANENT = 0x80;

/** Text of an IPv4 address. */
export function v4Text(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Text of an IPv6 address (inet_ntop). */
export function v6Text(a: bigint): string {
  const f = fn<(x: bigint) => string>("formatIpv6");
  if (f) return f(a);
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((a >> BigInt(16 * i)) & 0xffffn));
  return words.map((w) => w.toString(16)).join(":");
}

interface V4Ifa {
  local: number;
  address: number;
  prefixLen: number;
  broadcast: number;
  scope: number;
  flags: number;
  label: string;
  rtPriority: number;
  validLft: number;
  preferredLft: number;
  tstamp: bigint;
}

interface V6Ifa {
  addr: bigint;
  peer: bigint | null;
  prefixLen: number;
  scope: number;
  flags: number;
  rtPriority: number;
  validLft: number;
  preferredLft: number;
}

/** Remaining seconds of a lifetime counted from `tstamp`. */
function remaining(lft: number, tstamp: bigint, now: bigint): number {
  if (lft === INFINITY) return INFINITY;
  const elapsed = Number((now - tstamp) / 1_000_000_000n);
  return Math.max(0, lft - elapsed);
}

/** The IPv4 addresses of a device, in dump order. */
function v4Addrs(dev: NetDevice): AddrMsg[] {
  const list =
    stackCall<readonly V4Ifa[]>("ipv4DevAddrs", dev) ?? stackCall<readonly V4Ifa[]>("inetDevAddrs", dev);
  if (!list) return [];
  const now = dev.netns.kernel.now;
  return list.map((ifa) => {
    const valid = remaining(ifa.validLft, ifa.tstamp, now);
    return {
      family: 4,
      dev,
      local: v4Text(ifa.local),
      peer: ifa.address !== ifa.local ? v4Text(ifa.address) : null,
      prefixLen: ifa.prefixLen,
      broadcast: ifa.broadcast ? v4Text(ifa.broadcast) : null,
      scope: ifa.scope,
      flags: ifa.flags | (ifa.validLft === INFINITY ? IFA_F_PERMANENT : 0),
      label: ifa.label,
      valid,
      preferred: remaining(ifa.preferredLft, ifa.tstamp, now),
      metric: ifa.rtPriority,
      value: ifa.local,
    };
  });
}

/** The IPv6 addresses of a device, in dump order. */
function v6Addrs(dev: NetDevice): AddrMsg[] {
  const list = stackCall<readonly V6Ifa[]>("ipv6DevAddrs", dev);
  if (!list) return [];
  return list.map((ifa) => {
    const life = stackCall<{ valid: number; preferred: number }>("inet6AddrLifetimes", ifa) ?? {
      valid: ifa.validLft,
      preferred: ifa.preferredLft,
    };
    return {
      family: 6,
      dev,
      local: v6Text(ifa.addr),
      peer: ifa.peer !== null && ifa.peer !== undefined ? v6Text(ifa.peer) : null,
      prefixLen: ifa.prefixLen,
      broadcast: null,
      scope: ifa.scope,
      flags: ifa.flags,
      label: null,
      valid: life.valid,
      preferred: life.preferred,
      metric: ifa.rtPriority,
      value: ifa.addr,
    };
  });
}

/** RTM_GETADDR dump of a namespace: IPv4 first, then IPv6 (the order of the per-family dumps). */
export function dumpAddrs(net: NetNamespace, family: number): AddrMsg[] {
  const out: AddrMsg[] = [];
  const devs = net.devicesInOrder();
  if (family === 0 || family === 2) for (const d of devs) out.push(...v4Addrs(d));
  if (family === 0 || family === 10) for (const d of devs) out.push(...v6Addrs(d));
  return out;
}
