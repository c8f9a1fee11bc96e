/**
 * ipvlan device lifecycle and configuration (drivers/net/ipvlan/ipvlan_main.c): the port,
 * rtnl link ops for "ipvlan" and "ipvtap", open/stop, rx-mode and the notifiers that keep
 * slaves in step with their master and learn the slaves' IP addresses.
 */
import {
  ARPHRD,
  type AddrNotification,
  callNetdevNotifiers,
  devChangeFlags,
  devMcAdd,
  devMcDel,
  devSetAllmulti,
  fail,
  IFF,
  type Inet4AddrInfo,
  type Inet6AddrInfo,
  type InfoData,
  type Kernel,
  KernelError,
  type NetDevice,
  type NetdevNotification,
  type NetNamespace,
  type NewLinkAttrs,
  netdevRxHandlerRegister,
  netdevRxHandlerUnregister,
  netifCarrierOff,
  netifCarrierOn,
  netifSetDormant,
  OperState,
  type RtnlLinkOps,
  RxHandlerResult,
  registerNetdevice,
  type SkBuff,
  unregisterNetdevice,
} from "../kernel/index.ts";
import {
  ipvlanAddrBusy,
  ipvlanFindAddr,
  ipvlanHandleFrame,
  ipvlanHtAddrAdd,
  ipvlanHtAddrDel,
  ipvlanStartXmit,
} from "./core.ts";
import { ipvlanJhashSecret, ipvlanMacHashOf, ipvlanPurgeBacklog } from "./multicast.ts";
import { ipvlanL3sRegister, ipvlanL3sUnregister, ipvlanMigrateL3sHook } from "./l3s.ts";
import {
  IPVLAN_DEV_ID_MAX,
  IPVLAN_F_PRIVATE,
  IPVLAN_F_VEPA,
  IPVLAN_MAC_FILTER_SIZE,
  IPVLAN_MODE_L3,
  IPVLAN_MODE_L3S,
  IPVLAN_MODE_MAX,
  IpvlAddr,
  IpvlDev,
  type IpvlanMode,
  type IpvlNetdevOps,
  IpvlPort,
  ipvlanCountRx,
  netifIsIpvlan,
} from "./types.ts";

/** netif_is_ipvlan_port: the device's rx_handler is ipvlan's. */
export function netifIsIpvlanPort(dev: NetDevice): boolean {
  return dev.rxHandler === ipvlanHandleFrame;
}

/** ipvlan_port_get_rtnl: the port of a master, or null. */
export function ipvlanPortGet(dev: NetDevice): IpvlPort | null {
  return netifIsIpvlanPort(dev) ? (dev.rxHandlerData as IpvlPort) : null;
}

// ---- port -----------------------------------------------------------------------------------

/** Mirrors ipvlan_main.c:ipvlan_port_create. */
export function ipvlanPortCreate(dev: NetDevice): IpvlPort {
  const kernel = dev.netns.kernel;
  const port = new IpvlPort(dev, kernel, kernel.random.u32());
  netdevRxHandlerRegister(dev, ipvlanHandleFrame, port);
  return port;
}

/** Mirrors ipvlan_main.c:ipvlan_port_destroy. */
export function ipvlanPortDestroy(dev: NetDevice): void {
  const port = ipvlanPortGet(dev);
  if (!port) return;
  if (port.mode === IPVLAN_MODE_L3S) ipvlanL3sUnregister(port);
  netdevRxHandlerUnregister(dev);
  ipvlanPurgeBacklog(port);
  port.ida.clear();
}

// ---- netdev ops -----------------------------------------------------------------------------

/** netif_stacked_transfer_operstate (net/core/dev.c): dormant and carrier follow the lower device. */
export function netifStackedTransferOperstate(rootdev: NetDevice, dev: NetDevice): void {
  netifSetDormant(dev, rootdev.operstate === OperState.DORMANT);
  if (rootdev.carrier) netifCarrierOn(dev);
  else netifCarrierOff(dev);
}

/** Mirrors ipvlan_main.c:ipvlan_adjust_mtu: a plain assignment, no notification. */
export function ipvlanAdjustMtu(ipvlan: IpvlDev, dev: NetDevice): void {
  ipvlan.mtu = dev.mtu;
}

