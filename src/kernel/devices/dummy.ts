/** dummy devices (drivers/net/dummy.c): transmit is a counted sink, carrier always on. */
import { registerNetdevice } from "../dev.ts";
import type { Kernel } from "../kernel.ts";
import { IFF, NetDevice, NetdevTx, type NetdevTxValue } from "../netdev.ts";
import type { RtnlLinkOps } from "../rtnl-ops.ts";
import type { SkBuff } from "../skb.ts";
import { applyGenericAttrs, randomEtherAddr } from "./common.ts";

/** A dummy device. */
export class DummyDevice extends NetDevice {
  constructor(name: string) {
    super("dummy", name);
    this.flags = IFF.BROADCAST | IFF.NOARP;
    this.maxMtu = 0;
    this.minMtu = 0;
  }

  /** dummy_xmit: count and free. */
  override ndoStartXmit(skb: SkBuff): NetdevTxValue {
    this.stats.txPackets++;
    this.stats.txBytes += skb.data.length;
    return NetdevTx.OK;
  }
}

/** rtnl_link_ops for "dummy". */
export function dummyLinkOps(kernel: Kernel): RtnlLinkOps {
  return {
    kind: "dummy",
    newLink(net, attrs) {
      const dev = new DummyDevice(attrs.name ?? "dummy%d");
      dev.mac = attrs.address ?? randomEtherAddr(kernel.random);
      applyGenericAttrs(dev, attrs);
      registerNetdevice(net, dev);
      return dev;
    },
  };
}
