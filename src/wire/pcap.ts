/**
 * Classic libpcap capture files: a reader for both byte orders and both timestamp resolutions,
 * and a streaming little-endian writer. Time is always bigint nanoseconds since the Unix epoch.
 *
 * Layout (all fields 32-bit unless noted, in the byte order given by the magic):
 * file header = magic, version major (16) + minor (16), thiszone, sigfigs, snaplen, linktype;
 * then per packet: ts seconds, ts fraction (µs or ns, per the magic), captured length,
 * original length, captured bytes.
 */
import { WireError } from "./error.ts";

/** LINKTYPE_ETHERNET: frames start at the destination MAC, no FCS unless the header says so. */
export const LINKTYPE_ETHERNET = 1;
/** File magic for microsecond timestamps (as the writer stored it). */
export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
/** File magic for nanosecond timestamps (as the writer stored it). */
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
/** Length of the file header in bytes. */
export const PCAP_HEADER_LEN = 24;
/** Length of each packet record header in bytes. */
export const PCAP_RECORD_HEADER_LEN = 16;
/** Snapshot length used when none is given; tcpdump's default. */
export const PCAP_DEFAULT_SNAPLEN = 262144;

// Byte-swapped magics, as they read when the file's byte order differs from the one we read in.
const MAGIC_MICROS_SWAPPED = 0xd4c3b2a1;
const MAGIC_NANOS_SWAPPED = 0x4d3cb2a1;
// Alexey Kuznetzov's patched-libpcap format: a different record header; not supported.
const MAGIC_KUZNETZOV = 0xa1b2cd34;
const MAGIC_KUZNETZOV_SWAPPED = 0x34cdb2a1;
// A pcapng Section Header Block type reads the same in both byte orders.
const PCAPNG_SHB_TYPE = 0x0a0d0d0a;
const NANOS_PER_SECOND = 1_000_000_000n;
const UINT32_MAX = 0xffffffff;

/** Timestamp resolution of a capture file. */
export type TsResolution = "micro" | "nano";

/** One captured packet, as every capture reader in this folder returns it. */
export interface CapturedPacket {
  /** Capture time, nanoseconds since the Unix epoch. */
  readonly tsNanos: bigint;
  /** The captured bytes: a view into the file's buffer, not a copy. */
  readonly data: Uint8Array;
  /** Length of the packet on the wire; larger than `data.length` when the snaplen cut it. */
  readonly origLen: number;
}

/** What the file header of a classic pcap file says. */
export interface PcapHeader {
  /** LINKTYPE_* value of every packet in the file (the low 16 bits of the header field). */
  readonly linktype: number;
  /** Bytes of frame check sequence at the end of each packet, when the header records it; else 0. */
  readonly fcsLen: number;
  /** Timestamp resolution, from the magic. */
  readonly tsResolution: TsResolution;
  /** Snapshot length: the producer kept at most this many bytes per packet. */
  readonly snaplen: number;
  /** Byte order of the file. */
  readonly littleEndian: boolean;
  /** Format version, normally 2. */
  readonly versionMajor: number;
  /** Format version, normally 4. */
  readonly versionMinor: number;
}

/** A whole classic pcap file: its header and every packet. */
export interface PcapFile extends PcapHeader {
  /** Every packet, in file order. */
  readonly packets: readonly CapturedPacket[];
}

/** A packet to write: `origLen` defaults to `data.length`. */
export interface PcapPacketInput {
  /** Capture time, nanoseconds since the Unix epoch. */
  readonly tsNanos: bigint;
  /** The frame bytes; cut to the writer's snaplen. */
  readonly data: Uint8Array;
  /** Length on the wire, if more than `data.length`. */
  readonly origLen?: number;
}

/** Options of {@link PcapWriter} and {@link pcapToBytes}. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of the frames; default {@link LINKTYPE_ETHERNET}. */
  readonly linktype?: number;
  /** Longest packet to store, longer frames are cut; default {@link PCAP_DEFAULT_SNAPLEN}. */
  readonly snaplen?: number;
  /** Timestamp resolution to write; default "micro", which every tool reads. */
  readonly tsResolution?: TsResolution;
}

/** Receives the bytes a writer produces, in order. Each chunk is freshly allocated and may be kept. */
export type CaptureSink = (chunk: Uint8Array) => void;

function fail(kind: WireError["kind"], message: string): never {
  throw new WireError(kind, message);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A plain Uint8Array view of `bytes[at, at + len)`. Not `subarray`: on a Node Buffer that returns
 * a Buffer, whose `slice()` shares memory instead of copying, a trap for callers. @internal
 */
export function byteView(bytes: Uint8Array, at: number, len: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + at, len);
}

