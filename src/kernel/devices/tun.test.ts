import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel } from "../boot.ts";
import { createTun } from "./tun.ts";

test("txqueuelen: a tun keeps TUN_READQ_SIZE (500), a tap gets ether_setup's 1000 (links.out)", () => {
  const k = bootKernel();
  assert.equal(createTun(k.initNet, k, "tun0", "tun").txqlen, 500);
  assert.equal(createTun(k.initNet, k, "tap0", "tap").txqlen, 1000);
});
