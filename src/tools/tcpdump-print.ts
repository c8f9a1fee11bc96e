/**
 * tcpdump 4.99's text for one Ethernet frame: the link header with -e, 802.1Q tags, ARP/RARP,
 * IPv4 (fragments, tunnels), IPv6 (extension headers, fragments), UDP, TCP (flags, relative
 * sequence numbers as tcpdump tracks them per connection, options), ICMP/ICMPv6/IGMP through
 * tcpdump-icmp.ts, and hex dumps for what it does not decode. Application protocols (DNS,
 * DHCP, NTP, VXLAN, LLDP, STP ...) are not decoded: their packets print as plain UDP/TCP or a
 * hex dump. With -v only the IPv4/IPv6 header line and ARP's hardware/protocol sizes are added
 * (no checksums or option details).
 */
import { checksumValid, internetChecksum } from "../wire/index.ts";
import { icmp6Text, icmpText, igmpText } from "./tcpdump-icmp.ts";
import { Bytes, guarded, hexAndAscii, PROTO_NAMES, SERVICE_NAMES, Truncated } from "./tcpdump-util.ts";

/** Printing options (tcpdump flags). */
export interface PrintOptions {
  /** -e: print the link-level header. */
  readonly link: boolean;
  /** Names for ports, protocols and MAC vendors (no -n). */
  readonly names: boolean;
  /** -v count (only the IPv4/IPv6 header line is printed verbosely). */
  readonly verbose: number;
  /** -S: absolute TCP sequence numbers. */
  readonly absoluteSeq: boolean;
}

const ETHERTYPES: Readonly<Record<number, string>> = {
  2048: "IPv4",
  2054: "ARP",
  32821: "Reverse ARP",
  34525: "IPv6",
  33024: "802.1Q",
  34984: "802.1Q-QinQ",
  37120: "802.1Q-9100",
  35020: "LLDP",
  36864: "Loopback",
  34887: "MPLS unicast",
  34888: "MPLS multicast",
  34958: "EAPOL",
  34915: "PPPoE D",
  34916: "PPPoE S",
  35063: "PTP",
};

const IP_PROTO_VERBOSE: Readonly<Record<number, string>> = {
  0: "Options",
  1: "ICMP",
  2: "IGMP",
  4: "IPIP",
  6: "TCP",
  17: "UDP",
  41: "IPv6",
  43: "Routing",
  44: "Fragment",
  47: "GRE",
  50: "ESP",
  51: "AH",
  58: "ICMPv6",
  59: "NONE",
  60: "DSTOPTS",
  132: "SCTP",
};

const OUI: Readonly<Record<number, string>> = { 0: "Ethernet", 12: "Cisco", 248: "Cisco" };

const TCP_FLAGS: readonly [number, string][] = [
  [0x01, "F"],
  [0x02, "S"],
  [0x04, "R"],
  [0x08, "P"],
  [0x10, "."],
  [0x20, "U"],
  [0x40, "E"],
  [0x80, "W"],
];

const HTTP_METHODS = [
  "GET",
  "POST",
  "HEAD",
  "PUT",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "CONNECT",
  "PATCH",
  "HTTP/",
];

/** ", bad cksum 0 (->5361)!" when the checksum over [start, end) does not verify (-v), else "". */
function badSum(data: Uint8Array, start: number, end: number, field: number, what: string): string {
  if (end > data.length || checksumValid(data, start, end)) return "";
  const copy = data.slice(start, end);
  const at = field - start;
  const have = (copy[at]! << 8) | copy[at + 1]!;
  copy[at] = 0;
  copy[at + 1] = 0;
  return `, ${what} ${have.toString(16)} (->${internetChecksum(copy).toString(16)})!`;
}

function etName(type: number): string {
  return `${ETHERTYPES[type] ?? "Unknown"} (0x${type.toString(16).padStart(4, "0")})`;
}

/** State tcpdump keeps per TCP connection to print relative sequence numbers. */
interface TcpSeqState {
  seq: number;
  ack: number;
}

/** Prints frames as tcpdump does; keeps the TCP sequence state across frames of one run. */
export class PacketPrinter {
  readonly #o: PrintOptions;
  readonly #tcp = new Map<string, TcpSeqState>();

