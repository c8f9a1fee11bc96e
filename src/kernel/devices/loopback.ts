/** The loopback device (drivers/net/loopback.c): every frame sent is received again. */
import { devAllocName, ethTypeTrans, netifRx, registerNetdevice } from "../dev.ts";
import type { PernetOps } from "../kernel.ts";
import { ARPHRD, IFF, NetDevice, NetdevTx, type NetdevTxValue } from "../netdev.ts";
import type { SkBuff } from "../skb.ts";

/** `lo`. */
export class LoopbackDevice extends NetDevice {
  constructor() {
    super("loopback", "lo");
    this.type = ARPHRD.LOOPBACK;
    this.flags = IFF.LOOPBACK;
    this.mtu = 65536;
    this.minMtu = 0;
    this.maxMtu = 0;
    this.broadcast = 0;
    this.ifindex = 1;
    this.ndoSetMacAddress = null;
  }

  /**
   * loopback_xmit: the frame comes straight back in (through the backlog). The one counter it
   * keeps (dev_lstats_add, reported as both rx and tx) takes skb->len after eth_type_trans has
   * pulled the Ethernet header: a 98-byte ping frame counts 84 bytes.
   */
  override ndoStartXmit(skb: SkBuff): NetdevTxValue {
    ethTypeTrans(skb, this);
    const len = skb.data.length - skb.network;
    this.stats.txPackets++;
    this.stats.txBytes += len;
    this.stats.rxPackets++;
    this.stats.rxBytes += len;
    netifRx(skb);
    return NetdevTx.OK;
  }

  /** lo has no rtnl_link_ops: `ip -d link` prints no kind. */
  override linkInfo(): null {
    return null;
  }
}

/** Creates `lo` (ifindex 1) in every new namespace, as loopback_net_init does. */
export const loopbackPernet: PernetOps = {
  name: "loopback",
  init(net) {
    const lo = new LoopbackDevice();
    lo.name = devAllocName(net, "lo");
    registerNetdevice(net, lo);
  },
};
