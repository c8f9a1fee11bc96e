/**
 * L3S mode (drivers/net/ipvlan/ipvlan_l3s.c): inbound traffic for slaves is diverted inside
 * the master's IP layer instead of at the rx_handler, so it traverses the master namespace's
 * PREROUTING and INPUT hooks (and its conntrack) before reaching the slave.
 *
 * Contract with the IPv4/IPv6 input paths (ip_rcv_finish / ip6_rcv_finish), as the stacks
 * implement it (src/kernel/ipv4/input.ts):
 *   1. After PRE_ROUTING, for a packet received on a device whose `l3mdevRcv` is set, the stack
 *      calls `skb = dev.l3mdevRcv(skb, family)` (null = consumed; ipvlan never consumes).
 *   2. When the destination belongs to a slave of this L3S port, ipvlan resolves the input
 *      route in the slave's namespace with the slave as input interface (IPv4: `ipRouteInput`
 *      with `sdev`, so the slave namespace's local table and rp_filter decide) and attaches it
 *      with `skbDstSet`; IPv6: `ip6RouteInput(sdev.netns, sdev, ...)` stored in `skb.cb.ip6dst`,
 *      the key the IPv6 output path uses for the dst). skb.dev stays the master. If the IPv4
 *      lookup fails, no route is attached and the stack routes in the master's namespace.
 *   3. The stack routes with the attached dst if there is one (dst_input): local delivery runs
 *      NF_INET_LOCAL_IN in the namespace of skb.dev (the master's), so filter INPUT sees
 *      in = master; ipvlan's hook at priority INT_MAX (last) moves the skb to the slave (skb.dev,
 *      skb.iif) and counts rx there. Transport delivery then uses the namespace of skb.dev (the
 *      slave's), as udp/raw/icmp do with dev_net(skb->dev).
 */
import {
  ip6RouteInput,
  ipRouteInput,
  NF,
  NF_IP_PRI,
  NF_INET,
  type NetDevice,
  type NetNamespace,
  NFPROTO,
  type NfHookOps,
  type NfHookState,
  type NfVerdict,
  nfRegisterHook,
  nfUnregisterHook,
  type SkBuff,
  skbDstSet,
  slotKey,
} from "../kernel/index.ts";
import { readIpv6, readU32 } from "../wire/index.ts";
import { ipvlanAddrLookup, ipvlanGetL3Hdr } from "./core.ts";
import { ETH_HLEN, type IpvlAddr, type IpvlPort, IPVLAN_MODE_L3S, ipvlanCountRx } from "./types.ts";

/** Per-namespace state (struct ipvlan_netns). */
interface IpvlanNetns {
  /** ipvl_nf_hook_refcnt: L3S ports whose master lives in this namespace. */
  refcnt: number;
}

const IPVLAN_NETNS = slotKey<IpvlanNetns>("ipvlan");

/** Mirrors ipvlan_l3s.c:ipvlan_skb_to_addr: the slave address an L3S master's packet is for. */
export function ipvlanSkbToAddr(skb: SkBuff, dev: NetDevice | null): IpvlAddr | null {
  if (!dev || dev.l3mdevRcv !== ipvlanL3Rcv) return null;
  const port = dev.rxHandlerData as IpvlPort | null;
  if (!port || port.mode !== IPVLAN_MODE_L3S) return null;
  const h = ipvlanGetL3Hdr(port, skb);
  if (h < 0) return null;
  return ipvlanAddrLookup(port, skb.data, h, true);
}

