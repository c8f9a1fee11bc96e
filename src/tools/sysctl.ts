/**
 * The `sysctl` command (procps-ng 4.0.2) over the caller's /proc/sys view: read `key`, write
 * `key=value` (with or without -w), -n/-N/-q/-e/-b, -a, directories listed as subtrees.
 * Messages and exit codes as procps prints them (errors exit 1).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ToolContext } from "./context.ts";
import {
  normalizeProcPath,
  pathToDisplay,
  procSysEntries,
  procSysLookup,
  procSysWrite,
  sortPaths,
} from "./procfs.ts";

const USAGE = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
`;

interface Opts {
  all: boolean;
  binary: boolean;
  ignore: boolean;
  names: boolean;
  values: boolean;
  quiet: boolean;
  write: boolean;
  dryRun: boolean;
  load: string | null;
  pattern: RegExp | null;
}

/** The /proc/sys path (without the prefix) a sysctl name refers to (procps: "." and "/" swap unless "/" comes first). */
function nameToPath(name: string): string {
  const slash = name.indexOf("/");
  const dot = name.indexOf(".");
  const pathForm = slash >= 0 && (dot < 0 || slash < dot);
  if (pathForm) return normalizeProcPath(name);
  let out = "";
  for (const c of name) out += c === "." ? "/" : c === "/" ? "." : c;
  return normalizeProcPath(out);
}

/** Runs `sysctl` with ctx.argv; returns the exit status. */
export function sysctlMain(ctx: ToolContext): number {
  const o: Opts = {
    all: false,
    binary: false,
    ignore: false,
    names: false,
    values: false,
    quiet: false,
    write: false,
    dryRun: false,
    load: null,
    pattern: null,
  };
  const operands: string[] = [];
  const argv = ctx.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const [long, value] = a.slice(2).split("=", 2) as [string, string | undefined];
      switch (long) {
        case "all":
          o.all = true;
          break;
        case "binary":
          o.binary = true;
          break;
        case "ignore":
          o.ignore = true;
          break;
        case "names":
          o.names = true;
          break;
        case "values":
          o.values = true;
          break;
        case "quiet":
          o.quiet = true;
          break;
        case "write":
          o.write = true;
          break;
        case "dry-run":
          o.dryRun = true;
          break;
        case "deprecated":
        case "system":
          break;
        case "load":
          o.load = value ?? "/etc/sysctl.conf";
          break;
        case "pattern": {
          const p = value ?? argv[++i];
          if (p === undefined) return usageError(ctx, "option '--pattern' requires an argument");
          o.pattern = new RegExp(p);
          break;
        }
        case "help":
          ctx.out(USAGE);
          return 0;
        case "version":
          ctx.out("sysctl from procps-ng 4.0.2\n");
          return 0;
        default:
          return usageError(ctx, `unrecognized option '${a}'`);
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        switch (c) {
          case "a":
          case "A":
          case "X":
            o.all = true;
            break;
          case "b":
            o.binary = true;
            break;
          case "e":
            o.ignore = true;
            break;
          case "N":
            o.names = true;
            break;
          case "n":
            o.values = true;
            break;
          case "q":
            o.quiet = true;
            break;
          case "w":
            o.write = true;
            break;
          case "o":
          case "x":
            break;
          case "p":
          case "f": {
            const rest = a.slice(j + 1);
            o.load = rest !== "" ? rest : "/etc/sysctl.conf";
            j = a.length;
            break;
          }
          case "r": {
            const rest = a.slice(j + 1);
            const p = rest !== "" ? rest : argv[++i];
            if (p === undefined) return usageError(ctx, "option requires an argument -- 'r'");
            o.pattern = new RegExp(p);
            j = a.length;
            break;
          }
          case "h":
          case "d":
            ctx.out(USAGE);
            return 0;
          case "V":
            ctx.out("sysctl from procps-ng 4.0.2\n");
            return 0;
          default:
            return usageError(ctx, `invalid option -- '${c}'`);
        }
      }
      continue;
    }
    operands.push(a);
  }

  if (o.load !== null) return loadFile(ctx, o, o.load);
  if (o.all) {
    const entries = procSysEntries(ctx.kernel, ctx.net);
    for (const p of sortPaths([...entries.keys()])) show(ctx, o, p, entries.get(p)!);
    return 0;
  }
  if (operands.length === 0) {
    if (argv.length === 0) {
      ctx.err(USAGE);
      return 1;
    }
    ctx.err("sysctl: no variables specified\nTry `sysctl --help' for more information.\n");
    return 1;
  }
  let status = 0;
  for (const arg of operands) {
    const eq = arg.indexOf("=");
    if (o.write && eq < 0) {
      ctx.err("sysctl: command line(0): invalid syntax, continuing...\n");
      status = 1;
      continue;
    }
    const rc = eq >= 0 ? writeSetting(ctx, o, arg.slice(0, eq), arg.slice(eq + 1)) : readSetting(ctx, o, arg);
    if (rc !== 0) status = rc;
  }
  return status;
}

