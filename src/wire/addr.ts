/**
 * Link and network address values: MAC (`number`, 48 bits), IPv4 (`number`, unsigned 32 bits) and
 * IPv6 (`bigint`, 128 bits), with their text forms as iproute2 6.1 prints them, prefixes,
 * classification predicates and the multicast/EUI-64 derivations the kernel performs.
 *
 * Text parsing throws `SyntaxError` (bad text) or `RangeError` (bad numeric argument), never
 * `WireError`: these functions serve configuration, not the data path.
 * @module
 */

/** A 48-bit Ethernet address, e.g. `0x020000000002` for `02:00:00:00:00:02`. */
export type MacAddr = number;
/** An IPv4 address as an unsigned 32-bit integer, e.g. `0x0a000001` for `10.0.0.1`. */
export type Ipv4Addr = number;
/** An IPv6 address as a 128-bit unsigned bigint. */
export type Ipv6Addr = bigint;
/** An IPv4 address with a prefix length (0-32); host bits are kept as given. */
export type Ipv4Prefix = { readonly addr: Ipv4Addr; readonly len: number };
/** An IPv6 address with a prefix length (0-128); host bits are kept as given. */
export type Ipv6Prefix = { readonly addr: Ipv6Addr; readonly len: number };

/** The Ethernet broadcast address `ff:ff:ff:ff:ff:ff`. */
export const MAC_BROADCAST: MacAddr = 0xffff_ffff_ffff;
/** The all-zero Ethernet address. */
export const MAC_ZERO: MacAddr = 0;
/** `0.0.0.0`. */
export const IPV4_ANY: Ipv4Addr = 0;
/** The limited broadcast address `255.255.255.255`. */
export const IPV4_BROADCAST: Ipv4Addr = 0xffff_ffff;
/** `::`. */
export const IPV6_ANY: Ipv6Addr = 0n;
/** `::1`. */
export const IPV6_LOOPBACK: Ipv6Addr = 1n;
/** `ff02::1`, all nodes on the link (RFC 4291 § 2.7.1). */
export const IPV6_ALL_NODES: Ipv6Addr = 0xff02_0000_0000_0000_0000_0000_0000_0001n;
/** `ff02::2`, all routers on the link. */
export const IPV6_ALL_ROUTERS: Ipv6Addr = 0xff02_0000_0000_0000_0000_0000_0000_0002n;
/** `ff02::16`, all MLDv2-capable routers (RFC 3810 § 5.2.14). */
export const IPV6_ALL_MLDV2_ROUTERS: Ipv6Addr = 0xff02_0000_0000_0000_0000_0000_0000_0016n;

const TWO_POW_32 = 0x1_0000_0000;
const SOLICITED_NODE_BASE = 0xff02_0000_0000_0000_0000_0001_ff00_0000n;
const LINK_LOCAL_BASE = 0xfe80n << 112n;
const U32_MASK = 0xffff_ffffn;

// ---------------------------------------------------------------------------------------------
// Byte access

