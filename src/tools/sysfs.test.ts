import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel, devOpen, type Kernel, type NetNamespace } from "../kernel/index.ts";
import { parseMac } from "../wire/index.ts";
import type { ToolContext } from "./context.ts";
import { catSysMain, sysfsKind, sysfsRead } from "./sysfs.ts";

function cat(
  kernel: Kernel,
  net: NetNamespace,
  ...argv: string[]
): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const ctx: ToolContext = {
    kernel,
    net,
    argv,
    stdin: new Uint8Array(0),
    out: (s) => (out += s),
    err: (s) => (err += s),
  };
  return { code: catSysMain(ctx), out, err };
}

function setup(): { k: Kernel; ns: NetNamespace } {
  const k = bootKernel();
  const ns = k.createNamespace("ext");
  k.linkKinds.get("veth")!.newLink(k.initNet, {
    name: "eth0",
    address: parseMac("02:00:00:00:00:02"),
    peer: { name: "ext0", netns: ns, address: parseMac("02:00:00:00:00:01") },
  });
  return { k, ns };
}

test("device attributes read as net-sysfs formats them", () => {
  const { k, ns } = setup();
  const eth0 = k.initNet.dev("eth0")!;
  devOpen(eth0);
  devOpen(ns.dev("ext0")!);
  devOpen(k.initNet.loopback);
  k.loop.settle();
  const read = (p: string) => cat(k, k.initNet, "cat", p).out;
  assert.equal(read("/sys/class/net/eth0/address"), "02:00:00:00:00:02\n");
  assert.equal(read("/sys/class/net/eth0/broadcast"), "ff:ff:ff:ff:ff:ff\n");
  assert.equal(read("/sys/class/net/eth0/dev_id"), "0x0\n");
  assert.equal(read("/sys/class/net/eth0/flags"), "0x1003\n");
  assert.equal(read("/sys/class/net/eth0/operstate"), "up\n");
  assert.equal(read("/sys/class/net/eth0/carrier"), "1\n");
  assert.equal(read("/sys/class/net/eth0/mtu"), "1500\n");
  assert.equal(read("/sys/class/net/eth0/type"), "1\n");
  assert.equal(read("/sys/class/net/eth0/iflink"), `${ns.dev("ext0")!.ifindex}\n`);
  assert.equal(read("/sys/class/net/eth0/ifindex"), `${eth0.ifindex}\n`);
  assert.equal(read("/sys/class/net/eth0/statistics/tx_dropped"), "0\n");
  assert.equal(read("/sys/class/net/eth0/uevent"), `INTERFACE=eth0\nIFINDEX=${eth0.ifindex}\n`);
  assert.equal(read("/sys/devices/virtual/net/eth0/speed"), "10000\n");
  assert.equal(read("/sys/class/net/lo/operstate"), "unknown\n");
  assert.equal(read("/sys/class/net/lo/flags"), "0x9\n");
  // Several files in one cat.
  assert.equal(
    cat(k, k.initNet, "cat", "/sys/class/net/eth0/mtu", "/sys/class/net/lo/mtu").out,
    "1500\n65536\n",
  );
});

test("per-namespace view, errors as cat prints them", () => {
  const { k, ns } = setup();
  assert.equal(cat(k, ns, "cat", "/sys/class/net/ext0/address").out, "02:00:00:00:00:01\n");
  assert.deepEqual(cat(k, k.initNet, "cat", "/sys/class/net/ext0/address"), {
    code: 1,
    out: "",
    err: "cat: /sys/class/net/ext0/address: No such file or directory\n",
  });
  assert.equal(
    cat(k, k.initNet, "cat", "/sys/class/net/eth0").err,
    "cat: /sys/class/net/eth0: Is a directory\n",
  );
  // carrier of a device that is down: EINVAL.
  assert.deepEqual(cat(k, k.initNet, "cat", "/sys/class/net/eth0/carrier"), {
    code: 1,
    out: "",
    err: "cat: /sys/class/net/eth0/carrier: Invalid argument\n",
  });
  assert.equal(cat(k, k.initNet, "cat", "/sys/class/net/eth0/operstate").out, "down\n");
});

test("test -e/-f/-d and /proc/sys", () => {
  const { k } = setup();
  const t = (op: string, p: string) => cat(k, k.initNet, "test", op, p).code;
  assert.equal(t("-e", "/sys/class/net/eth0"), 0);
  assert.equal(t("-d", "/sys/class/net/eth0"), 0);
  assert.equal(t("-f", "/sys/class/net/eth0"), 1);
  assert.equal(t("-f", "/sys/class/net/eth0/address"), 0);
  assert.equal(t("-e", "/sys/class/net/nosuch"), 1);
  assert.equal(t("-e", "/sys/class/net/../net/eth0/mtu"), 0);
  k.initNet.sysctl.set("net.ipv4.ip_forward", "1");
  assert.equal(cat(k, k.initNet, "cat", "/proc/sys/net/ipv4/ip_forward").out, "1\n");
  assert.equal(sysfsKind(k, k.initNet, "/proc/sys/net/ipv4"), "dir");
  assert.deepEqual(sysfsRead(k, k.initNet, "/proc/sys/kernel/ostype"), { ok: true, text: "Linux\n" });
});
