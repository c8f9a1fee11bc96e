/**
 * The simulated kernel: the event loop and PRNG that make it deterministic, the namespaces,
 * the notifier chains, the registries that drivers and protocols fill (link kinds as
 * rtnl_link_ops, ethertype handlers as ptype_base, per-namespace init as pernet_operations),
 * and the kernel log that `dmesg` reads.
 */
import { EventLoop, NSEC_PER_SEC } from "./clock.ts";
import type { NetDevice } from "./netdev.ts";
import { NetNamespace } from "./netns.ts";
import { NotifierChain, type NetdevEventName } from "./notifier.ts";
import { Random } from "./random.ts";
import type { RtnlLinkOps } from "./rtnl-ops.ts";
import type { SkBuff } from "./skb.ts";

/** A netdevice notifier event. `moving` is set for the UNREGISTER/REGISTER pair of a netns move. */
export interface NetdevNotification {
  readonly event: NetdevEventName;
  readonly dev: NetDevice;
  /** True when UNREGISTER/REGISTER come from dev_change_net_namespace, not a real (un)registration. */
  readonly moving?: boolean;
  /** For PRE_CHANGEADDR: the proposed address; for CHANGEMTU: the old MTU. */
  readonly info?: unknown;
}

/** An address notifier event (inetaddr_chain, inet6addr_chain and their validator chains). */
export interface AddrNotification<A> {
  readonly event: "UP" | "DOWN";
  readonly dev: NetDevice;
  readonly addr: A;
}

/** Payload of IPv4 address notifications (inetaddr_chain / inetaddr_validator_chain). */
export interface Inet4AddrInfo {
  /** ifa_local. */
  readonly local: number;
  /** ifa_address: the peer for point-to-point addresses, else equal to local (ipvlan keys on it). */
  readonly address: number;
  readonly prefixLen: number;
}

/** Payload of IPv6 address notifications (inet6addr_chain / inet6addr_validator_chain). */
export interface Inet6AddrInfo {
  readonly addr: bigint;
  readonly prefixLen: number;
}

/** pernet_operations: called when a namespace is created and when it dies. */
export interface PernetOps {
  readonly name: string;
  init(net: NetNamespace): void;
  exit?(net: NetNamespace): void;
}

/** A protocol handler for one EtherType (struct packet_type in ptype_base). */
export type ProtocolHandler = (skb: SkBuff) => void;

/** One line of the kernel log. */
export interface LogLine {
  readonly time: bigint;
  readonly text: string;
}

/** Options for a new kernel. */
export interface KernelOptions {
  /** PRNG seed; the same seed and the same commands give the same run. */
  readonly seed?: number;
  /** Number of "CPUs" (affects veth queue counts as in Linux). */
  readonly cpus?: number;
  /**
   * The Linux release whose behaviour to follow where releases differ ("6.1.0", the oracle's
   * kernel, by default); docs/kernel-versions.md lists the places that read it.
   */
  readonly release?: string;
}

/** The release a kernel follows unless told otherwise: the oracle's (Debian 12). */
export const DEFAULT_KERNEL_RELEASE = "6.1.0";

