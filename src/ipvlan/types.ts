/**
 * The ipvlan data model (drivers/net/ipvlan/ipvlan.h): the per-master port, the slave device,
 * the addresses slaves own, the port's address hash table, modes, flags and limits.
 * The table is built for the data path: lookups read the key straight from the frame bytes,
 * cost the same for 2 or 4096 slaves and allocate nothing.
 */
import type {
  Kernel,
  LinkInfo,
  LinkStats,
  NetdevTxValue,
  NetNamespace,
  SkBuff,
  Timer,
} from "../kernel/index.ts";
import { NetDevice } from "../kernel/index.ts";
import type { MacAddr } from "../wire/index.ts";
import { IpvlAddrTable } from "./addr-table.ts";
import {
  IPVL_IPV4,
  IPVL_IPV6,
  IPVLAN_F_PRIVATE,
  IPVLAN_F_VEPA,
  IPVLAN_MAC_FILTER_SIZE,
  IPVLAN_MODE_L3,
  type IpvlanMode,
} from "./consts.ts";

export * from "./consts.ts";
export { IpvlAddrTable, type IpvlTableEntry, words6 } from "./addr-table.ts";

/** The seven per-slave counters of struct ipvl_pcpu_stats. */
export interface IpvlPcpuStats {
  rxPkts: number;
  rxBytes: number;
  rxMcast: number;
  txPkts: number;
  txBytes: number;
  rxErrs: number;
  txDrps: number;
}

/** What ipvlan_netdev_ops points at; main.ts fills it (kept out of this file to avoid a cycle). */
export interface IpvlNetdevOps {
  open(dev: IpvlDev): void;
  stop(dev: IpvlDev): void;
  startXmit(skb: SkBuff, dev: IpvlDev): NetdevTxValue;
  changeRxFlags(dev: IpvlDev, change: number): void;
  setRxMode(dev: IpvlDev): void;
}

/** struct ipvl_addr: one IPv4 or IPv6 address of a slave. */
export class IpvlAddr {
  /** The slave owning it. */
  readonly master: IpvlDev;
  /** IPVL_IPV4 or IPVL_IPV6. */
  readonly atype: typeof IPVL_IPV4 | typeof IPVL_IPV6;
  /** The IPv4 address (unsigned), or 0. */
  readonly ip4: number;
  /** The IPv6 address, or 0n. */
  readonly ip6: bigint;
  /** Whether it is in the port's hash table (only while the slave is up). */
  hashed = false;

  constructor(master: IpvlDev, ip: number | bigint) {
    this.master = master;
    if (typeof ip === "bigint") {
      this.atype = IPVL_IPV6;
      this.ip4 = 0;
      this.ip6 = ip;
    } else {
      this.atype = IPVL_IPV4;
      this.ip4 = ip >>> 0;
      this.ip6 = 0n;
    }
  }
}

/** An skb queued on the port backlog, with IPVL_SKB_CB(skb)->tx_pkt. */
export interface IpvlBacklogEntry {
  readonly skb: SkBuff;
  /** True when a slave sent it (deliver with dev_forward_skb, then transmit on the master). */
  readonly txPkt: boolean;
}

/** struct ipvl_port: the state shared by all slaves of one master. */
export class IpvlPort {
  /** The master (phy_dev). */
  readonly dev: NetDevice;
  /** The kernel (event loop for the multicast work item). */
  readonly kernel: Kernel;
  /** The namespace the master lives in (port->pnet; L3S hooks live there). */
  pnet: NetNamespace;
  /** Port-wide mode (initially L3). */
  mode: IpvlanMode = IPVLAN_MODE_L3;
  /** Port-wide IPVLAN_F_* bits. */
  flags = 0;
  /** Slaves in creation order (port->ipvlans). */
  readonly ipvlans: IpvlDev[] = [];
  /** Hashed addresses of running slaves (port->hlhead). */
  readonly table: IpvlAddrTable<IpvlAddr>;
  /** Allocated dev_ids (port->ida). */
  readonly ida = new Set<number>();
  /** Next-fit cursor of the dev_id allocator (port->dev_id_start). */
  devIdStart = 1;
  /** Multicast/broadcast frames waiting for the work item (port->backlog). */
  readonly backlog: IpvlBacklogEntry[] = [];
  /** The scheduled work item (port->wq), if any. */
  work: Timer | null = null;
  /** Number of slaves holding the port (port->count). */
  count = 0;
  /** Slaves by port slot (dense, reused after deletion; null = free). */
  readonly devs: (IpvlDev | null)[] = [];
  /**
   * Receive counters by slot, [packets, bytes] (the per-CPU rx_pkts/rx_bytes of ipvl_pcpu_stats):
   * one dense array, so counting a steered frame does not touch the slave's own objects.
   */
  rx = new Float64Array(32);
  readonly #free: number[] = [];

