import assert from "node:assert/strict";
import { test } from "node:test";
import { parseIcmpv4, parseIpv4Packet, parseUdp } from "../../wire/index.ts";
import { buildIcmp, buildIpv4, buildUdp, ipDecreaseTtl, ipHdr, ipHdrChecksumOk, maskOf } from "./hdr.ts";

test("built packets parse with verified checksums in the wire layer", () => {
  const saddr = 0x0a000001;
  const daddr = 0x0a000002;
  const udp = buildUdp(saddr, daddr, 1234, 53, new Uint8Array([1, 2, 3]));
  const ip = buildIpv4({ saddr, daddr, protocol: 17, ttl: 64, id: 7, df: true, payload: udp });
  const repr = parseIpv4Packet(ip);
  assert.deepEqual(
    [repr.src, repr.dst, repr.ttl, repr.ident, repr.dontFrag, repr.payloadLen],
    [saddr, daddr, 64, 7, true, 11],
  );
  const u = parseUdp(ip.subarray(20), { src: saddr, dst: daddr });
  assert.deepEqual([u.srcPort, u.dstPort, [...u.payload]], [1234, 53, [1, 2, 3]]);
  const icmp = parseIcmpv4(buildIcmp(8, 0, (0x4242 << 16) | 9, new Uint8Array([9, 9])));
  assert.equal(icmp.kind, "echo-request");
  if (icmp.kind === "echo-request") assert.deepEqual([icmp.ident, icmp.seq], [0x4242, 9]);
});

test("TTL decrement keeps the header checksum valid", () => {
  const ip = buildIpv4({ saddr: 1, daddr: 2, protocol: 1, ttl: 64, id: 1, payload: new Uint8Array(8) });
  ipDecreaseTtl(ip, 0);
  assert.equal(ipHdr(ip, 0).ttl, 63);
  assert.ok(ipHdrChecksumOk(ip, 0, 20));
  assert.equal(maskOf(24), 0xffffff00);
  assert.equal(maskOf(0), 0);
  assert.equal(maskOf(32), 0xffffffff);
});
