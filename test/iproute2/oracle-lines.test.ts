/**
 * `ip addr` / `ip neigh` lines of the oracle scenarios (/work/shared/oracle/scenarios/*.out,
 * recorded on Linux 6.1 with iproute2 6.1), reproduced on the simulated kernel with the
 * scenario's topology: the expected lines below are copied from those recordings.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bootSimKernel } from "../../src/cli/sim-userland.ts";
import { findNetns, type Kernel, type NetNamespace } from "../../src/kernel/index.ts";
import { pingMain } from "../../src/tools/index.ts";
import { runIp } from "./run-ip.ts";

/** Runs `ip ARGS` (a command line as the scenario writes it, with `-n NS` for namespaces). */
async function ip(kernel: Kernel, line: string): Promise<string> {
  const r = await runIp(kernel, line.split(" "));
  assert.equal(r.stderr, "", `ip ${line}: stderr`);
  assert.equal(r.rc, 0, `ip ${line}: exit status`);
  return r.stdout;
}

function ns(kernel: Kernel, name: string): NetNamespace {
  const n = findNetns(kernel, name);
  assert.ok(n, `namespace ${name}`);
  return n;
}

/** `ping -c1 -W1 DST` in a namespace; true when it got a reply. */
async function ping(kernel: Kernel, net: NetNamespace, dst: string): Promise<boolean> {
  const rc = await pingMain({
    kernel,
    net,
    argv: ["-c1", "-W1", dst],
    stdin: new Uint8Array(0),
    out: () => {},
    err: () => {},
  });
  return rc === 0;
}

/** The seed-example-l2 topology: router "ext" on a veth, slaves ipvl0 (ns0) and ipvl1 (ns1). */
async function seedTopology(mode: string): Promise<Kernel> {
  const kernel = bootSimKernel(1);
  for (const line of [
    "netns add ext",
    "link add eth0 address 02:00:00:00:00:02 type veth peer name ext0 address 02:00:00:00:00:01",
    "link set ext0 netns ext",
    "-n ext link set lo up",
    "-n ext addr add 10.0.0.1/24 dev ext0",
    "-n ext link set ext0 up",
    "link set eth0 up",
    "addr add 10.0.0.2/24 dev eth0",
    "netns add ns0",
    "netns add ns1",
    `link add link eth0 ipvl0 type ipvlan mode ${mode}`,
    `link add link eth0 ipvl1 type ipvlan mode ${mode}`,
    "link set dev ipvl0 netns ns0",
    "link set dev ipvl1 netns ns1",
    "-n ns0 link set dev ipvl0 up",
    "-n ns0 link set dev lo up",
    "-n ns0 -4 addr add 10.0.0.10/24 dev ipvl0",
    "-n ns0 -4 route add default via 10.0.0.1 dev ipvl0",
    "-n ns1 link set dev ipvl1 up",
    "-n ns1 link set dev lo up",
    "-n ns1 -4 addr add 10.0.0.11/24 dev ipvl1",
    "-n ns1 -4 route add default via 10.0.0.1 dev ipvl1",
  ]) {
    await ip(kernel, line);
  }
  // DAD of the link-local addresses
  kernel.loop.runUntil(kernel.now + 3_000_000_000n);
  return kernel;
}

/** The scenarios' dyn(): dynamic states become <dynamic>, unresolved ones <unresolved>; sorted. */
function dyn(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) =>
      l
        .replace(/ (REACHABLE|STALE|DELAY|PROBE) *$/, " <dynamic>")
        .replace(/ (INCOMPLETE|FAILED) *$/, " <unresolved>"),
    )
    .sort();
}

test("ip -br addr show dev X prints the seed-example-l2 address lines", async () => {
  const kernel = await seedTopology("l2");
  const got = [
    await ip(kernel, "-n ns0 -br addr show dev ipvl0"),
    await ip(kernel, "-n ns1 -br addr show dev ipvl1"),
    await ip(kernel, "-br addr show dev eth0"),
    await ip(kernel, "-n ext -br addr show dev ext0"),
  ].join("");
  assert.equal(
    got,
    "ipvl0@if3        UNKNOWN        10.0.0.10/24 fe80::200:0:100:2/64 \n" +
      "ipvl1@if3        UNKNOWN        10.0.0.11/24 fe80::200:0:200:2/64 \n" +
      "eth0@if2         UP             10.0.0.2/24 fe80::ff:fe00:2/64 \n" +
      "ext0@if3         UP             10.0.0.1/24 fe80::ff:fe00:1/64 \n",
  );
});

