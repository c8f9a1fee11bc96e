/**
 * pcapng capture files: a reader for sections in either byte order with any number of interfaces,
 * and a streaming little-endian writer. Blocks the reader does not need are skipped.
 *
 * Every block is: type (32), total length (32), body, total length again; bodies are padded to
 * 4 bytes and the byte order is set per section by the Section Header Block.
 */
import { WireError } from "./error.ts";
import { byteView, type CapturedPacket, type CaptureSink, concatChunks, type TsResolution } from "./pcap.ts";

/** Section Header Block type; reads the same in both byte orders. */
export const PCAPNG_BLOCK_SHB = 0x0a0d0d0a;
/** Interface Description Block type. */
export const PCAPNG_BLOCK_IDB = 0x00000001;
/** Packet Block type (obsolete, still read). */
export const PCAPNG_BLOCK_PB = 0x00000002;
/** Simple Packet Block type. */
export const PCAPNG_BLOCK_SPB = 0x00000003;
/** Enhanced Packet Block type. */
export const PCAPNG_BLOCK_EPB = 0x00000006;
/** Byte-order magic inside the Section Header Block. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
const OPT_ENDOFOPT = 0;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const BLOCK_OVERHEAD = 12; // type, leading and trailing total length
const SHB_MIN_LEN = 28;
const IDB_MIN_LEN = 20;
const EPB_MIN_LEN = 32;
const PB_MIN_LEN = 32;
const SPB_MIN_LEN = 16;
const NANOS_PER_SECOND = 1_000_000_000n;
const UINT32_MAX = 0xffffffff;

/** Timestamp unit of an interface: 10^-exponent or 2^-exponent seconds (`if_tsresol`). */
export interface PcapngTsUnit {
  /** 10 or 2. */
  readonly base: 10 | 2;
  /** Negative power of the base; the unit is base^-exponent seconds. */
  readonly exponent: number;
}

/** An interface described by an Interface Description Block. */
export interface PcapngInterface {
  /** Index in the file's interface list, over all sections, in file order. */
  readonly index: number;
  /** Number of the section (0-based) the interface belongs to. */
  readonly section: number;
  /** LINKTYPE_* of its packets. */
  readonly linktype: number;
  /** Snapshot length; 0 means no limit. */
  readonly snaplen: number;
  /** Timestamp unit; microseconds unless `if_tsresol` says otherwise. */
  readonly tsUnit: PcapngTsUnit;
  /** `if_tsoffset`: seconds added to every timestamp; usually 0. */
  readonly tsOffsetSeconds: bigint;
  /** `if_name`, when present. */
  readonly name: string | undefined;
}

/** A packet from a pcapng file. Simple Packet Blocks carry no time: their `tsNanos` is 0n. */
export interface PcapngPacket extends CapturedPacket {
  /** Index into the file's interface list (equal to the block's interface ID in one-section files). */
  readonly interfaceId: number;
  /** LINKTYPE_* of the interface the packet was captured on. */
  readonly linktype: number;
}

/** A whole pcapng file: its interfaces and every packet. */
export interface PcapngFile {
  /** Every interface, over all sections. */
  readonly interfaces: readonly PcapngInterface[];
  /** Every packet, in file order. */
  readonly packets: readonly PcapngPacket[];
  /** Number of sections. */
  readonly sectionCount: number;
}

function fail(kind: WireError["kind"], message: string): never {
  throw new WireError(kind, message);
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** True when `bytes` starts like a pcapng file (a Section Header Block). */
export function isPcapng(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a
  );
}

/** Converts a timestamp counted in `unit`s to nanoseconds, truncating finer units. */
export function pcapngUnitsToNanos(units: bigint, unit: PcapngTsUnit): bigint {
  const { base, exponent } = unit;
  if (base === 2) return (units * NANOS_PER_SECOND) >> BigInt(exponent);
  return exponent <= 9 ? units * 10n ** BigInt(9 - exponent) : units / 10n ** BigInt(exponent - 9);
}

