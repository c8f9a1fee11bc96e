/**
 * The userland `ipvl run` uses: tools routed to the namespace `ip netns exec` chose, the
 * per-command virtual time cost, `sleep` on the virtual clock (and its signals), cat-sys.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CommandContext } from "../../src/cli/run/index.ts";
import { COMMAND_COST_NS, makeSimUserland, SimUserland } from "../../src/cli/sim-userland.ts";
import { NSEC_PER_MSEC, NSEC_PER_SEC } from "../../src/kernel/index.ts";

function cmd(argv: string[], netns: string | null = null, signal = new AbortController().signal) {
  let out = "";
  let err = "";
  let detached = false;
  const ctx: CommandContext = {
    argv,
    netns,
    cwd: "/",
    env: {},
    stdin: new Uint8Array(0),
    out: (s) => (out += s),
    err: (s) => (err += s),
    signal,
    detach: () => (detached = true),
  };
  return { ctx, out: () => out, err: () => err, detached: () => detached };
}

test("each command costs COMMAND_COST_NS; ip runs in the namespace ip netns exec chose", async () => {
  const ul = new SimUserland();
  const k = ul.kernel;
  const t0 = k.now;
  assert.equal(await ul.run("ip", cmd(["ip", "netns", "add", "ns0"]).ctx), 0);
  assert.equal(k.now - t0, COMMAND_COST_NS);
  assert.equal(ul.netnsExists("ns0"), true);
  assert.equal(ul.netnsExists("nope"), false);
  const show = cmd(["ip", "-o", "link", "show"], "ns0");
  assert.equal(await ul.run("ip", show.ctx), 0);
  assert.match(show.out(), /^1: lo: <LOOPBACK> /);
  assert.equal(show.out().split("\n").length, 2, "only lo in ns0");
  const gone = cmd(["ip", "link"], "gone");
  assert.equal(await ul.run("ip", gone.ctx), 255);
  assert.equal(gone.err(), 'Cannot open network namespace "gone": No such file or directory\n');
});

test("sleep advances the virtual clock by its seconds (plus the command cost)", async () => {
  const ul = new SimUserland();
  const t0 = ul.kernel.now;
  assert.equal(await ul.run("sleep", cmd(["sleep", "1.5"]).ctx), 0);
  assert.equal(ul.kernel.now - t0, COMMAND_COST_NS + 1500n * NSEC_PER_MSEC);
});

test("sleep: a signal ends it with 128+n; sleep infinity waits for one without moving the clock", async () => {
  const ul = new SimUserland();
  const ac = new AbortController();
  const c = cmd(["sleep", "Infinity"], null, ac.signal);
  const p = ul.run("sleep", c.ctx);
  const before = ul.kernel.now;
  setTimeout(() => ac.abort("SIGTERM"), 5);
  assert.equal(await p, 143);
  assert.equal(ul.kernel.now, before);
  const ac2 = new AbortController();
  ac2.abort("SIGINT");
  assert.equal(await ul.run("sleep", cmd(["sleep", "10"], null, ac2.signal).ctx), 130);
});

test("cat-sys, sysctl and dmesg act on the run's kernel", async () => {
  const ul = new SimUserland();
  await ul.run("ip", cmd(["ip", "link", "add", "eth0", "address", "02:00:00:00:00:02", "type", "dummy"]).ctx);
  const c = cmd(["cat", "/sys/class/net/eth0/address"]);
  assert.equal(await ul.run("cat-sys", c.ctx), 0);
  assert.equal(c.out(), "02:00:00:00:00:02\n");
  assert.equal(await ul.run("cat-sys", cmd(["test", "-e", "/sys/class/net/eth0"]).ctx), 0);
  const s = cmd(["sysctl", "net.ipv4.ip_forward"]);
  assert.equal(await ul.run("sysctl", s.ctx), 0);
  assert.equal(s.out(), "net.ipv4.ip_forward = 0\n");
  await ul.run(
    "ip",
    cmd(["ip", "link", "add", "link", "lo", "name", "ipvlo", "type", "ipvlan", "mode", "l2"]).ctx,
  );
  const d = cmd(["dmesg"]);
  assert.equal(await ul.run("dmesg", d.ctx), 0);
  assert.match(d.out(), /^\[ +\d+\.\d{6}\] lo: Master is either lo or non-ether device\n$/m);
});

test("a background ping and a capture only see time other commands move", async () => {
  const ul = new SimUserland();
  for (const line of [
    "netns add a",
    "netns add b",
    "-n a link add va type veth peer name vb netns b",
    "-n a addr add 10.9.0.1/24 dev va",
    "-n b addr add 10.9.0.2/24 dev vb",
    "-n a link set va up",
    "-n b link set vb up",
  ]) {
    assert.equal(await ul.run("ip", cmd(["ip", ...line.split(" ")]).ctx), 0, line);
  }
  const cap = new AbortController();
  const td = cmd(["tcpdump", "-i", "vb", "-nn", "-t", "icmp"], "b", cap.signal);
  const tdDone = ul.run("tcpdump", td.ctx);
  const pg = new AbortController();
  const ping = cmd(["ping", "-i", "1", "10.9.0.2"], "a", pg.signal);
  const pingDone = ul.run("ping", ping.ctx);
  await new Promise((r) => setImmediate(r));
  assert.equal(td.detached() && ping.detached(), true);
  await ul.run("sleep", cmd(["sleep", "2.5"]).ctx);
  pg.abort("SIGINT");
  assert.equal(await pingDone, 0);
  assert.match(ping.out(), /3 packets transmitted, 3 received, 0% packet loss, time 2000ms/);
  cap.abort("SIGINT");
  assert.equal(await tdDone, 0);
  assert.equal(td.out().match(/ICMP echo request/g)?.length, 3);
  assert.ok(ul.kernel.now < 3n * NSEC_PER_SEC);
});

test("boot does what init does: lo is up in the initial namespace only (the oracle VM's /init too)", async () => {
  // bcast-mcast.out: the master's namespace answers its own broadcast/multicast pings
  // ("from root ... responders: 10.0.0.1 10.0.0.2"), which needs a running lo there.
  const ul = new SimUserland();
  const root = cmd(["ip", "-o", "addr", "show", "dev", "lo"]);
  assert.equal(await ul.run("ip", root.ctx), 0);
  assert.match(root.out(), /^1: lo {4}inet 127\.0\.0\.1\/8 scope host lo/m);
  assert.match(root.out(), /^1: lo {4}inet6 ::1\/128 scope host/m);
  assert.equal(await ul.run("ip", cmd(["ip", "netns", "add", "n1"]).ctx), 0);
  const ns = cmd(["ip", "-o", "link", "show", "lo"], "n1");
  assert.equal(await ul.run("ip", ns.ctx), 0);
  assert.match(ns.out(), /^1: lo: <LOOPBACK> .* state DOWN /);
});

test("makeSimUserland takes the kernel release from IPVL_KERNEL_RELEASE (default 6.1.0)", () => {
  const saved = process.env.IPVL_KERNEL_RELEASE;
  try {
    delete process.env.IPVL_KERNEL_RELEASE;
    assert.equal((makeSimUserland() as SimUserland).kernel.release, "6.1.0");
    process.env.IPVL_KERNEL_RELEASE = "6.18.0";
    assert.equal((makeSimUserland() as SimUserland).kernel.release, "6.18.0");
    assert.equal((makeSimUserland({ release: "6.6.0" }) as SimUserland).kernel.release, "6.6.0");
  } finally {
    if (saved === undefined) delete process.env.IPVL_KERNEL_RELEASE;
    else process.env.IPVL_KERNEL_RELEASE = saved;
  }
});
