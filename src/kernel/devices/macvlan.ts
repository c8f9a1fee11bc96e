/**
 * A minimal macvlan (drivers/net/macvlan.c): enough for the configuration rules other drivers
 * meet. Creating one claims the lower device's rx_handler (so ipvlan on it fails EBUSY), and a
 * lower device flagged IFF_NO_RX_HANDLER (an ipvlan slave) refuses it with EINVAL. Frames to a
 * macvlan's MAC are steered to it; broadcast/multicast is copied to every macvlan; transmit goes
 * out through the lower device (bridge mode delivers sibling unicast directly).
 */
import {
  devForwardSkb,
  devQueueXmit,
  devSetMtu,
  linkwatchFireEvent,
  netdevRxHandlerRegister,
  netdevRxHandlerUnregister,
  netifCarrierOff,
  netifCarrierOn,
  netifRx,
  netifSetDormant,
  registerNetdevice,
  unregisterNetdevice,
} from "../dev.ts";
import { fail } from "../errno.ts";
import type { Kernel, NetdevNotification } from "../kernel.ts";
import {
  ARPHRD,
  IFF,
  type LinkInfo,
  NetDevice,
  NetdevTx,
  type NetdevTxValue,
  OperState,
  RxHandlerResult,
  type RxHandlerResultValue,
} from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import type { InfoData, NewLinkAttrs, RtnlLinkOps } from "../rtnl-ops.ts";
import { cloneSkb, type SkBuff } from "../skb.ts";
import { randomEtherAddr } from "./common.ts";

/** MACVLAN_MODE_* (include/uapi/linux/if_link.h). */
export const MACVLAN_MODE = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;

/** One macvlan mode name. */
export type MacvlanModeName = keyof typeof MACVLAN_MODE;

/** MACVLAN_DEFAULT_BC_QUEUE_LEN: the broadcast queue length asked for when none is given. */
export const MACVLAN_DEFAULT_BC_QUEUE_LEN = 1000;

/** struct macvlan_port: the macvlans of one lower device. */
interface MacvlanPort {
  readonly dev: NetDevice;
  readonly vlans: MacvlanDevice[];
  /** bc_queue_len_used: the largest bc_queue_len_req of its macvlans (update_port_bc_queue_len). */
  bcQueueLenUsed: number;
}

function macOf(d: Uint8Array, off: number): number {
  return (
    ((d[off] << 8) | d[off + 1]) * 0x1_0000_0000 +
    (((d[off + 2] << 24) | (d[off + 3] << 16) | (d[off + 4] << 8) | d[off + 5]) >>> 0)
  );
}

/** A macvlan device. */
export class MacvlanDevice extends NetDevice {
  /** The lower device. */
  readonly lowerdev: NetDevice;
  /** MACVLAN_MODE_* value. */
  mode: number;
  /** MACVLAN_FLAG_* (nopromisc, nodst). */
  macvlanFlags = 0;
  /** bc_queue_len_req (`bcqueuelen N`). */
  bcQueueLenReq = MACVLAN_DEFAULT_BC_QUEUE_LEN;
  readonly #port: MacvlanPort;

  constructor(name: string, lowerdev: NetDevice, port: MacvlanPort, mode: number) {
    super("macvlan", name);
    this.lowerdev = lowerdev;
    this.#port = port;
    this.mode = mode;
    this.qdisc = "noqueue";
    this.maxMtu = 65535;
  }

  /** macvlan_start_xmit: bridge mode delivers to a sibling's MAC directly, else the lower device sends. */
  override ndoStartXmit(skb: SkBuff): NetdevTxValue {
    const len = skb.data.length;
    if (this.mode === MACVLAN_MODE.bridge && len >= 14) {
      const dst = macOf(skb.data, 0);
      const peer = this.#port.vlans.find(
        (v) => v !== this && v.mac === dst && v.mode === MACVLAN_MODE.bridge,
      );
      if (peer) {
        const ok = devForwardSkb(peer, skb) === 0;
        this.#count(ok, len);
        return NetdevTx.OK;
      }
    }
    skb.dev = this.lowerdev;
    const ret = devQueueXmit(skb);
    this.#count(ret === NetdevTx.OK, len);
    return ret;
  }

  #count(ok: boolean, len: number): void {
    if (ok) {
      this.stats.txPackets++;
      this.stats.txBytes += len;
    } else {
      this.stats.txDropped++;
      this.countDrop("MACVLAN_XMIT_FAIL");
    }
  }

  override ndoGetIflink(): number {
    return this.lowerdev.ifindex;
  }

  override lowerDevice(): NetDevice {
    return this.lowerdev;
  }

  /** macvlan_fill_info: IFLA_MACVLAN_MODE, _FLAGS, _BC_QUEUE_LEN and _BC_QUEUE_LEN_USED, as numbers. */
  override linkInfo(): LinkInfo {
    return {
      kind: "macvlan",
      data: {
        mode: this.mode,
        flags: this.macvlanFlags,
        bcqueuelen: this.bcQueueLenReq,
        usedbcqueuelen: this.#port.bcQueueLenUsed,
      },
    };
  }
}

