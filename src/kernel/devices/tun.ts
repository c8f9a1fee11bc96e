/**
 * A persistent TUN/TAP device with no process attached (`ip tuntap add`): it exists, can be
 * configured, and has no carrier. Only what configuration tests need (e.g. a non-Ethernet
 * device refused as an ipvlan master).
 */
import { registerNetdevice } from "../dev.ts";
import type { Kernel } from "../kernel.ts";
import { ARPHRD, IFF, NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { randomEtherAddr } from "./common.ts";

/** A tun (L3, ARPHRD_NONE) or tap (Ethernet) device. */
export class TunDevice extends NetDevice {
  /** "tun" or "tap". */
  readonly mode: "tun" | "tap";

  constructor(name: string, mode: "tun" | "tap") {
    super("tun", name);
    this.mode = mode;
    this.carrier = false;
    this.qdisc = "pfifo_fast";
    // tun_setup: TUN_READQ_SIZE (500); for a tap, tun_net_initialize's ether_setup then puts
    // back DEFAULT_TX_QUEUE_LEN (1000).
    this.txqlen = mode === "tap" ? 1000 : 500;
    this.tsoMaxSize = 65536;
    if (mode === "tap") this.maxMtu = 65521;
    if (mode === "tun") {
      this.type = ARPHRD.NONE;
      this.flags = IFF.POINTOPOINT | IFF.NOARP | IFF.MULTICAST;
      this.hardHeaderLen = 0;
      this.addrLen = 0;
      this.ndoSetMacAddress = null;
    }
  }

  /** tun has rtnl_link_ops in Linux, but `ip -d link` shows "tun" with its own data. */
  override linkInfo(): { kind: string; data: Record<string, string | number | boolean> } {
    return {
      kind: "tun",
      data: { type: this.mode, pi: false, vnet_hdr: false, multi_queue: false, persist: true },
    };
  }
}

/** `ip tuntap add dev NAME mode tun|tap`: TUNSETIFF + TUNSETPERSIST. */
export function createTun(net: NetNamespace, kernel: Kernel, name: string, mode: "tun" | "tap"): TunDevice {
  const dev = new TunDevice(name, mode);
  if (mode === "tap") dev.mac = randomEtherAddr(kernel.random);
  registerNetdevice(net, dev);
  return dev;
}
