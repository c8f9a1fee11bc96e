/**
 * TODO(#5): TEMPORARY stand-in for the ipvlan engine, to exercise the real data plane's I/O
 * until src/cli plugs the engine in. It knows only unicast IPv4 and ARP plus multicast flooding,
 * roughly what ipvlan's l2 bridge mode does for them (no l3/l3s, private, vepa, IPv6, address
 * validation, or statistics semantics): do not extend it, replace it.
 *
 * - From a slave: multicast goes out the master and to every other slave; unicast whose
 *   destination MAC equals its source MAC and whose IPv4 destination / ARP target is another
 *   slave's address goes to that slave; everything else goes out the master.
 * - From the master: multicast goes to every slave; unicast to the master's MAC goes to the slave
 *   owning the IPv4 destination / ARP target; the rest is dropped.
 *
 * Control messages: the {@link PortEvent}s, `{ type: "addr-add" | "addr-del", port, family, addr }`
 * (family 6 is accepted and ignored).
 */
import { readIpv4 } from "../wire/index.ts";
import {
  DROP,
  type FrameSwitch,
  MASTER_PORT,
  type PortEvent,
  type PortId,
  type SwitchActions,
  type SwitchControl,
  type SwitchInit,
} from "./switch.ts";

const ETH_P_IP = 0x0800;
const ETH_P_ARP = 0x0806;
const ETH_HLEN = 14;

/** TODO(#5): the temporary switch; see the module comment. */
export class StandinSwitch implements FrameSwitch {
  readonly #mac = new Uint8Array(6);
  readonly #slaves = new Set<PortId>();
  readonly #owner = new Map<number, PortId>();
  readonly #single: SwitchActions[] = [];
  readonly #toMaster: SwitchActions = Object.freeze([MASTER_PORT]);
  #fromMaster: SwitchActions = DROP;
  #fromSlave: SwitchActions[] = [];
  readonly #drops = { runt: 0, otherhost: 0, no_slave: 0, self: 0 };

  constructor(init: SwitchInit) {
    let m = init.masterMac;
    for (let i = 5; i >= 0; i--) {
      this.#mac[i] = m % 256;
      m = Math.floor(m / 256);
    }
  }

  forward(source: PortId, frame: Uint8Array): SwitchActions {
    if (frame.length < ETH_HLEN) {
      this.#drops.runt++;
      return DROP;
    }
    const multicast = (frame[0] & 1) !== 0;
    if (source === MASTER_PORT) {
      if (multicast) return this.#fromMaster;
      if (!this.#isMasterMac(frame)) {
        this.#drops.otherhost++;
        return DROP;
      }
      const to = this.#lookup(frame);
      if (to < 0) {
        this.#drops.no_slave++;
        return DROP;
      }
      return this.#single[to];
    }
    if (multicast) return this.#fromSlave[source] ?? this.#toMaster;
    if (sameMac(frame)) {
      const to = this.#lookup(frame);
      if (to === source) {
        this.#drops.self++;
        return DROP;
      }
      if (to > 0) return this.#single[to];
    }
    return this.#toMaster;
  }

  control(message: SwitchControl | PortEvent): unknown {
    switch (message.type) {
      case "port-added":
        this.#slaves.add(message.port as PortId);
        this.#single[message.port as PortId] = Object.freeze([message.port as PortId]);
        this.#rebuild();
        return true;
      case "port-removed":
        this.#slaves.delete(message.port as PortId);
        for (const [addr, port] of this.#owner) if (port === message.port) this.#owner.delete(addr);
        this.#rebuild();
        return true;
      case "addr-add":
        if (message.family !== 4) return false;
        this.#owner.set(message.addr as number, message.port as PortId);
        return true;
      case "addr-del":
        if (message.family !== 4) return false;
        return this.#owner.delete(message.addr as number);
      default:
        return false;
    }
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.#drops };
  }

  #rebuild(): void {
    const slaves = [...this.#slaves].sort((a, b) => a - b);
    this.#fromMaster = Object.freeze(slaves);
    this.#fromSlave = [];
    for (const s of slaves)
      this.#fromSlave[s] = Object.freeze([MASTER_PORT, ...slaves.filter((x) => x !== s)]);
  }

  #isMasterMac(frame: Uint8Array): boolean {
    const m = this.#mac;
    return (
      frame[0] === m[0] &&
      frame[1] === m[1] &&
      frame[2] === m[2] &&
      frame[3] === m[3] &&
      frame[4] === m[4] &&
      frame[5] === m[5]
    );
  }

  /** The slave owning the IPv4 destination or ARP target, or -1. */
  #lookup(frame: Uint8Array): PortId {
    const type = (frame[12] << 8) | frame[13];
    let addr: number;
    if (type === ETH_P_IP && frame.length >= ETH_HLEN + 20) addr = readIpv4(frame, ETH_HLEN + 16);
    else if (type === ETH_P_ARP && frame.length >= ETH_HLEN + 28) addr = readIpv4(frame, ETH_HLEN + 24);
    else return -1;
    return this.#owner.get(addr) ?? -1;
  }
}

function sameMac(f: Uint8Array): boolean {
  return f[0] === f[6] && f[1] === f[7] && f[2] === f[8] && f[3] === f[9] && f[4] === f[10] && f[5] === f[11];
}

/** The {@link SwitchModule} entry point the forwarding thread calls. */
export function createSwitch(init: SwitchInit): FrameSwitch {
  return new StandinSwitch(init);
}