/** Reads and checks the 24-byte file header. Throws WireError when it is not a pcap file. */
export function readPcapHeader(bytes: Uint8Array): PcapHeader {
  if (bytes.length < PCAP_HEADER_LEN) {
    fail(
      "truncated",
      `Cannot read pcap file: header is truncated (${bytes.length} of ${PCAP_HEADER_LEN} bytes)`,
    );
  }
  const view = viewOf(bytes);
  const magic = view.getUint32(0, false);
  let littleEndian: boolean;
  let tsResolution: TsResolution;
  switch (magic) {
    case PCAP_MAGIC_MICROS:
      [littleEndian, tsResolution] = [false, "micro"];
      break;
    case MAGIC_MICROS_SWAPPED:
      [littleEndian, tsResolution] = [true, "micro"];
      break;
    case PCAP_MAGIC_NANOS:
      [littleEndian, tsResolution] = [false, "nano"];
      break;
    case MAGIC_NANOS_SWAPPED:
      [littleEndian, tsResolution] = [true, "nano"];
      break;
    case MAGIC_KUZNETZOV:
    case MAGIC_KUZNETZOV_SWAPPED:
      return fail(
        "unsupported",
        "Cannot read pcap file: the modified (Kuznetzov) pcap format is not supported",
      );
    case PCAPNG_SHB_TYPE:
      return fail("unsupported", "Cannot read pcap file: this is a pcapng file, read it with readPcapng()");
    default:
      return fail(
        "malformed",
        `Cannot read pcap file: unknown magic 0x${magic.toString(16).padStart(8, "0")}`,
      );
  }
  const versionMajor = view.getUint16(4, littleEndian);
  const versionMinor = view.getUint16(6, littleEndian);
  if (versionMajor !== 2) {
    fail("unsupported", `Cannot read pcap file: version ${versionMajor}.${versionMinor} is not supported`);
  }
  const network = view.getUint32(20, littleEndian);
  // Bit 28 says the upper 3 bits hold the FCS length, counted in 16-bit words.
  const fcsLen = network & 0x10000000 ? ((network >>> 29) & 0x7) * 2 : 0;
  return {
    linktype: network & 0xffff,
    fcsLen,
    tsResolution,
    snaplen: view.getUint32(16, littleEndian),
    littleEndian,
    versionMajor,
    versionMinor,
  };
}

/**
 * Reads the packets of a classic pcap file one at a time, without copying them.
 * The header is checked on construction; `next()` throws WireError at the first bad record.
 */
export class PcapReader implements Iterable<CapturedPacket> {
  /** The file header. */
  readonly header: PcapHeader;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #fracToNanos: bigint;
  #offset = PCAP_HEADER_LEN;
  #index = 0;

  /** Checks the file header of `bytes`; throws WireError when it is not a pcap file. */
  constructor(bytes: Uint8Array) {
    this.header = readPcapHeader(bytes);
    this.#bytes = bytes;
    this.#view = viewOf(bytes);
    this.#fracToNanos = this.header.tsResolution === "micro" ? 1000n : 1n;
  }

  /** Byte offset of the next record: equals the buffer length once every packet was read. */
  get offset(): number {
    return this.#offset;
  }

  /** Returns the next packet, or undefined at the end of the buffer. */
  next(): CapturedPacket | undefined {
    const bytes = this.#bytes;
    const at = this.#offset;
    if (at === bytes.length) return undefined;
    const index = this.#index;
    if (bytes.length - at < PCAP_RECORD_HEADER_LEN) {
      fail("truncated", `Cannot read pcap record ${index} at offset ${at}: record header is truncated`);
    }
    const le = this.header.littleEndian;
    const seconds = this.#view.getUint32(at, le);
    const fraction = this.#view.getUint32(at + 4, le);
    const capLen = this.#view.getUint32(at + 8, le);
    const origLen = this.#view.getUint32(at + 12, le);
    const dataAt = at + PCAP_RECORD_HEADER_LEN;
    if (capLen > bytes.length - dataAt) {
      fail(
        "truncated",
        `Cannot read pcap record ${index} at offset ${at}: ${capLen} bytes captured but ${bytes.length - dataAt} left`,
      );
    }
    if (capLen > origLen) {
      fail(
        "malformed",
        `Cannot read pcap record ${index} at offset ${at}: captured length ${capLen} exceeds original length ${origLen}`,
      );
    }
    this.#offset = dataAt + capLen;
    this.#index = index + 1;
    // A fraction out of range (>= 1 s) is kept as is: tools disagree on it and it is harmless here.
    return {
      tsNanos: BigInt(seconds) * NANOS_PER_SECOND + BigInt(fraction) * this.#fracToNanos,
      data: byteView(bytes, dataAt, capLen),
      origLen,
    };
  }

