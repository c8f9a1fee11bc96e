/**
 * What IPv6 datagram sockets share: the error-queue entry (sock_extended_err for IPv6),
 * icmpv6_err_convert, the destination checks of sendmsg (scope ids), and the hop limit choice.
 */
import {
  type Ipv6Addr,
  ipv6IsLinkLocal,
  ipv6IsMulticast,
  ipv6IsV4Mapped,
  ipv6MulticastScope,
} from "../../wire/index.ts";
import type { ErrnoName } from "../errno.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { SkBuff } from "../skb.ts";
import type { Rt6Dst } from "./types.ts";

/**
 * The device IP6CB(skb)->iif names, as ip6_rcv_core sets it: a packet that kept its dst (looped
 * through lo: skb_valid_dst) counts as arriving on the dst's idev, i.e. the device owning the
 * local address it was sent to (a reply to our own fe80::...%ipvl0 arrives "on" ipvl0, not lo);
 * anything else on the device it came in on. Sockets read it for the source's scope id and for
 * bound-device matching (inet6_iif).
 */
export function ip6cbIifDev(skb: SkBuff): NetDevice {
  if (skb.dev.flags & IFF.LOOPBACK) {
    const d = skb.cb.ip6dst as Rt6Dst | undefined;
    if (d?.route) return d.route.dev;
  }
  return skb.dev;
}

/** An ICMPv6 or local error delivered to a socket's error queue (IPV6_RECVERR). */
export interface SockExtendedErr6 {
  /** errno the error maps to (EHOSTUNREACH, ENETUNREACH, ECONNREFUSED, EMSGSIZE ...). */
  readonly errno: ErrnoName;
  /** SO_EE_ORIGIN_LOCAL (1) or SO_EE_ORIGIN_ICMP6 (3). */
  readonly origin: 1 | 3;
  /** ICMPv6 type/code (0 for local errors). */
  readonly type: number;
  readonly code: number;
  /** ee_info: the MTU for Packet Too Big / local EMSGSIZE, the pointer of a parameter problem. */
  readonly info: number;
  /** Who reported it (the ICMPv6 sender; for local errors our own source address). */
  readonly offender: Ipv6Addr;
  /** The original packet's destination. */
  readonly daddr: Ipv6Addr;
  /** Echo sequence (ping sockets). */
  readonly sequence?: number;
  /** Virtual receive time (ns). */
  readonly time: bigint;
}

/** icmpv6_err_convert: the errno of an ICMPv6 error and whether it is "hard" (fatal). */
export function icmpv6ErrConvert(type: number, code: number): { errno: ErrnoName; fatal: boolean } {
  switch (type) {
    case 1: {
      const table: [ErrnoName, boolean][] = [
        ["ENETUNREACH", false],
        ["EACCES", true],
        ["EHOSTUNREACH", false],
        ["EHOSTUNREACH", false],
        ["ECONNREFUSED", true],
        ["EACCES", true],
        ["EACCES", true],
      ];
      const [errno, fatal] = table[code] ?? ["EPROTO", true];
      return { errno, fatal };
    }
    case 2:
      return { errno: "EMSGSIZE", fatal: true };
    case 3:
      return { errno: "EHOSTUNREACH", fatal: false };
    case 4:
      return { errno: "EPROTO", fatal: true };
    default:
      return { errno: "EPROTO", fatal: false };
  }
}

/** __ipv6_addr_needs_scope_id: link-local unicast and interface/link-local multicast. */
export function needsScopeId(addr: Ipv6Addr): boolean {
  if (ipv6IsMulticast(addr)) return ipv6MulticastScope(addr) <= 2;
  return ipv6IsLinkLocal(addr);
}

/** The sendmsg destination checks: EINVAL for a scoped address without interface, or a v4-mapped one. */
export function checkDest(daddr: Ipv6Addr, oif: number, boundDev: number): ErrnoName | null {
  if ((needsScopeId(daddr) && !oif) || ipv6IsV4Mapped(daddr)) return "EINVAL";
  if (oif && boundDev && oif !== boundDev) return "EINVAL";
  return null;
}

/** ip6_sk_dst_hoplimit: multicast hops for multicast, else the socket's value or the route's. */
export function sockHopLimit(
  daddr: Ipv6Addr,
  hopLimit: number | null,
  mcastHops: number,
  dst: Rt6Dst,
): number {
  if (ipv6IsMulticast(daddr)) return mcastHops < 0 ? 1 : mcastHops;
  return hopLimit ?? dst.hopLimit;
}