  constructor(dev: NetDevice, kernel: Kernel, secret: number) {
    this.dev = dev;
    this.kernel = kernel;
    this.pnet = dev.netns;
    this.table = new IpvlAddrTable(secret);
  }

  /** Gives a joining slave a slot. */
  attach(dev: IpvlDev): void {
    const slot = this.#free.pop() ?? this.devs.length;
    if (slot === this.devs.length) this.devs.push(dev);
    else this.devs[slot] = dev;
    if (2 * slot + 2 > this.rx.length) {
      const rx = new Float64Array(this.rx.length * 2);
      rx.set(this.rx);
      this.rx = rx;
    }
    dev.slot = slot;
  }

  /** Takes a leaving slave's slot back; its receive counters move into the device. */
  detach(dev: IpvlDev): void {
    const slot = dev.slot;
    if (slot < 0 || this.devs[slot] !== dev) return;
    dev.foldRx(this.rx[2 * slot], this.rx[2 * slot + 1]);
    this.rx[2 * slot] = 0;
    this.rx[2 * slot + 1] = 0;
    this.devs[slot] = null;
    this.#free.push(slot);
    dev.slot = -1;
  }
}

/** ipvlan_is_private. */
export function ipvlanIsPrivate(port: IpvlPort): boolean {
  return (port.flags & IPVLAN_F_PRIVATE) !== 0;
}

/** ipvlan_is_vepa. */
export function ipvlanIsVepa(port: IpvlPort): boolean {
  return (port.flags & IPVLAN_F_VEPA) !== 0;
}

/** ethtool -i: what ipvlan_ethtool_get_drvinfo reports. */
export interface IpvlDrvInfo {
  readonly driver: string;
  readonly version: string;
}

/**
 * A slave's link statistics (what ipvlan_get_stats64 reports). rx_packets and rx_bytes are
 * accessors summing the port's per-slot counters, where the receive path counts them (the
 * kernel's per-CPU counters), and what the slave carried from an earlier slot; every other
 * field is plain. The accessors live on the prototype, so read fields by name (`toJSON` lists
 * them all; an object spread would miss the two accessors).
 */
export class IpvlLinkStats implements LinkStats {
  readonly #dev: IpvlDev;
  /** Receive counters carried over from a port slot the slave has given up. */
  rxPktsBase = 0;
  rxBytesBase = 0;
  txPackets = 0;
  txBytes = 0;
  rxErrors = 0;
  txErrors = 0;
  rxDropped = 0;
  txDropped = 0;
  multicast = 0;
  collisions = 0;
  rxLengthErrors = 0;
  rxOverErrors = 0;
  rxCrcErrors = 0;
  rxFrameErrors = 0;
  rxFifoErrors = 0;
  rxMissedErrors = 0;
  txAbortedErrors = 0;
  txCarrierErrors = 0;
  txFifoErrors = 0;
  txHeartbeatErrors = 0;
  txWindowErrors = 0;
  rxCompressed = 0;
  txCompressed = 0;
  rxNohandler = 0;

  constructor(dev: IpvlDev) {
    this.#dev = dev;
  }

  #slotRx(k: 0 | 1): number {
    const dev = this.#dev;
    const port = dev.port;
    return port !== null && dev.slot >= 0 ? port.rx[2 * dev.slot + k] : 0;
  }

  /** rx_packets. */
  get rxPackets(): number {
    return this.rxPktsBase + this.#slotRx(0);
  }

  set rxPackets(v: number) {
    this.rxPktsBase = v - this.#slotRx(0);
  }

  /** rx_bytes. */
  get rxBytes(): number {
    return this.rxBytesBase + this.#slotRx(1);
  }

  set rxBytes(v: number) {
    this.rxBytesBase = v - this.#slotRx(1);
  }

  /** The 24 LinkStats fields as a plain object. */
  toJSON(): LinkStats {
    const { rxPktsBase: _p, rxBytesBase: _b, ...rest } = this;
    return { rxPackets: this.rxPackets, rxBytes: this.rxBytes, ...rest };
  }
}

