import assert from "node:assert/strict";
import { test } from "node:test";
import { parseIpv4, parseMac, writeIpv4, writeMac } from "../wire/index.ts";
import { createSwitch } from "./standin-switch.ts";
import { MASTER_PORT } from "./switch.ts";

const MASTER = parseMac("02:00:00:00:00:01");
const ROUTER = parseMac("02:00:00:00:00:99");

/** Ethernet + the first 20 bytes of an IPv4 header: all the switch reads. */
function udp(dst: number, src: number, ipDst: string): Uint8Array {
  const f = new Uint8Array(60);
  writeMac(f, 0, dst);
  writeMac(f, 6, src);
  f.set([0x08, 0x00, 0x45], 12);
  writeIpv4(f, 14 + 16, parseIpv4(ipDst));
  return f;
}

test("TODO(#5) stand-in: unicast by IPv4 owner, multicast flooded, unknown out the master", () => {
  const sw = createSwitch({ masterMac: MASTER, masterMtu: 1500, config: null });
  sw.control({ type: "port-added", port: 1, name: "tap0" });
  sw.control({ type: "port-added", port: 2, name: "tap1" });
  sw.control({ type: "addr-add", port: 1, family: 4, addr: parseIpv4("10.0.0.10") });
  sw.control({ type: "addr-add", port: 2, family: 4, addr: parseIpv4("10.0.0.11") });

  assert.deepEqual(
    sw.forward(1, udp(MASTER, MASTER, "10.0.0.11")),
    [2],
    "slave to slave (dst MAC = src MAC)",
  );
  assert.deepEqual(
    sw.forward(1, udp(ROUTER, MASTER, "10.0.0.11")),
    [MASTER_PORT],
    "other MAC: out the master",
  );
  assert.deepEqual(sw.forward(1, udp(MASTER, MASTER, "10.0.0.1")), [MASTER_PORT], "unknown address: out");
  assert.deepEqual(sw.forward(1, udp(0xffff_ffff_ffff, MASTER, "10.0.0.255")), [MASTER_PORT, 2]);
  assert.deepEqual(sw.forward(MASTER_PORT, udp(MASTER, ROUTER, "10.0.0.10")), [1]);
  assert.deepEqual(sw.forward(MASTER_PORT, udp(0xffff_ffff_ffff, ROUTER, "10.0.0.255")), [1, 2]);
  assert.deepEqual(sw.forward(MASTER_PORT, udp(ROUTER, ROUTER, "10.0.0.10")), [], "not for the master's MAC");
  assert.deepEqual(sw.forward(MASTER_PORT, udp(MASTER, ROUTER, "10.0.0.12")), [], "no such slave");
  sw.control({ type: "port-removed", port: 2 });
  assert.deepEqual(
    sw.forward(1, udp(MASTER, MASTER, "10.0.0.11")),
    [MASTER_PORT],
    "its addresses left with it",
  );
  assert.deepEqual(sw.counters(), { runt: 0, otherhost: 1, no_slave: 1, self: 0 });
});
