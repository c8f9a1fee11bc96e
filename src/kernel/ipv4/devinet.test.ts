import assert from "node:assert/strict";
import { test } from "node:test";
import { ipv4Lab, mac } from "../../../test/kernel/ipv4-lab.ts";
import { formatIpv4, parseIpv4 } from "../../wire/index.ts";
import { bootKernel } from "../boot.ts";
import { devChangeNetNamespace } from "../dev.ts";
import { KernelError } from "../errno.ts";
import { inetAddrAdd, inetAddrDel, inetAddrList, inetSelectAddr } from "./devinet.ts";
import { fibRoutes } from "./fib.ts";
import { ipv4Init } from "./init.ts";
import { IFA_F, RT_SCOPE } from "./types.ts";

function setup() {
  const lab = ipv4Lab();
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [v0, v1] = lab.veth(a, "v0", b, "v1", mac(1), mac(2));
  return { lab, a, b, v0, v1 };
}

const list = (dev: Parameters<typeof inetAddrList>[1], net: Parameters<typeof inetAddrList>[0]) =>
  inetAddrList(net, dev).map(
    (i) => `${formatIpv4(i.local)}/${i.prefixLen}${i.flags & IFA_F.SECONDARY ? " secondary" : ""}`,
  );

test("loopback gets 127.0.0.1/8 scope host when it comes up", () => {
  const { a } = setup();
  const [lo] = inetAddrList(a, a.loopback);
  assert.equal(formatIpv4(lo.local), "127.0.0.1");
  assert.equal(lo.scope, RT_SCOPE.HOST);
  assert.ok(lo.flags & IFA_F.PERMANENT);
});

test("same subnet → secondary; duplicates → EEXIST (6.1: no extack); deleting a primary takes its secondaries", () => {
  const { lab, a, v0 } = setup();
  lab.addr(v0, "10.0.0.1/24");
  lab.addr(v0, "10.0.1.1/24");
  lab.addr(v0, "10.0.0.5/24");
  assert.deepEqual(list(v0, a), ["10.0.0.1/24", "10.0.1.1/24", "10.0.0.5/24 secondary"]);
  assert.throws(
    () => lab.addr(v0, "10.0.0.1/24"),
    (e: unknown) => e instanceof KernelError && e.code === "EEXIST" && e.extack === undefined,
  );
  assert.throws(
    () => inetAddrAdd(v0, { local: parseIpv4("10.0.0.6"), prefixLen: 24, scope: RT_SCOPE.LINK }),
    { code: "EINVAL", message: "ipv4: Invalid scope value" },
  );
  inetAddrDel(v0, { local: parseIpv4("10.0.0.1"), address: parseIpv4("10.0.0.1"), prefixLen: 24 });
  assert.deepEqual(list(v0, a), ["10.0.1.1/24"]);
  assert.throws(
    () => inetAddrDel(v0, { local: parseIpv4("10.0.0.1"), address: parseIpv4("10.0.0.1"), prefixLen: 24 }),
    {
      code: "EADDRNOTAVAIL",
      message: "ipv4: Address not found",
    },
  );
});

test("promote_secondaries: the first secondary becomes primary and its routes use it as source", () => {
  const { lab, a, v0 } = setup();
  a.sysctl.set("net.ipv4.conf.v0.promote_secondaries", "1");
  lab.addr(v0, "10.0.0.1/24");
  lab.addr(v0, "10.0.0.5/24");
  lab.addr(v0, "10.0.0.6/24");
  inetAddrDel(v0, { local: parseIpv4("10.0.0.1") });
  assert.deepEqual(list(v0, a), ["10.0.0.5/24", "10.0.0.6/24 secondary"]);
  const srcs = fibRoutes(a)
    .filter((r) => r.nexthops[0]?.dev === v0)
    .map((r) => `${formatIpv4(r.dst)}/${r.dstLen} ${formatIpv4(r.prefsrc)}`);
  assert.deepEqual(srcs, [
    "10.0.0.0/24 10.0.0.5",
    "10.0.0.5/32 10.0.0.5",
    "10.0.0.6/32 10.0.0.5",
    "10.0.0.255/32 10.0.0.5",
  ]);
});