/** struct ipvl_dev: an ipvlan (or ipvtap) slave device. */
export class IpvlDev extends NetDevice {
  /** The master (phy_dev). */
  readonly phyDev: NetDevice;
  /** The port; null once the slave has been torn down. */
  port: IpvlPort | null = null;
  /** This slave's slot in the port (index of its receive counters), -1 outside a port. */
  slot = -1;
  /**
   * Link statistics. rx_packets and rx_bytes are read through to the port's per-slot counters
   * (ipvlan_get_stats64 summing the per-CPU counters); everything else is a plain field.
   */
  override readonly stats: IpvlLinkStats = new IpvlLinkStats(this);
  /** The addresses the IP stacks gave this slave (ipvlan->addrs), hashed or not. */
  readonly addrs: IpvlAddr[] = [];
  /** 256-bit multicast MAC filter (ipvlan->mac_filters). */
  readonly macFilters = new Uint32Array(IPVLAN_MAC_FILTER_SIZE / 32);
  /** ipvl_pcpu_stats.rx_errs; folded into stats.rxErrors and stats.rxDropped as it grows. */
  rxErrs = 0;
  /** ipvl_pcpu_stats.tx_drps; folded into stats.txDropped as it grows. */
  txDrps = 0;
  /** Unicast/multicast addresses this slave has synced into the master (dev_uc_sync/dev_mc_sync). */
  readonly ucSynced = new Set<MacAddr>();
  readonly mcSynced = new Set<MacAddr>();
  readonly #ops: IpvlNetdevOps;

  constructor(kind: string, name: string, phyDev: NetDevice, ops: IpvlNetdevOps) {
    super(kind, name);
    this.phyDev = phyDev;
    this.#ops = ops;
    // ipvlan_link_setup (ether_setup + ipvlan specifics).
    this.maxMtu = 65535;
    this.minMtu = 68;
    this.qdisc = "noqueue";
    this.noRxHandler = true;
    this.vlanChallenged = true;
    this.ndoSetMacAddress = null;
  }

  /** Adds the receive counters of a port slot being given up. */
  foldRx(pkts: number, bytes: number): void {
    this.stats.rxPktsBase += pkts;
    this.stats.rxBytesBase += bytes;
  }

  /**
   * The seven driver counters (ipvl_pcpu_stats). The success counters are what `stats` shows
   * (ipvlan_get_stats64 copies them unchanged); rx_errs and tx_drps are kept apart because the
   * core adds its own drops to the fields they fold into.
   */
  get pcpuStats(): IpvlPcpuStats {
    const st = this.stats;
    return {
      rxPkts: st.rxPackets,
      rxBytes: st.rxBytes,
      rxMcast: st.multicast,
      txPkts: st.txPackets,
      txBytes: st.txBytes,
      rxErrs: this.rxErrs,
      txDrps: this.txDrps,
    };
  }

  /** Mirrors ipvlan_main.c:ipvlan_open. */
  override ndoOpen(): void {
    this.#ops.open(this);
  }

  /** Mirrors ipvlan_main.c:ipvlan_stop. */
  override ndoStop(): void {
    this.#ops.stop(this);
  }

  /** Mirrors ipvlan_main.c:ipvlan_start_xmit. */
  override ndoStartXmit(skb: SkBuff): NetdevTxValue {
    return this.#ops.startXmit(skb, this);
  }

  /** Mirrors ipvlan_main.c:ipvlan_change_rx_flags. */
  override ndoChangeRxFlags(change: number): void {
    this.#ops.changeRxFlags(this, change);
  }

  /** Mirrors ipvlan_main.c:ipvlan_set_multicast_mac_filter. */
  override ndoSetRxMode(): void {
    this.#ops.setRxMode(this);
  }

  /** Mirrors ipvlan_main.c:ipvlan_get_iflink. */
  override ndoGetIflink(): number {
    return this.phyDev.ifindex;
  }

  /** The master. */
  override lowerDevice(): NetDevice {
    return this.phyDev;
  }

  /** Mirrors ipvlan_main.c:ipvlan_hard_header: the source is always the master's current MAC. */
  override hardHeaderSource(): MacAddr {
    return this.phyDev.mac;
  }

