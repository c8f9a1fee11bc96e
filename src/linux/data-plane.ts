/**
 * The real data plane of one master, as the daemon drives it: a forwarding Worker (worker.ts)
 * owning the master's packet socket and the epoll loop, TAP slaves the daemon creates or
 * re-attaches and hands over by fd, the switch configured by messages, and the master's nftables
 * isolation kept in step with the slave addresses.
 *
 * Control reaches the blocked Worker through an eventfd plus a MessagePort it drains
 * synchronously; counters come back through shared memory without waking it.
 */
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { type Ipv4Addr, type Ipv6Addr, parseIpv4, parseIpv6 } from "../wire/index.ts";
import { Counters, newCounterBuffer, type PortCounters } from "./counters.ts";
import { EventFd } from "./epoll.ts";
import { errnoError } from "./errors.ts";
import type { ForwarderOptions } from "./forwarder.ts";
import { MasterIsolation } from "./isolation.ts";
import type { NetnsRef } from "./netns.ts";
import type { RxMode } from "./packet-socket.ts";
import type { WorkerInit, WorkerNotice, WorkerRequest } from "./protocol.ts";
import { MASTER_PORT, MAX_PORT, type PortId, type SwitchControl } from "./switch.ts";
import { TAP_DEFAULT_OFFLOADS, Tap } from "./tap.ts";

const here = import.meta.url;
const sibling = (name: string) => new URL(`./${name}${here.endsWith(".ts") ? ".ts" : ".js"}`, here);

/** URL of the temporary stand-in switch module (TODO(#5): kept for comparison benchmarks). */
export const STANDIN_SWITCH_MODULE = sibling("standin-switch").href;

/** How to start a data plane. */
export interface DataPlaneOptions {
  /** The master interface. */
  readonly master: string;
  /** The master's namespace (null: the daemon's). */
  readonly netns?: NetnsRef;
  /** Master receive path (default: packet-socket.ts DEFAULT_RX_MODE). */
  readonly rx?: RxMode;
  /**
   * URL of the switch module the Worker loads (see switch.ts). The backend does not pick one:
   * src/cli passes the ipvlan engine adapter (src/cli/real/index.ts: IPVLAN_SWITCH_MODULE).
   */
  readonly switchModule: string;
  /** Passed to the switch's createSwitch as `config`. */
  readonly switchConfig?: unknown;
  /**
   * Install the nftables isolation of the master's stack (default true). An existing table (from a
   * previous daemon) is adopted as it is; call {@link DataPlane.syncIsolation} once every slave
   * address is back, to drop stale ones.
   */
  readonly isolation?: boolean;
  /** Forwarding loop tuning. */
  readonly forwarder?: ForwarderOptions;
  /** PACKET_QDISC_BYPASS on the master socket (default false: pitfall 6). */
  readonly qdiscBypass?: boolean;
}

/** How to add a slave. */
export interface SlaveOptions {
  /** TAP name. */
  readonly name: string;
  /** Where the TAP is (to create it: where to create it). */
  readonly netns?: NetnsRef;
  /** "create" a new persistent TAP with the master's MAC and MTU, or "attach" to an existing one. */
  readonly mode?: "create" | "attach";
  /** TUN_F_* offloads (default checksum + TSO). */
  readonly offloads?: number;
}

/** A slave port of a running data plane. */
export interface Slave {
  /** Port number in the switch. */
  readonly port: PortId;
  /** The TAP. */
  readonly tap: Tap;
}

/** A parsed slave address: what the switch receives. */
export type SlaveAddr =
  | { readonly family: 4; readonly addr: Ipv4Addr }
  | { readonly family: 6; readonly addr: Ipv6Addr };

/** Parses "10.0.0.10" or "fd00::10". */
export function parseSlaveAddr(text: string): SlaveAddr {
  return text.includes(":") ? { family: 6, addr: parseIpv6(text) } : { family: 4, addr: parseIpv4(text) };
}

/** One master's real data plane. */
export class DataPlane {
  /** The master interface, its namespace, index, MTU and MAC as the Worker found them. */
  readonly master: string;
  readonly netns: NetnsRef;
  readonly masterIfindex: number;
  readonly masterMtu: number;
  readonly masterMac: number;
  /** Thread id of the forwarding thread (for `top -H`, perf). */
  readonly workerTid: number;
  readonly #worker: Worker;
  readonly #requests: MessagePort;
  readonly #control: EventFd;
  readonly #counters: Counters;
  #isolation: MasterIsolation | null = null;
  readonly #slaves = new Map<PortId, Slave>();
  readonly #addrs = new Map<string, PortId>();
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  readonly #exited: Promise<number>;
  #stopped = false;
  #workerGone = false;
  /** Called when the Worker reports slave ports whose TAP failed (device deleted). */
  onDeadPorts: ((ports: readonly PortId[]) => void) | null = null;
  /** Called when the master socket reports an error (ENETDOWN: master down, or deleted). */
  onMasterError: ((errno: number) => void) | null = null;

