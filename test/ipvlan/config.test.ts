/**
 * Configuration semantics of ipvlan on a booted kernel, driven through rtnetlink as `ip` would
 * (the requests iproute2 sends for the commands of the oracle's errors.sh), compared with the
 * recorded real-kernel answers in errors.out and the reference's statements 1–38.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bootKernel,
  createTun,
  devChangeNetNamespace,
  devClose,
  devOpen,
  IFF,
  type Kernel,
  KernelError,
  macvlanInit,
  type NetDevice,
  type NetNamespace,
  netdevRxHandlerRegister,
  netnsAdd,
  netnsDelete,
  OperState,
  RxHandlerResult,
  rtnlDelLink,
  rtnlNewLink,
  rtnlSetLink,
} from "../../src/kernel/index.ts";
import { type IpvlDev, ipvlanInit, ipvlanNfHookRefcnt, ipvlanPortGet } from "../../src/ipvlan/index.ts";
import { parseIpv4, parseIpv6, parseMac } from "../../src/wire/index.ts";

const MAC_M = parseMac("02:00:00:00:00:02");
const MAC_R = parseMac("02:00:00:00:00:01");
const MODE: Record<string, number> = { l2: 0, l3: 1, l3s: 2 };
const FLAG: Record<string, number> = { bridge: 0, private: 1, vepa: 2 };

/** The IFLA_INFO_DATA iproute2 sends for "mode X FLAG" (flags always, mode only when given). */
function opts(text = ""): Record<string, number> {
  const w = text.split(" ").filter(Boolean);
  const data: Record<string, number> = { flags: 0 };
  for (let i = 0; i < w.length; i++) {
    if (w[i] === "mode") data.mode = MODE[w[++i]];
    else data.flags = FLAG[w[i]];
  }
  return data;
}

/** "mode l3 bridge" as `ip -d link show` prints it (ipvlan_print_opt). */
function modeOf(dev: NetDevice): string {
  const d = dev.linkInfo()?.data as { mode: number; flags: number };
  const mode = ["l2", "l3", "l3s"][d.mode] ?? "unknown";
  const flag = d.flags & 1 ? "private" : d.flags & 2 ? "vepa" : "bridge";
  return `mode ${mode} ${flag}`;
}

/** "<BROADCAST,MULTICAST,UP,LOWER_UP> state UNKNOWN" as errors.sh extracts it from `ip -o link`. */
function flagsState(dev: NetDevice): string {
  const f = dev.visibleFlags;
  const names: string[] = [];
  if (dev.isUp && !dev.carrier) names.push("NO-CARRIER");
  for (const [n, bit] of [
    ["BROADCAST", IFF.BROADCAST],
    ["MULTICAST", IFF.MULTICAST],
    ["NOARP", IFF.NOARP],
    ["UP", IFF.UP],
    ["LOWER_UP", IFF.LOWER_UP],
  ] as const) {
    if (f & bit) names.push(n);
  }
  const state = Object.entries(OperState).find(([, v]) => v === dev.reportedOperstate)?.[0];
  return `<${names.join(",")}> state ${state}`;
}

interface Topo {
  readonly k: Kernel;
  readonly ext: NetNamespace;
  readonly ns0: NetNamespace;
  readonly ns1: NetNamespace;
  readonly eth0: NetDevice;
  readonly ext0: NetDevice;
  readonly ipvl0: IpvlDev;
  readonly ipvl1: IpvlDev;
}

/** errors.sh topo(): eth0 == ext0 (veth), ipvl0 in ns0, ipvl1 in ns1, mode l2, all up. */
function topo(mode = "mode l2"): Topo {
  const k = bootKernel({ seed: 11 });
  ipvlanInit(k);
  macvlanInit(k);
  const ext = netnsAdd(k, "ext");
  const eth0 = rtnlNewLink(k.initNet, {
    kind: "veth",
    name: "eth0",
    address: macBytes(MAC_M),
    peer: { name: "ext0", address: macBytes(MAC_R) },
  });
  const ext0 = k.initNet.dev("ext0")!;
  devChangeNetNamespace(ext0, ext);
  devOpen(ext0);
  devOpen(eth0);
  const ns0 = netnsAdd(k, "ns0");
  const ns1 = netnsAdd(k, "ns1");
  const ipvl0 = add(k, "ipvl0", eth0, mode);
  const ipvl1 = add(k, "ipvl1", eth0, mode);
  devChangeNetNamespace(ipvl0, ns0);
  devChangeNetNamespace(ipvl1, ns1);
  devOpen(ipvl0);
  devOpen(ipvl1);
  k.loop.settle();
  return { k, ext, ns0, ns1, eth0, ext0, ipvl0, ipvl1 };
}

