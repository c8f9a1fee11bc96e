/**
 * The generic neighbour subsystem (net/core/neighbour.c), protocol-independent: one
 * {@link NeighTable} per namespace and protocol (arp_tbl with number keys, nd_tbl with bigint
 * keys), entries per (device, key) with the NUD state machine driven by timers on the kernel's
 * event loop, the queue of packets waiting for resolution, neigh_update and neigh_event_send.
 * The protocol (ARP, NDP) plugs in through {@link NeighOps}.
 */
import type { MacAddr } from "../../wire/index.ts";
import { NSEC_PER_MSEC, NSEC_PER_SEC, type Timer } from "../clock.ts";
import { fail } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import type { SkBuff } from "../skb.ts";
import { neighHhOutput } from "./output.ts";
import {
  NEIGH_SYSCTL_DEFAULTS,
  NEIGH_TABLE_SYSCTL_DEFAULTS,
  NEIGH_UPDATE_F,
  type NeighParms,
  NTF,
  NUD,
  NUD_CONNECTED,
  NUD_IN_TIMER,
  NUD_VALID,
} from "./types.ts";

/** A neighbour key: an IPv4 address (number) or an IPv6 address (bigint). */
export type NeighKey = number | bigint;

/** What the protocol provides to its table (struct neigh_table callbacks + struct neigh_ops). */
export interface NeighOps<K extends NeighKey> {
  /** Address family of the keys. */
  readonly family: 4 | 6;
  /** Table id as Linux names it ("arp_cache", "ndisc_cache"), used in log lines. */
  readonly id: string;
  /** sysctl prefix of the per-device parameters ("net.ipv4.neigh"). */
  readonly sysctlPrefix: string;
  /** Text form of a key (for logs). */
  keyString(key: K): string;
  /** The constructor (arp_constructor / ndisc_constructor): may make the entry NOARP with a fixed lladdr. */
  construct(neigh: Neighbour<K>): void;
  /**
   * Sends one solicitation (arp_solicit / ndisc_solicit); skb is the newest queued packet, if
   * any. `neigh.probes` already counts this solicitation (Linux increments after the call, so
   * Linux's `probes` is `neigh.probes - 1` here).
   */
  solicit(neigh: Neighbour<K>, skb: SkBuff | null): void;
  /** Reports a failed resolution to a queued packet's sender (arp_error_report / ndisc_error_report). */
  errorReport(neigh: Neighbour<K>, skb: SkBuff): void;
}

/** Something that hears about entries changing (rtnetlink RTM_NEWNEIGH/RTM_DELNEIGH). */
export type NeighListener<K extends NeighKey> = (event: "NEW" | "DEL", neigh: Neighbour<K>) => void;

/** Approximate skb->truesize of a queued packet (data + sk_buff + shared info overhead). */
export function skbTruesize(skb: SkBuff): number {
  return skb.data.length + 704;
}

/** struct neighbour: one (device, key) entry. */
export class Neighbour<K extends NeighKey> {
  /** The table it belongs to. */
  readonly table: NeighTable<K>;
  /** The device the key is reached through. */
  readonly dev: NetDevice;
  /** The protocol address. */
  readonly key: K;
  /** NUD_* state. */
  nudState: number = NUD.NONE;
  /** NTF_* flags (router, proxy, extern_learn ...). */
  flags = 0;
  /** NTF_EXT_* flags. */
  flagsExt = 0;
  /** The link-layer address (meaningful while the state is NUD_VALID). */
  lladdr: MacAddr = 0;
  /** Probes sent in the current resolution/probe round (neigh->probes). */
  probes = 0;
  /** Last state or address change. */
  updated: bigint;
  /** Last reachability confirmation. */
  confirmed: bigint;
  /** Last use by an outgoing packet. */
  used: bigint;
  /** Route type of the key seen from the device (ARP: RTN_UNICAST/LOCAL/BROADCAST/MULTICAST). */
  type = 1;
  /** NDA_PROTOCOL (who installed it), 0 when unset. */
  protocol = 0;
  /** Unlinked from its table. */
  dead = false;
  /** Packets waiting for resolution (arp_queue). */
  readonly queue: SkBuff[] = [];
  /** Sum of the truesize of queued packets. */
  queueBytes = 0;
  /** The state timer. */
  timer: Timer | null = null;

