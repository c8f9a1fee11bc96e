/**
 * struct net_device: identity, flags, link state, statistics and the hooks a driver fills.
 * Drivers subclass {@link NetDevice} and override the `ndo*` methods they implement;
 * the generic operations on devices live in dev.ts (as net/core/dev.c).
 */
import type { MacAddr } from "../wire/index.ts";
import type { NetNamespace } from "./netns.ts";
import type { SkBuff } from "./skb.ts";
import { Slots } from "./slots.ts";

/** Interface flags (include/uapi/linux/if.h). */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
} as const;

/** Flags a user may change with `ip link set` (dev_change_flags masks the rest). */
export const IFF_USER_CHANGEABLE =
  IFF.UP |
  IFF.DEBUG |
  IFF.NOTRAILERS |
  IFF.NOARP |
  IFF.DYNAMIC |
  IFF.MULTICAST |
  IFF.PORTSEL |
  IFF.AUTOMEDIA |
  IFF.PROMISC |
  IFF.ALLMULTI;

/** Hardware types (include/uapi/linux/if_arp.h). */
export const ARPHRD = {
  ETHER: 1,
  NONE: 0xfffe,
  LOOPBACK: 772,
  VOID: 0xffff,
} as const;

/** RFC 2863 operational states (IF_OPER_*), as iproute2 names them. */
export const OperState = {
  UNKNOWN: 0,
  NOTPRESENT: 1,
  DOWN: 2,
  LOWERLAYERDOWN: 3,
  TESTING: 4,
  DORMANT: 5,
  UP: 6,
} as const;

/** One operational state value. */
export type OperStateValue = (typeof OperState)[keyof typeof OperState];

/** Device statistics (struct rtnl_link_stats64), the fields `ip -s -s link` shows. */
export interface LinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  multicast: number;
  collisions: number;
  rxLengthErrors: number;
  rxOverErrors: number;
  rxCrcErrors: number;
  rxFrameErrors: number;
  rxFifoErrors: number;
  rxMissedErrors: number;
  txAbortedErrors: number;
  txCarrierErrors: number;
  txFifoErrors: number;
  txHeartbeatErrors: number;
  txWindowErrors: number;
  rxCompressed: number;
  txCompressed: number;
  rxNohandler: number;
}

/** A zeroed statistics block. */
export function newLinkStats(): LinkStats {
  return {
    rxPackets: 0,
    txPackets: 0,
    rxBytes: 0,
    txBytes: 0,
    rxErrors: 0,
    txErrors: 0,
    rxDropped: 0,
    txDropped: 0,
    multicast: 0,
    collisions: 0,
    rxLengthErrors: 0,
    rxOverErrors: 0,
    rxCrcErrors: 0,
    rxFrameErrors: 0,
    rxFifoErrors: 0,
    rxMissedErrors: 0,
    txAbortedErrors: 0,
    txCarrierErrors: 0,
    txFifoErrors: 0,
    txHeartbeatErrors: 0,
    txWindowErrors: 0,
    rxCompressed: 0,
    txCompressed: 0,
    rxNohandler: 0,
  };
}

/** What an rx_handler decides (include/linux/netdevice.h: enum rx_handler_result). */
export const RxHandlerResult = {
  /** The handler took the frame; stop. */
  CONSUMED: 0,
  /** skb.dev was changed; run the receive path again on the new device. */
  ANOTHER: 1,
  /** Exact-match delivery only (unused here). */
  EXACT: 2,
  /** Continue with the normal protocol handlers of this device. */
  PASS: 3,
} as const;

/** One rx_handler result. */
export type RxHandlerResultValue = (typeof RxHandlerResult)[keyof typeof RxHandlerResult];

/** An rx_handler (netdev_rx_handler_register); may replace skb.dev and return ANOTHER. */
export type RxHandler = (skb: SkBuff) => RxHandlerResultValue;

/** What ndo_start_xmit returns (NETDEV_TX_OK etc., plus the NET_XMIT_* codes of dev_queue_xmit). */
export const NetdevTx = {
  OK: 0,
  DROP: 1,
  CN: 2,
  BUSY: 0x10,
} as const;

/** One transmit result. */
export type NetdevTxValue = (typeof NetdevTx)[keyof typeof NetdevTx];

