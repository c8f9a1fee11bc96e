/**
 * `ping` (iputils 20221126) on the simulated kernel's ICMP and ICMPv6 echo sockets, in virtual
 * time. The program is a state machine on the kernel's event loop: probes are timers, replies
 * and errors are socket callbacks. A bounded ping (-c or -w) drives the loop itself until it is
 * done; an endless one detaches and runs while other commands move the clock, until a signal.
 *
 * Output follows iputils: the PING header, reply lines (time with 3/2/1/0 decimals by size,
 * DUP! hidden for broadcast/multicast targets), "From X icmp_seq=N ..." error lines, local
 * errors, and the statistics with the loss as %g, rtt min/avg/max/mdev and pipe. Exit status:
 * 0 with replies, 1 without (or short of -c under -w), 2 for setup errors.
 */
import {
  Errno,
  type ErrnoName,
  type Kernel,
  type NetDevice,
  type NetNamespace,
  type PingReply,
  type PingSock,
  type Ping6Reply,
  type Ping6Socket,
  RTCF,
  type SockExtendedErr,
  type SockExtendedErr6,
  inetAddrList,
  ip6DstLookup,
  ipDevFind,
  ipRouteOutput,
  ping6Socket,
  pingPayload,
  pingSocket,
  strerror,
} from "../kernel/index.ts";
import {
  formatIpv4,
  formatIpv6,
  ipv6IsLinkLocal,
  ipv6IsMulticast,
  isIpv4Multicast,
  parseIpv4,
  parseIpv6,
} from "../wire/index.ts";
import type { ToolContext } from "./context.ts";
import { parsePingArgs, PingExit, type PingOptions } from "./ping-args.ts";

const NS_PER_US = 1000n;
const NS_PER_MS = 1_000_000n;
/** iputils MININTERVAL: the shortest wait between two send attempts. */
const MININTERVAL_MS = 10;
/** How much virtual time a foreground ping runs before giving the harness a chance to deliver signals. */
const DRIVE_SLICE = 1_000_000_000n;

const UNREACH4: readonly string[] = [
  "Destination Net Unreachable",
  "Destination Host Unreachable",
  "Destination Protocol Unreachable",
  "Destination Port Unreachable",
  "",
  "Source Route Failed",
  "Destination Net Unknown",
  "Destination Host Unknown",
  "Source Host Isolated",
  "Destination Net Prohibited",
  "Destination Host Prohibited",
  "Destination Net Unreachable for Type of Service",
  "Destination Host Unreachable for Type of Service",
  "Packet filtered",
  "Precedence Violation",
  "Precedence Cutoff",
];

const REDIRECT4 = [
  "Redirect Network",
  "Redirect Host",
  "Redirect Type of Service and Network",
  "Redirect Type of Service and Host",
];

/** iputils' text for an ICMP error about one of our IPv4 probes. */
function icmp4ErrorText(type: number, code: number, info: number): string {
  switch (type) {
    case 3:
      if (code === 4) return `Frag needed and DF set (mtu = ${info})`;
      return UNREACH4[code] ?? `Dest Unreachable, Bad Code: ${code}`;
    case 4:
      return "Source Quench";
    case 5:
      return `${REDIRECT4[code] ?? `Redirect, Bad Code: ${code}`}(New nexthop: ${formatIpv4(info >>> 0)})`;
    case 11:
      return code === 0
        ? "Time to live exceeded"
        : code === 1
          ? "Frag reassembly time exceeded"
          : `Time exceeded, Bad Code: ${code}`;
    case 12:
      return `Parameter problem: pointer = ${info}`;
    default:
      return `Bad ICMP type: ${type}`;
  }
}

const UNREACH6 = [
  "No route",
  "Administratively prohibited",
  "Beyond scope of source address",
  "Address unreachable",
  "Port unreachable",
];

/** iputils' text for an ICMPv6 error about one of our probes. */
function icmp6ErrorText(type: number, code: number, info: number): string {
  switch (type) {
    case 1:
      return `Destination unreachable: ${UNREACH6[code] ?? `Unknown code ${code}`}`;
    case 2:
      return `Packet too big: mtu=${info}`;
    case 3:
      return `Time exceeded: ${code === 0 ? "Hop limit" : code === 1 ? "Defragmentation failure" : `Unknown code ${code}`}`;
    case 4:
      return `Parameter problem: ${["Wrong header field ", "Unknown header ", "Unknown option "][code] ?? `Unknown code ${code} `}at ${info}`;
    default:
      return `unknown icmp type: ${type}`;
  }
}

