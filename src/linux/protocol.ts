/**
 * Messages between the daemon thread (data-plane.ts) and the forwarding Worker (worker.ts).
 * The Worker spends its life blocked in epoll_wait and never runs its event loop, so requests
 * travel on a MessagePort it drains synchronously (receiveMessageOnPort) when the daemon bumps
 * the control eventfd; replies and notices go back with an ordinary postMessage.
 */
import type { MessagePort } from "node:worker_threads";
import type { ForwarderOptions } from "./forwarder.ts";
import type { PacketSocketOptions } from "./packet-socket.ts";
import type { PortId, SwitchControl } from "./switch.ts";

/** workerData of the forwarding Worker. */
export interface WorkerInit {
  /** How to open the master socket (the Worker opens it, inside the master's namespace). */
  readonly master: PacketSocketOptions;
  /** URL of the module exporting `createSwitch` (a {@link SwitchModule}). */
  readonly switchModule: string;
  /** Passed to createSwitch as `config`. */
  readonly switchConfig: unknown;
  /** The eventfd the daemon signals after posting a request. */
  readonly controlFd: number;
  /** The shared counter area (counters.ts). */
  readonly counters: SharedArrayBuffer;
  /** Loop tuning. */
  readonly forwarder: ForwarderOptions;
  /** Where requests arrive. */
  readonly requests: MessagePort;
}

/** A request to the Worker. */
export type WorkerRequest =
  | {
      readonly id: number;
      readonly op: "add-tap";
      readonly port: PortId;
      readonly fd: number;
      readonly name: string;
    }
  | { readonly id: number; readonly op: "remove-tap"; readonly port: PortId }
  | { readonly id: number; readonly op: "switch"; readonly message: SwitchControl }
  | { readonly id: number; readonly op: "switch-counters" }
  | { readonly id: number; readonly op: "master-stats" }
  | { readonly id: number; readonly op: "stop" };

/** What the Worker posts. */
export type WorkerNotice =
  | {
      readonly type: "ready";
      readonly ifindex: number;
      readonly mtu: number;
      readonly mac: number;
      readonly tid: number;
    }
  | { readonly type: "reply"; readonly id: number; readonly ok: true; readonly value: unknown }
  | {
      readonly type: "reply";
      readonly id: number;
      readonly ok: false;
      readonly error: { readonly message: string; readonly code?: string };
    }
  | { readonly type: "dead"; readonly ports: readonly PortId[] }
  | { readonly type: "master-error"; readonly errno: number }
  | { readonly type: "stopped" };
