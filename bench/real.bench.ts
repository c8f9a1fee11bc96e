/**
 * Real data plane against the kernel, same machine, same run (root only; otherwise prints
 * nothing and exits 0). Topology of test/linux/lab.ts: ns0/ns1 slaves on master m0 (veth) with a
 * router in ns ext; each round builds every variant in fresh namespaces, one after the other:
 *   - l2:         ipvl TAP slaves, default master receive path (TPACKET_V2 ring), ipvlan engine
 *   - l2-standin: the same with the temporary stand-in switch (engine cost comparison)
 *   - l2-v3:      the same with the TPACKET_V3 ring (1 ms block retire timer)
 *   - l2-mmsg:    the same with recvmmsg
 *   - macvlan:    kernel macvlan, bridge mode, on the same master
 *   - veth:       a plain veth pair ns0 <-> ns1 (the kernel's floor; no router path)
 * Metrics (receiver-side): iperf3 TCP (Gbit/s), iperf3 -u -b 0 -l 64 (kpps received),
 * ping -f -c 2000 (avg and min, µs) and the median of a paced ping -i 0.002 -c 1000 (µs); for
 * ipvl also the process CPU per forwarded frame during the UDP run (µs). Plus `rx`: the cost of
 * the master receive paths alone, per 64-byte frame (ns), see rxCost.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/real.bench.js [--rounds N] [--seconds S]
 *      [--only rx,l2,l2-standin,l2-v3,l2-mmsg,macvlan,veth]
 * Prints one JSON line per result, the median over rounds: {"name":"real.l2.tcp.ns0-ns1","value":9.1,"unit":"Gbit/s"}.
 */
import { existsSync } from "node:fs";
import {
  type DataPlane,
  PacketSocket,
  type RxMode,
  STANDIN_SWITCH_MODULE,
  TxBatch,
} from "../src/linux/index.ts";
import { hasCommand, NetnsLab, netnsUnavailableReason, sweepStaleNamespaces } from "../test/support/netns.ts";
import {
  baseTopology,
  iperf,
  median,
  ping,
  ROUTER,
  SLAVE0,
  SLAVE1,
  startIpvl,
  startMacvlan,
  type Topology,
} from "../test/linux/lab.ts";

