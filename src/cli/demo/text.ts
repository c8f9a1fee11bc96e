/** The demo's terminal output: the topology, one matrix per variant, and a summary. */
import type { ComparedProbe, Comparison } from "./compare.ts";
import { ADDR, howtoCommands, MAC_MASTER, PLACES, type Place } from "./howto.ts";
import type { Oracle } from "./oracle.ts";
import type { VariantResult } from "./scenario.ts";

/** The HOWTO topology as the oracle scenarios draw it. */
export const TOPOLOGY_ASCII = [
  `  ns0 [ipvl0 ${ADDR.ns0}] --+`,
  `                          +-- eth0 (master, root ns, ${ADDR.root}) ==veth== ext0 [router: ns ext, ${ADDR.router} = $ROUTER]`,
  `  ns1 [ipvl1 ${ADDR.ns1}] --+`,
];

const CELL = 21;

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + " ".repeat(n - s.length);
}

/** "OK", "FAIL reason", with "*" when the real kernel answered otherwise. */
export function cellText(c: ComparedProbe): string {
  const base = c.probe.ok ? "OK" : `FAIL ${c.probe.reason}`;
  return c.verdict === "differs" ? `${base}*` : base;
}

/** "same 3/3", "DIFF 2/3" or "-" for a group of compared probes. */
function agreement(cs: readonly ComparedProbe[]): string {
  const rec = cs.filter((c) => c.verdict !== "unrecorded");
  if (rec.length === 0) return "not recorded";
  const same = rec.filter((c) => c.verdict === "same").length;
  return `${same === rec.length ? "same" : "DIFF"} ${same}/${rec.length}`;
}

/** The `ip link add` line of a variant (the HOWTO's step (b) for ipvl0). */
export function linkAddLine(r: VariantResult): string {
  return howtoCommands(r.variant).find((l) => l.includes(" ipvl0 type ipvlan")) ?? "";
}

/** A fingerprint of a variant's outcome: every probe's OK/reason/detail. */
function outcomeKey(cmp: Comparison): string {
  return [...cmp.matrix, ...cmp.staticNeigh].map((c) => `${c.probe.ok}|${c.probe.detail}`).join("\n");
}

function matrixLines(
  r: Extract<VariantResult, { ok: true }>,
  cmp: Comparison,
  sameAs: string | null,
): string[] {
  const out: string[] = [];
  out.push(`   ${pad("from\\to", 9)}${PLACES.map((p) => pad(p, CELL)).join("")}real kernel`);
  for (const from of PLACES) {
    const row = cmp.matrix.filter((c) => c.probe.from === from);
    const cells = PLACES.map((to: Place) => {
      const c = row.find((x) => x.probe.to === to);
      return pad(c ? cellText(c) : ".", CELL);
    });
    out.push(`   ${pad(from, 9)}${cells.join("")}${agreement(row)}`);
  }
  const st = cmp.staticNeigh.map((c) => `${c.probe.from} -> ${c.probe.to} ${cellText(c)}`).join(", ");
  out.push(
    `   with the router's static neighbour ${ADDR.ns0} -> ${MAC_MASTER}: ${st}   ${agreement(cmp.staticNeigh)}`,
  );
  const fails = [...cmp.matrix, ...cmp.staticNeigh].filter((c) => !c.probe.ok);
  if (sameAs !== null && fails.length > 0) out.push(`   why: as for "${sameAs}" above`);
  else
    fails.forEach((c, i) => {
      const label = pad(`${c.probe.from} -> ${c.probe.to}`, 17);
      out.push(`   ${i === 0 ? "why:" : "    "} ${label}${c.probe.detail}`);
    });
  const diffs = [...cmp.matrix, ...cmp.staticNeigh].filter((c) => c.verdict === "differs");
  for (const c of diffs) {
    out.push(`   * ${c.probe.from} -> ${c.probe.to}: the real kernel answered ${c.real ? "OK" : "FAIL"}`);
  }
  if (cmp.realModeLine !== null && cmp.realModeLine !== r.modeLine) {
    out.push(`   * ipvl0: the real kernel reports ${cmp.realModeLine}, the simulation ${r.modeLine}`);
  }
  if (cmp.realFlags !== null && cmp.realFlags !== r.flags) {
    out.push(`   * ipvl0 flags: the real kernel <${cmp.realFlags}>, the simulation <${r.flags}>`);
  }
  return out;
}

/** The verdict of one variant, for the matrix footer and the summary. */
export function verdictText(r: VariantResult, cmp: Comparison | null): string {
  if (!r.ok || cmp === null) return "not run";
  if (cmp.recorded === 0) return "no real-kernel record";
  const same =
    cmp.agree === cmp.recorded &&
    (cmp.realModeLine === null || cmp.realModeLine === r.modeLine) &&
    (cmp.realFlags === null || cmp.realFlags === r.flags);
  return `${same ? "same as" : "DIFFERS from"} the real kernel (${cmp.agree}/${cmp.recorded} recorded probes agree)`;
}

/** Everything the demo prints before the report line. */
export function renderText(
  results: readonly { readonly result: VariantResult; readonly cmp: Comparison | null }[],
  oracle: Oracle,
): string {
  const out: string[] = [];
  out.push("ipvl demo: the IPVLAN HOWTO example on the simulated kernel");
  out.push(
    "  every cell is one `ping -c1 -W1` on virtual time (a FAIL says why, from drop counters / ARP state)",
  );
  out.push(`  real kernel: Linux ${oracle.kernel}, answers from ${oracle.source}`);
  out.push("");
  out.push(...TOPOLOGY_ASCII);
  const fallbacks = new Set<string>();
  let section = "";
  const explained = new Map<string, string>();
  for (const { result: r, cmp } of results) {
    const group = r.variant.seed ? "The HOWTO, as written" : "Every mode and flag (modes-matrix.sh)";
    if (group !== section) {
      section = group;
      out.push("", `#### ${group}`);
    }
    out.push("", `== ${r.variant.title}`);
    out.push(`   $ ${linkAddLine(r)}`);
    for (const c of r.commands) {
      if (c.fallback)
        fallbacks.add(`"${c.line}": ${c.fallback}`.replace(/ns\d|ipvl\d/g, (x) => `${x.slice(0, -1)}N`));
    }
    if (!r.ok) {
      out.push(`   NOT RUN: ${r.error}`);
      continue;
    }
    out.push(`   ipvl0 in ns0: ${r.modeLine} <${r.flags}>`);
    out.push("");
    const key = outcomeKey(cmp!);
    out.push(...matrixLines(r, cmp!, explained.get(key) ?? null));
    if (!explained.has(key)) explained.set(key, r.variant.title);
    out.push(`   => ${verdictText(r, cmp)}`);
  }
  out.push("", "== summary: simulated vs real kernel");
  for (const { result: r, cmp } of results) {
    const mode = r.ok ? r.modeLine : "-";
    out.push(
      `   ${pad(r.variant.title, 52)}${pad(mode, 17)}${r.ok ? verdictText(r, cmp) : `NOT RUN: ${r.error}`}`,
    );
  }
  if (fallbacks.size > 0) {
    out.push("", "notes:");
    for (const f of [...fallbacks].sort()) out.push(`   ${f}`);
  }
  return `${out.join("\n")}\n`;
}
