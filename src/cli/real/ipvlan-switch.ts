/**
 * The real data plane's switch backed by the ipvlan engine itself (L2 mode: bridge, private,
 * vepa). Inside the forwarding Worker it boots a small "shadow" simulated kernel holding a proxy
 * of the real master and one ipvlan slave per TAP port; each real frame is injected where Linux
 * would see it (the master's receive path, or the slave's transmit path), the shadow kernel runs
 * until idle, and the ports the frame reached are the answer:
 *
 * - transmitted by the proxy master → port 0 (out of the real master);
 * - delivered up to slave N's stack (the `rxSink` hook of src/kernel) → port N (into its TAP);
 * - delivered up to the proxy master's own stack → dropped here and counted (`master_stack`):
 *   the real master's stack already saw the frame through the real kernel.
 *
 * Config (`switchConfig`): `{ mode?: "l2", flags?: "bridge" | "private" | "vepa" }` (default l2
 * bridge). l3/l3s need a shadow IP stack for routing and are not supported yet.
 *
 * Control messages: the port events, `{ type: "addr-add" | "addr-del", port, family, addr }`
 * (an address another slave holds fails with code EADDRINUSE, as ipvlan's validator does).
 */
import {
  bootKernel,
  devOpen,
  devQueueXmit,
  ethTypeTrans,
  fail,
  IFF,
  type Kernel,
  KernelError,
  NetDevice,
  NetdevTx,
  type NetdevTxValue,
  netifReceiveSkb,
  allocSkb,
  registerNetdevice,
  rtnlNewLink,
  type SkBuff,
  unregisterNetdevice,
} from "../../kernel/index.ts";
import {
  IPVLAN_F_PRIVATE,
  IPVLAN_F_VEPA,
  IPVLAN_MODE_L2,
  type IpvlDev,
  ipvlanAddAddr,
  ipvlanAddrBusy,
  ipvlanDelAddr,
  ipvlanInit,
} from "../../ipvlan/index.ts";
import {
  DROP,
  type FrameSwitch,
  MASTER_PORT,
  type PortEvent,
  type PortId,
  type SwitchActions,
  type SwitchControl,
  type SwitchInit,
} from "../../linux/index.ts";

const ETH_HLEN = 14;
const VLAN_HLEN = 4;
/** Virtual time run after each frame: covers the backlog (5 µs) and the multicast work item. */
const DRAIN_NS = 1_000_000n;

/** Configuration accepted by {@link createSwitch}. */
export interface IpvlanSwitchConfig {
  readonly mode?: "l2";
  readonly flags?: "bridge" | "private" | "vepa";
}

/** The shadow kernel's stand-in for the real master: transmitting means "out of port 0". */
class ProxyMaster extends NetDevice {
  readonly #onXmit: () => void;

  constructor(name: string, onXmit: () => void) {
    super("ipvl-proxy", name);
    this.#onXmit = onXmit;
  }

  override ndoStartXmit(_skb: SkBuff): NetdevTxValue {
    this.#onXmit();
    return NetdevTx.OK;
  }
}

/** The ipvlan engine as a {@link FrameSwitch}; see the module comment. */
export class IpvlanSwitch implements FrameSwitch {
  readonly #kernel: Kernel;
  readonly #master: ProxyMaster;
  readonly #mtu: number;
  readonly #flags: number;
  readonly #slaves = new Map<PortId, IpvlDev>();
  readonly #single: SwitchActions[] = [Object.freeze([MASTER_PORT])];
  readonly #multi = new Map<string, SwitchActions>();
  readonly #out: PortId[] = [];
  readonly #counts = { runt: 0, no_port: 0, master_stack: 0, dropped: 0 };