  private constructor(
    o: DataPlaneOptions,
    ready: Extract<WorkerNotice, { type: "ready" }>,
    worker: Worker,
    requests: MessagePort,
    control: EventFd,
    counters: Counters,
    exited: Promise<number>,
  ) {
    this.master = o.master;
    this.netns = o.netns ?? null;
    this.masterIfindex = ready.ifindex;
    this.masterMtu = ready.mtu;
    this.masterMac = ready.mac;
    this.workerTid = ready.tid;
    this.#worker = worker;
    this.#requests = requests;
    this.#control = control;
    this.#counters = counters;
    this.#exited = exited;
    worker.on("message", (n: WorkerNotice) => this.#notice(n));
    void exited.then((code) => {
      this.#workerGone = true;
      for (const p of this.#pending.values())
        p.reject(new Error(`Cannot reach the data plane of "${this.master}": worker exited (${code})`));
      this.#pending.clear();
    });
  }

  /** Starts the Worker, waits until it holds the master socket, installs the isolation. */
  static async start(o: DataPlaneOptions): Promise<DataPlane> {
    const control = new EventFd();
    const channel = new MessageChannel();
    const buffer = newCounterBuffer();
    const init: WorkerInit = {
      master: {
        ifname: o.master,
        netns: o.netns ?? null,
        ...(o.rx ? { rx: o.rx } : {}),
        qdiscBypass: o.qdiscBypass ?? false,
      },
      switchModule: o.switchModule,
      switchConfig: o.switchConfig ?? null,
      controlFd: control.fd,
      counters: buffer,
      forwarder: o.forwarder ?? {},
      requests: channel.port2,
    };
    const worker = new Worker(sibling("worker"), { workerData: init, transferList: [channel.port2] });
    const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
    let onError: (e: Error) => void = () => undefined;
    let onExit: (code: number) => void = () => undefined;
    let ready: Extract<WorkerNotice, { type: "ready" }>;
    try {
      ready = await new Promise((resolve, reject) => {
        onError = reject;
        onExit = (code) =>
          reject(new Error(`Cannot start the data plane of "${o.master}": worker exited (${code})`));
        worker.once("error", onError);
        worker.once("exit", onExit);
        worker.once("message", (n: WorkerNotice) => {
          if (n.type === "ready") resolve(n);
        });
      });
    } catch (e) {
      control.close();
      channel.port1.close();
      throw e;
    } finally {
      worker.off("error", onError);
      worker.off("exit", onExit);
    }
    // Later Worker failures surface as rejected requests (see the constructor).
    worker.on("error", () => undefined);
    const plane = new DataPlane(o, ready, worker, channel.port1, control, new Counters(buffer), exited);
    if (o.isolation ?? true) {
      try {
        plane.#isolation = await MasterIsolation.open(o.master, o.netns ?? null);
      } catch (e) {
        await plane.stop();
        throw e;
      }
    }
    return plane;
  }

  /** The isolation table, when installed. */
  get isolation(): MasterIsolation | null {
    return this.#isolation;
  }

  /** Creates or attaches a TAP slave and adds it to the switch. */
  async addSlave(o: SlaveOptions): Promise<Slave> {
    const port = this.#freePort();
    const tap =
      (o.mode ?? "create") === "create"
        ? Tap.create({
            name: o.name,
            netns: o.netns ?? null,
            mac: this.masterMac,
            mtu: this.masterMtu,
            offloads: o.offloads ?? TAP_DEFAULT_OFFLOADS,
          })
        : Tap.attach({ name: o.name, netns: o.netns ?? null, offloads: o.offloads ?? TAP_DEFAULT_OFFLOADS });
    const slave: Slave = { port, tap };
    this.#slaves.set(port, slave);
    try {
      await this.#request({ op: "add-tap", port, fd: tap.fd, name: tap.name });
    } catch (e) {
      this.#slaves.delete(port);
      if ((o.mode ?? "create") === "create") tap.destroy();
      else tap.close();
      throw e;
    }
    return slave;
  }

  /** Takes a slave out of the switch; `destroy` also deletes the TAP, otherwise it persists. */
  async removeSlave(port: PortId, options: { readonly destroy?: boolean } = {}): Promise<void> {
    const slave = this.#slaves.get(port);
    if (slave === undefined) throw errnoError(19, `remove port ${port}: no such slave`);
    await this.#request({ op: "remove-tap", port });
    this.#slaves.delete(port);
    const gone = [...this.#addrs].filter(([, p]) => p === port).map(([a]) => a);
    for (const a of gone) this.#addrs.delete(a);
    if (gone.length > 0) await this.#isolation?.delete(...gone);
    if (options.destroy) slave.tap.destroy();
    else slave.tap.close();
  }

  /** The slaves by port. */
  get slaves(): ReadonlyMap<PortId, Slave> {
    return this.#slaves;
  }

  /** Assigns an address to a slave: the switch learns it, the master's stack stops seeing it. */
  async addAddress(port: PortId, text: string): Promise<void> {
    if (!this.#slaves.has(port)) throw errnoError(19, `add address ${text}: no port ${port}`);
    const a = parseSlaveAddr(text);
    const owner = this.#addrs.get(text);
    if (owner !== undefined && owner !== port)
      throw errnoError(98, `add address ${text}: port ${owner} has it`);
    await this.#request({
      op: "switch",
      message: { type: "addr-add", port, family: a.family, addr: a.addr },
    });
    this.#addrs.set(text, port);
    await this.#isolation?.add(text);
  }

  /** Removes a slave address. */
  async deleteAddress(port: PortId, text: string): Promise<void> {
    const a = parseSlaveAddr(text);
    await this.#request({
      op: "switch",
      message: { type: "addr-del", port, family: a.family, addr: a.addr },
    });
    this.#addrs.delete(text);
    await this.#isolation?.delete(text);
  }

