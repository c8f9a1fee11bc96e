/**
 * The koffi bindings on the real kernel: errno errors, eventfd + epoll wake-ups (also from
 * another thread), stable memory, and setns on the calling thread only.
 */
import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { KernelError } from "../../src/kernel/index.ts";
import {
  allocStable,
  Epoll,
  EventFd,
  errnoError,
  freeStable,
  isErrno,
  LinuxError,
  raw,
  withNetns,
} from "../../src/linux/index.ts";
import { check, sysOpen } from "../../src/linux/libc.ts";
import { realLab } from "./lab.ts";

test("a failing call surfaces as a KernelError with the errno name, or a LinuxError", () => {
  assert.throws(
    () => sysOpen("/nonexistent/ipvl", 0),
    (e: unknown) =>
      e instanceof KernelError &&
      e.code === "ENOENT" &&
      e.errno === 2 &&
      e.message === 'Cannot open "/nonexistent/ipvl": No such file or directory',
  );
  assert.throws(
    () => check(raw.close(-1), "close fd -1"),
    (e: unknown) => isErrno(e, "EBADF"),
  );
  const odd = errnoError(77, "read a TAP");
  assert.ok(odd instanceof LinuxError);
  assert.equal(odd.code, "E77");
  assert.equal(odd.message, "Cannot read a TAP: Unknown error 77");
});

test("epoll reports an eventfd signalled by this thread and by another one", async () => {
  const ep = new Epoll(4);
  const ev = new EventFd();
  try {
    ep.add(ev.fd, 7);
    assert.equal(ep.wait(0), 0);
    ev.signal();
    assert.equal(ep.wait(0), 1);
    assert.equal(ep.token(0), 7);
    assert.equal(ev.drain(), 1);
    assert.equal(ep.wait(0), 0);
    // A Worker signals while this thread blocks in epoll_wait (up to 5 s).
    const w = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       const fs = require("node:fs");
       setTimeout(() => { fs.writeSync(workerData, Buffer.from([1,0,0,0,0,0,0,0])); parentPort.postMessage("done"); }, 50);`,
      { eval: true, workerData: ev.fd },
    );
    const n = ep.wait(5000);
    assert.equal(n, 1);
    assert.equal(ep.token(0), 7);
    await new Promise((resolve) => w.once("exit", resolve));
  } finally {
    ev.close();
    ep.close();
  }
});

test("stable memory is read and written by the kernel at its BigInt address", () => {
  const mem = allocStable(16);
  const ev = new EventFd();
  try {
    mem.view.setBigUint64(0, 5n, true);
    assert.equal(raw.write(ev.fd, mem.addr, 8), 8);
    assert.equal(raw.read(ev.fd, mem.addr + 8n, 8), 8);
    assert.equal(mem.view.getBigUint64(8, true), 5n);
  } finally {
    ev.close();
    freeStable(mem);
  }
});

test("setns moves only the calling thread, and back", async (t) => {
  const lab = await realLab(t, []);
  if (lab === undefined) return;
  const ns = await lab.addNamespace("setns");
  const mine = readlinkSync("/proc/thread-self/ns/net");
  const inside = withNetns(ns, () => readlinkSync("/proc/thread-self/ns/net"));
  assert.notEqual(inside, mine);
  assert.equal(readlinkSync("/proc/thread-self/ns/net"), mine);
  assert.throws(
    () => withNetns("ipvl-no-such-namespace", () => 1),
    (e: unknown) => isErrno(e, "ENOENT"),
  );
  assert.equal(readlinkSync("/proc/thread-self/ns/net"), mine);
});
