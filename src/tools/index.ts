/** Simulated userland tools other than `ip`. */
export type { ToolContext } from "./context.ts";
export { conntrackMain } from "./conntrack.ts";
export { dmesgMain } from "./dmesg.ts";
export { DROP_REASONS, type DropReasonInfo, dropReasonKind } from "./drop-reasons.ts";
export { IPVL_DROPS_USAGE, ipvlDropsMain } from "./ipvl-drops.ts";
export { nftMain } from "./nft.ts";
export { compileFilter, type FilterFn, FilterError, type FilterPacket } from "./pcap-filter.ts";
export { pingMain } from "./ping.ts";
export { procSysLookup, procSysWrite } from "./procfs.ts";
export { sysctlMain } from "./sysctl.ts";
export { catSysMain, sysfsKind, sysfsRead } from "./sysfs.ts";
export { tcpdumpMain } from "./tcpdump.ts";
export { PacketPrinter, type PrintOptions } from "./tcpdump-print.ts";
export { Stamper, type StampMode } from "./tcpdump-util.ts";
