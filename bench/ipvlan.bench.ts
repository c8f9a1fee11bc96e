/**
 * ipvlan engine benchmarks: the unicast demux decision plus counter updates for an injected
 * frame, on one core, for 2, 64 and 4096 slaves on one port; and the heap cost of a slave.
 *   - engine.{l2,l3}.unicast.slaves=N: the master's rx_handler (ipvlan_handle_frame) steering
 *     wire frames to random slaves by destination IP (returns RX_HANDLER_ANOTHER).
 *   - engine.l2.xmit.wire.slaves=N: a slave's xmit of unicast to another MAC (to the master's
 *     driver, a counting sink).
 *   - engine.l2.xmit.sibling_with_backlog.slaves=N: a slave's xmit to a sibling (lookup, local
 *     delivery via dev_forward_skb), including the kernel backlog drain: not engine-only.
 *   - engine.memory.per_slave: heap growth per slave (registered, up, one IPv4 address), measured
 *     with global.gc when node runs with --expose-gc.
 * Prints one JSON line per result.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  allocSkb,
  bootKernel,
  devOpen,
  ethTypeTrans,
  type Kernel,
  NetDevice,
  NetdevTx,
  type NetdevTxValue,
  RxHandlerResult,
  registerNetdevice,
  rtnlNewLink,
  type SkBuff,
} from "../src/kernel/index.ts";
import { type IpvlDev, ipvlanHandleFrame, ipvlanInit, ipvlanStartXmit } from "../src/ipvlan/index.ts";
import { IP_0, MAC_M, MAC_R, txSkb, udp4Frame } from "../src/ipvlan/testing.ts";

/** A master whose driver only counts. */
class SinkDevice extends NetDevice {
  constructor() {
    super("sink", "eth0");
    this.mac = MAC_M;
  }

  override ndoStartXmit(skb: SkBuff): NetdevTxValue {
    this.stats.txPackets++;
    this.stats.txBytes += skb.data.length;
    return NetdevTx.OK;
  }
}

interface Setup {
  readonly kernel: Kernel;
  readonly eth0: SinkDevice;
  readonly slaves: IpvlDev[];
}

function setup(n: number, mode: number): Setup {
  const kernel = bootKernel({ seed: 1 });
  ipvlanInit(kernel);
  const eth0 = new SinkDevice();
  registerNetdevice(kernel.initNet, eth0);
  devOpen(eth0);
  const slaves: IpvlDev[] = [];
  for (let i = 0; i < n; i++) slaves.push(addSlave(kernel, eth0, i, mode));
  return { kernel, eth0, slaves };
}

function addSlave(kernel: Kernel, eth0: NetDevice, i: number, mode: number): IpvlDev {
  const dev = rtnlNewLink(kernel.initNet, {
    kind: "ipvlan",
    name: `ipvl${i}`,
    link: eth0,
    infoData: { mode, flags: 0 },
  });
  devOpen(dev);
  const ip = IP_0 + i;
  kernel.inetaddrChain.call({ event: "UP", dev, addr: { local: ip, address: ip, prefixLen: 16 } });
  return dev as IpvlDev;
}

/** A deterministic sequence of slave indices (xorshift), so every run demuxes the same frames. */
function targets(n: number, count: number): number[] {
  let x = 0x9e3779b9;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push((x >>> 0) % n);
  }
  return out;
}

const RING = 1024;

