/**
 * Daemon restart (pitfall 5): the data plane runs in its own process; killing it (SIGKILL) leaves
 * the persistent TAPs in the slaves' namespaces, with their addresses and routes, but without
 * carrier; a new process re-attaches to them from inside those namespaces and traffic resumes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Background } from "../support/netns.ts";
import { baseTopology, placeSlave, ping, ROUTER, realLab, SLAVE0, SLAVE1, type Topology } from "./lab.ts";

const FIXTURE = fileURLToPath(new URL("./daemon-fixture.js", import.meta.url));

function startDaemon(topo: Topology, mode: "create" | "attach"): Background {
  const slaves = [
    { name: "tap0", netns: mode === "create" ? null : topo.ns0, addr: SLAVE0 },
    { name: "tap1", netns: mode === "create" ? null : topo.ns1, addr: SLAVE1 },
  ];
  // The daemon lives in the master's namespace, as a real one would.
  return topo.lab.spawn(topo.host, [
    process.execPath,
    FIXTURE,
    JSON.stringify({ master: "m0", mode, slaves }),
  ]);
}

test("a killed daemon's TAPs persist and a new daemon re-attaches to them", async (t) => {
  const lab = await realLab(t, ["ping", "nft"]);
  if (lab === undefined) return;
  if (!import.meta.url.endsWith(".js")) {
    t.skip("needs the compiled fixture (run from dist/)");
    return;
  }
  const topo = await baseTopology(lab);

  const first = startDaemon(topo, "create");
  await first.waitForOutput(/ready/, 20_000);
  await placeSlave(topo, "tap0", topo.ns0, SLAVE0);
  await placeSlave(topo, "tap1", topo.ns1, SLAVE1);
  assert.equal((await ping(topo, topo.ns0, SLAVE1, ["-c", "2", "-i", "0.2", "-W", "2"])).received, 2);
  assert.equal((await ping(topo, topo.ns0, ROUTER, ["-c", "2", "-i", "0.2", "-W", "2"])).received, 2);

  await first.stop("SIGKILL");
  const link = (await lab.ip(topo.ns0, "-j", "addr", "show", "dev", "tap0")).stdout;
  const [tap0] = JSON.parse(link) as { flags: string[]; addr_info: { local: string }[] }[];
  assert.ok(tap0.flags.includes("NO-CARRIER"), `tap0 flags ${tap0.flags.join(",")}`);
  assert.ok(
    tap0.addr_info.some((a) => a.local === SLAVE0),
    "the address survived",
  );
  assert.equal(
    (await ping(topo, topo.ns0, SLAVE1, ["-c", "1", "-W", "1"])).received,
    0,
    "nothing switches now",
  );
  // The isolation table outlives the daemon, with its addresses: the master's stack stays blind.
  const sets = (await lab.exec(topo.host, ["nft", "list", "set", "netdev", "ipvl_m0", "slaves4"])).stdout;
  assert.match(sets, /10\.0\.0\.10/);
  assert.match(sets, /10\.0\.0\.11/);

  const second = startDaemon(topo, "attach");
  await second.waitForOutput(/ready/, 20_000);
  assert.equal((await ping(topo, topo.ns0, SLAVE1, ["-c", "2", "-i", "0.2", "-W", "2"])).received, 2);
  assert.equal((await ping(topo, topo.ns0, ROUTER, ["-c", "2", "-i", "0.2", "-W", "2"])).received, 2);
  assert.equal((await ping(topo, topo.ext, SLAVE1, ["-c", "2", "-i", "0.2", "-W", "2"])).received, 2);
  const after = JSON.parse((await lab.ip(topo.ns0, "-j", "link", "show", "dev", "tap0")).stdout) as {
    flags: string[];
  }[];
  assert.ok(after[0].flags.includes("LOWER_UP"), "carrier is back");
  const status = await second.stop("SIGTERM");
  assert.equal(status.code, 0);
});
