/**
 * Test support for the ipvlan engine (not part of the public surface): a "wire" device that
 * stands for a NIC (records what it transmits, injects what arrives), recording protocol
 * handlers, and frame builders over the wire codecs.
 * @module
 */
import {
  allocSkb,
  ethTypeTrans,
  IFF,
  type Kernel,
  NetDevice,
  NetdevTx,
  type NetdevTxValue,
  type NetNamespace,
  netifReceiveSkb,
  type PacketTypeValue,
  registerNetdevice,
  type SkBuff,
} from "../kernel/index.ts";
import {
  ArpOp,
  EtherType,
  emitFrame,
  IpProto,
  type Ipv4Addr,
  type Ipv6Addr,
  type MacAddr,
  parseIpv4,
  parseIpv6,
  parseMac,
} from "../wire/index.ts";

/** Canonical addresses (the HOWTO topology of the oracle scenarios). */
export const MAC_M: MacAddr = parseMac("02:00:00:00:00:02");
/** The router's MAC (ext0). */
export const MAC_R: MacAddr = parseMac("02:00:00:00:00:01");
/** 10.0.0.1, the router. */
export const IP_R: Ipv4Addr = parseIpv4("10.0.0.1");
/** 10.0.0.2, the master. */
export const IP_M: Ipv4Addr = parseIpv4("10.0.0.2");
/** 10.0.0.10, ipvl0. */
export const IP_0: Ipv4Addr = parseIpv4("10.0.0.10");
/** 10.0.0.11, ipvl1. */
export const IP_1: Ipv4Addr = parseIpv4("10.0.0.11");
/** 2001:db8::10, ipvl0. */
export const IP6_0: Ipv6Addr = parseIpv6("2001:db8::10");
/** 2001:db8::11, ipvl1. */
export const IP6_1: Ipv6Addr = parseIpv6("2001:db8::11");

/** A NIC stand-in: transmitted frames are recorded, `inject` receives a frame as from the wire. */
export class WireDevice extends NetDevice {
  /** Every frame transmitted, in order. */
  readonly tx: Uint8Array[] = [];

  constructor(name: string, mac: MacAddr) {
    super("wire", name);
    this.mac = mac;
  }

  /** Records the frame. */
  override ndoStartXmit(skb: SkBuff): NetdevTxValue {
    this.tx.push(skb.data);
    this.stats.txPackets++;
    this.stats.txBytes += skb.data.length;
    return NetdevTx.OK;
  }

  /** A frame arrives from the wire (synchronous receive, as NAPI would run it). */
  inject(frame: Uint8Array, pktType?: PacketTypeValue): SkBuff {
    const skb = allocSkb(frame, this);
    ethTypeTrans(skb, this);
    if (pktType !== undefined) skb.pktType = pktType;
    this.stats.rxPackets++;
    this.stats.rxBytes += frame.length;
    netifReceiveSkb(skb);
    return skb;
  }
}

/** Creates, registers and brings up a wire device. */
export function addWire(net: NetNamespace, name: string, mac: MacAddr): WireDevice {
  const dev = new WireDevice(name, mac);
  registerNetdevice(net, dev);
  dev.flags |= IFF.UP;
  return dev;
}

/** One frame handed to a protocol handler. */
export interface Delivery {
  readonly dev: string;
  readonly netns: NetNamespace;
  readonly pktType: PacketTypeValue;
  readonly data: Uint8Array;
}

/** Registers protocol handlers for IPv4, ARP and IPv6 that only record what reaches them. */
export function recordDeliveries(kernel: Kernel): Delivery[] {
  const seen: Delivery[] = [];
  for (const et of [EtherType.Ipv4, EtherType.Arp, EtherType.Ipv6]) {
    kernel.registerProtocol(et, (skb) => {
      seen.push({ dev: skb.dev.name, netns: skb.dev.netns, pktType: skb.pktType, data: skb.data });
    });
  }
  return seen;
}