test("the validator chain can refuse an address; the address chain hears UP and DOWN", () => {
  const { lab, v0 } = setup();
  const events: string[] = [];
  const validator = (e: { addr: { local: number } }) => {
    if (e.addr.local === parseIpv4("10.0.0.66")) throw new KernelError("EADDRINUSE", "taken");
  };
  const listener = (e: { event: string; addr: { local: number; address: number; prefixLen: number } }) =>
    events.push(`${e.event} ${formatIpv4(e.addr.local)}/${e.addr.prefixLen}`);
  lab.k.inetaddrValidatorChain.register(validator);
  lab.k.inetaddrChain.register(listener);
  assert.throws(() => lab.addr(v0, "10.0.0.66/24"), { code: "EADDRINUSE" });
  assert.equal(inetAddrList(v0.netns, v0).length, 0);
  lab.addr(v0, "10.0.0.7/24");
  inetAddrDel(v0, { local: parseIpv4("10.0.0.7") });
  assert.deepEqual(events, ["UP 10.0.0.7/24", "DOWN 10.0.0.7/24"]);
  lab.k.inetaddrValidatorChain.unregister(validator);
  lab.k.inetaddrChain.unregister(listener);
});

test("moving a device to another namespace flushes its addresses and routes", () => {
  const { lab, a, b, v0 } = setup();
  lab.addr(v0, "10.0.0.1/24");
  devChangeNetNamespace(v0, b, "v0moved");
  assert.equal(inetAddrList(b, v0).length, 0);
  assert.ok(fibRoutes(a).every((r) => r.nexthops.every((n) => n.dev !== v0)));
  assert.equal(b.sysctl.get("net.ipv4.conf.v0moved.forwarding"), "0");
  assert.equal(a.sysctl.get("net.ipv4.conf.v0.forwarding"), undefined);
});

test("finite lifetimes: deprecated after preferred_lft, deleted after valid_lft", () => {
  const { lab, a, v0 } = setup();
  inetAddrAdd(v0, { local: parseIpv4("10.0.0.9"), prefixLen: 24, validLft: 10, preferredLft: 5 });
  lab.run(5000);
  const [ifa] = inetAddrList(a, v0);
  assert.ok(ifa.flags & IFA_F.DEPRECATED);
  assert.ok(!(ifa.flags & IFA_F.PERMANENT));
  lab.run(5000);
  assert.equal(inetAddrList(a, v0).length, 0);
});

test("inet_select_addr prefers the destination's subnet, then the first primary in scope", () => {
  const { lab, v0 } = setup();
  lab.addr(v0, "10.0.0.1/24");
  lab.addr(v0, "192.168.5.1/24");
  assert.equal(formatIpv4(inetSelectAddr(v0, parseIpv4("192.168.5.9"), RT_SCOPE.UNIVERSE)), "192.168.5.1");
  assert.equal(formatIpv4(inetSelectAddr(v0, parseIpv4("8.8.8.8"), RT_SCOPE.UNIVERSE)), "10.0.0.1");
});

test("duplicate address: 6.1 answers EEXIST alone, 6.6 and later add the extack", () => {
  for (const [release, extack] of [
    ["6.1.0", undefined],
    ["6.18.0", "ipv4: Address already assigned"],
  ] as const) {
    const k = bootKernel({ release });
    ipv4Init(k);
    const d = k.linkKinds.get("dummy")!.newLink(k.initNet, { name: "d0" });
    inetAddrAdd(d, { local: parseIpv4("10.0.0.1"), prefixLen: 24 });
    assert.throws(
      () => inetAddrAdd(d, { local: parseIpv4("10.0.0.1"), prefixLen: 24 }),
      (e: unknown) => e instanceof KernelError && e.code === "EEXIST" && e.extack === extack,
      release,
    );
  }
});

test("promote_secondaries: the promoted address keeps its place unless other addresses stand before it", () => {
  const { lab, a, v0 } = setup();
  a.sysctl.set("net.ipv4.conf.v0.promote_secondaries", "1");
  lab.addr(v0, "192.168.7.1/32");
  lab.addr(v0, "10.0.3.1/24");
  lab.addr(v0, "10.0.3.2/24");
  inetAddrDel(v0, { local: parseIpv4("10.0.3.1") });
  assert.deepEqual(list(v0, a), ["192.168.7.1/32", "10.0.3.2/24"], "addrs.out: no prev_prom, no move");
  lab.addr(v0, "10.0.4.1/24");
  lab.addr(v0, "10.0.3.3/24");
  lab.addr(v0, "10.0.4.2/24");
  inetAddrDel(v0, { local: parseIpv4("10.0.4.1") });
  // 10.0.3.3 (another subnet's secondary) stood between: 10.0.4.2 moves behind last_prim.
  assert.deepEqual(list(v0, a), ["192.168.7.1/32", "10.0.4.2/24", "10.0.3.2/24", "10.0.3.3/24 secondary"]);
});
