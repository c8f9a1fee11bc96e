/**
 * What the real kernel answered: the reachability matrices recorded by the oracle
 * (../shared/oracle/scenarios/modes-matrix.out and seed-example-l2.out, Debian's 6.1 kernel in a
 * VM). Read at run time when the shared folder sits next to the repository, else the copy
 * embedded in oracle-data.ts (from test/fixtures/oracle/).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ORACLE_EMBEDDED } from "./oracle-data.ts";

/** Probe key: "ns0>ns1", with "+static" for the probes after the router's static neighbour entry. */
export type ProbeKey = string;

/** One mode's section of modes-matrix.out. */
export interface OracleMode {
  /** "mode l3 bridge": the mode and flag `ip -d link` printed for ipvl0. */
  readonly modeLine: string;
  /** ipvl0's link flags ("BROADCAST,MULTICAST,NOARP,UP,LOWER_UP"). */
  readonly flags: string;
  /** OK (true) / FAIL (false) per probe. */
  readonly probes: Readonly<Record<ProbeKey, boolean>>;
}

/** The recorded answers. */
export interface Oracle {
  /** Where they were read from (relative to the repository, or "embedded ..."). */
  readonly source: string;
  /** The real kernel that answered ("6.1.0-56-amd64 (Debian 6.1.192-2)"). */
  readonly kernel: string;
  /** modes-matrix.out by mode ("l2", "l2 private", ..., "l3s"). */
  readonly modes: Readonly<Record<string, OracleMode>>;
  /** seed-example-l2.out's matrix, if present. */
  readonly seedL2: Readonly<Record<ProbeKey, boolean>> | null;
}

/** The key of a probe. */
export function probeKey(from: string, to: string, staticNeigh = false): ProbeKey {
  return `${from}>${to}${staticNeigh ? "+static" : ""}`;
}

/** "router -> ns0 (static neigh)" → its key, or null for anything else. */
function labelKey(label: string): ProbeKey | null {
  const m = /^(\w+) -> (\w+)( \(static neigh\))?$/.exec(label.trim());
  return m ? probeKey(m[1]!, m[2]!, m[3] !== undefined) : null;
}

/** The `### kernel:` header line, shortened. */
function kernelOf(text: string): string {
  const m = /^### kernel: (\S+) .*Debian (\S+)/m.exec(text);
  return m ? `${m[1]} (Debian ${m[2]})` : "unknown";
}

/** Parses modes-matrix.out. */
export function parseModesMatrix(text: string): { kernel: string; modes: Record<string, OracleMode> } {
  const modes: Record<string, OracleMode> = {};
  let current: { modeLine: string; flags: string; probes: Record<ProbeKey, boolean> } | null = null;
  for (const line of text.split("\n")) {
    const head = /^=+ mode (.+)$/.exec(line);
    if (head) {
      current = { modeLine: "", flags: "", probes: {} };
      modes[head[1]!.trim()] = current;
      continue;
    }
    if (!current) continue;
    const dev = /^\s+ipvl0: (mode \S+ \S+)\s+flags: (\S*)/.exec(line);
    if (dev) {
      current.modeLine = dev[1]!;
      current.flags = dev[2]!;
      continue;
    }
    const probe = /^\s+(.+?)\s+(OK|FAIL)\s*$/.exec(line);
    const key = probe ? labelKey(probe[1]!) : null;
    if (probe && key) current.probes[key] = probe[2] === "OK";
  }
  return { kernel: kernelOf(text), modes };
}

/** Parses the reachability matrix of seed-example-l2.out. */
export function parseSeedExample(text: string): Record<ProbeKey, boolean> {
  const probes: Record<ProbeKey, boolean> = {};
  let inMatrix = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("=== ")) {
      inMatrix = line.startsWith("=== reachability matrix");
      continue;
    }
    if (!inMatrix) continue;
    const probe = /^(.+?)\s+(OK|FAIL)\s*$/.exec(line);
    const key = probe ? labelKey(probe[1]!) : null;
    if (probe && key) probes[key] = probe[2] === "OK";
  }
  return probes;
}

/** The repository root (the folder with ipvl's package.json) above this module. */
function repoRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === "ipvl") return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The recorded answers: ../shared/oracle/scenarios if present, else the embedded copy. */
export function loadOracle(): Oracle {
  const root = repoRoot();
  const dir = root === null ? null : join(root, "..", "shared", "oracle", "scenarios");
  const matrixPath = dir === null ? null : join(dir, "modes-matrix.out");
  if (dir !== null && matrixPath !== null && existsSync(matrixPath)) {
    const parsed = parseModesMatrix(readFileSync(matrixPath, "utf8"));
    const seedPath = join(dir, "seed-example-l2.out");
    const seedL2 = existsSync(seedPath) ? parseSeedExample(readFileSync(seedPath, "utf8")) : null;
    const source = `../shared/oracle/scenarios/${seedL2 ? "{modes-matrix,seed-example-l2}" : "modes-matrix"}.out`;
    return { source, ...parsed, seedL2 };
  }
  return ORACLE_EMBEDDED;
}