  constructor(table: NeighTable<K>, dev: NetDevice, key: K) {
    this.table = table;
    this.dev = dev;
    this.key = key;
    const now = table.net.kernel.now;
    this.updated = now;
    this.used = now;
    // Linux starts an entry as "confirmed long ago" so it is not treated as fresh.
    this.confirmed = now - (table.parms(dev).baseReachableTime << 1n);
  }

  /** neigh->ha: the Linux name of {@link Neighbour.lladdr}. */
  get ha(): MacAddr {
    return this.lladdr;
  }

  /** Whether the entry currently has a usable link-layer address. */
  get valid(): boolean {
    return (this.nudState & NUD_VALID) !== 0;
  }
}

/** A per-device randomized reachable_time, with the base it was computed from. */
interface ReachableTime {
  base: bigint;
  value: bigint;
  at: bigint;
}

/** How often Linux re-randomizes reachable_time (neigh_periodic_work: every 300 s). */
const REACHABLE_RERANDOMIZE = 300n * NSEC_PER_SEC;
/** A timer never fires sooner than HZ/100 for retransmissions. */
const MIN_RETRANS = 10n * NSEC_PER_MSEC;

/** struct neigh_table for one namespace. */
export class NeighTable<K extends NeighKey> {
  /** The namespace. */
  readonly net: NetNamespace;
  /** The protocol's callbacks. */
  readonly ops: NeighOps<K>;
  /** Entries in creation order; key is `${ifindex}/${key}`. */
  readonly #entries = new Map<string, Neighbour<K>>();
  /** Proxy entries (pneigh): `${ifindex or 0}/${key}`. */
  readonly proxies = new Map<string, { dev: NetDevice | null; key: K; flags: number; protocol: number }>();
  /** rtnetlink listeners. */
  readonly listeners = new Set<NeighListener<K>>();
  /** Counters as `ip -s ntable` shows a few of them. */
  readonly stats = {
    allocs: 0,
    destroys: 0,
    lookups: 0,
    hits: 0,
    resFailed: 0,
    forcedGcRuns: 0,
    tableFulls: 0,
  };
  readonly #reachable = new Map<NetDevice, ReachableTime>();
  #lastFlush: bigint;
  #gcTimer: Timer | null = null;

