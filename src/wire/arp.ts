/**
 * ARP for IPv4 over Ethernet (RFC 826). Other hardware or protocol types are `unsupported`.
 * @module
 */

import { type Ipv4Addr, type MacAddr, readIpv4, readMac, writeIpv4, writeMac } from "./addr.ts";
import { readU16, writeU16 } from "./bytes.ts";
import { truncated, unsupported } from "./error.ts";

/** ARP operation codes; others are kept as plain numbers. */
export const ArpOp = { Request: 1, Reply: 2 } as const;

/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LEN = 28;

const field = {
  HTYPE: 0,
  PTYPE: 2,
  HLEN: 4,
  PLEN: 5,
  OPER: 6,
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
} as const;

const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;
const FIXED_LEN = 8;

/** An Ethernet/IPv4 ARP packet. */
export type ArpRepr = {
  readonly operation: number;
  readonly senderMac: MacAddr;
  readonly senderIp: Ipv4Addr;
  readonly targetMac: MacAddr;
  readonly targetIp: Ipv4Addr;
};

/** A zero-copy view over an ARP packet. */
export class ArpPacket {
  /** The ARP packet (may be followed by Ethernet padding). */
  readonly buffer: Uint8Array;

  /** Wraps `buffer` without checks, for emission. */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** Wraps untrusted bytes after checking it is a complete Ethernet/IPv4 ARP packet. */
  static check(buffer: Uint8Array): ArpPacket {
    checkLen(buffer);
    return new ArpPacket(buffer);
  }

  /** Hardware type (1 for Ethernet). */
  get htype(): number {
    return readU16(this.buffer, field.HTYPE);
  }
  set htype(v: number) {
    writeU16(this.buffer, field.HTYPE, v);
  }

  /** Protocol type (0x0800 for IPv4). */
  get ptype(): number {
    return readU16(this.buffer, field.PTYPE);
  }
  set ptype(v: number) {
    writeU16(this.buffer, field.PTYPE, v);
  }

  /** Hardware address length. */
  get hlen(): number {
    return this.buffer[field.HLEN];
  }
  set hlen(v: number) {
    this.buffer[field.HLEN] = v;
  }

  /** Protocol address length. */
  get plen(): number {
    return this.buffer[field.PLEN];
  }
  set plen(v: number) {
    this.buffer[field.PLEN] = v;
  }

  /** Operation (`ArpOp`). */
  get operation(): number {
    return readU16(this.buffer, field.OPER);
  }
  set operation(v: number) {
    writeU16(this.buffer, field.OPER, v);
  }

  /** Sender hardware address. */
  get senderMac(): MacAddr {
    return readMac(this.buffer, field.SHA);
  }
  set senderMac(v: MacAddr) {
    writeMac(this.buffer, field.SHA, v);
  }

  /** Sender protocol address. */
  get senderIp(): Ipv4Addr {
    return readIpv4(this.buffer, field.SPA);
  }
  set senderIp(v: Ipv4Addr) {
    writeIpv4(this.buffer, field.SPA, v);
  }

  /** Target hardware address. */
  get targetMac(): MacAddr {
    return readMac(this.buffer, field.THA);
  }
  set targetMac(v: MacAddr) {
    writeMac(this.buffer, field.THA, v);
  }

  /** Target protocol address. */
  get targetIp(): Ipv4Addr {
    return readIpv4(this.buffer, field.TPA);
  }
  set targetIp(v: Ipv4Addr) {
    writeIpv4(this.buffer, field.TPA, v);
  }
}

function checkLen(buf: Uint8Array): void {
  if (buf.length < FIXED_LEN) throw truncated("ARP packet", buf.length, FIXED_LEN);
  const htype = readU16(buf, field.HTYPE);
  const ptype = readU16(buf, field.PTYPE);
  if (htype !== HTYPE_ETHERNET || ptype !== PTYPE_IPV4 || buf[field.HLEN] !== 6 || buf[field.PLEN] !== 4) {
    throw unsupported(
      "ARP packet",
      `hardware type ${htype}/${buf[field.HLEN]} with protocol 0x${ptype.toString(16)}/${buf[field.PLEN]} is not Ethernet/IPv4`,
    );
  }
  if (buf.length < ARP_LEN) throw truncated("ARP packet", buf.length, ARP_LEN);
}

/** Parses an Ethernet/IPv4 ARP packet (bytes or a view). */
export function parseArp(input: ArpPacket | Uint8Array): ArpRepr {
  const buf = input instanceof ArpPacket ? input.buffer : input;
  checkLen(buf);
  return {
    operation: readU16(buf, field.OPER),
    senderMac: readMac(buf, field.SHA),
    senderIp: readIpv4(buf, field.SPA),
    targetMac: readMac(buf, field.THA),
    targetIp: readIpv4(buf, field.TPA),
  };
}

/** Bytes `emitArp` writes: always 28. */
export function arpReprLen(_repr: ArpRepr): number {
  return ARP_LEN;
}

/** Writes the ARP packet of `repr` at the start of `buf`. */
export function emitArp(repr: ArpRepr, buf: Uint8Array): void {
  writeU16(buf, field.HTYPE, HTYPE_ETHERNET);
  writeU16(buf, field.PTYPE, PTYPE_IPV4);
  buf[field.HLEN] = 6;
  buf[field.PLEN] = 4;
  writeU16(buf, field.OPER, repr.operation);
  writeMac(buf, field.SHA, repr.senderMac);
  writeIpv4(buf, field.SPA, repr.senderIp);
  writeMac(buf, field.THA, repr.targetMac);
  writeIpv4(buf, field.TPA, repr.targetIp);
}
