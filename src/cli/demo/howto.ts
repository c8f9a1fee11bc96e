/**
 * The HOWTO example (Documentation/networking/ipvlan.{txt,rst}, section "Example configuration")
 * as command lines, run through the simulated `ip` on a fresh simulated kernel: ns0/ns1 with
 * slaves ipvl0/ipvl1 on master eth0, plus the outside world the oracle scenarios give it (a veth
 * from eth0 to ext0 in namespace "ext", the router 10.0.0.1).
 */
import { ipMain, resolveNetnsExec } from "../../iproute2/index.ts";
import {
  bootKernel,
  fibRouteAdd,
  findNetns,
  ipv4Init,
  ipv6Init,
  type Kernel,
  NSEC_PER_SEC,
  type NetNamespace,
} from "../../kernel/index.ts";
import { parseIpv4 } from "../../wire/index.ts";
import type { DriverLoad } from "./driver.ts";

/** The four places a probe starts from or goes to. */
export type Place = "ns0" | "ns1" | "root" | "router";

/** Every place, in matrix order. */
export const PLACES: readonly Place[] = ["ns0", "ns1", "root", "router"];

/** The IPv4 address of each place (its interface on the 10.0.0.0/24 segment). */
export const ADDR: Readonly<Record<Place, string>> = {
  ns0: "10.0.0.10",
  ns1: "10.0.0.11",
  root: "10.0.0.2",
  router: "10.0.0.1",
};

/** The namespace name of each place ("root" is the initial namespace). */
export const NETNS_NAME: Readonly<Record<Place, string | null>> = {
  ns0: "ns0",
  ns1: "ns1",
  root: null,
  router: "ext",
};

/** The device of each place on the segment. */
export const PLACE_DEV: Readonly<Record<Place, string>> = {
  ns0: "ipvl0",
  ns1: "ipvl1",
  root: "eth0",
  router: "ext0",
};

/** $ROUTER of the HOWTO. */
export const ROUTER = ADDR.router;
/** The master's MAC (fixed, as in the oracle scenarios). */
export const MAC_MASTER = "02:00:00:00:00:02";
/** The router's MAC. */
export const MAC_ROUTER = "02:00:00:00:00:01";

/** One configuration the demo runs: a HOWTO variant or a mode/flag combination. */
export interface Variant {
  /** Stable identifier (HTML anchors, tests). */
  readonly id: string;
  /** Heading. */
  readonly title: string;
  /** What `ip link add ... type ipvlan` gets after "ipvlan" (empty: the driver's defaults). */
  readonly ipvlanArgs: readonly string[];
  /** The section of modes-matrix.out that recorded this configuration on the real kernel. */
  readonly oracleMode: string;
  /** Whether the HOWTO's exact `ip link add` wording is used (the seeds), else modes-matrix.sh's. */
  readonly seed: "older" | "newer" | null;
}

/** The two seeds, then every mode/flag combination of modes-matrix.sh. */
export const VARIANTS: readonly Variant[] = [
  {
    id: "seed-older-l2",
    title: "older HOWTO (ipvlan.txt): mode l2",
    ipvlanArgs: ["mode", "l2"],
    oracleMode: "l2",
    seed: "older",
  },
  {
    id: "seed-newer-default",
    title: "newer HOWTO (ipvlan.rst): default mode (l3 bridge)",
    ipvlanArgs: [],
    oracleMode: "l3",
    seed: "newer",
  },
  ...["l2", "l2 private", "l2 vepa", "l3", "l3 private", "l3s"].map(
    (m): Variant => ({
      id: `mode-${m.replace(" ", "-")}`,
      title: `mode ${m}`,
      ipvlanArgs: ["mode", ...m.split(" ")],
      oracleMode: m,
      seed: null,
    }),
  ),
];

/** One command line that was run, with what it printed. */
export interface CommandRun {
  readonly line: string;
  readonly status: number;
  readonly output: string;
  /** Set when the simulated `ip` could not do it and the demo called the kernel directly. */
  readonly fallback?: string;
}

/** The built topology. */
export interface Lab {
  readonly kernel: Kernel;
  readonly net: Readonly<Record<Place, NetNamespace>>;
  /** Every command line, in order. */
  readonly commands: readonly CommandRun[];
}

/** The outside of the HOWTO example: what modes-matrix.sh sets up before the HOWTO steps. */
function outsideCommands(): string[] {
  return [
    "ip link set lo up",
    "ip netns add ext",
    `ip link add eth0 address ${MAC_MASTER} type veth peer name ext0 address ${MAC_ROUTER}`,
    "ip link set ext0 netns ext",
    "ip -n ext link set lo up",
    `ip -n ext addr add ${ROUTER}/24 dev ext0`,
    "ip -n ext link set ext0 up",
    "ip link set eth0 up",
    `ip addr add ${ADDR.root}/24 dev eth0`,
  ];
}