/**
 * Reads the packets of a pcapng file one at a time, without copying them.
 * `next()` throws WireError at the first bad block; interfaces are known once their block was read.
 */
export class PcapngReader implements Iterable<PcapngPacket> {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #interfaces: PcapngInterface[] = [];
  // Index into #interfaces of interface 0 of the current section.
  #sectionBase = 0;
  #section = -1;
  #le = true;
  #offset = 0;

  /** Checks that `bytes` starts with a Section Header Block; throws WireError otherwise. */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 4) fail("truncated", "Cannot read pcapng file: shorter than a block type");
    if (!isPcapng(bytes)) {
      fail("malformed", "Cannot read pcapng file: it does not start with a Section Header Block");
    }
  }

  /** Interfaces read so far, over all sections. */
  get interfaces(): readonly PcapngInterface[] {
    return this.#interfaces;
  }

  /** Number of sections read so far. */
  get sectionCount(): number {
    return this.#section + 1;
  }

  /** Byte offset of the next block: equals the buffer length once everything was read. */
  get offset(): number {
    return this.#offset;
  }

  /** Returns the next packet, or undefined at the end of the buffer. */
  next(): PcapngPacket | undefined {
    const bytes = this.#bytes;
    while (this.#offset < bytes.length) {
      const at = this.#offset;
      if (bytes.length - at < 8) {
        fail("truncated", `Cannot read pcapng block at offset ${at}: header is truncated`);
      }
      const type = this.#view.getUint32(at, this.#le);
      if (type === PCAPNG_BLOCK_SHB) this.#readByteOrder(at);
      const totalLen = this.#view.getUint32(at + 4, this.#le);
      if (totalLen < BLOCK_OVERHEAD || totalLen % 4 !== 0) {
        fail("malformed", `Cannot read pcapng block at offset ${at}: bad total length ${totalLen}`);
      }
      if (totalLen > bytes.length - at) {
        fail(
          "truncated",
          `Cannot read pcapng block at offset ${at}: ${totalLen} bytes long but ${bytes.length - at} left`,
        );
      }
      if (this.#view.getUint32(at + totalLen - 4, this.#le) !== totalLen) {
        fail(
          "malformed",
          `Cannot read pcapng block at offset ${at}: trailing total length differs from ${totalLen}`,
        );
      }
      this.#offset = at + totalLen;
      const packet = this.#readBlock(type, at, totalLen);
      if (packet !== undefined) return packet;
    }
    return undefined;
  }

  /** Iterates over the remaining packets. */
  *[Symbol.iterator](): Iterator<PcapngPacket> {
    for (let packet = this.next(); packet !== undefined; packet = this.next()) yield packet;
  }

  #readByteOrder(at: number): void {
    if (this.#bytes.length - at < 12) {
      fail("truncated", `Cannot read pcapng section at offset ${at}: truncated`);
    }
    const magic = this.#view.getUint32(at + 8, false);
    if (magic === PCAPNG_BYTE_ORDER_MAGIC) {
      this.#le = false;
    } else if (magic === BYTE_ORDER_MAGIC_SWAPPED) {
      this.#le = true;
    } else {
      const shown = magic.toString(16).padStart(8, "0");
      fail("malformed", `Cannot read pcapng section at offset ${at}: bad byte-order magic 0x${shown}`);
    }
  }

  #readBlock(type: number, at: number, totalLen: number): PcapngPacket | undefined {
    if (type === PCAPNG_BLOCK_SHB) {
      this.#readSectionHeader(at, totalLen);
      return undefined;
    }
    if (this.#section < 0) {
      fail("malformed", `Cannot read pcapng block at offset ${at}: no section header before it`);
    }
    switch (type) {
      case PCAPNG_BLOCK_IDB:
        this.#readInterface(at, totalLen);
        return undefined;
      case PCAPNG_BLOCK_EPB:
        return this.#readEnhancedPacket(at, totalLen);
      case PCAPNG_BLOCK_SPB:
        return this.#readSimplePacket(at, totalLen);
      case PCAPNG_BLOCK_PB:
        return this.#readObsoletePacket(at, totalLen);
      default:
        // Name resolution, statistics, custom and future blocks carry nothing we return.
        return undefined;
    }
  }

  #readSectionHeader(at: number, totalLen: number): void {
    if (totalLen < SHB_MIN_LEN) {
      fail("malformed", `Cannot read pcapng section at offset ${at}: block too short`);
    }
    const major = this.#view.getUint16(at + 12, this.#le);
    const minor = this.#view.getUint16(at + 14, this.#le);
    if (major !== 1) {
      fail("unsupported", `Cannot read pcapng section at offset ${at}: version ${major}.${minor}`);
    }
    // Interface IDs restart in every section.
    this.#section++;
    this.#sectionBase = this.#interfaces.length;
  }

  #readInterface(at: number, totalLen: number): void {
    if (totalLen < IDB_MIN_LEN) {
      fail("malformed", `Cannot read pcapng interface at offset ${at}: block too short`);
    }
    const view = this.#view;
    const le = this.#le;
    let tsUnit: PcapngTsUnit = { base: 10, exponent: 6 };
    let tsOffsetSeconds = 0n;
    let name: string | undefined;
    for (const [code, start, len] of this.#options(at + 16, at + totalLen - 4)) {
      if (code === OPT_IF_TSRESOL && len >= 1) {
        const v = this.#bytes[start];
        tsUnit = v & 0x80 ? { base: 2, exponent: v & 0x7f } : { base: 10, exponent: v };
      } else if (code === OPT_IF_TSOFFSET && len >= 8) {
        tsOffsetSeconds = view.getBigInt64(start, le);
      } else if (code === OPT_IF_NAME) {
        name = new TextDecoder().decode(this.#bytes.subarray(start, start + len));
      }
    }
    this.#interfaces.push({
      index: this.#interfaces.length,
      section: this.#section,
      linktype: view.getUint16(at + 8, le),
      snaplen: view.getUint32(at + 12, le),
      tsUnit,
      tsOffsetSeconds,
      name,
    });
  }

  /** Yields [code, value offset, value length] for each option in [from, to). */
  *#options(from: number, to: number): Generator<[number, number, number]> {
    let at = from;
    while (to - at >= 4) {
      const code = this.#view.getUint16(at, this.#le);
      const len = this.#view.getUint16(at + 2, this.#le);
      if (code === OPT_ENDOFOPT) return;
      if (pad4(len) > to - at - 4) {
        fail("malformed", `Cannot read pcapng option ${code} at offset ${at}: overruns block`);
      }
      yield [code, at + 4, len];
      at += 4 + pad4(len);
    }
  }

  #interface(at: number, localId: number): PcapngInterface {
    const index = this.#sectionBase + localId;
    if (localId >= this.#interfaces.length - this.#sectionBase) {
      fail("malformed", `Cannot read pcapng packet at offset ${at}: unknown interface ${localId}`);
    }
    return this.#interfaces[index];
  }

  #packet(
    at: number,
    body: number,
    room: number,
    iface: PcapngInterface,
    units: bigint | undefined,
  ): PcapngPacket {
    const view = this.#view;
    const capLen = view.getUint32(body + 8, this.#le);
    const origLen = view.getUint32(body + 12, this.#le);
    if (pad4(capLen) > room) {
      fail("malformed", `Cannot read pcapng packet at offset ${at}: data overruns block`);
    }
    if (capLen > origLen) {
      fail(
        "malformed",
        `Cannot read pcapng packet at offset ${at}: captured ${capLen} exceeds original ${origLen}`,
      );
    }
    const dataAt = body + 16;
    const tsNanos =
      units === undefined
        ? 0n
        : pcapngUnitsToNanos(units, iface.tsUnit) + iface.tsOffsetSeconds * NANOS_PER_SECOND;
    return {
      tsNanos,
      data: byteView(this.#bytes, dataAt, capLen),
      origLen,
      interfaceId: iface.index,
      linktype: iface.linktype,
    };
  }

  #timestamp(body: number): bigint {
    const high = this.#view.getUint32(body, this.#le);
    const low = this.#view.getUint32(body + 4, this.#le);
    return (BigInt(high) << 32n) | BigInt(low);
  }

  #readEnhancedPacket(at: number, totalLen: number): PcapngPacket {
    if (totalLen < EPB_MIN_LEN) {
      fail("malformed", `Cannot read pcapng packet at offset ${at}: block too short`);
    }
    const iface = this.#interface(at, this.#view.getUint32(at + 8, this.#le));
    return this.#packet(at, at + 12, totalLen - EPB_MIN_LEN, iface, this.#timestamp(at + 12));
  }

  #readObsoletePacket(at: number, totalLen: number): PcapngPacket {
    if (totalLen < PB_MIN_LEN) {
      fail("malformed", `Cannot read pcapng packet at offset ${at}: block too short`);
    }
    const iface = this.#interface(at, this.#view.getUint16(at + 8, this.#le));
    return this.#packet(at, at + 12, totalLen - PB_MIN_LEN, iface, this.#timestamp(at + 12));
  }

  #readSimplePacket(at: number, totalLen: number): PcapngPacket {
    if (totalLen < SPB_MIN_LEN) {
      fail("malformed", `Cannot read pcapng packet at offset ${at}: block too short`);
    }
    const iface = this.#interface(at, 0);
    const origLen = this.#view.getUint32(at + 8, this.#le);
    // The captured length is implied: the original length cut by the snaplen and the block size.
    let capLen = Math.min(origLen, totalLen - SPB_MIN_LEN);
    if (iface.snaplen !== 0) capLen = Math.min(capLen, iface.snaplen);
    const dataAt = at + 12;
    return {
      tsNanos: 0n,
      data: byteView(this.#bytes, dataAt, capLen),
      origLen,
      interfaceId: iface.index,
      linktype: iface.linktype,
    };
  }
}

