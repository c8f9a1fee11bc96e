/** `ipvl drops` inside `ipvl run`: a user sees why ipvlan dropped a packet. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runSimScript } from "../support/run-sim.ts";

const SCRIPT = `
ip netns add ns0; ip netns add ns1
ip link add eth0 address 02:00:00:00:00:02 type veth peer name ext0
ip link set eth0 up; ip link set ext0 up
ip link add link eth0 ipvl0 type ipvlan mode l3 private
ip link add link eth0 ipvl1 type ipvlan mode l3 private
ip link set ipvl0 netns ns0; ip link set ipvl1 netns ns1
ip -n ns0 link set ipvl0 up; ip -n ns1 link set ipvl1 up
ip -n ns0 addr add 10.0.0.10/24 dev ipvl0; ip -n ns1 addr add 10.0.0.11/24 dev ipvl1
ip netns exec ns0 ping -c1 -W1 10.0.0.11 >/dev/null 2>&1; echo "ping rc=$?"
ipvl drops -n ns0 ipvl0
ipvl drops -n ns0 nosuch; echo "rc=$?"
ipvl shell; echo "rc=$?"
`;

test("ipvl drops names the private-mode drop of a sibling ping under ipvl run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ipvl-drops-"));
  try {
    writeFileSync(join(dir, "s.sh"), SCRIPT);
    const r = await runSimScript(join(dir, "s.sh"), [], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ping rc=1$/m);
    assert.match(r.stdout, /ipvl0[\s\S]*IPVLAN_PRIVATE\s+\d+/);
    assert.match(r.stderr, /Cannot find device "nosuch"/);
    assert.match(r.stdout, /^rc=1$/m);
    assert.match(r.stderr, /"shell" is not available inside ipvl run/);
    assert.match(r.stdout, /^rc=2$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
