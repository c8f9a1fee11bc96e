// The private directory of one run: the shim (copied, shebang set to our bash), one symlink per
// tool, and the rc file; plus the environment the script's bash gets.

import { spawnSync } from "node:child_process";
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { readShimAsset } from "../shims/index.ts";
import { TOOLS_CATCHING_SIGINT } from "./userland.ts";

/** Commands shimmed on top of the simulated tools: they only go to the simulator for /sys paths. */
export const PATH_ROUTED_COMMANDS = ["cat", "test", "["] as const;

/**
 * Host tools that would change or probe the HOST's network (as root: for real) if a script
 * called them: shimmed so that they fail (127, "not simulated") instead. `sudo` and `nsenter`
 * are here because they would reach the host's binaries with another PATH.
 */
export const REFUSED_HOST_TOOLS = [
  "iptables",
  "ip6tables",
  "iptables-nft",
  "iptables-legacy",
  "ebtables",
  "arptables",
  "tc",
  "bridge",
  "ethtool",
  "arping",
  "ss",
  "ifconfig",
  "route",
  "brctl",
  "modprobe",
  "rmmod",
  "insmod",
  "nstat",
  "devlink",
  "sudo",
  "nsenter",
  "unshare",
] as const;

/** An installed sandbox; remove it with `removeSandbox`. */
export interface Sandbox {
  /** The private (0700) temp dir holding everything below. */
  readonly dir: string;
  /** The directory put first in PATH (IPVL_SHIMS). */
  readonly shimDir: string;
  /** The rc file (BASH_ENV, `--rcfile`). */
  readonly rcFile: string;
  /** Absolute path of the bash that runs the script and the shims. */
  readonly bash: string;
  /** Environment for the script's bash. */
  readonly env: Readonly<Record<string, string>>;
}

/** What `createSandbox` needs. */
export interface SandboxOptions {
  readonly tools: Iterable<string>;
  readonly port: number;
  readonly token: string;
  /** The environment to extend (normally process.env). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
}

/** First executable `name` in a PATH string, or null. */
export function findInPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Creates the temp dir, installs shims and rc file, and builds the script's environment. */
export function createSandbox(options: SandboxOptions): Sandbox {
  const basePath = options.baseEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  const bash = findInPath("bash", basePath);
  if (bash === null) throw new Error(`Cannot find bash in PATH "${basePath}"`);
  const dir = mkdtempSync(join(tmpdir(), "ipvl-run-"));
  try {
    chmodSync(dir, 0o700);
    const shimDir = join(dir, "bin");
    mkdirSync(shimDir, { mode: 0o700 });
    const shim = join(dir, "ipvl-shim");
    const shimText = readShimAsset("ipvl-shim.bash").replace(/^#!.*\n/, `#!${bash}\n`);
    writeFileSync(shim, shimText, { mode: 0o700 });
    for (const tool of new Set([...options.tools, ...PATH_ROUTED_COMMANDS, ...REFUSED_HOST_TOOLS])) {
      if (tool.includes("/") || tool === "" || tool.startsWith("."))
        throw new Error(`Invalid tool name "${tool}"`);
      symlinkSync(shim, join(shimDir, tool));
    }
    const rcFile = join(dir, "ipvl-rc.bash");
    writeFileSync(rcFile, readShimAsset("ipvl-rc.bash"), { mode: 0o600 });

    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.baseEnv)) if (v !== undefined) env[k] = v;
    delete env.IPVL_NETNS; // every run starts in the initial namespace
    delete env.IPVL_SIGRESET;
    delete env.IPVL_SIGINT_TOOLS;
    env.PATH = `${shimDir}${delimiter}${basePath}`;
    env.BASH_ENV = rcFile;
    env.IPVL_SHIMS = shimDir;
    env.IPVL_PORT = String(options.port);
    env.IPVL_TOKEN = options.token;
    const sigReset = envWithDefaultSignal(basePath);
    if (sigReset !== null) env.IPVL_SIGRESET = sigReset;
    env.IPVL_SIGINT_TOOLS = TOOLS_CATCHING_SIGINT.join(" ");
    return { dir, shimDir, rcFile, bash, env };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Removes the sandbox directory; never throws. */
export function removeSandbox(sandbox: Sandbox): void {
  try {
    rmSync(sandbox.dir, { recursive: true, force: true });
  } catch {
    // best effort: a temp dir
  }
}

/** An `env` that supports --default-signal (coreutils >= 8.31), or null. */
function envWithDefaultSignal(path: string): string | null {
  const env = findInPath("env", path);
  if (env === null) return null;
  const r = spawnSync(env, ["--default-signal=INT", "true"], { stdio: "ignore" });
  return r.status === 0 ? env : null;
}
