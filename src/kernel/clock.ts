/**
 * Virtual time and the event queue. Nothing in the simulated kernel reads the wall clock: time
 * only moves when the event loop runs timers, so every run of a script is reproducible.
 * Times are bigint nanoseconds since boot.
 */

/** A scheduled callback; cancel it with {@link EventLoop.cancel}. */
export interface Timer {
  readonly at: bigint;
  readonly seq: number;
  cancelled: boolean;
  readonly fn: () => void;
}

/** Nanoseconds per unit, for readable delays. */
export const NSEC_PER_USEC = 1000n;
/** Nanoseconds per millisecond. */
export const NSEC_PER_MSEC = 1_000_000n;
/** Nanoseconds per second. */
export const NSEC_PER_SEC = 1_000_000_000n;

/** The kernel's event loop: a binary heap of timers ordered by (time, insertion order). */
export class EventLoop {
  #now = 0n;
  #seq = 0;
  #heap: Timer[] = [];

  /** The current virtual time in nanoseconds. */
  get now(): bigint {
    return this.#now;
  }

  /** Number of pending (not cancelled) timers. */
  get pending(): number {
    let n = 0;
    for (const t of this.#heap) if (!t.cancelled) n++;
    return n;
  }

  /** Runs fn after delay nanoseconds (0 = after everything already due now). */
  after(delay: bigint, fn: () => void): Timer {
    return this.at(this.#now + (delay < 0n ? 0n : delay), fn);
  }

  /** Runs fn at absolute time t (clamped to now). */
  at(t: bigint, fn: () => void): Timer {
    const timer: Timer = { at: t < this.#now ? this.#now : t, seq: this.#seq++, cancelled: false, fn };
    this.#push(timer);
    return timer;
  }

  /** Cancels a timer; cancelling twice or a fired timer is harmless. */
  cancel(timer: Timer | null | undefined): void {
    if (timer) timer.cancelled = true;
  }

  /** Runs every event due at or before `until`, then sets the clock to `until`. */
  runUntil(until: bigint): void {
    for (;;) {
      const top = this.#peek();
      if (!top || top.at > until) break;
      this.#pop();
      this.#now = top.at;
      top.fn();
    }
    if (until > this.#now) this.#now = until;
  }

  /** Runs events until `done()` holds (checked after each event) or `deadline` is reached. */
  runUntilDone(done: () => boolean, deadline: bigint): boolean {
    if (done()) return true;
    for (;;) {
      const top = this.#peek();
      if (!top || top.at > deadline) break;
      this.#pop();
      this.#now = top.at;
      top.fn();
      if (done()) return true;
    }
    if (deadline > this.#now) this.#now = deadline;
    return done();
  }

  /** Runs everything due now (zero-delay work such as queued packets), without advancing time. */
  settle(): void {
    this.runUntil(this.#now);
  }

  #peek(): Timer | undefined {
    const h = this.#heap;
    while (h.length > 0 && h[0].cancelled) this.#pop();
    return h[0];
  }

  #push(t: Timer): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): Timer | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
