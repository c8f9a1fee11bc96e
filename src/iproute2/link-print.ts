/**
 * Printing one link as ip/ipaddress.c does: print_linkinfo (the header line, the link/ether
 * line, `-d` details and the kind's options, `-s` statistics) and print_linkinfo_brief (`-br`).
 */
import { ARPHRD, IFF, type IfInfo, type NetNamespace } from "../kernel/index.ts";
import type { Printer } from "./json-print.ts";
import { getLinkUtil } from "./link/registry.ts";
import { llAddrN2a } from "./utils.ts";

/** Global options that change how links print. */
export interface LinkPrintOptions {
  /** `-d` (count). */
  readonly details: number;
  /** `-s` (count). */
  readonly stats: number;
  /** Printing for `ip link` (mode, stats) rather than `ip addr`. */
  readonly doLink: boolean;
  /** `-4`/`-6`/`-0`: the family filter (0 = any, 17 = AF_PACKET). */
  readonly family: number;
  /** Print "qlen N" (filter.showqueue). */
  readonly showQueue: boolean;
  /**
   * The link came from an AF_INET6 link dump (inet6_fill_ifinfo): no qdisc, master, group or
   * link-netnsid attributes (iproute2 reads the queue length with an ioctl instead).
   */
  readonly inet6Dump?: boolean;
}

const OPER_STATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];
const LINK_MODES = ["DEFAULT", "DORMANT"];
const AF_PACKET = 17;

/** ll_type_n2a. */
export function llTypeName(type: number): string {
  switch (type) {
    case ARPHRD.ETHER:
      return "ether";
    case ARPHRD.LOOPBACK:
      return "loopback";
    case ARPHRD.NONE:
      return "none";
    case ARPHRD.VOID:
      return "void";
    default:
      return `[${type}]`;
  }
}

/** rtnl_group_n2a. */
export function groupName(group: number): string {
  return group === 0 ? "default" : String(group);
}

const FLAG_NAMES: readonly [keyof typeof IFF, number][] = [
  ["LOOPBACK", IFF.LOOPBACK],
  ["BROADCAST", IFF.BROADCAST],
  ["POINTOPOINT", IFF.POINTOPOINT],
  ["MULTICAST", IFF.MULTICAST],
  ["NOARP", IFF.NOARP],
  ["ALLMULTI", IFF.ALLMULTI],
  ["PROMISC", IFF.PROMISC],
  ["MASTER", IFF.MASTER],
  ["SLAVE", IFF.SLAVE],
  ["DEBUG", IFF.DEBUG],
  ["DYNAMIC", IFF.DYNAMIC],
  ["AUTOMEDIA", IFF.AUTOMEDIA],
  ["PORTSEL", IFF.PORTSEL],
  ["NOTRAILERS", IFF.NOTRAILERS],
  ["UP", IFF.UP],
  ["LOWER_UP", IFF.LOWER_UP],
  ["DORMANT", IFF.DORMANT],
  ["ECHO", IFF.ECHO],
];

/** print_link_flags. */
export function printLinkFlags(p: Printer, flagsIn: number, mdown: boolean): void {
  let flags = flagsIn;
  p.openArray("any", p.json ? "flags" : "<");
  if (flags & IFF.UP && !(flags & IFF.RUNNING)) p.string("any", null, flags ? "%s," : "%s", "NO-CARRIER");
  flags &= ~IFF.RUNNING;
  for (const [name, bit] of FLAG_NAMES) {
    if (flags & bit) {
      flags &= ~bit;
      p.string("any", null, flags ? "%s," : "%s", name);
    }
  }
  if (flags) p.hex("any", null, "%x", flags);
  if (mdown) p.string("any", null, ",%s", "M-DOWN");
  p.closeArray("any", "> ");
}

/** print_operstate. */
function printOperstate(p: Printer, state: number, brief: boolean): void {
  const name = OPER_STATES[state];
  if (name === undefined) {
    if (p.json) p.number("json", "operstate_index", null, state);
    else p.fp(`state 0x${state.toString(16)}`);
  } else if (brief) p.string("any", "operstate", "%-14s ", name);
  else if (p.json) p.string("json", "operstate", null, name);
  else p.fp(`state ${name} `);
}

/**
 * print_name_and_link: "NAME@LOWER" (the lower device's name in the same namespace, "ifN" when
 * it lives elsewhere, "NONE" for iflink 0). Returns the M-DOWN flag (lower device down).
 */
