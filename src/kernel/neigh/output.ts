/**
 * The link-layer end of the neighbour output path: dev_hard_header (an Ethernet header on
 * Ethernet-like devices, nothing on headerless ones) and dev_queue_xmit.
 */
import type { MacAddr } from "../../wire/index.ts";
import { devQueueXmit } from "../dev.ts";
import type { NetDevice } from "../netdev.ts";
import type { SkBuff } from "../skb.ts";

/**
 * dev_hard_header: rewrites skb so data starts with a link-layer header for `dev` (destination
 * `dst`, source the device's address, EtherType skb.protocol) followed by the L3 packet that
 * started at skb.network; skb.network then points after the new header.
 */
export function devHardHeader(dev: NetDevice, dst: MacAddr, skb: SkBuff): void {
  const l3 = skb.network === 0 ? skb.data : skb.data.subarray(skb.network);
  const hlen = dev.hardHeaderLen >= 14 && dev.addrLen === 6 ? 14 : 0;
  const out = new Uint8Array(hlen + l3.length);
  if (hlen === 14) {
    putMac(out, 0, dst);
    putMac(out, 6, dev.hardHeaderSource());
    out[12] = (skb.protocol >> 8) & 0xff;
    out[13] = skb.protocol & 0xff;
  }
  out.set(l3, hlen);
  skb.data = out;
  skb.network = hlen;
  skb.dev = dev;
}

/** neigh_hh_output / neigh_connected_output: header + transmit. Returns the NET_XMIT code. */
export function neighHhOutput(dev: NetDevice, dst: MacAddr, skb: SkBuff): number {
  devHardHeader(dev, dst, skb);
  return devQueueXmit(skb);
}

function putMac(buf: Uint8Array, off: number, mac: MacAddr): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  buf[off] = (hi >> 8) & 0xff;
  buf[off + 1] = hi & 0xff;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = (lo >>> 16) & 0xff;
  buf[off + 4] = (lo >>> 8) & 0xff;
  buf[off + 5] = lo & 0xff;
}
