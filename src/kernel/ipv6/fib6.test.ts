import assert from "node:assert/strict";
import { test } from "node:test";
import { formatIpv6, parseIpv6Prefix } from "../../wire/index.ts";
import { bootKernel } from "../boot.ts";
import { devOpen } from "../dev.ts";
import { KernelError } from "../errno.ts";
import { fib6Insert, fib6Table, fib6TableLookup, fib6TreeCompare, newFib6Route } from "./fib6.ts";
import { ipv6Init } from "./index.ts";
import { ICMPV6_ROUTER_PREF, RTPROT } from "./types.ts";

function setup() {
  const k = bootKernel();
  ipv6Init(k);
  const net = k.initNet;
  const lo = net.loopback;
  const veth = k.linkKinds.get("veth")!;
  const e0 = veth.newLink(net, { name: "e0", peer: { name: "e1" } });
  const e1 = net.dev("e1")!;
  devOpen(e0);
  devOpen(e1);
  const route = (cidr: string, extra: Partial<Parameters<typeof newFib6Route>[0]> = {}) => {
    const p = cidr === "default" ? { addr: 0n, len: 0 } : parseIpv6Prefix(cidr);
    return newFib6Route({
      table: 100,
      dst: p.addr,
      dstLen: p.len,
      protocol: RTPROT.BOOT,
      metric: 1024,
      dev: e0,
      ...extra,
    });
  };
  return { net, lo, e0, e1, route };
}

test("tree order: deeper prefixes first, 0-branch before 1-branch, default last", () => {
  const { route } = setup();
  const names = [
    "default",
    "2001:db8::/32",
    "2001:db8::/64",
    "2001:db8:5::/64",
    "fe80::/64",
    "::1/128",
    "ff00::/8",
  ];
  const sorted = names.map((n) => ({ n, r: route(n) })).sort((a, b) => fib6TreeCompare(a.r, b.r));
  assert.deepEqual(
    sorted.map((x) => x.n),
    ["::1/128", "2001:db8::/64", "2001:db8:5::/64", "2001:db8::/32", "fe80::/64", "ff00::/8", "default"],
  );
});

test("insert: EXCL refuses any route of the same prefix and metric; kernel adds refuse duplicates only", () => {
  const { net, e1, route } = setup();
  fib6Insert(net, route("2001:db8::/64"), { create: true, excl: true });
  assert.throws(
    () => fib6Insert(net, route("2001:db8::/64", { dev: e1 }), { create: true, excl: true }),
    KernelError,
  );
  fib6Insert(net, route("2001:db8::/64", { dev: e1 }), null);
  assert.throws(() => fib6Insert(net, route("2001:db8::/64", { dev: e1 }), null), KernelError);
  fib6Insert(net, route("2001:db8::/64", { metric: 10 }), { create: true, excl: true });
  assert.deepEqual(
    fib6Table(net, 100, false)!.map((r) => `${r.dev.name} ${r.metric}`),
    ["e0 10", "e0 1024", "e1 1024"],
  );
  // Replace swaps the first route of the same metric in place.
  fib6Insert(net, route("2001:db8::/64", { dev: e1, metric: 10 }), { create: true, replace: true });
  assert.deepEqual(
    fib6Table(net, 100, false)!.map((r) => `${r.dev.name} ${r.metric}`),
    ["e1 10", "e0 1024", "e1 1024"],
  );
  assert.throws(
    () => fib6Insert(net, route("2001:db8:9::/64"), { replace: true }),
    (e: unknown) => e instanceof KernelError && e.code === "ENOENT",
  );
});

test("lookup: longest prefix, strict oif backtracks to shorter prefixes, preference breaks ties", () => {
  const { net, e0, e1, route } = setup();
  fib6Insert(net, route("2001:db8::/64", { dev: e1 }), null);
  fib6Insert(net, route("default", { gateway: (0xfe80n << 112n) | 1n }), null);
  fib6Insert(
    net,
    route("default", { dev: e1, gateway: (0xfe80n << 112n) | 2n, pref: ICMPV6_ROUTER_PREF.HIGH }),
    null,
  );
  const d = parseIpv6Prefix("2001:db8::5/128").addr;
  const o = (oif: number, strict: boolean) => ({ oif, strict, reachable: false, saddr: 0n });
  assert.equal(fib6TableLookup(net, 100, d, o(0, false))?.dstLen, 64);
  const viaE0 = fib6TableLookup(net, 100, d, o(e0.ifindex, true));
  assert.equal(viaE0?.dstLen, 0);
  assert.equal(formatIpv6(viaE0!.gateway!), "fe80::1");
  const any = fib6TableLookup(net, 100, parseIpv6Prefix("2003::1/128").addr, o(0, false));
  assert.equal(formatIpv6(any!.gateway!), "fe80::2", "pref high wins among equal metrics");
  assert.equal(fib6TableLookup(net, 101, d, o(0, false)), null);
});
