/**
 * `ip -6 route` semantics against what Linux answered (errors and extack texts, dump order,
 * replace/append/change, delete matching) and `ip -6 route get` results.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { KernelError, type NetNamespace } from "../../src/kernel/index.ts";
import {
  type Fib6Config,
  ip6RouteAdd,
  ip6RouteDel,
  ip6RouteDump,
  ip6RouteGet,
  ip6RouteOutput,
} from "../../src/kernel/ipv6/index.ts";
import { formatIpv6, parseIpv6, parseIpv6Prefix } from "../../src/wire/index.ts";
import { ipv6Lab, MAC1, MAC2 } from "./ipv6-lab.ts";

const TYPES: Record<number, string> = {
  2: "local ",
  4: "anycast ",
  5: "multicast ",
  6: "blackhole ",
  7: "unreachable ",
  8: "prohibit ",
};

function show(net: NetNamespace): string[] {
  return ip6RouteDump(net).map((r) => {
    const dst = r.dstLen === 0 ? "default" : `${formatIpv6(r.dst)}${r.dstLen === 128 ? "" : `/${r.dstLen}`}`;
    const via = r.gateway === null ? "" : ` via ${formatIpv6(r.gateway)}`;
    const t = r.table === 254 ? "" : r.table === 255 ? " table local" : ` table ${r.table}`;
    const proto = r.protocol === 2 ? " proto kernel" : "";
    return `${TYPES[r.type] ?? ""}${dst}${via} dev ${r.dev.name}${t}${proto} metric ${r.metric}`;
  });
}

function setup() {
  const lab = ipv6Lab();
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [e0, e1] = lab.veth(a, "e0", MAC1, b, "e1", MAC2);
  const [e2] = lab.veth(a, "e2", 0x02_00_00_00_00_03, a, "e3", 0x02_00_00_00_00_04);
  lab.up(e0, e1);
  lab.addr(e0, "2001:db8::1/64", 0x02);
  const add = (dst: string, extra: Partial<Fib6Config> = {}): string => {
    const p = dst === "default" ? { addr: 0n, len: 0 } : parseIpv6Prefix(dst);
    try {
      ip6RouteAdd(a, { dst: p.addr, dstLen: p.len, ...extra });
      return "ok";
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      return e.extack ? `Error: ${e.extack}.` : e.code;
    }
  };
  return { lab, a, e0, e2, add };
}

test("route add errors and messages match Linux", () => {
  const { e0, e2, add } = setup();
  const gw = (s: string) => parseIpv6(s);
  assert.equal(add("2001:db8:5::/64"), "ENODEV");
  assert.equal(add("2001:db8:5::1/64", { dev: e0 }), "ok");
  assert.equal(add("2001:db8:5::/64", { dev: e0 }), "EEXIST");
  assert.equal(add("2001:db8:5::/64", { dev: e0, metric: 10 }), "ok");
  assert.equal(add("2001:db8:5::/64", { gateway: gw("2001:db8::2") }), "EEXIST");
  assert.equal(add("2001:db8:6::/64", { gateway: gw("2001:db8::2") }), "ok");
  assert.equal(add("2001:db8:6::/64", { gateway: gw("2001:db8::3") }), "EEXIST");
  assert.equal(add("2001:db8:6::/64", { gateway: gw("2001:db8::3"), create: true, append: true }), "ok");
  assert.equal(add("2001:db8:7::/64", { gateway: gw("2001:db9::2") }), "EHOSTUNREACH");
  assert.equal(
    add("2001:db8:7::/64", { gateway: gw("2001:db8::1") }),
    "Error: Gateway can not be a local address.",
  );
  assert.equal(add("2001:db8:7::/64", { gateway: gw("fe80::1") }), "Error: Egress device not specified.");
  assert.equal(add("2001:db8:7::/64", { gateway: gw("fe80::1"), dev: e0 }), "ok");
  assert.equal(add("2001:db8:8::/64", { dev: e2 }), "Error: Nexthop device is not up.");
  assert.equal(add("2001:db8:8::/64", { gateway: gw("2001:db8::2"), dev: e2 }), "EHOSTUNREACH");
  assert.equal(add("default", { gateway: gw("fe80::1"), dev: e0 }), "ok");
  assert.equal(add("2001:db8:9::/64", { type: 6 }), "ok");
  assert.equal(add("2001:db8:a::/64", { type: 7 }), "ok");
  assert.equal(add("2001:db8:b::/64", { type: 8 }), "ok");
  assert.equal(add("2001:db8:c::/64", { dev: e0, table: 100 }), "ok");
  assert.equal(add("2001:db8:d::1/128", { dev: e0, type: 2, table: 255 }), "ok");
  assert.equal(
    add("2001:db8:f::/64", { dev: e0, replace: true }),
    "Error: Can not replace route - no match found.",
  );
  assert.equal(add("2001:db8:f::/64", { dev: e0, replace: true, create: true }), "ok");
  assert.equal(add("2001:db8:f::/64", { gateway: gw("2001:db8::5"), replace: true, create: true }), "ok");
  assert.equal(
    add("2001:db8:e::/64", { dev: e0, prefsrc: gw("2001:db8::77") }),
    "Error: Invalid source address.",
  );
});

test("route del matches device, gateway, metric; ESRCH otherwise", () => {
  const { a, e0, add } = setup();
  add("2001:db8:5::/64", { dev: e0 });
  add("2001:db8:5::/64", { dev: e0, metric: 10 });
  const del = (dst: string, extra: Partial<Fib6Config> = {}) => {
    const p = parseIpv6Prefix(dst);
    try {
      ip6RouteDel(a, { dst: p.addr, dstLen: p.len, ...extra });
      return "ok";
    } catch (e) {
      return (e as KernelError).code;
    }
  };
  assert.equal(del("2001:db8:e::/64"), "ESRCH");
  assert.equal(del("2001:db8:5::/64", { dev: e0, metric: 77 }), "ESRCH");
  assert.equal(del("2001:db8:5::/64", { metric: 10 }), "ok");
  assert.equal(del("2001:db8:5::/64", { table: 100 }), "ESRCH");
  assert.equal(del("2001:db8:5::/64"), "ok");
  assert.equal(del("2001:db8:5::/64"), "ESRCH");
});

test("dump order is the radix tree walk: tables by id, specific prefixes first, default last", () => {
  const { lab, a, e0, add } = setup();
  const gw = (s: string) => parseIpv6(s);
  add("2001:db8:5::/64", { dev: e0 });
  add("2001:db8:6::/64", { gateway: gw("2001:db8::2") });
  add("2001:db8:7::/64", { gateway: gw("fe80::1"), dev: e0 });
  add("default", { gateway: gw("fe80::1"), dev: e0 });
  add("2001:db8:9::/64", { type: 6 });
  add("2001:db8:a::/64", { type: 7 });
  add("2001:db8:b::/64", { type: 8 });
  add("2001:db8:c::/64", { dev: e0, table: 100 });
  add("2001:db8:d::1/128", { dev: e0, type: 2, table: 255 });
  add("2001:db8:f::/64", { gateway: gw("2001:db8::5"), replace: true, create: true });
  lab.run(3000);
  assert.deepEqual(show(a), [
    "2001:db8:c::/64 dev e0 table 100 metric 1024",
    "2001:db8::/64 dev e0 proto kernel metric 256",
    "2001:db8:5::/64 dev e0 metric 1024",
    "2001:db8:6::/64 via 2001:db8::2 dev e0 metric 1024",
    "2001:db8:7::/64 via fe80::1 dev e0 metric 1024",
    "blackhole 2001:db8:9::/64 dev lo metric 1024",
    "unreachable 2001:db8:a::/64 dev lo metric 1024",
    "prohibit 2001:db8:b::/64 dev lo metric 1024",
    "2001:db8:f::/64 via 2001:db8::5 dev e0 metric 1024",
    "fe80::/64 dev e0 proto kernel metric 256",
    "default via fe80::1 dev e0 metric 1024",
    "local ::1 dev lo table local proto kernel metric 0",
    "local 2001:db8::1 dev e0 table local proto kernel metric 0",
    "local 2001:db8:d::1 dev e0 table local metric 1024",
    "local fe80::ff:fe00:1 dev e0 table local proto kernel metric 0",
    "multicast ff00::/8 dev e0 table local proto kernel metric 256",
  ]);
});

test("route get: local via lo, reject errors, strict oif, sources", () => {
  const { lab, a, e0, add } = setup();
  const gw = (s: string) => parseIpv6(s);
  add("2001:db8:6::/64", { gateway: gw("2001:db8::2") });
  add("2001:db8:9::/64", { type: 6 });
  add("2001:db8:a::/64", { type: 7 });
  add("2001:db8:b::/64", { type: 8 });
  lab.run(3000);
  const get = (d: string, extra = {}) => {
    try {
      const r = ip6RouteGet(a, { daddr: parseIpv6(d), ...extra });
      return `${r.route?.type === 2 ? "local " : r.route?.type === 5 ? "multicast " : ""}${d}${r.route?.gateway ? ` via ${formatIpv6(r.route.gateway)}` : ""} dev ${r.dev.name} src ${formatIpv6(r.saddr)} metric ${r.route?.metric}`;
    } catch (e) {
      return (e as KernelError).code;
    }
  };
  assert.equal(get("2001:db8:6::1"), "2001:db8:6::1 via 2001:db8::2 dev e0 src 2001:db8::1 metric 1024");
  assert.equal(get("2001:db8::1"), "local 2001:db8::1 dev lo src 2001:db8::1 metric 0");
  assert.equal(get("fe80::1"), "fe80::1 dev e0 src fe80::ff:fe00:1 metric 256");
  assert.equal(get("2001:db8:9::1"), "EINVAL");
  assert.equal(get("2001:db8:a::1"), "EHOSTUNREACH");
  assert.equal(get("2001:db8:b::1"), "EACCES");
  assert.equal(get("2003::1"), "ENETUNREACH");
  assert.equal(get("ff02::1"), "multicast ff02::1 dev e0 src fe80::ff:fe00:1 metric 256");
  add("default", { gateway: gw("fe80::1"), dev: e0 });
  assert.equal(get("2003::1", { oif: e0.ifindex }), "2003::1 via fe80::1 dev e0 src 2001:db8::1 metric 1024");
  assert.equal(get("2003::1", { oif: a.loopback.ifindex }), "ENETUNREACH");
  const out = ip6RouteOutput(a, { daddr: parseIpv6("fe80::9"), oif: a.loopback.ifindex });
  assert.equal(out.error, "ENETUNREACH", "strict oif: no route via lo");
});