/** Reads a MAC address from `buf[off, off + 6)`. */
export function readMac(buf: Uint8Array, off: number): MacAddr {
  const hi = (buf[off] << 8) | buf[off + 1];
  const lo = ((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0;
  return hi * TWO_POW_32 + lo;
}

/** Writes a MAC address to `buf[off, off + 6)`. */
export function writeMac(buf: Uint8Array, off: number, mac: MacAddr): void {
  const hi = Math.floor(mac / TWO_POW_32);
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
}

/** Reads an IPv4 address from `buf[off, off + 4)`. */
export function readIpv4(buf: Uint8Array, off: number): Ipv4Addr {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Writes an IPv4 address to `buf[off, off + 4)`. */
export function writeIpv4(buf: Uint8Array, off: number, addr: Ipv4Addr): void {
  buf[off] = addr >>> 24;
  buf[off + 1] = addr >>> 16;
  buf[off + 2] = addr >>> 8;
  buf[off + 3] = addr;
}

/** Reads an IPv6 address from `buf[off, off + 16)`. */
export function readIpv6(buf: Uint8Array, off: number): Ipv6Addr {
  return (
    (BigInt(readIpv4(buf, off)) << 96n) |
    (BigInt(readIpv4(buf, off + 4)) << 64n) |
    (BigInt(readIpv4(buf, off + 8)) << 32n) |
    BigInt(readIpv4(buf, off + 12))
  );
}

/** Writes an IPv6 address to `buf[off, off + 16)`. */
export function writeIpv6(buf: Uint8Array, off: number, addr: Ipv6Addr): void {
  writeIpv4(buf, off, Number((addr >> 96n) & U32_MASK));
  writeIpv4(buf, off + 4, Number((addr >> 64n) & U32_MASK));
  writeIpv4(buf, off + 8, Number((addr >> 32n) & U32_MASK));
  writeIpv4(buf, off + 12, Number(addr & U32_MASK));
}

/** The eight 16-bit groups of an IPv6 address, most significant first. */
export function ipv6Words(addr: Ipv6Addr): number[] {
  const words = new Array<number>(8);
  for (let i = 0; i < 4; i++) {
    const w = Number((addr >> BigInt(96 - 32 * i)) & U32_MASK);
    words[2 * i] = w >>> 16;
    words[2 * i + 1] = w & 0xffff;
  }
  return words;
}

// ---------------------------------------------------------------------------------------------
// Text

const MAC_RE = /^[0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5}$/;
const IPV4_RE = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEX_GROUP_RE = /^[0-9a-fA-F]{1,4}$/;

/** Parses `02:00:00:00:00:02` (one or two hex digits per byte, either case). */
export function parseMac(text: string): MacAddr {
  if (!MAC_RE.test(text)) {
    throw new SyntaxError(`Cannot parse MAC address "${text}": expected six colon-separated hex bytes`);
  }
  let mac = 0;
  for (const part of text.split(":")) mac = mac * 256 + Number.parseInt(part, 16);
  return mac;
}

/** Formats a MAC address as iproute2 prints it: lowercase, two digits per byte. */
export function formatMac(mac: MacAddr): string {
  const hex = mac.toString(16).padStart(12, "0");
  return `${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}`;
}

/** Parses dotted-quad IPv4 text (`10.0.0.1`); leading zeros are rejected, as inet_pton does. */
export function parseIpv4(text: string): Ipv4Addr {
  const m = IPV4_RE.exec(text);
  if (m === null) {
    throw new SyntaxError(`Cannot parse IPv4 address "${text}": expected four dot-separated decimal octets`);
  }
  let addr = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) throw new SyntaxError(`Cannot parse IPv4 address "${text}": octet ${octet} exceeds 255`);
    addr = addr * 256 + octet;
  }
  return addr;
}

/** Formats an IPv4 address in dotted-quad form. */
export function formatIpv4(addr: Ipv4Addr): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Parses IPv6 text (RFC 4291 § 2.2: hex groups, one `::`, optional dotted IPv4 tail); no zone index. */
export function parseIpv6(text: string): Ipv6Addr {
  const fail = (detail: string): SyntaxError =>
    new SyntaxError(`Cannot parse IPv6 address "${text}": ${detail}`);
  const halves = text.split("::");
  if (halves.length > 2) throw fail('"::" appears more than once');
  const groupsOf = (part: string, last: boolean): number[] => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (last && i === pieces.length - 1 && piece.includes(".")) {
        if (!IPV4_RE.test(piece)) throw fail(`invalid embedded IPv4 address "${piece}"`);
        let v4: number;
        try {
          v4 = parseIpv4(piece);
        } catch {
          throw fail(`invalid embedded IPv4 address "${piece}"`);
        }
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEX_GROUP_RE.test(piece)) {
        out.push(Number.parseInt(piece, 16));
      } else {
        throw fail(piece === "" ? "empty group" : `invalid group "${piece}"`);
      }
    }
    return out;
  };
  let words: number[];
  if (halves.length === 2) {
    const head = groupsOf(halves[0], false);
    const tail = groupsOf(halves[1], true);
    if (head.length + tail.length > 7) throw fail('too many groups around "::"');
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    words = groupsOf(text, true);
    if (words.length !== 8) throw fail(`expected 8 groups, got ${words.length}`);
  }
  let addr = 0n;
  for (const w of words) addr = (addr << 16n) | BigInt(w);
  return addr;
}

/**
 * Formats an IPv6 address as glibc's inet_ntop does (what iproute2 prints): lowercase, the
 * longest run of two or more zero groups compressed (the first on ties, RFC 5952 § 4.2),
 * `::ffff:a.b.c.d` for IPv4-mapped and `::a.b.c.d` for IPv4-compatible addresses.
 */
export function formatIpv6(addr: Ipv6Addr): string {
  const w = ipv6Words(addr);
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  if (bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
    const v4 = formatIpv4(((w[6] << 16) | w[7]) >>> 0);
    return bestLen === 5 ? `::ffff:${v4}` : `::${v4}`;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += w[i].toString(16);
  }
  return out;
}