/** Mirrors ipvlan_l3s.c:ipvlan_l3_rcv: the master's l3mdev receive hook (see the contract above). */
export function ipvlanL3Rcv(skb: SkBuff, family: 4 | 6): SkBuff | null {
  const addr = ipvlanSkbToAddr(skb, skb.dev);
  if (!addr) return skb;
  const sdev = addr.master;
  const d = skb.data;
  const off = skb.network;
  if (family === 4) {
    const rt = ipRouteInput(readU32(d, off + 16), readU32(d, off + 12), sdev, { tos: d[off + 1] });
    if (typeof rt !== "string") skbDstSet(skb, rt);
  } else {
    // ip6_route_input_lookup in the slave's namespace with the slave as iif; skb_dst_set.
    skb.cb.ip6dst = ip6RouteInput(sdev.netns, sdev, readIpv6(d, off + 24), readIpv6(d, off + 8));
  }
  return skb;
}

/** Mirrors ipvlan_l3s.c:ipvlan_nf_input: last LOCAL_IN hook, hands the packet to the slave. */
export function ipvlanNfInput(skb: SkBuff, state: NfHookState): NfVerdict {
  void state;
  const addr = ipvlanSkbToAddr(skb, skb.dev);
  if (!addr) return NF.ACCEPT;
  const sdev = addr.master;
  skb.dev = sdev;
  skb.iif = sdev.ifindex;
  ipvlanCountRx(sdev, skb.data.length - skb.network + ETH_HLEN, true, false);
  return NF.ACCEPT;
}

const ipvlNfops: readonly NfHookOps[] = [
  {
    pf: NFPROTO.IPV4,
    hook: NF_INET.LOCAL_IN,
    priority: NF_IP_PRI.LAST,
    fn: ipvlanNfInput,
    owner: "ipvlan l3s",
  },
  {
    pf: NFPROTO.IPV6,
    hook: NF_INET.LOCAL_IN,
    priority: NF_IP_PRI.LAST,
    fn: ipvlanNfInput,
    owner: "ipvlan l3s",
  },
];

function vnet(net: NetNamespace): IpvlanNetns {
  let v = net.slots.get(IPVLAN_NETNS);
  if (!v) {
    v = { refcnt: 0 };
    net.slots.set(IPVLAN_NETNS, v);
  }
  return v;
}

/** Mirrors ipvlan_l3s.c:ipvlan_register_nf_hook (refcounted per namespace). */
function ipvlanRegisterNfHook(net: NetNamespace): void {
  const v = vnet(net);
  if (v.refcnt === 0) for (const ops of ipvlNfops) nfRegisterHook(net, ops);
  v.refcnt++;
}

/** Mirrors ipvlan_l3s.c:ipvlan_unregister_nf_hook. */
function ipvlanUnregisterNfHook(net: NetNamespace): void {
  const v = vnet(net);
  if (v.refcnt === 0) return;
  v.refcnt--;
  if (v.refcnt === 0) for (const ops of ipvlNfops) nfUnregisterHook(net, ops);
}

/** Number of L3S ports holding the hooks of a namespace (for tests and debugging). */
export function ipvlanNfHookRefcnt(net: NetNamespace): number {
  return net.slots.get(IPVLAN_NETNS)?.refcnt ?? 0;
}

/** Mirrors ipvlan_l3s.c:ipvlan_l3s_register: hooks in the master's namespace + the l3mdev hook. */
export function ipvlanL3sRegister(port: IpvlPort): void {
  ipvlanRegisterNfHook(port.pnet);
  port.dev.l3mdevRcv = ipvlanL3Rcv;
}

/** Mirrors ipvlan_l3s.c:ipvlan_l3s_unregister. */
export function ipvlanL3sUnregister(port: IpvlPort): void {
  port.dev.l3mdevRcv = null;
  ipvlanUnregisterNfHook(port.pnet);
}

/** Mirrors ipvlan_l3s.c:ipvlan_migrate_l3s_hook: the master moved namespaces. */
export function ipvlanMigrateL3sHook(port: IpvlPort, oldnet: NetNamespace, newnet: NetNamespace): void {
  void port;
  if (vnet(oldnet).refcnt === 0) return;
  ipvlanRegisterNfHook(newnet);
  ipvlanUnregisterNfHook(oldnet);
}