/** Mirrors ipvlan_main.c:ipvlan_open: NOARP follows the mode, listed addresses get hashed. */
export function ipvlanOpen(dev: IpvlDev): void {
  const port = dev.port;
  if (!port) fail("ENODEV");
  if (port.mode === IPVLAN_MODE_L3 || port.mode === IPVLAN_MODE_L3S) dev.flags |= IFF.NOARP;
  else dev.flags &= ~IFF.NOARP;
  for (const addr of dev.addrs) ipvlanHtAddrAdd(dev, addr);
}

/** Mirrors ipvlan_main.c:ipvlan_stop: unsync the master's lists, unhash (but keep) the addresses. */
export function ipvlanStop(dev: IpvlDev): void {
  devUnsync(dev.phyDev, dev.ucSynced, true);
  devUnsync(dev.phyDev, dev.mcSynced, false);
  for (const addr of dev.addrs) ipvlanHtAddrDel(addr);
}

/** Mirrors ipvlan_main.c:ipvlan_change_rx_flags: ALLMULTI is relayed to the master, PROMISC is not. */
export function ipvlanChangeRxFlags(dev: IpvlDev, change: number): void {
  if (change & IFF.ALLMULTI) devSetAllmulti(dev.phyDev, dev.flags & IFF.ALLMULTI ? 1 : -1);
}

/**
 * Mirrors ipvlan_main.c:ipvlan_set_multicast_mac_filter: the 256-bit filter (all ones when
 * PROMISC/ALLMULTI; else one bit per joined group plus the broadcast bit), then dev_uc_sync /
 * dev_mc_sync into the master. Like __dev_set_rx_mode, nothing happens while the slave is down.
 */
export function ipvlanSetMulticastMacFilter(dev: IpvlDev): void {
  if (!dev.isUp) return;
  const f = dev.macFilters;
  if (dev.flags & (IFF.PROMISC | IFF.ALLMULTI)) {
    f.fill(0xffffffff);
  } else {
    const secret = ipvlanJhashSecret(dev.netns.kernel);
    const bits = new Uint32Array(IPVLAN_MAC_FILTER_SIZE / 32);
    for (const mac of dev.mcList.keys()) setBit(bits, ipvlanMacHashOf(mac, secret));
    setBit(bits, ipvlanMacHashOf(dev.broadcast, secret));
    f.set(bits);
  }
  devSync(dev.phyDev, dev.ucList, dev.ucSynced, true);
  devSync(dev.phyDev, dev.mcList, dev.mcSynced, false);
}

function setBit(bits: Uint32Array, n: number): void {
  bits[n >>> 5] |= 1 << (n & 31);
}

/** dev_uc_sync / dev_mc_sync: add what the slave gained to the master, remove what it lost. */
function devSync(to: NetDevice, list: ReadonlyMap<number, number>, synced: Set<number>, uc: boolean): void {
  for (const mac of list.keys()) {
    if (synced.has(mac)) continue;
    synced.add(mac);
    if (uc) to.ucList.set(mac, (to.ucList.get(mac) ?? 0) + 1);
    else devMcAdd(to, mac);
  }
  for (const mac of [...synced]) {
    if (list.has(mac)) continue;
    synced.delete(mac);
    if (uc) ucDel(to, mac);
    else devMcDel(to, mac);
  }
}

/** dev_uc_unsync / dev_mc_unsync. */
function devUnsync(to: NetDevice, synced: Set<number>, uc: boolean): void {
  for (const mac of synced) {
    if (uc) ucDel(to, mac);
    else devMcDel(to, mac);
  }
  synced.clear();
}

function ucDel(dev: NetDevice, mac: number): void {
  const n = dev.ucList.get(mac) ?? 0;
  if (n <= 1) dev.ucList.delete(mac);
  else dev.ucList.set(mac, n - 1);
}