  constructor(net: NetNamespace, ops: NeighOps<K>) {
    this.net = net;
    this.ops = ops;
    this.#lastFlush = net.kernel.now;
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** The sysctl value of one per-device parameter, falling back to `default` then the Linux default. */
  parmValue(dev: NetDevice | null, name: string): number {
    const p = this.ops.sysctlPrefix;
    const v =
      (dev && this.net.sysctl.get(`${p}.${dev.name}.${name}`)) ?? this.net.sysctl.get(`${p}.default.${name}`);
    if (v !== undefined) return Number.parseInt(v, 10);
    return NEIGH_SYSCTL_DEFAULTS[name] ?? NEIGH_TABLE_SYSCTL_DEFAULTS[name] ?? 0;
  }

  /** The neigh_parms of a device, read live from sysctl so writes take effect at once. */
  parms(dev: NetDevice): NeighParms {
    const v = (n: string) => this.parmValue(dev, n);
    return {
      mcastProbes: v("mcast_solicit"),
      ucastProbes: v("ucast_solicit"),
      appProbes: v("app_solicit"),
      mcastReprobes: v("mcast_resolicit"),
      retransTime: BigInt(v("retrans_time_ms")) * NSEC_PER_MSEC,
      baseReachableTime: BigInt(v("base_reachable_time_ms")) * NSEC_PER_MSEC,
      delayProbeTime: BigInt(v("delay_first_probe_time")) * NSEC_PER_SEC,
      gcStaleTime: BigInt(v("gc_stale_time")) * NSEC_PER_SEC,
      queueLenBytes: v("unres_qlen_bytes"),
      locktime: BigInt(v("locktime")) * 10n * NSEC_PER_MSEC,
    };
  }

  /**
   * parms->reachable_time: base_reachable_time randomized to [0.5, 1.5) × base with the kernel
   * PRNG (neigh_rand_reach_time); recomputed when the base changes and every 300 s.
   */
  reachableTime(dev: NetDevice): bigint {
    const base = this.parms(dev).baseReachableTime;
    const now = this.net.kernel.now;
    const have = this.#reachable.get(dev);
    if (have && have.base === base && now - have.at < REACHABLE_RERANDOMIZE) return have.value;
    const ms = Number(base / NSEC_PER_MSEC);
    const value = base === 0n ? 0n : base / 2n + BigInt(this.net.kernel.random.below(ms)) * NSEC_PER_MSEC;
    this.#reachable.set(dev, { base, value, at: now });
    return value;
  }

  static #id(dev: NetDevice, key: NeighKey): string {
    return `${dev.ifindex}/${key}`;
  }

  /** neigh_lookup. */
  lookup(dev: NetDevice, key: K): Neighbour<K> | undefined {
    this.stats.lookups++;
    const n = this.#entries.get(NeighTable.#id(dev, key));
    if (n) this.stats.hits++;
    return n;
  }

  /** Entries in dump order, optionally of one device. */
  entries(dev?: NetDevice): Neighbour<K>[] {
    const all = [...this.#entries.values()];
    return dev ? all.filter((n) => n.dev === dev) : all;
  }

  /**
   * __neigh_create: allocates an entry (forced GC first when the table is above gc_thresh2/3;
   * ENOBUFS with "neighbor table overflow!" when it stays full) and runs the protocol constructor.
   */
  create(dev: NetDevice, key: K): Neighbour<K> {
    const have = this.#entries.get(NeighTable.#id(dev, key));
    if (have) return have;
    const thresh2 = this.parmValue(null, "gc_thresh2");
    const thresh3 = this.parmValue(null, "gc_thresh3");
    const now = this.net.kernel.now;
    if (this.size >= thresh3 || (this.size >= thresh2 && now > this.#lastFlush + 5n * NSEC_PER_SEC)) {
      if (!this.#forcedGc() && this.size >= thresh3) {
        this.stats.tableFulls++;
        this.net.kernel.printk(`neighbour: ${this.ops.id}: neighbor table overflow!`);
        fail("ENOBUFS");
      }
    }
    const n = new Neighbour(this, dev, key);
    this.ops.construct(n);
    this.#entries.set(NeighTable.#id(dev, key), n);
    this.stats.allocs++;
    this.#maybeStartGc();
    return n;
  }

  /** neigh_lookup, creating on a miss (__neigh_lookup with creat=1). */
  lookupOrCreate(dev: NetDevice, key: K): Neighbour<K> {
    return this.lookup(dev, key) ?? this.create(dev, key);
  }

  /** Unlinks an entry (neigh_remove_one / neigh_cleanup_and_release): timer stopped, queue purged. */
  remove(n: Neighbour<K>): void {
    if (n.dead) return;
    this.#entries.delete(NeighTable.#id(n.dev, n.key));
    n.dead = true;
    this.#delTimer(n);
    this.#purgeQueue(n, "NEIGH_DEAD");
    this.stats.destroys++;
    this.#notify("DEL", n);
  }

  #notify(event: "NEW" | "DEL", n: Neighbour<K>): void {
    for (const l of this.listeners) l(event, n);
  }

  /** Announces an entry change to listeners (neigh_update_notify / __neigh_notify). */
  notifyChange(n: Neighbour<K>): void {
    this.#notify("NEW", n);
  }

  #delTimer(n: Neighbour<K>): void {
    if (n.timer) this.net.kernel.loop.cancel(n.timer);
    n.timer = null;
  }

