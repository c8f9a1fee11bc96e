/** `ip neigh get` (neigh_get) and `ip -br neigh` (print_neigh_brief), as neigh.out recorded them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel, ipv4Init } from "../../src/kernel/index.ts";
import { runIp } from "./run-ip.ts";

async function setup() {
  const k = bootKernel({ seed: 1 });
  ipv4Init(k);
  for (const line of [
    "link add d0 type dummy",
    "link set d0 up",
    "addr add 10.0.5.1/24 dev d0",
    "neigh add 10.0.5.7 lladdr 02:00:00:00:05:07 dev d0",
    "neigh add 10.0.5.9 lladdr 02:00:00:00:05:09 dev d0 nud noarp",
  ]) {
    assert.equal((await runIp(k, line.split(" "))).rc, 0, line);
  }
  return k;
}

test("ip neigh get: the entry with its device (any state, NOARP too); a missing one is ENOENT", async () => {
  const k = await setup();
  const noarp = await runIp(k, "neigh get 10.0.5.9 dev d0".split(" "));
  assert.deepEqual(noarp, { stdout: "10.0.5.9 dev d0 lladdr 02:00:00:00:05:09 NOARP \n", stderr: "", rc: 0 });
  const missing = await runIp(k, "neigh get 10.0.5.99 dev d0".split(" "));
  assert.deepEqual(missing, { stdout: "", stderr: "Error: Neighbour entry not found.\n", rc: 2 });
  const usage = await runIp(k, "neigh get 10.0.5.9".split(" "));
  assert.deepEqual([usage.stderr, usage.rc], ["Device and address are required arguments.\n", 255]);
});

test("ip -br neigh: dst %-39s, dev %-16s, lladdr", async () => {
  const k = await setup();
  const out = await runIp(k, "-br neigh".split(" "));
  assert.equal(out.stdout, `${"10.0.5.7".padEnd(39)} ${"d0".padEnd(16)} 02:00:00:00:05:07\n`);
});
