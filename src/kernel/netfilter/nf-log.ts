/**
 * The kernel's packet logger (net/netfilter/nf_log_syslog.c): the `log` statement prints one
 * line per packet, "<prefix>IN=eth0 OUT= MAC=... SRC=... DST=... LEN=... PROTO=...". As in
 * Linux, only the initial namespace logs unless net.netfilter.nf_log_all_netns is 1.
 */
import { formatIpv4, readIpv4, readIpv6 } from "../../wire/index.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import type { SkBuff } from "../skb.ts";
import { pktInfo, readU16, readU32 } from "./pktinfo.ts";

/** Sysctl (in the initial namespace) that lets other namespaces log. */
export const NF_LOG_ALL_NETNS = "net.netfilter.nf_log_all_netns";

/** nf_log_packet for the syslog backend. */
export function nfLogPacket(
  net: NetNamespace,
  pf: number,
  skb: SkBuff,
  inDev: NetDevice | null,
  outDev: NetDevice | null,
  prefix: string,
): void {
  const kernel = net.kernel;
  if (net !== kernel.initNet && kernel.initNet.sysctlInt(NF_LOG_ALL_NETNS) === 0) return;
  let line = `${prefix}IN=${inDev?.name ?? ""} OUT=${outDev?.name ?? ""} `;
  if (inDev && skb.network >= 14 && inDev.hardHeaderLen === 14) {
    const mac: string[] = [];
    for (let i = skb.network - 14; i < skb.network; i++) mac.push(hex2(skb.data[i]));
    line += `MAC=${mac.join(":")} `;
  }
  const pkt = pktInfo(skb, pf);
  if (pkt.l3 === 4) line += dumpIpv4(skb.data, pkt.nh, pkt.nh + pkt.len, false);
  else if (pkt.l3 === 6) line += dumpIpv6(skb.data, pkt.nh, pkt.nh + pkt.len, false);
  if (skb.mark !== 0) line += `MARK=0x${skb.mark.toString(16)} `;
  kernel.printk(line);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function ipv6Full(d: Uint8Array, off: number): string {
  const v = readIpv6(d, off);
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16).padStart(4, "0"));
  return groups.join(":");
}

/** dump_ipv4_packet. */
function dumpIpv4(d: Uint8Array, nh: number, end: number, inner: boolean): string {
  if (end - nh < 20) return "TRUNCATED";
  const tos = d[nh + 1];
  const ihl = (d[nh] & 0x0f) * 4;
  const frag = readU16(d, nh + 6);
  let s = `SRC=${formatIpv4(readIpv4(d, nh + 12))} DST=${formatIpv4(readIpv4(d, nh + 16))} `;
  s += `LEN=${readU16(d, nh + 2)} TOS=0x${hex2(tos & 0x1e).toUpperCase()} PREC=0x${hex2(tos & 0xe0).toUpperCase()} `;
  s += `TTL=${d[nh + 8]} ID=${readU16(d, nh + 4)} `;
  if ((tos & 3) === 3) s += "CE ";
  if (frag & 0x4000) s += "DF ";
  if (frag & 0x2000) s += "MF ";
  const fragoff = frag & 0x1fff;
  if (fragoff) s += `FRAG:${fragoff} `;
  const proto = d[nh + 9];
  const th = nh + ihl;
  if (proto === 6) return s + dumpTcp(d, th, end, fragoff !== 0);
  if (proto === 17) return s + dumpUdp(d, th, end, fragoff !== 0, "UDP");
  if (proto === 136) return s + dumpUdp(d, th, end, fragoff !== 0, "UDPLITE");
  if (proto === 1) {
    s += "PROTO=ICMP ";
    if (fragoff) return s;
    if (end - th < 4) return `${s}INCOMPLETE [${end - th} bytes] `;
    const type = d[th];
    s += `TYPE=${type} CODE=${d[th + 1]} `;
    if (type === 0 || type === 8) {
      if (end - th >= 8) s += `ID=${readU16(d, th + 4)} SEQ=${readU16(d, th + 6)} `;
    } else if (type === 12) {
      s += `PARAMETER=${d[th + 4]} `;
    } else if (type === 5) {
      s += `GATEWAY=${formatIpv4(readIpv4(d, th + 4))} `;
    }
    if (!inner && (type === 3 || type === 4 || type === 5 || type === 11 || type === 12)) {
      s += `[${dumpIpv4(d, th + 8, end, true)}] `;
      if (type === 3 && d[th + 1] === 4) s += `MTU=${readU16(d, th + 6)} `;
    }
    return s;
  }
  return `${s}PROTO=${proto} `;
}

/** dump_ipv6_packet (extension headers are not itemised). */
function dumpIpv6(d: Uint8Array, nh: number, end: number, inner: boolean): string {
  if (end - nh < 40) return "TRUNCATED";
  const flow = readU32(d, nh);
  let s = `SRC=${ipv6Full(d, nh + 8)} DST=${ipv6Full(d, nh + 24)} `;
  s += `LEN=${readU16(d, nh + 4) + 40} TC=${(flow >>> 20) & 0xff} HOPLIMIT=${d[nh + 7]} FLOWLBL=${flow & 0xfffff} `;
  const proto = d[nh + 6];
  const th = nh + 40;
  if (proto === 6) return s + dumpTcp(d, th, end, false);
  if (proto === 17) return s + dumpUdp(d, th, end, false, "UDP");
  if (proto === 58) {
    s += "PROTO=ICMPv6 ";
    if (end - th < 4) return `${s}INCOMPLETE [${end - th} bytes] `;
    const type = d[th];
    s += `TYPE=${type} CODE=${d[th + 1]} `;
    if (type === 128 || type === 129) {
      if (end - th >= 8) s += `ID=${readU16(d, th + 4)} SEQ=${readU16(d, th + 6)} `;
    } else if (type === 4) {
      s += `POINTER=${readU32(d, th + 4)
        .toString(16)
        .padStart(8, "0")} `;
    }
    if (!inner && type >= 1 && type <= 4) {
      s += `[${dumpIpv6(d, th + 8, end, true)}] `;
      if (type === 2) s += `MTU=${readU32(d, th + 4)} `;
    }
    return s;
  }
  return `${s}PROTO=${proto} `;
}

function dumpTcp(d: Uint8Array, th: number, end: number, frag: boolean): string {
  let s = "PROTO=TCP ";
  if (frag) return s;
  if (end - th < 20) return `${s}INCOMPLETE [${end - th} bytes] `;
  s += `SPT=${readU16(d, th)} DPT=${readU16(d, th + 2)} WINDOW=${readU16(d, th + 14)} `;
  s += `RES=0x${hex2(d[th + 12] & 0x0e)} `;
  const f = d[th + 13];
  const names: [number, string][] = [
    [0x80, "CWR"],
    [0x40, "ECE"],
    [0x20, "URG"],
    [0x10, "ACK"],
    [0x08, "PSH"],
    [0x04, "RST"],
    [0x02, "SYN"],
    [0x01, "FIN"],
  ];
  for (const [bit, name] of names) if (f & bit) s += `${name} `;
  return `${s}URGP=${readU16(d, th + 18)} `;
}

function dumpUdp(d: Uint8Array, th: number, end: number, frag: boolean, name: string): string {
  let s = `PROTO=${name} `;
  if (frag) return s;
  if (end - th < 8) return `${s}INCOMPLETE [${end - th} bytes] `;
  s += `SPT=${readU16(d, th)} DPT=${readU16(d, th + 2)} LEN=${readU16(d, th + 4)} `;
  return s;
}
