/**
 * The port's address table against a Map model (random add/delete sequences, colliding probe
 * runs included), and the per-slot receive counters read through a slave's link stats.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { bootKernel, rtnlDelLink, rtnlNewLink } from "../kernel/index.ts";
import { ipvlanInit } from "./index.ts";
import { addWire, MAC_M } from "./testing.ts";
import { IpvlAddr, IpvlAddrTable, type IpvlDev } from "./types.ts";

function slaves(n: number): IpvlDev[] {
  const k = bootKernel();
  ipvlanInit(k);
  const eth0 = addWire(k.initNet, "eth0", MAC_M);
  return Array.from(
    { length: n },
    (_, i) =>
      rtnlNewLink(k.initNet, { kind: "ipvlan", name: `s${i}`, link: eth0, infoData: { mode: 0 } }) as IpvlDev,
  );
}

function v6bytes(ip: bigint): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 15, v = ip; i >= 0; i--, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
}

test("IpvlAddrTable agrees with a Map under random inserts and deletes (IPv4 and IPv6)", () => {
  const devs = slaves(4);
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          del: fc.boolean(),
          v6: fc.boolean(),
          // A small key space forces long probe runs and backward shifts.
          key: fc.integer({ min: 0, max: 40 }),
          owner: fc.integer({ min: 0, max: 3 }),
        }),
        { maxLength: 300 },
      ),
      fc.integer(),
      (ops, secret) => {
        const table = new IpvlAddrTable(secret);
        const model = new Map<string, IpvlAddr>();
        for (const op of ops) {
          const ip = op.v6
            ? (0x2001_0db8n << 96n) | (BigInt(op.key) * 0x1_0000_0001n)
            : (0xc0a80000 + op.key * 0x1010101) >>> 0;
          const id = `${op.v6}:${op.key}`;
          const have = model.get(id);
          if (op.del) {
            if (have) table.delete(have);
            model.delete(id);
          } else if (!have) {
            const a = new IpvlAddr(devs[op.owner], ip);
            table.add(a);
            model.set(id, a);
          }
        }
        assert.equal(table.size, model.size);
        for (let key = 0; key <= 40; key++) {
          const a4 = model.get(`false:${key}`) ?? null;
          const ip4 = (0xc0a80000 + key * 0x1010101) >>> 0;
          assert.equal(table.get4(ip4), a4);
          assert.equal(table.slot4(ip4), a4 ? a4.master.slot : -1);
          const a6 = model.get(`true:${key}`) ?? null;
          const ip6 = (0x2001_0db8n << 96n) | (BigInt(key) * 0x1_0000_0001n);
          assert.equal(table.get6(ip6), a6);
          assert.equal(table.get6At(v6bytes(ip6), 0), a6);
          assert.equal(table.slot6At(v6bytes(ip6), 0), a6 ? a6.master.slot : -1);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test("IpvlAddrTable grows past its initial size and keeps every entry", () => {
  const [dev] = slaves(1);
  const table = new IpvlAddrTable(12345);
  const addrs = Array.from({ length: 5000 }, (_, i) => new IpvlAddr(dev, 0x0a000000 + i));
  for (const a of addrs) table.add(a);
  assert.equal(table.size, 5000);
  for (const a of addrs) assert.equal(table.get4(a.ip4), a);
  for (const a of addrs.slice(0, 2500)) table.delete(a);
  for (const a of addrs.slice(2500)) assert.equal(table.get4(a.ip4), a);
  assert.equal(table.get4(0x0a000000), null);
});

test("a slave's rx counters live in its port slot, show in stats (and its JSON), and survive deletion", () => {
  const [a, b] = slaves(2);
  const port = a.port!;
  assert.deepEqual([a.slot, b.slot], [0, 1]);
  port.rx[2 * b.slot] += 3;
  port.rx[2 * b.slot + 1] += 300;
  assert.deepEqual([b.stats.rxPackets, b.stats.rxBytes], [3, 300]);
  const json = JSON.parse(JSON.stringify(b.stats));
  assert.equal(json.rxPackets, 3);
  assert.equal(Object.keys(json).length, 24, "exactly the LinkStats fields");
  b.stats.rxPackets++;
  assert.equal(b.stats.rxPackets, 4);
  rtnlDelLink(b);
  assert.equal(b.slot, -1);
  assert.deepEqual([b.stats.rxPackets, b.stats.rxBytes], [4, 300]);
  assert.equal(port.rx[2], 0, "the freed slot starts from zero for the next slave");
  assert.equal(a.pcpuStats.rxPkts, 0);
});
