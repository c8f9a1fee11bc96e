/**
 * `ip -d link` / `ip -j -d link` for an ipvlan slave, checked against the oracle's recorded
 * lines (shared/oracle/scenarios/seed-example-l2.out). A stand-in "ipvlan" kind reports what
 * the driver's linkInfo() reports ({ mode, flags }); ip never imports the driver.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bootKernel,
  devChangeNetNamespace,
  devOpen,
  type InfoData,
  NetDevice,
  type NetNamespace,
  netnsAdd,
  registerNetdevice,
} from "../../src/kernel/index.ts";
import { ipvlanInit } from "../../src/ipvlan/index.ts";
import { runIp } from "./run-ip.ts";

class FakeIpvlan extends NetDevice {
  readonly lower: NetDevice;
  data: { mode: number; flags: number };

  constructor(name: string, lower: NetDevice, data: { mode: number; flags: number }) {
    super("ipvlan", name);
    this.lower = lower;
    this.data = data;
    this.mac = lower.mac;
  }

  override lowerDevice(): NetDevice {
    return this.lower;
  }

  override ndoGetIflink(): number {
    return this.lower.ifindex;
  }

  override linkInfo() {
    return { kind: "ipvlan", data: { ...this.data } };
  }
}

function setup() {
  const kernel = bootKernel({ seed: 1 });
  const seen: InfoData[] = [];
  kernel.registerLinkKind({
    kind: "ipvlan",
    validate: (d) => {
      if (d) seen.push(d);
    },
    newLink(net: NetNamespace, attrs) {
      const d = attrs.infoData ?? {};
      const dev = new FakeIpvlan(attrs.name ?? "ipvlan%d", attrs.link!, {
        mode: typeof d.mode === "number" ? d.mode : 1,
        flags: typeof d.flags === "number" ? d.flags : 0,
      });
      registerNetdevice(net, dev);
      return dev;
    },
  });
  return { kernel, seen };
}

test("ip -d link prints an ipvlan slave in another namespace as the oracle recorded it", async () => {
  const { kernel } = setup();
  await runIp(kernel, ["netns", "add", "ext"]);
  await runIp(kernel, [
    "link",
    "add",
    "eth0",
    "address",
    "02:00:00:00:00:02",
    "type",
    "veth",
    "peer",
    "name",
    "ext0",
  ]);
  const ns0 = netnsAdd(kernel, "ns0");
  assert.equal(
    (await runIp(kernel, ["link", "add", "link", "eth0", "ipvl0", "type", "ipvlan", "mode", "l2"])).rc,
    0,
  );
  const ipvl0 = kernel.initNet.dev("ipvl0")!;
  devChangeNetNamespace(ipvl0, ns0);
  devOpen(ipvl0);
  const text = await runIp(kernel, ["-n", "ns0", "-d", "link", "show", "ipvl0"]);
  const lines = text.stdout.split("\n");
  assert.match(
    lines[0]!,
    /^\d+: ipvl0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN /,
  );
  assert.equal(
    lines[1],
    "    link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ",
  );
  assert.equal(
    lines[2],
    "    ipvlan  mode l2 bridge addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ",
  );
  const json = await runIp(kernel, ["-n", "ns0", "-j", "-d", "link", "show", "ipvl0"]);
  assert.match(
    json.stdout,
    /"link_index":3,"ifname":"ipvl0",.*"link_netnsid":0,"promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":\{"info_kind":"ipvlan","info_data":\{"mode":"l2","bridge":true\}\},"inet6_addr_gen_mode":"eui64"/,
  );
});

// iproute2 6.1 parses kind options only when some follow "type ipvlan" (iplink_modify's
// `if (lu && argc)`): no options → no IFLA_INFO_DATA; any option → FLAGS always, MODE if given.
// The real 6.1 driver confirms it (test/fixtures/oracle-extra/lifecycle.out: an l2 private port
// becomes l3 private, not l3 bridge, when a slave is added without options).
test("ip link add type ipvlan sends no data without options, else FLAGS always and MODE when given", async () => {
  const { kernel, seen } = setup();
  await runIp(kernel, ["link", "add", "eth0", "type", "veth", "peer", "name", "ext0"]);
  await runIp(kernel, ["link", "add", "link", "eth0", "sl1", "type", "ipvlan"]);
  await runIp(kernel, ["link", "add", "link", "eth0", "sl2", "type", "ipvlan", "m", "l3s", "priv"]);
  await runIp(kernel, ["link", "add", "link", "eth0", "sl3", "type", "ipvlan", "vepa", "mode", "l2"]);
  assert.deepEqual(seen, [
    { mode: 2, flags: 1 },
    { mode: 0, flags: 2 },
  ]);
  for (const [name, want] of [
    ["sl1", "mode l3 bridge"],
    ["sl2", "mode l3s private"],
    ["sl3", "mode l2 vepa"],
  ] as const) {
    const out = (await runIp(kernel, ["-d", "link", "show", name])).stdout;
    assert.ok(out.includes(`    ipvlan  ${want} addrgenmode`), out);
  }
});

test("malformed ip invocations print iproute2's error, exit as it does, and change nothing", async () => {
  const { kernel } = setup();
  await runIp(kernel, ["link", "add", "eth0", "type", "veth", "peer", "name", "ext0"]);
  const usage =
    "Usage: ... ipvlan [ mode MODE ] [ FLAGS ]\n\nMODE: l3 | l3s | l2\nFLAGS: bridge | private | vepa\n" +
    "(first values are the defaults if nothing is specified).\n";
  const table: [string[], string, number][] = [
    [
      ["link", "add", "link", "eth0", "x", "type", "ipvlan", "mode", "l4"],
      'Error: argument of "mode" must be either "l2", "l3" or "l3s"\n',
      1,
    ],
    [
      ["link", "add", "link", "eth0", "x", "type", "ipvlan", "mode"],
      'Command line is not complete. Try option "help"\n',
      255,
    ],
    [
      ["link", "add", "link", "eth0", "x", "type", "ipvlan", "private", "vepa"],
      `ipvlan: unknown option "vepa"?\n${usage}`,
      1,
    ],
    [
      ["link", "add", "link", "eth0", "x", "type", "ipvlan", "bridge", "bridge"],
      `ipvlan: unknown option "bridge"?\n${usage}`,
      1,
    ],
    [["link", "add", "link", "nope", "x", "type", "ipvlan"], 'Cannot find device "nope"\n', 1],
    [["link", "add", "eth0", "type", "ipvlan"], "RTNETLINK answers: File exists\n", 2],
    [["link", "set", "dev", "eth0", "mtu", "1"], "Error: mtu less than device minimum.\n", 2],
    [
      ["link", "set", "dev", "eth0", "dev", "ext0"],
      'Error: either "dev" is duplicate, or "ext0" is a garbage.\n',
      255,
    ],
    [["link", "frob"], 'Command "frob" is unknown, try "ip link help".\n', 255],
    [["-n", "nope", "link"], 'Cannot open network namespace "nope": No such file or directory\n', 255],
    [
      ["addr", "add", "10.0.0.1/33", "dev", "eth0"],
      'Error: any valid prefix is expected rather than "10.0.0.1/33".\n',
      1,
    ],
    [["addr", "add", "10.0.0.1/24"], 'Not enough information: "dev" argument is required.\n', 1],
    [
      ["netns", "del", "nope"],
      'Cannot remove namespace file "/run/netns/nope": No such file or directory\n',
      1,
    ],
  ];
  const before = (await runIp(kernel, ["-d", "link"])).stdout;
  for (const [argv, stderr, rc] of table) {
    const got = await runIp(kernel, argv);
    assert.equal(got.stderr, stderr, argv.join(" "));
    assert.equal(got.rc, rc, argv.join(" "));
    assert.equal((await runIp(kernel, ["-d", "link"])).stdout, before, `${argv.join(" ")} changed state`);
  }
});

test("with the real driver, a slave added without options keeps the port's flags and sets mode l3", async () => {
  const kernel = bootKernel({ seed: 1 });
  ipvlanInit(kernel);
  await runIp(kernel, ["link", "add", "eth0", "type", "veth", "peer", "name", "ext0"]);
  await runIp(kernel, ["link", "add", "link", "eth0", "ipva", "type", "ipvlan", "mode", "l2", "private"]);
  await runIp(kernel, ["link", "add", "link", "eth0", "ipvb", "type", "ipvlan"]);
  assert.match((await runIp(kernel, ["-d", "link", "show", "ipva"])).stdout, /ipvlan {2}mode l3 private /);
  // A change-link without options sends nothing: a no-op.
  await runIp(kernel, ["link", "set", "dev", "ipva", "type", "ipvlan", "mode", "l2", "vepa"]);
  await runIp(kernel, ["link", "set", "dev", "ipvb", "type", "ipvlan"]);
  assert.match((await runIp(kernel, ["-d", "link", "show", "ipvb"])).stdout, /ipvlan {2}mode l2 vepa /);
});
