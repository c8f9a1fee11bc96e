/**
 * Interface ioctls (struct ifreq) by name: index, flags, MTU, hardware address. Each call uses
 * a fresh datagram socket created in the calling thread's namespace, because a socket stays in
 * the namespace it was created in (pitfall 8); wrap calls in {@link withNetns} to reach another one.
 */
import { formatMac, type MacAddr, readMac, writeMac } from "../wire/index.ts";
import {
  AF_INET,
  ARPHRD_ETHER,
  IFNAMSIZ,
  IFREQ_SIZE,
  SIOCGIFFLAGS,
  SIOCGIFHWADDR,
  SIOCGIFINDEX,
  SIOCGIFMTU,
  SIOCSIFFLAGS,
  SIOCSIFHWADDR,
  SIOCSIFMTU,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from "./abi.ts";
import { ioctlPtr, raw, sysSocket } from "./libc.ts";

/** IFF_UP (include/uapi/linux/if.h). */
export const IFF_UP = 0x1;

/** A zeroed struct ifreq with `name` in ifr_name; throws on names the kernel would refuse. */
export function ifreq(name: string): Uint8Array {
  const b = new Uint8Array(IFREQ_SIZE);
  const enc = new TextEncoder().encode(name);
  if (enc.length === 0 || enc.length >= IFNAMSIZ)
    throw new RangeError(`Cannot use interface name "${name}": 1 to 15 bytes`);
  b.set(enc, 0);
  return b;
}

/** ifr_name read back (the kernel fills it in for "%d" templates). */
export function ifreqName(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end));
}

function withCtlSocket<T>(fn: (fd: number) => T): T {
  const fd = sysSocket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  try {
    return fn(fd);
  } finally {
    raw.close(fd);
  }
}

function ifreqCall(
  name: string,
  request: number,
  what: string,
  fill?: (b: Uint8Array, v: DataView) => void,
): DataView {
  const b = ifreq(name);
  const v = new DataView(b.buffer);
  fill?.(b, v);
  withCtlSocket((fd) => ioctlPtr(fd, request, b, `${what} of "${name}"`));
  return v;
}

/** SIOCGIFINDEX: the interface's index in the calling thread's namespace (ENODEV if absent). */
export function ifIndex(name: string): number {
  return ifreqCall(name, SIOCGIFINDEX, "get the index").getInt32(16, true);
}

/** Whether an interface of that name exists in the calling thread's namespace. */
export function ifExists(name: string): boolean {
  try {
    ifIndex(name);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === "ENODEV") return false;
    throw e;
  }
}

/** SIOCGIFFLAGS: the interface flags (IFF_*, 16 bits). */
export function ifFlags(name: string): number {
  return ifreqCall(name, SIOCGIFFLAGS, "get the flags").getUint16(16, true);
}

/** IFF_NOARP: what ipvlan's l3/l3s modes set on slaves (pitfall 4). */
export const IFF_NOARP = 0x80;

/** SIOCSIFFLAGS after SIOCGIFFLAGS: sets or clears one flag (IFF_UP, IFF_NOARP ...). */
export function ifSetFlag(name: string, flag: number, on: boolean): void {
  const flags = ifFlags(name);
  const want = on ? flags | flag : flags & ~flag;
  if (want === flags) return;
  ifreqCall(name, SIOCSIFFLAGS, `set flag 0x${flag.toString(16)}=${on}`, (_b, v) =>
    v.setUint16(16, want, true),
  );
}

/** Brings an interface up or down (IFF_UP). */
export function ifSetUp(name: string, up: boolean): void {
  ifSetFlag(name, IFF_UP, up);
}

/** SIOCGIFMTU. */
export function ifMtu(name: string): number {
  return ifreqCall(name, SIOCGIFMTU, "get the MTU").getInt32(16, true);
}

/** SIOCSIFMTU. */
export function ifSetMtu(name: string, mtu: number): void {
  ifreqCall(name, SIOCSIFMTU, `set the MTU to ${mtu}`, (_b, v) => v.setInt32(16, mtu, true));
}

/** SIOCGIFHWADDR: the Ethernet address. */
export function ifHwaddr(name: string): MacAddr {
  const v = ifreqCall(name, SIOCGIFHWADDR, "get the hardware address");
  return readMac(new Uint8Array(v.buffer), 18);
}

/** SIOCSIFHWADDR on any socket (or on a tun fd, which accepts the same request). */
export function ifSetHwaddr(name: string, mac: MacAddr, fd?: number): void {
  const b = ifreq(name);
  const v = new DataView(b.buffer);
  v.setUint16(16, ARPHRD_ETHER, true);
  writeMac(b, 18, mac);
  const what = `set the hardware address of "${name}" to ${formatMac(mac)}`;
  if (fd !== undefined) ioctlPtr(fd, SIOCSIFHWADDR, b, what);
  else withCtlSocket((s) => ioctlPtr(s, SIOCSIFHWADDR, b, what));
}
