/**
 * Address lookups over every device of a namespace (ipv6_chk_addr, ipv6_get_ifaddr,
 * ipv6_get_lladdr), address scopes, and source address selection (ipv6_dev_get_saddr, RFC 6724
 * rules 1, 2, 3, 5, 6 and 8 as Linux applies them).
 */
import {
  type Ipv6Addr,
  ipv6InPrefix,
  ipv6IsLinkLocal,
  ipv6IsLoopback,
  ipv6IsMulticast,
  ipv6MulticastScope,
} from "../../wire/index.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { confInt } from "./sysctl.ts";
import { type Inet6IfaddrPriv, in6DevGet } from "./state.ts";
import { IFA_F, RT_SCOPE } from "./types.ts";

/** RFC 4291 scope values (IPV6_ADDR_SCOPE_*) used by source selection. */
export const IPV6_ADDR_SCOPE = {
  NODELOCAL: 0x1,
  LINKLOCAL: 0x2,
  SITELOCAL: 0x5,
  ORGLOCAL: 0x8,
  GLOBAL: 0xe,
} as const;

/** The scope of an address as source selection sees it (__ipv6_addr_src_scope). */
export function ipv6AddrSrcScope(addr: Ipv6Addr): number {
  if (ipv6IsMulticast(addr)) return ipv6MulticastScope(addr);
  if (ipv6IsLoopback(addr) || ipv6IsLinkLocal(addr)) return IPV6_ADDR_SCOPE.LINKLOCAL;
  if (addr >> 118n === 0x3fbn) return IPV6_ADDR_SCOPE.SITELOCAL;
  return IPV6_ADDR_SCOPE.GLOBAL;
}

/** The RT_SCOPE_* an address gets (what `ip` prints: global, site, link, host). */
export function ipv6AddrRtScope(addr: Ipv6Addr): number {
  if (ipv6IsLoopback(addr)) return RT_SCOPE.HOST;
  if (ipv6IsLinkLocal(addr)) return RT_SCOPE.LINK;
  if (addr >> 118n === 0x3fbn) return RT_SCOPE.SITE;
  return RT_SCOPE.UNIVERSE;
}

/** The IFA_* list-order scope (ipv6_addr_scope): global 0 < host 0x10 < link 0x20 < site 0x40. */
export function ifaListScope(scope: number): number {
  switch (scope) {
    case RT_SCOPE.HOST:
      return 0x10;
    case RT_SCOPE.LINK:
      return 0x20;
    case RT_SCOPE.SITE:
      return 0x40;
    default:
      return 0;
  }
}

/** Whether a destination needs a scope id / strict output interface (rt6_need_strict). */
export function ipv6NeedStrict(addr: Ipv6Addr): boolean {
  return ipv6IsMulticast(addr) || ipv6IsLinkLocal(addr) || ipv6IsLoopback(addr);
}

/** Addresses of every device in the namespace, devices in ifindex order. */
export function allIfaddrs(net: NetNamespace): Inet6IfaddrPriv[] {
  const out: Inet6IfaddrPriv[] = [];
  for (const dev of net.devicesInOrder()) {
    const idev = in6DevGet(dev);
    if (idev) out.push(...idev.addrs);
  }
  return out;
}

/**
 * ipv6_get_ifaddr: the address object for addr, on dev (when given and strict, or when the
 * address is link-local) or on any device of the namespace.
 */
export function ipv6GetIfaddr(
  net: NetNamespace,
  addr: Ipv6Addr,
  dev: NetDevice | null,
  strict: boolean,
): Inet6IfaddrPriv | undefined {
  for (const ifa of allIfaddrs(net)) {
    if (ifa.addr !== addr) continue;
    if (dev && (strict || ipv6IsLinkLocal(addr)) && ifa.dev !== dev) continue;
    return ifa;
  }
  return undefined;
}

/**
 * ipv6_chk_addr_and_flags: is addr one of our addresses without any of banFlags (tentative by
 * default)? With dev, link/host-scope addresses (and every address when strict) must be on dev.
 */
export function ipv6ChkAddr(
  net: NetNamespace,
  addr: Ipv6Addr,
  dev: NetDevice | null,
  strict = false,
  banFlags: number = IFA_F.TENTATIVE,
): boolean {
  for (const ifa of allIfaddrs(net)) {
    if (ifa.addr !== addr || ifa.flags & banFlags) continue;
    const linkOrHost = ifa.scope === RT_SCOPE.LINK || ifa.scope === RT_SCOPE.HOST;
    if (!dev || ifa.dev === dev || !(linkOrHost || strict)) return true;
  }
  return false;
}

