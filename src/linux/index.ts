/**
 * The real Linux backend: TAP slaves switched in user space over an AF_PACKET master, for kernels
 * built without CONFIG_IPVLAN. Layers: libc/abi (koffi bindings), tap + packet-socket (ports),
 * forwarder + worker (the epoll loop on its own thread), data-plane (the daemon's handle),
 * isolation (nftables), switch (the contract the ipvlan engine implements).
 */
export * from "./abi.ts";
export { Counters, PlaneCounter, PortCounter, type PortCounters } from "./counters.ts";
export {
  type DataPlaneOptions,
  DataPlane,
  parseSlaveAddr,
  type Slave,
  type SlaveAddr,
  type SlaveOptions,
  STANDIN_SWITCH_MODULE,
} from "./data-plane.ts";
export { Epoll, EventFd } from "./epoll.ts";
export { errnoError, errnoName, isErrno, LinuxError } from "./errors.ts";
export { Forwarder, type ForwarderOptions, type PollResult } from "./forwarder.ts";
export {
  IFF_NOARP,
  IFF_UP,
  ifExists,
  ifFlags,
  ifHwaddr,
  ifIndex,
  ifMtu,
  ifSetFlag,
  ifSetHwaddr,
  ifSetMtu,
  ifSetUp,
} from "./iface.ts";
export { type IsolationCounters, isolationTableName, MasterIsolation } from "./isolation.ts";
export { allocStable, type Buf, freeStable, raw, type StableMemory, viewStable } from "./libc.ts";
export { type NetnsRef, netnsPath, withNetns, withNetnsFd } from "./netns.ts";
export {
  DEFAULT_RX_MODE,
  type FrameSink,
  PacketSocket,
  type PacketSocketOptions,
  type PacketStats,
  RX_VLAN_STRIPPED,
  type RxMode,
} from "./packet-socket.ts";
export {
  DROP,
  type FrameSwitch,
  MASTER_PORT,
  MAX_PORT,
  type PortEvent,
  type PortId,
  type SwitchActions,
  type SwitchControl,
  type SwitchInit,
  type SwitchModule,
} from "./switch.ts";
export {
  destroyTap,
  TAP_DEFAULT_OFFLOADS,
  Tap,
  type TapAttachOptions,
  type TapCreateOptions,
} from "./tap.ts";
export { SLOT_SIZE, TxBatch } from "./tx-batch.ts";