function parsePrefixLen(text: string, lenText: string, max: number, what: string): number {
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
    throw new SyntaxError(`Cannot parse ${what} prefix "${text}": length "${lenText}" is not in 0-${max}`);
  }
  return Number(lenText);
}

/** Parses `10.0.0.0/24`; a bare address is a /32. Host bits are kept. */
export function parseIpv4Prefix(text: string): Ipv4Prefix {
  const slash = text.indexOf("/");
  if (slash < 0) return { addr: parseIpv4(text), len: 32 };
  return {
    addr: parseIpv4(text.slice(0, slash)),
    len: parsePrefixLen(text, text.slice(slash + 1), 32, "IPv4"),
  };
}

/** Parses `2001:db8::/32`; a bare address is a /128. Host bits are kept. */
export function parseIpv6Prefix(text: string): Ipv6Prefix {
  const slash = text.indexOf("/");
  if (slash < 0) return { addr: parseIpv6(text), len: 128 };
  return {
    addr: parseIpv6(text.slice(0, slash)),
    len: parsePrefixLen(text, text.slice(slash + 1), 128, "IPv6"),
  };
}

/** Formats `addr/len`. */
export function formatIpv4Prefix(prefix: Ipv4Prefix): string {
  return `${formatIpv4(prefix.addr)}/${prefix.len}`;
}

/** Formats `addr/len`. */
export function formatIpv6Prefix(prefix: Ipv6Prefix): string {
  return `${formatIpv6(prefix.addr)}/${prefix.len}`;
}

// ---------------------------------------------------------------------------------------------
// Prefixes and masks

/** The netmask of a prefix length, e.g. 24 -> `255.255.255.0`. */
export function ipv4Mask(len: number): Ipv4Addr {
  if (!Number.isInteger(len) || len < 0 || len > 32) {
    throw new RangeError(`Cannot build IPv4 mask: length ${len} is not in 0-32`);
  }
  return len === 0 ? 0 : (0xffff_ffff << (32 - len)) >>> 0;
}

/** The netmask of a prefix length as a 128-bit value. */
export function ipv6Mask(len: number): Ipv6Addr {
  if (!Number.isInteger(len) || len < 0 || len > 128) {
    throw new RangeError(`Cannot build IPv6 mask: length ${len} is not in 0-128`);
  }
  return len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(128 - len);
}

/** The network address of a prefix (host bits cleared). */
export function ipv4Network(prefix: Ipv4Prefix): Ipv4Addr {
  return (prefix.addr & ipv4Mask(prefix.len)) >>> 0;
}

/** The directed broadcast address of a prefix (host bits set). */
export function ipv4PrefixBroadcast(prefix: Ipv4Prefix): Ipv4Addr {
  return (prefix.addr | ~ipv4Mask(prefix.len)) >>> 0;
}

/** The network address of a prefix (host bits cleared). */
export function ipv6Network(prefix: Ipv6Prefix): Ipv6Addr {
  return prefix.addr & ipv6Mask(prefix.len);
}

/** True when `addr` lies inside `prefix`. */
export function ipv4InPrefix(addr: Ipv4Addr, prefix: Ipv4Prefix): boolean {
  return ((addr ^ prefix.addr) & ipv4Mask(prefix.len)) === 0;
}

/** True when `addr` lies inside `prefix`. */
export function ipv6InPrefix(addr: Ipv6Addr, prefix: Ipv6Prefix): boolean {
  return ((addr ^ prefix.addr) & ipv6Mask(prefix.len)) === 0n;
}

// ---------------------------------------------------------------------------------------------
// Predicates

/** True for group addresses (I/G bit of the first octet set), broadcast included. */
export function isMulticastMac(mac: MacAddr): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}

/** True for `ff:ff:ff:ff:ff:ff`. */
export function isBroadcastMac(mac: MacAddr): boolean {
  return mac === MAC_BROADCAST;
}

/** True for individual (non-group) addresses other than all-zero. */
export function isUnicastMac(mac: MacAddr): boolean {
  return mac !== 0 && !isMulticastMac(mac);
}

/** True for locally administered addresses (U/L bit set). */
export function isLocalMac(mac: MacAddr): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 2) === 2;
}

/** True for 224.0.0.0/4. */
export function isIpv4Multicast(addr: Ipv4Addr): boolean {
  return addr >>> 28 === 0xe;
}

