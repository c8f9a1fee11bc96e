/**
 * IP protocol numbers (IPv4 "protocol", IPv6 "next header"), from the IANA registry.
 * Values outside this table are kept as plain numbers and survive a round trip.
 * @module
 */

/** Known IP protocol / next-header numbers. */
export const IpProto = {
  HopByHop: 0,
  Icmp: 1,
  Igmp: 2,
  Tcp: 6,
  Udp: 17,
  Ipv6Route: 43,
  Ipv6Frag: 44,
  Esp: 50,
  Ah: 51,
  Icmpv6: 58,
  Ipv6NoNext: 59,
  Ipv6Opts: 60,
} as const;

/** One of the known protocol numbers of `IpProto`. */
export type KnownIpProto = (typeof IpProto)[keyof typeof IpProto];
