import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel, type Kernel, NSEC_PER_MSEC } from "../kernel/index.ts";
import type { ToolContext } from "./context.ts";
import { dmesgMain, parseConsoleLevel } from "./dmesg.ts";

function run(kernel: Kernel, ...argv: string[]): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const ctx: ToolContext = {
    kernel,
    net: kernel.initNet,
    argv,
    stdin: new Uint8Array(0),
    out: (s) => (out += s),
    err: (s) => (err += s),
  };
  return { code: dmesgMain(ctx), out, err };
}

test("lines with [seconds.micros] stamps; -t drops them; -c clears after printing; -C clears", () => {
  const k = bootKernel();
  k.loop.runUntil(1234567n * 1000n);
  k.printk("lo: Master is either lo or non-ether device");
  k.loop.runUntil(k.now + 5n * NSEC_PER_MSEC);
  k.printk("d1: Device is already in use.");
  assert.deepEqual(run(k), {
    code: 0,
    out: "[    1.234567] lo: Master is either lo or non-ether device\n[    1.239567] d1: Device is already in use.\n",
    err: "",
  });
  assert.equal(
    run(k, "-t").out,
    "lo: Master is either lo or non-ether device\nd1: Device is already in use.\n",
  );
  assert.equal(
    run(k, "-r").out.split("\n")[0],
    "<6>[    1.234567] lo: Master is either lo or non-ether device",
  );
  assert.equal(run(k, "-c").out.split("\n").length, 3);
  assert.equal(run(k).out, "");
  k.printk("x");
  assert.deepEqual(run(k, "-C"), { code: 0, out: "", err: "" });
  assert.equal(k.log.length, 0);
});

test("-n sets the console level silently; names count from 1; bad levels fail", () => {
  const k = bootKernel();
  assert.deepEqual(run(k, "-n", "1"), { code: 0, out: "", err: "" });
  assert.equal(k.consoleLevel, 1);
  assert.equal(run(k, "-n", "err").code, 0);
  assert.equal(k.consoleLevel, 4);
  assert.deepEqual(run(k, "-n", "9"), { code: 1, out: "", err: "dmesg: unknown level '9'\n" });
  assert.equal(parseConsoleLevel("0"), null);
  assert.equal(parseConsoleLevel("debug"), 8);
  assert.equal(
    run(k, "-n").err,
    "dmesg: option requires an argument -- 'n'\nTry 'dmesg --help' for more information.\n",
  );
});
