/** ipvlan constants (include/uapi/linux/if_link.h IPVLAN section and ipvlan.h). */

/** IFLA_IPVLAN_MODE values (enum ipvlan_mode). */
export const IPVLAN_MODE_L2 = 0;
/** L3 mode: demux by IP for every frame, routing in the master's namespace on TX. */
export const IPVLAN_MODE_L3 = 1;
/** L3 symmetric: like L3 on TX, inbound diverted inside the master's IP layer. */
export const IPVLAN_MODE_L3S = 2;
/** First invalid mode. */
export const IPVLAN_MODE_MAX = 3;

/** One ipvlan mode. */
export type IpvlanMode = typeof IPVLAN_MODE_L2 | typeof IPVLAN_MODE_L3 | typeof IPVLAN_MODE_L3S;

/** IFLA_IPVLAN_FLAGS bit: no traffic between slaves. */
export const IPVLAN_F_PRIVATE = 0x01;
/** IFLA_IPVLAN_FLAGS bit: everything goes to the external switch. */
export const IPVLAN_F_VEPA = 0x02;

/** Multicast/broadcast frames waiting for the port's work item. */
export const IPVLAN_QBACKLOG_LIMIT = 1000;
/** Buckets of the kernel's address hash (ours is open addressing and grows; kept for reference). */
export const IPVLAN_HASH_SIZE = 256;
/** Bits of the per-slave multicast MAC filter. */
export const IPVLAN_MAC_FILTER_BITS = 8;
/** Size of the per-slave multicast MAC filter. */
export const IPVLAN_MAC_FILTER_SIZE = 1 << IPVLAN_MAC_FILTER_BITS;
/** Mask applied to the MAC hash. */
export const IPVLAN_MAC_FILTER_MASK = IPVLAN_MAC_FILTER_SIZE - 1;
/** Last dev_id a slave may get (0xFFFE stands for the master's ff:fe in EUI-64). */
export const IPVLAN_DEV_ID_MAX = 0xfffd;

/** enum ipvl_hdr_type: what ipvlan_get_L3_hdr found. */
export const IPVL_IPV6 = 0;
/** An ICMPv6 message from the unspecified address (DAD neighbour solicitation). */
export const IPVL_ICMPV6 = 1;
/** An IPv4 header. */
export const IPVL_IPV4 = 2;
/** An ARP packet. */
export const IPVL_ARP = 3;

/** ETH_HLEN. */
export const ETH_HLEN = 14;
