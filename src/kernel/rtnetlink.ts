/**
 * The kernel side of RTM_NEWLINK / RTM_SETLINK / RTM_DELLINK / RTM_GETLINK, as
 * net/core/rtnetlink.c does it. Requests arrive as {@link LinkRequest} (the attributes iproute2
 * put in the message, addresses as raw bytes); dumps leave as {@link IfInfo} (what
 * rtnl_fill_ifinfo puts in the answer). Errors are KernelErrors carrying the errno and, where
 * Linux sets one, the extack text.
 */
import {
  devChangeFlags,
  devChangeName,
  devChangeNetNamespace,
  devSetMacAddress,
  devSetMtu,
  unregisterNetdevice,
} from "./dev.ts";
import { fail } from "./errno.ts";
import { ARPHRD, IFF, type LinkInfo, type LinkStats, type NetDevice } from "./netdev.ts";
import type { Kernel } from "./kernel.ts";
import type { NetNamespace } from "./netns.ts";
import type { InfoData, NewLinkAttrs } from "./rtnl-ops.ts";

/** IPV6_MIN_MTU: below it a device has no inet6_dev, so no IFLA_AF_SPEC inet6 is dumped. */
const IPV6_MIN_MTU = 1280;
/** IFNAMSIZ. */
const IFNAMSIZ = 16;
/** Link kinds whose validate() checks IFLA_ADDRESS as an Ethernet unicast address (eth_validate_addr). */
const ETHER_VALIDATED_KINDS = new Set(["veth", "dummy", "macvlan", "macvtap", "vlan"]);

/** An RTM_NEWLINK/RTM_SETLINK request: the attributes iproute2 sends, names resolved to objects. */
export interface LinkRequest {
  /** IFLA_INFO_KIND (`type KIND`). */
  readonly kind?: string;
  /** IFLA_IFNAME: the new device's name, or the new name for a set request. */
  readonly name?: string;
  /** ifi_index of a create request (`index N`); 0/absent = the kernel picks. */
  readonly index?: number;
  /** IFLA_LINK (lower device). */
  readonly link?: NetDevice;
  /** IFLA_MTU. */
  readonly mtu?: number;
  /** IFLA_ADDRESS as given (any length). */
  readonly address?: Uint8Array;
  /** IFLA_BROADCAST. */
  readonly broadcast?: Uint8Array;
  /** IFLA_TXQLEN. */
  readonly txqlen?: number;
  /** IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES. */
  readonly numTxQueues?: number;
  readonly numRxQueues?: number;
  /** IFLA_NET_NS_FD: the target namespace. */
  readonly netns?: NetNamespace;
  /** IFLA_GROUP. */
  readonly group?: number;
  /** ifi_flags / ifi_change. */
  readonly flags?: number;
  readonly change?: number;
  /** IFLA_INFO_DATA (absent when no kind option was given). */
  readonly infoData?: InfoData;
  /** veth: IFLA_INFO_DATA's VETH_INFO_PEER. */
  readonly peer?: LinkRequest;
  /** IFLA_MASTER (0 = nomaster). */
  readonly master?: number;
  /** IFLA_AF_SPEC inet6 IFLA_INET6_ADDR_GEN_MODE. */
  readonly addrGenMode?: number;
  /** IFLA_LINKMODE. */
  readonly linkMode?: number;
  /** IFLA_CARRIER. */
  readonly carrier?: boolean;
  /** IFLA_IFALIAS. */
  readonly alias?: string;
}

