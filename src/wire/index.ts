/**
 * The packet layer: zero-copy views (`XxxPacket`) and plain readonly reprs (`XxxRepr`) with
 * symmetric `parseXxx` / `emitXxx` / `xxxReprLen` for every protocol the simulated kernel
 * speaks (for IP, `parseIpv4Packet` / `emitIpv4Packet`: `parseIpv4` parses address text), and
 * `parseFrame` / `emitFrame` for whole frames. Parsing untrusted bytes throws only `WireError`.
 * Other folders import from here only; `test-*.ts` files are test support, not exported.
 * @module
 */

export * from "./addr.ts";
export * from "./arp.ts";
export { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";
export * from "./checksum.ts";
export { WireError, type WireErrorKind } from "./error.ts";
export * from "./ethernet.ts";
export * from "./frame.ts";
export * from "./icmpv4.ts";
export * from "./icmpv6.ts";
export * from "./ip-proto.ts";
export * from "./ipv4.ts";
export * from "./ipv6.ts";
export {
  IPV6_MAX_EXT_HEADERS,
  type Ipv6ExtHeader,
  type Ipv6Option,
  Ipv6OptionType,
  type Ipv6UpperLayer,
  ipv6ExtHeaderLen,
  ipv6ExtHeaderProto,
  isIpv6ExtHeader,
  walkIpv6ExtHeaders,
} from "./ipv6-ext.ts";
export * from "./mld.ts";
export * from "./ndisc-option.ts";
export * from "./pretty.ts";
export * from "./tcp.ts";
export * from "./udp.ts";
export {
  type CapturedPacket,
  type CaptureSink,
  LINKTYPE_ETHERNET,
  PCAP_DEFAULT_SNAPLEN,
  PCAP_HEADER_LEN,
  PCAP_MAGIC_MICROS,
  PCAP_MAGIC_NANOS,
  PCAP_RECORD_HEADER_LEN,
  type PcapFile,
  type PcapHeader,
  type PcapPacketInput,
  PcapReader,
  PcapWriter,
  type PcapWriterOptions,
  pcapToBytes,
  readPcap,
  readPcapHeader,
  type TsResolution,
} from "./pcap.ts";
export {
  isPcapng,
  PCAPNG_BLOCK_EPB,
  PCAPNG_BLOCK_IDB,
  PCAPNG_BLOCK_PB,
  PCAPNG_BLOCK_SHB,
  PCAPNG_BLOCK_SPB,
  PCAPNG_BYTE_ORDER_MAGIC,
  type PcapngFile,
  type PcapngInterface,
  type PcapngInterfaceOptions,
  type PcapngPacket,
  type PcapngPacketInput,
  PcapngReader,
  type PcapngTsUnit,
  PcapngWriter,
  pcapngToBytes,
  pcapngUnitsToNanos,
  readPcapng,
} from "./pcapng.ts";
