import assert from "node:assert/strict";
import { test } from "node:test";
import { DROP, MASTER_PORT } from "../../linux/index.ts";
import { createSwitch } from "./ipvlan-switch.ts";

const MAC = 0x02_00_00_00_00_02;
const ROUTER_MAC = [0x02, 0, 0, 0, 0, 1];
const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const S1 = ip(10, 0, 0, 10);
const S2 = ip(10, 0, 0, 11);
const R = ip(10, 0, 0, 1);

/** An Ethernet + IPv4 frame of `len` bytes. */
function ipv4(
  dst: readonly number[],
  src: readonly number[],
  saddr: number,
  daddr: number,
  len = 60,
): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[14] = 0x45;
  new DataView(f.buffer).setUint16(16, Math.min(len - 14, 0xffff));
  f[22] = 64;
  f[23] = 17;
  new DataView(f.buffer).setUint32(26, saddr);
  new DataView(f.buffer).setUint32(30, daddr);
  return f;
}

const mac = [0x02, 0, 0, 0, 0, 2];
const bcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

function make(flags?: string, mtu = 1500) {
  const sw = createSwitch({ masterMac: MAC, masterMtu: mtu, config: flags ? { mode: "l2", flags } : null });
  sw.control({ type: "port-added", port: 1, name: "tap0" });
  sw.control({ type: "port-added", port: 2, name: "tap1" });
  sw.control({ type: "addr-add", port: 1, family: 4, addr: S1 });
  sw.control({ type: "addr-add", port: 2, family: 4, addr: S2 });
  return sw;
}

test("bridge: siblings, master, broadcast", () => {
  const sw = make();
  assert.deepEqual(sw.forward(1, ipv4(mac, mac, S1, S2)), [2]);
  assert.deepEqual(sw.forward(1, ipv4(ROUTER_MAC, mac, S1, R)), [MASTER_PORT]);
  assert.deepEqual(sw.forward(MASTER_PORT, ipv4(mac, ROUTER_MAC, R, S2)), [2]);
  assert.equal(sw.forward(MASTER_PORT, ipv4(mac, ROUTER_MAC, R, ip(10, 0, 0, 99))), DROP);
  assert.deepEqual([...sw.forward(MASTER_PORT, ipv4(bcast, ROUTER_MAC, R, 0xffffffff))].sort(), [1, 2]);
  assert.deepEqual([...sw.forward(1, ipv4(bcast, mac, S1, 0xffffffff))].sort(), [0, 2]);
});

test("bridge: a GSO super-frame between siblings is not dropped by the MTU check", () => {
  const sw = make(undefined, 1400);
  assert.deepEqual(sw.forward(1, ipv4(mac, mac, S1, S2, 65_000)), [2]);
});

test("private: no sibling traffic, the master still works", () => {
  const sw = make("private");
  assert.equal(sw.forward(1, ipv4(mac, mac, S1, S2)), DROP);
  assert.deepEqual(sw.forward(1, ipv4(ROUTER_MAC, mac, S1, R)), [MASTER_PORT]);
  assert.equal((sw.counters() as Record<string, number>).IPVLAN_PRIVATE ?? 1, 1);
});

test("vepa: sibling traffic leaves through the master", () => {
  const sw = make("vepa");
  assert.deepEqual(sw.forward(1, ipv4(mac, mac, S1, S2)), [MASTER_PORT]);
});

test("addresses: a sibling's address is EADDRINUSE; deleting frees it", () => {
  const sw = make();
  assert.throws(() => sw.control({ type: "addr-add", port: 2, family: 4, addr: S1 }), { code: "EADDRINUSE" });
  assert.equal(sw.control({ type: "addr-add", port: 1, family: 4, addr: S1 }), true);
  sw.control({ type: "addr-del", port: 1, family: 4, addr: S1 });
  assert.equal(sw.control({ type: "addr-add", port: 2, family: 4, addr: S1 }), true);
  sw.control({ type: "port-removed", port: 2 });
  // No sibling owns S2 any more: a frame to the shared MAC goes up the master's own stack.
  assert.equal(sw.forward(1, ipv4(mac, mac, S1, S2)), DROP);
  assert.equal(sw.counters().master_stack, 1);
});
