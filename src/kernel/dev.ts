/**
 * Generic device operations, as net/core/dev.c and net/core/link_watch.c do them:
 * registration, open/close, flag/MTU/address changes, namespace moves, carrier and operstate,
 * and the two packet paths every driver meets: netif_receive_skb (up) and dev_queue_xmit (down).
 */
import { NSEC_PER_USEC } from "./clock.ts";
import { fail } from "./errno.ts";
import type { Kernel } from "./kernel.ts";
import {
  IFF,
  IFF_USER_CHANGEABLE,
  type NetDevice,
  NetdevTx,
  type NetdevTxValue,
  OperState,
  RxHandlerResult,
} from "./netdev.ts";
import type { NetNamespace } from "./netns.ts";
import { NetdevEvent, type NetdevEventName } from "./notifier.ts";
import { PacketType, type SkBuff, scrubSkb } from "./skb.ts";

/** Virtual time one trip through a backlog queue costs (netif_rx → softirq). */
export const BACKLOG_DELAY = 5n * NSEC_PER_USEC;
/** net.core.netdev_max_backlog default. */
export const NETDEV_MAX_BACKLOG = 1000;
/** VLAN_HLEN: the slack __dev_forward_skb allows above MTU + header. */
const VLAN_HLEN = 4;
const IFNAMSIZ = 16;

/** Raises a netdev notifier event. */
export function callNetdevNotifiers(
  dev: NetDevice,
  event: NetdevEventName,
  extra: { moving?: boolean; info?: unknown } = {},
): void {
  dev.netns.kernel.netdevChain.call({ event, dev, ...extra });
}

/** dev_valid_name: the rules the kernel applies to interface names. */
export function devValidName(name: string): boolean {
  if (name.length === 0 || name.length >= IFNAMSIZ) return false;
  if (name === "." || name === "..") return false;
  return !/[/:\s]/.test(name);
}

/** dev_new_index: the next free ifindex in a namespace (per-namespace counter, as in Linux 6.1). */
export function devNewIndex(net: NetNamespace): number {
  let i = net.ifindexCounter;
  for (;;) {
    i++;
    if (i <= 0) i = 1;
    if (!net.devices.has(i)) {
      net.ifindexCounter = i;
      return i;
    }
  }
}

/** dev_alloc_name: expands a "%d" template to the first free name in the namespace. */
export function devAllocName(net: NetNamespace, template: string): string {
  if (!template.includes("%d")) return template;
  for (let i = 0; i < 32768; i++) {
    const name = template.replace("%d", String(i));
    if (!net.byName.has(name)) return name;
  }
  return fail("ENFILE");
}

/**
 * register_netdevice: validates the name, assigns an ifindex, links the device into the
 * namespace and raises NETDEV_REGISTER. Mirrors net/core/dev.c:register_netdevice.
 */
export function registerNetdevice(net: NetNamespace, dev: NetDevice): void {
  dev.name = devAllocName(net, dev.name);
  if (!devValidName(dev.name)) fail("EINVAL");
  if (net.byName.has(dev.name)) fail("EEXIST");
  if (dev.ifindex === 0 || net.devices.has(dev.ifindex)) dev.ifindex = devNewIndex(net);
  dev.netns = net;
  net.devices.set(dev.ifindex, dev);
  net.byName.set(dev.name, dev);
  dev.registered = true;
  linkwatchInitDev(dev);
  callNetdevNotifiers(dev, NetdevEvent.REGISTER);
}

/**
 * unregister_netdevice: closes the device, raises NETDEV_UNREGISTER (listeners drop their
 * state: addresses, routes, neighbours, stacked devices) and unlinks it.
 */
export function unregisterNetdevice(dev: NetDevice): void {
  if (!dev.registered) return;
  if (dev.isUp) devClose(dev);
  dev.registered = false;
  callNetdevNotifiers(dev, NetdevEvent.UNREGISTER);
  const net = dev.netns;
  net.devices.delete(dev.ifindex);
  net.byName.delete(dev.name);
  for (const tap of [...net.taps]) if (tap.dev === dev) net.taps.delete(tap);
}

/** dev_open: brings a device up (NETDEV_PRE_UP, ndo_open, NETDEV_UP). */
export function devOpen(dev: NetDevice): void {
  if (dev.isUp) return;
  callNetdevNotifiers(dev, NetdevEvent.PRE_UP);
  dev.flags |= IFF.UP;
  try {
    dev.ndoOpen();
  } catch (e) {
    dev.flags &= ~IFF.UP;
    throw e;
  }
  dev.ndoSetRxMode();
  callNetdevNotifiers(dev, NetdevEvent.UP);
}

