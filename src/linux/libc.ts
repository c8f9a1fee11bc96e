/**
 * koffi bindings to the glibc system-call wrappers the real backend needs. Two flavours:
 * `raw.*` returns what the C function returns (the data path branches on -1 and reads
 * {@link lastErrno}, allocating nothing); the exported functions throw an errno error
 * ({@link errnoError}) and serve the control path. Each koffi module instance is per thread:
 * a Worker importing this file loads its own handle.
 *
 * Pointers are BigInt (koffi 3). A `Buf` is either a BigInt address of stable memory
 * ({@link allocStable}) or a Uint8Array whose bytes koffi passes in place.
 */
import koffi from "koffi";
import { EFD_CLOEXEC, EFD_NONBLOCK } from "./abi.ts";
import { errnoError } from "./errors.ts";

/** Memory a call reads or writes: a stable address or a typed array. */
export type Buf = bigint | Uint8Array | null;

const libc = koffi.load("libc.so.6");

/** The C functions, returning what C returns (-1 and errno on failure). */
export const raw = {
  /** open(2). */
  open: libc.func("int open(const char *path, int flags, int mode)") as (
    p: string,
    f: number,
    m: number,
  ) => number,
  /** close(2). */
  close: libc.func("int close(int fd)") as (fd: number) => number,
  /** read(2). */
  read: libc.func("long read(int fd, void *buf, size_t count)") as (fd: number, b: Buf, n: number) => number,
  /** write(2). */
  write: libc.func("long write(int fd, void *buf, size_t count)") as (
    fd: number,
    b: Buf,
    n: number,
  ) => number,
  /** readv(2). */
  readv: libc.func("long readv(int fd, void *iov, int iovcnt)") as (
    fd: number,
    iov: Buf,
    n: number,
  ) => number,
  /** writev(2). */
  writev: libc.func("long writev(int fd, void *iov, int iovcnt)") as (
    fd: number,
    iov: Buf,
    n: number,
  ) => number,
  /** ioctl(2) with a pointer argument (struct ifreq, int *). */
  ioctlPtr: libc.func("int ioctl(int fd, unsigned long request, void *arg)") as (
    fd: number,
    req: number,
    arg: Buf,
  ) => number,
  /** ioctl(2) with an integer argument (TUNSETPERSIST, TUNSETOFFLOAD, TUNSETOWNER). */
  ioctlVal: libc.func("int ioctl(int fd, unsigned long request, unsigned long arg)") as (
    fd: number,
    req: number,
    arg: number,
  ) => number,
  /** socket(2). */
  socket: libc.func("int socket(int domain, int type, int protocol)") as (
    d: number,
    t: number,
    p: number,
  ) => number,
  /** bind(2). */
  bind: libc.func("int bind(int fd, void *addr, uint32_t addrlen)") as (
    fd: number,
    a: Buf,
    n: number,
  ) => number,
  /** setsockopt(2). */
  setsockopt: libc.func("int setsockopt(int fd, int level, int name, void *val, uint32_t len)") as (
    fd: number,
    level: number,
    name: number,
    val: Buf,
    len: number,
  ) => number,
  /** getsockopt(2); `len` is a one-element Uint32Array (in: capacity, out: length). */
  getsockopt: libc.func("int getsockopt(int fd, int level, int name, void *val, void *len)") as (
    fd: number,
    level: number,
    name: number,
    val: Buf,
    len: Uint32Array,
  ) => number,
  /** mmap(2); returns the address, or 2^64-1 (MAP_FAILED). */
  mmap: libc.func("uintptr_t mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)") as (
    a: Buf,
    len: number,
    prot: number,
    flags: number,
    fd: number,
    off: number,
  ) => bigint | number,
  /** munmap(2). */
  munmap: libc.func("int munmap(uintptr_t addr, size_t len)") as (a: bigint, len: number) => number,
  /** epoll_create1(2). */
  epollCreate1: libc.func("int epoll_create1(int flags)") as (flags: number) => number,
  /** epoll_ctl(2); `ev` is a packed 12-byte struct epoll_event. */
  epollCtl: libc.func("int epoll_ctl(int epfd, int op, int fd, void *ev)") as (
    ep: number,
    op: number,
    fd: number,
    ev: Buf,
  ) => number,
  /** epoll_wait(2). */
  epollWait: libc.func("int epoll_wait(int epfd, void *events, int max, int timeout)") as (
    ep: number,
    ev: Buf,
    max: number,
    timeoutMs: number,
  ) => number,
  /** eventfd(2). */
  eventfd: libc.func("int eventfd(unsigned int initval, int flags)") as (
    init: number,
    flags: number,
  ) => number,
  /** setns(2). */
  setns: libc.func("int setns(int fd, int nstype)") as (fd: number, nstype: number) => number,
  /** recvmmsg(2); timeout is NULL. */
  recvmmsg: libc.func("int recvmmsg(int fd, void *msgvec, unsigned int vlen, int flags, void *timeout)") as (
    fd: number,
    vec: Buf,
    vlen: number,
    flags: number,
    timeout: null,
  ) => number,
  /** sendmmsg(2). */
  sendmmsg: libc.func("int sendmmsg(int fd, void *msgvec, unsigned int vlen, int flags)") as (
    fd: number,
    vec: Buf,
    vlen: number,
    flags: number,
  ) => number,
  /** send(2). */
  send: libc.func("long send(int fd, void *buf, size_t len, int flags)") as (
    fd: number,
    b: Buf,
    n: number,
    flags: number,
  ) => number,
  /** poll(2). */
  poll: libc.func("int poll(void *fds, unsigned long nfds, int timeout)") as (
    fds: Buf,
    n: number,
    timeoutMs: number,
  ) => number,
  /** gettid(2), to tell threads apart in diagnostics. */
  gettid: libc.func("int gettid()") as () => number,
};

