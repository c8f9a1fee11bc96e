/**
 * The contract between the real data plane's I/O machinery and whatever decides where frames
 * go: by default the ipvlan engine (src/cli/real/ipvlan-switch.ts, loaded by URL), or the
 * stand-in of standin-switch.ts.
 *
 * The switch runs synchronously on the forwarding thread, inside the epoll loop: it is created
 * there from a module URL ({@link SwitchModule}), receives configuration as plain messages
 * ({@link SwitchControl}), and answers one question per frame. It never performs I/O.
 */

/** A port of the data plane: {@link MASTER_PORT} or a slave (TAP) number from 1 up. */
export type PortId = number;

/** The master's port number. */
export const MASTER_PORT: PortId = 0;

/** Largest port number (the statistics area is sized for it). */
export const MAX_PORT: PortId = 1023;

/**
 * Where a frame goes: the ports to send it out of, in order; empty means drop. Implementations
 * return shared, preallocated arrays (one per destination set) so the data path allocates nothing;
 * the data plane never mutates them.
 */
export type SwitchActions = readonly PortId[];

/** The empty action list: drop. */
export const DROP: SwitchActions = Object.freeze([]);

/** A configuration message for the switch (ports, addresses, mode...). `type` tells them apart. */
export interface SwitchControl {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** What the data plane tells every switch about its ports (before any frame of a new port). */
export type PortEvent =
  | { readonly type: "port-added"; readonly port: PortId; readonly name: string }
  | { readonly type: "port-removed"; readonly port: PortId };

/** Facts about the master the switch is created with. */
export interface SwitchInit {
  /** The master's link-layer address (TAP slaves share it). */
  readonly masterMac: number;
  /** The master's MTU. */
  readonly masterMtu: number;
  /** Free-form configuration from the daemon (e.g. mode and flags). */
  readonly config: unknown;
}

/** The decision maker plugged into the forwarding loop. */
export interface FrameSwitch {
  /**
   * Decides where a frame received on `source` goes. `frame` starts at the Ethernet header (the
   * virtio-net header is relayed unchanged and not shown), is valid only during the call, and may
   * be rewritten in place (same length) — e.g. to rebuild an L2 header in l3 mode.
   */
  forward(source: PortId, frame: Uint8Array): SwitchActions;
  /** Applies a configuration message; the reply goes back to the daemon (structured-clonable). */
  control(message: SwitchControl | PortEvent): unknown;
  /** Named drop counters and other numbers, for `stats()`. */
  counters(): Readonly<Record<string, number>>;
}

/** The shape of a module the forwarding thread loads a switch from. */
export interface SwitchModule {
  /** Builds the switch for one master. */
  createSwitch(init: SwitchInit): FrameSwitch;
}
