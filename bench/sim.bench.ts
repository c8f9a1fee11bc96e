/**
 * Simulated-kernel and CLI benchmarks. One JSON line per result on stdout:
 * {"name", "value", "unit", ...context (node version, cpu count and model, 1-minute load average,
 * method)}.
 *   - sim.ping.rtt_per_s: ICMP echo round trips per wall-clock second between two namespaces over
 *     a veth (ping socket; each round trip drives the event loop until the reply is in).
 *   - sim.udp.datagrams_per_s: UDP datagrams (64-byte payload) per wall-clock second between two
 *     namespaces over a veth; batches of 32 sends, then the event loop runs until all arrived.
 *   - sim.ipvlan.{l2,l3}.{ping.rtt_per_s,udp.datagrams_per_s}: the same between two sibling
 *     ipvlan slaves (ns0/ipvl0 -> ns1/ipvl1 on master eth0), if the driver is there.
 *   - cli.run.startup.empty_ms: wall time of `node bin/ipvl.js run EMPTY.sh` (median of 5).
 *   - cli.run.script200_ms: a 200-command script (ip link/addr/netns, ip -n ... link show,
 *     ping -c1 ...), median of 3; cli.run.script200.per_command_ms: (that - empty) / 200.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/sim.bench.js
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import {
  bootKernel,
  devChangeNetNamespace,
  devOpen,
  inetAddrAdd,
  ipv4Init,
  type Kernel,
  NSEC_PER_SEC,
  type NetDevice,
  type NetNamespace,
  netnsAdd,
  pingSocket,
  rtnlNewLink,
  udpSocket,
} from "../src/kernel/index.ts";
import { parseIpv4 } from "../src/wire/index.ts";

/** Fields every result line carries. */
const CONTEXT = {
  node: process.version,
  cpus: availableParallelism(),
  cpu: cpus()[0]?.model.trim() ?? "unknown",
  platform: `${process.platform}-${process.arch}`,
};

/** Prints one result; the 1-minute load average says how busy the machine was (wall-clock numbers). */
function emit(name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  const load1 = Number(loadavg()[0]!.toFixed(2));
  console.log(
    JSON.stringify({ name, value: Number(value.toPrecision(4)), unit, ...CONTEXT, load1, ...extra }),
  );
}

/** Two namespaces that can reach each other: the sender, the receiver and its address. */
interface Pair {
  readonly k: Kernel;
  readonly from: NetNamespace;
  readonly to: NetNamespace;
  readonly dst: number;
}

function up(k: Kernel, devs: readonly NetDevice[]): void {
  for (const d of devs) devOpen(d);
  k.loop.runUntil(k.now + NSEC_PER_SEC);
}

/** Namespaces a (10.1.0.1) and b (10.1.0.2) joined by a veth pair. */
function vethPair(): Pair {
  const k = bootKernel({ seed: 1 });
  ipv4Init(k);
  const a = netnsAdd(k, "a");
  const b = netnsAdd(k, "b");
  const va = rtnlNewLink(a, { kind: "veth", name: "va", peer: { name: "vb" } });
  const vb = a.dev("vb")!;
  devChangeNetNamespace(vb, b);
  inetAddrAdd(va, { local: parseIpv4("10.1.0.1"), prefixLen: 24 });
  inetAddrAdd(vb, { local: parseIpv4("10.1.0.2"), prefixLen: 24 });
  up(k, [a.loopback, b.loopback, va, vb]);
  return { k, from: a, to: b, dst: parseIpv4("10.1.0.2") };
}

/** ipvlan mode numbers (IFLA_IPVLAN_MODE). */
const MODE = { l2: 0, l3: 1 } as const;