  constructor(init: SwitchInit) {
    const config = (init.config ?? {}) as IpvlanSwitchConfig;
    if (config.mode !== undefined && config.mode !== "l2")
      throw new KernelError(
        "EOPNOTSUPP",
        `Cannot use ipvlan mode "${String(config.mode)}": only l2 is supported`,
      );
    const flags = config.flags ?? "bridge";
    this.#flags = flags === "private" ? IPVLAN_F_PRIVATE : flags === "vepa" ? IPVLAN_F_VEPA : 0;
    this.#mtu = init.masterMtu;
    this.#kernel = bootKernel();
    ipvlanInit(this.#kernel);
    const net = this.#kernel.initNet;
    this.#master = new ProxyMaster("master", () => this.#out.push(MASTER_PORT));
    this.#master.mac = init.masterMac;
    this.#master.mtu = init.masterMtu;
    this.#master.rxSink = () => this.#counts.master_stack++;
    registerNetdevice(net, this.#master);
    devOpen(this.#master);
  }

  forward(source: PortId, frame: Uint8Array): SwitchActions {
    if (frame.length < ETH_HLEN) {
      this.#counts.runt++;
      return DROP;
    }
    this.#out.length = 0;
    if (source === MASTER_PORT) {
      const skb = allocSkb(frame, this.#master);
      skb.gso = frame.length > this.#mtu + ETH_HLEN + VLAN_HLEN;
      // What the master's driver does before handing the frame to the stack.
      ethTypeTrans(skb, this.#master);
      netifReceiveSkb(skb);
    } else {
      const slave = this.#slaves.get(source);
      if (slave === undefined) {
        this.#counts.no_port++;
        return DROP;
      }
      const skb = allocSkb(frame, slave);
      // Only a TSO/GSO frame (vnet header) can exceed the TAP's MTU.
      skb.gso = frame.length > slave.mtu + ETH_HLEN + VLAN_HLEN;
      devQueueXmit(skb);
    }
    this.#kernel.loop.runUntil(this.#kernel.now + DRAIN_NS);
    return this.#actions();
  }

  control(message: SwitchControl | PortEvent): unknown {
    switch (message.type) {
      case "port-added":
        this.#addPort(message.port as PortId);
        return true;
      case "port-removed": {
        const slave = this.#slaves.get(message.port as PortId);
        if (slave === undefined) return false;
        this.#slaves.delete(message.port as PortId);
        unregisterNetdevice(slave);
        return true;
      }
      case "addr-add": {
        const slave = this.#slaveFor(message.port);
        const ip = toIp(message);
        if (ipvlanAddrBusy(slave.port!, ip)) {
          // Re-adding to the owner is idempotent, as `ip addr add` of a held address is not ipvlan's business.
          if (slave.addrs.some((a) => (typeof ip === "bigint" ? a.ip6 === ip : a.ip4 === ip))) return true;
          fail("EADDRINUSE", "Address already assigned to an ipvlan device");
        }
        ipvlanAddAddr(slave, ip);
        return true;
      }
      case "addr-del": {
        const slave = this.#slaveFor(message.port);
        ipvlanDelAddr(slave, toIp(message));
        return true;
      }
      default:
        return false;
    }
  }

  counters(): Readonly<Record<string, number>> {
    const out: Record<string, number> = { ...this.#counts };
    const add = (dev: NetDevice) => {
      for (const [reason, n] of dev.drops) out[reason] = (out[reason] ?? 0) + n;
    };
    add(this.#master);
    for (const s of this.#slaves.values()) add(s);
    return out;
  }

  #addPort(port: PortId): void {
    if (this.#slaves.has(port)) return;
    const dev = rtnlNewLink(this.#kernel.initNet, {
      kind: "ipvlan",
      name: `ipvl${port}`,
      link: this.#master,
      infoData: { mode: IPVLAN_MODE_L2, flags: this.#flags },
    }) as IpvlDev;
    // The shadow slave has no stack to join multicast groups: accept every group (ipvlan's
    // mac_filters all set) and let the real slave's stack filter.
    dev.flags |= IFF.ALLMULTI;
    devOpen(dev);
    dev.rxSink = () => this.#out.push(port);
    this.#slaves.set(port, dev);
    this.#single[port] = Object.freeze([port]);
  }

  #slaveFor(port: unknown): IpvlDev {
    const slave = this.#slaves.get(port as PortId);
    if (slave === undefined) fail("ENODEV", `No port ${String(port)}`);
    return slave;
  }

  /** The shared action list for the ports collected in #out. */
  #actions(): SwitchActions {
    const out = this.#out;
    if (out.length === 0) {
      this.#counts.dropped++;
      return DROP;
    }
    if (out.length === 1) return this.#single[out[0]] ?? Object.freeze([out[0]]);
    const key = out.join(",");
    let a = this.#multi.get(key);
    if (a === undefined) {
      a = Object.freeze([...out]);
      this.#multi.set(key, a);
    }
    return a;
  }
}

function toIp(message: SwitchControl): number | bigint {
  return message.family === 6 ? BigInt(message.addr as bigint) : (message.addr as number) >>> 0;
}

/** The {@link SwitchModule} entry point the forwarding thread calls. */
export function createSwitch(init: SwitchInit): FrameSwitch {
  return new IpvlanSwitch(init);
}
