/**
 * epoll(7) and eventfd(2) for the forwarding thread. The event array lives in stable memory
 * (struct epoll_event is packed: u32 events + u64 data = 12 bytes); each fd is registered with
 * a 32-bit token in the low half of `data`.
 */
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_EVENT_SIZE, EPOLLIN } from "./abi.ts";
import { allocStable, check, freeStable, lastErrno, raw, type StableMemory, sysEventfd } from "./libc.ts";

/** An epoll instance with a fixed-size event array. */
export class Epoll {
  /** The epoll fd. */
  readonly fd: number;
  readonly #events: StableMemory;
  readonly #max: number;
  readonly #ctl = new Uint8Array(EPOLL_EVENT_SIZE);

  constructor(maxEvents = 64) {
    this.fd = check(raw.epollCreate1(EPOLL_CLOEXEC), "create an epoll instance");
    this.#max = maxEvents;
    this.#events = allocStable(maxEvents * EPOLL_EVENT_SIZE);
  }

  /** EPOLL_CTL_ADD, level-triggered EPOLLIN by default. */
  add(fd: number, token: number, events = EPOLLIN): void {
    const v = new DataView(this.#ctl.buffer);
    v.setUint32(0, events >>> 0, true);
    v.setUint32(4, token >>> 0, true);
    v.setUint32(8, 0, true);
    check(raw.epollCtl(this.fd, EPOLL_CTL_ADD, fd, this.#ctl), `add fd ${fd} to epoll`);
  }

  /** EPOLL_CTL_DEL. */
  delete(fd: number): void {
    check(raw.epollCtl(this.fd, EPOLL_CTL_DEL, fd, null), `remove fd ${fd} from epoll`);
  }

  /** epoll_wait(2): number of ready events, or -errno (-EINTR on a signal). Blocks when timeout < 0. */
  wait(timeoutMs: number): number {
    const n = raw.epollWait(this.fd, this.#events.addr, this.#max, timeoutMs);
    return n < 0 ? -lastErrno() : n;
  }

  /** The token of ready event `i` after {@link wait}. */
  token(i: number): number {
    return this.#events.view.getUint32(i * EPOLL_EVENT_SIZE + 4, true);
  }

  /** The event bits of ready event `i`. */
  events(i: number): number {
    return this.#events.view.getUint32(i * EPOLL_EVENT_SIZE, true);
  }

  /** Closes the instance. */
  close(): void {
    raw.close(this.fd);
    freeStable(this.#events);
  }
}

/** An eventfd: a counter one thread bumps to wake another blocked in epoll_wait. */
export class EventFd {
  /** The fd (non-blocking). */
  readonly fd: number;
  readonly #buf = new BigUint64Array(1);
  readonly #bytes = new Uint8Array(this.#buf.buffer);

  constructor(fd?: number) {
    this.fd = fd ?? sysEventfd();
  }

  /** Adds 1 (wakes pollers). */
  signal(): void {
    this.#buf[0] = 1n;
    raw.write(this.fd, this.#bytes, 8);
  }

  /** Reads and resets the counter; 0 when it was already 0. */
  drain(): number {
    const n = raw.read(this.fd, this.#bytes, 8);
    return n === 8 ? Number(this.#buf[0]) : 0;
  }

  /** Closes the fd. */
  close(): void {
    raw.close(this.fd);
  }
}