/** Kind-specific attributes printed by `ip -d link` (IFLA_LINKINFO). */
export interface LinkInfo {
  readonly kind: string;
  /** IFLA_INFO_DATA as ordered key/values; printing is iproute2's job. */
  readonly data?: Readonly<Record<string, string | number | boolean>>;
}

/** The base of every simulated network device. */
export class NetDevice {
  /** Driver name of the device kind ("veth", "ipvlan", "loopback" ...). */
  readonly kind: string;
  /** Interface index in its current namespace. */
  ifindex = 0;
  /** Interface name. */
  name: string;
  /** The namespace the device lives in. */
  netns!: NetNamespace;
  /** ARPHRD_* hardware type. */
  type: number = ARPHRD.ETHER;
  /** Link-layer address. */
  mac: MacAddr = 0;
  /** Link-layer broadcast address. */
  broadcast: MacAddr = 0xffff_ffff_ffff;
  /** Link-layer header length (ETH_HLEN for Ethernet). */
  hardHeaderLen = 14;
  /** Link-layer address length. */
  addrLen = 6;
  /** Current MTU. */
  mtu = 1500;
  /** Smallest MTU accepted. */
  minMtu = 68;
  /** Largest MTU accepted. */
  maxMtu = 65535;
  /** Interface flags (IFF_*), without RUNNING/LOWER_UP which derive from carrier. */
  flags: number = IFF.BROADCAST | IFF.MULTICAST;
  /** Whether the carrier is on (netif_carrier_ok). */
  carrier = true;
  /** Carrier transitions while registered (carrier_up_count + carrier_down_count: IFLA_CARRIER_CHANGES). */
  carrierChanges = 0;
  /** Whether the device is dormant (netif_dormant). */
  dormant = false;
  /** RFC 2863 state, set by linkwatch; reported as DOWN while the device is not up. */
  operstate: OperStateValue = OperState.UNKNOWN;
  /** Link mode (IF_LINK_MODE_DEFAULT = 0). */
  linkMode = 0;
  /** Device group. */
  group = 0;
  /** TX queue length. */
  txqlen = 1000;
  /** Queueing discipline name shown by `ip link` ("noqueue", "noop", "pfifo_fast", ...). */
  qdisc = "noqueue";
  /** dev_id: distinguishes devices sharing one link-layer address (used by IPv6 EUI-64). */
  devId = 0;
  /** dev_port. */
  devPort = 0;
  /** Promiscuity reference count. */
  promiscuity = 0;
  /** Allmulti reference count. */
  allmulti = 0;
  /** IPv6 address generation mode (IN6_ADDR_GEN_MODE_*): 0 eui64, 1 none, 2 stable_privacy, 3 random. */
  addrGenMode = 0;
  /** Number of TX / RX queues. */
  numTxQueues = 1;
  numRxQueues = 1;
  /** GSO/TSO/GRO limits shown by `ip -d link`. */
  gsoMaxSize = 65536;
  gsoMaxSegs = 65535;
  tsoMaxSize = 524280;
  tsoMaxSegs = 65535;
  groMaxSize = 65536;
  /** IFF_NO_RX_HANDLER: nothing may register an rx_handler on this device. */
  noRxHandler = false;
  /** NETIF_F_VLAN_CHALLENGED: no 802.1Q devices on top. */
  vlanChallenged = false;
  /**
   * Whether increments of the generic dev->stats (what other code bumps on a device it does not
   * drive, e.g. ipvlan's tx_errors on its master) show in the link statistics. False for drivers
   * whose ndo_get_stats64 reports only their own counters (veth): dev_get_stats never folds
   * dev->stats in for them.
   */
  devStatsVisible = true;
  /** Statistics kept by the core and the driver. */
  readonly stats: LinkStats = newLinkStats();
  /** Named drop counters: why frames died on this device (beyond Linux's plain counters). */
  readonly drops = new Map<string, number>();
  /** The rx_handler slot (netdev_rx_handler_register) and its private data. */
  rxHandler: RxHandler | null = null;
  rxHandlerData: unknown = null;
  /**
   * Where frames that reach this device's protocol demux go instead of the stack, when set: lets
   * an embedder (the real data plane's engine adapter) observe "delivered up to this device".
   */
  rxSink: ((skb: SkBuff) => void) | null = null;
  /**
   * l3mdev receive hook (IFF_L3MDEV_RX_HANDLER + l3mdev_ops->l3mdev_l3_rcv): called by the IPv4
   * and IPv6 input paths (ip_rcv_finish / ip6_rcv_finish) for packets received on this device;
   * returns the skb to continue with (possibly moved to another device) or null if consumed.
   * ipvlan's L3S mode sets it on the master.
   */
  l3mdevRcv: ((skb: SkBuff, family: 4 | 6) => SkBuff | null) | null = null;
  /** Upper devices stacked on this one (netdev_upper_dev_link). */
  readonly uppers = new Set<NetDevice>();
  /** Link-layer multicast addresses the device listens to (dev_mc_add), with refcounts. */
  readonly mcList = new Map<MacAddr, number>();
  /** Link-layer secondary unicast addresses (dev_uc_add), with refcounts. */
  readonly ucList = new Map<MacAddr, number>();
  /** Whether register_netdevice completed and unregister has not started. */
  registered = false;
  /** Alternative names, interface alias. */
  alias = "";
  /** Per-device protocol state (in_device, inet6_dev ...). */
  readonly slots = new Slots();