/** A time in microseconds as iputils prints a reply's RTT (more decimals for shorter times). */
export function formatRtt(us: number): string {
  if (us >= 100000 - 50) return String(Math.floor((us + 500) / 1000));
  if (us >= 10000 - 5) return `${Math.floor((us + 50) / 1000)}.${Math.floor(((us + 50) % 1000) / 100)}`;
  if (us >= 1000)
    return `${Math.floor((us + 5) / 1000)}.${String(Math.floor(((us + 5) % 1000) / 10)).padStart(2, "0")}`;
  return `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, "0")}`;
}

function msec3(us: number): string {
  return `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, "0")}`;
}

/** %g with six significant digits, as printf prints the packet loss. */
export function formatG(x: number): string {
  return String(Number(x.toPrecision(6)));
}

function isqrt(n: number): number {
  if (n <= 0) return 0;
  let x = Math.floor(Math.sqrt(n));
  while (x * x > n) x--;
  while ((x + 1) * (x + 1) <= n) x++;
  return x;
}

/** What differs between IPv4 and IPv6 once the socket is set up. */
interface Family {
  /** Sends probe `seq`; 0 or the errno sendmsg failed with. */
  send(seq: number, payload: Uint8Array): 0 | ErrnoName;
  close(): void;
  /** Broadcast or multicast target (several answers per probe are normal: no DUP! marks). */
  readonly multicast: boolean;
  /** Whether ICMP errors count as answers for `pipe` (the IPv4 raw socket path does). */
  readonly errorsAcknowledge: boolean;
}

/** Statistics and printing of one ping run. */
class PingRun {
  readonly #ctx: ToolContext;
  readonly #o: PingOptions;
  readonly #kernel: Kernel;
  readonly #timing: boolean;
  fam!: Family;
  ntransmitted = 0;
  nreceived = 0;
  nrepeats = 0;
  nerrors = 0;
  #tmin = Number.MAX_SAFE_INTEGER;
  #tmax = 0;
  #tsum = 0;
  #tsum2 = 0;
  #pipesize = 0;
  readonly #sent = new Map<number, bigint>();
  readonly #answered = new Set<number>();
  #first = 0n;
  #last = 0n;
  #exitScheduled = false;
  #timers: ReturnType<Kernel["loop"]["after"]>[] = [];
  /** iputils' oom_count: ENOBUFS/ENOMEM send failures since the last successful send. */
  #oomCount = 0;
  done = false;
  status = 0;
  #onDone: (() => void) | null = null;

  constructor(ctx: ToolContext, o: PingOptions) {
    this.#ctx = ctx;
    this.#o = o;
    this.#kernel = ctx.kernel;
    this.#timing = o.size >= 16;
  }

  /** Resolves when the run has printed its statistics. */
  whenDone(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((r) => {
      this.#onDone = r;
    });
  }

