import assert from "node:assert/strict";
import { test } from "node:test";
import { formatIpv6, parseIpv6 } from "../../wire/index.ts";
import { bootKernel } from "../boot.ts";
import { devOpen } from "../dev.ts";
import {
  commonPrefixLen,
  ipv6AddrRtScope,
  ipv6AddrSrcScope,
  ipv6ChkAddr,
  ipv6DevGetSaddr,
} from "./addr-util.ts";
import { inet6AddrAdd } from "./addrconf.ts";
import { ipv6Init } from "./index.ts";
import { RT_SCOPE } from "./types.ts";

test("scopes", () => {
  assert.equal(ipv6AddrRtScope(parseIpv6("::1")), RT_SCOPE.HOST);
  assert.equal(ipv6AddrRtScope(parseIpv6("fe80::1")), RT_SCOPE.LINK);
  assert.equal(ipv6AddrRtScope(parseIpv6("fec0::1")), RT_SCOPE.SITE);
  assert.equal(ipv6AddrRtScope(parseIpv6("2001:db8::1")), RT_SCOPE.UNIVERSE);
  assert.equal(ipv6AddrSrcScope(parseIpv6("ff05::2")), 5);
  assert.equal(commonPrefixLen(parseIpv6("2001:db8::1"), parseIpv6("2001:db8::1")), 128);
  assert.equal(commonPrefixLen(parseIpv6("2001:db8::1"), parseIpv6("2001:db8:8000::")), 32);
});

test("source selection: same address, scope, non-deprecated, longest match; tentative never", () => {
  const k = bootKernel();
  ipv6Init(k);
  const net = k.initNet;
  const e0 = k.linkKinds
    .get("veth")!
    .newLink(net, { name: "e0", address: 0x020000000001, peer: { name: "e1" } });
  devOpen(e0);
  devOpen(net.dev("e1")!);
  const add = (a: string, len: number, extra = {}) =>
    inet6AddrAdd(e0, { addr: parseIpv6(a), prefixLen: len, flags: 0x02, create: true, excl: true, ...extra });
  k.loop.runUntil(3_000_000_000n);
  add("2001:db8:1::1", 64);
  add("2001:db8:2::1", 64, { preferredLft: 0, validLft: 100 });
  add("2001:db8:2::2", 64);
  const sel = (d: string, dev = e0) => formatIpv6(ipv6DevGetSaddr(net, dev, parseIpv6(d)) ?? 0n);
  assert.equal(sel("fe80::9"), "fe80::ff:fe00:1");
  assert.equal(sel("ff02::1"), "fe80::ff:fe00:1");
  assert.equal(sel("2001:db8:2::1"), "2001:db8:2::1", "rule 1 beats deprecation");
  assert.equal(sel("2001:db8:2::9"), "2001:db8:2::2", "deprecated avoided");
  assert.equal(sel("2001:db8:1::9"), "2001:db8:1::1");
  assert.equal(
    sel("2003::1", net.loopback),
    "2001:db8:2::2",
    "global destination: any device; ties keep list order",
  );
  add("2001:db8:3::1", 64, { flags: 0 });
  assert.ok(!ipv6ChkAddr(net, parseIpv6("2001:db8:3::1"), null), "tentative addresses are not ours yet");
  assert.equal(sel("2001:db8:3::9"), "2001:db8:2::2");
});