/** dev_close: takes a device down (NETDEV_GOING_DOWN, ndo_stop, NETDEV_DOWN). */
export function devClose(dev: NetDevice): void {
  if (!dev.isUp) return;
  callNetdevNotifiers(dev, NetdevEvent.GOING_DOWN);
  dev.flags &= ~IFF.UP;
  dev.ndoStop();
  callNetdevNotifiers(dev, NetdevEvent.DOWN);
}

/**
 * Mirrors net/sched/sch_generic.c:noop_enqueue, the qdisc of a device that is up without
 * carrier (dev_activate waits for the carrier, linkwatch's dev_deactivate swaps it in when the
 * carrier goes; we follow dev->carrier at once, without linkwatch's short delay): the frame
 * is freed before any driver or tap sees it and the caller gets NET_XMIT_CN (no error for a
 * socket). Since 6.11 it counts as the device's tx_dropped; before, nowhere
 * (docs/kernel-versions.md).
 */
function noopEnqueue(skb: SkBuff): NetdevTxValue {
  const dev = skb.dev;
  if (dev.netns.kernel.releaseAtLeast(6, 11)) dev.stats.txDropped++;
  kfreeSkb(skb, "QDISC_DROP");
  return NetdevTx.CN;
}

/**
 * dev_change_flags: applies user-changeable flags; UP goes through open/close, PROMISC and
 * ALLMULTI through their reference counts, anything else raises NETDEV_CHANGE on an up device.
 */
export function devChangeFlags(dev: NetDevice, flags: number, mask = IFF_USER_CHANGEABLE): void {
  const want = (dev.flags & ~mask) | (flags & mask);
  const old = dev.flags;
  const changedOther = (old ^ want) & ~(IFF.UP | IFF.PROMISC | IFF.ALLMULTI) & IFF_USER_CHANGEABLE;
  if (changedOther) {
    dev.flags = (dev.flags & ~changedOther) | (want & changedOther);
  }
  if ((old ^ want) & IFF.PROMISC) devSetPromiscuity(dev, want & IFF.PROMISC ? 1 : -1);
  if ((old ^ want) & IFF.ALLMULTI) devSetAllmulti(dev, want & IFF.ALLMULTI ? 1 : -1);
  if ((old ^ want) & IFF.UP) {
    if (want & IFF.UP) devOpen(dev);
    else devClose(dev);
  }
  if (changedOther && dev.isUp) callNetdevNotifiers(dev, NetdevEvent.CHANGE);
}

/** dev_set_promiscuity: adjusts the promiscuity count; the flag follows count > 0. */
export function devSetPromiscuity(dev: NetDevice, inc: number): void {
  const before = dev.flags & IFF.PROMISC;
  dev.promiscuity = Math.max(0, dev.promiscuity + inc);
  if (dev.promiscuity > 0) dev.flags |= IFF.PROMISC;
  else dev.flags &= ~IFF.PROMISC;
  if (before !== (dev.flags & IFF.PROMISC)) {
    dev.netns.kernel.printk(
      `device ${dev.name} ${dev.promiscuity > 0 ? "entered" : "left"} promiscuous mode`,
    );
    dev.ndoChangeRxFlags(IFF.PROMISC);
    dev.ndoSetRxMode();
  }
}

/** dev_set_allmulti: adjusts the allmulti count; the flag follows count > 0. */
export function devSetAllmulti(dev: NetDevice, inc: number): void {
  const before = dev.flags & IFF.ALLMULTI;
  dev.allmulti = Math.max(0, dev.allmulti + inc);
  if (dev.allmulti > 0) dev.flags |= IFF.ALLMULTI;
  else dev.flags &= ~IFF.ALLMULTI;
  if (before !== (dev.flags & IFF.ALLMULTI)) {
    dev.ndoChangeRxFlags(IFF.ALLMULTI);
    dev.ndoSetRxMode();
  }
}

/** dev_set_mtu: checks the device's bounds, then NETDEV_PRECHANGEMTU, ndo_change_mtu, NETDEV_CHANGEMTU. */
export function devSetMtu(dev: NetDevice, mtu: number): void {
  if (mtu === dev.mtu) return;
  if (mtu < dev.minMtu) fail("EINVAL", "mtu less than device minimum");
  if (dev.maxMtu > 0 && mtu > dev.maxMtu) fail("EINVAL", "mtu greater than device maximum");
  callNetdevNotifiers(dev, NetdevEvent.PRECHANGEMTU, { info: mtu });
  const old = dev.mtu;
  dev.ndoChangeMtu(mtu);
  callNetdevNotifiers(dev, NetdevEvent.CHANGEMTU, { info: old });
}

