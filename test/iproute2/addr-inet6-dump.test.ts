/** `ip -6 addr show` without a device: links come from the AF_INET6 link dump (inet6_fill_ifinfo). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel, ipv4Init, ipv6Init } from "../../src/kernel/index.ts";
import { runIp } from "./run-ip.ts";

test("ip -6 addr show: the reduced link line, no @ifN when the veth peer has the same ifindex (addrs.out)", async () => {
  const k = bootKernel({ seed: 1 });
  ipv4Init(k);
  ipv6Init(k);
  for (const line of [
    "netns add a",
    "netns add b",
    "-n a link add v0 type veth peer name v1 netns b",
    "-n a link set v0 up",
    "-n b link set v1 up",
  ]) {
    assert.equal((await runIp(k, line.split(" "))).rc, 0, line);
  }
  const dump = await runIp(k, "-n a -6 addr show scope link".split(" "));
  assert.match(
    dump.stdout,
    /^2: v0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP qlen 1000\n {4}inet6 fe80::/,
  );
  const one = await runIp(k, "-n a -6 addr show dev v0".split(" "));
  assert.match(one.stdout, /^2: v0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP /);
});