function macBytes(mac: number): Uint8Array {
  const b = new Uint8Array(6);
  for (let i = 5, m = mac; i >= 0; i--, m = Math.floor(m / 256)) b[i] = m % 256;
  return b;
}

function add(
  k: Kernel,
  name: string,
  link: NetDevice,
  text = "",
  extra: { mtu?: number; address?: Uint8Array } = {},
) {
  return rtnlNewLink(k.initNet, { kind: "ipvlan", name, link, infoData: opts(text), ...extra }) as IpvlDev;
}

/** Runs fn expecting a KernelError; returns "errno-name[: extack]" and the printk lines it caused. */
function tryErr(k: Kernel, fn: () => unknown): { err: string; dmesg: string[] } {
  const before = k.log.length;
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof KernelError, String(e));
    return {
      err: e.extack ? `${e.code}: ${e.extack}` : e.code,
      dmesg: k.log.slice(before).map((l) => l.text),
    };
  }
  return { err: "ok", dmesg: k.log.slice(before).map((l) => l.text) };
}

function addr4(k: Kernel, dev: NetDevice, text: string, event: "UP" | "DOWN" = "UP"): void {
  const ip = parseIpv4(text);
  const info = { local: ip, address: ip, prefixLen: 24 };
  if (event === "UP") k.inetaddrValidatorChain.call({ event, dev, addr: info });
  k.inetaddrChain.call({ event, dev, addr: info });
}

function addr6(k: Kernel, dev: NetDevice, text: string): void {
  const info = { addr: parseIpv6(text), prefixLen: 64 };
  k.inet6addrValidatorChain.call({ event: "UP", dev, addr: info });
  k.inet6addrChain.call({ event: "UP", dev, addr: info });
}

test("errors.out §1: duplicate addresses across slaves fail with EADDRINUSE and the ipvlan extack", () => {
  const t = topo();
  assert.equal(tryErr(t.k, () => addr4(t.k, t.ipvl0, "10.0.0.10")).err, "ok");
  assert.equal(
    tryErr(t.k, () => addr4(t.k, t.ipvl1, "10.0.0.10")).err,
    "EADDRINUSE: Address already assigned to an ipvlan device",
    "statement 41: the slaves are in different namespaces",
  );
  assert.equal(
    tryErr(t.k, () => addr4(t.k, t.ipvl1, "10.0.0.2")).err,
    "ok",
    "the master's own address is allowed",
  );
  assert.equal(tryErr(t.k, () => addr6(t.k, t.ipvl0, "2001:db8::10")).err, "ok");
  assert.equal(
    tryErr(t.k, () => addr6(t.k, t.ipvl1, "2001:db8::10")).err,
    "EADDRINUSE: Address already assigned to an ipvlan device",
  );
  addr4(t.k, t.ipvl0, "10.0.0.10", "DOWN");
  assert.equal(tryErr(t.k, () => addr4(t.k, t.ipvl1, "10.0.0.10")).err, "ok");
});

test("statement 42: the duplicate check sees addresses of a slave that is down", () => {
  const t = topo();
  addr4(t.k, t.ipvl0, "10.0.0.10");
  devClose(t.ipvl0);
  assert.equal(t.ipvl0.port!.table.size, 1 - 1, "a down slave's address leaves the hash");
  assert.match(tryErr(t.k, () => addr4(t.k, t.ipvl1, "10.0.0.10")).err, /^EADDRINUSE/);
  devOpen(t.ipvl0);
  assert.equal(t.ipvl0.port!.table.size, 1, "and comes back on open");
});

test("statement 44: slaves of different masters may hold the same address", () => {
  const t = topo();
  const d1 = rtnlNewLink(t.k.initNet, { kind: "dummy", name: "d1" });
  const other = add(t.k, "ipvl9", d1, "mode l2");
  addr4(t.k, t.ipvl0, "10.0.0.10");
  assert.equal(tryErr(t.k, () => addr4(t.k, other, "10.0.0.10")).err, "ok");
});