/** Reads a whole pcapng file. Packet data are views into `bytes`. Throws only WireError. */
export function readPcapng(bytes: Uint8Array): PcapngFile {
  const reader = new PcapngReader(bytes);
  const packets = [...reader];
  return { interfaces: reader.interfaces, packets, sectionCount: reader.sectionCount };
}

/** An interface to declare in a pcapng file. */
export interface PcapngInterfaceOptions {
  /** LINKTYPE_* of its packets. */
  readonly linktype: number;
  /** Snapshot length; default 0, no limit. */
  readonly snaplen?: number;
  /** Timestamp resolution; default "micro". */
  readonly tsResolution?: TsResolution;
  /** `if_name`. */
  readonly name?: string;
}

function checkUint(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot use ${name} ${value}: must be an integer in ${min} .. ${max}`);
  }
}

function block(type: number, bodyLen: number): [Uint8Array, DataView] {
  const total = BLOCK_OVERHEAD + bodyLen;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  view.setUint32(total - 4, total, true);
  return [bytes, view];
}

/**
 * Writes a little-endian pcapng stream to a sink: the Section Header Block on construction,
 * an Interface Description Block per `addInterface`, then one Enhanced Packet Block per `write`.
 */
export class PcapngWriter {
  readonly #sink: CaptureSink;
  readonly #interfaces: { snaplen: number; nanosPerUnit: bigint }[] = [];
  #packets = 0;

  /** Writes the section header to `sink` at once. */
  constructor(sink: CaptureSink) {
    this.#sink = sink;
    const [shb, view] = block(PCAPNG_BLOCK_SHB, 16);
    view.setUint32(8, PCAPNG_BYTE_ORDER_MAGIC, true);
    view.setUint16(12, 1, true);
    view.setUint16(14, 0, true);
    view.setBigInt64(16, -1n, true); // section length not given
    sink(shb);
  }

  /** Number of packets written so far. */
  get packetCount(): number {
    return this.#packets;
  }

  /** Declares an interface and returns its ID for `write`. Throws RangeError on a bad option. */
  addInterface(options: PcapngInterfaceOptions): number {
    const snaplen = options.snaplen ?? 0;
    checkUint("linktype", options.linktype, 0, 0xffff);
    checkUint("snaplen", snaplen, 0, UINT32_MAX);
    const nano = options.tsResolution === "nano";
    const name = options.name === undefined ? undefined : new TextEncoder().encode(options.name);
    if (name !== undefined && name.length > 0xffff) {
      throw new RangeError("Cannot use interface name: too long");
    }
    // Options: if_tsresol (4 + 4 padded), if_name (4 + padded), opt_endofopt (4).
    const optsLen = (nano ? 8 : 0) + (name === undefined ? 0 : 4 + pad4(name.length)) + 4;
    const [idb, view] = block(PCAPNG_BLOCK_IDB, 8 + optsLen);
    view.setUint16(8, options.linktype, true);
    view.setUint32(12, snaplen, true);
    let at = 16;
    if (nano) {
      view.setUint16(at, OPT_IF_TSRESOL, true);
      view.setUint16(at + 2, 1, true);
      idb[at + 4] = 9;
      at += 8;
    }
    if (name !== undefined) {
      view.setUint16(at, OPT_IF_NAME, true);
      view.setUint16(at + 2, name.length, true);
      idb.set(name, at + 4);
      at += 4 + pad4(name.length);
    }
    // opt_endofopt is already zero.
    this.#sink(idb);
    this.#interfaces.push({ snaplen, nanosPerUnit: nano ? 1n : 1000n });
    return this.#interfaces.length - 1;
  }

  /**
   * Writes one packet on interface `interfaceId`. `origLen` (default `frame.length`) is the length
   * on the wire. Throws RangeError on an unknown interface, a negative time or `origLen` too small.
   */
  write(interfaceId: number, tsNanos: bigint, frame: Uint8Array, origLen: number = frame.length): void {
    const iface = this.#interfaces[interfaceId];
    if (iface === undefined) throw new RangeError(`Cannot write packet: unknown interface ${interfaceId}`);
    checkUint("original length", origLen, frame.length, UINT32_MAX);
    const units = tsNanos / iface.nanosPerUnit;
    if (tsNanos < 0n || units >= 1n << 64n) {
      throw new RangeError(`Cannot write timestamp ${tsNanos} ns: out of range`);
    }
    const capLen = iface.snaplen === 0 ? frame.length : Math.min(frame.length, iface.snaplen);
    const [epb, view] = block(PCAPNG_BLOCK_EPB, 20 + pad4(capLen) + 4);
    view.setUint32(8, interfaceId, true);
    view.setUint32(12, Number(units >> 32n), true);
    view.setUint32(16, Number(units & 0xffffffffn), true);
    view.setUint32(20, capLen, true);
    view.setUint32(24, origLen, true);
    epb.set(frame.subarray(0, capLen), 28);
    this.#sink(epb);
    this.#packets++;
  }
}

/** A packet for {@link pcapngToBytes}. */
export interface PcapngPacketInput {
  /** Index into the interfaces given. */
  readonly interfaceId: number;
  /** Capture time, nanoseconds since the Unix epoch. */
  readonly tsNanos: bigint;
  /** The frame bytes. */
  readonly data: Uint8Array;
  /** Length on the wire, if more than `data.length`. */
  readonly origLen?: number;
}

/** Writes interfaces and packets into an in-memory pcapng file (one little-endian section). */
export function pcapngToBytes(
  interfaces: readonly PcapngInterfaceOptions[],
  packets: Iterable<PcapngPacketInput>,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  const writer = new PcapngWriter((chunk) => chunks.push(chunk));
  for (const iface of interfaces) writer.addInterface(iface);
  for (const p of packets) writer.write(p.interfaceId, p.tsNanos, p.data, p.origLen ?? p.data.length);
  return concatChunks(chunks);
}