function printNameAndLink(p: Printer, fmt: string, info: IfInfo, net: NetNamespace): boolean {
  let name = info.name;
  let mdown = false;
  if (info.link !== null) {
    let link: string | null = null;
    if (info.link !== 0) {
      if (info.linkNetnsid !== null) {
        if (p.json) p.number("json", "link_index", null, info.link);
        else link = `if${info.link}`;
      } else {
        const lower = net.devices.get(info.link);
        link = lower ? lower.name : `if${info.link}`;
        if (p.json) {
          p.string("json", "link", null, link);
          link = null;
        }
        mdown = lower ? !lower.isUp : true;
      }
    } else if (p.json) p.null("json", "link", null, null);
    else link = "NONE";
    if (link !== null) name = `${name}@${link}`;
  }
  p.string("any", "ifname", fmt, name);
  return mdown;
}

/** get_name_from_nsid: the `ip netns` name whose nsid in `net` is `id`. */
function nameFromNsid(net: NetNamespace, id: number): string | null {
  for (const [peer, nsid] of net.nsids) if (nsid === id && peer.name !== null && !peer.dead) return peer.name;
  return null;
}

/** print_linkinfo: one link in the `ip link` / `ip addr` format (without the final newline). */
export function printLinkinfo(p: Printer, info: IfInfo, net: NetNamespace, o: LinkPrintOptions): void {
  p.number("any", "ifindex", "%d: ", info.ifindex);
  // inet6_fill_ifinfo puts IFLA_LINK only when ifindex != iflink (never for a link netns alone:
  // a veth whose peer has its own ifindex elsewhere prints as "v0:") and no IFLA_LINK_NETNSID.
  const named = o.inet6Dump
    ? { ...info, link: info.link === info.ifindex ? null : info.link, linkNetnsid: null }
    : info;
  const mdown = printNameAndLink(p, "%s: ", named, net);
  printLinkFlags(p, info.flags, mdown);
  p.number("any", "mtu", "mtu %u ", info.mtu);
  const full = !o.inet6Dump;
  if (full) p.string("any", "qdisc", "qdisc %s ", info.qdisc);
  if (full && info.master !== null) {
    p.string("any", "master", "master %s ", net.devices.get(info.master)?.name ?? `if${info.master}`);
  }
  printOperstate(p, info.operstate, false);
  if (o.doLink) {
    const m = LINK_MODES[info.linkMode];
    if (m === undefined) p.number("any", "linkmode_index", "mode %d ", info.linkMode);
    else p.string("any", "linkmode", "mode %s ", m);
  }
  if (full) p.string("any", "group", "group %s ", groupName(info.group));
  if (o.showQueue && info.txqlen) p.number("any", "txqlen", "qlen %d", info.txqlen);
  if (!o.family || o.family === AF_PACKET || o.details) {
    p.nl();
    p.string("any", "link_type", "    link/%s ", llTypeName(info.type));
    if (info.address) p.string("any", "address", "%s", llAddrN2a(info.address));
    if (info.broadcast) {
      if (info.flags & IFF.POINTOPOINT) {
        p.fp(" peer ");
        p.bool("json", "link_pointtopoint", null, true);
      } else p.fp(" brd ");
      p.string("any", "broadcast", "%s", llAddrN2a(info.broadcast));
    }
  }
  if (full && info.linkNetnsid !== null) {
    const id = info.linkNetnsid;
    if (p.json) p.number("json", "link_netnsid", null, id);
    else {
      const name = nameFromNsid(net, id);
      if (name !== null) p.string("fp", null, " link-netns %s", name);
      else p.number("fp", null, " link-netnsid %d", id);
    }
  }
  if (o.details) printDetails(p, info);
  if (info.alias && (o.doLink || o.details)) {
    p.nl();
    p.string("any", "ifalias", "    alias %s", info.alias);
  }
  if (o.doLink && o.stats) {
    p.nl();
    printLinkStats(p, info, o.stats);
  }
}

