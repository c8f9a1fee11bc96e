/**
 * The real-namespace topology of the real-backend tests and benchmark, never touching the
 * machine's own interfaces:
 *
 *   ns0 [tap0 10.0.0.10] --+                      (slaves: TAPs switched by ipvl, or macvlan)
 *                           +-- m0 (master, ns host, optionally 10.0.0.2) ==veth== r0 [ns ext, 10.0.0.1]
 *   ns1 [tap1 10.0.0.11] --+
 *
 * Namespaces come from test/support/netns.ts (`ipvlt-<pid>-<n>-<label>`), so every TAP, nft table
 * and veth lives inside one and disappears with it, and the sweeper removes what a killed test
 * process left behind.
 */
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import { IPVLAN_SWITCH_MODULE } from "../../src/cli/real/index.ts";
import { DataPlane, type DataPlaneOptions, type Slave } from "../../src/linux/index.ts";
import { hasCommand, type NetnsLab, netnsLab } from "../support/netns.ts";

/** Addresses of the topology. */
export const ROUTER = "10.0.0.1";
export const HOST = "10.0.0.2";
export const SLAVE0 = "10.0.0.10";
export const SLAVE1 = "10.0.0.11";

/** Namespace names of one topology. */
export interface Topology {
  readonly lab: NetnsLab;
  readonly host: string;
  readonly ext: string;
  readonly ns0: string;
  readonly ns1: string;
}

/** Why the real backend cannot be exercised here (beyond what netnsLab checks), or undefined. */
export function realBackendUnavailable(): string | undefined {
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun";
  return undefined;
}

/**
 * A lab for a real-backend test, or undefined after marking the test skipped ("not root",
 * "no /dev/net/tun", missing commands). `beforeCleanup` runs before the namespaces go (stop the
 * data plane first so its thread never watches devices vanish).
 */
export async function realLab(
  t: TestContext,
  needs: readonly string[],
  beforeCleanup?: () => Promise<void>,
): Promise<NetnsLab | undefined> {
  const why = realBackendUnavailable();
  if (why !== undefined) {
    t.skip(why);
    return undefined;
  }
  // Registered before netnsLab's own cleanup: after hooks run in registration order.
  if (beforeCleanup !== undefined) t.after(beforeCleanup);
  return netnsLab(t, { needs: ["ip", ...needs] });
}

/** Creates host/ext/ns0/ns1 and the m0 ⇄ r0 veth; the router gets 10.0.0.1/24. */
export async function baseTopology(
  lab: NetnsLab,
  options: { readonly hostAddr?: boolean } = {},
): Promise<Topology> {
  const host = await lab.addNamespace("host");
  const ext = await lab.addNamespace("ext");
  const ns0 = await lab.addNamespace("ns0");
  const ns1 = await lab.addNamespace("ns1");
  await lab.addVeth({ ns: host, name: "m0" }, { ns: ext, name: "r0" });
  await lab.ip(ext, "addr", "add", `${ROUTER}/24`, "dev", "r0");
  if (options.hostAddr) await lab.ip(host, "addr", "add", `${HOST}/24`, "dev", "m0");
  return { lab, host, ext, ns0, ns1 };
}

/** Moves `dev` from the host namespace into `ns`, addresses it, brings it up, routes via the router. */
export async function placeSlave(topo: Topology, dev: string, ns: string, addr: string): Promise<void> {
  const { lab } = topo;
  await lab.ip(topo.host, "link", "set", dev, "netns", ns);
  await lab.ip(ns, "addr", "add", `${addr}/24`, "dev", dev);
  await lab.ip(ns, "link", "set", dev, "up");
  await lab.ip(ns, "route", "add", "default", "via", ROUTER);
}

/** A running ipvl data plane over the topology with tap0 in ns0 and tap1 in ns1. */
export interface IpvlSetup {
  readonly plane: DataPlane;
  readonly slaves: readonly [Slave, Slave];
}

/**
 * Starts a data plane on m0 (in-process), creates tap0/tap1 in the host namespace, moves them
 * into ns0/ns1 (they stay switched after the move) and registers their addresses.
 */
