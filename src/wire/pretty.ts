/**
 * One-line, tcpdump-like summaries of Ethernet frames, for traces, test failures and fuzzing
 * (formatting a frame parses every layer).
 * @module
 */

import { formatIpv4, formatIpv6, formatMac } from "./addr.ts";
import type { ArpRepr } from "./arp.ts";
import { ArpOp } from "./arp.ts";
import { type ChecksumCaps, CHECKSUM_CAPS_DEFAULT } from "./checksum.ts";
import { EtherType } from "./ethernet.ts";
import { type FrameRepr, parseFrame } from "./frame.ts";
import type { Icmpv4Repr } from "./icmpv4.ts";
import type { Icmpv6Repr } from "./icmpv6.ts";
import type { Ipv6ExtHeader } from "./ipv6-ext.ts";
import type { NdiscOption } from "./ndisc-option.ts";
import { type TcpOption, type TcpRepr, TcpFlag } from "./tcp.ts";

function hex(n: number, width: number): string {
  return `0x${n.toString(16).padStart(width, "0")}`;
}

function etherTypeName(t: number): string {
  switch (t) {
    case EtherType.Ipv4:
      return "IPv4";
    case EtherType.Ipv6:
      return "IPv6";
    case EtherType.Arp:
      return "ARP";
    case EtherType.Vlan:
      return "802.1Q";
  }
  return `ethertype ${hex(t, 4)}`;
}

function arpSummary(a: ArpRepr): string {
  const tell = formatIpv4(a.senderIp);
  if (a.operation === ArpOp.Request) return `Request who-has ${formatIpv4(a.targetIp)} tell ${tell}`;
  if (a.operation === ArpOp.Reply) return `Reply ${tell} is-at ${formatMac(a.senderMac)}`;
  return `op ${a.operation} ${tell} (${formatMac(a.senderMac)}) > ${formatIpv4(a.targetIp)}`;
}