/** The HOWTO's steps (a)-(d) with $IPADDR and $ROUTER filled in. */
export function howtoCommands(v: Variant): string[] {
  const args = v.ipvlanArgs.join(" ");
  const add = (slave: string) =>
    v.seed === "newer" && v.ipvlanArgs.length === 0
      ? `ip link add link eth0 name ${slave} type ipvlan`
      : `ip link add link eth0 ${slave} type ipvlan${args ? ` ${args}` : ""}`;
  const lines = ["ip netns add ns0", "ip netns add ns1", add("ipvl0"), add("ipvl1")];
  lines.push("ip link set dev ipvl0 netns ns0", "ip link set dev ipvl1 netns ns1");
  for (const [ns, dev, ip] of [
    ["ns0", "ipvl0", ADDR.ns0],
    ["ns1", "ipvl1", ADDR.ns1],
  ] as const) {
    lines.push(
      `ip netns exec ${ns} ip link set dev ${dev} up`,
      `ip netns exec ${ns} ip link set dev lo up`,
      `ip netns exec ${ns} ip -4 addr add ${ip}/24 dev ${dev}`,
      `ip netns exec ${ns} ip -4 route add default via ${ROUTER} dev ${dev}`,
    );
  }
  return lines;
}

/** Runs one `ip ...` or `ip netns exec NS ip ...` line against the kernel. */
export async function runIpLine(kernel: Kernel, line: string): Promise<CommandRun> {
  let output = "";
  const sink = (s: string) => {
    output += s;
  };
  const words = line.split(/\s+/).filter((w) => w !== "");
  let net = kernel.initNet;
  let argv = words.slice(1);
  if (words[0] !== "ip") return { line, status: 127, output: `${words[0]}: command not found\n` };
  const exec = resolveNetnsExec(kernel, argv);
  if (exec.ok) {
    if (exec.argv[0] !== "ip") return { line, status: 127, output: "only ip runs under netns exec here\n" };
    net = exec.net;
    argv = exec.argv.slice(1);
  }
  let status: number;
  try {
    status = await ipMain({ kernel, net, argv, stdin: new Uint8Array(0), out: sink, err: sink });
  } catch (e) {
    status = 1;
    output += `${e instanceof Error ? e.message : String(e)}\n`;
  }
  if (status !== 0 && / routes are not available /.test(output)) {
    const done = defaultRouteFallback(net, argv);
    if (done) {
      const said = output.trim().replace(/^ipvl: /, "");
      return {
        line,
        status: 0,
        output: "",
        fallback: `the simulated ip said "${said}"; the demo called ${done}`,
      };
    }
  }
  return { line, status, output };
}

/**
 * `ip -4 route add default via GW dev DEV` through fibRouteAdd, for a simulated `ip` whose IPv4
 * route requests are not wired to the kernel yet. Returns what it did, or null if not that line.
 */
function defaultRouteFallback(net: NetNamespace, argv: readonly string[]): string | null {
  const m = /^(?:-4 )?route add default via (\S+) dev (\S+)$/.exec(argv.join(" "));
  const dev = m ? net.dev(m[2]!) : undefined;
  if (!m || !dev) return null;
  fibRouteAdd(net, { dst: 0, dstLen: 0, gw: parseIpv4(m[1]!), dev });
  return `fibRouteAdd(${net.name ?? "root"}, default via ${m[1]} dev ${m[2]})`;
}

/** Why a variant could not be built: the failing command and what it said. */
export class LabError extends Error {
  readonly commands: readonly CommandRun[];

  constructor(message: string, commands: readonly CommandRun[]) {
    super(message);
    this.name = "LabError";
    this.commands = commands;
  }
}

/**
 * Boots a kernel (IPv4, IPv6, the ipvlan driver) and runs the outside set-up and the HOWTO steps.
 * Throws LabError when the driver is missing or a command fails.
 */
export async function buildLab(v: Variant, driver: DriverLoad, seed = 1): Promise<Lab> {
  const kernel = bootKernel({ seed });
  ipv4Init(kernel);
  ipv6Init(kernel);
  const commands: CommandRun[] = [];
  if (!driver.ok) throw new LabError(`the ipvlan driver is not available: ${driver.reason}`, commands);
  try {
    driver.init(kernel);
  } catch (e) {
    throw new LabError(`ipvlanInit failed: ${e instanceof Error ? e.message : String(e)}`, commands);
  }
  for (const line of [...outsideCommands(), ...howtoCommands(v)]) {
    const run = await runIpLine(kernel, line);
    commands.push(run);
    if (run.status !== 0) {
      throw new LabError(`"${line}" failed (exit ${run.status}): ${run.output.trim()}`, commands);
    }
  }
  // Let link watch, DAD and router solicitations settle, as the seconds a shell takes would.
  kernel.loop.runUntil(kernel.now + NSEC_PER_SEC);
  const ns = (name: string) => findNetns(kernel, name)!;
  return {
    kernel,
    net: { ns0: ns("ns0"), ns1: ns("ns1"), root: kernel.initNet, router: ns("ext") },
    commands,
  };
}