type Variant = "l2" | "l2-standin" | "l2-v3" | "l2-mmsg" | "macvlan" | "veth";
const ALL: readonly Variant[] = ["l2", "l2-standin", "l2-v3", "l2-mmsg", "macvlan", "veth"];
const RX: Partial<Record<Variant, RxMode>> = {
  l2: "tpacket-v2",
  "l2-standin": "tpacket-v2",
  "l2-v3": "tpacket-v3",
  "l2-mmsg": "recvmmsg",
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const rounds = Number(arg("rounds", "1"));
const seconds = Number(arg("seconds", "2"));
const only = new Set(arg("only", [...ALL, "rx"].join(",")).split(","));

/** name -> unit and the value of each round. */
const results = new Map<string, { unit: string; values: number[] }>();

function record(name: string, value: number, unit: string): void {
  const r = results.get(name) ?? { unit, values: [] };
  r.values.push(value);
  results.set(name, r);
  process.stderr.write(`  ${name} = ${value.toFixed(3)} ${unit}\n`);
}

async function measurePaths(
  v: Variant,
  topo: Topology,
  paths: readonly { readonly label: string; readonly serverNs: string; readonly server: string }[],
  plane: DataPlane | null,
): Promise<void> {
  for (const p of paths) {
    const tcp = await iperf(topo, topo.ns0, p.serverNs, p.server, { seconds });
    record(`real.${v}.tcp.${p.label}`, tcp.bitsPerSecond / 1e9, "Gbit/s");
    const cpu0 = process.cpuUsage();
    const frames0 = plane ? plane.counters(1).rxFrames : 0;
    const udp = await iperf(topo, topo.ns0, p.serverNs, p.server, { seconds, udp64: true });
    record(`real.${v}.udp64.${p.label}`, udp.packetsPerSecond / 1e3, "kpps");
    if (plane !== null) {
      const cpu = process.cpuUsage(cpu0);
      const frames = plane.counters(1).rxFrames - frames0;
      if (frames > 0)
        record(`real.${v}.cpu_per_frame.udp64.${p.label}`, (cpu.user + cpu.system) / frames, "µs");
    }
    const flood = await ping(topo, topo.ns0, p.server, ["-f", "-c", "2000", "-W", "1"]);
    record(`real.${v}.ping_flood.avg.${p.label}`, flood.avgUs, "µs");
    record(`real.${v}.ping_flood.min.${p.label}`, flood.minUs, "µs");
    const paced = await ping(topo, topo.ns0, p.server, ["-c", "1000", "-i", "0.002", "-W", "1"]);
    record(`real.${v}.ping.median.${p.label}`, median(paced.timesUs), "µs");
  }
}

async function runVariant(v: Variant): Promise<void> {
  const lab = new NetnsLab();
  let plane: DataPlane | null = null;
  try {
    const topo = await baseTopology(lab);
    const slavePaths = [
      { label: "ns0-ns1", serverNs: topo.ns1, server: SLAVE1 },
      { label: "ns0-router", serverNs: topo.ext, server: ROUTER },
    ];
    if (v === "veth") {
      await lab.addVeth({ ns: topo.ns0, name: "v0" }, { ns: topo.ns1, name: "v1" });
      await lab.ip(topo.ns0, "addr", "add", `${SLAVE0}/24`, "dev", "v0");
      await lab.ip(topo.ns1, "addr", "add", `${SLAVE1}/24`, "dev", "v1");
      await measurePaths(v, topo, [slavePaths[0]], null);
    } else if (v === "macvlan") {
      await startMacvlan(topo);
      await measurePaths(v, topo, slavePaths, null);
    } else {
      const standin = v === "l2-standin" ? { switchModule: STANDIN_SWITCH_MODULE } : {};
      plane = (await startIpvl(topo, { rx: RX[v]!, ...standin })).plane;
      await measurePaths(v, topo, slavePaths, plane);
      const ms = await plane.masterSocketStats();
      if (ms.drops > 0) process.stderr.write(`  (${v}: master socket dropped ${ms.drops} frames)\n`);
    }
  } finally {
    await plane?.stop({ destroySlaves: true }).catch(() => undefined);
    await lab.cleanup();
  }
}

/**
 * The master receive path alone: bursts of 64 broadcast 64-byte frames are sent into the veth
 * peer (sendmmsg from the ext side); the time the host-side socket's receive() takes to hand them
 * all to a no-op sink, per frame, median over 300 bursts. One receive call per burst.
 */
async function rxCost(mode: RxMode): Promise<void> {
  const lab = new NetnsLab();
  const sockets: PacketSocket[] = [];
  const batch = new TxBatch(64);
  try {
    const topo = await baseTopology(lab);
    const rx = PacketSocket.open({ ifname: "m0", netns: topo.host, rx: mode, retireTovMs: 1 });
    const tx = PacketSocket.open({ ifname: "r0", netns: topo.ext, rx: "recvmmsg", batch: 1 });
    sockets.push(rx, tx);
    let frames = 0;
    const perFrame: number[] = [];
    const sink = () => {
      frames++;
    };
    for (let burst = 0; burst < 300; burst++) {
      for (let i = 0; i < 64; i++) {
        const off = batch.offset(i);
        batch.bytes.fill(0, off, off + 10);
        batch.bytes.fill(0xff, off + 10, off + 16);
        batch.bytes.set([2, 0, 0, 0, 0, 1, 0x88, 0xb5], off + 16);
        batch.commit(10 + 64);
      }
      batch.flush(tx.fd);
      // A v3 block is handed over when its retire timer fires: wait it out before timing.
      if (mode === "tpacket-v3") await new Promise((resolve) => setTimeout(resolve, 3));
      const before = frames;
      const t0 = process.hrtime.bigint();
      rx.receive(sink);
      const dt = Number(process.hrtime.bigint() - t0);
      if (frames > before) perFrame.push(dt / (frames - before));
    }
    // The median burst: a preempted burst (this VM is shared) would dominate a plain average.
    if (perFrame.length > 0) record(`real.rx.${mode}.per_frame`, median(perFrame), "ns");
  } finally {
    for (const s of sockets) s.close();
    batch.close();
    await lab.cleanup();
  }
}

async function main(): Promise<void> {
  const why =
    (await netnsUnavailableReason()) ??
    (existsSync("/dev/net/tun") ? undefined : "no /dev/net/tun") ??
    (hasCommand("iperf3") ? undefined : "no iperf3");
  if (why !== undefined) {
    process.stderr.write(`real.bench: skipped (${why})\n`);
    return;
  }
  sweepStaleNamespaces();
  for (let r = 0; r < rounds; r++) {
    if (only.has("rx")) {
      for (const m of ["tpacket-v2", "tpacket-v3", "recvmmsg"] as const) await rxCost(m);
    }
    for (const v of ALL.filter((x) => only.has(x))) {
      process.stderr.write(`round ${r + 1}/${rounds}: ${v}\n`);
      await runVariant(v);
    }
  }
  for (const [name, { unit, values }] of results) {
    const value = Number(median(values).toPrecision(4));
    process.stdout.write(`${JSON.stringify({ name, value, unit })}\n`);
  }
}

await main();
