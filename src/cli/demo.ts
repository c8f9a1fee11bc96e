// `npm start`: the IPVLAN HOWTO example on the simulated kernel (see src/cli/demo/).
// Usage: node dist/src/cli/demo.js [--out DIR]

import { realpathSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { REPORT_NAME, runDemo, writeReport } from "./demo/index.ts";

const USAGE = `Usage: demo [--out DIR]

Runs the IPVLAN HOWTO example (ns0/ns1, ipvl0/ipvl1 on eth0, a router behind a veth) on the
simulated kernel for the HOWTO's two versions and every mode/flag, prints the reachability
matrices next to the real kernel's recorded answers, and writes ${REPORT_NAME} (topology and
packet paths) into DIR (default: the current directory).
`;

/** What the demo writes to. */
export interface DemoIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly cwd: string;
}

/** Runs the demo with `argv` (without node and script); resolves to the exit code. */
export async function demoMain(argv: readonly string[], io: DemoIo): Promise<number> {
  let dir = io.cwd;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h" || a === "--help") {
      io.out(USAGE);
      return 0;
    }
    if (a === "--out" && i + 1 < argv.length) dir = argv[++i]!;
    else if (a.startsWith("--out=")) dir = a.slice("--out=".length);
    else {
      io.err(`demo: unknown argument "${a}"\n${USAGE}`);
      return 2;
    }
  }
  const outcome = await runDemo();
  io.out(outcome.text);
  try {
    const path = writeReport(outcome, dir);
    const shown = relative(io.cwd, path);
    io.out(`\nreport: wrote ${shown.startsWith("..") ? path : shown} (open it in a browser)\n`);
  } catch (e) {
    io.err(`demo: cannot write ${REPORT_NAME} to "${dir}": ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return 0;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const io: DemoIo = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    cwd: process.cwd(),
  };
  process.exitCode = await demoMain(process.argv.slice(2), io);
}