function tcpOption(o: TcpOption): string {
  switch (o.kind) {
    case "eol":
      return "eol";
    case "nop":
      return "nop";
    case "mss":
      return `mss ${o.value}`;
    case "window-scale":
      return `wscale ${o.shift}`;
    case "sack-permitted":
      return "sackOK";
    case "sack":
      return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(" ")}`;
    case "timestamp":
      return `TS val ${o.tsval} ecr ${o.tsecr}`;
    case "unknown":
      return `opt-${o.type}:${o.data.length}`;
  }
}

const TCP_FLAG_LETTERS: readonly (readonly [number, string])[] = [
  [TcpFlag.Syn, "S"],
  [TcpFlag.Fin, "F"],
  [TcpFlag.Rst, "R"],
  [TcpFlag.Psh, "P"],
  [TcpFlag.Urg, "U"],
  [TcpFlag.Ece, "E"],
  [TcpFlag.Cwr, "W"],
  [TcpFlag.Ae, "e"],
  [TcpFlag.Ack, "."],
];

function tcpSummary(t: TcpRepr): string {
  let flags = "";
  for (const [bit, letter] of TCP_FLAG_LETTERS) if ((t.flags & bit) !== 0) flags += letter;
  const opts = t.options.length === 0 ? "" : `, options [${t.options.map(tcpOption).join(",")}]`;
  return `TCP ${t.srcPort} > ${t.dstPort}: Flags [${flags || "none"}], seq ${t.seq}, ack ${t.ack}, win ${t.window}${opts}, length ${t.payload.length}`;
}

function icmpv4Summary(m: Icmpv4Repr): string {
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      return `ICMP echo ${m.kind === "echo-request" ? "request" : "reply"}, id ${m.ident}, seq ${m.seq}, length ${8 + m.data.length}`;
    case "dest-unreachable":
      return `ICMP unreachable code ${m.code}${m.code === 4 ? ` mtu ${m.nextHopMtu}` : ""}, length ${8 + m.data.length}`;
    case "time-exceeded":
      return `ICMP time exceeded code ${m.code}, length ${8 + m.data.length}`;
    case "redirect":
      return `ICMP redirect code ${m.code} to ${formatIpv4(m.gateway)}, length ${8 + m.data.length}`;
    case "other":
      return `ICMP type ${m.type} code ${m.code}, length ${4 + m.data.length}`;
  }
}

function ndOption(o: NdiscOption): string {
  switch (o.kind) {
    case "source-ll-addr":
      return `sll ${formatMac(o.addr)}`;
    case "target-ll-addr":
      return `tll ${formatMac(o.addr)}`;
    case "prefix-info":
      return `prefix ${formatIpv6(o.prefix)}/${o.prefixLen} flags ${hex(o.flags, 2)} valid ${o.validLifetime} pref ${o.preferredLifetime}`;
    case "redirected-header":
      return `redirected ${o.data.length}B`;
    case "mtu":
      return `mtu ${o.mtu}`;
    case "unknown":
      return `opt-${o.type}:${o.data.length + 2}`;
  }
}

function ndOptions(options: readonly NdiscOption[]): string {
  return options.length === 0 ? "" : ` [${options.map(ndOption).join(", ")}]`;
}

function icmpv6Summary(m: Icmpv6Repr): string {
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      return `ICMP6 echo ${m.kind === "echo-request" ? "request" : "reply"}, id ${m.ident}, seq ${m.seq}, length ${8 + m.data.length}`;
    case "dest-unreachable":
      return `ICMP6 destination unreachable code ${m.code}, length ${8 + m.data.length}`;
    case "packet-too-big":
      return `ICMP6 packet too big, mtu ${m.mtu}, length ${8 + m.data.length}`;
    case "time-exceeded":
      return `ICMP6 time exceeded code ${m.code}, length ${8 + m.data.length}`;
    case "param-problem":
      return `ICMP6 parameter problem code ${m.code} pointer ${m.pointer}, length ${8 + m.data.length}`;
    case "mld-query":
      return `ICMP6 multicast listener query${m.v2 === undefined ? "" : " v2"} ${formatIpv6(m.group)}, max resp ${m.maxResp}`;
    case "mld-report":
      return `ICMP6 multicast listener report ${formatIpv6(m.group)}`;
    case "mld-done":
      return `ICMP6 multicast listener done ${formatIpv6(m.group)}`;
    case "mldv2-report":
      return `ICMP6 multicast listener report v2, ${m.records.length} group record(s) [${m.records
        .map((r) => `type ${r.recordType} ${formatIpv6(r.group)} ${r.sources.length} src`)
        .join(", ")}]`;
    case "router-solicit":
      return `ICMP6 router solicitation${ndOptions(m.options)}`;
    case "router-advert":
      return `ICMP6 router advertisement, hop limit ${m.hopLimit}, flags ${hex(m.flags, 2)}, lifetime ${m.routerLifetime}${ndOptions(m.options)}`;
    case "neighbor-solicit":
      return `ICMP6 neighbor solicitation, who has ${formatIpv6(m.target)}${ndOptions(m.options)}`;
    case "neighbor-advert": {
      const flags = [m.router ? "router" : "", m.solicited ? "solicited" : "", m.override ? "override" : ""];
      return `ICMP6 neighbor advertisement, tgt is ${formatIpv6(m.target)}, flags [${flags.filter((f) => f !== "").join(", ")}]${ndOptions(m.options)}`;
    }
    case "redirect":
      return `ICMP6 redirect ${formatIpv6(m.dest)} to ${formatIpv6(m.target)}${ndOptions(m.options)}`;
    case "other":
      return `ICMP6 type ${m.type} code ${m.code}, length ${4 + m.data.length}`;
  }
}

function extHeader(h: Ipv6ExtHeader): string {
  switch (h.kind) {
    case "hop-by-hop":
      return `HBH(${h.options.map((o) => o.type).join(",")})`;
    case "dest-opts":
      return `DSTOPT(${h.options.map((o) => o.type).join(",")})`;
    case "routing":
      return `RT(type ${h.routingType}, segleft ${h.segmentsLeft})`;
    case "fragment":
      return `frag(${hex(h.ident, 8)}:${h.offset}${h.moreFrags ? "+" : ""})`;
  }
}

function transportSummary(f: FrameRepr, protocol: number): string {
  if (f.udp !== undefined) return `UDP ${f.udp.srcPort} > ${f.udp.dstPort}, length ${f.udp.payload.length}`;
  if (f.tcp !== undefined) return tcpSummary(f.tcp);
  if (f.icmpv4 !== undefined) return icmpv4Summary(f.icmpv4);
  if (f.icmpv6 !== undefined) return icmpv6Summary(f.icmpv6);
  return `proto ${protocol}, length ${f.payload?.length ?? 0}`;
}

/** Summarises an already parsed frame on one line. */
export function formatFrameRepr(f: FrameRepr): string {
  const e = f.eth;
  const vlan = e.vlan === undefined ? "" : `, vlan ${e.vlan.vid} p ${e.vlan.pcp}`;
  let line = `${formatMac(e.src)} > ${formatMac(e.dst)}${vlan}, ${etherTypeName(e.etherType)}: `;
  if (f.arp !== undefined) {
    line += arpSummary(f.arp);
  } else if (f.ipv4 !== undefined) {
    const ip = f.ipv4;
    const frag =
      ip.moreFrags || ip.fragOffset !== 0 ? ` frag ${ip.fragOffset}${ip.moreFrags ? "+" : ""}` : "";
    line += `${formatIpv4(ip.src)} > ${formatIpv4(ip.dst)} (tos ${hex((ip.dscp << 2) | ip.ecn, 2)}, ttl ${ip.ttl}, id ${ip.ident}${ip.dontFrag ? ", DF" : ""}${frag}${ip.options.length > 0 ? `, options ${ip.options.length}B` : ""}): `;
    line += transportSummary(f, ip.protocol);
  } else if (f.ipv6 !== undefined) {
    const ip = f.ipv6;
    const ext = ip.extHeaders.length === 0 ? "" : ` ${ip.extHeaders.map(extHeader).join(" ")}`;
    line += `${formatIpv6(ip.src)} > ${formatIpv6(ip.dst)} (flowlabel ${hex(ip.flowLabel, 5)}, hlim ${ip.hopLimit})${ext}: `;
    line += transportSummary(f, ip.nextHeader);
  } else {
    line += `length ${f.payload?.length ?? 0}`;
  }
  return f.padding === undefined ? line : `${line} (padding ${f.padding.length})`;
}

/** Parses every layer of `bytes` and summarises it on one line; throws `WireError` like `parseFrame`. */
export function formatFrame(bytes: Uint8Array, caps: ChecksumCaps = CHECKSUM_CAPS_DEFAULT): string {
  return formatFrameRepr(parseFrame(bytes, caps));
}