  /** Sends the first probe and schedules the rest (and the -w deadline). */
  start(): void {
    const loop = this.#kernel.loop;
    this.#first = this.#kernel.now;
    if (this.#o.deadlineMs > 0)
      this.#timers.push(loop.after(BigInt(this.#o.deadlineMs) * NS_PER_MS, () => this.finish()));
    this.#pinger();
  }

  #pinger(): void {
    if (this.done) return;
    const o = this.#o;
    if (o.count && this.ntransmitted >= o.count) return;
    const seq = (this.ntransmitted + 1) & 0xffff;
    if (o.outstanding && this.ntransmitted > 0 && !this.#answered.has(this.ntransmitted & 0xffff)) {
      this.#ctx.out(`no answer yet for icmp_seq=${this.ntransmitted & 0xffff}\n`);
    }
    const now = this.#kernel.now;
    this.#sent.set(seq, now);
    this.#answered.delete(seq);
    const r = this.fam.send(seq, pingPayload(o.size, now));
    let hardNobufs = false;
    if (r === "ENOBUFS" || r === "ENOMEM") {
      // iputils pinger: the device queue overflowed (a veth whose peer refused the frame ...),
      // so the probe counts as not sent and the same sequence is retried, while
      // oom_count * nores_interval stays under the linger time (-W); the token bucket holds the
      // retry until a full interval after this attempt. Then it is a hard error.
      const nores = Math.min(Math.max(Math.floor(o.intervalMs / 2), MININTERVAL_MS), 500);
      this.#oomCount++;
      if (this.#oomCount * nores < o.lingerMs) {
        const waitMs = Math.max(nores, o.intervalMs);
        this.#timers.push(this.#kernel.loop.after(BigInt(waitMs) * NS_PER_MS, () => this.#pinger()));
        return;
      }
      hardNobufs = true;
    } else if (r === 0) this.#oomCount = 0;
    this.ntransmitted++;
    this.#last = now;
    if (hardNobufs) {
      // hard_local_error: "pretend we sent it"; only the message, no error count.
      this.#ctx.err(`ping: sendmsg: ${strerror(Errno[r as ErrnoName])}\n`);
    }
    // Any other failure (EMSGSIZE for more than 65535 bytes, a route gone ...): iputils reads
    // the error queue first (receive_error_msg). A local error there (-M do) was printed and
    // counted as it was queued (localError); an empty queue makes it return -1, and then the
    // probe only counts as transmitted: no "sendmsg" line, no +errors. (The line is printed
    // only when an ICMP error waits in the queue at that moment, which a simulated ping has
    // always read already.)
    if (this.done) return;
    this.#checkDone();
    if (this.done) return;
    if (o.count && this.ntransmitted >= o.count) this.#scheduleExit();
    else this.#timers.push(this.#kernel.loop.after(BigInt(o.intervalMs) * NS_PER_MS, () => this.#pinger()));
  }