/** What RTM_GETLINK answers for one device (rtnl_fill_ifinfo), as seen from one namespace. */
export interface IfInfo {
  readonly ifindex: number;
  readonly name: string;
  /** ifi_type (ARPHRD_*). */
  readonly type: number;
  /** ifi_flags as dev_get_flags reports them. */
  readonly flags: number;
  readonly mtu: number;
  readonly minMtu: number;
  readonly maxMtu: number;
  readonly txqlen: number;
  readonly operstate: number;
  readonly linkMode: number;
  readonly group: number;
  readonly promiscuity: number;
  readonly allmulti: number;
  readonly numTxQueues: number;
  readonly numRxQueues: number;
  readonly gsoMaxSize: number;
  readonly gsoMaxSegs: number;
  readonly tsoMaxSize: number;
  readonly tsoMaxSegs: number;
  readonly groMaxSize: number;
  readonly qdisc: string;
  /** IFLA_ADDRESS / IFLA_BROADCAST (null when addr_len is 0). */
  readonly address: Uint8Array | null;
  readonly broadcast: Uint8Array | null;
  /** IFLA_LINK, when the device has a lower device or a link netns. */
  readonly link: number | null;
  /** IFLA_LINK_NETNSID, when the lower device lives in another namespace. */
  readonly linkNetnsid: number | null;
  /** IFLA_MASTER. */
  readonly master: number | null;
  /** IFLA_CARRIER_CHANGES. */
  readonly carrierChanges: number;
  /** IFLA_LINKINFO (null for devices without rtnl_link_ops). */
  readonly linkInfo: LinkInfo | null;
  /** IFLA_AF_SPEC inet6 address generation mode (null without an inet6_dev). */
  readonly addrGenMode: number | null;
  readonly stats: Readonly<LinkStats>;
  readonly alias: string;
}

/** The namespace an IFLA_LINK_NETNSID refers to: the lower device's namespace if it differs. */
function linkNet(dev: NetDevice): NetNamespace | null {
  const ln = dev.linkNetns();
  return ln && ln !== dev.netns ? ln : null;
}

/** Converts a request to the attributes a link kind's newlink sees. */
function toAttrs(req: LinkRequest, srcNet: NetNamespace): NewLinkAttrs {
  const a: Record<string, unknown> = {};
  if (req.name !== undefined) a.name = req.name;
  if (req.link !== undefined) a.link = req.link;
  if (req.mtu !== undefined) a.mtu = req.mtu;
  if (req.address !== undefined) a.address = bytesToMac(req.address);
  if (req.broadcast !== undefined) a.broadcast = bytesToMac(req.broadcast);
  if (req.txqlen !== undefined) a.txqlen = req.txqlen;
  if (req.numTxQueues !== undefined) a.numTxQueues = req.numTxQueues;
  if (req.numRxQueues !== undefined) a.numRxQueues = req.numRxQueues;
  if (req.netns !== undefined) a.netns = req.netns;
  if (req.group !== undefined) a.group = req.group;
  if (req.flags !== undefined) a.flags = req.flags;
  if (req.change !== undefined) a.flagsChange = req.change;
  if (req.infoData !== undefined) a.infoData = req.infoData;
  // veth_newlink: the peer lives in the requester's namespace unless its own netns is given.
  if (req.peer !== undefined) a.peer = toAttrs({ netns: srcNet, ...req.peer }, srcNet);
  return a as NewLinkAttrs;
}

