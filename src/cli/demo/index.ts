/**
 * The demo (`npm start`): the IPVLAN HOWTO example on the simulated kernel, every mode and flag,
 * compared with the real kernel's recorded answers; a text report and a self-contained HTML one.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Comparison, compareVariant } from "./compare.ts";
import { loadIpvlanDriver } from "./driver.ts";
import { VARIANTS } from "./howto.ts";
import { renderHtml } from "./html.ts";
import { loadOracle, type Oracle } from "./oracle.ts";
import { runVariant, type VariantResult } from "./scenario.ts";
import { renderText } from "./text.ts";

export type { Comparison, ComparedProbe, Verdict } from "./compare.ts";
export { VARIANTS, type Variant } from "./howto.ts";
export type { Oracle } from "./oracle.ts";
export type { Hop, ProbeResult } from "./probe.ts";
export type { VariantResult } from "./scenario.ts";

/** The HTML report's file name. */
export const REPORT_NAME = "ipvl-report.html";

/** One variant's outcome and its comparison with the real kernel (null when it did not run). */
export interface DemoVariant {
  readonly result: VariantResult;
  readonly cmp: Comparison | null;
}

/** Everything the demo produced. */
export interface DemoOutcome {
  readonly variants: readonly DemoVariant[];
  readonly oracle: Oracle;
  /** The terminal report (without the line naming the HTML file). */
  readonly text: string;
  /** The HTML report. */
  readonly html: string;
}

/** Runs every variant on its own simulated kernel and renders both reports. */
export async function runDemo(): Promise<DemoOutcome> {
  const driver = await loadIpvlanDriver();
  const oracle = loadOracle();
  const variants: DemoVariant[] = [];
  for (const v of VARIANTS) {
    const result = await runVariant(v, driver);
    variants.push({ result, cmp: result.ok ? compareVariant(result, oracle) : null });
  }
  return { variants, oracle, text: renderText(variants, oracle), html: renderHtml(variants, oracle) };
}

/** Writes the HTML report into `dir` (created if missing); returns its path. */
export function writeReport(outcome: DemoOutcome, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, REPORT_NAME);
  writeFileSync(path, outcome.html);
  return path;
}
