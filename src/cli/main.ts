// The `ipvl` command line: `ipvl run [--real] SCRIPT [ARGS...]`, `ipvl shell`, --help, --version.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runScript, runShell, type Userland } from "./run/index.ts";
import { makeSimUserland } from "./sim-userland.ts";

/** Makes the userland of one run (one simulated kernel per run). */
export type UserlandFactory = () => Userland | Promise<Userland>;

/** What `main` needs from outside; tests substitute their own. */
export interface MainDeps {
  readonly makeUserland: UserlandFactory;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const USAGE = `Usage: ipvl COMMAND [ARGS...]

Commands:
  run [--real] SCRIPT [ARGS...]  run a bash script (the system's bash); ip, ping, tcpdump, sysctl,
                                 nft, conntrack, dmesg and sleep act on one simulated Linux kernel
                                 that lives for the duration of the run ("-" reads the script from
                                 stdin); the exit code is the script's
  shell                          an interactive bash in the same environment (prompt "ipvl$ ")

Options:
  --real      use the real Linux data plane instead of the simulated one
  -h, --help  show this help
  -V, --version
`;

/** Exit code when ipvl itself fails (no bash, cannot listen, ...), as `env`/docker use it. */
export const HARNESS_FAILURE_EXIT = 125;

/** The default dependencies: the real process streams and the simulated-kernel userland. */
export const defaultDeps: MainDeps = {
  makeUserland: () => makeSimUserland(),
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

/** The package version from package.json (src/ and dist/src/ layouts). */
export function packageVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!existsSync(path)) continue;
    const pkg = JSON.parse(readFileSync(path, "utf8")) as { name?: unknown; version?: unknown };
    if (pkg.name === "ipvl" && typeof pkg.version === "string") return pkg.version;
  }
  return "unknown";
}

/** Runs the CLI with `argv` (without node and script); resolves to the process exit code. */
export async function main(argv: readonly string[], deps: MainDeps = defaultDeps): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      deps.err(USAGE);
      return 2;
    case "-h":
    case "--help":
    case "help":
      deps.out(USAGE);
      return 0;
    case "-V":
    case "--version":
      deps.out(`ipvl ${packageVersion()}\n`);
      return 0;
    case "run":
    case "shell":
      try {
        if (command === "run") return await run(rest, deps);
        if (rest.length > 0) return usageError(deps, `"shell" takes no arguments`);
        return await runShell({ userland: await deps.makeUserland() });
      } catch (e: unknown) {
        deps.err(`ipvl: ${e instanceof Error ? e.message : String(e)}\n`);
        return HARNESS_FAILURE_EXIT;
      }
    default:
      return usageError(deps, `unknown command "${command}"`);
  }
}

async function run(args: readonly string[], deps: MainDeps): Promise<number> {
  let real = false;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--real") real = true;
    else if (a === "-h" || a === "--help") {
      deps.out(USAGE);
      return 0;
    } else if (a === "--") {
      i++;
      break;
    } else if (a.startsWith("-") && a !== "-") return usageError(deps, `run: unknown option "${a}"`);
    else break;
  }
  const script = args[i];
  if (script === undefined) return usageError(deps, "run: missing SCRIPT");
  if (real) {
    deps.err("ipvl: --real is not available yet\n");
    return 2;
  }
  return await runScript({ script, args: args.slice(i + 1), userland: await deps.makeUserland() });
}

function usageError(deps: MainDeps, message: string): number {
  deps.err(`ipvl: ${message}\nTry 'ipvl --help' for more information.\n`);
  return 2;
}