/** True for the limited broadcast 255.255.255.255. */
export function isIpv4Broadcast(addr: Ipv4Addr): boolean {
  return addr === IPV4_BROADCAST;
}

/** True for 127.0.0.0/8. */
export function isIpv4Loopback(addr: Ipv4Addr): boolean {
  return addr >>> 24 === 127;
}

/** True for 0.0.0.0. */
export function isIpv4Unspecified(addr: Ipv4Addr): boolean {
  return addr === 0;
}

/** True for 169.254.0.0/16. */
export function isIpv4LinkLocal(addr: Ipv4Addr): boolean {
  return addr >>> 16 === 0xa9fe;
}

/** True for ff00::/8. */
export function ipv6IsMulticast(addr: Ipv6Addr): boolean {
  return addr >> 120n === 0xffn;
}

/** True for link-local unicast fe80::/10. */
export function ipv6IsLinkLocal(addr: Ipv6Addr): boolean {
  return addr >> 118n === 0x3fan;
}

/** True for `::1`. */
export function ipv6IsLoopback(addr: Ipv6Addr): boolean {
  return addr === IPV6_LOOPBACK;
}

/** True for `::`. */
export function ipv6IsUnspecified(addr: Ipv6Addr): boolean {
  return addr === 0n;
}

/** True for IPv4-mapped addresses `::ffff:0:0/96`. */
export function ipv6IsV4Mapped(addr: Ipv6Addr): boolean {
  return addr >> 32n === 0xffffn;
}

/** True for solicited-node multicast addresses `ff02::1:ff00:0/104`. */
export function ipv6IsSolicitedNode(addr: Ipv6Addr): boolean {
  return addr >> 24n === SOLICITED_NODE_BASE >> 24n;
}

/** The 4-bit scope of a multicast address (RFC 4291 § 2.7), e.g. 2 for link-local. */
export function ipv6MulticastScope(addr: Ipv6Addr): number {
  return Number((addr >> 112n) & 0xfn);
}

// ---------------------------------------------------------------------------------------------
// Derivations

/** The solicited-node multicast group of an address (RFC 4291 § 2.7.1). */
export function ipv6SolicitedNode(addr: Ipv6Addr): Ipv6Addr {
  return SOLICITED_NODE_BASE | (addr & 0xff_ffffn);
}

/** The Ethernet address of an IPv6 multicast group, `33:33` + low 32 bits (RFC 2464 § 7). */
export function ipv6MulticastMac(addr: Ipv6Addr): MacAddr {
  return 0x3333_0000_0000 + Number(addr & U32_MASK);
}

/** The Ethernet address of an IPv4 multicast group, `01:00:5e` + low 23 bits (RFC 1112 § 6.4). */
export function ipv4MulticastMac(addr: Ipv4Addr): MacAddr {
  return 0x0100_5e00_0000 + (addr & 0x7f_ffff);
}

/**
 * The 64-bit interface identifier derived from a MAC address.
 * Mirrors net/ipv6/addrconf.c:addrconf_ifid_eui48: with `devId` 0, the modified EUI-64 of
 * RFC 4291 appendix A (ff:fe inserted, U/L bit inverted); with a non-zero `devId` (ipvlan
 * slaves), the big-endian dev_id replaces ff:fe and the U/L bit is left alone.
 */
export function eui64Iid(mac: MacAddr, devId = 0): bigint {
  if (!Number.isInteger(devId) || devId < 0 || devId > 0xffff) {
    throw new RangeError(`Cannot derive interface identifier: dev_id ${devId} is not in 0-65535`);
  }
  const b = new Uint8Array(8);
  const m = new Uint8Array(6);
  writeMac(m, 0, mac);
  b.set(m.subarray(0, 3), 0);
  b.set(m.subarray(3, 6), 5);
  if (devId !== 0) {
    b[3] = devId >>> 8;
    b[4] = devId;
  } else {
    b[0] ^= 0x02;
    b[3] = 0xff;
    b[4] = 0xfe;
  }
  return (BigInt(readIpv4(b, 0)) << 32n) | BigInt(readIpv4(b, 4));
}

/** The link-local address `fe80::/64` + `eui64Iid(mac, devId)` that addrgenmode eui64 assigns. */
export function eui64LinkLocal(mac: MacAddr, devId = 0): Ipv6Addr {
  return LINK_LOCAL_BASE | eui64Iid(mac, devId);
}
