/**
 * The forwarding loop: one epoll set over the master's packet socket, the slaves' TAP fds and a
 * control fd; every ready source is drained (up to a budget, for fairness) and each frame is
 * switched and written out, with the virtio-net header relayed unchanged. Runs on the Worker
 * (worker.ts) but has no thread assumptions itself, so a benchmark may drive it directly.
 *
 * Costs per frame (system calls dominate on this VM): master → slave = 0 receive calls (ring)
 * + 1 TAP write; slave → master = 1 TAP read + 1/batch sendmmsg; slave → slave = 1 read + 1 write;
 * plus one epoll_wait and one EAGAIN read per wake-up.
 */
import { EPOLLERR, EPOLLHUP } from "./abi.ts";
import { Counters, PlaneCounter, PortCounter } from "./counters.ts";
import { Epoll } from "./epoll.ts";
import { lastErrno, raw } from "./libc.ts";
import { type FrameSink, type PacketSocket, RX_VLAN_STRIPPED } from "./packet-socket.ts";
import { type FrameSwitch, MASTER_PORT, MAX_PORT, type PortId } from "./switch.ts";
import { SLOT_SIZE, TxBatch } from "./tx-batch.ts";

/** The epoll token of the control fd. */
const CONTROL_TOKEN = 0xffff_ffff;
const VNET = 10;

const RX_FRAMES = PortCounter.RX_FRAMES;
const RX_BYTES = PortCounter.RX_BYTES;
const TX_FRAMES = PortCounter.TX_FRAMES;
const TX_BYTES = PortCounter.TX_BYTES;
const TX_ERRORS = PortCounter.TX_ERRORS;
const SWITCH_DROPS = PortCounter.SWITCH_DROPS;
const RX_ERRORS = PortCounter.RX_ERRORS;
const PER_PORT = 8;

/** Tuning of {@link Forwarder}. */
export interface ForwarderOptions {
  /** Frames taken from one source before looking at the others (default 64). */
  readonly budget?: number;
  /** Slave-to-master frames sent per sendmmsg (default 32). */
  readonly batch?: number;
}

/** What {@link Forwarder.poll} saw besides frames. */
export interface PollResult {
  /** The control fd was readable. */
  control: boolean;
  /** Slave ports whose TAP failed (device gone) and were taken out of the loop. */
  readonly dead: PortId[];
  /** errno the master socket reported (ENETDOWN: master down or deleted), or 0. */
  masterError: number;
}

/** The loop state: ports, switch, counters. */
export class Forwarder {
  readonly #epoll: Epoll;
  readonly #master: PacketSocket;
  readonly #sw: FrameSwitch;
  readonly #c: Float64Array;
  readonly #tapFd = new Int32Array(MAX_PORT + 1).fill(-1);
  readonly #tx: TxBatch;
  readonly #budget: number;
  readonly #onMaster: FrameSink;
  readonly #result: PollResult = { control: false, dead: [], masterError: 0 };

  constructor(master: PacketSocket, sw: FrameSwitch, counters: Counters, options: ForwarderOptions = {}) {
    this.#master = master;
    this.#sw = sw;
    this.#c = counters.slots;
    this.#budget = options.budget ?? 64;
    this.#tx = new TxBatch(options.batch ?? 32);
    this.#epoll = new Epoll(64);
    this.#epoll.add(master.fd, MASTER_PORT);
    this.#onMaster = (pkt, info) => this.#fromMaster(pkt, info);
  }

  /** Watches a control fd (an eventfd the daemon signals); {@link poll} reports it. */
  addControl(fd: number): void {
    this.#epoll.add(fd, CONTROL_TOKEN);
  }

