/**
 * veth pairs (drivers/net/veth.c): what one end transmits the other receives, across
 * namespaces. Carrier is on only while both ends are up.
 */
import {
  devForwardSkb,
  netifCarrierOff,
  netifCarrierOn,
  registerNetdevice,
  unregisterNetdevice,
} from "../dev.ts";
import type { Kernel } from "../kernel.ts";
import { NetDevice, NetdevTx, type NetdevTxValue } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import type { NewLinkAttrs, RtnlLinkOps } from "../rtnl-ops.ts";
import type { SkBuff } from "../skb.ts";
import { applyGenericAttrs, randomEtherAddr } from "./common.ts";

/** One end of a veth pair. */
export class VethDevice extends NetDevice {
  /** The other end (null once it is gone). */
  peer: VethDevice | null = null;

  constructor(name: string, cpus: number) {
    super("veth", name);
    this.numTxQueues = cpus;
    this.numRxQueues = cpus;
    this.carrier = false;
    // veth_get_stats64 reports its own per-queue counters only (not dev->stats).
    this.devStatsVisible = false;
  }

  /** veth_open: carrier on for both ends once the peer is up too. */
  override ndoOpen(): void {
    const peer = this.peer;
    if (!peer) return;
    if (peer.isUp) {
      netifCarrierOn(this);
      netifCarrierOn(peer);
    }
  }

  /** veth_close: both ends lose carrier. */
  override ndoStop(): void {
    netifCarrierOff(this);
    if (this.peer) netifCarrierOff(this.peer);
  }

  /**
   * veth_xmit: forward to the peer's receive path; on success count tx here (the peer reports
   * our tx as its rx), on failure count tx_dropped here (the peer counted rx_dropped) and
   * return NET_XMIT_DROP, which callers see: an ipvlan slave above counts tx_dropped too, and a
   * socket's sendmsg fails with ENOBUFS (ip_send_skb: net_xmit_errno).
   */
  override ndoStartXmit(skb: SkBuff): NetdevTxValue {
    const peer = this.peer;
    const len = skb.data.length;
    if (!peer || devForwardSkb(peer, skb) !== 0) {
      this.stats.txDropped++;
      this.countDrop("VETH_PEER_DROP");
      return NetdevTx.DROP;
    }
    this.stats.txPackets++;
    this.stats.txBytes += len;
    peer.stats.rxPackets++;
    peer.stats.rxBytes += len;
    return NetdevTx.OK;
  }

  override ndoGetIflink(): number {
    return this.peer ? this.peer.ifindex : 0;
  }

  override lowerDevice(): NetDevice | null {
    return this.peer;
  }
}

/** Creates a veth pair: the peer is registered first, so it gets the lower ifindex (as in Linux). */
export function createVethPair(net: NetNamespace, attrs: NewLinkAttrs, kernel: Kernel): VethDevice {
  const peerAttrs = attrs.peer ?? {};
  const peerNet = peerAttrs.netns ?? net;
  const dev = new VethDevice(attrs.name ?? "veth%d", kernel.cpus);
  const peer = new VethDevice(peerAttrs.name ?? "veth%d", kernel.cpus);
  for (const [d, a] of [
    [dev, attrs],
    [peer, peerAttrs],
  ] as const) {
    d.mac = a.address ?? randomEtherAddr(kernel.random);
    applyGenericAttrs(d, a);
  }
  dev.peer = peer;
  peer.peer = dev;
  registerNetdevice(peerNet, peer);
  try {
    registerNetdevice(net, dev);
  } catch (e) {
    unregisterNetdevice(peer);
    throw e;
  }
  // veth_newlink turns the carrier off after registering each end: one counted transition each.
  peer.carrierChanges++;
  dev.carrierChanges++;
  return dev;
}

/** rtnl_link_ops for "veth". */
export function vethLinkOps(kernel: Kernel): RtnlLinkOps {
  return {
    kind: "veth",
    newLink: (net, attrs) => createVethPair(net, attrs, kernel),
    delLink(dev) {
      const v = dev as VethDevice;
      const peer = v.peer;
      unregisterNetdevice(v);
      if (peer) {
        peer.peer = null;
        v.peer = null;
        unregisterNetdevice(peer);
      }
    },
  };
}