test("errors.out §2: lo and tun masters are EINVAL with a log line, no master is EINVAL, a macvlan lower is EBUSY", () => {
  const k = bootKernel();
  ipvlanInit(k);
  macvlanInit(k);
  const net = k.initNet;
  const lo = net.dev("lo")!;
  assert.deepEqual(
    tryErr(k, () => add(k, "ipvlo", lo, "mode l2")),
    { err: "EINVAL", dmesg: ["lo: Master is either lo or non-ether device"] },
  );
  const tun0 = createTun(net, k, "tun0", "tun");
  assert.deepEqual(
    tryErr(k, () => add(k, "ipvtun", tun0, "mode l3")),
    { err: "EINVAL", dmesg: ["tun0: Master is either lo or non-ether device"] },
  );
  assert.deepEqual(
    tryErr(k, () => rtnlNewLink(net, { kind: "ipvlan", name: "ipvnolink", infoData: opts("mode l2") })),
    { err: "EINVAL", dmesg: [] },
  );
  const d1 = rtnlNewLink(net, { kind: "dummy", name: "d1" });
  rtnlNewLink(net, { kind: "macvlan", name: "mv1", link: d1, infoData: { mode: "bridge" } });
  assert.deepEqual(
    tryErr(k, () => add(k, "ipvd1", d1, "mode l2")),
    { err: "EBUSY", dmesg: ["d1: Device is already in use."] },
  );
  assert.equal(net.dev("ipvd1"), undefined);
  rtnlDelLink(d1);
  assert.equal(net.dev("mv1"), undefined, "the macvlan goes with its lower device");
});

test("statements 3, 4: validation rejects mode 3, flags 0x3 and flags 0x4", () => {
  const t = topo();
  for (const infoData of [{ mode: 3, flags: 0 }, { flags: 3 }, { flags: 4 }]) {
    assert.equal(
      tryErr(t.k, () => rtnlNewLink(t.k.initNet, { kind: "ipvlan", name: "x", link: t.eth0, infoData })).err,
      "EINVAL",
    );
    assert.equal(tryErr(t.k, () => rtnlSetLink(t.ipvl0, { kind: "ipvlan", infoData })).err, "EINVAL");
  }
  assert.equal(modeOf(t.ipvl0), "mode l2 bridge");
});

test("errors.out §3: an ipvlan slave given as master makes a sibling on its master; macvlan on a slave is EINVAL", () => {
  const k = bootKernel();
  ipvlanInit(k);
  macvlanInit(k);
  const eth0 = rtnlNewLink(k.initNet, { kind: "veth", name: "eth0", peer: { name: "ext0" } });
  const ipvl0 = add(k, "ipvl0", eth0, "mode l2");
  const ipvl0a = add(k, "ipvl0a", ipvl0, "mode l3");
  assert.equal(ipvl0a.lowerDevice(), eth0);
  assert.equal(ipvl0a.ndoGetIflink(), eth0.ifindex);
  assert.equal(`${modeOf(ipvl0)} / ${modeOf(ipvl0a)}`, "mode l3 bridge / mode l3 bridge");
  assert.equal(
    tryErr(k, () => rtnlNewLink(k.initNet, { kind: "macvlan", name: "mvx", link: ipvl0 })).err,
    "EINVAL",
  );
  assert.throws(() => netdevRxHandlerRegister(ipvl0, () => RxHandlerResult.PASS, null), { code: "EINVAL" });
  assert.equal(ipvl0.vlanChallenged, true, "statement 34: no 802.1Q on a slave");
});

