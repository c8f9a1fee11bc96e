// Harness-level routing of one shim request to the userland: the parts of the command line the
// harness owns (`ip netns exec` checks, `sleep` arguments, `cat`/`test` of /sys paths).

import type { ShimRequest } from "./protocol.ts";
import { formatSleepSeconds, parseSleepArgs } from "./sleep-args.ts";
import type { CommandContext, Userland } from "./userland.ts";

/** Tool name of the `ip netns exec NS CMD...` check a shim asks before exec'ing CMD. */
export const NETNS_EXEC_CHECK = "@netns-exec";

/** Exit code for a userland that threw (EX_SOFTWARE: distinct from the tools' own codes). */
export const INTERNAL_ERROR_EXIT = 70;

/** Path prefixes served by the simulated kernel instead of the host's filesystem. */
export const VIRTUAL_PATH_PREFIXES = ["/sys/", "/proc/sys/"] as const;

/** True for a path the simulated kernel serves (`/sys/...`, `/proc/sys/...`). */
export function isVirtualPath(p: string): boolean {
  return VIRTUAL_PATH_PREFIXES.some((prefix) => p.startsWith(prefix));
}

/** One request plus the per-call plumbing, as the server hands it over. */
export interface Invocation extends Omit<CommandContext, "argv" | "netns" | "cwd"> {
  readonly request: ShimRequest;
}

/** Runs one request; resolves to the exit code the shim exits with. Never throws. */
export async function dispatch(
  userland: Userland,
  tools: ReadonlySet<string>,
  inv: Invocation,
): Promise<number> {
  const { tool, argv } = inv.request;
  const ctx: CommandContext = {
    argv,
    netns: inv.request.netns,
    cwd: inv.request.cwd,
    env: inv.env,
    stdin: inv.stdin,
    out: inv.out,
    err: inv.err,
    signal: inv.signal,
    detach: inv.detach,
  };
  try {
    switch (tool) {
      case NETNS_EXEC_CHECK:
        return await netnsExecCheck(userland, ctx);
      case "sleep":
        return await sleep(userland, ctx);
      case "cat":
        return await catSys(userland, ctx);
      case "test":
      case "[":
        return await testSys(userland, ctx, tool);
      default:
        if (!tools.has(tool)) {
          ctx.err(`ipvl: ${tool}: not simulated (the host's ${tool} is not run under ipvl)\n`);
          return 127;
        }
        return exitCode(await userland.run(tool, ctx));
    }
  } catch (e: unknown) {
    ctx.err(`ipvl: ${tool}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return INTERNAL_ERROR_EXIT;
  }
}

/** Clamps a tool's result to an exit status the way exit(2) does. */
function exitCode(code: number): number {
  return Number.isInteger(code) ? code & 255 : INTERNAL_ERROR_EXIT;
}

/** `ip netns exec NS CMD...`: messages and codes as iproute2 6.1 prints them. */
async function netnsExecCheck(userland: Userland, ctx: CommandContext): Promise<number> {
  const name = ctx.argv[3];
  if (name === undefined) {
    ctx.err("No netns name specified\n");
    return 1;
  }
  if (ctx.argv.length < 5) {
    ctx.err("No command specified\n");
    return 1;
  }
  if (!(await netnsExists(userland, name, ctx))) {
    ctx.err(`Cannot open network namespace "${name}": No such file or directory\n`);
    return 255;
  }
  return 0;
}

/** Asks the userland whether a named namespace exists (its `netnsExists`, else `ip netns list`). */
async function netnsExists(userland: Userland, name: string, ctx: CommandContext): Promise<boolean> {
  if (userland.netnsExists !== undefined) return await userland.netnsExists(name);
  let listing = "";
  const code = await userland.run("ip", {
    ...ctx,
    argv: ["ip", "netns", "list"],
    netns: null,
    stdin: new Uint8Array(0),
    out: (s) => {
      listing += s;
    },
    err: () => {},
    detach: () => {},
  });
  if (code !== 0) return false;
  // Lines look like "ns0" or "ns0 (id: 0)".
  return listing.split("\n").some((line) => line.split(" ")[0] === name);
}

async function sleep(userland: Userland, ctx: CommandContext): Promise<number> {
  const parsed = parseSleepArgs(ctx.argv.slice(1), ctx.env);
  if (parsed.kind === "print") {
    ctx.out(parsed.stdout);
    ctx.err(parsed.stderr);
    return parsed.code;
  }
  return exitCode(
    await userland.run("sleep", { ...ctx, argv: ["sleep", formatSleepSeconds(parsed.seconds)] }),
  );
}

/** The file operands of a coreutils `cat` command line. */
function catOperands(args: readonly string[]): string[] {
  const files: string[] = [];
  let optionsDone = false;
  for (const a of args) {
    if (optionsDone || a === "-" || !a.startsWith("-")) files.push(a);
    else if (a === "--") optionsDone = true;
  }
  return files;
}

async function catSys(userland: Userland, ctx: CommandContext): Promise<number> {
  const files = catOperands(ctx.argv.slice(1));
  if (files.length === 0 || !files.every(isVirtualPath)) {
    ctx.err("ipvl: cat: cannot mix /sys or /proc/sys files with other files in one command\n");
    return 1;
  }
  return exitCode(await userland.run("cat-sys", ctx));
}

const FILE_TESTS = new Set(["-e", "-f", "-d"]);

async function testSys(userland: Userland, ctx: CommandContext, tool: "test" | "["): Promise<number> {
  let args = ctx.argv.slice(1);
  if (tool === "[") {
    if (args.at(-1) !== "]") {
      ctx.err("[: missing `]'\n");
      return 2;
    }
    args = args.slice(0, -1);
  }
  const negate = args.length === 3 && args[0] === "!";
  if (negate) args = args.slice(1);
  const [op, path] = args;
  if (
    args.length !== 2 ||
    op === undefined ||
    path === undefined ||
    !FILE_TESTS.has(op) ||
    !isVirtualPath(path)
  ) {
    ctx.err(`ipvl: ${tool}: with /sys or /proc/sys paths only "[!] -e|-f|-d PATH" is supported\n`);
    return 2;
  }
  const code = exitCode(await userland.run("cat-sys", { ...ctx, argv: ["test", op, path] }));
  if (!negate || code > 1) return code;
  return code === 0 ? 1 : 0;
}
