import assert from "node:assert/strict";
import { test } from "node:test";
import { ipv4Lab, mac } from "../../../test/kernel/ipv4-lab.ts";
import { formatIpv4, parseIpv4 } from "../../wire/index.ts";
import { devClose, devOpen } from "../dev.ts";
import { inetAddrDel } from "./devinet.ts";
import { fibLookup, fibRouteAdd, fibRouteDel, fibRoutes } from "./fib.ts";
import { ipRouteOutput } from "./route.ts";
import { type FibRoute, RT_TABLE, RTN, RTNH_F } from "./types.ts";

/** A compact `ip route show table all` line for assertions. */
function line(r: FibRoute): string {
  const type = ["", "unicast", "local", "broadcast", "", "", "blackhole", "unreachable", "prohibit", "throw"][
    r.type
  ];
  const dst = r.dstLen === 32 ? formatIpv4(r.dst) : `${formatIpv4(r.dst)}/${r.dstLen}`;
  const nh = r.nexthops[0];
  const via = nh?.gw ? ` via ${formatIpv4(nh.gw)}` : "";
  const dev = nh?.dev ? ` dev ${nh.dev.name}` : "";
  const src = r.prefsrc ? ` src ${formatIpv4(r.prefsrc)}` : "";
  const metric = r.priority ? ` metric ${r.priority}` : "";
  const flags = r.flags & RTNH_F.LINKDOWN || nh?.flags & RTNH_F.LINKDOWN ? " linkdown" : "";
  return `${type} ${dst}${via}${dev} table ${r.table} proto ${r.protocol} scope ${r.scope}${src}${metric}${flags}`;
}

function setup() {
  const lab = ipv4Lab();
  const t1 = lab.ns("t1");
  const t2 = lab.ns("t2");
  const [v0] = lab.veth(t1, "v0", t2, "v1", mac(1), mac(2));
  return { lab, t1, v0 };
}

test("an address brings Linux's automatic routes: local, broadcast, prefix (no network broadcast)", () => {
  const { lab, t1, v0 } = setup();
  lab.addr(v0, "10.0.0.1/24");
  lab.addr(v0, "10.0.1.1/24", true);
  lab.addr(v0, "10.0.0.5/24");
  assert.deepEqual(fibRoutes(t1).map(line), [
    "unicast 10.0.0.0/24 dev v0 table 254 proto 2 scope 253 src 10.0.0.1",
    "unicast 10.0.1.0/24 dev v0 table 254 proto 2 scope 253 src 10.0.1.1",
    "local 10.0.0.1 dev v0 table 255 proto 2 scope 254 src 10.0.0.1",
    "local 10.0.0.5 dev v0 table 255 proto 2 scope 254 src 10.0.0.1",
    "broadcast 10.0.0.255 dev v0 table 255 proto 2 scope 253 src 10.0.0.1",
    "local 10.0.1.1 dev v0 table 255 proto 2 scope 254 src 10.0.1.1",
    "broadcast 10.0.1.255 dev v0 table 255 proto 2 scope 253 src 10.0.1.1",
    "local 127.0.0.0/8 dev lo table 255 proto 2 scope 254 src 127.0.0.1",
    "local 127.0.0.1 dev lo table 255 proto 2 scope 254 src 127.0.0.1",
    "broadcast 127.255.255.255 dev lo table 255 proto 2 scope 253 src 127.0.0.1",
  ]);
});