  /** Iterates over the remaining packets. */
  *[Symbol.iterator](): Iterator<CapturedPacket> {
    for (let packet = this.next(); packet !== undefined; packet = this.next()) yield packet;
  }
}

/** Reads a whole classic pcap file. Packet data are views into `bytes`. Throws only WireError. */
export function readPcap(bytes: Uint8Array): PcapFile {
  const reader = new PcapReader(bytes);
  return { ...reader.header, packets: [...reader] };
}

/** Splits a timestamp into whole seconds and a fraction in the given resolution; checks its range. */
function splitTimestamp(tsNanos: bigint, resolution: TsResolution): [seconds: number, fraction: number] {
  const seconds = tsNanos / NANOS_PER_SECOND;
  if (tsNanos < 0n || seconds > BigInt(UINT32_MAX)) {
    throw new RangeError(`Cannot write timestamp ${tsNanos} ns: outside 0 .. 2^32 s`);
  }
  const nanos = tsNanos % NANOS_PER_SECOND;
  return [Number(seconds), Number(resolution === "micro" ? nanos / 1000n : nanos)];
}

function checkUint(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot use ${name} ${value}: must be an integer in ${min} .. ${max}`);
  }
}

/**
 * Writes a classic little-endian pcap stream to a sink: the file header on construction, then
 * one chunk per packet, so a long capture never sits in memory.
 * Use `(chunk) => fs.writeSync(fd, chunk)` for a file or {@link pcapToBytes} for a buffer.
 */
export class PcapWriter {
  /** LINKTYPE_* written in the header. */
  readonly linktype: number;
  /** Longest packet stored; longer frames are cut and keep their original length. */
  readonly snaplen: number;
  /** Resolution of the timestamps written. */
  readonly tsResolution: TsResolution;
  readonly #sink: CaptureSink;
  #packets = 0;
  #bytes = 0;

  /** Writes the file header to `sink` at once. Throws RangeError on a bad option. */
  constructor(sink: CaptureSink, options: PcapWriterOptions = {}) {
    this.linktype = options.linktype ?? LINKTYPE_ETHERNET;
    this.snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    this.tsResolution = options.tsResolution ?? "micro";
    checkUint("linktype", this.linktype, 0, 0xffff);
    checkUint("snaplen", this.snaplen, 1, UINT32_MAX);
    this.#sink = sink;
    const header = new Uint8Array(PCAP_HEADER_LEN);
    const view = viewOf(header);
    view.setUint32(0, this.tsResolution === "micro" ? PCAP_MAGIC_MICROS : PCAP_MAGIC_NANOS, true);
    view.setUint16(4, 2, true);
    view.setUint16(6, 4, true);
    // thiszone and sigfigs stay 0: timestamps are UTC and their accuracy is not recorded.
    view.setUint32(16, this.snaplen, true);
    view.setUint32(20, this.linktype, true);
    this.#emit(header);
  }

  /** Number of packets written so far. */
  get packetCount(): number {
    return this.#packets;
  }

  /** Number of bytes handed to the sink so far, header included. */
  get byteCount(): number {
    return this.#bytes;
  }

  /**
   * Writes one packet record. `origLen` (default `frame.length`) is the length on the wire.
   * Throws RangeError when the timestamp is outside 0 .. 2^32 s or `origLen` < `frame.length`.
   */
  write(tsNanos: bigint, frame: Uint8Array, origLen: number = frame.length): void {
    checkUint("original length", origLen, frame.length, UINT32_MAX);
    const [seconds, fraction] = splitTimestamp(tsNanos, this.tsResolution);
    const capLen = Math.min(frame.length, this.snaplen);
    const record = new Uint8Array(PCAP_RECORD_HEADER_LEN + capLen);
    const view = viewOf(record);
    view.setUint32(0, seconds, true);
    view.setUint32(4, fraction, true);
    view.setUint32(8, capLen, true);
    view.setUint32(12, origLen, true);
    record.set(frame.subarray(0, capLen), PCAP_RECORD_HEADER_LEN);
    this.#emit(record);
    this.#packets++;
  }

  #emit(chunk: Uint8Array): void {
    this.#sink(chunk);
    this.#bytes += chunk.length;
  }
}

/** Concatenates chunks into one buffer. @internal */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Writes packets into an in-memory classic pcap file (little-endian). */
export function pcapToBytes(packets: Iterable<PcapPacketInput>, options: PcapWriterOptions = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const writer = new PcapWriter((chunk) => chunks.push(chunk), options);
  for (const packet of packets)
    writer.write(packet.tsNanos, packet.data, packet.origLen ?? packet.data.length);
  return concatChunks(chunks);
}
