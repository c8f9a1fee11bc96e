import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel, ipv4Init, type Kernel, type NetNamespace } from "../kernel/index.ts";
import type { ToolContext } from "./context.ts";
import { sysctlMain } from "./sysctl.ts";

function run(
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
  return { code: sysctlMain(ctx), out, err };
}

function kernelWithIpv4(): Kernel {
  const k = bootKernel();
  ipv4Init(k);
  return k;
}

test("read, -n, write with and without -w, -q", () => {
  const k = kernelWithIpv4();
  const net = k.createNamespace("x");
  assert.deepEqual(run(k, net, "net.ipv4.ip_forward"), {
    code: 0,
    out: "net.ipv4.ip_forward = 0\n",
    err: "",
  });
  assert.deepEqual(run(k, net, "-w", "net.ipv4.ip_forward=1"), {
    code: 0,
    out: "net.ipv4.ip_forward = 1\n",
    err: "",
  });
  assert.deepEqual(run(k, net, "-n", "net.ipv4.ip_forward"), { code: 0, out: "1\n", err: "" });
  assert.deepEqual(run(k, net, "net.ipv4.ip_forward=0"), {
    code: 0,
    out: "net.ipv4.ip_forward = 0\n",
    err: "",
  });
  assert.deepEqual(run(k, net, "-qw", "net.ipv4.icmp_echo_ignore_broadcasts=0"), {
    code: 0,
    out: "",
    err: "",
  });
  assert.equal(net.sysctl.get("net.ipv4.icmp_echo_ignore_broadcasts"), "0");
  // Per namespace: the initial namespace kept its value.
  assert.equal(k.initNet.sysctl.get("net.ipv4.icmp_echo_ignore_broadcasts"), "1");
  assert.deepEqual(run(k, net, "net/ipv4/ip_forward").out, "net.ipv4.ip_forward = 0\n");
  assert.deepEqual(
    run(k, net, "net.ipv4.ip_local_port_range").out,
    "net.ipv4.ip_local_port_range = 32768\t60999\n",
  );
});

test("errors as procps 4.0.2 prints them (exit 1); -e ignores unknown keys", () => {
  const k = kernelWithIpv4();
  const net = k.initNet;
  assert.deepEqual(run(k, net, "net.ipv4.foo"), {
    code: 1,
    out: "",
    err: "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory\n",
  });
  assert.equal(run(k, net, "-qw", "net.ipv4.foo=1").code, 1);
  assert.deepEqual(run(k, net, "-e", "net.ipv4.foo"), { code: 0, out: "", err: "" });
  assert.deepEqual(run(k, net, "-w", "net.ipv4.ip_forward=abc"), {
    code: 1,
    out: "",
    err: 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n',
  });
  assert.deepEqual(run(k, net, "-w", "net.ipv4.ip_forward"), {
    code: 1,
    out: "",
    err: "sysctl: command line(0): invalid syntax, continuing...\n",
  });
  assert.equal(
    run(k, net, "-x").err,
    "sysctl: no variables specified\nTry `sysctl --help' for more information.\n",
  );
});

test("a directory lists its subtree, sorted per component; device names with dots use '/'", () => {
  const k = kernelWithIpv4();
  const net = k.initNet;
  const r = run(k, net, "net.ipv4.conf.all");
  assert.equal(r.code, 0);
  const lines = r.out.trim().split("\n");
  assert.equal(lines[0], "net.ipv4.conf.all.accept_local = 0");
  assert.ok(lines.every((l) => l.startsWith("net.ipv4.conf.all.")));
  net.sysctl.set("net.ipv4.conf.eth0.100.rp_filter", "2");
  assert.equal(run(k, net, "net.ipv4.conf.eth0/100.rp_filter").out, "net.ipv4.conf.eth0/100.rp_filter = 2\n");
});

test("kernel.printk follows the console level", () => {
  const k = kernelWithIpv4();
  assert.equal(run(k, k.initNet, "kernel.printk").out, "kernel.printk = 7\t4\t1\t7\n");
  assert.equal(run(k, k.initNet, "-w", "kernel.printk=1 4 1 7").code, 0);
  assert.equal(k.consoleLevel, 1);
});
