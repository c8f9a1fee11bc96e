/** The IPv4 stack's public surface (re-exported by src/kernel/index.ts). */
export { ARPOP, arpSend } from "./arp.ts";
export {
  type AddrNlFlags,
  type AddrSelector,
  type InDevice,
  IGMP_ALL_HOSTS,
  ifaRemainingLifetimes,
  inDevGet,
  inetAddrAdd,
  inetAddrDel,
  inetAddrFlush,
  inetAddrList,
  inetConfirmAddr,
  inetSelectAddr,
  ipDevFind,
} from "./devinet.ts";
export {
  DEFAULT_RULES,
  type FibResult,
  fibGetTable,
  fibLookup,
  fibNewTable,
  fibResultPrefsrc,
  fibRouteAdd,
  fibRouteDel,
  fibRouteFlush,
  fibRoutes,
  fibTablesInDumpOrder,
  inetAddrType,
  isLocalAddr,
  type RouteNlFlags,
} from "./fib.ts";
export { FibTable } from "./fib-table.ts";
export { ICMP, ICMP_UNREACH, IPPROTO } from "./hdr.ts";
export { icmpSend } from "./icmp.ts";
export { ipv4Enabled, ipv4Init } from "./init.ts";
export { inetProtos, ipLocalDeliver, ipRcv, ipRcvFinish } from "./input.ts";
export { ipFinishOutput2, ipLocalOut, NET_XMIT, skbDst, skbDstSet } from "./output.ts";
export {
  type PingReply,
  type PingSendOptions,
  PingSock,
  type PmtuDisc,
  pingPayload,
  pingSocket,
} from "./ping.ts";
export { fibValidateSource, ipRouteInput, ipRouteOutput, ipRtUpdatePmtu } from "./route.ts";
export { type FibRule, type Ipv4Mib, type Ipv4Net, ipv4Net } from "./state.ts";
export { DEVCONF_DEFAULTS, devconf, IPV4_SYSCTL_DEFAULTS } from "./sysctl.ts";
export * from "./types.ts";
export { type UdpDatagram, UdpSock, udpSocket } from "./udp.ts";