/** dev_set_mac_address: EOPNOTSUPP without ndo_set_mac_address; listeners may veto the change. */
export function devSetMacAddress(dev: NetDevice, mac: number): void {
  if (!dev.ndoSetMacAddress) fail("EOPNOTSUPP");
  callNetdevNotifiers(dev, NetdevEvent.PRE_CHANGEADDR, { info: mac });
  dev.ndoSetMacAddress(mac);
  callNetdevNotifiers(dev, NetdevEvent.CHANGEADDR);
}

/** dev_change_name. */
export function devChangeName(dev: NetDevice, name: string): void {
  if (name === dev.name) return;
  if (!devValidName(name)) fail("EINVAL");
  if (dev.isUp) fail("EBUSY");
  if (dev.netns.byName.has(name)) fail("EEXIST");
  dev.netns.byName.delete(dev.name);
  dev.name = name;
  dev.netns.byName.set(name, dev);
  callNetdevNotifiers(dev, NetdevEvent.CHANGENAME);
}

/**
 * dev_change_net_namespace: the device is closed, "unregistered" from the old namespace
 * (listeners flush addresses and routes), keeps its ifindex if free in the target (else gets a
 * new one), and is "registered" again there, down. Mirrors net/core/dev.c:__dev_change_net_namespace.
 */
export function devChangeNetNamespace(dev: NetDevice, target: NetNamespace, newName?: string): void {
  if (dev.netns === target) return;
  if (dev.flags & IFF.LOOPBACK) fail("EINVAL");
  const name = newName ?? dev.name;
  if (target.byName.has(name)) fail("EEXIST");
  if (dev.isUp) devClose(dev);
  callNetdevNotifiers(dev, NetdevEvent.UNREGISTER, { moving: true });
  const old = dev.netns;
  old.devices.delete(dev.ifindex);
  old.byName.delete(dev.name);
  for (const tap of [...old.taps]) if (tap.dev === dev) old.taps.delete(tap);
  dev.mcList.clear();
  dev.ucList.clear();
  if (target.devices.has(dev.ifindex)) dev.ifindex = devNewIndex(target);
  dev.name = name;
  dev.netns = target;
  target.devices.set(dev.ifindex, dev);
  target.byName.set(dev.name, dev);
  callNetdevNotifiers(dev, NetdevEvent.REGISTER, { moving: true });
}

/** netif_carrier_on: a carrier change schedules a linkwatch event. */
export function netifCarrierOn(dev: NetDevice): void {
  if (dev.carrier) return;
  dev.carrier = true;
  if (dev.registered) dev.carrierChanges++;
  if (dev.registered) linkwatchFireEvent(dev);
}

/** netif_carrier_off. */
export function netifCarrierOff(dev: NetDevice): void {
  if (!dev.carrier) return;
  dev.carrier = false;
  if (dev.registered) dev.carrierChanges++;
  if (dev.registered) linkwatchFireEvent(dev);
}

/** netif_dormant_on/off. */
export function netifSetDormant(dev: NetDevice, dormant: boolean): void {
  if (dev.dormant === dormant) return;
  dev.dormant = dormant;
  if (dev.registered) linkwatchFireEvent(dev);
}

/**
 * default_operstate (net/core/link_watch.c): DOWN or LOWERLAYERDOWN without carrier (the latter
 * when the device sits on a lower device), DORMANT, else UP.
 */
export function defaultOperstate(dev: NetDevice): number {
  if (!dev.carrier) return dev.ndoGetIflink() !== dev.ifindex ? OperState.LOWERLAYERDOWN : OperState.DOWN;
  if (dev.dormant) return OperState.DORMANT;
  return OperState.UP;
}

/** linkwatch_init_dev: a device registered without carrier gets its operstate at once. */
function linkwatchInitDev(dev: NetDevice): void {
  if (!dev.carrier || dev.dormant) dev.operstate = defaultOperstate(dev) as typeof dev.operstate;
}

const pendingLinkwatch = new WeakMap<Kernel, Set<NetDevice>>();

/**
 * linkwatch_fire_event: operstate is recomputed asynchronously (all our devices take the
 * "urgent" path, so it runs as soon as the current work is done), then NETDEV_CHANGE is raised
 * on devices that are up. Mirrors net/core/link_watch.c:linkwatch_do_dev.
 */