/** Runs `round` (RING frames each) in 7 windows of `ms`; returns the median rate in frames per second. */
function measure(round: () => void, ms = 150): number {
  for (let i = 0; i < 200; i++) round();
  const rates: number[] = [];
  for (let w = 0; w < 7; w++) {
    let frames = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 20; i++) round();
      frames += 20 * RING;
      now = performance.now();
    }
    rates.push(frames / ((now - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[3];
}

function emit(name: string, value: number, unit: string): void {
  console.log(JSON.stringify({ name, value: Number(value.toPrecision(4)), unit }));
}

function benchRx(n: number, mode: number, label: string): void {
  const { eth0 } = setup(n, mode);
  const skbs = targets(n, RING).map((t) => {
    const skb = allocSkb(udp4Frame({ dstMac: MAC_M, srcMac: MAC_R, src: 0x0a630001, dst: IP_0 + t }), eth0);
    ethTypeTrans(skb, eth0);
    return skb;
  });
  let bad = 0;
  const round = () => {
    for (let i = 0; i < RING; i++) {
      const skb = skbs[i];
      skb.dev = eth0;
      if (ipvlanHandleFrame(skb) !== RxHandlerResult.ANOTHER) bad++;
    }
  };
  const fps = measure(round);
  if (bad) throw new Error(`Cannot trust ${label}: ${bad} frames were not steered`);
  emit(`engine.${label}.unicast.slaves=${n}`, fps, "frames/s");
}

function benchXmitWire(n: number): void {
  const { slaves } = setup(n, 0);
  const frame = udp4Frame({ dstMac: MAC_R, srcMac: MAC_M, src: IP_0, dst: 0x0a630001 });
  const pairs = targets(n, RING).map((t) => ({ dev: slaves[t], skb: txSkb(frame, slaves[t]) }));
  const round = () => {
    for (let i = 0; i < RING; i++) {
      const p = pairs[i];
      p.skb.dev = p.dev;
      ipvlanStartXmit(p.skb, p.dev);
    }
  };
  emit(`engine.l2.xmit.wire.slaves=${n}`, measure(round), "frames/s");
}

function benchXmitSibling(n: number): void {
  const { kernel, slaves } = setup(n, 0);
  const t = targets(n, RING);
  const frames = t.map((x, i) =>
    udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: IP_0 + t[(i + 1) % RING], dst: IP_0 + x }),
  );
  const round = () => {
    for (let i = 0; i < RING; i++) {
      const from = slaves[t[(i + 1) % RING]];
      ipvlanStartXmit(txSkb(frames[i], from), from);
      // The kernel backlog holds 1000 frames: drain it as the softirq would.
      if ((i & 511) === 511) kernel.loop.runUntil(kernel.now + 10_000n);
    }
  };
  emit(`engine.l2.xmit.sibling_with_backlog.slaves=${n}`, measure(round), "frames/s");
}

function benchMemory(n: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.error("engine.memory.per_slave: run node with --expose-gc for a measurement");
    return;
  }
  const { kernel, eth0 } = setup(1, 0);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const keep: IpvlDev[] = [];
  for (let i = 1; i <= n; i++) keep.push(addSlave(kernel, eth0, i, 0));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  emit("engine.memory.per_slave", (after - before) / n, "bytes");
  if (keep.length !== n) throw new Error("unreachable");
}

/** Every case by name; each runs in its own process so JIT state and heap do not leak between them. */
const CASES: Record<string, () => void> = {};
for (const n of [2, 64, 4096]) {
  CASES[`l2.unicast.${n}`] = () => benchRx(n, 0, "l2");
  CASES[`l3.unicast.${n}`] = () => benchRx(n, 1, "l3");
  CASES[`l2.xmit.wire.${n}`] = () => benchXmitWire(n);
  CASES[`l2.xmit.sibling.${n}`] = () => benchXmitSibling(n);
}
CASES.memory = () => benchMemory(4096);

const only = process.argv.indexOf("--case");
if (only >= 0) {
  CASES[process.argv[only + 1]]();
} else {
  for (const name of Object.keys(CASES)) {
    const r = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), "--case", name],
      {
        stdio: ["ignore", "pipe", "inherit"],
        encoding: "utf8",
      },
    );
    process.stdout.write(r.stdout);
    if (r.status !== 0) throw new Error(`Cannot run benchmark case "${name}": exit ${r.status}`);
  }
}
