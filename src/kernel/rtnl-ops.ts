/**
 * struct rtnl_link_ops: what a link kind (veth, dummy, ipvlan, macvlan ...) provides to
 * rtnetlink. Requests arrive already decoded from iproute2's attributes; `infoData` is the
 * kind's IFLA_INFO_DATA, with the attribute names the kind defines.
 */
import type { MacAddr } from "../wire/index.ts";
import type { NetDevice } from "./netdev.ts";
import type { NetNamespace } from "./netns.ts";

/** IFLA_INFO_DATA: a kind's own attributes (e.g. ipvlan: { mode: 0, flags: 0 }). */
export type InfoData = Readonly<Record<string, number | string | boolean | undefined>>;

/** The generic attributes of an RTM_NEWLINK request (after iproute2 resolved names to devices). */
export interface NewLinkAttrs {
  /** IFLA_IFNAME (absent: the kernel picks "<kind>%d"). */
  readonly name?: string;
  /** IFLA_LINK resolved to a device (ipvlan/macvlan/vlan lower device). */
  readonly link?: NetDevice;
  /** IFLA_MTU. */
  readonly mtu?: number;
  /** IFLA_ADDRESS. */
  readonly address?: MacAddr;
  /** IFLA_BROADCAST. */
  readonly broadcast?: MacAddr;
  /** IFLA_TXQLEN. */
  readonly txqlen?: number;
  /** IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES. */
  readonly numTxQueues?: number;
  readonly numRxQueues?: number;
  /** IFLA_NET_NS_FD/PID: create the device directly in this namespace. */
  readonly netns?: NetNamespace;
  /** IFLA_GROUP. */
  readonly group?: number;
  /** ifi_flags / ifi_change applied after creation (rtnl_configure_link), e.g. `up`. */
  readonly flags?: number;
  readonly flagsChange?: number;
  /** IFLA_INFO_DATA. */
  readonly infoData?: InfoData;
  /** IFLA_INFO_DATA's peer (veth): the attributes of the peer device. */
  readonly peer?: NewLinkAttrs;
}

/** What a link kind implements. */
export interface RtnlLinkOps {
  /** IFLA_INFO_KIND. */
  readonly kind: string;
  /** validate(): checks IFLA_INFO_DATA for both new and change requests; throw KernelError. */
  validate?(data: InfoData | undefined): void;
  /**
   * newlink(): allocates, sets up and registers the device(s) in `net` (the namespace the
   * request targets), honouring the generic attributes. Returns the new device.
   */
  newLink(net: NetNamespace, attrs: NewLinkAttrs): NetDevice;
  /** changelink(): `ip link set dev X type KIND ...`. */
  changeLink?(dev: NetDevice, data: InfoData | undefined): void;
  /** dellink(): unregisters the device (and, for veth, its peer). */
  delLink?(dev: NetDevice): void;
}
