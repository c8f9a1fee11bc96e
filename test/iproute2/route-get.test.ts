/** `ip route get`: what the kernel's answer carries decides what ip prints (rt6_fill_node). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel, ipv4Init, ipv6Init } from "../../src/kernel/index.ts";
import { runIp } from "./run-ip.ts";

test("ip -6 route get ... iif: RTA_IIF instead of a source address (router.out)", async () => {
  const k = bootKernel({ seed: 1 });
  ipv4Init(k);
  ipv6Init(k);
  for (const line of [
    "link add r0 type dummy",
    "link add r1 type dummy",
    "link set r0 up",
    "link set r1 up",
    "addr add 2001:db8:81::1/64 dev r0 nodad",
    "addr add 2001:db8:82::1/64 dev r1 nodad",
  ]) {
    assert.equal((await runIp(k, line.split(" "))).rc, 0, line);
  }
  k.initNet.sysctl.set("net.ipv6.conf.all.forwarding", "1");
  const viaIif = await runIp(k, "-6 route get 2001:db8:82::2 from 2001:db8:81::2 iif r0".split(" "));
  assert.equal(
    viaIif.stdout,
    "2001:db8:82::2 from 2001:db8:81::2 dev r1 proto kernel metric 256 iif r0 pref medium\n",
  );
  const out = await runIp(k, "-6 route get 2001:db8:82::2".split(" "));
  assert.match(
    out.stdout,
    /^2001:db8:82::2 from :: dev r1 proto kernel src 2001:db8:82::1 metric 256 pref medium\n$/,
  );
});
