import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  eui64Iid,
  eui64LinkLocal,
  formatIpv4,
  formatIpv4Prefix,
  formatIpv6,
  formatIpv6Prefix,
  formatMac,
  IPV6_ALL_NODES,
  ipv4InPrefix,
  ipv4Mask,
  ipv4MulticastMac,
  ipv4Network,
  ipv4PrefixBroadcast,
  ipv6InPrefix,
  ipv6IsLinkLocal,
  ipv6IsLoopback,
  ipv6IsMulticast,
  ipv6IsSolicitedNode,
  ipv6IsUnspecified,
  ipv6IsV4Mapped,
  ipv6Mask,
  ipv6MulticastMac,
  ipv6MulticastScope,
  ipv6Network,
  ipv6SolicitedNode,
  ipv6Words,
  isBroadcastMac,
  isIpv4Broadcast,
  isIpv4LinkLocal,
  isIpv4Loopback,
  isIpv4Multicast,
  isIpv4Unspecified,
  isLocalMac,
  isMulticastMac,
  isUnicastMac,
  MAC_BROADCAST,
  parseIpv4,
  parseIpv4Prefix,
  parseIpv6,
  parseIpv6Prefix,
  parseMac,
  readIpv4,
  readIpv6,
  readMac,
  writeIpv4,
  writeIpv6,
  writeMac,
} from "./addr.ts";
import { arbIpv6, arbMac, arbU32 } from "./test-arbitraries.ts";

test("readMac()/writeMac() use network byte order at an offset", () => {
  const buf = new Uint8Array([0xee, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xee]);
  assert.equal(readMac(buf, 1), 0x0200_0000_0002);
  const out = new Uint8Array(8).fill(0xa5);
  writeMac(out, 1, 0xfedc_ba98_7654);
  assert.deepEqual([...out], [0xa5, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0xa5]);
});

test("readIpv4()/writeIpv4() return unsigned values", () => {
  const buf = new Uint8Array([255, 255, 255, 254]);
  assert.equal(readIpv4(buf, 0), 0xffff_fffe);
  const out = new Uint8Array(4);
  writeIpv4(out, 0, 0xc0a8_0101);
  assert.deepEqual([...out], [192, 168, 1, 1]);
});

test("readIpv6()/writeIpv6() round-trip every address", () => {
  fc.assert(
    fc.property(arbIpv6, fc.integer({ min: 0, max: 8 }), (addr, off) => {
      const buf = new Uint8Array(off + 16);
      writeIpv6(buf, off, addr);
      assert.equal(readIpv6(buf, off), addr);
    }),
  );
});

test("parseMac() accepts iproute2 forms and formatMac() prints lowercase pairs", () => {
  assert.equal(parseMac("02:00:00:00:00:02"), 0x0200_0000_0002);
  assert.equal(parseMac("2:0:0:0:0:2"), 0x0200_0000_0002);
  assert.equal(parseMac("AA:bb:CC:dd:EE:ff"), 0xaabb_ccdd_eeff);
  assert.equal(formatMac(0x0200_0000_0002), "02:00:00:00:00:02");
  assert.equal(formatMac(MAC_BROADCAST), "ff:ff:ff:ff:ff:ff");
  assert.equal(formatMac(0), "00:00:00:00:00:00");
});

test("parseMac() throws SyntaxError on bad text", () => {
  for (const bad of [
    "",
    "02:00:00:00:00",
    "02:00:00:00:00:02:03",
    "020:00:00:00:00:02",
    "0g:00:00:00:00:02",
    "02-00-00-00-00-02",
  ]) {
    assert.throws(
      () => parseMac(bad),
      (e: unknown) => e instanceof SyntaxError && e.message.startsWith("Cannot parse MAC"),
    );
  }
});

test("parseIpv4()/formatIpv4() handle dotted quads", () => {
  assert.equal(parseIpv4("10.0.0.1"), 0x0a00_0001);
  assert.equal(parseIpv4("255.255.255.255"), 0xffff_ffff);
  assert.equal(formatIpv4(0xc0a8_0001), "192.168.0.1");
  assert.equal(formatIpv4(0xffff_ffff), "255.255.255.255");
  for (const bad of [
    "",
    "10.0.0",
    "10.0.0.1.2",
    "256.0.0.1",
    "10.0.0.01",
    " 10.0.0.1",
    "10.0.0.1/24",
    "a.b.c.d",
  ]) {
    assert.throws(() => parseIpv4(bad), SyntaxError, bad);
  }
});

