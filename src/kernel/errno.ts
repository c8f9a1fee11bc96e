/**
 * Linux errno values and the glibc strerror texts iproute2 prints for them
 * ("RTNETLINK answers: File exists").
 */

/** errno numbers as on x86_64 Linux. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  EMLINK: 31,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENONET: 64,
  EPROTO: 71,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EREMOTEIO: 121,
  ENOTSUPP: 524,
} as const;

/** One errno name. */
export type ErrnoName = keyof typeof Errno;

const STRERROR: Readonly<Record<number, string>> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  3: "No such process",
  4: "Interrupted system call",
  5: "Input/output error",
  6: "No such device or address",
  7: "Argument list too long",
  9: "Bad file descriptor",
  11: "Resource temporarily unavailable",
  12: "Cannot allocate memory",
  13: "Permission denied",
  14: "Bad address",
  16: "Device or resource busy",
  17: "File exists",
  18: "Invalid cross-device link",
  19: "No such device",
  20: "Not a directory",
  21: "Is a directory",
  22: "Invalid argument",
  23: "Too many open files in system",
  24: "Too many open files",
  28: "No space left on device",
  31: "Too many links",
  34: "Numerical result out of range",
  36: "File name too long",
  64: "Machine is not on the network",
  71: "Protocol error",
  89: "Destination address required",
  90: "Message too long",
  92: "Protocol not available",
  93: "Protocol not supported",
  95: "Operation not supported",
  97: "Address family not supported by protocol",
  98: "Address already in use",
  99: "Cannot assign requested address",
  100: "Network is down",
  101: "Network is unreachable",
  105: "No buffer space available",
  107: "Transport endpoint is not connected",
  110: "Connection timed out",
  111: "Connection refused",
  112: "Host is down",
  113: "No route to host",
  121: "Remote I/O error",
};

/** glibc's strerror() text for an errno number ("Unknown error 524" for kernel-internal ones). */
export function strerror(errno: number): string {
  return STRERROR[errno] ?? `Unknown error ${errno}`;
}

/**
 * A failed kernel operation: what a syscall or netlink request returns as -errno.
 * `extack` is the netlink extended-ack message, which iproute2 prints as "Error: <extack>."
 * instead of "RTNETLINK answers: <strerror>".
 */
export class KernelError extends Error {
  /** errno number. */
  readonly errno: number;
  /** errno name, stable for callers that branch on it. */
  readonly code: ErrnoName;
  /** Netlink extended-ack text, if the kernel function set one. */
  readonly extack: string | undefined;

  constructor(code: ErrnoName, extack?: string) {
    super(extack ?? strerror(Errno[code]));
    this.name = "KernelError";
    this.errno = Errno[code];
    this.code = code;
    this.extack = extack;
  }
}

/** Shorthand: throw a KernelError. */
export function fail(code: ErrnoName, extack?: string): never {
  throw new KernelError(code, extack);
}