  /** Mirrors ipvlan_main.c:ipvlan_nl_fillinfo: mode and flags come from the port. */
  override linkInfo(): LinkInfo {
    const port = this.port;
    return {
      kind: this.kind,
      data: { mode: port ? port.mode : IPVLAN_MODE_L3, flags: port ? port.flags : 0 },
    };
  }

  /** Mirrors ipvlan_main.c:ipvlan_ethtool_get_drvinfo. */
  ethtoolDrvinfo(): IpvlDrvInfo {
    return { driver: "ipvlan", version: "0.1" };
  }

  /** Mirrors ipvlan_main.c:ipvlan_ethtool_get_link_ksettings: the master's settings. */
  ethtoolLinkKsettingsDev(): NetDevice {
    return this.phyDev;
  }
}

/** netif_is_ipvlan: the device uses ipvlan's netdev ops (ipvlan or ipvtap). */
export function netifIsIpvlan(dev: NetDevice): dev is IpvlDev {
  return dev instanceof IpvlDev;
}

/** Drop reasons ipvlan counts with `dev.countDrop` (one per counter increment it makes). */
export const IpvlDrop = {
  /** TX: frame shorter than an Ethernet header (queue_xmit). */
  SHORT_FRAME: "IPVLAN_SHORT_FRAME",
  /** TX: the master has no port any more. */
  NO_PORT: "IPVLAN_NO_PORT",
  /** TX: the port is in an unknown mode (cannot happen after validation). */
  BAD_MODE: "IPVLAN_BAD_MODE",
  /** TX: destination is a sibling and the port is private. */
  PRIVATE: "IPVLAN_PRIVATE",
  /** TX (L3/L3S): multicast/broadcast destination MAC. */
  L3_MULTICAST: "IPVLAN_L3_MULTICAST",
  /** TX (L3/L3S): neither IPv4 nor IPv6. */
  NON_IP: "IPVLAN_NON_IP",
  /** TX (L3/L3S): the IP header is too short to route. */
  BAD_IP_HEADER: "IPVLAN_BAD_IP_HEADER",
  /** TX (L3/L3S): no usable route in the master's namespace (tx_errors on the master). */
  ROUTE_FAIL: "IPVLAN_ROUTE_FAIL",
  /** TX (L3/L3S): ip_local_out / ip6_local_out refused it (netfilter, neighbour...). */
  OUTPUT_FAIL: "IPVLAN_OUTPUT_FAIL",
  /** TX (L2): dev_queue_xmit on the master failed (master down...). */
  MASTER_XMIT_FAIL: "IPVLAN_MASTER_XMIT_FAIL",
  /** RX error: local delivery to a slave that is down. */
  TARGET_DOWN: "IPVLAN_TARGET_DOWN",
  /** RX error: dev_forward_skb / netif_rx refused the frame (the core names its own reason too). */
  FORWARD_FAIL: "IPVLAN_FORWARD_FAIL",
  /** Multicast backlog full (on the master for RX frames, on the sending slave for TX frames). */
  MULTICAST_BACKLOG: "IPVLAN_MULTICAST_BACKLOG",
  /** Ethernet PAUSE frames are never queued for slaves. */
  PAUSE_FRAME: "IPVLAN_PAUSE_FRAME",
  /** A queued frame whose port went away before the work item ran. */
  PORT_GONE: "IPVLAN_PORT_GONE",
} as const;

/**
 * Mirrors ipvlan.h:ipvlan_count_rx. rx_pkts/rx_bytes go to the port's per-slot counters (read
 * through `stats`); rx_errs is folded as ipvlan_get_stats64 does: rx_errors = rx_dropped += it.
 */
export function ipvlanCountRx(ipvlan: IpvlDev, len: number, success: boolean, mcast: boolean): void {
  const st = ipvlan.stats;
  if (success) {
    const port = ipvlan.port;
    const slot = ipvlan.slot;
    if (port !== null && slot >= 0) {
      port.rx[2 * slot]++;
      port.rx[2 * slot + 1] += len;
    } else {
      st.rxPackets++;
      st.rxBytes += len;
    }
    if (mcast) st.multicast++;
  } else {
    ipvlan.rxErrs++;
    st.rxErrors++;
    st.rxDropped++;
  }
}