test("errors.out §4: mode and flags are per port, last writer wins, NOARP follows the mode", () => {
  const t = topo();
  assert.equal(
    `${modeOf(t.ipvl0)} ${flagsState(t.ipvl0)}`,
    "mode l2 bridge <BROADCAST,MULTICAST,UP,LOWER_UP> state UNKNOWN",
  );
  rtnlSetLink(t.ipvl0, { kind: "ipvlan", infoData: opts("mode l3") });
  assert.equal(modeOf(t.ipvl1), "mode l3 bridge");
  assert.equal(flagsState(t.ipvl0), "<BROADCAST,MULTICAST,NOARP,UP,LOWER_UP> state UNKNOWN");
  rtnlSetLink(t.ipvl1, { kind: "ipvlan", infoData: opts("mode l2 private") });
  assert.equal(`${modeOf(t.ipvl0)}, ${modeOf(t.ipvl1)}`, "mode l2 private, mode l2 private");
  assert.equal(t.ipvl0.flags & IFF.NOARP, 0, "statement 13: back to l2 clears NOARP");
  rtnlSetLink(t.ipvl0, { kind: "ipvlan", infoData: opts("mode l3s") });
  assert.equal(
    `${modeOf(t.ipvl0)}, ${modeOf(t.ipvl1)}`,
    "mode l3s bridge, mode l3s bridge",
    "statement 14: no flag word = bridge",
  );
  const ipvl2 = add(t.k, "ipvl2", t.eth0, "mode l2 vepa");
  assert.equal([t.ipvl0, t.ipvl1, ipvl2].map(modeOf).join(", "), "mode l2 vepa, mode l2 vepa, mode l2 vepa");
  rtnlDelLink(ipvl2);
  rtnlSetLink(t.ipvl0, { kind: "ipvlan", infoData: opts("mode l2 bridge") });
  assert.equal(`${modeOf(t.ipvl0)}, ${modeOf(t.ipvl1)}`, "mode l2 bridge, mode l2 bridge");
});

test("statements 1, 11, 12: a new slave without mode switches the port to l3; its flag word rewrites the port", () => {
  const t = topo();
  const ipvl2 = add(t.k, "ipvl2", t.eth0, "private");
  assert.equal(modeOf(t.ipvl0), "mode l3 private");
  assert.equal(t.ipvl0.flags & IFF.NOARP, IFF.NOARP, "existing slaves get NOARP from the mode change");
  assert.equal(ipvl2.flags & IFF.NOARP, 0, "statement 27: the new, still-down slave has no NOARP yet");
  devOpen(ipvl2);
  assert.equal(ipvl2.flags & IFF.NOARP, IFF.NOARP, "NOARP is applied at open");
  const k = bootKernel();
  ipvlanInit(k);
  const eth = rtnlNewLink(k.initNet, { kind: "dummy", name: "eth0" });
  assert.equal(modeOf(add(k, "ipvl0", eth)), "mode l3 bridge");
});

test("statements 28, 29: NOARP is forced again at every open (l3), and never set in l2", () => {
  const t = topo("mode l3");
  rtnlSetLink(t.ipvl0, { flags: 0, change: IFF.NOARP });
  assert.equal(t.ipvl0.flags & IFF.NOARP, 0);
  devClose(t.ipvl0);
  devOpen(t.ipvl0);
  assert.equal(t.ipvl0.flags & IFF.NOARP, IFF.NOARP);
  rtnlSetLink(t.ipvl0, { kind: "ipvlan", infoData: opts("mode l2") });
  rtnlSetLink(t.ipvl1, { flags: IFF.NOARP, change: IFF.NOARP });
  devClose(t.ipvl1);
  devOpen(t.ipvl1);
  assert.equal(t.ipvl1.flags & IFF.NOARP, 0);
});

test("errors.out §5: slave MTU is free in [68, 65535] and overwritten by every master MTU change", () => {
  const t = topo();
  assert.equal(`${t.eth0.mtu} ${t.ipvl0.mtu} ${t.ipvl0.maxMtu}`, "1500 1500 65535");
  for (const mtu of [9000, 1501, 1400]) rtnlSetLink(t.ipvl0, { mtu });
  assert.equal(t.ipvl0.mtu, 1400);
  assert.equal(add(t.k, "ipvl9", t.eth0, "mode l2", { mtu: 9000 }).mtu, 9000, "statement 20");
  rtnlDelLink(t.k.initNet.dev("ipvl9")!);
  rtnlSetLink(t.eth0, { mtu: 1300 });
  assert.equal(`${t.eth0.mtu} ${t.ipvl0.mtu} ${t.ipvl1.mtu}`, "1300 1300 1300");
  rtnlSetLink(t.eth0, { mtu: 9000 });
  assert.equal(`${t.eth0.mtu} ${t.ipvl0.mtu} ${t.ipvl1.mtu}`, "9000 9000 9000");
  rtnlSetLink(t.ipvl0, { mtu: 9000 });
  rtnlSetLink(t.ipvl0, { mtu: 9001 });
  assert.equal(`${t.eth0.mtu} ${t.ipvl0.mtu} ${t.ipvl1.mtu}`, "9000 9001 9000");
  assert.equal(
    tryErr(t.k, () => rtnlSetLink(t.ipvl0, { mtu: 67 })).err,
    "EINVAL: mtu less than device minimum",
  );
});

