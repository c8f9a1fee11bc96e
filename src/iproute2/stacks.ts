/**
 * The protocol stacks as `ip` sees them: RTM_GETADDR-shaped records read from the kernel's IPv4
 * and IPv6 stacks, and whether a namespace has each stack at all (a kernel built without one
 * answers EAFNOSUPPORT to requests of that family and dumps nothing for it).
 */
import {
  fail,
  type Inet6Ifaddr,
  type InIfaddr,
  ifaRemainingLifetimes,
  inet6AddrLifetimes,
  inetAddrList,
  ipv4Enabled,
  ipv6DevAddrs,
  type NetDevice,
  type NetNamespace,
  neighTableGet,
} from "../kernel/index.ts";
import { formatIpv4, formatIpv6 } from "../wire/index.ts";

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
  /** IFA_PROTO (0 = not sent). */
  readonly proto: number;
  /** The kernel's record, for deletes. */
  readonly v4: InIfaddr | null;
  readonly v6: Inet6Ifaddr | null;
}

/** Text of an IPv4 address. */
export function v4Text(a: number): string {
  return formatIpv4(a >>> 0);
}

/** Text of an IPv6 address (inet_ntop). */
export function v6Text(a: bigint): string {
  return formatIpv6(a);
}

/** Whether the namespace has an IPv4 stack. */
export function hasIpv4(net: NetNamespace): boolean {
  return ipv4Enabled(net);
}

/** Whether the namespace has an IPv6 stack (its pernet init registers the ND table). */
export function hasIpv6(net: NetNamespace): boolean {
  return neighTableGet(net, 6) !== undefined;
}

/** What rtnetlink answers to a request for a family whose stack is missing (no handler). */
export function requireStack(net: NetNamespace, family: 4 | 6): void {
  if (family === 4 ? !hasIpv4(net) : !hasIpv6(net)) fail("EAFNOSUPPORT");
}

/** The IPv4 addresses of a device, in dump order. */
function v4Addrs(dev: NetDevice): AddrMsg[] {
  if (!hasIpv4(dev.netns)) return [];
  const now = dev.netns.kernel.now;
  return inetAddrList(dev.netns, dev).map((ifa) => {
    const [valid, preferred] = ifaRemainingLifetimes(ifa, now);
    return {
      family: 4,
      dev,
      local: v4Text(ifa.local),
      peer: ifa.address !== ifa.local ? v4Text(ifa.address) : null,
      prefixLen: ifa.prefixLen,
      broadcast: ifa.broadcast ? v4Text(ifa.broadcast) : null,
      scope: ifa.scope,
      flags: ifa.flags,
      label: ifa.label,
      valid,
      preferred,
      metric: ifa.rtPriority,
      proto: ifa.proto,
      v4: ifa,
      v6: null,
    };
  });
}

/** The IPv6 addresses of a device, in dump order. */
function v6Addrs(dev: NetDevice): AddrMsg[] {
  return ipv6DevAddrs(dev).map((ifa) => {
    const life = inet6AddrLifetimes(ifa);
    return {
      family: 6,
      dev,
      local: v6Text(ifa.addr),
      peer: ifa.peer !== null ? v6Text(ifa.peer) : null,
      prefixLen: ifa.prefixLen,
      broadcast: null,
      scope: ifa.scope,
      flags: ifa.flags,
      label: null,
      valid: life.valid,
      preferred: life.preferred,
      metric: ifa.rtPriority,
      proto: 0,
      v4: null,
      v6: ifa,
    };
  });
}

/**
 * RTM_GETADDR dump of a namespace (family 0 = both): IPv4 of every device, then IPv6 of every
 * device, as the per-family dumps come one after the other.
 */
export function dumpAddrs(net: NetNamespace, family: number): AddrMsg[] {
  const out: AddrMsg[] = [];
  const devs = net.devicesInOrder();
  if (family === 0 || family === 2) for (const d of devs) out.push(...v4Addrs(d));
  if (family === 0 || family === 10) for (const d of devs) out.push(...v6Addrs(d));
  return out;
}