test("ip -6 addr show dev ipvl0 prints the ipv6-link-local lines (l2 and l3)", async () => {
  const l2 = await seedTopology("l2");
  assert.equal(
    await ip(l2, "-n ns0 -6 addr show dev ipvl0"),
    "4: ipvl0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN group default qlen 1000 link-netnsid 0\n" +
      "    inet6 fe80::200:0:100:2/64 scope link \n" +
      "       valid_lft forever preferred_lft forever\n",
  );
  const l3 = await seedTopology("l3");
  const text = await ip(l3, "-n ns0 -6 addr show dev ipvl0");
  assert.match(
    text,
    /^4: ipvl0@if3: <BROADCAST,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN/,
  );
});

test("ip -6 -o addr show dev X scope link gives the fields the ipv6-link-local ll() helper reads", async () => {
  const kernel = await seedTopology("l2");
  const line = await ip(kernel, "-n ns0 -6 -o addr show dev ipvl0 scope link");
  assert.equal(
    line,
    "4: ipvl0    inet6 fe80::200:0:100:2/64 scope link \\       valid_lft forever preferred_lft forever\n",
  );
  // ll(): awk '{a=$4; for (i=7; i<=NF && $i != "\\"; i++) a=a" "$i; print a}'
  const f = line.trim().split(/\s+/);
  let a = f[3]!;
  for (let i = 6; i < f.length && f[i] !== "\\"; i++) a += ` ${f[i]}`;
  assert.equal(a, "fe80::200:0:100:2/64");
  assert.equal(
    (await ip(kernel, "-6 -o addr show dev eth0 scope link")).split(/\s+/)[3],
    "fe80::ff:fe00:2/64",
  );
  // a slave still in DAD shows its flag after the address, which ll() keeps
  await ip(kernel, "link add link eth0 ipvl2 type ipvlan mode l2");
  await ip(kernel, "link set ipvl2 up");
  const tentative = await ip(kernel, "-6 -o addr show dev ipvl2 scope link");
  assert.match(tentative, / inet6 fe80::200:0:300:2\/64 scope link tentative \\ {7}valid_lft forever/);
});

test("ip -4 neigh show prints the seed-example-l2 neighbour lines (after the scenario's pings)", async () => {
  const kernel = await seedTopology("l2");
  const ns0 = ns(kernel, "ns0");
  assert.equal(await ping(kernel, ns0, "10.0.0.11"), true);
  assert.equal(await ping(kernel, ns0, "10.0.0.1"), true);
  assert.equal(await ping(kernel, ns0, "10.0.0.2"), false);
  assert.deepEqual(dyn(await ip(kernel, "-n ns0 -4 neigh show")), [
    "10.0.0.1 dev ipvl0 lladdr 02:00:00:00:00:01 <dynamic>",
    "10.0.0.11 dev ipvl0 lladdr 02:00:00:00:00:02 <dynamic>",
    "10.0.0.2 dev ipvl0 <unresolved>",
  ]);
  assert.deepEqual(dyn(await ip(kernel, "-n ext -4 neigh show")), [
    "10.0.0.10 dev ext0 lladdr 02:00:00:00:00:02 <dynamic>",
  ]);
  // modes-matrix: the router's static entry for a slave
  await ip(kernel, "-n ext neigh replace 10.0.0.10 lladdr 02:00:00:00:00:02 dev ext0 nud permanent");
  assert.equal(
    await ip(kernel, "-n ext -4 neigh show 10.0.0.10"),
    "10.0.0.10 dev ext0 lladdr 02:00:00:00:00:02 PERMANENT \n",
  );
});

test("ip addr add of a duplicate prints 6.1's errors (errors.out)", async () => {
  const kernel = await seedTopology("l2");
  await ip(kernel, "-n ns0 addr add 10.0.0.20/24 dev ipvl0");
  const other = await runIp(kernel, "-n ns1 addr add 10.0.0.20/24 dev ipvl1".split(" "));
  assert.deepEqual(other, {
    stdout: "",
    stderr: "Error: Address already assigned to an ipvlan device.\n",
    rc: 2,
  });
  const same = await runIp(kernel, "-n ns0 addr add 10.0.0.20/24 dev ipvl0".split(" "));
  assert.deepEqual(same, { stdout: "", stderr: "RTNETLINK answers: File exists\n", rc: 2 });
  await ip(kernel, "-n ns0 addr add 2001:db8::10/64 dev ipvl0 nodad");
  const v6 = await runIp(kernel, "-n ns1 addr add 2001:db8::10/64 dev ipvl1 nodad".split(" "));
  assert.equal(v6.stderr, "Error: Address already assigned to an ipvlan device.\n");
  assert.equal(v6.rc, 2);
});