test("route add/append/replace ordering and errors match Linux", () => {
  const { lab, t1, v0 } = setup();
  lab.addr(v0, "10.0.0.1/24");
  const add = (
    dst: string,
    len: number,
    extra: Partial<Parameters<typeof fibRouteAdd>[1]> = {},
    nl?: object,
  ) => fibRouteAdd(t1, { dst: parseIpv4(dst), dstLen: len, ...extra }, nl);
  add("10.0.0.0", 8, { gw: parseIpv4("10.0.0.2") });
  add("10.0.0.0", 16, { gw: parseIpv4("10.0.0.2") });
  add("10.0.0.0", 16, { gw: parseIpv4("10.0.0.3"), priority: 5 });
  assert.throws(() => add("10.0.0.0", 16, { gw: parseIpv4("10.0.0.3"), priority: 5 }), { code: "EEXIST" });
  add("10.0.0.0", 16, { gw: parseIpv4("10.0.0.4"), priority: 5 }, { create: true, append: true });
  add("9.0.0.0", 8, { gw: parseIpv4("10.0.0.4"), priority: 5 });
  assert.throws(() => add("11.0.0.0", 8, { gw: parseIpv4("11.0.0.4") }), {
    code: "ENETUNREACH",
    message: "Nexthop has invalid gateway",
  });
  add("11.0.0.0", 8, { gw: parseIpv4("10.0.0.1") });
  assert.throws(() => add("12.0.0.0", 8, { dev: v0, prefsrc: parseIpv4("1.2.3.4") }), {
    code: "EINVAL",
    message: "Invalid prefsrc address",
  });
  assert.throws(() => add("12.0.0.1", 8, { dev: v0 }), { message: "Invalid prefix for given prefix length" });
  assert.throws(() => add("13.0.0.0", 8, { type: RTN.BLACKHOLE, dev: v0 }), {
    message: "Gateway, device and multipath can not be specified for this route type",
  });
  add("13.0.0.0", 8, { type: RTN.BLACKHOLE });
  add("0.0.0.0", 0, { gw: parseIpv4("10.0.0.9") });
  assert.throws(() => fibRouteDel(t1, { dst: parseIpv4("17.0.0.0"), dstLen: 8 }), { code: "ESRCH" });
  assert.throws(
    () => fibRouteDel(t1, { dst: parseIpv4("10.0.0.0"), dstLen: 16, gw: parseIpv4("10.0.0.9") }),
    { code: "ESRCH" },
  );
  assert.deepEqual(fibRoutes(t1, RT_TABLE.MAIN).map(line), [
    "unicast 0.0.0.0/0 via 10.0.0.9 dev v0 table 254 proto 3 scope 0",
    "unicast 9.0.0.0/8 via 10.0.0.4 dev v0 table 254 proto 3 scope 0 metric 5",
    "unicast 10.0.0.0/24 dev v0 table 254 proto 2 scope 253 src 10.0.0.1",
    "unicast 10.0.0.0/16 via 10.0.0.2 dev v0 table 254 proto 3 scope 0",
    "unicast 10.0.0.0/16 via 10.0.0.3 dev v0 table 254 proto 3 scope 0 metric 5",
    "unicast 10.0.0.0/16 via 10.0.0.4 dev v0 table 254 proto 3 scope 0 metric 5",
    "unicast 10.0.0.0/8 via 10.0.0.2 dev v0 table 254 proto 3 scope 0",
    "unicast 11.0.0.0/8 via 10.0.0.1 dev v0 table 254 proto 3 scope 0",
    "blackhole 13.0.0.0/8 table 254 proto 3 scope 0",
  ]);
  // replace swaps the first route of the same metric; change needs an existing one.
  add("10.0.0.0", 16, { gw: parseIpv4("10.0.0.7"), priority: 5 }, { create: true, replace: true });
  assert.equal(
    fibRoutes(t1, RT_TABLE.MAIN)
      .filter((r) => r.dstLen === 16)
      .map(line)[1],
    "unicast 10.0.0.0/16 via 10.0.0.7 dev v0 table 254 proto 3 scope 0 metric 5",
  );
  assert.throws(() => add("14.0.0.0", 8, { dev: v0 }, { replace: true }), { code: "ENOENT" });
});

