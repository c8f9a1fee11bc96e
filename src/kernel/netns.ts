/**
 * struct net: a network namespace. It owns its devices (by ifindex and by name), its sysctl
 * values, its packet taps and the ids it has given to peer namespaces (netnsid); protocol
 * subsystems keep their per-namespace state in `slots` (net->ipv4, net->ipv6, net->nf ...).
 */
import type { Kernel } from "./kernel.ts";
import type { NetDevice } from "./netdev.ts";
import type { SkBuff } from "./skb.ts";
import { Slots } from "./slots.ts";

/** Direction of a frame seen by a packet tap. */
export type TapDirection = "in" | "out";

/** An AF_PACKET listener (what tcpdump opens): sees frames on one device or on all (dev null). */
export interface PacketTap {
  readonly dev: NetDevice | null;
  readonly deliver: (skb: SkBuff, dir: TapDirection) => void;
}

/**
 * The sysctl values of a namespace: a plain map whose writes also run the registered handlers,
 * as a proc_handler does (writing net.ipv4.ip_forward changes every device's forwarding).
 */
export class SysctlMap extends Map<string, string> {
  #handlers: ((key: string, value: string) => void)[] = [];

  /** Registers a handler run after every write (it filters the keys it cares about). */
  onWrite(fn: (key: string, value: string) => void): void {
    this.#handlers.push(fn);
  }

  override set(key: string, value: string): this {
    super.set(key, value);
    for (const h of this.#handlers) h(key, value);
    return this;
  }
}

/** A network namespace. */
export class NetNamespace {
  /** The kernel this namespace belongs to. */
  readonly kernel: Kernel;
  /** Inode-like unique number (for ordering and debugging). */
  readonly inum: number;
  /** The `ip netns` name, if it has one (the initial namespace has none). */
  name: string | null;
  /** Devices by ifindex. */
  readonly devices = new Map<number, NetDevice>();
  /** Devices by name. */
  readonly byName = new Map<string, NetDevice>();
  /** net->ifindex: the last ifindex handed out by dev_new_index. */
  ifindexCounter = 0;
  /** sysctl values under net.* for this namespace, keyed by dotted name. */
  readonly sysctl = new SysctlMap();
  /** Packet taps (AF_PACKET sockets). */
  readonly taps = new Set<PacketTap>();
  /** Per-namespace state of protocol subsystems. */
  readonly slots = new Slots();
  /** netnsid this namespace assigned to peers (peernet2id). */
  readonly nsids = new Map<NetNamespace, number>();
  /** Whether cleanup_net has run. */
  dead = false;

  constructor(kernel: Kernel, inum: number, name: string | null) {
    this.kernel = kernel;
    this.inum = inum;
    this.name = name;
  }

  /** The loopback device (always ifindex 1). */
  get loopback(): NetDevice {
    return this.devices.get(1)!;
  }

  /** A device by name, or undefined. */
  dev(name: string): NetDevice | undefined {
    return this.byName.get(name);
  }

  /** Devices in ifindex order (the order `ip link` dumps them). */
  devicesInOrder(): NetDevice[] {
    return [...this.devices.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  /** peernet2id: the id this namespace knows `peer` by, or -1 (NETNSA_NSID_NOT_ASSIGNED). */
  peerId(peer: NetNamespace): number {
    return this.nsids.get(peer) ?? -1;
  }

  /** peernet2id_alloc: the id of `peer`, allocating the smallest free one if needed. */
  peerIdAlloc(peer: NetNamespace): number {
    const have = this.nsids.get(peer);
    if (have !== undefined) return have;
    const used = new Set(this.nsids.values());
    let id = 0;
    while (used.has(id)) id++;
    this.nsids.set(peer, id);
    return id;
  }

  /** Reads a sysctl value (undefined if it does not exist in this namespace). */
  getSysctl(key: string): string | undefined {
    return this.sysctl.get(key);
  }

  /** A numeric sysctl value (0 if absent). */
  sysctlInt(key: string): number {
    return Number.parseInt(this.sysctl.get(key) ?? "0", 10);
  }
}
