/**
 * Network namespaces of the real kernel, entered per thread: setns(2) with CLONE_NEWNET moves
 * only the calling thread, so a synchronous section can create sockets and TAP devices in a
 * namespace and come back. Sockets and tun fds keep the namespace they were created in
 * (pitfall 8), whatever thread uses them later.
 */
import { CLONE_NEWNET, O_CLOEXEC, O_RDONLY } from "./abi.ts";
import { check, raw, sysClose, sysOpen } from "./libc.ts";

/** A namespace reference: a name under /run/netns (as `ip netns` makes), an absolute path, or null for "here". */
export type NetnsRef = string | null;

/** The file that names a namespace: `/run/netns/NAME`, or the path itself when absolute. */
export function netnsPath(ns: string): string {
  return ns.startsWith("/") ? ns : `/run/netns/${ns}`;
}

/**
 * Runs `fn` with the calling thread inside `ns` (setns(2), CLONE_NEWNET), then returns the thread
 * to the namespace it was in. `fn` must be synchronous: nothing else may run on the thread meanwhile.
 * If the thread cannot return, the process is in an unknown state and the error says so.
 */
export function withNetns<T>(ns: NetnsRef, fn: () => T): T {
  if (ns === null) return fn();
  const target = sysOpen(netnsPath(ns), O_RDONLY | O_CLOEXEC);
  try {
    return withNetnsFd(target, fn, `"${ns}"`);
  } finally {
    sysClose(target);
  }
}

/** {@link withNetns} for a namespace fd (e.g. from TUNGETDEVNETNS); the fd stays open. */
export function withNetnsFd<T>(fd: number, fn: () => T, label = `fd ${fd}`): T {
  const self = sysOpen("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  try {
    check(raw.setns(fd, CLONE_NEWNET), `enter network namespace ${label}`);
    try {
      return fn();
    } finally {
      check(raw.setns(self, CLONE_NEWNET), `return from network namespace ${label} (thread ${raw.gettid()})`);
    }
  } finally {
    sysClose(self);
  }
}
