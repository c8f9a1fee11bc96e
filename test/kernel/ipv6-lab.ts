/**
 * Helpers for the IPv6 scenario tests: a kernel with the IPv6 stack, namespaces joined by veth
 * pairs, addresses from text, packet capture on a device, ping -6 and virtual time.
 */
import {
  bootKernel,
  devOpen,
  type Kernel,
  type NetDevice,
  type NetNamespace,
  NSEC_PER_MSEC,
  netnsAdd,
} from "../../src/kernel/index.ts";
import {
  inet6AddrAdd,
  ipv6DevAddrs,
  ipv6Init,
  type Ping6Reply,
  ping6Socket,
  type SockExtendedErr6,
  type Inet6Ifaddr,
} from "../../src/kernel/ipv6/index.ts";
import { type FrameRepr, formatIpv6, parseFrame, parseIpv6Prefix } from "../../src/wire/index.ts";

/** Address flag names in iproute2's order of printing. */
const FLAG_NAMES: [number, string][] = [
  [0x01, "temporary"],
  [0x02, "nodad"],
  [0x04, "optimistic"],
  [0x08, "dadfailed"],
  [0x10, "home"],
  [0x20, "deprecated"],
  [0x40, "tentative"],
  [0x100, "mngtmpaddr"],
  [0x200, "noprefixroute"],
];

/** "ADDR/LEN [flags]" as `ip -6 addr` shows an address (dynamic for non-permanent ones). */
export function showAddr(ifa: Inet6Ifaddr): string {
  const parts = [`${formatIpv6(ifa.addr)}/${ifa.prefixLen}`];
  for (const [bit, name] of FLAG_NAMES) {
    if (name === "tentative" && !(ifa.flags & 0x80))
      parts.push(...(ifa.flags & bit ? [name] : []), "dynamic");
    else if (ifa.flags & bit) parts.push(name);
  }
  return parts.join(" ");
}

/** A captured frame. */
export interface Captured {
  readonly time: bigint;
  readonly dir: "in" | "out";
  readonly frame: FrameRepr;
}

/** What one ping saw. */
export interface Ping6Result {
  readonly sent: 0 | string;
  readonly replies: Ping6Reply[];
  readonly errors: SockExtendedErr6[];
}

/** A kernel with IPv6 plus shortcuts. */
export interface Lab6 {
  readonly k: Kernel;
  ns(name: string): NetNamespace;
  /** A veth pair a (in na) ↔ b (in nb), both down. */
  veth(
    na: NetNamespace,
    a: string,
    macA: number,
    nb: NetNamespace,
    b: string,
    macB: number,
  ): [NetDevice, NetDevice];
  up(...devs: NetDevice[]): void;
  /** `ip -6 addr add CIDR dev DEV [nodad]`. */
  addr(dev: NetDevice, cidr: string, flags?: number): void;
  /** Addresses of a device as text. */
  addrs(dev: NetDevice): string[];
  /** Advances virtual time. */
  run(ms: number): void;
  /** Captures the frames seen on dev (both directions) from now on. */
  capture(dev: NetDevice): Captured[];
  /** One echo request (`ping -6 -c1 -W wait`), scope from `dev` for scoped destinations. */
  ping(
    net: NetNamespace,
    dst: bigint,
    opts?: { dev?: NetDevice; waitMs?: number; size?: number; scope?: NetDevice; dontFrag?: boolean },
  ): Ping6Result;
}

/** Builds a lab (lo of init_net up). */
export function ipv6Lab(seed = 1): Lab6 {
  const k = bootKernel({ seed });
  ipv6Init(k);
  devOpen(k.initNet.loopback);
  const lab: Lab6 = {
    k,
    ns(name) {
      const n = netnsAdd(k, name);
      devOpen(n.loopback);
      return n;
    },
    veth(na, a, macA, nb, b, macB) {
      const d = k.linkKinds
        .get("veth")!
        .newLink(na, { name: a, address: macA, peer: { name: b, netns: nb, address: macB } });
      return [d, nb.dev(b)!];
    },
    up(...devs) {
      for (const d of devs) devOpen(d);
    },
    addr(dev, cidr, flags = 0) {
      const p = parseIpv6Prefix(cidr);
      inet6AddrAdd(dev, { addr: p.addr, prefixLen: p.len, flags, create: true, excl: true });
    },
    addrs(dev) {
      return ipv6DevAddrs(dev).map(showAddr);
    },
    run(ms) {
      k.loop.runUntil(k.now + BigInt(ms) * NSEC_PER_MSEC);
    },
    capture(dev) {
      const out: Captured[] = [];
      dev.netns.taps.add({
        dev,
        deliver: (skb, dir) => {
          try {
            out.push({ time: k.now, dir, frame: parseFrame(skb.data.slice()) });
          } catch {
            // not a frame we can decode
          }
        },
      });
      return out;
    },
    ping(net, dst, opts = {}) {
      const s = ping6Socket(net);
      if (opts.dev) s.bindDev = opts.dev;
      if (opts.dontFrag) s.pmtudisc = "do";
      const sent = s.send(dst, 1, new Uint8Array(opts.size ?? 56), { scopeId: opts.scope?.ifindex ?? 0 });
      lab.run(opts.waitMs ?? 1000);
      s.close();
      return { sent, replies: [...s.replies], errors: [...s.errors] };
    },
  };
  return lab;
}

/** MACs used by the oracle scenarios. */
export const MAC1 = 0x02_00_00_00_00_01;
export const MAC2 = 0x02_00_00_00_00_02;