/** errno of the last koffi call on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Throws the errno error of the last call when `ret` is negative; returns `ret` otherwise. */
export function check(ret: number, what: string): number {
  if (ret < 0) throw errnoError(koffi.errno(), what);
  return ret;
}

/** open(2), throwing. */
export function sysOpen(path: string, flags: number): number {
  return check(raw.open(path, flags, 0), `open "${path}"`);
}

/** close(2), throwing (EBADF means a bookkeeping bug, so it is not swallowed). */
export function sysClose(fd: number): void {
  check(raw.close(fd), `close fd ${fd}`);
}

/** ioctl(2) with a pointer argument, throwing. */
export function ioctlPtr(fd: number, request: number, arg: Buf, what: string): void {
  check(raw.ioctlPtr(fd, request, arg), what);
}

/** ioctl(2) with an integer argument, throwing. */
export function ioctlVal(fd: number, request: number, arg: number, what: string): void {
  check(raw.ioctlVal(fd, request, arg), what);
}

/** socket(2), throwing. */
export function sysSocket(domain: number, type: number, protocol: number): number {
  return check(raw.socket(domain, type, protocol), `create socket(${domain}, ${type}, ${protocol})`);
}

/** setsockopt(2) with an int value, throwing. */
export function setsockoptInt(fd: number, level: number, name: number, value: number, what: string): void {
  const v = new Int32Array([value]);
  check(raw.setsockopt(fd, level, name, new Uint8Array(v.buffer), 4), what);
}

/** setsockopt(2) with a struct value, throwing. */
export function setsockoptBuf(
  fd: number,
  level: number,
  name: number,
  value: Uint8Array,
  what: string,
): void {
  check(raw.setsockopt(fd, level, name, value, value.byteLength), what);
}

/** getsockopt(2) into `out`; returns the length the kernel wrote. */
export function getsockoptBuf(
  fd: number,
  level: number,
  name: number,
  out: Uint8Array,
  what: string,
): number {
  const len = new Uint32Array([out.byteLength]);
  check(raw.getsockopt(fd, level, name, out, len), what);
  return len[0];
}

/** eventfd(2), non-blocking and close-on-exec, throwing. */
export function sysEventfd(): number {
  return check(raw.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "create eventfd");
}

/** mmap(2) of a shared file mapping (an AF_PACKET ring), throwing. */
export function sysMmap(fd: number, len: number, prot: number, flags: number): bigint {
  const addr = BigInt(raw.mmap(null, len, prot, flags, fd, 0));
  if (addr === 0xffff_ffff_ffff_ffffn) throw errnoError(koffi.errno(), `mmap ${len} bytes of fd ${fd}`);
  return addr;
}

/** munmap(2), throwing. */
export function sysMunmap(addr: bigint, len: number): void {
  check(raw.munmap(addr, len), `munmap ${len} bytes`);
}

/**
 * Memory outside the JS heap that never moves: `addr` for calls, `bytes` to read and write it.
 * Used for buffers the kernel keeps addresses of between calls (iovecs, ring, mmsghdr arrays).
 */
export interface StableMemory {
  /** Address of the first byte. */
  readonly addr: bigint;
  /** The bytes, viewed without copy. */
  readonly bytes: Uint8Array;
  /** Little-endian access to the same bytes. */
  readonly view: DataView;
}

/** Allocates `len` bytes of stable memory (koffi.alloc; freed only with {@link freeStable}). */
export function allocStable(len: number): StableMemory {
  const ptr = koffi.alloc("uint8_t", len);
  const addr = BigInt(koffi.address(ptr));
  return viewStable(addr, len);
}

/** Views `len` bytes at `addr` (mmap'd memory, koffi.alloc'd memory). */
export function viewStable(addr: bigint, len: number): StableMemory {
  const ab = koffi.view(addr, len);
  return { addr, bytes: new Uint8Array(ab), view: new DataView(ab) };
}

/** Frees memory from {@link allocStable}. */
export function freeStable(mem: StableMemory): void {
  koffi.free(mem.addr);
}