/** ipvlan_netdev_ops. */
export const ipvlanNetdevOps: IpvlNetdevOps = {
  open: ipvlanOpen,
  stop: ipvlanStop,
  startXmit: ipvlanStartXmit,
  changeRxFlags: ipvlanChangeRxFlags,
  setRxMode: ipvlanSetMulticastMacFilter,
};

// ---- mode and flags -------------------------------------------------------------------------

/**
 * Mirrors ipvlan_main.c:ipvlan_set_port_mode: on a change, NOARP is toggled on every slave
 * already in the port (dev_change_flags), L3S hooks follow, then the mode is stored. A failure
 * reverts the slaves already changed.
 */
export function ipvlanSetPortMode(port: IpvlPort, nval: IpvlanMode): void {
  if (port.mode === nval) return;
  const done: IpvlDev[] = [];
  const l3 = (m: number) => m === IPVLAN_MODE_L3 || m === IPVLAN_MODE_L3S;
  try {
    for (const ipvlan of port.ipvlans) {
      const flags = ipvlan.flags;
      devChangeFlags(ipvlan, l3(nval) ? flags | IFF.NOARP : flags & ~IFF.NOARP);
      done.push(ipvlan);
    }
    if (nval === IPVLAN_MODE_L3S) ipvlanL3sRegister(port);
    else if (port.mode === IPVLAN_MODE_L3S) ipvlanL3sUnregister(port);
  } catch (e) {
    for (const ipvlan of done.reverse()) {
      const flags = ipvlan.flags;
      devChangeFlags(ipvlan, l3(port.mode) ? flags | IFF.NOARP : flags & ~IFF.NOARP);
    }
    throw e;
  }
  port.mode = nval;
}

function u16(data: InfoData | undefined, key: "mode" | "flags"): number | undefined {
  const v = data?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) fail("EINVAL");
  return v & 0xffff;
}

/** Mirrors ipvlan_main.c:ipvlan_nl_validate. */
export function ipvlanNlValidate(data: InfoData | undefined): void {
  if (!data) return;
  const mode = u16(data, "mode");
  if (mode !== undefined && mode >= IPVLAN_MODE_MAX) fail("EINVAL");
  const flags = u16(data, "flags");
  if (flags !== undefined) {
    // Only two bits are defined, and they exclude each other.
    if (flags & ~(IPVLAN_F_PRIVATE | IPVLAN_F_VEPA)) fail("EINVAL");
    if ((flags & (IPVLAN_F_PRIVATE | IPVLAN_F_VEPA)) === (IPVLAN_F_PRIVATE | IPVLAN_F_VEPA)) fail("EINVAL");
  }
}

/** Mirrors ipvlan_main.c:ipvlan_nl_changelink: mode first, flags (absolute) only if it worked. */
export function ipvlanNlChangelink(dev: NetDevice, data: InfoData | undefined): void {
  if (!data || !netifIsIpvlan(dev) || !dev.port) return;
  const port = dev.port;
  const mode = u16(data, "mode");
  if (mode !== undefined) ipvlanSetPortMode(port, mode as IpvlanMode);
  const flags = u16(data, "flags");
  if (flags !== undefined) port.flags = flags & (IPVLAN_F_PRIVATE | IPVLAN_F_VEPA);
}

// ---- creation and deletion ------------------------------------------------------------------

/** ida_simple_get(ida, start, end): the lowest free id in [start, end), or -1. */
function idaGet(ida: Set<number>, start: number, end: number): number {
  for (let id = start; id < end; id++) {
    if (!ida.has(id)) {
      ida.add(id);
      return id;
    }
  }
  return -1;
}

function masterError(master: NetDevice, code: "EINVAL" | "EBUSY", text: string): never {
  master.netns.kernel.printk(`${master.name}: ${text}`);
  return fail(code);
}

/** ipvlan_init (ndo_init): state bits, TSO limits and header length from the master, port refcount. */
function ipvlanInit(dev: IpvlDev): void {
  const phy = dev.phyDev;
  dev.carrier = phy.carrier;
  dev.dormant = phy.dormant;
  dev.tsoMaxSize = phy.tsoMaxSize;
  dev.tsoMaxSegs = phy.tsoMaxSegs;
  dev.hardHeaderLen = phy.hardHeaderLen;
  const port = ipvlanPortGet(phy) ?? ipvlanPortCreate(phy);
  port.count++;
  dev.port = port;
  port.attach(dev);
}

