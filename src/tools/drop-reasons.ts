/**
 * The named drop reasons the simulated kernel and the ipvlan driver count (`dev.countDrop`,
 * `kfreeSkb`), with what `ipvl drops -s` shows next to them: the Linux counter the same event
 * increments. docs/drop-reasons.md explains each one; a test keeps the two and the code in step.
 *
 * Kinds (how the fuzz ledger of test/ipvlan/fuzz-harness.ts counts them):
 * - "drop": the frame (or copy) named here was freed; exactly one such name per lost skb.
 * - "note": an extra counter bump on top of a drop another reason already named for the same
 *   skb (ipvlan's rx_errs/tx_drps/tx_errors after the core or the IP stack freed it).
 * - "copy-on-master": counted on the master, the receive-side copy for the slaves was not made
 *   or not queued (the frame itself still reached the master's stack); counted on a slave, the
 *   slave's own frame was dropped.
 */

/** How a reason enters the per-frame accounting (see the module comment). */
export type DropReasonKind = "drop" | "note" | "copy-on-master";

/** One documented reason. */
export interface DropReasonInfo {
  readonly kind: DropReasonKind;
  /** The Linux counter(s) the same event increments ("-" when only the reason records it). */
  readonly counter: string;
}

/** Every reason the code counts, by name. */
export const DROP_REASONS: Readonly<Record<string, DropReasonInfo>> = {
  // ---- ipvlan (drivers/net/ipvlan) ----
  IPVLAN_SHORT_FRAME: { kind: "drop", counter: "tx_dropped" },
  IPVLAN_NO_PORT: { kind: "drop", counter: "tx_dropped" },
  IPVLAN_BAD_MODE: { kind: "drop", counter: "tx_dropped" },
  IPVLAN_PRIVATE: { kind: "drop", counter: "tx_dropped" },
  IPVLAN_L3_MULTICAST: { kind: "drop", counter: "tx_dropped" },
  IPVLAN_NON_IP: { kind: "drop", counter: "tx_dropped" },
  IPVLAN_BAD_IP_HEADER: { kind: "drop", counter: "tx_dropped" },
  IPVLAN_ROUTE_FAIL: { kind: "drop", counter: "tx_dropped, master tx_errors" },
  IPVLAN_OUTPUT_FAIL: { kind: "note", counter: "tx_dropped, master tx_errors" },
  IPVLAN_MASTER_XMIT_FAIL: { kind: "note", counter: "tx_dropped" },
  IPVLAN_TARGET_DOWN: { kind: "drop", counter: "rx_errors, rx_dropped" },
  IPVLAN_FORWARD_FAIL: { kind: "note", counter: "rx_errors, rx_dropped" },
  IPVLAN_MULTICAST_BACKLOG: { kind: "copy-on-master", counter: "rx_dropped" },
  IPVLAN_PAUSE_FRAME: { kind: "copy-on-master", counter: "-" },
  IPVLAN_PORT_GONE: { kind: "drop", counter: "-" },
  IPVTAP_QUEUE_FULL: { kind: "drop", counter: "rx_errors, rx_dropped" },
  // ---- net/core ----
  UNHANDLED_PROTO: { kind: "drop", counter: "rx_dropped (no protocol handler); Ip6InUnknownProtos (IPv6)" },
  RX_HANDLER_LOOP: { kind: "drop", counter: "-" },
  CPU_BACKLOG: { kind: "drop", counter: "rx_dropped" },
  PKT_TOO_BIG: { kind: "drop", counter: "rx_dropped (dev_forward_skb); FragFails / Ip6FragFails (IP)" },
  DEV_READY: { kind: "drop", counter: "rx_dropped (dev_forward_skb); tx_dropped (dev_queue_xmit)" },
  QDISC_DROP: { kind: "drop", counter: "tx_dropped (6.11 and later; before: no counter)" },
  RECURSION_LIMIT: { kind: "drop", counter: "tx_dropped" },
  VETH_PEER_DROP: { kind: "note", counter: "tx_dropped" },
  MACVLAN_XMIT_FAIL: { kind: "note", counter: "tx_dropped" },
  // ---- IPv4 / IPv6 receive ----
  OTHERHOST: { kind: "drop", counter: "-" },
  IP_INHDR: { kind: "drop", counter: "InHdrErrors / Ip6InHdrErrors" },
  IP_CSUM: { kind: "drop", counter: "InCsumErrors, InHdrErrors" },
  PKT_TOO_SMALL: { kind: "drop", counter: "InTruncatedPkts / Ip6InTruncatedPkts; UdpInErrors (UDP)" },
  IPV6DISABLED: { kind: "drop", counter: "Ip6InDiscards" },
  IP_RPFILTER: { kind: "drop", counter: "IPReversePathFilter" },
  IP_INADDRERRORS: { kind: "drop", counter: "InAddrErrors / Ip6InAddrErrors" },
  UNICAST_IN_L2_MULTICAST: { kind: "drop", counter: "-" },
  NO_ROUTE: { kind: "drop", counter: "-" },
  IP_NOROUTE: { kind: "drop", counter: "InNoRoutes / Ip6InNoRoutes" },
  IP6_BLACKHOLE: { kind: "drop", counter: "Ip6InNoRoutes" },
  IP_NOPROTO: { kind: "drop", counter: "InUnknownProtos" },
  NO_SOCKET: { kind: "drop", counter: "UdpNoPorts / Udp6NoPorts" },
  UDP_CSUM: { kind: "drop", counter: "UdpInErrors / Udp6InCsumErrors" },
  ICMP_CSUM: { kind: "drop", counter: "IcmpInErrors / Icmp6InCsumErrors" },
  INVALID_PROTO: { kind: "drop", counter: "-" },
  NDISC_HOP_LIMIT: { kind: "drop", counter: "-" },
  ARP_MALFORMED: { kind: "drop", counter: "-" },
  NETFILTER_DROP: { kind: "drop", counter: "-" },
  // ---- IPv4 / IPv6 output and neighbours ----
  IP_OUTNOROUTES: { kind: "drop", counter: "OutNoRoutes" },
  IP6_OUTNOROUTES: { kind: "drop", counter: "Ip6OutNoRoutes" },
  NEIGH_CREATEFAIL: { kind: "drop", counter: "-" },
  NEIGH_FAILED: { kind: "drop", counter: "-" },
  NEIGH_QUEUEFULL: { kind: "drop", counter: "-" },
  NEIGH_DEAD: { kind: "drop", counter: "-" },
  NOT_SPECIFIED: { kind: "drop", counter: "Ip6OutDiscards" },
};

/**
 * The accounting kind of `reason` counted on a device (`onMaster`: the device is an ipvlan
 * master). Unknown names count as drops: a new reason is a freed frame until documented.
 */
export function dropReasonKind(reason: string, onMaster: boolean): "drop" | "note" | "copy" {
  const kind = DROP_REASONS[reason]?.kind ?? "drop";
  if (kind === "copy-on-master") return onMaster ? "copy" : "drop";
  return kind;
}