  /** Makes the isolation sets hold exactly the slave addresses this data plane knows. */
  async syncIsolation(): Promise<void> {
    await this.#isolation?.sync([...this.#addrs.keys()]);
  }

  /** Sends a message to the switch; resolves with its reply. */
  controlSwitch(message: SwitchControl): Promise<unknown> {
    return this.#request({ op: "switch", message });
  }

  /** The switch's own counters (drop reasons). */
  switchCounters(): Promise<Readonly<Record<string, number>>> {
    return this.#request({ op: "switch-counters" }) as Promise<Readonly<Record<string, number>>>;
  }

  /** PACKET_STATISTICS of the master socket since the last call (kernel-side ring drops). */
  masterSocketStats(): Promise<{ packets: number; drops: number; truncated: number }> {
    return this.#request({ op: "master-stats" }) as Promise<{
      packets: number;
      drops: number;
      truncated: number;
    }>;
  }

  /** Per-port counters, read from shared memory (no round trip). */
  counters(port: PortId = MASTER_PORT): PortCounters {
    return this.#counters.port(port);
  }

  /**
   * Stops forwarding and frees the Worker. TAPs persist (close) unless `destroySlaves`; the
   * isolation table is removed unless `keepIsolation` (a restarting daemon keeps it).
   */
  async stop(
    options: { readonly destroySlaves?: boolean; readonly keepIsolation?: boolean } = {},
  ): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#request({ op: "stop" });
    } catch {
      // The Worker is already gone (or broken): make sure.
      await this.#worker.terminate();
    }
    this.#stopped = true;
    await this.#exited;
    this.#requests.close();
    this.#control.close();
    for (const s of this.#slaves.values()) {
      try {
        if (options.destroySlaves) s.tap.destroy();
        else s.tap.close();
      } catch {
        // A TAP deleted under us (its namespace went away).
      }
    }
    this.#slaves.clear();
    if (!options.keepIsolation) await this.#isolation?.destroy().catch(() => undefined);
  }

  #freePort(): PortId {
    for (let p = 1; p <= MAX_PORT; p++) if (!this.#slaves.has(p)) return p;
    throw errnoError(28, "add a slave: every port number is in use");
  }

  #request(body: DistributiveOmit<WorkerRequest, "id">): Promise<unknown> {
    if (this.#stopped || this.#workerGone)
      return Promise.reject(new Error(`Cannot reach the data plane of "${this.master}": stopped`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#requests.postMessage({ ...body, id });
      this.#control.signal();
    });
  }

  #notice(n: WorkerNotice): void {
    if (n.type === "reply") {
      const p = this.#pending.get(n.id);
      if (p === undefined) return;
      this.#pending.delete(n.id);
      if (n.ok) p.resolve(n.value);
      else p.reject(Object.assign(new Error(n.error.message), n.error.code ? { code: n.error.code } : {}));
    } else if (n.type === "dead") {
      for (const port of n.ports) {
        const s = this.#slaves.get(port);
        this.#slaves.delete(port);
        try {
          s?.tap.close();
        } catch {
          // Already closed.
        }
      }
      this.onDeadPorts?.(n.ports);
    } else if (n.type === "master-error") {
      this.onMasterError?.(n.errno);
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