/** "6.18.0" (or "6.18", "6.18.44-foo") as [major, minor, patch]. */
export function parseKernelRelease(release: string): readonly [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:[-+~].*)?$/.exec(release);
  if (!m) throw new Error(`Cannot parse kernel release "${release}": expected MAJOR.MINOR[.PATCH]`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** The simulated kernel. */
export class Kernel {
  /** Virtual time and timers. */
  readonly loop = new EventLoop();
  /** The only source of randomness. */
  readonly random: Random;
  /** Number of possible CPUs. */
  readonly cpus: number;
  /** The Linux release followed where releases differ (KernelOptions.release). */
  readonly release: string;
  readonly #version: readonly [number, number, number];
  /** Every live namespace, in creation order; the first is init_net. */
  readonly namespaces: NetNamespace[] = [];
  /** The initial namespace. */
  readonly initNet: NetNamespace;
  /** netdev_chain. */
  readonly netdevChain = new NotifierChain<NetdevNotification>();
  /** inetaddr_chain: an IPv4 address was added (UP) or removed (DOWN). */
  readonly inetaddrChain = new NotifierChain<AddrNotification<Inet4AddrInfo>>();
  /** inetaddr_validator_chain: runs before an IPv4 address is added; throw KernelError to refuse. */
  readonly inetaddrValidatorChain = new NotifierChain<AddrNotification<Inet4AddrInfo>>();
  /** inet6addr_chain. */
  readonly inet6addrChain = new NotifierChain<AddrNotification<Inet6AddrInfo>>();
  /** inet6addr_validator_chain. */
  readonly inet6addrValidatorChain = new NotifierChain<AddrNotification<Inet6AddrInfo>>();
  /** Registered link kinds (rtnl_link_register). */
  readonly linkKinds = new Map<string, RtnlLinkOps>();
  /** ptype_base: EtherType → handler. */
  readonly protocols = new Map<number, ProtocolHandler>();
  /** pernet_operations, in registration order. */
  readonly pernet: PernetOps[] = [];
  /** The kernel log ring (dmesg). */
  readonly log: LogLine[] = [];
  /** Console log level (dmesg -n). */
  consoleLevel = 7;
  #inum = 0xf0000000;

  constructor(options: KernelOptions = {}) {
    this.random = new Random(options.seed ?? 1);
    this.cpus = options.cpus ?? 2;
    this.release = options.release ?? DEFAULT_KERNEL_RELEASE;
    this.#version = parseKernelRelease(this.release);
    this.initNet = new NetNamespace(this, this.#inum++, null);
    this.namespaces.push(this.initNet);
  }

  /** True when the followed release is MAJOR.MINOR or later (for behaviour that changed there). */
  releaseAtLeast(major: number, minor: number): boolean {
    const [ma, mi] = this.#version;
    return ma > major || (ma === major && mi >= minor);
  }

  /** Current virtual time (ns since boot). */
  get now(): bigint {
    return this.loop.now;
  }

  /** Registers a pernet subsystem and runs its init on every existing namespace. */
  registerPernet(ops: PernetOps): void {
    this.pernet.push(ops);
    for (const net of this.namespaces) ops.init(net);
  }

  /** Registers a link kind (rtnl_link_register). */
  registerLinkKind(ops: RtnlLinkOps): void {
    this.linkKinds.set(ops.kind, ops);
  }

  /** Registers the handler of one EtherType (dev_add_pack). */
  registerProtocol(ethertype: number, handler: ProtocolHandler): void {
    this.protocols.set(ethertype, handler);
  }

  /** Creates a namespace (copy_net_ns): runs every pernet init (which creates `lo` among others). */
  createNamespace(name: string | null): NetNamespace {
    const net = new NetNamespace(this, this.#inum++, name);
    this.namespaces.push(net);
    for (const ops of this.pernet) ops.init(net);
    return net;
  }

  /** Marks a namespace dead after pernet exits ran (cleanup_net); callers unregister devices first. */
  destroyNamespace(net: NetNamespace): void {
    for (const ops of [...this.pernet].reverse()) ops.exit?.(net);
    net.dead = true;
    const i = this.namespaces.indexOf(net);
    if (i >= 0) this.namespaces.splice(i, 1);
    for (const other of this.namespaces) other.nsids.delete(net);
  }

  /** Appends a line to the kernel log (printk). */
  printk(text: string): void {
    this.log.push({ time: this.now, text });
  }

  /** The kernel log time stamp of a line, as dmesg prints it ("[    1.234567]"). */
  static stamp(time: bigint): string {
    const sec = time / NSEC_PER_SEC;
    const usec = (time % NSEC_PER_SEC) / 1000n;
    return `[${sec.toString().padStart(5, " ")}.${usec.toString().padStart(6, "0")}]`;
  }
}
