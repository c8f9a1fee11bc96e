/**
 * The ipvlan driver: `ipvlanInit(kernel)` registers the "ipvlan" and "ipvtap" link kinds and
 * the notifiers (netdev, IPv4/IPv6 address and validator chains) the driver needs.
 */
import type { Kernel } from "../kernel/index.ts";
import { ipvlanInitModule } from "./main.ts";

export { ipvlanAddrBusy, ipvlanHandleFrame, ipvlanStartXmit } from "./core.ts";
export { ipvlanMacHash } from "./multicast.ts";
export { ipvlanNfHookRefcnt } from "./l3s.ts";
export { IpvtapDev, ipvlanAddAddr, ipvlanDelAddr, ipvlanPortGet, netifIsIpvlanPort } from "./main.ts";
export {
  IPVLAN_F_PRIVATE,
  IPVLAN_F_VEPA,
  IPVLAN_MODE_L2,
  IPVLAN_MODE_L3,
  IPVLAN_MODE_L3S,
  IPVLAN_MODE_MAX,
  IPVLAN_QBACKLOG_LIMIT,
  type IpvlAddr,
  IpvlDrop,
  IpvlDev,
  type IpvlDrvInfo,
  type IpvlanMode,
  type IpvlPcpuStats,
  type IpvlPort,
  netifIsIpvlan,
} from "./types.ts";

/** Registers the ipvlan driver in a kernel (module init). Call once per kernel. */
export function ipvlanInit(kernel: Kernel): void {
  ipvlanInitModule(kernel);
}
