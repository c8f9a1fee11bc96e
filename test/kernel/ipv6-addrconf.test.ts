/**
 * addrconf scenarios: link-local generation (EUI-64 with dev_id, as ipv6-link-local.out
 * recorded), DAD timing and failure, NOARP devices, addrgenmode none, address errors, list
 * order, lifetimes, down/up, netns moves, disable_ipv6 and the address notifier chains.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bootKernel,
  devChangeFlags,
  devChangeNetNamespace,
  devClose,
  devOpen,
  IFF,
  KernelError,
  NSEC_PER_SEC,
} from "../../src/kernel/index.ts";
import {
  inet6AddrAdd,
  inet6AddrDel,
  inet6AddrLifetimes,
  ip6RouteDump,
  ipv6DevAddrs,
  ipv6DevMcList,
  ipv6Init,
} from "../../src/kernel/ipv6/index.ts";
import { formatIpv6, formatMac, parseIpv6, parseMac } from "../../src/wire/index.ts";
import { ipv6Lab, MAC1, MAC2 } from "./ipv6-lab.ts";

function routes(net: Parameters<typeof ip6RouteDump>[0]): string[] {
  return ip6RouteDump(net).map((r) => {
    const t = r.table === 255 ? " table local" : r.table === 254 ? "" : ` table ${r.table}`;
    const type = r.type === 2 ? "local " : r.type === 5 ? "multicast " : r.type === 4 ? "anycast " : "";
    return `${type}${formatIpv6(r.dst)}${r.dstLen === 128 ? "" : `/${r.dstLen}`} dev ${r.dev.name}${t} metric ${r.metric}`;
  });
}

test("link-local addresses come from EUI-64, with dev_id replacing ff:fe (ipv6-link-local.out)", () => {
  const lab = ipv6Lab();
  const cases: [string, number, string][] = [
    ["02:00:00:00:00:02", 0, "fe80::ff:fe00:2/64"],
    ["02:00:00:00:00:02", 1, "fe80::200:0:100:2/64"],
    ["02:00:00:00:00:02", 2, "fe80::200:0:200:2/64"],
    ["02:00:00:00:00:02", 4, "fe80::200:0:400:2/64"],
    ["52:54:00:12:34:56", 0, "fe80::5054:ff:fe12:3456/64"],
    ["52:54:00:12:34:56", 1, "fe80::5254:0:112:3456/64"],
    ["52:54:00:12:34:56", 2, "fe80::5254:0:212:3456/64"],
  ];
  cases.forEach(([mac, devId, want], i) => {
    const a = lab.ns(`a${i}`);
    const [d, peer] = lab.veth(a, "d", parseMac(mac), a, "p", MAC1);
    d.devId = devId;
    lab.up(d, peer);
    lab.run(3000);
    assert.deepEqual(lab.addrs(d), [want], `${mac} dev_id ${devId}`);
  });
});

test("DAD: the link-local is tentative until one NS and one retrans time passed", () => {
  const lab = ipv6Lab(11);
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [e0, e1] = lab.veth(a, "e0", MAC1, b, "e1", MAC2);
  const cap = lab.capture(e0);
  lab.up(e1, e0);
  const ready = lab.k.now;
  lab.run(1);
  assert.deepEqual(lab.addrs(e0), ["fe80::ff:fe00:1/64 tentative"]);
  assert.ok(!routes(a).includes("local fe80::ff:fe00:1 dev e0 table local metric 0"));
  assert.ok(routes(a).includes("fe80::/64 dev e0 metric 256"));
  lab.run(3000);
  assert.deepEqual(lab.addrs(e0), ["fe80::ff:fe00:1/64"]);
  const ns = cap.find((c) => c.dir === "out" && c.frame.icmpv6?.kind === "neighbor-solicit");
  assert.ok(ns);
  assert.equal(ns.frame.ipv6?.src, 0n);
  assert.equal(formatIpv6(ns.frame.ipv6!.dst), "ff02::1:ff00:1");
  assert.equal(formatMac(ns.frame.eth.dst), "33:33:ff:00:00:01");
  const opts = ns.frame.icmpv6?.kind === "neighbor-solicit" ? ns.frame.icmpv6.options : [];
  assert.deepEqual(
    opts.map((o) => (o.kind === "unknown" ? o.type : o.kind)),
    [14],
    "a DAD probe carries only the nonce option",
  );
  assert.ok(ns.time - ready < NSEC_PER_SEC, "first probe within rtr_solicit_delay");
  // One probe only (dad_transmits 1); the address became usable 1 s after it.
  assert.equal(cap.filter((c) => c.dir === "out" && c.frame.icmpv6?.kind === "neighbor-solicit").length, 1);
  assert.deepEqual(routes(a), [
    "fe80::/64 dev e0 metric 256",
    "local ::1 dev lo table local metric 0",
    "local fe80::ff:fe00:1 dev e0 table local metric 0",
    "multicast ff00::/8 dev e0 table local metric 256",
  ]);
  assert.deepEqual(
    lab.k.log.map((l) => l.text).filter((t) => t.includes("e0")),
    ["IPv6: ADDRCONF(NETDEV_CHANGE): e0: link becomes ready"],
  );
});

test("DAD failure: the address stays, dadfailed and tentative, without a local route", () => {
  const lab = ipv6Lab(5);
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [e0, e1] = lab.veth(a, "e0", MAC1, b, "e1", MAC2);
  lab.up(e0, e1);
  lab.run(3000);
  lab.addr(e1, "2001:db8::1/64", 0x02);
  lab.run(100);
  lab.addr(e0, "2001:db8::1/64");
  assert.deepEqual(lab.addrs(e0), ["2001:db8::1/64 tentative", "fe80::ff:fe00:1/64"]);
  lab.run(3000);
  assert.deepEqual(lab.addrs(e0), ["2001:db8::1/64 dadfailed tentative", "fe80::ff:fe00:1/64"]);
  assert.ok(
    lab.k.log.some(
      (l) => l.text === "IPv6: e0: IPv6 duplicate address 2001:db8::1 used by 02:00:00:00:00:02 detected!",
    ),
  );
  assert.ok(routes(a).includes("2001:db8::/64 dev e0 metric 256"));
  assert.ok(!routes(a).some((r) => r.startsWith("local 2001:db8::1")));
  const group = ipv6DevMcList(e0).find((m) => formatIpv6(m.addr) === "ff02::1:ff00:1");
  assert.equal(group?.users, 2, "the solicited-node group stays joined");
  // The other side keeps its address and is not disturbed.
  assert.deepEqual(lab.addrs(e1), ["2001:db8::1/64 nodad", "fe80::ff:fe00:2/64"]);
});

test("NOARP devices skip DAD and join no solicited-node group", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  devChangeFlags(e0, IFF.NOARP, IFF.NOARP);
  lab.up(e0, e1);
  lab.run(10);
  assert.deepEqual(lab.addrs(e0), ["fe80::ff:fe00:1/64"]);
  lab.addr(e0, "2001:db8::1/64");
  assert.deepEqual(lab.addrs(e0), ["2001:db8::1/64", "fe80::ff:fe00:1/64"]);
  assert.deepEqual(
    ipv6DevMcList(e0).map((m) => formatIpv6(m.addr)),
    ["ff02::1", "ff01::1"],
  );
  assert.deepEqual([...e0.mcList.keys()].map(formatMac), ["33:33:00:00:00:01"]);
  assert.deepEqual(
    ipv6DevMcList(e1).map((m) => formatIpv6(m.addr)),
    ["ff02::1:ff00:2", "ff02::1", "ff01::1"],
  );
  assert.deepEqual([...e1.mcList.keys()].map(formatMac).sort(), ["33:33:00:00:00:01", "33:33:ff:00:00:02"]);
});

test("addrgenmode none: no link-local address and no fe80::/64 route", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  e0.addrGenMode = 1;
  lab.up(e0, e1);
  lab.run(3000);
  assert.deepEqual(lab.addrs(e0), []);
  assert.ok(
    !routes(a).some((r) => r.includes("dev e0")) || routes(a).every((r) => !r.startsWith("fe80::/64 dev e0")),
  );
  assert.ok(routes(a).includes("multicast ff00::/8 dev e0 table local metric 256"));
});

test("address errors follow Linux 6.1", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  lab.up(e0, e1);
  lab.addr(e0, "2001:db8::1/64");
  const code = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (e instanceof KernelError) return e.code;
      throw e;
    }
    return "ok";
  };
  const add =
    (addr: string, len: number, extra: object = {}) =>
    () =>
      inet6AddrAdd(e0, { addr: parseIpv6(addr), prefixLen: len, create: true, excl: true, ...extra });
  assert.equal(code(add("2001:db8::1", 64)), "EEXIST");
  assert.equal(code(add("2001:db8::1", 80)), "EEXIST");
  assert.equal(code(add("::", 64)), "EADDRNOTAVAIL");
  assert.equal(code(add("ff02::5", 64)), "EADDRNOTAVAIL");
  assert.equal(code(add("::1", 128)), "EADDRNOTAVAIL");
  assert.equal(code(add("2001:db8::7", 64, { validLft: 10, preferredLft: 20 })), "EINVAL");
  assert.equal(
    code(() => inet6AddrDel(e0, parseIpv6("2001:db8::9"), 64)),
    "EADDRNOTAVAIL",
  );
  assert.equal(
    code(() => inet6AddrDel(e0, parseIpv6("2001:db8::1"), 80)),
    "EADDRNOTAVAIL",
  );
  a.sysctl.set("net.ipv6.conf.e0.disable_ipv6", "1");
  assert.deepEqual(lab.addrs(e0), []);
  assert.equal(code(add("2001:db8::3", 64)), "EACCES");
  a.sysctl.set("net.ipv6.conf.e0.disable_ipv6", "0");
  lab.run(3000);
  assert.deepEqual(lab.addrs(e0), ["fe80::ff:fe00:1/64"]);
  // replace modifies an existing address; a missing one is created.
  inet6AddrAdd(e0, {
    addr: parseIpv6("2001:db8::4"),
    prefixLen: 64,
    flags: 0x02,
    replace: true,
    create: true,
  });
  inet6AddrAdd(e0, {
    addr: parseIpv6("2001:db8::4"),
    prefixLen: 64,
    validLft: 200,
    preferredLft: 100,
    replace: true,
  });
  assert.deepEqual(lab.addrs(e0), ["2001:db8::4/64 dynamic", "fe80::ff:fe00:1/64"]);
});

test("address order, lifetimes, deprecation and expiry", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  lab.up(e0, e1);
  lab.run(3000);
  lab.addr(e0, "2001:db8::1/64");
  lab.addr(e0, "2001:db8:1::1/64");
  lab.addr(e0, "2001:db8:2::1/64", 0x02);
  inet6AddrAdd(e0, {
    addr: parseIpv6("2001:db8::2"),
    prefixLen: 128,
    validLft: 100,
    preferredLft: 50,
    create: true,
    excl: true,
  });
  assert.deepEqual(lab.addrs(e0), [
    "2001:db8::2/128 tentative dynamic",
    "2001:db8:2::1/64 nodad",
    "2001:db8:1::1/64 tentative",
    "2001:db8::1/64 tentative",
    "fe80::ff:fe00:1/64",
  ]);
  lab.run(10_000);
  const tmp = ipv6DevAddrs(e0)[0];
  assert.deepEqual(inet6AddrLifetimes(tmp), { valid: 90, preferred: 40 });
  lab.run(41_000);
  assert.equal(lab.addrs(e0)[0], "2001:db8::2/128 deprecated dynamic");
  lab.run(50_000);
  assert.ok(!lab.addrs(e0).some((x) => x.startsWith("2001:db8::2/")));
});

test("down removes every address and route of the device; keep_addr_on_down keeps global ones", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  lab.up(e0, e1);
  lab.addr(e0, "2001:db8::1/64");
  lab.run(3000);
  devClose(e0);
  assert.deepEqual(lab.addrs(e0), []);
  assert.deepEqual(
    routes(a).filter((r) => !r.includes("e1")),
    ["local ::1 dev lo table local metric 0"],
  );
  assert.deepEqual(
    ipv6DevMcList(e0).map((m) => formatIpv6(m.addr)),
    ["ff02::1", "ff01::1"],
  );
  assert.deepEqual([...e0.mcList.keys()], [], "no link-layer groups while down");
  devOpen(e0);
  lab.run(3000);
  assert.deepEqual(lab.addrs(e0), ["fe80::ff:fe00:1/64"]);
  a.sysctl.set("net.ipv6.conf.e0.keep_addr_on_down", "1");
  lab.addr(e0, "2001:db8::1/64");
  lab.run(3000);
  devClose(e0);
  assert.deepEqual(lab.addrs(e0), ["2001:db8::1/64 tentative"]);
  devOpen(e0);
  lab.run(3000);
  assert.deepEqual(lab.addrs(e0), ["2001:db8::1/64", "fe80::ff:fe00:1/64"]);
  assert.ok(routes(a).includes("local 2001:db8::1 dev e0 table local metric 0"));
  assert.ok(routes(a).includes("2001:db8::/64 dev e0 metric 256"));
});

test("the validator chain can refuse an address; the address chain hears UP and DOWN", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  const seen: string[] = [];
  lab.k.inet6addrChain.register((ev) =>
    seen.push(`${ev.event} ${ev.dev.name} ${formatIpv6(ev.addr.addr)}/${ev.addr.prefixLen}`),
  );
  lab.k.inet6addrValidatorChain.register((ev) => {
    if (formatIpv6(ev.addr.addr) === "2001:db8::66")
      throw new KernelError("EADDRINUSE", "Address already assigned to an ipvlan device");
  });
  lab.up(e0, e1);
  lab.run(3000);
  lab.addr(e0, "2001:db8::1/64");
  assert.throws(
    () => lab.addr(e0, "2001:db8::66/64"),
    (e: unknown) => e instanceof KernelError && e.extack === "Address already assigned to an ipvlan device",
  );
  inet6AddrDel(e0, parseIpv6("2001:db8::1"), 64);
  assert.deepEqual(
    seen.filter((s) => s.includes(" e0 ")),
    ["UP e0 fe80::ff:fe00:1/64", "UP e0 2001:db8::1/64", "DOWN e0 2001:db8::1/64"],
  );
});

test("lo gets ::1/128 scope host; a netns move flushes addresses and keeps the link-local", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const b = lab.ns("b");
  assert.deepEqual(lab.addrs(a.loopback), ["::1/128"]);
  assert.equal(ipv6DevAddrs(a.loopback)[0].scope, 254);
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  e0.devId = 3;
  lab.up(e0, e1);
  lab.addr(e0, "2001:db8::1/64");
  lab.run(3000);
  devChangeNetNamespace(e0, b);
  assert.deepEqual(lab.addrs(e0), []);
  assert.equal(a.sysctl.get("net.ipv6.conf.e0.forwarding"), undefined);
  assert.equal(b.sysctl.get("net.ipv6.conf.e0.forwarding"), "0");
  devOpen(e0);
  lab.run(3000);
  assert.deepEqual(lab.addrs(e0), ["fe80::200:0:300:1/64"]);
});

test("forwarding on: subnet-router anycast routes and groups, all-routers groups (as Linux lists them)", () => {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [e0, e1] = lab.veth(a, "e0", MAC1, b, "e1", MAC2);
  a.sysctl.set("net.ipv6.conf.all.forwarding", "1");
  assert.equal(a.sysctl.get("net.ipv6.conf.e0.forwarding"), "1");
  assert.equal(a.sysctl.get("net.ipv6.conf.default.forwarding"), "1");
  lab.up(e0, e1);
  lab.addr(e0, "2001:db8::1/64");
  lab.run(2500);
  assert.deepEqual(routes(a), [
    "2001:db8::/64 dev e0 metric 256",
    "fe80::/64 dev e0 metric 256",
    "local ::1 dev lo table local metric 0",
    "anycast 2001:db8:: dev e0 table local metric 0",
    "local 2001:db8::1 dev e0 table local metric 0",
    "anycast fe80:: dev e0 table local metric 0",
    "local fe80::ff:fe00:1 dev e0 table local metric 0",
    "multicast ff00::/8 dev e0 table local metric 256",
  ]);
  assert.deepEqual(
    ipv6DevMcList(e0).map((m) => `${formatIpv6(m.addr)}${m.users > 1 ? ` users ${m.users}` : ""}`),
    [
      "ff02::1:ff00:0 users 2",
      "ff02::1:ff00:1 users 2",
      "ff05::2",
      "ff01::2",
      "ff02::2",
      "ff02::1",
      "ff01::1",
    ],
  );
});

test("duplicate add / missing delete: 6.1 answers with the errno alone, 6.7 and later add extacks", () => {
  for (const [release, dup, missing] of [
    ["6.1.0", undefined, undefined],
    ["6.18.0", "ipv6: address already assigned", "ipv6: address not found"],
  ] as const) {
    const k = bootKernel({ release });
    ipv6Init(k);
    const d = k.linkKinds.get("dummy")!.newLink(k.initNet, { name: "d0" });
    devOpen(d);
    const addr = parseIpv6("2001:db8::1");
    inet6AddrAdd(d, { addr, prefixLen: 64, flags: 0, excl: true });
    assert.throws(
      () => inet6AddrAdd(d, { addr, prefixLen: 64, flags: 0, excl: true }),
      (e: unknown) => e instanceof KernelError && e.code === "EEXIST" && e.extack === dup,
      release,
    );
    assert.throws(
      () => inet6AddrDel(d, parseIpv6("2001:db8::2"), 64),
      (e: unknown) => e instanceof KernelError && e.code === "EADDRNOTAVAIL" && e.extack === missing,
      release,
    );
  }
});
