/**
 * MLDv2: state-change reports when groups are joined (first from ::, again from the link-local
 * once DAD is over), TO_IN reports when they are left, answers to general queries, and the
 * link-layer multicast list of the device (which ipvlan's multicast filter reads).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { allocSkb, devQueueXmit } from "../../src/kernel/index.ts";
import { buildIcmpv6Packet, inet6AddrDel } from "../../src/kernel/ipv6/index.ts";
import {
  emitEthernet,
  formatIpv6,
  formatMac,
  IPV6_ALL_NODES,
  Ipv6OptionType,
  parseIpv6,
} from "../../src/wire/index.ts";
import { type Captured, ipv6Lab, MAC1, MAC2 } from "./ipv6-lab.ts";

const TYPE = ["", "is_in", "is_ex", "to_in", "to_ex", "allow", "block"];

function reports(cap: Captured[], dir: "in" | "out", since = 0n): string[] {
  return cap
    .filter((c) => c.dir === dir && c.time >= since && c.frame.icmpv6?.kind === "mldv2-report")
    .map((c) => {
      const m = c.frame.icmpv6;
      const recs =
        m?.kind === "mldv2-report"
          ? m.records.map((r) => `${TYPE[r.recordType]} ${formatIpv6(r.group)}`)
          : [];
      return `${formatIpv6(c.frame.ipv6!.src)}: ${recs.join(", ")}`;
    });
}

test("joins are reported from :: during DAD, then again from the link-local", () => {
  const lab = ipv6Lab(21);
  const a = lab.ns("a");
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  const cap = lab.capture(e0);
  lab.up(e1, e0);
  lab.run(3000);
  assert.deepEqual(reports(cap, "out"), [
    "::: to_ex ff02::1:ff00:1",
    "::: to_ex ff02::1:ff00:1",
    "fe80::ff:fe00:1: to_ex ff02::1:ff00:1",
    "fe80::ff:fe00:1: to_ex ff02::1:ff00:1",
  ]);
  const first = cap.find((c) => c.frame.icmpv6?.kind === "mldv2-report")!;
  assert.equal(first.frame.ipv6?.hopLimit, 1);
  assert.equal(formatIpv6(first.frame.ipv6!.dst), "ff02::16");
  assert.equal(formatMac(first.frame.eth.dst), "33:33:00:00:00:16");
  const hbh = first.frame.ipv6?.extHeaders[0];
  assert.ok(hbh?.kind === "hop-by-hop" && hbh.options[0].type === Ipv6OptionType.RouterAlert);
  assert.deepEqual([...e0.mcList.keys()].map(formatMac).sort(), ["33:33:00:00:00:01", "33:33:ff:00:00:01"]);
});

test("a new address re-reports every group; removing it reports TO_IN twice", () => {
  const lab = ipv6Lab(22);
  const a = lab.ns("a");
  const [e0, e1] = lab.veth(a, "e0", MAC1, a, "e1", MAC2);
  lab.up(e1, e0);
  lab.run(3000);
  const cap = lab.capture(e0);
  lab.addr(e0, "2001:db8::5/64");
  lab.run(3000);
  assert.deepEqual(reports(cap, "out"), [
    "fe80::ff:fe00:1: to_ex ff02::1:ff00:5, to_ex ff02::1:ff00:1",
    "fe80::ff:fe00:1: to_ex ff02::1:ff00:5, to_ex ff02::1:ff00:1",
  ]);
  assert.ok(e0.mcList.has(0x3333_ff00_0005));
  const t = lab.k.now;
  inet6AddrDel(e0, parseIpv6("2001:db8::5"), 64);
  lab.run(3000);
  assert.deepEqual(reports(cap, "out", t), [
    "fe80::ff:fe00:1: to_in ff02::1:ff00:5",
    "fe80::ff:fe00:1: to_in ff02::1:ff00:5",
  ]);
  assert.ok(!e0.mcList.has(0x3333_ff00_0005));
});

test("a general query is answered with the current state of every reportable group", () => {
  const lab = ipv6Lab(23);
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [e0, e1] = lab.veth(a, "e0", MAC1, b, "e1", MAC2);
  lab.up(e1, e0);
  lab.run(5000);
  const cap = lab.capture(e0);
  const pkt = buildIcmpv6Packet(parseIpv6("fe80::ff:fe00:2"), IPV6_ALL_NODES, 1, {
    kind: "mld-query",
    maxResp: 1000,
    group: 0n,
    v2: { suppress: false, qrv: 2, qqic: 125, sources: [] },
  });
  const frame = new Uint8Array(14 + pkt.length);
  emitEthernet({ dst: 0x3333_0000_0001, src: MAC2, etherType: 0x86dd }, frame);
  frame.set(pkt, 14);
  devQueueXmit(allocSkb(frame, e1, 14));
  lab.run(1100);
  assert.deepEqual(reports(cap, "out"), ["fe80::ff:fe00:1: is_ex ff02::1:ff00:1"]);
});