  /** After the last probe: wait 2*max RTT (at least one interval) if something answered, else -W. */
  #scheduleExit(): void {
    if (this.#exitScheduled) return;
    this.#exitScheduled = true;
    let waitUs: number;
    if (this.nreceived) {
      waitUs = 2 * this.#tmax;
      if (waitUs < 1000 * this.#o.intervalMs) waitUs = 1000 * this.#o.intervalMs;
    } else waitUs = this.#o.lingerMs * 1000;
    this.#timers.push(this.#kernel.loop.after(BigInt(waitUs) * NS_PER_US, () => this.finish()));
  }

  #acknowledge(seq: number): void {
    const diff = (this.ntransmitted - seq) & 0xffff;
    if (diff <= 0x7fff && diff + 1 > this.#pipesize) this.#pipesize = diff + 1;
  }

  #stampPrefix(): string {
    if (!this.#o.timestamps) return "";
    const us = this.#kernel.now / NS_PER_US;
    return `[${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, "0")}] `;
  }

  /** An echo reply: `from` already formatted. */
  reply(seq: number, id: number, from: string, ttl: number, bytes: number, time: bigint): void {
    if (this.done) return;
    const sentAt = this.#sent.get(seq);
    if (sentAt === undefined) return;
    this.#acknowledge(seq);
    const o = this.#o;
    let tripUs = 0;
    if (this.#timing) {
      tripUs = Number((time - sentAt) / NS_PER_US);
      this.#tsum += tripUs;
      this.#tsum2 += tripUs * tripUs;
      if (tripUs < this.#tmin) this.#tmin = tripUs;
      if (tripUs > this.#tmax) this.#tmax = tripUs;
    }
    const dup = this.#answered.has(seq);
    if (dup) this.nrepeats++;
    else {
      this.nreceived++;
      this.#answered.add(seq);
    }
    if (!o.quiet) {
      let line = `${this.#stampPrefix()}${bytes} bytes from ${from}: icmp_seq=${seq}`;
      if (o.verbose) line += ` ident=${id}`;
      line += ` ttl=${ttl}`;
      if (this.#timing) line += ` time=${formatRtt(tripUs)} ms`;
      if (dup && (!this.fam.multicast || o.verbose)) line += " (DUP!)";
      this.#ctx.out(`${line}\n`);
    }
    this.#checkDone();
  }

  /** An ICMP error about probe `seq`. */
  icmpError(seq: number, from: string, text: string): void {
    if (this.done) return;
    this.nerrors++;
    if (this.fam.errorsAcknowledge) this.#acknowledge(seq);
    if (!this.#o.quiet) this.#ctx.out(`${this.#stampPrefix()}From ${from} icmp_seq=${seq} ${text}\n`);
    this.#checkDone();
  }

  /** A local error (EMSGSIZE): printed to stderr. */
  localError(text: string): void {
    this.nerrors++;
    this.#ctx.err(`ping: local error: ${text}\n`);
  }

  #checkDone(): void {
    const o = this.#o;
    if (o.count && this.nreceived + this.nerrors >= o.count) this.finish();
  }

  /** Prints the statistics and ends the run. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    for (const t of this.#timers) this.#kernel.loop.cancel(t);
    this.fam.close();
    const o = this.#o;
    const nt = this.ntransmitted;
    const nr = this.nreceived;
    let s = `\n--- ${o.target} ping statistics ---\n`;
    s += `${nt} packets transmitted, ${nr} received`;
    if (this.nrepeats) s += `, +${this.nrepeats} duplicates`;
    if (this.nerrors) s += `, +${this.nerrors} errors`;
    if (nt) s += `, ${formatG(((nt - nr) * 100) / nt)}% packet loss`;
    const spanUs = Number((this.#last - this.#first) / NS_PER_US);
    s += `, time ${Math.floor((spanUs + 500) / 1000)}ms\n`;
    let comma = "";
    if (nr && this.#timing) {
      const total = nr + this.nrepeats;
      const avg = Math.floor(this.#tsum / total);
      const variance = Math.floor((this.#tsum2 - Math.floor((this.#tsum * this.#tsum) / total)) / total);
      const mdev = isqrt(variance);
      s += `rtt min/avg/max/mdev = ${msec3(this.#tmin)}/${msec3(avg)}/${msec3(this.#tmax)}/${msec3(mdev)} ms`;
      comma = ", ";
    }
    if (this.#pipesize > 1) s += `${comma}pipe ${this.#pipesize}`;
    s += "\n";
    this.#ctx.out(s);
    this.status = !nr || (o.deadlineMs > 0 && o.count > 0 && nr < o.count) ? 1 : 0;
    this.#onDone?.();
  }

  /** Ends without statistics (killed by SIGTERM/SIGHUP or the end of the run). */
  kill(): void {
    if (this.done) return;
    this.done = true;
    for (const t of this.#timers) this.#kernel.loop.cancel(t);
    this.fam.close();
    this.#onDone?.();
  }
}

/** The destination after name resolution. */
interface Target {
  readonly family: 4 | 6;
  readonly v4: number;
  readonly v6: bigint;
  readonly scope: NetDevice | null;
  /** Whether replies are shown by name (the target was a name and -n was not given). */
  readonly names: boolean;
}

function resolveTarget(net: NetNamespace, o: PingOptions): Target {
  const target = o.target;
  const pct = target.indexOf("%");
  const host = pct >= 0 ? target.slice(0, pct) : target;
  const scopeText = pct >= 0 ? target.slice(pct + 1) : null;
  const unsupported = new PingExit(2, `ping: ${target}: Address family for hostname not supported\n`);
  const unknown = new PingExit(2, `ping: ${target}: Name or service not known\n`);
  let scope: NetDevice | null = null;
  if (scopeText !== null) {
    scope =
      net.dev(scopeText) ?? (/^\d+$/.test(scopeText) ? (net.devices.get(Number(scopeText)) ?? null) : null);
    if (!scope) throw unknown;
  }
  if (scopeText === null && /^[0-9.]+$/.test(host)) {
    let v4: number;
    try {
      v4 = parseIpv4(host);
    } catch {
      throw unknown;
    }
    if (o.family === 6) throw unsupported;
    return { family: 4, v4, v6: 0n, scope: null, names: false };
  }
  if (host.includes(":")) {
    let v6: bigint;
    try {
      v6 = parseIpv6(host);
    } catch {
      throw unknown;
    }
    if (o.family === 4) throw unsupported;
    return { family: 6, v4: 0, v6, scope, names: false };
  }
  if (host === "localhost" || host === "ip6-localhost" || host === "ip6-loopback") {
    const six = host !== "localhost" || o.family === 6;
    if (six && o.family === 4) throw unsupported;
    return { family: six ? 6 : 4, v4: 0x7f000001, v6: 1n, scope, names: !o.numeric };
  }
  throw unknown;
}

function bailOut(ctx: ToolContext, e: unknown): number {
  if (!(e instanceof PingExit)) throw e;
  ctx.out(e.stdout);
  ctx.err(e.stderr);
  return e.code;
}

/**
 * iputils wakes up on the error (POLLERR) and its recvmsg returns the socket's pending sk_err
 * once, so that error never reaches a later sendmsg: clear it just after the kernel set it.
 */
function consumeSkErr(ctx: ToolContext, sock: { skErr: ErrnoName | null }): void {
  ctx.kernel.loop.after(0n, () => {
    sock.skErr = null;
  });
}

function setup4(ctx: ToolContext, o: PingOptions, t: Target, run: PingRun): void {
  const net = ctx.net;
  let bindDev: NetDevice | null = null;
  let bindAddr = 0;
  if (o.iface !== null) {
    let addr: number | null = null;
    try {
      addr = /^[0-9.]+$/.test(o.iface) ? parseIpv4(o.iface) : null;
    } catch {
      addr = null;
    }
    if (addr !== null) {
      if (!ipDevFind(net, addr)) throw new PingExit(2, "ping: bind: Cannot assign requested address\n");
      bindAddr = addr;
    } else {
      bindDev = net.dev(o.iface) ?? null;
      if (!bindDev) throw new PingExit(2, `ping: SO_BINDTODEVICE ${o.iface}: No such device\n`);
    }
  }
  if (o.ttl === 0) throw new PingExit(2, "ping: cannot set unicast time-to-live: Invalid argument\n");
  const daddr = t.v4;
  const rt = ipRouteOutput(net, {
    daddr,
    saddr: bindAddr,
    oif: bindDev?.ifindex ?? 0,
    tos: o.tos,
    mark: o.mark,
  });
  if (typeof rt === "string") throw new PingExit(2, `ping: connect: ${strerror(Errno[rt])}\n`);
  const bcast = (rt.flags & RTCF.BROADCAST) !== 0;
  if (bcast && !o.broadcast) {
    throw new PingExit(
      2,
      "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n",
    );
  }
  if (bindDev && !inetAddrList(net, bindDev).some((ifa) => ifa.local === rt.saddr)) {
    ctx.err(`ping: Warning: source address might be selected on device other than: ${bindDev.name}\n`);
  }
  if (bcast) ctx.err("WARNING: pinging broadcast address\n");
  const sock: PingSock = pingSocket(net, o.ident ?? undefined);
  sock.bindDev = bindDev;
  if (bindAddr) sock.bindAddr = bindAddr;
  sock.broadcast = o.broadcast;
  if (o.ttl !== null) {
    sock.ttl = o.ttl;
    sock.mcastTtl = o.ttl;
  }
  sock.tos = o.tos;
  sock.mark = o.mark;
  if (o.pmtu) sock.pmtudisc = o.pmtu;
  const from = (a: number) => {
    const text = formatIpv4(a >>> 0);
    return t.names && a >>> 0 === 0x7f000001 ? `localhost (${text})` : text;
  };
  sock.onReply = (r: PingReply) => run.reply(r.seq, r.id, from(r.from), r.ttl, 8 + r.data.length, r.time);
  sock.onError = (e: SockExtendedErr) => {
    if (e.origin === 1) {
      run.localError(e.errno === "EMSGSIZE" ? `message too long, mtu=${e.info}` : strerror(Errno[e.errno]));
    } else {
      run.icmpError(e.sequence ?? 0, formatIpv4(e.offender >>> 0), icmp4ErrorText(e.type, e.code, e.info));
      consumeSkErr(ctx, sock);
    }
  };
  run.fam = {
    send: (seq, payload) => sock.send(daddr, seq, payload),
    close: () => sock.close(),
    multicast: bcast || isIpv4Multicast(daddr),
    errorsAcknowledge: true,
  };
  const src = o.iface !== null ? `from ${formatIpv4(rt.saddr >>> 0)} ${bindDev ? bindDev.name : ""}: ` : "";
  ctx.out(`PING ${o.target} (${formatIpv4(daddr)}) ${src}${o.size}(${o.size + 28}) bytes of data.\n`);
}

function setup6(ctx: ToolContext, o: PingOptions, t: Target, run: PingRun): void {
  const net = ctx.net;
  let bindDev: NetDevice | null = null;
  let bindAddr = 0n;
  if (o.iface !== null) {
    let addr: bigint | null = null;
    if (o.iface.includes(":")) {
      try {
        addr = parseIpv6(o.iface);
      } catch {
        addr = null;
      }
    }
    if (addr !== null) bindAddr = addr;
    else {
      bindDev = net.dev(o.iface) ?? null;
      if (!bindDev) throw new PingExit(2, `ping: SO_BINDTODEVICE ${o.iface}: No such device\n`);
    }
  }
  const daddr = t.v6;
  const sock: Ping6Socket = ping6Socket(net, o.ident ?? undefined);
  sock.bindDev = bindDev;
  if (bindAddr) {
    const e = sock.bind(bindAddr);
    if (e) {
      sock.close();
      throw new PingExit(2, `ping: bind icmp socket: ${strerror(Errno[e])}\n`);
    }
  }
  const oif = t.scope?.ifindex ?? bindDev?.ifindex ?? 0;
  const dst = ip6DstLookup(net, { daddr, saddr: bindAddr, oif, mark: o.mark, proto: 58 });
  if (dst.error) {
    sock.close();
    throw new PingExit(2, `ping: connect: ${strerror(Errno[dst.error])}\n`);
  }
  if (bindDev)
    ctx.err(`ping: Warning: source address might be selected on device other than: ${bindDev.name}\n`);
  if (o.ttl !== null) {
    sock.hopLimit = o.ttl;
    sock.mcastHops = o.ttl;
  }
  sock.tclass = o.tos;
  sock.mark = o.mark;
  if (o.pmtu) sock.pmtudisc = o.pmtu;
  const routeDev = dst.dev;
  const fmt = (a: bigint, dev: string) => (ipv6IsLinkLocal(a) ? `${formatIpv6(a)}%${dev}` : formatIpv6(a));
  sock.onReply = (r: Ping6Reply) =>
    run.reply(r.seq, r.id, fmt(r.from, r.dev), r.hopLimit, 8 + r.data.length, r.time);
  sock.onError = (e: SockExtendedErr6) => {
    if (e.origin === 1) {
      run.localError(e.errno === "EMSGSIZE" ? `message too long, mtu: ${e.info}` : strerror(Errno[e.errno]));
    } else {
      run.icmpError(e.sequence ?? 0, fmt(e.offender, routeDev.name), icmp6ErrorText(e.type, e.code, e.info));
      consumeSkErr(ctx, sock);
    }
  };
  const scopeId = t.scope?.ifindex;
  run.fam = {
    send: (seq, payload) => sock.send(daddr, seq, payload, scopeId === undefined ? {} : { scopeId }),
    close: () => sock.close(),
    multicast: ipv6IsMulticast(daddr),
    errorsAcknowledge: false,
  };
  const addrText = `${formatIpv6(daddr)}${t.scope ? `%${t.scope.name}` : ""}`;
  const src = o.iface !== null ? `from ${formatIpv6(bindAddr)} ${bindDev ? bindDev.name : ""}: ` : "";
  ctx.out(`PING ${o.target}(${addrText}) ${src}${o.size} data bytes\n`);
}

/** Runs `ping` with ctx.argv; resolves to the exit status. */
export async function pingMain(ctx: ToolContext): Promise<number> {
  let o: PingOptions;
  let run: PingRun;
  try {
    o = parsePingArgs(ctx.argv, (s) => ctx.err(s));
    const t = resolveTarget(ctx.net, o);
    run = new PingRun(ctx, o);
    if (t.family === 4) setup4(ctx, o, t, run);
    else setup6(ctx, o, t, run);
  } catch (e) {
    return bailOut(ctx, e);
  }
  const signal = ctx.signal;
  let killedBy: unknown = null;
  const onAbort = () => {
    const reason = signal?.reason;
    if (reason === "SIGINT") run.finish();
    else {
      killedBy = reason;
      run.kill();
    }
  };
  run.start();
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const loop = ctx.kernel.loop;
  if (o.count === 0 && o.deadlineMs === 0) {
    // An endless ping: it runs while other commands move the clock, until a signal.
    ctx.detach?.();
    await run.whenDone();
  } else {
    while (!run.done) {
      loop.runUntilDone(() => run.done, ctx.kernel.now + DRIVE_SLICE);
      if (!run.done) await new Promise<void>((r) => setImmediate(r));
    }
  }
  signal?.removeEventListener("abort", onAbort);
  if (killedBy === "SIGTERM") return 143;
  if (killedBy === "SIGHUP") return 129;
  if (killedBy !== null) return 143;
  return run.status;
}
