/**
 * Test support: crafted IPv4/IPv6 frames and a way to push them through the netfilter hooks
 * of a namespace as the IP stacks would (inbound: PRE_ROUTING then LOCAL_IN; outbound:
 * LOCAL_OUT then POST_ROUTING; forwarded: PRE_ROUTING, FORWARD, POST_ROUTING).
 */
import { emitFrame, type FrameRepr, parseIpv4, parseIpv6 } from "../../wire/index.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { allocSkb, type SkBuff } from "../skb.ts";
import { NF_INET, NFPROTO, type NfVerdict, nfHook } from "./hooks.ts";

/** What a crafted packet carries above IP. */
export type L4Spec =
  | {
      readonly icmp: "echo-request" | "echo-reply";
      readonly id: number;
      readonly seq?: number;
      readonly size?: number;
    }
  | { readonly icmpError: 3 | 11; readonly code: number; readonly inner: Uint8Array }
  | { readonly icmp6: "echo-request" | "echo-reply"; readonly id: number; readonly seq?: number }
  | { readonly icmp6Raw: number }
  | { readonly udp: [number, number]; readonly size?: number }
  | { readonly tcp: [number, number]; readonly flags: number }
  | { readonly proto: number };

const ETH = { dst: 0x020000000002, src: 0x020000000001 };

/** An Ethernet frame carrying an IPv4 packet from `src` to `dst`. */
export function frame4(src: string, dst: string, l4: L4Spec, ttl = 64): Uint8Array {
  const ip = {
    src: parseIpv4(src),
    dst: parseIpv4(dst),
    protocol: 0,
    ttl,
    dscp: 0,
    ecn: 0,
    ident: 1,
    dontFrag: true,
    moreFrags: false,
    fragOffset: 0,
    options: new Uint8Array(0),
    payloadLen: 0,
  };
  const eth = { ...ETH, etherType: 0x0800 };
  let repr: FrameRepr;
  if ("icmp" in l4) {
    const data = new Uint8Array(l4.size ?? 56);
    repr = {
      eth,
      ipv4: { ...ip, protocol: 1 },
      icmpv4: { kind: l4.icmp, ident: l4.id, seq: l4.seq ?? 1, data },
    };
  } else if ("icmpError" in l4) {
    const kind = l4.icmpError === 3 ? "dest-unreachable" : "time-exceeded";
    repr = {
      eth,
      ipv4: { ...ip, protocol: 1, dontFrag: false },
      icmpv4:
        kind === "dest-unreachable"
          ? { kind, code: l4.code, nextHopMtu: 0, data: l4.inner }
          : { kind, code: l4.code, data: l4.inner },
    };
  } else if ("udp" in l4) {
    repr = {
      eth,
      ipv4: { ...ip, protocol: 17 },
      udp: { srcPort: l4.udp[0], dstPort: l4.udp[1], payload: new Uint8Array(l4.size ?? 4) },
    };
  } else if ("tcp" in l4) {
    repr = {
      eth,
      ipv4: { ...ip, protocol: 6 },
      tcp: {
        srcPort: l4.tcp[0],
        dstPort: l4.tcp[1],
        seq: 1,
        ack: l4.flags & 0x10 ? 1 : 0,
        flags: l4.flags,
        window: 64240,
        urgent: 0,
        options: [],
        payload: new Uint8Array(0),
      },
    };
  } else if ("proto" in l4) {
    repr = { eth, ipv4: { ...ip, protocol: l4.proto }, payload: new Uint8Array(8) };
  } else {
    throw new Error("Cannot build an IPv4 frame with an ICMPv6 payload");
  }
  return emitFrame(repr);
}

/** An Ethernet frame carrying an IPv6 packet. */
export function frame6(src: string, dst: string, l4: L4Spec, hopLimit = 64): Uint8Array {
  const ip = {
    src: parseIpv6(src),
    dst: parseIpv6(dst),
    nextHeader: 58,
    hopLimit,
    dscp: 0,
    ecn: 0,
    flowLabel: 0,
    extHeaders: [],
    payloadLen: 0,
  };
  const eth = { ...ETH, etherType: 0x86dd };
  if ("icmp6" in l4) {
    return emitFrame({
      eth,
      ipv6: ip,
      icmpv6: { kind: l4.icmp6, ident: l4.id, seq: l4.seq ?? 1, data: new Uint8Array(56) },
    });
  }
  if ("icmp6Raw" in l4) {
    return emitFrame({ eth, ipv6: { ...ip, nextHeader: 58 }, payload: raw6(l4.icmp6Raw) });
  }
  if ("udp" in l4) {
    return emitFrame({
      eth,
      ipv6: { ...ip, nextHeader: 17 },
      udp: { srcPort: l4.udp[0], dstPort: l4.udp[1], payload: new Uint8Array(l4.size ?? 4) },
    });
  }
  throw new Error("Cannot build this IPv6 frame");
}

/** An ICMPv6 message of a type with 20 bytes of zeroes (checksum not computed). */
function raw6(type: number): Uint8Array {
  const b = new Uint8Array(24);
  b[0] = type;
  return b;
}

/** The IP packet inside a frame (what an ICMP error quotes). */
export function ipOf(frame: Uint8Array): Uint8Array {
  return frame.subarray(14);
}

/** An skb for a frame on a device, network header after the Ethernet header. */
export function skbOf(frame: Uint8Array, dev: NetDevice): SkBuff {
  const skb = allocSkb(frame.slice(), dev, 14);
  skb.protocol = frame[12] === 0x86 ? 0x86dd : 0x0800;
  return skb;
}

function pfOf(skb: SkBuff): number {
  return skb.protocol === 0x86dd ? NFPROTO.IPV6 : NFPROTO.IPV4;
}

/** A packet received for this host: PRE_ROUTING, then LOCAL_IN. Returns the final verdict. */
export function deliverIn(net: NetNamespace, skb: SkBuff, dev: NetDevice): NfVerdict {
  const pf = pfOf(skb);
  const v = nfHook(pf, NF_INET.PRE_ROUTING, net, skb, dev, null);
  if (v !== 1) return v;
  return nfHook(pf, NF_INET.LOCAL_IN, net, skb, dev, null);
}

/** A locally generated packet: LOCAL_OUT, then POST_ROUTING. */
export function sendOut(net: NetNamespace, skb: SkBuff, dev: NetDevice): NfVerdict {
  const pf = pfOf(skb);
  const v = nfHook(pf, NF_INET.LOCAL_OUT, net, skb, null, dev);
  if (v !== 1) return v;
  return nfHook(pf, NF_INET.POST_ROUTING, net, skb, null, dev);
}

/** A forwarded packet: PRE_ROUTING, FORWARD, POST_ROUTING. */
export function forward(net: NetNamespace, skb: SkBuff, inDev: NetDevice, outDev: NetDevice): NfVerdict {
  const pf = pfOf(skb);
  let v = nfHook(pf, NF_INET.PRE_ROUTING, net, skb, inDev, null);
  if (v !== 1) return v;
  v = nfHook(pf, NF_INET.FORWARD, net, skb, inDev, outDev);
  if (v !== 1) return v;
  return nfHook(pf, NF_INET.POST_ROUTING, net, skb, null, outDev);
}