/** ipv6_get_lladdr: the first link-local address of dev without banFlags. */
export function ipv6GetLladdr(dev: NetDevice, banFlags: number): Ipv6Addr | null {
  const idev = in6DevGet(dev);
  if (!idev) return null;
  for (const ifa of idev.addrs) {
    if (ifa.scope === RT_SCOPE.LINK && !(ifa.flags & banFlags)) return ifa.addr;
  }
  return null;
}

/** Default policy table labels (RFC 6724 § 2.1, ipv6_addr_label). */
const LABELS: readonly { addr: Ipv6Addr; len: number; label: number }[] = [
  { addr: 1n, len: 128, label: 0 },
  { addr: 0xffffn << 32n, len: 96, label: 4 },
  { addr: 0x2002n << 112n, len: 16, label: 2 },
  { addr: 0x2001_0000n << 96n, len: 32, label: 6 },
  { addr: 0x2001_0010n << 96n, len: 28, label: 7 },
  { addr: 0xfc00n << 112n, len: 7, label: 5 },
  { addr: 0xfec0n << 112n, len: 10, label: 11 },
  { addr: 0x3ffen << 112n, len: 16, label: 12 },
  { addr: 0n, len: 96, label: 3 },
];

function addrLabel(addr: Ipv6Addr): number {
  let best = -1;
  let label = 1;
  for (const l of LABELS) {
    if (l.len > best && ipv6InPrefix(addr, { addr: l.addr, len: l.len })) {
      best = l.len;
      label = l.label;
    }
  }
  return label;
}

/** Number of leading bits two addresses share (ipv6_addr_diff). */
export function commonPrefixLen(a: Ipv6Addr, b: Ipv6Addr): number {
  const x = a ^ b;
  if (x === 0n) return 128;
  return 128 - x.toString(2).length;
}

/** The rule scores of one candidate, compared lexicographically (higher wins). */
function scoreCandidate(ifa: Inet6IfaddrPriv, daddr: Ipv6Addr, dstScope: number, oif: number): number[] {
  const s = ipv6AddrSrcScope(ifa.addr);
  const prefix = Math.min(commonPrefixLen(ifa.addr, daddr), ifa.prefixLen);
  return [
    ifa.addr === daddr ? 1 : 0,
    s >= dstScope ? -s : s - 128,
    ifa.flags & (IFA_F.DEPRECATED | IFA_F.OPTIMISTIC) ? 0 : 1,
    oif !== 0 && ifa.dev.ifindex === oif ? 1 : 0,
    addrLabel(ifa.addr) === addrLabel(daddr) ? 1 : 0,
    prefix,
    ifa.flags & IFA_F.OPTIMISTIC ? 0 : 1,
  ];
}

function better(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return false;
}

/**
 * ipv6_dev_get_saddr: the source address for daddr leaving through dev (null: any device). For
 * multicast and link-local destinations (or use_oif_addrs_only) only dev's addresses count.
 * Tentative and dadfailed addresses never qualify. Returns null when nothing qualifies.
 */
export function ipv6DevGetSaddr(net: NetNamespace, dev: NetDevice | null, daddr: Ipv6Addr): Ipv6Addr | null {
  const dstScope = ipv6AddrSrcScope(daddr);
  let useOif = false;
  if (dev) {
    useOif =
      ipv6IsMulticast(daddr) ||
      dstScope <= IPV6_ADDR_SCOPE.LINKLOCAL ||
      confInt(net, dev.name, "use_oif_addrs_only") > 0;
  }
  const candidates = useOif && dev ? (in6DevGet(dev)?.addrs ?? []) : allIfaddrs(net);
  let best: Inet6IfaddrPriv | null = null;
  let bestScore: number[] = [];
  for (const ifa of candidates) {
    if (ifa.flags & IFA_F.TENTATIVE && !(ifa.flags & IFA_F.OPTIMISTIC)) continue;
    if (ifa.flags & IFA_F.DADFAILED) continue;
    if (ipv6IsMulticast(ifa.addr)) continue;
    const score = scoreCandidate(ifa, daddr, dstScope, dev ? dev.ifindex : 0);
    if (!best || better(score, bestScore)) {
      best = ifa;
      bestScore = score;
    }
  }
  return best ? best.addr : null;
}
