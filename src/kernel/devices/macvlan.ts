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
  netdevRxHandlerRegister,
  netdevRxHandlerUnregister,
  netifRx,
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

/** struct macvlan_port: the macvlans of one lower device. */
interface MacvlanPort {
  readonly dev: NetDevice;
  readonly vlans: MacvlanDevice[];
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

  override linkInfo(): LinkInfo {
    const name =
      (Object.keys(MACVLAN_MODE) as MacvlanModeName[]).find((k) => MACVLAN_MODE[k] === this.mode) ??
      "unknown";
    return { kind: "macvlan", data: { mode: name } };
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
    port = { dev: lower, vlans: [] };
    netdevRxHandlerRegister(lower, macvlanHandleFrame, port);
  }
  const dev = new MacvlanDevice(attrs.name ?? "macvlan%d", lower, port, mode);
  dev.mac = attrs.address ?? randomEtherAddr(kernel.random);
  dev.mtu = attrs.mtu ?? lower.mtu;
  dev.carrier = lower.carrier;
  try {
    registerNetdevice(net, dev);
  } catch (e) {
    if (created) netdevRxHandlerUnregister(lower);
    throw e;
  }
  port.vlans.push(dev);
  lower.uppers.add(dev);
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
      if (port.vlans.length === 0) netdevRxHandlerUnregister(lower);
    }
    lower.uppers.delete(dev);
  }
  unregisterNetdevice(dev);
}

/** macvlan_device_event: a lower device that is really unregistered takes its macvlans along. */
function macvlanDeviceEvent(e: NetdevNotification): void {
  if (e.event !== "UNREGISTER" || e.moving || e.dev.rxHandler !== macvlanHandleFrame) return;
  const port = e.dev.rxHandlerData as MacvlanPort;
  for (const vlan of [...port.vlans]) macvlanDelLink(vlan);
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