/** The `-d` part of print_linkinfo. */
function printDetails(p: Printer, info: IfInfo): void {
  p.number("any", "promiscuity", " promiscuity %u ", info.promiscuity);
  p.number("any", "allmulti", " allmulti %u ", info.allmulti);
  p.number("any", "min_mtu", "minmtu %u ", info.minMtu);
  p.number("any", "max_mtu", "maxmtu %u ", info.maxMtu);
  if (info.linkInfo) {
    const kind = info.linkInfo.kind;
    p.openObject("linkinfo");
    p.fp(p.sl);
    p.string("any", "info_kind", "    %s ", kind);
    const lu = getLinkUtil(kind);
    if (lu?.print) {
      p.openObject("info_data");
      lu.print(p, info.linkInfo.data);
      p.closeObject();
    }
    p.closeObject();
  }
  if (info.addrGenMode !== null) {
    const modes = ["eui64", "none", "stable_secret", "random"];
    const m = modes[info.addrGenMode] ?? `0x${info.addrGenMode.toString(16).padStart(2, "0")}`;
    p.string("any", "inet6_addr_gen_mode", "addrgenmode %s ", m);
  }
  p.number("any", "num_tx_queues", "numtxqueues %u ", info.numTxQueues);
  p.number("any", "num_rx_queues", "numrxqueues %u ", info.numRxQueues);
  p.number("any", "gso_max_size", "gso_max_size %u ", info.gsoMaxSize);
  p.number("any", "gso_max_segs", "gso_max_segs %u ", info.gsoMaxSegs);
  p.number("any", "tso_max_size", "tso_max_size %u ", info.tsoMaxSize);
  p.number("any", "tso_max_segs", "tso_max_segs %u ", info.tsoMaxSegs);
  p.number("any", "gro_max_size", "gro_max_size %u ", info.groMaxSize);
}

/** size_columns: widen each column to fit its numbers. */
function sizeColumns(cols: number[], ...values: number[]): void {
  values.forEach((v, i) => {
    const len = String(v).length;
    if (cols[i] !== undefined && len > cols[i]!) cols[i] = len;
  });
}

/** print_num: right-aligned in its column, then a space. */
function num(width: number, v: number): string {
  return `${String(v).padStart(width, " ")} `;
}