/** ipvlan_uninit (ndo_uninit): drop the port reference, destroy the port with the last slave. */
function ipvlanUninit(dev: IpvlDev): void {
  const port = dev.port;
  if (!port) return;
  const i = port.ipvlans.indexOf(dev);
  if (i >= 0) port.ipvlans.splice(i, 1);
  for (const addr of dev.addrs) ipvlanHtAddrDel(addr);
  port.ida.delete(dev.devId);
  dev.phyDev.uppers.delete(dev);
  port.detach(dev);
  dev.port = null;
  port.count--;
  if (port.count === 0) ipvlanPortDestroy(port.dev);
}

/**
 * Mirrors ipvlan_main.c:ipvlan_link_new. Master checks (an ipvlan slave as master means "a
 * sibling on its master"), device setup and registration, dev_id by next fit, then flags and
 * mode written to the port (mode L3 when absent: last writer wins for every slave).
 */
export function ipvlanLinkNew(net: NetNamespace, attrs: NewLinkAttrs, kind = "ipvlan"): IpvlDev {
  if (!attrs.link) fail("EINVAL");
  let phy = attrs.link;
  if (netifIsIpvlan(phy)) {
    phy = phy.phyDev;
  } else if (!netifIsIpvlanPort(phy)) {
    if (phy.type !== ARPHRD.ETHER || phy.flags & IFF.LOOPBACK) {
      masterError(phy, "EINVAL", "Master is either lo or non-ether device");
    }
    if (phy.rxHandler) masterError(phy, "EBUSY", "Device is already in use.");
  }
  const dev =
    kind === "ipvtap"
      ? new IpvtapDev(attrs.name ?? "ipvtap%d", phy)
      : new IpvlDev(kind, attrs.name ?? "ipvlan%d", phy, ipvlanNetdevOps);
  dev.mac = phy.mac;
  if (attrs.mtu !== undefined) {
    if (attrs.mtu < dev.minMtu) fail("EINVAL", "mtu less than device minimum");
    if (attrs.mtu > dev.maxMtu) fail("EINVAL", "mtu greater than device maximum");
    dev.mtu = attrs.mtu;
  } else {
    ipvlanAdjustMtu(dev, phy);
  }
  if (attrs.txqlen !== undefined) dev.txqlen = attrs.txqlen;
  if (attrs.group !== undefined) dev.group = attrs.group;
  if (attrs.numTxQueues !== undefined) dev.numTxQueues = attrs.numTxQueues;
  if (attrs.numRxQueues !== undefined) dev.numRxQueues = attrs.numRxQueues;

  ipvlanInit(dev);
  try {
    registerNetdevice(net, dev);
  } catch (e) {
    ipvlanUninit(dev);
    throw e;
  }
  const port = dev.port!;
  try {
    // Wrap the next-fit cursor; 0xFFFE is the master's EUI-64 ff:fe.
    if (port.devIdStart === IPVLAN_DEV_ID_MAX + 1) port.devIdStart = 1;
    let id = idaGet(port.ida, port.devIdStart, IPVLAN_DEV_ID_MAX + 1);
    if (id < 0) id = idaGet(port.ida, 1, port.devIdStart);
    if (id < 0) fail("ENOSPC");
    dev.devId = id;
    port.devIdStart = id + 1;
    phy.uppers.add(dev);
    const flags = u16(attrs.infoData, "flags");
    if (flags !== undefined) port.flags = flags;
    ipvlanSetPortMode(port, (u16(attrs.infoData, "mode") ?? IPVLAN_MODE_L3) as IpvlanMode);
  } catch (e) {
    unregisterNetdevice(dev);
    throw e;
  }
  port.ipvlans.push(dev);
  netifStackedTransferOperstate(phy, dev);
  return dev;
}

