/**
 * struct sk_buff, reduced to what the simulated stack and ipvlan reason about. `data` always
 * starts at the link-layer header on Ethernet-like devices; `network` is the offset of the
 * L3 header inside it.
 */
import type { NetDevice } from "./netdev.ts";

/** skb->pkt_type values (include/uapi/linux/if_packet.h). */
export const PacketType = {
  HOST: 0,
  BROADCAST: 1,
  MULTICAST: 2,
  OTHERHOST: 3,
  OUTGOING: 4,
  LOOPBACK: 5,
} as const;

/** One pkt_type value. */
export type PacketTypeValue = (typeof PacketType)[keyof typeof PacketType];

/** A packet in flight. */
export interface SkBuff {
  /** The bytes, from the link-layer header on (or from the L3 header on headerless devices). */
  data: Uint8Array;
  /** The device the packet is currently on. */
  dev: NetDevice;
  /** Link-layer classification, set on receive by eth_type_trans. */
  pktType: PacketTypeValue;
  /** EtherType of the payload (skb->protocol). */
  protocol: number;
  /** Offset of the network header in data. */
  network: number;
  /** skb->mark. */
  mark: number;
  /** skb->skb_iif: ifindex the packet arrived on (0 if locally generated). */
  iif: number;
  /** Conntrack entry attached by netfilter (opaque to the core). */
  ct: unknown;
  /** Conntrack info (IP_CT_*), meaningful when ct is set. */
  ctinfo: number;
  /** Per-layer scratch space (skb->cb): owners use their own keys. */
  cb: Record<string, unknown>;
  /** skb_is_gso: a TSO/GSO super-frame, segmented later (exempt from forwarding MTU checks). */
  gso: boolean;
}

/** Allocates an skb for frame bytes received on or sent from dev. */
export function allocSkb(data: Uint8Array, dev: NetDevice, network = dev.hardHeaderLen): SkBuff {
  return {
    data,
    dev,
    pktType: PacketType.HOST,
    protocol: 0,
    network,
    mark: 0,
    iif: 0,
    ct: null,
    ctinfo: 0,
    cb: {},
    gso: false,
  };
}

/** skb_clone: a new skb sharing nothing mutable with the original (bytes are copied). */
export function cloneSkb(skb: SkBuff): SkBuff {
  return { ...skb, data: skb.data.slice(), cb: { ...skb.cb } };
}

/**
 * skb_scrub_packet: forget per-namespace state when a packet crosses devices/namespaces.
 * Mirrors net/core/skbuff.c:skb_scrub_packet (mark cleared only when crossing namespaces).
 */
export function scrubSkb(skb: SkBuff, xnet: boolean): void {
  skb.ct = null;
  skb.ctinfo = 0;
  skb.iif = 0;
  if (xnet) skb.mark = 0;
}