test("errors.out §6: no MAC change on a slave; slaves follow the master's MAC; IFLA_ADDRESS is ignored", () => {
  const t = topo();
  assert.equal(
    tryErr(t.k, () => rtnlSetLink(t.ipvl0, { address: macBytes(parseMac("02:00:00:00:00:99")) })).err,
    "EOPNOTSUPP",
  );
  const changed: string[] = [];
  t.k.netdevChain.register((e) => {
    if (e.event === "CHANGEADDR") changed.push(e.dev.name);
  });
  rtnlSetLink(t.eth0, { address: macBytes(parseMac("02:00:00:00:00:42")) });
  assert.deepEqual([t.eth0.mac, t.ipvl0.mac, t.ipvl1.mac], Array(3).fill(parseMac("02:00:00:00:00:42")));
  assert.deepEqual(changed.sort(), ["eth0", "ipvl0", "ipvl1"], "each slave raises its own CHANGEADDR");
  const ipvlm = add(t.k, "ipvlm", t.eth0, "mode l2", { address: macBytes(parseMac("02:00:00:00:00:77")) });
  assert.equal(ipvlm.mac, parseMac("02:00:00:00:00:42"));
  assert.equal(ipvlm.hardHeaderSource(), t.eth0.mac);
});

test("errors.out §7: master down keeps the slave's LOWER_UP; master carrier loss gives LOWERLAYERDOWN", () => {
  const t = topo();
  rtnlSetLink(t.eth0, { flags: 0, change: IFF.UP });
  t.k.loop.settle();
  assert.equal(flagsState(t.ipvl0), "<BROADCAST,MULTICAST,UP,LOWER_UP> state UNKNOWN");
  rtnlSetLink(t.eth0, { flags: IFF.UP, change: IFF.UP });
  t.k.loop.settle();
  assert.equal(flagsState(t.ipvl0), "<BROADCAST,MULTICAST,UP,LOWER_UP> state UNKNOWN");
  rtnlSetLink(t.ext0, { flags: 0, change: IFF.UP });
  t.k.loop.settle();
  assert.equal(flagsState(t.eth0), "<NO-CARRIER,BROADCAST,MULTICAST,UP> state LOWERLAYERDOWN");
  assert.equal(flagsState(t.ipvl0), "<NO-CARRIER,BROADCAST,MULTICAST,UP> state LOWERLAYERDOWN");
  rtnlSetLink(t.ext0, { flags: IFF.UP, change: IFF.UP });
  t.k.loop.settle();
  assert.equal(flagsState(t.ipvl0), "<BROADCAST,MULTICAST,UP,LOWER_UP> state UP");
});

test("a slave created on a master without carrier starts LOWERLAYERDOWN and copies dormant", () => {
  const k = bootKernel();
  ipvlanInit(k);
  const eth0 = rtnlNewLink(k.initNet, { kind: "veth", name: "eth0", peer: { name: "ext0" } });
  const s = add(k, "ipvl0", eth0, "mode l2");
  devOpen(s);
  k.loop.settle();
  assert.equal(flagsState(s), "<NO-CARRIER,BROADCAST,MULTICAST,UP> state LOWERLAYERDOWN");
});

test("errors.out §8: deleting the master deletes its slaves in every namespace", () => {
  const t = topo();
  rtnlDelLink(t.eth0);
  assert.deepEqual([...t.ns0.byName.keys()], ["lo"]);
  assert.deepEqual([...t.ns1.byName.keys()], ["lo"]);
});

