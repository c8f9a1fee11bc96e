/**
 * struct nft_pktinfo and friends: what the netfilter code needs to know about the packet at a
 * hook (network header offset, transport protocol and offset, fragment offset), computed once
 * from `skb.data` / `skb.network` as nft_set_pktinfo_ipv4/ipv6 do.
 */
import { walkIpv6ExtHeaders } from "../../wire/index.ts";
import type { SkBuff } from "../skb.ts";
import { NFPROTO } from "./hooks.ts";

/** ETH_P_* values of the IP protocols. */
export const ETH_P_IP = 0x0800;
/** ETH_P_IPV6. */
export const ETH_P_IPV6 = 0x86dd;

/** Packet facts for one hook invocation. */
export interface PktInfo {
  /** 4, 6, or 0 when the packet is not IP (or truncated). */
  readonly l3: 0 | 4 | 6;
  /** Offset of the network header in skb.data. */
  readonly nh: number;
  /** Length of the IP packet (skb->len at the IP hooks). */
  readonly len: number;
  /** Transport protocol, or -1 when not known. */
  readonly tprot: number;
  /** Offset of the transport header in skb.data. */
  readonly thoff: number;
  /** Fragment offset in bytes (non-zero: transport header not present). */
  readonly fragoff: number;
}

/** The l3 protocol of a packet seen at a hook of family `pf` (inet hooks pass 2 or 10). */
export function pktL3(skb: SkBuff, pf: number): 0 | 4 | 6 {
  if (pf === NFPROTO.IPV4) return 4;
  if (pf === NFPROTO.IPV6) return 6;
  if (skb.protocol === ETH_P_IP) return 4;
  if (skb.protocol === ETH_P_IPV6) return 6;
  return 0;
}

/** nft_set_pktinfo_ipv4 / nft_set_pktinfo_ipv6 (also used by conntrack). */
export function pktInfo(skb: SkBuff, pf: number): PktInfo {
  const d = skb.data;
  const nh = skb.network;
  const avail = d.length - nh;
  const none = (l3: 0 | 4 | 6, len: number): PktInfo => ({ l3, nh, len, tprot: -1, thoff: 0, fragoff: 0 });
  const l3 = pktL3(skb, pf);
  if (l3 === 4) {
    if (avail < 20 || d[nh] >> 4 !== 4) return none(0, Math.max(avail, 0));
    const ihl = (d[nh] & 0x0f) * 4;
    const tot = readU16(d, nh + 2);
    const len = Math.min(tot, avail);
    if (ihl < 20 || tot < ihl || avail < ihl) return none(0, len);
    const fragoff = (readU16(d, nh + 6) & 0x1fff) * 8;
    return { l3, nh, len, tprot: d[nh + 9], thoff: nh + ihl, fragoff };
  }
  if (l3 === 6) {
    if (avail < 40 || d[nh] >> 4 !== 6) return none(0, Math.max(avail, 0));
    const len = Math.min(40 + readU16(d, nh + 4), avail);
    try {
      const up = walkIpv6ExtHeaders(d, d[nh + 6], nh + 40, nh + len);
      let fragoff = 0;
      if (up.extCount > 0) fragoff = ipv6FragOffset(d, d[nh + 6], nh + 40, up.offset);
      return { l3, nh, len, tprot: up.protocol, thoff: up.offset, fragoff };
    } catch {
      return none(6, len);
    }
  }
  return none(0, Math.max(avail, 0));
}

/** The fragment offset of an IPv6 packet whose extension headers end at `end`. */
function ipv6FragOffset(d: Uint8Array, first: number, start: number, end: number): number {
  let next = first;
  let off = start;
  while (off < end) {
    if (next === 44) return readU16(d, off + 2) & 0xfff8;
    const following = d[off];
    off += next === 44 ? 8 : (d[off + 1] + 1) * 8;
    next = following;
  }
  return 0;
}

/** Reads `len` bytes at `off` as a big-endian unsigned integer. */
export function readBig(d: Uint8Array, off: number, len: number): bigint {
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(d[off + i]);
  return v;
}

/** Reads a big-endian u16. */
export function readU16(d: Uint8Array, off: number): number {
  return (d[off] << 8) | d[off + 1];
}

/** Reads a big-endian u32. */
export function readU32(d: Uint8Array, off: number): number {
  return ((d[off] << 24) | (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3]) >>> 0;
}