/** macvlan_handle_frame: the lower device's rx_handler. */
function macvlanHandleFrame(skb: SkBuff): RxHandlerResultValue {
  const port = skb.dev.rxHandlerData as MacvlanPort;
  const d = skb.data;
  if (d.length < 14) return RxHandlerResult.PASS;
  if (d[0] & 1) {
    for (const vlan of port.vlans) {
      if (!vlan.isUp) continue;
      const nskb = cloneSkb(skb);
      nskb.dev = vlan;
      if (netifRx(nskb) === 0) {
        vlan.stats.rxPackets++;
        vlan.stats.rxBytes += d.length;
        vlan.stats.multicast++;
      }
    }
    return RxHandlerResult.PASS;
  }
  const dst = macOf(d, 0);
  const vlan = port.vlans.find((v) => v.mac === dst);
  if (!vlan?.isUp) return RxHandlerResult.PASS;
  skb.dev = vlan;
  vlan.stats.rxPackets++;
  vlan.stats.rxBytes += d.length;
  return RxHandlerResult.ANOTHER;
}

/** update_port_bc_queue_len. */
function updatePortBcQueueLen(port: MacvlanPort): void {
  port.bcQueueLenUsed = Math.max(0, ...port.vlans.map((v) => v.bcQueueLenReq));
}

/** netif_stacked_transfer_operstate (net/core/dev.c): dormant and carrier follow the lower device. */
function stackedTransferOperstate(rootdev: NetDevice, dev: NetDevice): void {
  netifSetDormant(dev, rootdev.operstate === OperState.DORMANT);
  if (rootdev.carrier) netifCarrierOn(dev);
  else netifCarrierOff(dev);
}

function modeOf(data: InfoData | undefined): number {
  const m = data?.mode;
  if (m === undefined) return MACVLAN_MODE.vepa;
  if (typeof m === "number") return m;
  if (typeof m === "string" && m in MACVLAN_MODE) return MACVLAN_MODE[m as MacvlanModeName];
  return fail("EINVAL");
}

/** macvlan_common_newlink + macvlan_port_create. */
function macvlanNewLink(net: NetNamespace, attrs: NewLinkAttrs, kernel: Kernel): MacvlanDevice {
  let lower = attrs.link;
  if (!lower) fail("EINVAL");
  if (lower instanceof MacvlanDevice) lower = lower.lowerdev;
  let port = lower.rxHandler === macvlanHandleFrame ? (lower.rxHandlerData as MacvlanPort) : null;
  const created = port === null;
  if (attrs.mtu !== undefined && attrs.mtu > lower.mtu) fail("EINVAL");
  const mode = modeOf(attrs.infoData);
  if (!port) {
    if (lower.type !== ARPHRD.ETHER || lower.flags & IFF.LOOPBACK) fail("EINVAL");
    port = { dev: lower, vlans: [], bcQueueLenUsed: 0 };
    netdevRxHandlerRegister(lower, macvlanHandleFrame, port);
  }
  const dev = new MacvlanDevice(attrs.name ?? "macvlan%d", lower, port, mode);
  dev.mac = attrs.address ?? randomEtherAddr(kernel.random);
  dev.mtu = attrs.mtu ?? lower.mtu;
  dev.carrier = lower.carrier;
  const data = attrs.infoData;
  if (typeof data?.flags === "number") dev.macvlanFlags = data.flags;
  if (typeof data?.bcqueuelen === "number") dev.bcQueueLenReq = data.bcqueuelen;
  try {
    registerNetdevice(net, dev);
  } catch (e) {
    if (created) netdevRxHandlerUnregister(lower);
    throw e;
  }
  port.vlans.push(dev);
  updatePortBcQueueLen(port);
  lower.uppers.add(dev);
  // macvlan_common_newlink ends with netif_stacked_transfer_operstate + linkwatch_fire_event:
  // linkwatch gives the new device its operstate (UP once opened, not UNKNOWN).
  stackedTransferOperstate(lower, dev);
  linkwatchFireEvent(dev);
  return dev;
}

/** macvlan_dellink: the port goes with the last macvlan. */
function macvlanDelLink(dev: NetDevice): void {
  if (dev instanceof MacvlanDevice) {
    const lower = dev.lowerdev;
    const port = lower.rxHandler === macvlanHandleFrame ? (lower.rxHandlerData as MacvlanPort) : null;
    if (port) {
      const i = port.vlans.indexOf(dev);
      if (i >= 0) port.vlans.splice(i, 1);
      updatePortBcQueueLen(port);
      if (port.vlans.length === 0) netdevRxHandlerUnregister(lower);
    }
    lower.uppers.delete(dev);
  }
  unregisterNetdevice(dev);
}

/**
 * macvlan_device_event on the lower device: UP/DOWN/CHANGE pass its carrier and dormancy on,
 * a smaller MTU shrinks the macvlans above it, a real unregistration takes them along.
 */
function macvlanDeviceEvent(e: NetdevNotification): void {
  if (e.dev.rxHandler !== macvlanHandleFrame) return;
  const port = e.dev.rxHandlerData as MacvlanPort;
  switch (e.event) {
    case "UP":
    case "DOWN":
    case "CHANGE":
      for (const vlan of port.vlans) stackedTransferOperstate(e.dev, vlan);
      break;
    case "CHANGEMTU":
      for (const vlan of port.vlans) if (vlan.mtu > e.dev.mtu) devSetMtu(vlan, e.dev.mtu);
      break;
    case "UNREGISTER":
      if (!e.moving) for (const vlan of [...port.vlans]) macvlanDelLink(vlan);
      break;
  }
}

/** Registers the "macvlan" link kind and its netdev notifier. */
export function macvlanInit(kernel: Kernel): void {
  kernel.netdevChain.register(macvlanDeviceEvent);
  kernel.registerLinkKind(macvlanLinkOps(kernel));
}

/** rtnl_link_ops for "macvlan". */
export function macvlanLinkOps(kernel: Kernel): RtnlLinkOps {
  return {
    kind: "macvlan",
    newLink: (net, attrs) => macvlanNewLink(net, attrs, kernel),
    delLink: macvlanDelLink,
  };
}