test("formatIpv6() matches glibc inet_ntop as printed by iproute2", () => {
  const cases: [string, string][] = [
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["fe80:0:0:0:200:0:100:2", "fe80::200:0:100:2"],
    ["fe80:0:0:0:0:ff:fe00:2", "fe80::ff:fe00:2"],
    ["fe80:0:0:0:5054:ff:fe12:3456", "fe80::5054:ff:fe12:3456"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // single zero group not compressed
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // longest run wins
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first run wins a tie
    ["FF02:0:0:0:0:0:0:1", "ff02::1"],
    ["0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"],
    ["0:0:0:0:0:0:102:304", "::1.2.3.4"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["0:0:1:0:0:0:0:0", "0:0:1::"],
    ["ff02:0:0:0:0:1:ff00:2", "ff02::1:ff00:2"],
  ];
  for (const [full, text] of cases) assert.equal(formatIpv6(parseIpv6(full)), text, full);
});

test("parseIpv6() accepts compressed, embedded IPv4 and uppercase forms", () => {
  assert.equal(parseIpv6("::"), 0n);
  assert.equal(parseIpv6("::1"), 1n);
  assert.equal(parseIpv6("ff02::1"), IPV6_ALL_NODES);
  assert.equal(parseIpv6("::ffff:10.0.0.1"), 0xffff_0a00_0001n);
  assert.equal(parseIpv6("1:2:3:4:5:6:7::"), parseIpv6("1:2:3:4:5:6:7:0"));
  assert.equal(parseIpv6("::2:3:4:5:6:7:8"), parseIpv6("0:2:3:4:5:6:7:8"));
  assert.equal(parseIpv6("64:FF9B::1.2.3.4"), parseIpv6("64:ff9b::102:304"));
  assert.deepEqual(ipv6Words(parseIpv6("2001:db8::1")), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
});

test("parseIpv6() throws SyntaxError on bad text", () => {
  for (const bad of [
    "",
    ":",
    ":::",
    "1::2::3",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7::8",
    "12345::",
    "fe80::1%eth0",
    "::1.2.3",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "g::",
    ":1::",
  ]) {
    assert.throws(
      () => parseIpv6(bad),
      (e: unknown) => e instanceof SyntaxError && e.message.includes(`"${bad}"`),
      bad,
    );
  }
});

test("formatIpv6() output parses back to the same address", () => {
  fc.assert(fc.property(arbIpv6, (addr) => assert.equal(parseIpv6(formatIpv6(addr)), addr)));
});

test("formatMac()/formatIpv4() output parses back to the same value", () => {
  fc.assert(fc.property(arbMac, (mac) => assert.equal(parseMac(formatMac(mac)), mac)));
  fc.assert(fc.property(arbU32, (a) => assert.equal(parseIpv4(formatIpv4(a)), a)));
});

test("parseIpv4Prefix()/parseIpv6Prefix() read /len and default to host prefixes", () => {
  assert.deepEqual(parseIpv4Prefix("10.0.0.0/24"), { addr: 0x0a00_0000, len: 24 });
  assert.deepEqual(parseIpv4Prefix("10.0.0.1"), { addr: 0x0a00_0001, len: 32 });
  assert.deepEqual(parseIpv6Prefix("2001:db8::/32"), { addr: 0x2001_0db8n << 96n, len: 32 });
  assert.deepEqual(parseIpv6Prefix("fe80::1"), { addr: parseIpv6("fe80::1"), len: 128 });
  assert.equal(formatIpv4Prefix({ addr: 0x0a00_0001, len: 8 }), "10.0.0.1/8");
  assert.equal(formatIpv6Prefix({ addr: parseIpv6("fe80::1"), len: 64 }), "fe80::1/64");
  for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/2a"]) {
    assert.throws(() => parseIpv4Prefix(bad), SyntaxError, bad);
  }
  assert.throws(() => parseIpv6Prefix("::/129"), SyntaxError);
});

test("ipv4Mask()/ipv6Mask() build netmasks and reject bad lengths", () => {
  assert.equal(ipv4Mask(0), 0);
  assert.equal(ipv4Mask(24), 0xffff_ff00);
  assert.equal(ipv4Mask(32), 0xffff_ffff);
  assert.equal(ipv6Mask(0), 0n);
  assert.equal(ipv6Mask(64), 0xffff_ffff_ffff_ffffn << 64n);
  assert.equal(ipv6Mask(128), (1n << 128n) - 1n);
  assert.throws(() => ipv4Mask(33), RangeError);
  assert.throws(() => ipv6Mask(-1), RangeError);
});

test("ipv4InPrefix()/ipv6InPrefix() and network helpers", () => {
  const p = parseIpv4Prefix("10.0.0.1/24");
  assert.equal(ipv4InPrefix(parseIpv4("10.0.0.200"), p), true);
  assert.equal(ipv4InPrefix(parseIpv4("10.0.1.1"), p), false);
  assert.equal(ipv4InPrefix(parseIpv4("1.2.3.4"), { addr: 0, len: 0 }), true);
  assert.equal(formatIpv4(ipv4Network(p)), "10.0.0.0");
  assert.equal(formatIpv4(ipv4PrefixBroadcast(p)), "10.0.0.255");
  const p6 = parseIpv6Prefix("2001:db8::1/64");
  assert.equal(ipv6InPrefix(parseIpv6("2001:db8::ffff"), p6), true);
  assert.equal(ipv6InPrefix(parseIpv6("2001:db9::1"), p6), false);
  assert.equal(formatIpv6(ipv6Network(p6)), "2001:db8::");
});

test("MAC predicates classify group, broadcast and local addresses", () => {
  assert.equal(isMulticastMac(0x3333_0000_0001), true);
  assert.equal(isMulticastMac(MAC_BROADCAST), true);
  assert.equal(isMulticastMac(0x0200_0000_0002), false);
  assert.equal(isBroadcastMac(MAC_BROADCAST), true);
  assert.equal(isBroadcastMac(0x3333_0000_0001), false);
  assert.equal(isUnicastMac(0x5254_0012_3456), true);
  assert.equal(isUnicastMac(0), false);
  assert.equal(isLocalMac(0x0200_0000_0002), true);
  assert.equal(isLocalMac(0x5054_0012_3456), false);
});

test("IPv4 predicates classify special addresses", () => {
  assert.equal(isIpv4Multicast(parseIpv4("224.0.0.1")), true);
  assert.equal(isIpv4Multicast(parseIpv4("239.255.255.255")), true);
  assert.equal(isIpv4Multicast(parseIpv4("240.0.0.0")), false);
  assert.equal(isIpv4Broadcast(0xffff_ffff), true);
  assert.equal(isIpv4Loopback(parseIpv4("127.1.2.3")), true);
  assert.equal(isIpv4Unspecified(0), true);
  assert.equal(isIpv4LinkLocal(parseIpv4("169.254.1.1")), true);
  assert.equal(isIpv4LinkLocal(parseIpv4("169.253.1.1")), false);
});

test("IPv6 predicates classify special addresses", () => {
  assert.equal(ipv6IsMulticast(parseIpv6("ff02::1")), true);
  assert.equal(ipv6IsMulticast(parseIpv6("fe80::1")), false);
  assert.equal(ipv6IsLinkLocal(parseIpv6("fe80::1")), true);
  assert.equal(ipv6IsLinkLocal(parseIpv6("febf::1")), true);
  assert.equal(ipv6IsLinkLocal(parseIpv6("fec0::1")), false);
  assert.equal(ipv6IsLoopback(1n), true);
  assert.equal(ipv6IsUnspecified(0n), true);
  assert.equal(ipv6IsV4Mapped(parseIpv6("::ffff:1.2.3.4")), true);
  assert.equal(ipv6IsV4Mapped(parseIpv6("::1.2.3.4")), false);
  assert.equal(ipv6IsSolicitedNode(parseIpv6("ff02::1:ff00:2")), true);
  assert.equal(ipv6IsSolicitedNode(parseIpv6("ff02::1:fe00:2")), false);
  assert.equal(ipv6MulticastScope(parseIpv6("ff05::2")), 5);
});

test("ipv6SolicitedNode() and multicast MACs follow RFC 4291 / RFC 2464 / RFC 1112", () => {
  assert.equal(formatIpv6(ipv6SolicitedNode(parseIpv6("2001:db8::aa:bbcc:ddee"))), "ff02::1:ffcc:ddee");
  assert.equal(formatMac(ipv6MulticastMac(parseIpv6("ff02::1:ff00:2"))), "33:33:ff:00:00:02");
  assert.equal(formatMac(ipv6MulticastMac(parseIpv6("ff02::16"))), "33:33:00:00:00:16");
  assert.equal(formatMac(ipv4MulticastMac(parseIpv4("224.0.0.251"))), "01:00:5e:00:00:fb");
  assert.equal(formatMac(ipv4MulticastMac(parseIpv4("239.255.1.2"))), "01:00:5e:7f:01:02");
});

test("eui64LinkLocal() matches addrconf_ifid_eui48 for dev_id 0 and ipvlan slaves", () => {
  const ll = (mac: string, devId: number): string => formatIpv6(eui64LinkLocal(parseMac(mac), devId));
  assert.equal(ll("52:54:00:12:34:56", 0), "fe80::5054:ff:fe12:3456");
  assert.equal(ll("52:54:00:12:34:56", 1), "fe80::5254:0:112:3456");
  assert.equal(ll("52:54:00:12:34:56", 2), "fe80::5254:0:212:3456");
  assert.equal(ll("02:00:00:00:00:02", 0), "fe80::ff:fe00:2");
  assert.equal(ll("02:00:00:00:00:02", 1), "fe80::200:0:100:2");
  assert.equal(ll("02:00:00:00:00:02", 4), "fe80::200:0:400:2");
  assert.equal(eui64Iid(parseMac("02:00:00:00:00:02")), 0x0000_00ff_fe00_0002n);
  assert.throws(() => eui64Iid(0, 0x10000), RangeError);
});
