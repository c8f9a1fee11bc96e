/**
 * Per-frame cost of the real data plane's switches in-process (no I/O): the ipvlan engine adapter
 * (src/cli/real/ipvlan-switch.ts) against the temporary stand-in, for a 64-byte IPv4 frame from
 * slave 1 to its sibling, from slave 1 out of the master, and from the master to slave 2.
 * Run: npx tsc -p tsconfig.json && node dist/bench/switch.bench.js
 */
import { Bench } from "tinybench";
import { createSwitch as createEngine } from "../src/cli/real/ipvlan-switch.ts";
import {
  type FrameSwitch,
  STANDIN_SWITCH_MODULE,
  type SwitchInit,
  type SwitchModule,
} from "../src/linux/index.ts";

const createStandin = ((await import(STANDIN_SWITCH_MODULE)) as SwitchModule).createSwitch;

const S1 = 0x0a00000a;
const S2 = 0x0a00000b;
const R = 0x0a000001;
const mac = [2, 0, 0, 0, 0, 2];
const rmac = [2, 0, 0, 0, 0, 1];

function frame(dst: readonly number[], src: readonly number[], saddr: number, daddr: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[14] = 0x45;
  const v = new DataView(f.buffer);
  v.setUint16(16, 50);
  f[23] = 17;
  v.setUint32(26, saddr);
  v.setUint32(30, daddr);
  return f;
}

function setup(create: (init: SwitchInit) => FrameSwitch): FrameSwitch {
  const sw = create({ masterMac: 0x020000000002, masterMtu: 1500, config: null });
  sw.control({ type: "port-added", port: 1, name: "tap0" });
  sw.control({ type: "port-added", port: 2, name: "tap1" });
  sw.control({ type: "addr-add", port: 1, family: 4, addr: S1 });
  sw.control({ type: "addr-add", port: 2, family: 4, addr: S2 });
  return sw;
}

const cases = [
  { name: "sibling", source: 1, f: frame(mac, mac, S1, S2) },
  { name: "to_master", source: 1, f: frame(rmac, mac, S1, R) },
  { name: "from_master", source: 0, f: frame(mac, rmac, R, S2) },
];
const bench = new Bench({ time: 500 });
for (const [label, create] of [
  ["engine", createEngine],
  ["standin", createStandin],
] as const) {
  const sw = setup(create);
  for (const c of cases) bench.add(`${label}.${c.name}`, () => void sw.forward(c.source, c.f));
}
await bench.run();
for (const task of bench.tasks) {
  const r = task.result;
  if (r.state !== "completed") {
    console.error(`${task.name}: ${r.state}`);
    process.exitCode = 1;
    continue;
  }
  console.log(
    JSON.stringify({
      name: `real.switch.${task.name}`,
      value: Math.round(r.throughput.mean),
      unit: "frames/s",
    }),
  );
}