export function linkwatchFireEvent(dev: NetDevice): void {
  const kernel = dev.netns.kernel;
  let pending = pendingLinkwatch.get(kernel);
  if (!pending) {
    pending = new Set();
    pendingLinkwatch.set(kernel, pending);
  }
  if (pending.has(dev)) return;
  pending.add(dev);
  kernel.loop.after(0n, () => {
    pending.delete(dev);
    if (!dev.registered) return;
    dev.operstate = defaultOperstate(dev) as typeof dev.operstate;
    if (dev.isUp) callNetdevNotifiers(dev, NetdevEvent.CHANGE);
  });
}

/** dev_mc_add / dev_mc_del: link-layer multicast list with reference counts. */
export function devMcAdd(dev: NetDevice, mac: number): void {
  const n = dev.mcList.get(mac) ?? 0;
  dev.mcList.set(mac, n + 1);
  if (n === 0) dev.ndoSetRxMode();
}

/** dev_mc_del. */
export function devMcDel(dev: NetDevice, mac: number): void {
  const n = dev.mcList.get(mac) ?? 0;
  if (n <= 1) {
    if (dev.mcList.delete(mac)) dev.ndoSetRxMode();
  } else dev.mcList.set(mac, n - 1);
}

/** netdev_rx_handler_register: EBUSY if taken, EINVAL on IFF_NO_RX_HANDLER devices. */
export function netdevRxHandlerRegister(
  dev: NetDevice,
  handler: NonNullable<NetDevice["rxHandler"]>,
  data: unknown,
): void {
  if (dev.noRxHandler) fail("EINVAL");
  if (dev.rxHandler) fail("EBUSY");
  dev.rxHandler = handler;
  dev.rxHandlerData = data;
}

/** netdev_rx_handler_unregister. */
export function netdevRxHandlerUnregister(dev: NetDevice): void {
  dev.rxHandler = null;
  dev.rxHandlerData = null;
}

/** Counts a dropped skb on its device under a reason name (kfree_skb_reason). */
export function kfreeSkb(skb: SkBuff, reason: string): void {
  skb.dev.countDrop(reason);
}

/**
 * eth_type_trans: classifies a received Ethernet frame (pkt_type from the destination MAC,
 * protocol from the EtherType) and points the network header after the link header.
 */
export function ethTypeTrans(skb: SkBuff, dev: NetDevice): void {
  const d = skb.data;
  skb.dev = dev;
  if (d.length < 14) {
    skb.protocol = 0;
    return;
  }
  if (d[0] & 1) {
    skb.pktType =
      d[0] === 0xff && d[1] === 0xff && d[2] === 0xff && d[3] === 0xff && d[4] === 0xff && d[5] === 0xff
        ? PacketType.BROADCAST
        : PacketType.MULTICAST;
  } else {
    const m = dev.mac;
    const dst = ((d[0] * 256 + d[1]) * 256 + d[2]) * 0x1000000 + ((d[3] << 16) | (d[4] << 8) | d[5]);
    skb.pktType = dst === m ? PacketType.HOST : PacketType.OTHERHOST;
  }
  skb.protocol = (d[12] << 8) | d[13];
  skb.network = 14;
}

/** Delivers a frame to the namespace's packet taps (dev_queue_xmit_nit / ptype_all on receive). */
export function deliverToTaps(skb: SkBuff, dir: "in" | "out"): void {
  const taps = skb.dev.netns.taps;
  if (taps.size === 0) return;
  for (const tap of taps) if (tap.dev === null || tap.dev === skb.dev) tap.deliver(skb, dir);
}

/**
 * __netif_receive_skb_core: packet taps, then the rx_handler (which may consume the frame or
 * hand it to another device, restarting the loop), then the EtherType's protocol handler.
 */
export function netifReceiveSkb(skb: SkBuff): void {
  for (let round = 0; round < 8; round++) {
    const dev = skb.dev;
    skb.iif = dev.ifindex;
    deliverToTaps(skb, "in");
    if (dev.rxHandler) {
      const r = dev.rxHandler(skb);
      if (r === RxHandlerResult.CONSUMED) return;
      if (r === RxHandlerResult.ANOTHER) continue;
    }
    if (dev.rxSink !== null) {
      dev.rxSink(skb);
      return;
    }
    const handler = dev.netns.kernel.protocols.get(skb.protocol);
    if (!handler) {
      dev.stats.rxDropped++;
      kfreeSkb(skb, "UNHANDLED_PROTO");
      return;
    }
    handler(skb);
    return;
  }
  kfreeSkb(skb, "RX_HANDLER_LOOP");
}

