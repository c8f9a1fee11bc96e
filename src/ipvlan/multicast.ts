/**
 * ipvlan's multicast side (drivers/net/ipvlan/ipvlan_core.c): the MAC filter hash and the port
 * backlog drained by a work item that copies broadcast/multicast frames to the slaves whose
 * filter matches and then sends slave-originated frames out on the master.
 */
import { cloneSkb, devForwardSkb, devQueueXmit, netifRx, PacketType, type SkBuff } from "../kernel/index.ts";
import {
  ETH_HLEN,
  IPVLAN_MAC_FILTER_MASK,
  IPVLAN_QBACKLOG_LIMIT,
  IpvlDrop,
  type IpvlPort,
  ipvlanCountRx,
} from "./types.ts";

const ETH_P_PAUSE = 0x8808;

/** Virtual delay before the port's multicast work item runs (schedule_work → worker). */
export const IPVLAN_WORK_DELAY = 5_000n;

// ---- multicast MAC filter -------------------------------------------------------------------

const secrets = new WeakMap<object, number>();

/** ipvlan_jhash_secret: drawn once per kernel from its PRNG (net_get_random_once). */
export function ipvlanJhashSecret(kernel: { random: { u32(): number } }): number {
  let s = secrets.get(kernel);
  if (s === undefined) {
    s = kernel.random.u32();
    secrets.set(kernel, s);
  }
  return s;
}

function rol32(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** jhash_1word (include/linux/jhash.h: __jhash_final over a, b = c = initval + JHASH_INITVAL + 4). */
export function jhash1word(a: number, initval: number): number {
  const init = (0xdeadbeef + 4 + initval) | 0;
  a = (a + init) | 0;
  let b = init;
  let c = init;
  c ^= b;
  c = (c - rol32(b, 14)) | 0;
  a ^= c;
  a = (a - rol32(c, 11)) | 0;
  b ^= a;
  b = (b - rol32(a, 25)) | 0;
  c ^= b;
  c = (c - rol32(b, 16)) | 0;
  a ^= c;
  a = (a - rol32(c, 4)) | 0;
  b ^= a;
  b = (b - rol32(a, 14)) | 0;
  c ^= b;
  c = (c - rol32(b, 24)) | 0;
  return c >>> 0;
}

/** Mirrors ipvlan_core.c:ipvlan_mac_hash: bytes 2..5 read as a little-endian u32, hashed, 8 bits kept. */
export function ipvlanMacHash(mac: Uint8Array, off: number, secret: number): number {
  const w = mac[off + 2] | (mac[off + 3] << 8) | (mac[off + 4] << 16) | (mac[off + 5] << 24);
  return jhash1word(w, secret) & IPVLAN_MAC_FILTER_MASK;
}

/** The hash of a MAC given as a number. */
export function ipvlanMacHashOf(mac: number, secret: number): number {
  const b = new Uint8Array(6);
  let m = mac;
  for (let i = 5; i >= 0; i--) {
    b[i] = m % 256;
    m = Math.floor(m / 256);
  }
  return ipvlanMacHash(b, 0, secret);
}

function testBit(bits: Uint32Array, n: number): boolean {
  return (bits[n >>> 5] & (1 << (n & 31))) !== 0;
}

// ---- multicast backlog ----------------------------------------------------------------------

/** Mirrors ipvlan_core.c:ipvlan_multicast_enqueue. */
export function ipvlanMulticastEnqueue(port: IpvlPort, skb: SkBuff, txPkt: boolean): void {
  if (skb.protocol === ETH_P_PAUSE) {
    skb.dev.countDrop(IpvlDrop.PAUSE_FRAME);
    return;
  }
  if (port.backlog.length < IPVLAN_QBACKLOG_LIMIT) {
    port.backlog.push({ skb, txPkt });
    if (port.work === null) {
      port.work = port.kernel.loop.after(IPVLAN_WORK_DELAY, () => ipvlanProcessMulticast(port));
    }
  } else {
    skb.dev.stats.rxDropped++;
    skb.dev.countDrop(IpvlDrop.MULTICAST_BACKLOG);
  }
}

/** Mirrors ipvlan_core.c:ipvlan_process_multicast: the port's work item. */
export function ipvlanProcessMulticast(port: IpvlPort): void {
  port.work = null;
  const list = port.backlog.splice(0);
  const secret = ipvlanJhashSecret(port.kernel);
  for (const { skb, txPkt } of list) {
    const from = skb.dev;
    const d = skb.data;
    const macHash = ipvlanMacHash(d, 0, secret);
    const bcast =
      d[0] === 0xff && d[1] === 0xff && d[2] === 0xff && d[3] === 0xff && d[4] === 0xff && d[5] === 0xff;
    const pktType = bcast ? PacketType.BROADCAST : PacketType.MULTICAST;
    // RX clones had their Ethernet header pulled (skb->len excludes it); TX frames did not.
    const len = txPkt ? d.length + ETH_HLEN : d.length - skb.network + ETH_HLEN;
    for (const ipvlan of [...port.ipvlans]) {
      if (txPkt && ipvlan === from) continue;
      if (!testBit(ipvlan.macFilters, macHash)) continue;
      if (!ipvlan.isUp) continue;
      const nskb = cloneSkb(skb);
      nskb.pktType = pktType;
      nskb.dev = ipvlan;
      const ret = txPkt ? devForwardSkb(ipvlan, nskb) : netifRx(nskb);
      if (ret !== 0) ipvlan.countDrop(IpvlDrop.FORWARD_FAIL);
      ipvlanCountRx(ipvlan, len, ret === 0, true);
    }
    if (txPkt) {
      skb.dev = port.dev;
      skb.pktType = pktType;
      devQueueXmit(skb);
    }
  }
}

/** Frees what is still queued when the port goes away (ipvlan_port_destroy). */
export function ipvlanPurgeBacklog(port: IpvlPort): void {
  port.kernel.loop.cancel(port.work);
  port.work = null;
  for (const { skb } of port.backlog.splice(0)) skb.dev.countDrop(IpvlDrop.PORT_GONE);
}