test("link down keeps local routes, drops the rest; up restores the prefix and broadcast routes only", () => {
  const { lab, t1, v0 } = setup();
  lab.addr(v0, "10.0.0.1/24");
  lab.route(t1, "default", "10.0.0.9");
  devClose(v0);
  assert.deepEqual(
    fibRoutes(t1)
      .map(line)
      .filter((l) => l.includes("v0")),
    ["local 10.0.0.1 dev v0 table 255 proto 2 scope 254 src 10.0.0.1"],
  );
  devOpen(v0);
  lab.k.loop.settle();
  assert.deepEqual(
    fibRoutes(t1)
      .map(line)
      .filter((l) => l.includes("v0")),
    [
      "unicast 10.0.0.0/24 dev v0 table 254 proto 2 scope 253 src 10.0.0.1",
      "local 10.0.0.1 dev v0 table 255 proto 2 scope 254 src 10.0.0.1",
      "broadcast 10.0.0.255 dev v0 table 255 proto 2 scope 253 src 10.0.0.1",
    ],
  );
});

test("carrier loss marks routes linkdown; deleting the last address removes every route via the device", () => {
  const { lab, t1, v0 } = setup();
  lab.addr(v0, "10.0.0.1/24");
  lab.route(t1, "10.9.0.0/16", "10.0.0.9");
  const peer = lab.k.namespaces.find((n) => n.name === "t2")!.dev("v1")!;
  devClose(peer);
  lab.k.loop.settle();
  assert.ok(fibRoutes(t1, RT_TABLE.MAIN).every((r) => r.flags & RTNH_F.LINKDOWN));
  devOpen(peer);
  lab.k.loop.settle();
  assert.ok(fibRoutes(t1, RT_TABLE.MAIN).every((r) => !(r.flags & RTNH_F.LINKDOWN)));
  inetAddrDel(v0, { local: parseIpv4("10.0.0.1"), address: parseIpv4("10.0.0.1"), prefixLen: 24 });
  assert.deepEqual(
    fibRoutes(t1)
      .map(line)
      .filter((l) => l.includes("v0")),
    [],
  );
});

test("lookups: longest prefix across local+main, reject types give their errno, oif fallback is on-link", () => {
  const { lab, t1, v0 } = setup();
  lab.addr(v0, "10.0.0.1/24");
  lab.route(t1, "10.5.0.0/16", "10.0.0.2");
  fibRouteAdd(t1, { dst: parseIpv4("10.6.0.0"), dstLen: 16, type: RTN.UNREACHABLE });
  fibRouteAdd(t1, { dst: parseIpv4("10.7.0.0"), dstLen: 16, type: RTN.PROHIBIT });
  fibRouteAdd(t1, { dst: parseIpv4("10.8.0.0"), dstLen: 16, type: RTN.BLACKHOLE });
  const out = (d: string, oif = 0) => ipRouteOutput(t1, { daddr: parseIpv4(d), saddr: 0, oif });
  const r = out("10.5.1.1");
  assert.ok(typeof r !== "string");
  assert.equal(formatIpv4(r.gateway), "10.0.0.2");
  assert.equal(formatIpv4(r.saddr), "10.0.0.1");
  assert.equal(out("10.6.0.1"), "EHOSTUNREACH");
  assert.equal(out("10.7.0.1"), "EACCES");
  assert.equal(out("10.8.0.1"), "EINVAL");
  assert.equal(out("192.168.1.1"), "ENETUNREACH");
  const onlink = out("192.168.1.1", v0.ifindex);
  assert.ok(typeof onlink !== "string");
  assert.equal(onlink.gateway, 0);
  assert.equal(onlink.dev, v0);
  const local = out("10.0.0.1");
  assert.ok(typeof local !== "string");
  assert.equal(local.dev, t1.loopback);
  const res = fibLookup(t1, { daddr: parseIpv4("10.0.0.255"), saddr: 0 });
  assert.ok(typeof res !== "string");
  assert.equal(res.type, RTN.BROADCAST);
});
