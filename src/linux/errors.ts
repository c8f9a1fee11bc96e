/**
 * Errors of real system calls: a failing call becomes a {@link KernelError} when its errno has a
 * name in the kernel's table (callers branch on `code` exactly as with the simulated kernel),
 * otherwise a {@link LinuxError} carrying the bare number.
 */
import { Errno, type ErrnoName, KernelError, strerror } from "../kernel/index.ts";

const NAMES = new Map<number, ErrnoName>();
for (const [name, value] of Object.entries(Errno)) NAMES.set(value, name as ErrnoName);

/** A failed system call whose errno the kernel's table does not name. */
export class LinuxError extends Error {
  /** errno number. */
  readonly errno: number;
  /** "E<number>", for callers that branch on `code` regardless of the class. */
  readonly code: string;

  constructor(errno: number, message: string) {
    super(message);
    this.name = "LinuxError";
    this.errno = errno;
    this.code = `E${errno}`;
  }
}

/** The error a failed call surfaces: "Cannot <what>: <strerror>", with errno and code attached. */
export function errnoError(errno: number, what: string): KernelError | LinuxError {
  const message = `Cannot ${what}: ${strerror(errno)}`;
  const name = NAMES.get(errno);
  if (name === undefined) return new LinuxError(errno, message);
  const e = new KernelError(name);
  e.message = message;
  return e;
}

/** The errno name of a number ("EAGAIN"), or "E<n>" when the table has none. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E${errno}`;
}

/** Whether `e` is a system-call error with this errno name. */
export function isErrno(e: unknown, code: ErrnoName): boolean {
  return (e instanceof KernelError || e instanceof LinuxError) && e.errno === Errno[code];
}