  constructor(options: PrintOptions) {
    this.#o = options;
  }

  /** The text of one frame (without time stamp and newline). */
  format(data: Uint8Array, origLen: number): string {
    const b = new Bytes(data);
    const parts: string[] = [];
    if (data.length < 14) return "[|ether]";
    const o = this.#o;
    const src = this.#mac(b, 6);
    const dst = this.#mac(b, 0);
    const type = b.u16(12);
    if (o.link) parts.push(`${src} > ${dst}, `);
    if (type <= 1500) {
      if (o.link) parts.push(`802.3, length ${type}: `);
      parts.push(`LLC${hexAndAscii(data, 14)}`);
      return parts.join("");
    }
    if (o.link) parts.push(`ethertype ${etName(type)}, length ${origLen}: `);
    this.#ethertype(
      b,
      14,
      type,
      parts,
      () => `${src} > ${dst}, ethertype ${etName(type)}, length ${origLen}: `,
      origLen,
    );
    return parts.join("");
  }

  /** The text of one raw IP packet (LINKTYPE_RAW: tun devices). */
  formatRaw(data: Uint8Array): string {
    const b = new Bytes(data);
    const parts: string[] = [];
    const version = data.length > 0 ? data[0]! >> 4 : 0;
    if (version === 4) this.#ipv4(b, 0, parts, true);
    else if (version === 6) this.#ipv6(b, 0, parts, true);
    else parts.push(`IP${version === 0 ? "" : version} [|ip]`);
    return parts.join("");
  }

  #mac(b: Bytes, off: number): string {
    const text = b.mac(off);
    if (!this.#o.names) return text;
    if (text === "ff:ff:ff:ff:ff:ff") return "Broadcast";
    const oui = (b.u8(off) << 16) | (b.u8(off + 1) << 8) | b.u8(off + 2);
    return `${text} (oui ${OUI[oui] ?? "Unknown"})`;
  }

  #ethertype(
    b: Bytes,
    off: number,
    type: number,
    parts: string[],
    header: () => string,
    origLen: number,
  ): void {
    const o = this.#o;
    switch (type) {
      case 0x8100:
      case 0x88a8:
      case 0x9100: {
        guarded("vlan", parts, () => {
          const tci = b.u16(off);
          const inner = b.u16(off + 2);
          if (o.link) {
            parts.push(
              `vlan ${tci & 0x0fff}, p ${tci >> 13}${tci & 0x1000 ? ", DEI" : ""}, ethertype ${etName(inner)}, `,
            );
          }
          const src = b.mac(6);
          const dst = b.mac(0);
          const innerHeader = () =>
            `${this.#macText(src, b, 6)} > ${this.#macText(dst, b, 0)}, ethertype ${etName(inner)}, length ${origLen}: `;
          this.#ethertype(b, off + 4, inner, parts, innerHeader, origLen);
        });
        return;
      }
      case 0x0800:
        this.#ipv4(b, off, parts);
        return;
      case 0x86dd:
        this.#ipv6(b, off, parts);
        return;
      case 0x0806:
      case 0x8035:
        this.#arp(b, off, parts);
        return;
      default:
        if (!o.link) parts.push(header());
        parts.push(hexAndAscii(b.data, off));
    }
  }

  #macText(text: string, b: Bytes, off: number): string {
    return this.#o.names ? this.#mac(b, off) : text;
  }

  #arp(b: Bytes, off: number, parts: string[]): void {
    if (!this.#o.link) parts.push("ARP, ");
    const len = b.length - off;
    guarded("arp", parts, () => {
      const op = b.u16(off + 6);
      if (b.u16(off) !== 1 || b.u16(off + 2) !== 0x0800 || b.u8(off + 4) !== 6 || b.u8(off + 5) !== 4) {
        parts.push(`Unknown Hardware (${b.u16(off)}), length ${len}`);
        return;
      }
      if (this.#o.verbose > 0) parts.push("Ethernet (len 6), IPv4 (len 4), ");
      const sha = () => this.#mac(b, off + 8);
      const spa = () => b.ip4(off + 14);
      const tha = () => this.#mac(b, off + 18);
      const tpa = () => b.ip4(off + 24);
      switch (op) {
        case 1:
          parts.push(`Request who-has ${tpa()}${b.isZero(off + 18, 6) ? "" : ` (${tha()})`} tell ${spa()}`);
          break;
        case 2:
          parts.push(`Reply ${spa()} is-at ${sha()}`);
          break;
        case 3:
          parts.push(`Reverse Request who-is ${tha()} tell ${sha()}`);
          break;
        case 4:
          parts.push(`Reverse Reply ${tha()} at ${tpa()}`);
          break;
        case 8:
          parts.push(`Inverse Request who-is ${tha()} tell ${sha()}`);
          break;
        case 9:
          parts.push(`Inverse Reply ${sha()} at ${spa()}`);
          break;
        default:
          parts.push(`Unknown (${op}) ${hexAndAscii(b.data, off)}`);
          return;
      }
      b.need(off + 8, 20);
      parts.push(`, length ${len}`);
    });
  }

  #protoName(p: number): string {
    return (this.#o.names && PROTO_NAMES[p]) || `ip-proto-${p}`;
  }

  #port(proto: "tcp" | "udp", port: number): string {
    return (this.#o.names && SERVICE_NAMES[proto]?.[port]) || String(port);
  }

  #ipv4(b: Bytes, off: number, parts: string[], tag = !this.#o.link): void {
    const o = this.#o;
    if (b.length <= off) {
      parts.push(" [|ip]");
      return;
    }
    if (tag) parts.push("IP ");
    try {
      const ihl = (b.u8(off) & 0x0f) * 4;
      const tos = b.u8(off + 1);
      const total = b.u16(off + 2);
      const id = b.u16(off + 4);
      const fragField = b.u16(off + 6);
      const ttl = b.u8(off + 8);
      const proto = b.u8(off + 9);
      const src = b.ip4(off + 12);
      const dst = b.ip4(off + 16);
      b.need(off, ihl);
      const fragOff = (fragField & 0x1fff) * 8;
      if (o.verbose > 0) {
        const flags = `${fragField & 0x4000 ? "DF" : ""}${fragField & 0x2000 ? "+" : ""}` || "none";
        const pname = IP_PROTO_VERBOSE[proto] ?? "unknown";
        parts.push(
          `(tos 0x${tos.toString(16)}, ttl ${ttl}, id ${id}, offset ${fragOff}, flags [${flags}], proto ${pname} (${proto}), length ${total}${badSum(b.data, off, off + ihl, off + 10, "bad cksum")})\n    `,
        );
      }
      const avail = b.length - off;
      if (total > avail) parts.push(`truncated-ip - ${total - avail} bytes missing! `);
      const len = total - ihl;
      const t = off + ihl;
      const end = Math.min(b.length, off + total);
      const addrs = `${src} > ${dst}: `;
      if (fragOff !== 0) {
        parts.push(`${addrs}${this.#protoName(proto)}`);
        return;
      }
      this.#transport(b, proto, t, end, len, src, dst, addrs, parts, "ip", (fragField & 0x2000) === 0);
    } catch (e) {
      if (!(e instanceof Truncated)) throw e;
      parts.push(" [|ip]");
    }
  }

  /** Upper layers shared by IPv4 and IPv6. */
  #transport(
    b: Bytes,
    proto: number,
    t: number,
    end: number,
    len: number,
    src: string,
    dst: string,
    addrs: string,
    parts: string[],
    family: "ip" | "ip6",
    whole = true,
  ): void {
    const o = this.#o;
    const sub = new Bytes(b.data.subarray(0, end));
    switch (proto) {
      case 1:
        parts.push(addrs);
        guarded("icmp", parts, () => {
          const text = icmpText({ b: sub, off: t, len, names: o.names });
          const bad =
            o.verbose > 0 && whole && t + len <= sub.length
              ? badSum(sub.data, t, t + len, t + 2, "wrong icmp cksum")
              : "";
          parts.push(`ICMP ${text}${bad ? ` (${bad.slice(2)})` : ""}`);
        });
        return;
      case 58:
        parts.push(addrs);
        guarded("icmp6", parts, () =>
          parts.push(`ICMP6, ${icmp6Text({ b: sub, off: t, len, names: o.names })}`),
        );
        return;
      case 2:
        parts.push(addrs);
        guarded("igmp", parts, () => parts.push(igmpText(sub, t, len)));
        return;
      case 17:
        guarded("udp", parts, () => {
          const sp = sub.u16(t);
          const dp = sub.u16(t + 2);
          const ulen = sub.u16(t + 4);
          parts.push(
            `${src}.${this.#port("udp", sp)} > ${dst}.${this.#port("udp", dp)}: UDP, length ${ulen - 8}`,
          );
        });
        return;
      case 6:
        guarded("tcp", parts, () => this.#tcpPrint(sub, t, len, src, dst, parts, family));
        return;
      case 4:
        parts.push(addrs);
        this.#ipv4(sub, t, parts);
        return;
      case 41:
        parts.push(addrs);
        this.#ipv6(sub, t, parts);
        return;
      case 59:
        parts.push(`${addrs}no next header`);
        return;
      case 47:
        parts.push(addrs);
        guarded("gre", parts, () => this.#gre(sub, t, end, parts));
        return;
      default:
        parts.push(`${addrs} ${this.#protoName(proto)} ${len}`);
    }
  }

  #ipv6(b: Bytes, off: number, parts: string[], tag = !this.#o.link): void {
    const o = this.#o;
    if (tag) parts.push("IP6 ");
    try {
      const vtf = b.u32(off);
      const plen = b.u16(off + 4);
      let nh = b.u8(off + 6);
      const hlim = b.u8(off + 7);
      const src = b.ip6(off + 8);
      const dst = b.ip6(off + 24);
      if (o.verbose > 0) {
        const tclass = (vtf >>> 20) & 0xff;
        const flow = vtf & 0xfffff;
        const pname = IP_PROTO_VERBOSE[nh] ?? "unknown";
        parts.push(
          `(${tclass ? `class 0x${tclass.toString(16)}, ` : ""}${flow ? `flowlabel 0x${flow.toString(16).padStart(5, "0")}, ` : ""}hlim ${hlim}, next-header ${pname} (${nh}) payload length: ${plen}) `,
        );
      }
      const end = Math.min(b.length, off + 40 + plen);
      let p = off + 40;
      const addrs = `${src} > ${dst}: `;
      let addrsDone = false;
      const once = () => {
        if (addrsDone) return "";
        addrsDone = true;
        return addrs;
      };
      for (let i = 0; i < 16; i++) {
        if (nh === 0 || nh === 60) {
          parts.push(`${once()}${nh === 0 ? "HBH" : "DSTOPT"} `);
          const next = b.u8(p);
          p += (b.u8(p + 1) + 1) * 8;
          nh = next;
          continue;
        }
        if (nh === 44) {
          const next = b.u8(p);
          const fo = b.u16(p + 2) & 0xfff8;
          const flen = off + 40 + plen - (p + 8);
          parts.push(`${once()}frag (${fo}|${flen})`);
          p += 8;
          if (fo !== 0) return;
          parts.push(" ");
          nh = next;
          continue;
        }
        break;
      }
      const len = off + 40 + plen - p;
      const pre = once();
      this.#transport(b, nh, p, end, len, src, dst, pre, parts, "ip6");
    } catch (e) {
      if (!(e instanceof Truncated)) throw e;
      parts.push(" [|ip6]");
    }
  }

  /** GRE version 0 (RFC 2784/2890): flags, optional key and sequence, then the payload. */
  #gre(b: Bytes, t: number, end: number, parts: string[]): void {
    const flags = b.u16(t);
    const proto = b.u16(t + 2);
    let p = t + 4;
    let text = `GREv${flags & 7}`;
    if (flags & 0x8000) p += 4;
    if (flags & 0x2000) {
      text += `, key=0x${b.u32(p).toString(16)}`;
      p += 4;
    }
    if (flags & 0x1000) {
      text += `, seq ${b.u32(p)}`;
      p += 4;
    }
    if (this.#o.link) text += `, proto ${etName(proto)}`;
    parts.push(`${text}, length ${end - t}: `);
    this.#ethertype(b, p, proto, parts, () => "", 0);
  }

  #tcpPrint(
    b: Bytes,
    t: number,
    len: number,
    src: string,
    dst: string,
    parts: string[],
    family: "ip" | "ip6",
  ): void {
    const o = this.#o;
    const sp = b.u16(t);
    const dp = b.u16(t + 2);
    let seq = b.u32(t + 4);
    let ack = b.u32(t + 8);
    const hlen = (b.u8(t + 12) >> 4) * 4;
    const flags = b.u8(t + 13);
    const win = b.u16(t + 14);
    const urg = b.u16(t + 18);
    parts.push(`${src}.${this.#port("tcp", sp)} > ${dst}.${this.#port("tcp", dp)}: `);
    if (hlen < 20) {
      parts.push(`[bad hdr length ${hlen} - too short, < 20]`);
      return;
    }
    const dataLen = len - hlen;
    let ackBase = 0;
    if (!o.absoluteSeq && flags & 0x10) {
      const a = `${family}|${src}|${sp}`;
      const z = `${family}|${dst}|${dp}`;
      const rev = a < z;
      const key = rev ? `${z}>${a}` : `${a}>${z}`;
      const st = this.#tcp.get(key);
      if (!st || flags & 0x02) {
        this.#tcp.set(key, rev ? { ack: seq, seq: ack - 1 } : { seq, ack: ack - 1 });
        ackBase = (ack - 1) >>> 0;
      } else if (rev) {
        seq = (seq - st.ack) >>> 0;
        ack = (ack - st.seq) >>> 0;
        ackBase = st.seq;
      } else {
        seq = (seq - st.seq) >>> 0;
        ack = (ack - st.ack) >>> 0;
        ackBase = st.ack;
      }
    }
    let f = "";
    for (const [bit, c] of TCP_FLAGS) if (flags & bit) f += c;
    parts.push(`Flags [${f || "none"}]`);
    if (dataLen > 0 || flags & 0x07) {
      parts.push(`, seq ${seq}`);
      if (dataLen > 0) parts.push(`:${(seq + dataLen) >>> 0}`);
    }
    if (flags & 0x10) parts.push(`, ack ${ack}`);
    parts.push(`, win ${win}`);
    if (flags & 0x20) parts.push(`, urg ${urg}`);
    if (hlen > 20) parts.push(`, options [${this.#tcpOptions(b, t + 20, t + hlen, ackBase)}]`);
    parts.push(`, length ${dataLen}`);
    if (dataLen > 0 && (sp === 80 || dp === 80 || sp === 8080 || dp === 8080)) {
      const start = t + hlen;
      const text = new TextDecoder("latin1").decode(b.data.subarray(start, Math.min(b.length, start + 256)));
      const line = text.split("\r\n")[0]!.split("\n")[0]!;
      parts.push(HTTP_METHODS.some((m) => line.startsWith(m)) ? `: HTTP: ${line}` : ": HTTP");
    }
  }

  #tcpOptions(b: Bytes, start: number, end: number, ackBase: number): string {
    const out: string[] = [];
    let p = start;
    while (p < end) {
      const kind = b.u8(p);
      if (kind === 0) {
        out.push("eol");
        break;
      }
      if (kind === 1) {
        out.push("nop");
        p++;
        continue;
      }
      const len = b.u8(p + 1);
      if (len < 2) {
        out.push(`opt-${kind}:bad length ${len}`);
        break;
      }
      switch (kind) {
        case 2:
          out.push(`mss ${b.u16(p + 2)}`);
          break;
        case 3:
          out.push(`wscale ${b.u8(p + 2)}`);
          break;
        case 4:
          out.push("sackOK");
          break;
        case 5: {
          const n = Math.floor((len - 2) / 8);
          let s = `sack ${n} `;
          for (let i = 0; i < n; i++) {
            const l = (b.u32(p + 2 + 8 * i) - ackBase) >>> 0;
            const r = (b.u32(p + 6 + 8 * i) - ackBase) >>> 0;
            s += `{${l}:${r}}`;
          }
          out.push(s);
          break;
        }
        case 8:
          out.push(`TS val ${b.u32(p + 2)} ecr ${b.u32(p + 6)}`);
          break;
        default: {
          let hex = "";
          for (let i = 2; i < len; i++)
            hex += b
              .u8(p + i)
              .toString(16)
              .padStart(2, "0");
          out.push(`unknown-${kind}${hex ? ` 0x${hex}` : ""}`);
        }
      }
      p += len;
    }
    return out.join(",");
  }
}