/** ns0/ipvl0 (10.0.0.10) and ns1/ipvl1 (10.0.0.11), slaves of eth0 (a veth to ext0) in `mode`. */
function ipvlanPair(init: (k: Kernel) => void, mode: keyof typeof MODE): Pair {
  const k = bootKernel({ seed: 1 });
  ipv4Init(k);
  init(k);
  const root = k.initNet;
  const eth0 = rtnlNewLink(root, { kind: "veth", name: "eth0", peer: { name: "ext0" } });
  const ns0 = netnsAdd(k, "ns0");
  const ns1 = netnsAdd(k, "ns1");
  const infoData = { mode: MODE[mode], flags: 0 };
  const s0 = rtnlNewLink(root, { kind: "ipvlan", name: "ipvl0", link: eth0, infoData });
  const s1 = rtnlNewLink(root, { kind: "ipvlan", name: "ipvl1", link: eth0, infoData });
  devChangeNetNamespace(s0, ns0);
  devChangeNetNamespace(s1, ns1);
  inetAddrAdd(s0, { local: parseIpv4("10.0.0.10"), prefixLen: 24 });
  inetAddrAdd(s1, { local: parseIpv4("10.0.0.11"), prefixLen: 24 });
  up(k, [root.loopback, eth0, root.dev("ext0")!, ns0.loopback, ns1.loopback, s0, s1]);
  return { k, from: ns0, to: ns1, dst: parseIpv4("10.0.0.11") };
}

/** One ping round trip per call: send an echo request, run the event loop until the reply. */
function pingTask(p: Pair): () => void {
  const sock = pingSocket(p.from);
  let replies = 0;
  sock.onReply = () => {
    replies++;
  };
  const payload = new Uint8Array(56);
  let seq = 0;
  return () => {
    const want = replies + 1;
    seq = (seq + 1) & 0xffff;
    const r = sock.send(p.dst, seq, payload);
    if (r !== 0) throw new Error(`ping: sendmsg failed with ${r}`);
    p.k.loop.runUntilDone(() => replies >= want, p.k.now + NSEC_PER_SEC);
    if (replies < want) throw new Error("ping: no reply within 1 s of virtual time");
  };
}

/** Datagrams per UDP task call. */
const UDP_BATCH = 32;
/** UDP payload size. */
const UDP_PAYLOAD = 64;

/** UDP_BATCH datagrams per call: send them, run the event loop until all were received. */
function udpTask(p: Pair): () => void {
  const rx = udpSocket(p.to);
  rx.bind(p.dst, 9000);
  let got = 0;
  rx.onMessage = () => {
    got++;
  };
  const tx = udpSocket(p.from);
  tx.connect(p.dst, 9000);
  const payload = new Uint8Array(UDP_PAYLOAD);
  return () => {
    const want = got + UDP_BATCH;
    for (let i = 0; i < UDP_BATCH; i++) {
      const r = tx.sendto(payload);
      if (r !== 0) throw new Error(`udp: sendto failed with ${r}`);
    }
    p.k.loop.runUntilDone(() => got >= want, p.k.now + NSEC_PER_SEC);
    if (got < want) throw new Error(`udp: ${want - got} datagrams lost`);
  };
}

/** The ipvlan driver's init, if src/ipvlan has one (it is optional for this benchmark). */
async function ipvlanInitFn(): Promise<((k: Kernel) => void) | null> {
  try {
    const mod: Record<string, unknown> = await import("../src/ipvlan/index.ts");
    return typeof mod.ipvlanInit === "function" ? (mod.ipvlanInit as (k: Kernel) => void) : null;
  } catch {
    return null;
  }
}

