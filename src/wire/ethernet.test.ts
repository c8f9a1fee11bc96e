import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { WireError } from "./error.ts";
import {
  ETHERNET_HEADER_LEN,
  EthernetFrame,
  type EthernetRepr,
  EtherType,
  emitEthernet,
  ethernetReprLen,
  parseEthernet,
  parseVlanTci,
  vlanTci,
} from "./ethernet.ts";
import { arbBytes, arbEthernetRepr, poisoned } from "./test-arbitraries.ts";
import { FRAMES } from "./test-frames.ts";

const FRAME = FRAMES.arpRequest;
const REPR: EthernetRepr = { dst: 0xffff_ffff_ffff, src: 0x0200_0000_0001, etherType: EtherType.Arp };
const TAGGED = new Uint8Array([
  0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0xa0, 0x05, 0x08, 0x00, 0xde, 0xad,
]);
const TAGGED_REPR: EthernetRepr = {
  dst: 0x0200_0000_0002,
  src: 0x0200_0000_0001,
  etherType: EtherType.Ipv4,
  vlan: { pcp: 5, dei: false, vid: 5 },
};

test("EthernetFrame reads fields of a captured ARP frame", () => {
  const f = EthernetFrame.check(FRAME);
  assert.equal(f.dst, 0xffff_ffff_ffff);
  assert.equal(f.src, 0x0200_0000_0001);
  assert.equal(f.etherType, EtherType.Arp);
  assert.equal(f.hasVlan, false);
  assert.equal(f.headerLen, ETHERNET_HEADER_LEN);
  assert.equal(f.payload.length, 28);
  assert.equal(f.payload.buffer, FRAME.buffer);
});

test("EthernetFrame setters write the captured header", () => {
  const buf = poisoned(FRAME.length);
  buf.set(FRAME.subarray(14), 14);
  buf[12] = 0;
  const f = new EthernetFrame(buf);
  f.dst = 0xffff_ffff_ffff;
  f.src = 0x0200_0000_0001;
  f.etherType = EtherType.Arp;
  assert.deepEqual(buf, FRAME);
});

test("parseEthernet() decodes untagged and 802.1Q-tagged headers", () => {
  assert.deepEqual(parseEthernet(FRAME), REPR);
  assert.deepEqual(parseEthernet(new EthernetFrame(TAGGED)), TAGGED_REPR);
  const f = EthernetFrame.check(TAGGED);
  assert.equal(f.hasVlan, true);
  assert.equal(f.vlanTci, 0xa005);
  assert.deepEqual([...f.payload], [0xde, 0xad]);
});

test("emitEthernet() writes every header byte", () => {
  const buf = poisoned(14);
  emitEthernet(REPR, buf);
  assert.deepEqual(buf, FRAME.subarray(0, 14));
  const tagged = poisoned(18);
  assert.equal(ethernetReprLen(TAGGED_REPR), 18);
  emitEthernet(TAGGED_REPR, tagged);
  assert.deepEqual(tagged, TAGGED.subarray(0, 18));
});

test("parseEthernet() keeps unknown ethertypes and a second tag as the payload type", () => {
  const raw = FRAME.slice();
  raw[12] = 0x88;
  raw[13] = 0xb5;
  assert.equal(parseEthernet(raw).etherType, 0x88b5);
  const qinq = TAGGED.slice();
  qinq[16] = 0x81;
  qinq[17] = 0x00;
  assert.equal(parseEthernet(qinq).etherType, EtherType.Vlan);
});

test("parseEthernet() throws truncated on short frames and short tags", () => {
  for (const bytes of [new Uint8Array(0), FRAME.subarray(0, 13), TAGGED.subarray(0, 17)]) {
    assert.throws(
      () => parseEthernet(bytes),
      (e: unknown) => e instanceof WireError && e.kind === "truncated",
    );
  }
  assert.deepEqual(parseEthernet(FRAME.subarray(0, 14)), REPR);
});

test("vlanTci()/parseVlanTci() are inverse", () => {
  for (const tci of [0, 0xffff, 0x1000, 0xa005, 0x0fff]) assert.equal(vlanTci(parseVlanTci(tci)), tci);
});

test("parseEthernet() inverts emitEthernet() for every repr", () => {
  fc.assert(
    fc.property(arbEthernetRepr, (repr) => {
      const buf = poisoned(ethernetReprLen(repr));
      emitEthernet(repr, buf);
      assert.deepEqual(parseEthernet(buf), repr);
    }),
  );
});

test("parseEthernet() throws nothing but WireError on random bytes", () => {
  fc.assert(
    fc.property(arbBytes(0, 24), (bytes) => {
      try {
        parseEthernet(bytes);
      } catch (e) {
        assert.ok(e instanceof WireError);
      }
    }),
  );
});