/** A 6-byte address as a MacAddr number (shorter/longer inputs are read as big-endian bytes). */
function bytesToMac(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

/** The bytes of a device address of `len` bytes. */
function macToBytes(mac: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let v = mac;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** is_valid_ether_addr: 6 bytes, not multicast, not all zero. */
function isValidEtherAddr(b: Uint8Array): boolean {
  return b.length === 6 && (b[0]! & 1) === 0 && b.some((x) => x !== 0);
}

/** eth_validate_addr as the Ethernet kinds' validate() applies it to IFLA_ADDRESS. */
function validateEtherAddress(req: LinkRequest): void {
  if (!req.address) return;
  if (req.address.length !== 6) fail("EINVAL");
  if (!isValidEtherAddr(req.address)) fail("EADDRNOTAVAIL");
}

/** rtnl_dev_combine_flags: the requested bits where ifi_change says so, the device's elsewhere. */
function combineFlags(dev: NetDevice, flags: number, change: number): number {
  return (flags & change) | (dev.flags & ~change);
}

/**
 * RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL (`ip link add`). Mirrors net/core/rtnetlink.c:
 * __rtnl_newlink + rtnl_newlink_create: an existing name is EEXIST (before the kind is looked
 * up), an unknown kind is EOPNOTSUPP "Unknown device type", then validate(), newlink() and
 * rtnl_configure_link (the `up` flag).
 */
export function rtnlNewLink(net: NetNamespace, req: LinkRequest): NetDevice {
  const kernel = net.kernel;
  const ops = req.kind !== undefined ? kernel.linkKinds.get(req.kind) : undefined;
  if (ops?.validate) ops.validate(req.infoData);
  if (ops && ETHER_VALIDATED_KINDS.has(ops.kind)) {
    validateEtherAddress(req);
    if (req.peer) validateEtherAddress(req.peer);
  }
  const existing =
    (req.name !== undefined && net.dev(req.name)) || (req.index ? net.devices.get(req.index) : undefined);
  if (existing) fail("EEXIST");
  if (!ops) fail("EOPNOTSUPP", "Unknown device type");
  if (req.name !== undefined && (req.name.length >= IFNAMSIZ || req.name.length === 0)) fail("EINVAL");
  if (req.numTxQueues !== undefined && req.numTxQueues < 1)
    fail("EINVAL", "Invalid number of transmit queues");
  if (req.numRxQueues !== undefined && req.numRxQueues < 1)
    fail("EINVAL", "Invalid number of receive queues");
  const dest = req.netns ?? net;
  const attrs = toAttrs({ ...req, name: req.name ?? `${ops.kind}%d` }, net);
  const dev = ops.newLink(dest, attrs);
  if (req.index) moveIfindex(dev, req.index);
  if (req.flags !== undefined || req.change !== undefined) {
    try {
      devChangeFlags(dev, combineFlags(dev, req.flags ?? 0, req.change ?? 0));
    } catch (e) {
      rtnlDelLink(dev);
      throw e;
    }
  }
  if (req.addrGenMode !== undefined) dev.addrGenMode = req.addrGenMode;
  if (req.alias !== undefined) dev.alias = req.alias;
  return dev;
}

/** Gives a just-registered device the ifindex the request asked for (dev->ifindex = ifi_index). */
function moveIfindex(dev: NetDevice, index: number): void {
  const net = dev.netns;
  if (dev.ifindex === index) return;
  if (net.devices.has(index)) fail("EBUSY");
  net.devices.delete(dev.ifindex);
  dev.ifindex = index;
  net.devices.set(index, dev);
}

/**
 * RTM_NEWLINK on an existing device (`ip link set`, `ip link change`). Mirrors
 * net/core/rtnetlink.c: __rtnl_newlink (validate + changelink for IFLA_INFO_DATA) and
 * do_setlink in its order: netns, address, mtu, group, name, broadcast, flags, master, carrier,
 * txqlen, linkmode, af_spec.
 */
export function rtnlSetLink(dev: NetDevice, req: LinkRequest): void {
  const kernel = dev.netns.kernel;
  if (req.kind !== undefined) {
    const ops = kernel.linkKinds.get(req.kind);
    if (ops?.validate) ops.validate(req.infoData);
    if (req.infoData !== undefined) {
      if (!ops || ops.kind !== dev.kind || !ops.changeLink) fail("EOPNOTSUPP");
      ops.changeLink(dev, req.infoData);
    }
  }
  if (req.address && req.address.length < dev.addrLen) fail("EINVAL");
  if (req.netns && req.netns !== dev.netns) {
    if (dev.flags & IFF.LOOPBACK || dev.kind === "loopback") fail("EINVAL");
    devChangeNetNamespace(dev, req.netns, req.name);
  }
  if (req.address) {
    if (!dev.ndoSetMacAddress) fail("EOPNOTSUPP");
    if (dev.type === ARPHRD.ETHER && !isValidEtherAddr(req.address.subarray(0, 6))) fail("EADDRNOTAVAIL");
    devSetMacAddress(dev, bytesToMac(req.address.subarray(0, dev.addrLen)));
  }
  if (req.mtu !== undefined) devSetMtu(dev, req.mtu);
  if (req.group !== undefined) dev.group = req.group;
  if (req.name !== undefined && !(req.netns && req.netns !== dev.netns)) devChangeName(dev, req.name);
  if (req.broadcast) dev.broadcast = bytesToMac(req.broadcast.subarray(0, dev.addrLen));
  if (req.flags !== undefined || req.change !== undefined) {
    devChangeFlags(dev, combineFlags(dev, req.flags ?? 0, req.change ?? 0));
  }
  if (req.master !== undefined && req.master !== 0) fail("EOPNOTSUPP");
  if (req.carrier !== undefined) fail("EOPNOTSUPP");
  if (req.txqlen !== undefined) {
    if (req.txqlen < 0 || req.txqlen > 0xffffffff) fail("ERANGE");
    dev.txqlen = req.txqlen;
  }
  if (req.linkMode !== undefined) dev.linkMode = req.linkMode;
  if (req.alias !== undefined) dev.alias = req.alias;
  if (req.addrGenMode !== undefined) {
    if (req.addrGenMode > 3) fail("EINVAL");
    dev.addrGenMode = req.addrGenMode;
  }
}

/**
 * RTM_DELLINK (`ip link del`). Mirrors net/core/rtnetlink.c:rtnl_dellink: devices without
 * rtnl_link_ops (lo, a persistent tun) cannot be deleted this way (EOPNOTSUPP); otherwise the
 * kind's dellink runs (veth takes its peer along).
 */
export function rtnlDelLink(dev: NetDevice): void {
  if (dev.kind === "loopback" || dev.linkInfo() === null) fail("EOPNOTSUPP");
  const ops = dev.netns.kernel.linkKinds.get(dev.kind);
  if (!ops && dev.kind !== "tun") fail("EOPNOTSUPP");
  if (ops?.delLink) ops.delLink(dev);
  else unregisterNetdevice(dev);
}

/**
 * rtnl_fill_ifinfo: the attributes of one device as a dump from `viewer` (the requester's
 * namespace) sees them. Like rtnl_fill_link_netnsid, asking allocates the netnsid of the lower
 * device's namespace in the viewer.
 */
export function rtnlFillIfinfo(dev: NetDevice, viewer: NetNamespace = dev.netns): IfInfo {
  const ln = linkNet(dev);
  const iflink = dev.ndoGetIflink();
  const linkNetnsid = ln ? viewer.peerIdAlloc(ln) : null;
  const link = ln || iflink !== dev.ifindex ? iflink : null;
  const hasAddr = dev.addrLen > 0;
  return {
    ifindex: dev.ifindex,
    name: dev.name,
    type: dev.type,
    flags: dev.visibleFlags,
    mtu: dev.mtu,
    minMtu: dev.minMtu,
    maxMtu: dev.maxMtu,
    txqlen: dev.txqlen,
    operstate: dev.reportedOperstate,
    linkMode: dev.linkMode,
    group: dev.group,
    promiscuity: dev.promiscuity,
    allmulti: dev.allmulti,
    numTxQueues: dev.numTxQueues,
    numRxQueues: dev.numRxQueues,
    gsoMaxSize: dev.gsoMaxSize,
    gsoMaxSegs: dev.gsoMaxSegs,
    tsoMaxSize: dev.tsoMaxSize,
    tsoMaxSegs: dev.tsoMaxSegs,
    groMaxSize: dev.groMaxSize,
    qdisc: dev.isUp ? dev.qdisc : downQdisc(dev),
    address: hasAddr ? macToBytes(dev.mac, dev.addrLen) : null,
    broadcast: hasAddr ? macToBytes(dev.broadcast, dev.addrLen) : null,
    link,
    linkNetnsid,
    master: null,
    carrierChanges: dev.carrierChanges,
    linkInfo: dev.linkInfo(),
    addrGenMode: dev.mtu >= IPV6_MIN_MTU || dev.kind === "loopback" ? dev.addrGenMode : null,
    stats: dev.stats,
    alias: dev.alias,
  };
}

/**
 * The qdisc a device reports: devices that never got a root qdisc attached (never up) report
 * "noop"; software devices with IFF_NO_QUEUE report "noqueue" once up.
 */
function downQdisc(dev: NetDevice): string {
  return everUp.has(dev) ? dev.qdisc : "noop";
}

/** Devices that have been up once (dev_activate attached their qdisc). */
const everUp = new WeakSet<NetDevice>();

/** Registers what rtnetlink tracks from netdev events (the qdisc attached on first open). */
export function rtnlInit(kernel: Kernel): void {
  kernel.netdevChain.register((e) => {
    if (e.event === "UP") everUp.add(e.dev);
  });
}

/** RTM_GETLINK dump: every device of `net` in ifindex order. */
export function rtnlDumpLinks(net: NetNamespace): IfInfo[] {
  return net.devicesInOrder().map((d) => rtnlFillIfinfo(d, net));
}