export async function startIpvl(topo: Topology, options: Partial<DataPlaneOptions> = {}): Promise<IpvlSetup> {
  const plane = await DataPlane.start({
    master: "m0",
    netns: topo.host,
    switchModule: options.switchModule ?? IPVLAN_SWITCH_MODULE,
    ...(options.rx !== undefined ? { rx: options.rx } : {}),
    ...(options.switchConfig !== undefined ? { switchConfig: options.switchConfig } : {}),
    ...(options.isolation !== undefined ? { isolation: options.isolation } : {}),
    ...(options.forwarder !== undefined ? { forwarder: options.forwarder } : {}),
    ...(options.qdiscBypass !== undefined ? { qdiscBypass: options.qdiscBypass } : {}),
  });
  try {
    const s0 = await plane.addSlave({ name: "tap0", netns: topo.host });
    const s1 = await plane.addSlave({ name: "tap1", netns: topo.host });
    await placeSlave(topo, "tap0", topo.ns0, SLAVE0);
    await placeSlave(topo, "tap1", topo.ns1, SLAVE1);
    await plane.addAddress(s0.port, SLAVE0);
    await plane.addAddress(s1.port, SLAVE1);
    return { plane, slaves: [s0, s1] };
  } catch (e) {
    await plane.stop({ destroySlaves: true });
    throw e;
  }
}

/** Kernel macvlan (bridge mode) slaves mv0/mv1 on m0 in ns0/ns1, as the comparison. */
export async function startMacvlan(topo: Topology): Promise<void> {
  const { lab } = topo;
  for (const [dev, ns, addr] of [
    ["mv0", topo.ns0, SLAVE0],
    ["mv1", topo.ns1, SLAVE1],
  ] as const) {
    await lab.ip(topo.host, "link", "add", "link", "m0", "name", dev, "type", "macvlan", "mode", "bridge");
    await placeSlave(topo, dev, ns, addr);
  }
}

/** Parsed `ping` summary, in microseconds. */
export interface PingResult {
  readonly transmitted: number;
  readonly received: number;
  readonly duplicates: number;
  readonly minUs: number;
  readonly avgUs: number;
  readonly maxUs: number;
  /** Per-reply times when printed (not with -f / -q). */
  readonly timesUs: readonly number[];
}

/** Runs ping in `ns` and parses it; never rejects on loss (exit status 1). */
export async function ping(
  topo: Topology,
  ns: string,
  target: string,
  args: readonly string[],
): Promise<PingResult> {
  let out: string;
  try {
    out = (await topo.lab.exec(ns, ["ping", "-n", ...args, target], 60_000)).stdout;
  } catch (e) {
    out = String((e as Error).message);
  }
  const tx = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/.exec(out);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(out);
  const times = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  return {
    transmitted: tx ? Number(tx[1]) : 0,
    received: tx ? Number(tx[2]) : 0,
    duplicates: tx?.[3] ? Number(tx[3]) : 0,
    minUs: rtt ? Number(rtt[1]) * 1000 : Number.NaN,
    avgUs: rtt ? Number(rtt[2]) * 1000 : Number.NaN,
    maxUs: rtt ? Number(rtt[3]) * 1000 : Number.NaN,
    timesUs: times,
  };
}

/** Median of a list (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Result of one iperf3 run, as the receiver counted it. */
export interface IperfResult {
  /** Received bits per second. */
  readonly bitsPerSecond: number;
  /** Received datagrams per second (UDP). */
  readonly packetsPerSecond: number;
  /** TCP retransmissions the sender counted. */
  readonly retransmits: number;
}

/**
 * Runs `iperf3 -c` from `fromNs` to `server` (a one-shot server started in `serverNs`).
 * `udp64` measures 64-byte UDP datagrams at unlimited rate.
 */
export async function iperf(
  topo: Topology,
  fromNs: string,
  serverNs: string,
  server: string,
  options: { readonly seconds?: number; readonly udp64?: boolean } = {},
): Promise<IperfResult> {
  const { lab } = topo;
  const srv = lab.spawn(serverNs, ["iperf3", "-s", "-1", "--forceflush", "-B", server]);
  try {
    await srv.waitForOutput(/Server listening/);
    const seconds = options.seconds ?? 2;
    const args = ["iperf3", "-c", server, "-t", String(seconds), "-J"];
    if (options.udp64) args.push("-u", "-b", "0", "-l", "64");
    const { stdout } = await lab.exec(fromNs, args, (seconds + 20) * 1000);
    const end = (JSON.parse(stdout) as { end: IperfEnd }).end;
    const rx = end.sum_received ?? end.sum;
    return {
      bitsPerSecond: rx?.bits_per_second ?? 0,
      packetsPerSecond: options.udp64 && rx ? rx.bytes / 64 / rx.seconds : 0,
      retransmits: end.sum_sent?.retransmits ?? 0,
    };
  } finally {
    await srv.stop("SIGKILL").catch(() => undefined);
  }
}

interface IperfSum {
  readonly bits_per_second: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly retransmits?: number;
}

interface IperfEnd {
  readonly sum?: IperfSum;
  readonly sum_sent?: IperfSum;
  readonly sum_received?: IperfSum;
}

/** Whether the commands the traffic tests use are installed. */
export function haveTrafficTools(): boolean {
  return hasCommand("ping") && hasCommand("iperf3");
}