async function simBenchmarks(): Promise<void> {
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  const perCall = new Map<string, number>();
  const add = (name: string, fn: () => void, batch: number) => {
    fn(); // resolves ARP, and fails early if the path does not work
    perCall.set(name, batch);
    bench.add(name, fn);
  };
  add("sim.ping.rtt_per_s", pingTask(vethPair()), 1);
  add("sim.udp.datagrams_per_s", udpTask(vethPair()), UDP_BATCH);
  const init = await ipvlanInitFn();
  if (init) {
    for (const mode of ["l2", "l3"] as const) {
      add(`sim.ipvlan.${mode}.ping.rtt_per_s`, pingTask(ipvlanPair(init, mode)), 1);
      add(`sim.ipvlan.${mode}.udp.datagrams_per_s`, udpTask(ipvlanPair(init, mode)), UDP_BATCH);
    }
  } else console.error("sim.ipvlan.*: src/ipvlan has no ipvlanInit yet; skipped");
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== "completed") {
      console.error(`${task.name}: ${r.state}${"error" in r ? ` ${String(r.error)}` : ""}`);
      process.exitCode = 1;
      continue;
    }
    const batch = perCall.get(task.name) ?? 1;
    const unit = task.name.includes("udp") ? "datagrams/s" : "round_trips/s";
    const method =
      batch > 1 ? `tinybench; ${batch} x ${UDP_PAYLOAD}B sends then drain per call` : "tinybench";
    const rme = Number(r.latency.rme.toFixed(2));
    emit(task.name, r.throughput.mean * batch, unit, {
      method,
      samples: r.latency.samplesCount,
      rme_pct: rme,
    });
  }
}

function findRoot(start: string): string {
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json")) && existsSync(join(d, "bin", "ipvl.js"))) return d;
    if (dirname(d) === d) throw new Error(`Cannot find the project root above "${start}"`);
  }
}

/** The 200 commands: 20 namespaces, each wired to the root namespace by a veth and pinged. */
function script200(): string {
  const lines = ["#!/bin/bash", "fails=0"];
  const cmds: string[] = [];
  for (let i = 0; i < 20; i++) {
    cmds.push(
      `ip netns add ns${i}`,
      `ip link add v${i} type veth peer name p${i}`,
      `ip link set p${i} netns ns${i}`,
      `ip addr add 10.9.${i}.1/24 dev v${i}`,
      `ip link set v${i} up`,
      `ip -n ns${i} addr add 10.9.${i}.2/24 dev p${i}`,
      `ip -n ns${i} link set p${i} up`,
      `ip link set dev v${i} mtu 1400`,
      `ip -n ns${i} link show`,
      `ping -c1 -W1 10.9.${i}.2`,
    );
  }
  for (const c of cmds) lines.push(`${c} >/dev/null 2>&1 || fails=$((fails + 1))`);
  lines.push('echo "fails=$fails"');
  if (cmds.length !== 200) throw new Error(`script200 has ${cmds.length} commands`);
  return `${lines.join("\n")}\n`;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall time of `node bin/ipvl.js run SCRIPT`, in ms, and its stdout. */
function timeRun(root: string, script: string): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, "bin", "ipvl.js"), "run", script], { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`ipvl run ${script}: exit ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function cliBenchmarks(): void {
  const root = findRoot(dirname(fileURLToPath(import.meta.url)));
  if (!statSync(join(root, "dist", "src", "cli", "main.js"), { throwIfNoEntry: false })) {
    console.error("cli.run.*: the CLI is not built (npx tsc -p tsconfig.json); skipped");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "ipvl-bench-"));
  try {
    const empty = join(dir, "empty.sh");
    writeFileSync(empty, "");
    const script = join(dir, "script200.sh");
    writeFileSync(script, script200());
    timeRun(root, empty); // warm the file cache
    const emptyMs = median(Array.from({ length: 5 }, () => timeRun(root, empty).ms));
    emit("cli.run.startup.empty_ms", emptyMs, "ms", { method: "median of 5" });
    const runs = Array.from({ length: 3 }, () => timeRun(root, script));
    const fails = Number(/fails=(\d+)/.exec(runs[0]!.stdout)?.[1] ?? NaN);
    const ms = median(runs.map((r) => r.ms));
    emit("cli.run.script200_ms", ms, "ms", { method: "median of 3", commands: 200, failed_commands: fails });
    emit("cli.run.script200.per_command_ms", (ms - emptyMs) / 200, "ms", {
      method: "(script200 - empty) / 200",
      failed_commands: fails,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await simBenchmarks();
cliBenchmarks();
