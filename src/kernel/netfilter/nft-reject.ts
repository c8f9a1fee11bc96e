/**
 * The answer of a `reject` statement (net/netfilter/nft_reject_inet.c:nft_reject_inet_eval and
 * its ip/ip6 twins): an ICMP or ICMPv6 destination-unreachable about the packet, sent by the
 * IPv4/IPv6 stack as if it had found the error itself (nf_reject_ipv4.c:nf_send_unreach,
 * nf_reject_ipv6.c:nf_send_unreach6). The caller then drops the packet (NF_DROP).
 */
import { icmpSend } from "../ipv4/icmp.ts";
import { icmpv6Send } from "../ipv6/icmp.ts";
import type { SkBuff } from "../skb.ts";
import type { NfHookState } from "./hooks.ts";
import type { NftReject } from "./nft-types.ts";
import type { PktInfo } from "./pktinfo.ts";

const ICMP_DEST_UNREACH = 3;
const ICMPV6_DEST_UNREACH = 1;

/**
 * nft_reject_icmp_code / nft_reject_icmpv6_code: icmpx codes (no-route, port-unreachable,
 * host-unreachable, admin-prohibited) as ICMP and ICMPv6 destination-unreachable codes.
 */
const ICMPX_TO_ICMP: readonly number[] = [0, 3, 1, 13];
const ICMPX_TO_ICMPV6: readonly number[] = [0, 4, 3, 1];

/**
 * Sends the ICMP error a reject statement asks for (TCP resets are not simulated: the packet
 * is only dropped). Mirrors nft_reject_inet_eval: the code of `reject with icmp ...` is used
 * as is for either family, icmpx codes are translated per family.
 */
export function nftRejectSend(stmt: NftReject, skb: SkBuff, state: NfHookState, pkt: PktInfo): void {
  if (stmt.type === "tcp reset") return;
  if (pkt.l3 === 4) {
    const code = stmt.type === "icmpx" ? (ICMPX_TO_ICMP[stmt.code] ?? stmt.code) : stmt.code;
    // nf_send_unreach: no answer to a non-first fragment; icmp_send needs the route the
    // packet already has (forward, input, output; a prerouting reject finds none here).
    if (pkt.fragoff !== 0) return;
    icmpSend(skb, ICMP_DEST_UNREACH, code, 0);
  } else if (pkt.l3 === 6) {
    const code = stmt.type === "icmpx" ? (ICMPX_TO_ICMPV6[stmt.code] ?? stmt.code) : stmt.code;
    icmpv6Send(state.net, skb, ICMPV6_DEST_UNREACH, code, 0, state.in ?? undefined);
  }
}
