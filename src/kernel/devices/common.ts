/** Helpers shared by the simulated drivers. */
import type { MacAddr } from "../../wire/index.ts";
import { fail } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { Random } from "../random.ts";
import type { NewLinkAttrs } from "../rtnl-ops.ts";

/** eth_random_addr: a random unicast, locally administered MAC. */
export function randomEtherAddr(random: Random): MacAddr {
  const hi = (random.u32() & 0xfeff) | 0x0200;
  const lo = random.u32();
  return hi * 0x1_0000_0000 + lo;
}

/** Applies the generic IFLA_* attributes of a new-link request (rtnl_create_link). */
export function applyGenericAttrs(dev: NetDevice, attrs: NewLinkAttrs): void {
  if (attrs.mtu !== undefined) {
    if (attrs.mtu < dev.minMtu) fail("EINVAL", "mtu less than device minimum");
    if (dev.maxMtu && attrs.mtu > dev.maxMtu) fail("EINVAL", "mtu greater than device maximum");
    dev.mtu = attrs.mtu;
  }
  if (attrs.txqlen !== undefined) dev.txqlen = attrs.txqlen;
  if (attrs.numTxQueues !== undefined) dev.numTxQueues = attrs.numTxQueues;
  if (attrs.numRxQueues !== undefined) dev.numRxQueues = attrs.numRxQueues;
  if (attrs.group !== undefined) dev.group = attrs.group;
  if (attrs.broadcast !== undefined) dev.broadcast = attrs.broadcast;
}