/** print_link_stats64 (text and JSON), `-s` once or twice. */
export function printLinkStats(p: Printer, info: IfInfo, level: number): void {
  const s = info.stats;
  const cc = info.carrierChanges;
  if (p.json) {
    p.openObject("stats64");
    p.openObject("rx");
    p.number("json", "bytes", null, s.rxBytes);
    p.number("json", "packets", null, s.rxPackets);
    p.number("json", "errors", null, s.rxErrors);
    p.number("json", "dropped", null, s.rxDropped);
    p.number("json", "over_errors", null, s.rxOverErrors);
    p.number("json", "multicast", null, s.multicast);
    if (s.rxCompressed) p.number("json", "compressed", null, s.rxCompressed);
    if (level > 1) {
      p.number("json", "length_errors", null, s.rxLengthErrors);
      p.number("json", "crc_errors", null, s.rxCrcErrors);
      p.number("json", "frame_errors", null, s.rxFrameErrors);
      p.number("json", "fifo_errors", null, s.rxFifoErrors);
      p.number("json", "missed_errors", null, s.rxMissedErrors);
      if (s.rxNohandler) p.number("json", "nohandler", null, s.rxNohandler);
    }
    p.closeObject();
    p.openObject("tx");
    p.number("json", "bytes", null, s.txBytes);
    p.number("json", "packets", null, s.txPackets);
    p.number("json", "errors", null, s.txErrors);
    p.number("json", "dropped", null, s.txDropped);
    p.number("json", "carrier_errors", null, s.txCarrierErrors);
    p.number("json", "collisions", null, s.collisions);
    if (s.txCompressed) p.number("json", "compressed", null, s.txCompressed);
    if (level > 1) {
      p.number("json", "aborted_errors", null, s.txAbortedErrors);
      p.number("json", "fifo_errors", null, s.txFifoErrors);
      p.number("json", "window_errors", null, s.txWindowErrors);
      p.number("json", "heartbeat_errors", null, s.txHeartbeatErrors);
      p.number("json", "carrier_changes", null, cc);
    }
    p.closeObject();
    p.closeObject();
    return;
  }
  const cols = [10, 7, 6, 7, 7, 7, 10, 9];
  if (level > 1) {
    sizeColumns(
      cols,
      s.rxBytes,
      s.rxPackets,
      s.rxErrors,
      s.rxDropped,
      s.rxMissedErrors,
      s.multicast,
      s.rxCompressed,
    );
    sizeColumns(
      cols,
      0,
      s.rxLengthErrors,
      s.rxCrcErrors,
      s.rxFrameErrors,
      s.rxFifoErrors,
      s.rxOverErrors,
      s.rxNohandler,
    );
    sizeColumns(
      cols,
      s.txBytes,
      s.txPackets,
      s.txErrors,
      s.txDropped,
      s.txCarrierErrors,
      s.collisions,
      s.txCompressed,
    );
    sizeColumns(cols, 0, s.txAbortedErrors, s.txFifoErrors, s.txWindowErrors, s.txHeartbeatErrors, cc);
  } else {
    sizeColumns(
      cols,
      s.rxBytes,
      s.rxPackets,
      s.rxErrors,
      s.rxDropped,
      s.rxMissedErrors,
      s.multicast,
      s.rxCompressed,
    );
    sizeColumns(
      cols,
      s.txBytes,
      s.txPackets,
      s.txErrors,
      s.txDropped,
      s.txCarrierErrors,
      s.collisions,
      s.txCompressed,
    );
  }
  const c = cols as [number, number, number, number, number, number, number, number];
  const pad = (w: number, t: string) => t.padStart(w, " ");
  let out = `    RX: ${pad(c[0] - 4, "bytes")} ${pad(c[1], "packets")} ${pad(c[2], "errors")} ${pad(c[3], "dropped")} `;
  out += `${pad(c[4], "missed")} ${pad(c[5], "mcast")} ${pad(c[6], s.rxCompressed ? "compressed" : "")}${p.sl}`;
  out += `    ${num(c[0], s.rxBytes)}${num(c[1], s.rxPackets)}${num(c[2], s.rxErrors)}${num(c[3], s.rxDropped)}`;
  out += `${num(c[4], s.rxMissedErrors)}${num(c[5], s.multicast)}`;
  if (s.rxCompressed) out += num(c[6], s.rxCompressed);
  if (level > 1) {
    out += p.sl;
    out += `    RX errors:${pad(c[0] - 10, "")} ${pad(c[1], "length")} ${pad(c[2], "crc")} ${pad(c[3], "frame")} `;
    out += `${pad(c[4], "fifo")} ${pad(c[5], "overrun")}${s.rxNohandler ? pad(c[6] + 1, " nohandler") : ""}${p.sl}`;
    out += `${" ".repeat(c[0] + 5)}${num(c[1], s.rxLengthErrors)}${num(c[2], s.rxCrcErrors)}`;
    out += `${num(c[3], s.rxFrameErrors)}${num(c[4], s.rxFifoErrors)}${num(c[5], s.rxOverErrors)}`;
    if (s.rxNohandler) out += num(c[6], s.rxNohandler);
  }
  out += p.sl;
  out += `    TX: ${pad(c[0] - 4, "bytes")} ${pad(c[1], "packets")} ${pad(c[2], "errors")} ${pad(c[3], "dropped")} `;
  out += `${pad(c[4], "carrier")} ${pad(c[5], "collsns")} ${pad(c[6], s.txCompressed ? "compressed" : "")}${p.sl}`;
  out += `    ${num(c[0], s.txBytes)}${num(c[1], s.txPackets)}${num(c[2], s.txErrors)}${num(c[3], s.txDropped)}`;
  out += `${num(c[4], s.txCarrierErrors)}${num(c[5], s.collisions)}`;
  if (s.txCompressed) out += num(c[6], s.txCompressed);
  if (level > 1) {
    out += p.sl;
    out += `    TX errors:${pad(c[0] - 10, "")} ${pad(c[1], "aborted")} ${pad(c[2], "fifo")} ${pad(c[3], "window")} `;
    out += `${pad(c[4], "heartbt")} ${pad(c[5], "transns")}${p.sl}`;
    out += `${" ".repeat(c[0] + 5)}${num(c[1], s.txAbortedErrors)}${num(c[2], s.txFifoErrors)}`;
    out += `${num(c[3], s.txWindowErrors)}${num(c[4], s.txHeartbeatErrors)}${num(c[5], cc)}`;
  }
  p.fp(out);
}

/** print_linkinfo_brief: "NAME@LINK  STATE  [ADDRESS FLAGS]" (the address part for `ip -br link`). */
export function printLinkBrief(p: Printer, info: IfInfo, net: NetNamespace, family: number): void {
  const mdown = printNameAndLink(p, "%-16s ", info, net);
  printOperstate(p, info.operstate, true);
  if (family === AF_PACKET) {
    if (info.address) p.string("any", "address", "%s ", llAddrN2a(info.address));
    printLinkFlags(p, info.flags, mdown);
    p.fp("\n");
  }
}
