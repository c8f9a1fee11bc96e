/**
 * Ethernet II frames with at most one IEEE 802.1Q tag. The frame check sequence is not part
 * of the buffer (as with TAP devices and packet sockets). Unknown ethertypes are kept.
 * @module
 */

import { type MacAddr, readMac, writeMac } from "./addr.ts";
import { readU16, writeU16 } from "./bytes.ts";
import { truncated } from "./error.ts";

/** Known ethertypes; others are kept as plain numbers. */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100,
  Ipv6: 0x86dd,
  QinQ: 0x88a8,
} as const;

/** Length of an untagged Ethernet header. */
export const ETHERNET_HEADER_LEN = 14;
/** Length of an 802.1Q tag (TPID + TCI). */
export const VLAN_TAG_LEN = 4;

const field = {
  DST: 0,
  SRC: 6,
  ETHERTYPE: 12,
  VLAN_TCI: 14,
  VLAN_ETHERTYPE: 16,
} as const;

/** An 802.1Q tag control field: priority, drop eligible indicator, VLAN id. */
export type VlanTag = { readonly pcp: number; readonly dei: boolean; readonly vid: number };

/** The Ethernet header as the stack sees it; `etherType` is the payload's, inside any tag. */
export type EthernetRepr = {
  readonly dst: MacAddr;
  readonly src: MacAddr;
  readonly etherType: number;
  readonly vlan?: VlanTag;
};

/** A zero-copy view over an Ethernet frame. */
export class EthernetFrame {
  /** The whole frame. */
  readonly buffer: Uint8Array;

  /** Wraps `buffer` without checks: for emission into a buffer sized with `ethernetReprLen`. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** Wraps untrusted bytes after checking the header (and tag, if any) fits. */
  static check(buffer: Uint8Array): EthernetFrame {
    checkLen(buffer);
    return new EthernetFrame(buffer);
  }

  /** Destination address. */
  get dst(): MacAddr {
    return readMac(this.buffer, field.DST);
  }
  set dst(mac: MacAddr) {
    writeMac(this.buffer, field.DST, mac);
  }

  /** Source address. */
  get src(): MacAddr {
    return readMac(this.buffer, field.SRC);
  }
  set src(mac: MacAddr) {
    writeMac(this.buffer, field.SRC, mac);
  }

  /** True when the outer ethertype is the 802.1Q TPID. */
  get hasVlan(): boolean {
    return readU16(this.buffer, field.ETHERTYPE) === EtherType.Vlan;
  }

  /** The 802.1Q tag control information (only meaningful when `hasVlan`). */
  get vlanTci(): number {
    return readU16(this.buffer, field.VLAN_TCI);
  }
  set vlanTci(tci: number) {
    writeU16(this.buffer, field.VLAN_TCI, tci);
  }

  /** The payload's ethertype: the inner one when tagged. */
  get etherType(): number {
    return readU16(this.buffer, this.hasVlan ? field.VLAN_ETHERTYPE : field.ETHERTYPE);
  }
  set etherType(value: number) {
    writeU16(this.buffer, this.hasVlan ? field.VLAN_ETHERTYPE : field.ETHERTYPE, value);
  }

  /** Header length: 14, or 18 with a tag. */
  get headerLen(): number {
    return this.hasVlan ? ETHERNET_HEADER_LEN + VLAN_TAG_LEN : ETHERNET_HEADER_LEN;
  }

  /** The bytes after the header (network packet plus any padding), without copying. */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen);
  }
}

function checkLen(buf: Uint8Array): void {
  if (buf.length < ETHERNET_HEADER_LEN) throw truncated("Ethernet frame", buf.length, ETHERNET_HEADER_LEN);
  if (readU16(buf, field.ETHERTYPE) === EtherType.Vlan && buf.length < ETHERNET_HEADER_LEN + VLAN_TAG_LEN) {
    throw truncated("Ethernet frame", buf.length, ETHERNET_HEADER_LEN + VLAN_TAG_LEN);
  }
}

/** Decodes a VLAN TCI. */
export function parseVlanTci(tci: number): VlanTag {
  return { pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0xfff };
}

/** Encodes a VLAN TCI. */
export function vlanTci(tag: VlanTag): number {
  return ((tag.pcp & 7) << 13) | (tag.dei ? 0x1000 : 0) | (tag.vid & 0xfff);
}

/** Parses the Ethernet header of a frame (bytes or a view). */
export function parseEthernet(input: EthernetFrame | Uint8Array): EthernetRepr {
  const buf = input instanceof EthernetFrame ? input.buffer : input;
  checkLen(buf);
  const dst = readMac(buf, field.DST);
  const src = readMac(buf, field.SRC);
  const outer = readU16(buf, field.ETHERTYPE);
  if (outer !== EtherType.Vlan) return { dst, src, etherType: outer };
  return {
    dst,
    src,
    etherType: readU16(buf, field.VLAN_ETHERTYPE),
    vlan: parseVlanTci(readU16(buf, field.VLAN_TCI)),
  };
}

/** Bytes `emitEthernet` writes: the header, 14 or 18. */
export function ethernetReprLen(repr: EthernetRepr): number {
  return repr.vlan === undefined ? ETHERNET_HEADER_LEN : ETHERNET_HEADER_LEN + VLAN_TAG_LEN;
}

/** Writes the Ethernet header of `repr` at the start of `buf`; the payload follows at `ethernetReprLen`. */
export function emitEthernet(repr: EthernetRepr, buf: Uint8Array): void {
  writeMac(buf, field.DST, repr.dst);
  writeMac(buf, field.SRC, repr.src);
  if (repr.vlan === undefined) {
    writeU16(buf, field.ETHERTYPE, repr.etherType);
  } else {
    writeU16(buf, field.ETHERTYPE, EtherType.Vlan);
    writeU16(buf, field.VLAN_TCI, vlanTci(repr.vlan));
    writeU16(buf, field.VLAN_ETHERTYPE, repr.etherType);
  }
}
