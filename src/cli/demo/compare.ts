/** The simulated matrix next to what the real kernel answered for the same configuration. */
import { type Oracle, type ProbeKey, probeKey } from "./oracle.ts";
import type { ProbeResult } from "./probe.ts";
import type { VariantResult } from "./scenario.ts";

/** How one simulated probe relates to the real kernel's answer. */
export type Verdict = "same" | "differs" | "unrecorded";

/** One probe with the real kernel's answer. */
export interface ComparedProbe {
  readonly probe: ProbeResult;
  readonly staticNeigh: boolean;
  /** The real kernel's OK/FAIL, null when the oracle did not run this probe. */
  readonly real: boolean | null;
  readonly verdict: Verdict;
}

/** A variant's probes with the real kernel's answers. */
export interface Comparison {
  readonly matrix: readonly ComparedProbe[];
  readonly staticNeigh: readonly ComparedProbe[];
  /** Probes the oracle recorded, and how many of them agree. */
  readonly recorded: number;
  readonly agree: number;
  /** The real kernel's `mode ... ...` for ipvl0 and link flags (null if not recorded). */
  readonly realModeLine: string | null;
  readonly realFlags: string | null;
}

/** The oracle's answers for a configuration: its modes-matrix.out section, plus seed-example-l2.out for l2. */
export function realAnswers(oracle: Oracle, oracleMode: string): Readonly<Record<ProbeKey, boolean>> {
  const mode = oracle.modes[oracleMode];
  const seed = oracleMode === "l2" && oracle.seedL2 ? oracle.seedL2 : {};
  return { ...seed, ...(mode?.probes ?? {}) };
}

function compareOne(p: ProbeResult, staticNeigh: boolean, real: Readonly<Record<ProbeKey, boolean>>) {
  const r = real[probeKey(p.from, p.to, staticNeigh)];
  const answer = r === undefined ? null : r;
  const verdict: Verdict = answer === null ? "unrecorded" : answer === p.ok ? "same" : "differs";
  return { probe: p, staticNeigh, real: answer, verdict };
}

/** Compares a variant that ran with the oracle. */
export function compareVariant(r: Extract<VariantResult, { ok: true }>, oracle: Oracle): Comparison {
  const real = realAnswers(oracle, r.variant.oracleMode);
  const matrix = r.matrix.map((p) => compareOne(p, false, real));
  const staticNeigh = r.staticNeigh.map((p) => compareOne(p, true, real));
  const all = [...matrix, ...staticNeigh];
  const mode = oracle.modes[r.variant.oracleMode];
  return {
    matrix,
    staticNeigh,
    recorded: all.filter((c) => c.verdict !== "unrecorded").length,
    agree: all.filter((c) => c.verdict === "same").length,
    realModeLine: mode?.modeLine ?? null,
    realFlags: mode?.flags ?? null,
  };
}