function usageError(ctx: ToolContext, msg: string): number {
  ctx.err(`sysctl: ${msg}\n${USAGE}`);
  return 1;
}

/** Prints one variable as `name = value` (or per -n/-N/-b). */
function show(ctx: ToolContext, o: Opts, path: string, value: string): void {
  const name = pathToDisplay(path);
  if (o.pattern && !o.pattern.test(name)) return;
  if (o.names) ctx.out(`${name}\n`);
  else if (o.values) ctx.out(o.binary ? value : `${value}\n`);
  else if (o.binary) ctx.out(value);
  else ctx.out(`${name} = ${value}\n`);
}

function readSetting(ctx: ToolContext, o: Opts, name: string): number {
  const path = nameToPath(name);
  const node = procSysLookup(ctx.kernel, ctx.net, path);
  if (node.kind === "none") {
    if (o.ignore) return 0;
    ctx.err(`sysctl: cannot stat /proc/sys/${path}: No such file or directory\n`);
    return 1;
  }
  if (node.kind === "file") {
    show(ctx, o, path, node.value);
    return 0;
  }
  const entries = procSysEntries(ctx.kernel, ctx.net);
  for (const p of node.files) show(ctx, o, p, entries.get(p)!);
  return 0;
}

function writeSetting(ctx: ToolContext, o: Opts, rawName: string, rawValue: string): number {
  const name = rawName.trim();
  const value = rawValue.replace(/^\s+/, "");
  const path = nameToPath(name);
  const node = procSysLookup(ctx.kernel, ctx.net, path);
  if (node.kind === "none") {
    if (o.ignore) return 0;
    ctx.err(`sysctl: cannot stat /proc/sys/${path}: No such file or directory\n`);
    return 1;
  }
  if (node.kind === "dir") {
    ctx.err(`sysctl: setting key "${pathToDisplay(path)}": Is a directory\n`);
    return 1;
  }
  if (!o.dryRun) {
    const e = procSysWrite(ctx.kernel, ctx.net, path, value);
    if (e !== null) {
      const msg =
        e === "EINVAL" ? "Invalid argument" : e === "EISDIR" ? "Is a directory" : "No such file or directory";
      ctx.err(`sysctl: setting key "${pathToDisplay(path)}": ${msg}\n`);
      return 1;
    }
  }
  if (!o.quiet) show(ctx, { ...o, pattern: null }, path, value);
  return 0;
}

/** `sysctl -p FILE`: `key = value` lines; `#`/`;` comments; a leading `-` ignores errors. */
function loadFile(ctx: ToolContext, o: Opts, file: string): number {
  let text: string;
  try {
    text =
      file === "-"
        ? new TextDecoder().decode(ctx.stdin)
        : readFileSync(resolve(ctx.cwd ?? ".", file), "utf8");
  } catch {
    ctx.err(`sysctl: cannot open "${file}": No such file or directory\n`);
    return 1;
  }
  let status = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    let name = line.slice(0, eq).trim();
    const ignore = name.startsWith("-");
    if (ignore) name = name.slice(1);
    const rc = writeSetting(ctx, { ...o, ignore: o.ignore || ignore }, name, line.slice(eq + 1).trim());
    if (rc !== 0) status = rc;
  }
  return status;
}
