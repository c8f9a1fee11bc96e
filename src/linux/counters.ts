/**
 * Data-plane counters in a SharedArrayBuffer: the forwarding thread bumps them with plain stores
 * (it is the only writer), the daemon reads them at any time without waking the thread.
 */
import { MAX_PORT, type PortId } from "./switch.ts";

/** Per-port counter slots. */
export const PortCounter = {
  RX_FRAMES: 0,
  RX_BYTES: 1,
  TX_FRAMES: 2,
  TX_BYTES: 3,
  /** Transmit calls that failed (frame lost). */
  TX_ERRORS: 4,
  /** Frames received here that the switch dropped. */
  SWITCH_DROPS: 5,
  /** Frames received here the data plane could not handle (truncated, VLAN-stripped). */
  RX_ERRORS: 6,
} as const;
const PER_PORT = 8;

/** Whole-plane counter slots, after the port area. */
export const PlaneCounter = {
  /** epoll_wait returns. */
  WAKEUPS: 0,
  /** sendmmsg calls on the master. */
  MASTER_BATCHES: 1,
  /** Control messages handled. */
  CONTROLS: 2,
  /** Errors reported on the master socket (ENETDOWN). */
  MASTER_ERRORS: 3,
} as const;
const GLOBALS = 8;

/** One port's counters as numbers. */
export interface PortCounters {
  readonly rxFrames: number;
  readonly rxBytes: number;
  readonly txFrames: number;
  readonly txBytes: number;
  readonly txErrors: number;
  readonly switchDrops: number;
  readonly rxErrors: number;
}

/** Allocates the shared counter area. */
export function newCounterBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(((MAX_PORT + 1) * PER_PORT + GLOBALS) * 8);
}

/** Typed access to the shared counter area. */
export class Counters {
  /** The raw slots (for the forwarding thread's hot path). */
  readonly slots: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new Float64Array(buffer);
  }

  /** Index of a port counter. */
  static at(port: PortId, counter: number): number {
    return port * PER_PORT + counter;
  }

  /** Index of a whole-plane counter. */
  static plane(counter: number): number {
    return (MAX_PORT + 1) * PER_PORT + counter;
  }

  /** A port's counters. */
  port(port: PortId): PortCounters {
    const s = this.slots;
    const b = port * PER_PORT;
    return {
      rxFrames: s[b + PortCounter.RX_FRAMES],
      rxBytes: s[b + PortCounter.RX_BYTES],
      txFrames: s[b + PortCounter.TX_FRAMES],
      txBytes: s[b + PortCounter.TX_BYTES],
      txErrors: s[b + PortCounter.TX_ERRORS],
      switchDrops: s[b + PortCounter.SWITCH_DROPS],
      rxErrors: s[b + PortCounter.RX_ERRORS],
    };
  }

  /** Zeroes a port's counters (when its number is reused). */
  resetPort(port: PortId): void {
    this.slots.fill(0, port * PER_PORT, (port + 1) * PER_PORT);
  }

  /** A whole-plane counter. */
  plane(counter: number): number {
    return this.slots[Counters.plane(counter)];
  }
}
