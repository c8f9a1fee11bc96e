/**
 * Typed per-object extension slots. Subsystems hang their state on namespaces and devices
 * (Linux's `net->ipv4`, `dev->ip_ptr`, `dev->ip6_ptr`) without the core importing them.
 */

/** A typed key; create one per subsystem with {@link slotKey}. */
export interface SlotKey<T> {
  readonly name: string;
  /** Phantom field carrying the value type. */
  readonly _type?: T;
}

/** Creates a key for a slot holding values of type T. */
export function slotKey<T>(name: string): SlotKey<T> {
  return { name };
}

/** A bag of typed slots. */
export class Slots {
  #values = new Map<SlotKey<unknown>, unknown>();

  /** The value in a slot, or undefined. */
  get<T>(key: SlotKey<T>): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  /** The value in a slot; throws if the subsystem never initialised it (a programming error). */
  must<T>(key: SlotKey<T>): T {
    const v = this.#values.get(key);
    if (v === undefined) throw new Error(`Cannot read slot "${key.name}": not initialised`);
    return v as T;
  }

  /** Stores a value in a slot. */
  set<T>(key: SlotKey<T>, value: T): void {
    this.#values.set(key, value);
  }

  /** Empties a slot. */
  delete<T>(key: SlotKey<T>): void {
    this.#values.delete(key);
  }
}