  /** Adds a slave port; tells the switch first so no frame arrives from an unknown port. */
  addTap(port: PortId, fd: number, name: string): void {
    if (port <= MASTER_PORT || port > MAX_PORT)
      throw new RangeError(`Cannot use port ${port}: 1 to ${MAX_PORT}`);
    if (this.#tapFd[port] >= 0) throw new RangeError(`Cannot add port ${port}: in use`);
    this.#sw.control({ type: "port-added", port, name });
    this.#c.fill(0, port * PER_PORT, (port + 1) * PER_PORT);
    this.#tapFd[port] = fd;
    this.#epoll.add(fd, port);
  }

  /** Removes a slave port (the fd stays open: the caller owns it). */
  removeTap(port: PortId): void {
    const fd = this.#tapFd[port];
    if (fd < 0) return;
    this.#tapFd[port] = -1;
    try {
      this.#epoll.delete(fd);
    } catch {
      // Already gone with its device.
    }
    this.#sw.control({ type: "port-removed", port });
  }

  /** The switch (control messages go straight to it on this thread). */
  get switch(): FrameSwitch {
    return this.#sw;
  }

  /**
   * Waits up to `timeoutMs` (-1: forever) for readiness and moves every frame that is ready.
   * The result object is reused between calls.
   */
  poll(timeoutMs: number): PollResult {
    const r = this.#result;
    r.control = false;
    r.dead.length = 0;
    r.masterError = 0;
    const ep = this.#epoll;
    const n = ep.wait(timeoutMs);
    if (n <= 0) return r; // timeout, or EINTR: the caller loops
    this.#c[Counters.plane(PlaneCounter.WAKEUPS)]++;
    for (let i = 0; i < n; i++) {
      const token = ep.token(i);
      if (token === CONTROL_TOKEN) r.control = true;
      else if (token === MASTER_PORT) {
        if ((ep.events(i) & EPOLLERR) !== 0) {
          // ENETDOWN when the master goes down or away: reading SO_ERROR clears it (no spin).
          r.masterError = this.#master.takeError();
          this.#c[Counters.plane(PlaneCounter.MASTER_ERRORS)]++;
        }
        this.#master.receive(this.#onMaster, this.#budget * 4);
      } else if (this.#tapFd[token] >= 0) {
        if (!this.#fromTap(token) || (ep.events(i) & (EPOLLERR | EPOLLHUP)) !== 0) {
          this.removeTap(token);
          r.dead.push(token);
        }
      }
    }
    return r;
  }

  /** Frees the loop's resources (not the master socket nor the TAP fds). */
  close(): void {
    this.#epoll.close();
    this.#tx.close();
  }

  #fromMaster(pkt: Uint8Array, info: number): void {
    const c = this.#c;
    const len = pkt.length;
    c[RX_FRAMES]++;
    c[RX_BYTES] += len - VNET;
    if ((info & RX_VLAN_STRIPPED) !== 0 || len <= VNET) {
      c[RX_ERRORS]++;
      return;
    }
    const acts = this.#sw.forward(MASTER_PORT, pkt.subarray(VNET));
    if (acts.length === 0) {
      c[SWITCH_DROPS]++;
      return;
    }
    for (let k = 0; k < acts.length; k++) {
      const to = acts[k];
      const fd = to === MASTER_PORT ? -1 : this.#tapFd[to];
      const b = to * PER_PORT;
      if (fd < 0 || raw.write(fd, pkt, len) < 0) c[b + TX_ERRORS]++;
      else {
        c[b + TX_FRAMES]++;
        c[b + TX_BYTES] += len - VNET;
      }
    }
  }

  /** Drains one TAP; false when its fd failed for another reason than "nothing queued". */
  #fromTap(port: PortId): boolean {
    const c = this.#c;
    const tx = this.#tx;
    const fd = this.#tapFd[port];
    const base = port * PER_PORT;
    let ok = true;
    for (let k = 0; k < this.#budget; k++) {
      const slot = tx.count;
      const n = raw.read(fd, tx.addrs[slot], SLOT_SIZE);
      if (n < 0) {
        ok = lastErrnoIsAgain();
        break;
      }
      if (n <= VNET + 14) {
        c[base + RX_ERRORS]++;
        continue;
      }
      c[base + RX_FRAMES]++;
      c[base + RX_BYTES] += n - VNET;
      const off = tx.offset(slot);
      const acts = this.#sw.forward(port, tx.bytes.subarray(off + VNET, off + n));
      if (acts.length === 0) {
        c[base + SWITCH_DROPS]++;
        continue;
      }
      let toMaster = false;
      for (let j = 0; j < acts.length; j++) {
        const to = acts[j];
        if (to === MASTER_PORT) {
          toMaster = true;
          continue;
        }
        const out = to === port ? -1 : this.#tapFd[to];
        const b = to * PER_PORT;
        if (out < 0 || raw.write(out, tx.addrs[slot], n) < 0) c[b + TX_ERRORS]++;
        else {
          c[b + TX_FRAMES]++;
          c[b + TX_BYTES] += n - VNET;
        }
      }
      if (toMaster) {
        tx.commit(n);
        if (tx.full) this.#flush();
      }
    }
    this.#flush();
    return ok;
  }

  #flush(): void {
    if (this.#tx.count === 0) return;
    const c = this.#c;
    const r = this.#tx.flush(this.#master.fd);
    c[TX_FRAMES] += r.sent;
    c[TX_BYTES] += r.bytes;
    c[TX_ERRORS] += r.failed;
    c[Counters.plane(PlaneCounter.MASTER_BATCHES)]++;
  }
}

const EAGAIN = 11;

function lastErrnoIsAgain(): boolean {
  return lastErrno() === EAGAIN;
}