  #addTimer(n: Neighbour<K>, at: bigint): void {
    this.#delTimer(n);
    n.timer = this.net.kernel.loop.at(at, () => {
      n.timer = null;
      this.#timerHandler(n);
    });
  }

  #purgeQueue(n: Neighbour<K>, reason: string): void {
    for (const skb of n.queue.splice(0)) skb.dev.countDrop(reason);
    n.queueBytes = 0;
  }

  /** neigh_max_probes: how many solicitations before FAILED in the entry's current state. */
  maxProbes(n: Neighbour<K>): number {
    const p = this.parms(n.dev);
    return p.ucastProbes + p.appProbes + (n.nudState & NUD.PROBE ? p.mcastReprobes : p.mcastProbes);
  }

  /** neigh_probe: one solicitation (for the newest queued packet), counted. */
  #probe(n: Neighbour<K>): void {
    const skb = n.queue.length > 0 ? n.queue[n.queue.length - 1] : null;
    n.probes++;
    this.ops.solicit(n, skb);
  }

  /**
   * neigh_invalidate: resolution failed; every queued packet's sender hears about it
   * (error_report), and the queue empties. The error report frees the packet
   * (arp_error_report: kfree_skb_reason NEIGH_FAILED), so it is counted here.
   */
  #invalidate(n: Neighbour<K>): void {
    this.stats.resFailed++;
    while (n.nudState === NUD.FAILED && n.queue.length > 0) {
      const skb = n.queue.shift()!;
      n.queueBytes -= skbTruesize(skb);
      const dev = skb.dev;
      this.ops.errorReport(n, skb);
      dev.countDrop("NEIGH_FAILED");
    }
    this.#purgeQueue(n, "NEIGH_FAILED");
  }

  /** neigh_timer_handler: the NUD state machine's timed transitions. */
  #timerHandler(n: Neighbour<K>): void {
    if (n.dead) return;
    const state = n.nudState;
    if (!(state & NUD_IN_TIMER)) return;
    const now = this.net.kernel.now;
    const p = this.parms(n.dev);
    let next = now + (p.retransTime > MIN_RETRANS ? p.retransTime : MIN_RETRANS);
    let notify = false;
    if (state & NUD.REACHABLE) {
      const reach = this.reachableTime(n.dev);
      if (now <= n.confirmed + reach) {
        next = n.confirmed + reach;
      } else if (now <= n.used + p.delayProbeTime) {
        n.nudState = NUD.DELAY;
        n.updated = now;
        notify = true;
        next = now + p.delayProbeTime;
      } else {
        n.nudState = NUD.STALE;
        n.updated = now;
        notify = true;
      }
    } else if (state & NUD.DELAY) {
      if (now <= n.confirmed + p.delayProbeTime) {
        n.nudState = NUD.REACHABLE;
        n.updated = now;
        notify = true;
        next = n.confirmed + this.reachableTime(n.dev);
      } else {
        n.nudState = NUD.PROBE;
        n.updated = now;
        n.probes = 0;
        notify = true;
      }
    }
    if (n.nudState & (NUD.INCOMPLETE | NUD.PROBE) && n.probes >= this.maxProbes(n)) {
      n.nudState = NUD.FAILED;
      n.updated = now;
      this.#notify("NEW", n);
      this.#invalidate(n);
      return;
    }
    if (n.nudState & NUD_IN_TIMER) {
      if (next < now + MIN_RETRANS) next = now + MIN_RETRANS;
      this.#addTimer(n, next);
    }
    if (n.nudState & (NUD.INCOMPLETE | NUD.PROBE)) this.#probe(n);
    if (notify) this.#notify("NEW", n);
  }

  /**
   * neigh_event_send / __neigh_event_send: a packet wants to use the entry. Returns 0 if it may be
   * sent now (connected, DELAY, PROBE, or STALE which moves to DELAY), 1 if it was queued
   * (INCOMPLETE, probing starts at once) or dropped (no probes configured → FAILED).
   */
  eventSend(n: Neighbour<K>, skb: SkBuff | null): 0 | 1 {
    const now = this.net.kernel.now;
    n.used = now;
    if (n.nudState & (NUD_CONNECTED | NUD.DELAY | NUD.PROBE)) return 0;
    if (n.dead) {
      if (skb) skb.dev.countDrop("NEIGH_DEAD");
      return 1;
    }
    const p = this.parms(n.dev);
    let immediateProbe = false;
    if (!(n.nudState & (NUD.STALE | NUD.INCOMPLETE))) {
      if (p.mcastProbes + p.appProbes > 0) {
        n.probes = p.ucastProbes;
        n.nudState = NUD.INCOMPLETE;
        n.updated = now;
        immediateProbe = true;
        this.#addTimer(n, now + (p.retransTime > MIN_RETRANS ? p.retransTime : MIN_RETRANS));
        this.#notify("NEW", n);
      } else {
        n.nudState = NUD.FAILED;
        n.updated = now;
        if (skb) skb.dev.countDrop("NEIGH_FAILED");
        return 1;
      }
    } else if (n.nudState & NUD.STALE) {
      n.nudState = NUD.DELAY;
      n.updated = now;
      this.#addTimer(n, now + p.delayProbeTime);
      this.#notify("NEW", n);
    }
    let rc: 0 | 1 = 0;
    if (n.nudState === NUD.INCOMPLETE) {
      if (skb) {
        const size = skbTruesize(skb);
        while (n.queueBytes + size > p.queueLenBytes && n.queue.length > 0) {
          const old = n.queue.shift()!;
          n.queueBytes -= skbTruesize(old);
          old.dev.countDrop("NEIGH_QUEUEFULL");
        }
        if (size <= p.queueLenBytes) {
          n.queue.push(skb);
          n.queueBytes += size;
        } else skb.dev.countDrop("NEIGH_QUEUEFULL");
      }
      rc = 1;
    }
    if (immediateProbe) this.#probe(n);
    return rc;
  }

  /**
   * __neigh_update: the central state change, with Linux's override rules. `lladdr` null means
   * "keep the known address". Throws KernelError EPERM (NOARP/PERMANENT entry changed without
   * ADMIN) or EINVAL (a valid state without any address). Packets queued while resolving leave
   * once the entry becomes valid, through `send` if given, else with an Ethernet header to the
   * new address.
   */
  update(
    n: Neighbour<K>,
    lladdr: MacAddr | null,
    newState: number,
    flags: number,
    send?: (skb: SkBuff) => void,
  ): void {
    const now = this.net.kernel.now;
    const old = n.nudState;
    let notify = false;
    const admin = (flags & NEIGH_UPDATE_F.ADMIN) !== 0;
    if (!admin && old & (NUD.NOARP | NUD.PERMANENT)) fail("EPERM");
    if (n.dead) fail("EBUSY", "Neighbor entry is now dead");
    let updateIsRouter = (flags & NEIGH_UPDATE_F.OVERRIDE_ISROUTER) !== 0;
    if (flags & NEIGH_UPDATE_F.EXT_LEARNED) {
      if (!(n.flags & NTF.EXT_LEARNED)) notify = true;
      n.flags |= NTF.EXT_LEARNED;
    } else if (admin && n.flags & NTF.EXT_LEARNED) {
      n.flags &= ~NTF.EXT_LEARNED;
      notify = true;
    }
    if (!(newState & NUD_VALID)) {
      this.#delTimer(n);
      n.nudState = newState;
      n.updated = now;
      notify = notify || (old & NUD_VALID) !== 0 || old !== newState;
      if (old & (NUD.INCOMPLETE | NUD.PROBE) && newState & NUD.FAILED) this.#invalidate(n);
      if (notify) this.#notify("NEW", n);
      return;
    }
    let addr: MacAddr;
    if (n.dev.addrLen === 0) addr = n.lladdr;
    else if (lladdr !== null) addr = old & NUD_VALID && lladdr === n.lladdr ? n.lladdr : lladdr;
    else {
      if (!(old & NUD_VALID)) fail("EINVAL", "No link layer address given");
      addr = n.lladdr;
    }
    if (newState & NUD_CONNECTED) n.confirmed = now;
    if (old & NUD_VALID) {
      if (addr !== n.lladdr && !(flags & NEIGH_UPDATE_F.OVERRIDE)) {
        updateIsRouter = false;
        if (flags & NEIGH_UPDATE_F.WEAK_OVERRIDE && old & NUD_CONNECTED) {
          addr = n.lladdr;
          newState = NUD.STALE;
        } else {
          this.#finishRouter(n, flags, updateIsRouter, notify);
          return;
        }
      } else if (addr === n.lladdr && newState === NUD.STALE && !admin) {
        // __neigh_update: a valid entry whose address did not change keeps its state when the
        // network says STALE (an NS from a REACHABLE neighbour); only the admin can set STALE.
        newState = old;
      }
    }
    if (newState !== old || addr !== n.lladdr) n.updated = now;
    if (newState !== old) {
      this.#delTimer(n);
      if (newState & NUD.PROBE) n.probes = 0;
      if (newState & NUD_IN_TIMER)
        this.#addTimer(n, now + (newState & NUD.REACHABLE ? this.reachableTime(n.dev) : 0n));
      n.nudState = newState;
      notify = true;
    }
    if (addr !== n.lladdr) {
      n.lladdr = addr;
      if (!(newState & NUD_CONNECTED)) n.confirmed = now - (this.parms(n.dev).baseReachableTime << 1n);
      notify = true;
    }
    if (newState !== old && !(old & NUD_VALID)) {
      // The entry just became usable: release what waited for it (in order).
      const waiting = n.queue.splice(0);
      n.queueBytes = 0;
      for (const skb of waiting) {
        if (send) send(skb);
        else neighHhOutput(n.dev, n.lladdr, skb);
      }
    }
    this.#finishRouter(n, flags, updateIsRouter, notify);
  }

  #finishRouter(n: Neighbour<K>, flags: number, updateIsRouter: boolean, notify: boolean): void {
    if (updateIsRouter) {
      const isRouter = (flags & NEIGH_UPDATE_F.ISROUTER) !== 0;
      if (isRouter !== ((n.flags & NTF.ROUTER) !== 0)) {
        n.flags = isRouter ? n.flags | NTF.ROUTER : n.flags & ~NTF.ROUTER;
        notify = true;
      }
    }
    if (notify) this.#notify("NEW", n);
  }

  /**
   * neigh_event_ns: a solicitation from `key` arrived carrying its link-layer address: create or
   * refresh the entry as STALE (override), so the reply can go out without resolving.
   */
  eventNs(dev: NetDevice, key: K, lladdr: MacAddr, send?: (skb: SkBuff) => void): Neighbour<K> | undefined {
    let n: Neighbour<K>;
    try {
      n = this.lookupOrCreate(dev, key);
    } catch {
      return undefined;
    }
    try {
      this.update(n, lladdr, NUD.STALE, NEIGH_UPDATE_F.OVERRIDE, send);
    } catch {
      // NOARP/PERMANENT entries are not changed by the network.
    }
    return n;
  }

  /**
   * neigh_output: sends skb (its L3 header at skb.network) to the neighbour: directly when the
   * entry is connected, else through neigh_resolve_output (which may queue it and start
   * resolution). Returns a NET_XMIT code (0 also when queued).
   */
  output(n: Neighbour<K>, skb: SkBuff): number {
    if (n.nudState & NUD_CONNECTED) return neighHhOutput(n.dev, n.lladdr, skb);
    if (this.eventSend(n, skb) !== 0) return 0;
    return neighHhOutput(n.dev, n.lladdr, skb);
  }

  /** neigh_confirm (dst_confirm_neigh): the upper layer saw forward progress. */
  confirm(n: Neighbour<K>): void {
    n.confirmed = this.net.kernel.now;
  }

  /**
   * neigh_flush_dev + pneigh_ifdown: removes a device's entries (all, or only non-permanent
   * ones when `skipPerm`), and its proxy entries when the device goes away entirely.
   */
  flushDev(dev: NetDevice | null, skipPerm: boolean): void {
    for (const n of [...this.#entries.values()]) {
      if (dev && n.dev !== dev) continue;
      if (skipPerm && n.nudState & NUD.PERMANENT) continue;
      this.remove(n);
    }
    if (!skipPerm) for (const [k, p] of this.proxies) if (!dev || p.dev === dev) this.proxies.delete(k);
  }

  /** neigh_changeaddr: the device's own address changed; its entries are useless now. */
  changeAddr(dev: NetDevice): void {
    this.flushDev(dev, false);
  }

  /** neigh_forced_gc: drops unreferenced FAILED/NOARP entries and those unchanged for 5 s. */
  #forcedGc(): boolean {
    this.stats.forcedGcRuns++;
    const now = this.net.kernel.now;
    const thresh2 = this.parmValue(null, "gc_thresh2");
    const tref = now - 5n * NSEC_PER_SEC;
    let shrunk = false;
    for (const n of [...this.#entries.values()]) {
      if (this.size < thresh2) break;
      if (n.nudState & NUD.PERMANENT || n.flags & NTF.EXT_LEARNED) continue;
      if (n.nudState === NUD.FAILED || n.nudState === NUD.NOARP || n.updated < tref) {
        this.remove(n);
        shrunk = true;
      }
    }
    this.#lastFlush = now;
    return shrunk;
  }

  /**
   * neigh_periodic_work: runs every base_reachable_time/2, but only does anything while the
   * table holds at least gc_thresh1 entries (so small tables keep STALE/FAILED entries, as on
   * Linux); then removes FAILED entries and those unused for gc_stale_time.
   */
  #maybeStartGc(): void {
    if (this.#gcTimer || this.size < this.parmValue(null, "gc_thresh1")) return;
    const base = BigInt(this.parmValue(null, "base_reachable_time_ms")) * NSEC_PER_MSEC;
    this.#gcTimer = this.net.kernel.loop.after(base / 2n, () => {
      this.#gcTimer = null;
      if (this.net.dead) return;
      this.periodicGc();
      this.#maybeStartGc();
    });
  }

  /** One pass of neigh_periodic_work's cleaning (exported for tests and `ip neigh` GC checks). */
  periodicGc(): void {
    const now = this.net.kernel.now;
    if (this.size < this.parmValue(null, "gc_thresh1")) return;
    for (const n of [...this.#entries.values()]) {
      if (n.nudState & (NUD.PERMANENT | NUD_IN_TIMER) || n.flags & NTF.EXT_LEARNED) continue;
      if (n.used < n.confirmed) n.used = n.confirmed;
      const stale = this.parms(n.dev).gcStaleTime;
      if (n.nudState === NUD.FAILED || now >= n.used + stale || now < n.used) this.remove(n);
    }
  }

  /** Stops timers when the namespace dies. */
  destroy(): void {
    for (const n of [...this.#entries.values()]) this.remove(n);
    if (this.#gcTimer) this.net.kernel.loop.cancel(this.#gcTimer);
    this.#gcTimer = null;
    this.proxies.clear();
  }
}
