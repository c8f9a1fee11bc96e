/**
 * Helpers for the IPv4 scenario tests: a kernel with the IPv4 stack, namespaces joined by veth
 * pairs, addresses and routes from text, ping and virtual time.
 */
import {
  bootKernel,
  devOpen,
  type Kernel,
  type NetDevice,
  type NetNamespace,
  NSEC_PER_MSEC,
  netnsAdd,
  inetAddrAdd,
  fibRouteAdd,
  ipv4Init,
  pingSocket,
  pingPayload,
  type PingReply,
  type SockExtendedErr,
} from "../../src/kernel/index.ts";
import { formatIpv4, parseIpv4, parseIpv4Prefix } from "../../src/wire/index.ts";

/** A kernel with IPv4, plus shortcuts. */
export interface Lab {
  readonly k: Kernel;
  ns(name: string): NetNamespace;
  /** A veth pair a (in na) ↔ b (in nb), both up. MACs 02:00:00:00:00:xx when given. */
  veth(
    na: NetNamespace,
    a: string,
    nb: NetNamespace,
    b: string,
    macA?: number,
    macB?: number,
  ): [NetDevice, NetDevice];
  /** `ip addr add CIDR dev DEV` (with `brd +` when asked). */
  addr(dev: NetDevice, cidr: string, brd?: boolean): void;
  /** `ip route add DST [via GW] [dev DEV]`. */
  route(net: NetNamespace, dst: string, via?: string, dev?: NetDevice): void;
  /** Advances virtual time by ms (running every due event). */
  run(ms: number): void;
  /** One echo request; collects replies and errors for `waitMs`. */
  ping(net: NetNamespace, dst: string, opts?: PingOpts): PingResult;
}

/** Options of {@link Lab.ping}. */
export interface PingOpts {
  readonly size?: number;
  readonly waitMs?: number;
  readonly dev?: NetDevice;
  readonly broadcast?: boolean;
  readonly ttl?: number;
  readonly seq?: number;
  readonly pmtudisc?: "do" | "dont" | "want" | "probe";
}

/** What one ping saw. */
export interface PingResult {
  readonly sent: 0 | string;
  readonly replies: PingReply[];
  readonly errors: SockExtendedErr[];
  readonly sentAt: bigint;
}

/** Builds a lab. */
export function ipv4Lab(seed = 1): Lab {
  const k = bootKernel({ seed });
  ipv4Init(k);
  devOpen(k.initNet.loopback);
  const lab: Lab = {
    k,
    ns(name) {
      const n = netnsAdd(k, name);
      devOpen(n.loopback);
      return n;
    },
    veth(na, a, nb, b, macA, macB) {
      const ops = k.linkKinds.get("veth")!;
      const d = ops.newLink(na, {
        name: a,
        ...(macA !== undefined ? { address: macA } : {}),
        peer: { name: b, netns: nb, ...(macB !== undefined ? { address: macB } : {}) },
      });
      const p = nb.dev(b)!;
      devOpen(d);
      devOpen(p);
      k.loop.settle();
      return [d, p];
    },
    addr(dev, cidr, brd) {
      const p = parseIpv4Prefix(cidr);
      const mask = p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0;
      inetAddrAdd(dev, {
        local: p.addr,
        prefixLen: p.len,
        ...(brd ? { broadcast: (p.addr | ~mask) >>> 0 } : {}),
      });
    },
    route(net, dst, via, dev) {
      const p = dst === "default" ? { addr: 0, len: 0 } : parseIpv4Prefix(dst);
      fibRouteAdd(net, {
        dst: p.addr,
        dstLen: p.len,
        ...(via ? { gw: parseIpv4(via) } : {}),
        ...(dev ? { dev } : {}),
      });
    },
    run(ms) {
      k.loop.runUntil(k.now + BigInt(ms) * NSEC_PER_MSEC);
    },
    ping(net, dst, opts = {}) {
      const s = pingSocket(net);
      if (opts.dev) s.bindDev = opts.dev;
      if (opts.broadcast) s.broadcast = true;
      if (opts.ttl) s.ttl = opts.ttl;
      if (opts.pmtudisc) s.pmtudisc = opts.pmtudisc;
      const replies: PingReply[] = [];
      const errors: SockExtendedErr[] = [];
      s.onReply = (r) => replies.push(r);
      s.onError = (e) => errors.push(e);
      const sentAt = k.now;
      const sent = s.send(parseIpv4(dst), opts.seq ?? 1, pingPayload(opts.size ?? 56, k.now));
      lab.run(opts.waitMs ?? 1000);
      s.close();
      return { sent, replies, errors, sentAt };
    },
  };
  return lab;
}

/** A captured frame: virtual time (ms) and a one-line summary. */
export interface Captured {
  readonly ms: number;
  readonly dir: "in" | "out";
  readonly text: string;
}

/** Records every frame seen on dev (an AF_PACKET tap), summarized tcpdump-style. */
export function capture(dev: NetDevice): Captured[] {
  const out: Captured[] = [];
  dev.netns.taps.add({
    dev,
    deliver: (skb, dir) =>
      out.push({ ms: Number(dev.netns.kernel.now / NSEC_PER_MSEC), dir, text: summarize(skb.data) }),
  });
  return out;
}

/** tcpdump-like one-liner for an Ethernet frame. */
export function summarize(f: Uint8Array): string {
  const dst = f[0] === 0xff ? "bcast" : f[0] & 1 ? "mcast" : "ucast";
  const type = (f[12] << 8) | f[13];
  if (type === 0x0806) {
    const op = (f[20] << 8) | f[21];
    const sip = formatIpv4(rd32(f, 28));
    const tip = formatIpv4(rd32(f, 38));
    return op === 1
      ? `${dst} ARP request who-has ${tip} tell ${sip}`
      : `${dst} ARP reply ${sip} is-at ${hex(f, 22)}`;
  }
  if (type !== 0x0800) return `ethertype ${type.toString(16)}`;
  const ihl = (f[14] & 15) * 4;
  const src = formatIpv4(rd32(f, 26));
  const dstIp = formatIpv4(rd32(f, 30));
  const fo = (f[20] << 8) | f[21];
  const frag = fo & 0x3fff ? ` frag off ${(fo & 0x1fff) * 8}${fo & 0x2000 ? "+" : ""}` : "";
  const ttl = f[22];
  const t = 14 + ihl;
  if (f[23] === 1 && !(fo & 0x1fff)) {
    const names: Record<number, string> = {
      0: "echo reply",
      3: "unreachable",
      5: "redirect",
      8: "echo request",
      11: "time exceeded",
    };
    const name = names[f[t]] ?? `type ${f[t]}`;
    const extra = f[t] === 0 || f[t] === 8 ? ` seq ${(f[t + 6] << 8) | f[t + 7]}` : ` code ${f[t + 1]}`;
    return `${dst} ${src} > ${dstIp} ICMP ${name}${extra} ttl ${ttl}${frag}`;
  }
  if (f[23] === 17 && !(fo & 0x1fff)) {
    return `${dst} ${src}:${(f[t] << 8) | f[t + 1]} > ${dstIp}:${(f[t + 2] << 8) | f[t + 3]} UDP ttl ${ttl}${frag}`;
  }
  return `${dst} ${src} > ${dstIp} proto ${f[23]} ttl ${ttl}${frag}`;
}

function rd32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function hex(b: Uint8Array, o: number): string {
  return [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** Dotted quad of a number (for assertion messages). */
export const ip = formatIpv4;

/** 02:00:00:00:00:0n. */
export function mac(n: number): number {
  return 0x020000000000 + n;
}
