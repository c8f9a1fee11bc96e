/**
 * The filter compiler against real tcpdump 4.99.3 / libpcap 1.10.3: for every expression in
 * test/fixtures/tcpdump/filters.tsv, the number of frames of a fixture capture it accepts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { compileFilter, FilterError } from "../../src/tools/pcap-filter.ts";
import { readPcap } from "../../src/wire/index.ts";
import { fixturePath } from "./fixtures.ts";

test("filter match counts equal real tcpdump's on the fixture captures", () => {
  const rows = readFileSync(fixturePath("filters.tsv"), "utf8").trim().split("\n");
  const captures = new Map<string, ReturnType<typeof readPcap>>();
  const problems: string[] = [];
  for (const row of rows) {
    const [file, expr, count] = row.split("\t") as [string, string, string];
    let cap = captures.get(file);
    if (!cap) {
      cap = readPcap(readFileSync(fixturePath(`${file}.pcap`)));
      captures.set(file, cap);
    }
    const f = compileFilter(expr);
    const n = cap.packets.filter((p) => f({ data: p.data, len: p.origLen })).length;
    if (n !== Number(count)) problems.push(`${file}: "${expr}": ${n}, tcpdump says ${count}`);
  }
  assert.deepEqual(problems, []);
});

test("filter errors carry tcpdump's messages", () => {
  const cases: [string, string][] = [
    ["foo", "can't parse filter expression: syntax error"],
    ["host foo", "unknown host 'foo'"],
    ["ip proto icmp", "can't parse filter expression: syntax error"],
    ["tcp port 99999", "illegal port number 99999 > 65535"],
    ["port foo", "unknown port 'foo'"],
    ["ip host fe80::1", "'ip' modifier applied to ip6 host"],
    ["ip6 host 10.0.0.1", "'ip6' modifier applied to ip host"],
    ["host 02:00:00:00:00:0a", "ethernet address used in non-ether expression"],
    ["ether host 10.0.0.1", "illegal link layer address"],
    ["vlan 5000", "VLAN tag 5000 greater than maximum 4095"],
    ["icmp[0:3] == 1", "data size must be 1, 2, or 4"],
    ["ip[", "can't parse filter expression: syntax error"],
    ["ip and", "can't parse filter expression: syntax error"],
    ["len-14 > 50", "can't parse filter expression: syntax error"],
    ["net 10.0.0.1/8", 'non-network bits set in "10.0.0.1/8"'],
    ["host 10.0.0.300", "invalid IPv4 address '10.0.0.300'"],
    ["inbound", "inbound/outbound not supported on Ethernet when reading savefiles"],
  ];
  for (const [expr, msg] of cases) {
    assert.throws(
      () => compileFilter(expr),
      (e: unknown) => e instanceof FilterError && e.message === msg,
      expr,
    );
  }
});

test("inbound/outbound use the capture direction on live captures", () => {
  const f = compileFilter("inbound and arp", { live: true });
  const frame = new Uint8Array(42);
  frame[12] = 0x08;
  frame[13] = 0x06;
  assert.equal(f({ data: frame, len: 42, dir: "in" }), true);
  assert.equal(f({ data: frame, len: 42, dir: "out" }), false);
});
