/**
 * One variant of the demo: build the HOWTO topology, run the reachability matrix in the order the
 * oracle scenarios run it (so that neighbour state carries over the same way), then the router's
 * probes with a static neighbour entry, as modes-matrix.sh does.
 */
import type { DriverLoad } from "./driver.ts";
import {
  buildLab,
  type CommandRun,
  type Lab,
  LabError,
  MAC_MASTER,
  type Place,
  runIpLine,
  type Variant,
} from "./howto.ts";
import { type ProbeResult, probe, Tracer } from "./probe.ts";

/** The matrix probes: first in the order of seed-example-l2.sh, then the cells it does not run. */
export const PROBE_ORDER: readonly (readonly [Place, Place])[] = [
  ["ns0", "ns1"],
  ["ns1", "ns0"],
  ["ns0", "router"],
  ["router", "ns0"],
  ["root", "ns0"],
  ["ns0", "root"],
  ["ns1", "router"],
  ["router", "ns1"],
  ["router", "root"],
  ["ns1", "root"],
  ["root", "ns1"],
  ["root", "router"],
];

/** The router's neighbour entry for ns0, pinned to the master's MAC (what an L3 set-up needs). */
export const STATIC_NEIGH_LINE = `ip -n ext neigh replace 10.0.0.10 lladdr ${MAC_MASTER} dev ext0 nud permanent`;

/** The probes after the static neighbour entry. */
export const STATIC_PROBES: readonly (readonly [Place, Place])[] = [
  ["router", "ns0"],
  ["ns0", "router"],
];

/** What one variant produced. */
export type VariantResult =
  | {
      readonly ok: true;
      readonly variant: Variant;
      /** `ip -d link show ipvl0` in ns0: the mode and flag the driver reports ("mode l2 bridge"). */
      readonly modeLine: string;
      /** ipvl0's link flags ("BROADCAST,MULTICAST,UP,LOWER_UP"). */
      readonly flags: string;
      readonly commands: readonly CommandRun[];
      readonly matrix: readonly ProbeResult[];
      readonly staticNeigh: readonly ProbeResult[];
    }
  | {
      readonly ok: false;
      readonly variant: Variant;
      readonly error: string;
      readonly commands: readonly CommandRun[];
    };

/** The " mode l2 bridge" part of `ip -d link show` for ipvl0. */
function modeOf(details: string): string {
  const m = /ipvlan\s+mode (\S+) (\S+)/.exec(details);
  return m ? `mode ${m[1]} ${m[2]}` : "mode ?";
}

/** Runs one variant on a fresh kernel. */
export async function runVariant(v: Variant, driver: DriverLoad): Promise<VariantResult> {
  let lab: Lab;
  try {
    lab = await buildLab(v, driver);
  } catch (e) {
    if (e instanceof LabError) return { ok: false, variant: v, error: e.message, commands: e.commands };
    return { ok: false, variant: v, error: e instanceof Error ? e.message : String(e), commands: [] };
  }
  const details = await runIpLine(lab.kernel, "ip -n ns0 -d link show ipvl0");
  const tracer = new Tracer(lab);
  const matrix = PROBE_ORDER.map(([from, to]) => probe(tracer, from, to));
  const pin = await runIpLine(lab.kernel, STATIC_NEIGH_LINE);
  const commands = [...lab.commands, pin];
  if (pin.status !== 0) {
    return { ok: false, variant: v, error: `"${pin.line}" failed: ${pin.output.trim()}`, commands };
  }
  const staticNeigh = STATIC_PROBES.map(([from, to]) => probe(tracer, from, to));
  const flags = /<([^>]*)>/.exec(details.output)?.[1] ?? "?";
  return { ok: true, variant: v, modeLine: modeOf(details.output), flags, commands, matrix, staticNeigh };
}