/** Options of the frame builders. */
export interface FrameOptions {
  readonly dstMac: MacAddr;
  readonly srcMac: MacAddr;
  /** UDP payload length (default 18). */
  readonly payloadLen?: number;
}

/** An Ethernet + IPv4 + UDP frame. */
export function udp4Frame(o: FrameOptions & { readonly src: Ipv4Addr; readonly dst: Ipv4Addr }): Uint8Array {
  return emitFrame({
    eth: { dst: o.dstMac, src: o.srcMac, etherType: EtherType.Ipv4 },
    ipv4: {
      src: o.src,
      dst: o.dst,
      protocol: IpProto.Udp,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      ident: 1,
      dontFrag: true,
      moreFrags: false,
      fragOffset: 0,
      options: new Uint8Array(0),
      payloadLen: 0,
    },
    udp: { srcPort: 4000, dstPort: 5000, payload: new Uint8Array(o.payloadLen ?? 18) },
  });
}

/** An Ethernet + IPv6 + UDP frame. */
export function udp6Frame(o: FrameOptions & { readonly src: Ipv6Addr; readonly dst: Ipv6Addr }): Uint8Array {
  return emitFrame({
    eth: { dst: o.dstMac, src: o.srcMac, etherType: EtherType.Ipv6 },
    ipv6: {
      src: o.src,
      dst: o.dst,
      nextHeader: IpProto.Udp,
      hopLimit: 64,
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      extHeaders: [],
      payloadLen: 0,
    },
    udp: { srcPort: 4000, dstPort: 5000, payload: new Uint8Array(o.payloadLen ?? 18) },
  });
}

/** An IPv6 neighbour solicitation (from `src`, `::` for a DAD probe) for `target`. */
export function nsFrame(o: {
  readonly srcMac: MacAddr;
  readonly src: Ipv6Addr;
  readonly target: Ipv6Addr;
}): Uint8Array {
  const snm = 0xff02_0000_0000_0000_0000_0001_ff00_0000n | (o.target & 0xff_ffffn);
  const dstMac = 0x3333_0000_0000 + Number(snm & 0xffff_ffffn);
  return emitFrame({
    eth: { dst: dstMac, src: o.srcMac, etherType: EtherType.Ipv6 },
    ipv6: {
      src: o.src,
      dst: snm,
      nextHeader: IpProto.Icmpv6,
      hopLimit: 255,
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      extHeaders: [],
      payloadLen: 0,
    },
    icmpv6: { kind: "neighbor-solicit", target: o.target, options: [] },
  });
}

/** An ARP request or reply. */
export function arpFrame(o: {
  readonly dstMac: MacAddr;
  readonly srcMac: MacAddr;
  readonly op?: number;
  readonly senderIp: Ipv4Addr;
  readonly targetIp: Ipv4Addr;
}): Uint8Array {
  return emitFrame({
    eth: { dst: o.dstMac, src: o.srcMac, etherType: EtherType.Arp },
    arp: {
      operation: o.op ?? ArpOp.Request,
      senderMac: o.srcMac,
      senderIp: o.senderIp,
      targetMac: 0,
      targetIp: o.targetIp,
    },
  });
}

/** A frame of an arbitrary EtherType with `len` bytes of payload. */
export function rawFrame(
  o: FrameOptions & { readonly etherType: number; readonly len?: number },
): Uint8Array {
  return emitFrame({
    eth: { dst: o.dstMac, src: o.srcMac, etherType: o.etherType },
    payload: new Uint8Array(o.len ?? 46),
  });
}

/** An skb for a frame a slave's stack transmits (protocol and network header set as the stack does). */
export function txSkb(frame: Uint8Array, dev: NetDevice): SkBuff {
  const skb = allocSkb(frame, dev);
  skb.protocol = (frame[12] << 8) | frame[13];
  return skb;
}