  constructor(kind: string, name: string) {
    this.kind = kind;
    this.name = name;
  }

  /** Whether the device is administratively up (netif_running). */
  get isUp(): boolean {
    return (this.flags & IFF.UP) !== 0;
  }

  /** Flags as userspace sees them (dev_get_flags): RUNNING/LOWER_UP/DORMANT derived from state. */
  get visibleFlags(): number {
    let f = this.flags;
    if (this.isUp) {
      if (this.carrier) f |= IFF.LOWER_UP;
      if (this.carrier && !this.dormant) f |= IFF.RUNNING;
      if (this.dormant) f |= IFF.DORMANT;
    }
    return f;
  }

  /** Operational state as reported to userspace (rtnl_fill_ifinfo: DOWN when not running). */
  get reportedOperstate(): OperStateValue {
    return this.isUp ? this.operstate : OperState.DOWN;
  }

  /** ndo_open: called by dev_open after the flag is set; throw KernelError to refuse. */
  ndoOpen(): void {}

  /** ndo_stop: called by dev_close. */
  ndoStop(): void {}

  /** ndo_start_xmit: the frame in skb.data (starting at the link-layer header) leaves through this device. */
  ndoStartXmit(skb: SkBuff): NetdevTxValue {
    void skb;
    return NetdevTx.OK;
  }

  /** ndo_change_mtu; the core has already checked min/max. */
  ndoChangeMtu(mtu: number): void {
    this.mtu = mtu;
  }

  /** ndo_set_mac_address; null means the driver has none (EOPNOTSUPP). */
  ndoSetMacAddress: ((mac: MacAddr) => void) | null = (mac) => {
    this.mac = mac;
  };

  /** ndo_change_rx_flags: promisc/allmulti changes (ipvlan relays allmulti to the master). */
  ndoChangeRxFlags(change: number): void {
    void change;
  }

  /** ndo_set_rx_mode: multicast/unicast lists changed. */
  ndoSetRxMode(): void {}

  /** ndo_get_iflink: the ifindex of the lower device (its own ifindex if none). */
  ndoGetIflink(): number {
    return this.ifindex;
  }

  /** The device ndo_get_iflink refers to, if any (to print `@eth0` / `@ifN`). */
  lowerDevice(): NetDevice | null {
    return null;
  }

  /** ndo_get_peer/link netns (rtnl_link_ops->get_link_net): where the lower device lives. */
  linkNetns(): NetNamespace | null {
    const lower = this.lowerDevice();
    return lower ? lower.netns : null;
  }

  /** header_ops->create: build the link-layer header for an outgoing packet. */
  hardHeaderSource(): MacAddr {
    return this.mac;
  }

  /** IFLA_LINKINFO for `ip -d link`; null for devices without rtnl_link_ops (lo, tun...). */
  linkInfo(): LinkInfo | null {
    return { kind: this.kind };
  }

  /** Counts a dropped frame under a named reason. */
  countDrop(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }
}