/** Mirrors ipvlan_main.c:ipvlan_link_delete: addresses leave hash and list, then the device goes. */
export function ipvlanLinkDelete(dev: NetDevice): void {
  if (netifIsIpvlan(dev)) {
    for (const addr of dev.addrs) ipvlanHtAddrDel(addr);
    dev.addrs.length = 0;
    const port = dev.port;
    if (port) {
      const i = port.ipvlans.indexOf(dev);
      if (i >= 0) port.ipvlans.splice(i, 1);
    }
  }
  unregisterNetdevice(dev);
}

/** An ipvtap slave: ipvlan with a tap queue as its own rx_handler (the character device is not modelled). */
export class IpvtapDev extends IpvlDev {
  /** Frames steered to the device, waiting for a reader of /dev/tapN. */
  readonly tapQueue: SkBuff[] = [];

  constructor(name: string, phy: NetDevice) {
    super("ipvtap", name, phy, ipvlanNetdevOps);
    this.qdisc = "pfifo_fast";
    this.txqlen = 500;
    // ipvtap_newlink registers tap_handle_frame before IFF_NO_RX_HANDLER takes effect.
    this.noRxHandler = false;
    netdevRxHandlerRegister(
      this,
      (skb) => {
        if (this.tapQueue.length >= this.txqlen) {
          // tap_handle_frame's drop path: ipvtap_count_rx_dropped → ipvlan_count_rx(failure),
          // i.e. rx_errs (rx_errors and rx_dropped), as §8 of the reference lists it.
          ipvlanCountRx(this, 0, false, false);
          this.countDrop("IPVTAP_QUEUE_FULL");
        } else {
          this.tapQueue.push(skb);
        }
        return RxHandlerResult.CONSUMED;
      },
      null,
    );
    this.noRxHandler = true;
  }
}

/** rtnl_link_ops for "ipvlan" or "ipvtap" (same attributes, same netdev ops). */
export function ipvlanLinkOps(kind: "ipvlan" | "ipvtap"): RtnlLinkOps {
  return {
    kind,
    validate: ipvlanNlValidate,
    newLink: (net, attrs) => ipvlanLinkNew(net, attrs, kind),
    changeLink: ipvlanNlChangelink,
    delLink: ipvlanLinkDelete,
  };
}

// ---- notifiers ------------------------------------------------------------------------------

/**
 * Mirrors ipvlan_main.c:ipvlan_device_event for masters, plus ndo_uninit for slaves that are
 * unregistered. NETDEV_DOWN is not relayed: on the recorded 6.1 kernel a master taken down
 * leaves its slaves' carrier alone (errors.out §7), only UP and CHANGE transfer the operstate.
 */
export function ipvlanDeviceEvent(e: NetdevNotification): void {
  const dev = e.dev;
  if (netifIsIpvlan(dev)) {
    if (e.event === "UNREGISTER" && !e.moving) ipvlanUninit(dev);
    return;
  }
  const port = ipvlanPortGet(dev);
  if (!port) return;
  switch (e.event) {
    case "UP":
    case "CHANGE":
      for (const ipvlan of port.ipvlans) netifStackedTransferOperstate(dev, ipvlan);
      break;
    case "REGISTER": {
      const oldnet = port.pnet;
      if (dev.netns === oldnet) break;
      port.pnet = dev.netns;
      if (port.mode === IPVLAN_MODE_L3S) ipvlanMigrateL3sHook(port, oldnet, dev.netns);
      break;
    }
    case "UNREGISTER":
      if (e.moving) break;
      for (const ipvlan of [...port.ipvlans]) ipvlanLinkDelete(ipvlan);
      break;
    case "FEAT_CHANGE":
      for (const ipvlan of port.ipvlans) {
        ipvlan.tsoMaxSize = dev.tsoMaxSize;
        ipvlan.tsoMaxSegs = dev.tsoMaxSegs;
      }
      break;
    case "CHANGEMTU":
      for (const ipvlan of port.ipvlans) ipvlanAdjustMtu(ipvlan, dev);
      break;
    case "PRE_CHANGEADDR":
      for (const ipvlan of port.ipvlans) callNetdevNotifiers(ipvlan, "PRE_CHANGEADDR", { info: e.info });
      break;
    case "CHANGEADDR":
      for (const ipvlan of port.ipvlans) {
        ipvlan.mac = dev.mac;
        callNetdevNotifiers(ipvlan, "CHANGEADDR");
      }
      break;
    case "PRE_TYPE_CHANGE":
      // The master may not change its type while it has slaves (NOTIFY_BAD → EPERM).
      throw new KernelError("EPERM");
    case "NOTIFY_PEERS":
    case "RESEND_IGMP":
      for (const ipvlan of port.ipvlans) callNetdevNotifiers(ipvlan, e.event);
      break;
  }
}