const backlogs = new WeakMap<Kernel, { queue: SkBuff[]; scheduled: boolean }>();

/**
 * netif_rx: queues a frame to the (single, simulated) CPU backlog; the softirq drains it
 * BACKLOG_DELAY later, in order. A full backlog drops and counts rx_dropped.
 */
export function netifRx(skb: SkBuff): number {
  const kernel = skb.dev.netns.kernel;
  let b = backlogs.get(kernel);
  if (!b) {
    b = { queue: [], scheduled: false };
    backlogs.set(kernel, b);
  }
  if (b.queue.length >= NETDEV_MAX_BACKLOG) {
    skb.dev.stats.rxDropped++;
    kfreeSkb(skb, "CPU_BACKLOG");
    return 1;
  }
  b.queue.push(skb);
  if (!b.scheduled) {
    b.scheduled = true;
    const backlog = b;
    kernel.loop.after(BACKLOG_DELAY, () => {
      backlog.scheduled = false;
      const batch = backlog.queue.splice(0);
      for (const s of batch) netifReceiveSkb(s);
    });
  }
  return 0;
}

/** is_skb_forwardable: the target is up and the frame fits its MTU (+ header + VLAN slack). */
export function isSkbForwardable(dev: NetDevice, skb: SkBuff): boolean {
  if (!dev.isUp) return false;
  // GSO frames are segmented later: Linux exempts them from the length check (skb_is_gso).
  if (skb.gso) return true;
  return skb.data.length <= dev.mtu + dev.hardHeaderLen + VLAN_HLEN;
}

/**
 * dev_forward_skb: hands a frame to another device's receive path as if it arrived on the
 * wire (veth, ipvlan local delivery). Returns NET_RX_SUCCESS (0) or NET_RX_DROP (1).
 * Mirrors net/core/dev.c:__dev_forward_skb + netif_rx.
 */
export function devForwardSkb(dev: NetDevice, skb: SkBuff): number {
  if (!isSkbForwardable(dev, skb)) {
    dev.stats.rxDropped++;
    dev.countDrop(dev.isUp ? "PKT_TOO_BIG" : "DEV_READY");
    return 1;
  }
  scrubSkb(skb, skb.dev.netns !== dev.netns);
  ethTypeTrans(skb, dev);
  return netifRx(skb);
}

/** XMIT_RECURSION_LIMIT: nested dev_queue_xmit calls before a transmit is declared a dead loop. */
export const XMIT_RECURSION_LIMIT = 8;
/** softnet_data.xmit.recursion of the (single, simulated) CPU. */
let xmitRecursion = 0;
const deadLoopWarnings = new WeakMap<Kernel, { window: bigint; budget: number }>();

/**
 * dev_queue_xmit: taps see the outgoing frame, then the driver transmits it. A device that
 * is down drops it (tx_dropped); one up without carrier has noop_qdisc (noopEnqueue). A transmit nested deeper than XMIT_RECURSION_LIMIT (a virtual
 * device routed over itself, e.g. an L3 ipvlan slave whose only route is its own subnet) is
 * dropped with the kernel's "Dead loop" message instead of recursing forever. Mirrors
 * net/core/dev.c:__dev_queue_xmit (recursion_alert).
 */
export function devQueueXmit(skb: SkBuff): NetdevTxValue {
  const dev = skb.dev;
  if (!dev.isUp) {
    dev.stats.txDropped++;
    kfreeSkb(skb, "DEV_READY");
    return NetdevTx.DROP;
  }
  if (!dev.carrier) return noopEnqueue(skb);
  if (xmitRecursion > XMIT_RECURSION_LIMIT) {
    deadLoopWarning(dev);
    dev.stats.txDropped++;
    kfreeSkb(skb, "RECURSION_LIMIT");
    return NetdevTx.DROP;
  }
  deliverToTaps(skb, "out");
  xmitRecursion++;
  try {
    return dev.ndoStartXmit(skb);
  } finally {
    xmitRecursion--;
  }
}

/** net_crit_ratelimited (10 messages per 5 s of virtual time) of the dead-loop alert. */
function deadLoopWarning(dev: NetDevice): void {
  const kernel = dev.netns.kernel;
  const window = kernel.now / 5_000_000_000n;
  let rl = deadLoopWarnings.get(kernel);
  if (rl === undefined || rl.window !== window) {
    rl = { window, budget: 10 };
    deadLoopWarnings.set(kernel, rl);
  }
  if (rl.budget-- > 0) kernel.printk(`Dead loop on virtual device ${dev.name}, fix it urgently!`);
}
