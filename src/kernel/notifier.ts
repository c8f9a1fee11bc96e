/**
 * Notifier chains (include/linux/notifier.h): ordered callbacks that subsystems register to
 * hear about device and address events. A callback may veto by throwing a KernelError, which
 * propagates to whoever raised the event (the validator chains rely on that).
 */

/** One registered callback with its priority (higher runs first, as in Linux). */
interface Entry<E> {
  readonly fn: (event: E) => void;
  readonly priority: number;
}

/** An ordered list of callbacks. */
export class NotifierChain<E> {
  #entries: Entry<E>[] = [];

  /** Registers fn; higher priority runs first, equal priority in registration order. */
  register(fn: (event: E) => void, priority = 0): void {
    const i = this.#entries.findIndex((e) => e.priority < priority);
    const entry = { fn, priority };
    if (i < 0) this.#entries.push(entry);
    else this.#entries.splice(i, 0, entry);
  }

  /** Removes fn. */
  unregister(fn: (event: E) => void): void {
    this.#entries = this.#entries.filter((e) => e.fn !== fn);
  }

  /** Calls every callback in order; a throw stops the chain and propagates. */
  call(event: E): void {
    for (const e of [...this.#entries]) e.fn(event);
  }
}

/** Netdevice notifier events (include/linux/netdevice.h: enum netdev_cmd). */
export const NetdevEvent = {
  UP: "UP",
  DOWN: "DOWN",
  GOING_DOWN: "GOING_DOWN",
  CHANGE: "CHANGE",
  REGISTER: "REGISTER",
  UNREGISTER: "UNREGISTER",
  CHANGEMTU: "CHANGEMTU",
  PRECHANGEMTU: "PRECHANGEMTU",
  CHANGEADDR: "CHANGEADDR",
  PRE_CHANGEADDR: "PRE_CHANGEADDR",
  CHANGENAME: "CHANGENAME",
  FEAT_CHANGE: "FEAT_CHANGE",
  PRE_UP: "PRE_UP",
  PRE_TYPE_CHANGE: "PRE_TYPE_CHANGE",
  NOTIFY_PEERS: "NOTIFY_PEERS",
  CHANGEUPPER: "CHANGEUPPER",
  RESEND_IGMP: "RESEND_IGMP",
  CHANGE_TX_QUEUE_LEN: "CHANGE_TX_QUEUE_LEN",
} as const;

/** One netdev event name. */
export type NetdevEventName = (typeof NetdevEvent)[keyof typeof NetdevEvent];
