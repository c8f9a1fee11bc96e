/**
 * The ipvlan engine's L2 flags on the real data plane (src/cli/real/ipvlan-switch.ts): `private`
 * cuts slave-to-slave traffic but keeps the master path; `vepa` sends sibling traffic out through
 * the master (visible with tcpdump there), where only a hairpinning switch could bring it back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { baseTopology, type IpvlSetup, ping, ROUTER, realLab, SLAVE1, startIpvl } from "./lab.ts";

test("private: slave to slave fails, slave to router works", async (t) => {
  let setup: IpvlSetup | undefined;
  const lab = await realLab(t, ["ping", "nft"], async () => {
    await setup?.plane.stop({ destroySlaves: true });
  });
  if (lab === undefined) return;
  const topo = await baseTopology(lab);
  setup = await startIpvl(topo, { switchConfig: { mode: "l2", flags: "private" } });
  const sibling = await ping(topo, topo.ns0, SLAVE1, ["-c", "2", "-i", "0.2", "-W", "1"]);
  assert.equal(sibling.received, 0);
  const out = await ping(topo, topo.ns0, ROUTER, ["-c", "2", "-i", "0.2", "-W", "2"]);
  assert.equal(out.received, 2);
  const counters = await setup.plane.switchCounters();
  assert.ok((counters.IPVLAN_PRIVATE ?? 0) + (counters.dropped ?? 0) > 0, JSON.stringify(counters));
});

test("vepa: sibling traffic leaves through the master", async (t) => {
  let setup: IpvlSetup | undefined;
  const lab = await realLab(t, ["ping", "nft", "tcpdump"], async () => {
    await setup?.plane.stop({ destroySlaves: true });
  });
  if (lab === undefined) return;
  const topo = await baseTopology(lab);
  setup = await startIpvl(topo, { switchConfig: { mode: "l2", flags: "vepa" } });
  const dump = lab.spawn(topo.host, ["tcpdump", "-i", "m0", "-nn", "-l", "-p", "arp or icmp"]);
  await dump.waitForOutput(/listening on/);
  // ns1's ARP reply to ns0 is sibling traffic: out through the master, and the router does not
  // hairpin it (it is addressed to the shared MAC), so ns0 never resolves ns1.
  const sibling = await ping(topo, topo.ns0, SLAVE1, ["-c", "2", "-i", "0.2", "-W", "1"]);
  const out = await ping(topo, topo.ns0, ROUTER, ["-c", "1", "-W", "2"]);
  assert.equal(out.received, 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await dump.stop("SIGINT");
  const replies = dump.stdout.split("\n").filter((l) => l.includes(`Reply ${SLAVE1} is-at`));
  t.diagnostic(`tcpdump on m0 saw ${replies.length} sibling ARP replies`);
  assert.ok(replies.length >= 1, dump.stdout);
  assert.equal(sibling.received, 0);
});

test("bridge: IPv6 between slaves (NDP through the engine), EADDRINUSE reported", async (t) => {
  let setup: IpvlSetup | undefined;
  const lab = await realLab(t, ["ping", "nft"], async () => {
    await setup?.plane.stop({ destroySlaves: true });
  });
  if (lab === undefined) return;
  const topo = await baseTopology(lab);
  setup = await startIpvl(topo);
  const [s0, s1] = setup.slaves;
  await lab.ip(topo.ns0, "addr", "add", "fd00::10/64", "dev", "tap0", "nodad");
  await lab.ip(topo.ns1, "addr", "add", "fd00::11/64", "dev", "tap1", "nodad");
  await setup.plane.addAddress(s0.port, "fd00::10");
  await setup.plane.addAddress(s1.port, "fd00::11");
  const r = await ping(topo, topo.ns0, "fd00::11", ["-c", "2", "-i", "0.2", "-W", "2"]);
  assert.equal(r.received, 2);
  // The engine refuses a sibling's address (the data plane's own check is bypassed here).
  await assert.rejects(
    setup.plane.controlSwitch({
      type: "addr-add",
      port: s1.port,
      family: 6,
      addr: (0xfd00n << 112n) | 0x10n,
    }),
    { code: "EADDRINUSE" },
  );
});