test("errors.out §9: moving the master keeps its slaves; a slave sees it as its lower device", () => {
  const t = topo("mode l3s");
  rtnlDelLink(t.ipvl0);
  assert.equal(ipvlanNfHookRefcnt(t.k.initNet), 1);
  rtnlSetLink(t.eth0, { netns: t.ns1 });
  assert.deepEqual(
    t.ns1.devicesInOrder().map((d) => d.name),
    ["lo", "eth0", "ipvl1"],
  );
  assert.equal(t.ipvl1.lowerDevice(), t.eth0);
  assert.equal(ipvlanPortGet(t.eth0)?.pnet, t.ns1, "the port records the new namespace");
  assert.deepEqual(
    [ipvlanNfHookRefcnt(t.k.initNet), ipvlanNfHookRefcnt(t.ns1)],
    [0, 1],
    "L3S hooks migrated",
  );
});

test("statements 24, 25: dev_ids are 1, 2, then next-fit (a deleted id is not reused before the wrap)", () => {
  const t = topo();
  assert.deepEqual([t.ipvl0.devId, t.ipvl1.devId], [1, 2]);
  const a = add(t.k, "a", t.eth0, "mode l2");
  rtnlDelLink(t.ipvl0);
  const c = add(t.k, "c", t.eth0, "mode l2");
  assert.deepEqual([a.devId, c.devId], [3, 4]);
  const port = ipvlanPortGet(t.eth0)!;
  port.devIdStart = 0xfffd;
  const top = add(t.k, "top", t.eth0, "mode l2");
  const wrapped = add(t.k, "wrapped", t.eth0, "mode l2");
  assert.deepEqual(
    [top.devId, wrapped.devId],
    [0xfffd, 1],
    "0xFFFE is never used; the cursor wraps to the freed id 1",
  );
});

test("statement 30: the last slave's deletion frees the master's rx_handler; a new port starts afresh", () => {
  const t = topo("mode l2 private");
  rtnlDelLink(t.ipvl0);
  assert.notEqual(t.eth0.rxHandler, null);
  rtnlDelLink(t.ipvl1);
  assert.equal(t.eth0.rxHandler, null);
  rtnlNewLink(t.k.initNet, { kind: "macvlan", name: "mv0", link: t.eth0 });
  rtnlDelLink(t.k.initNet.dev("mv0")!);
  const fresh = add(t.k, "fresh", t.eth0, "");
  assert.equal(`${modeOf(fresh)} ${fresh.devId}`, "mode l3 bridge 1");
});

test("a slave moved to another namespace, and the deletion of that namespace, keep the port consistent", () => {
  const t = topo();
  netnsDelete(t.ns0);
  const port = ipvlanPortGet(t.eth0)!;
  assert.deepEqual(
    port.ipvlans.map((d) => d.name),
    ["ipvl1"],
  );
  assert.equal(port.count, 1);
  netnsDelete(t.ns1);
  assert.equal(t.eth0.rxHandler, null);
});

test("the master may not change type while it has slaves (PRE_TYPE_CHANGE vetoed)", () => {
  const t = topo();
  assert.throws(() => t.k.netdevChain.call({ event: "PRE_TYPE_CHANGE", dev: t.eth0 }), { code: "EPERM" });
});

test("statements 35, 36: ethtool driver info, noqueue; ipvtap has a qdisc with qlen 500", () => {
  const t = topo();
  assert.deepEqual(t.ipvl0.ethtoolDrvinfo(), { driver: "ipvlan", version: "0.1" });
  assert.equal(t.ipvl0.qdisc, "noqueue");
  assert.deepEqual([t.ipvl0.numTxQueues, t.ipvl0.numRxQueues], [1, 1]);
  const tap = rtnlNewLink(t.k.initNet, {
    kind: "ipvtap",
    name: "ipvt0",
    link: t.eth0,
    infoData: opts("mode l2"),
  });
  assert.equal(`${tap.linkInfo()?.kind} ${tap.qdisc} ${tap.txqlen}`, "ipvtap pfifo_fast 500");
  assert.equal(tap.devId, 3);
});

test("statement 84: leaving l3s removes the LOCAL_IN hooks and the master's l3mdev hook", () => {
  const t = topo("mode l3s");
  assert.equal(ipvlanNfHookRefcnt(t.k.initNet), 1);
  assert.notEqual(t.eth0.l3mdevRcv, null);
  rtnlSetLink(t.ipvl0, { kind: "ipvlan", infoData: opts("mode l3") });
  assert.equal(ipvlanNfHookRefcnt(t.k.initNet), 0);
  assert.equal(t.eth0.l3mdevRcv, null);
});