function slaveOf(dev: NetDevice): IpvlDev | null {
  return netifIsIpvlan(dev) && dev.port ? dev : null;
}

/** Mirrors ipvlan_main.c:ipvlan_add_addr: listed always, hashed if the slave is running. */
export function ipvlanAddAddr(ipvlan: IpvlDev, ip: number | bigint): void {
  const addr = new IpvlAddr(ipvlan, ip);
  ipvlan.addrs.push(addr);
  if (ipvlan.isUp) ipvlanHtAddrAdd(ipvlan, addr);
}

/** Mirrors ipvlan_main.c:ipvlan_del_addr. */
export function ipvlanDelAddr(ipvlan: IpvlDev, ip: number | bigint): void {
  const addr = ipvlanFindAddr(ipvlan, ip);
  if (!addr) return;
  ipvlanHtAddrDel(addr);
  ipvlan.addrs.splice(ipvlan.addrs.indexOf(addr), 1);
}

/** Registration notifiers: a duplicate that slipped past the validator is silently left out. */
function addrEvent(dev: NetDevice, event: "UP" | "DOWN", ip: number | bigint): void {
  const ipvlan = slaveOf(dev);
  if (!ipvlan) return;
  if (event === "UP") {
    if (!ipvlanAddrBusy(ipvlan.port!, ip)) ipvlanAddAddr(ipvlan, ip);
  } else {
    ipvlanDelAddr(ipvlan, ip);
  }
}

/** Mirrors ipvlan_main.c:ipvlan_addr4_event (keyed on ifa_address: the peer of a p-t-p address). */
export function ipvlanAddr4Event(e: AddrNotification<Inet4AddrInfo>): void {
  addrEvent(e.dev, e.event, e.addr.address >>> 0);
}

/** Mirrors ipvlan_main.c:ipvlan_addr6_event. */
export function ipvlanAddr6Event(e: AddrNotification<Inet6AddrInfo>): void {
  addrEvent(e.dev, e.event, e.addr.addr);
}

function validatorEvent(dev: NetDevice, event: "UP" | "DOWN", ip: number | bigint): void {
  const ipvlan = slaveOf(dev);
  if (!ipvlan || event !== "UP") return;
  if (ipvlanAddrBusy(ipvlan.port!, ip)) fail("EADDRINUSE", "Address already assigned to an ipvlan device");
}

/** Mirrors ipvlan_main.c:ipvlan_addr4_validator_event. */
export function ipvlanAddr4ValidatorEvent(e: AddrNotification<Inet4AddrInfo>): void {
  validatorEvent(e.dev, e.event, e.addr.address >>> 0);
}

/** Mirrors ipvlan_main.c:ipvlan_addr6_validator_event. */
export function ipvlanAddr6ValidatorEvent(e: AddrNotification<Inet6AddrInfo>): void {
  validatorEvent(e.dev, e.event, e.addr.addr);
}

/** Mirrors ipvlan_main.c:ipvlan_init_module: link kinds and notifiers. */
export function ipvlanInitModule(kernel: Kernel): void {
  kernel.netdevChain.register(ipvlanDeviceEvent);
  kernel.inetaddrChain.register(ipvlanAddr4Event);
  kernel.inetaddrValidatorChain.register(ipvlanAddr4ValidatorEvent);
  kernel.inet6addrChain.register(ipvlanAddr6Event);
  kernel.inet6addrValidatorChain.register(ipvlanAddr6ValidatorEvent);
  kernel.registerLinkKind(ipvlanLinkOps("ipvlan"));
  kernel.registerLinkKind(ipvlanLinkOps("ipvtap"));
}
