/**
 * The `dmesg` command (util-linux 2.38.1) over the kernel log: `[    1.234567] text` lines,
 * -c (print, then clear), -C (clear), -n LEVEL (console level, silent), -t (no time stamps),
 * -r (raw, with the `<level>` prefix), -x (facility and level names).
 */
import { Kernel } from "../kernel/index.ts";
import type { ToolContext } from "./context.ts";

const LEVEL_NAMES = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"] as const;
/** The level of lines printk'd without one (KERN_INFO for our messages). */
const DEFAULT_LEVEL = 6;

const TRY_HELP = "Try 'dmesg --help' for more information.\n";

/** The console level `dmesg -n ARG` sets: 1..8, or a level name (its number plus one), else null. */
export function parseConsoleLevel(arg: string): number | null {
  if (/^\d+$/.test(arg)) {
    const n = Number.parseInt(arg, 10);
    return n >= 1 && n <= 8 ? n : null;
  }
  const i = LEVEL_NAMES.indexOf(arg as (typeof LEVEL_NAMES)[number]);
  return i < 0 ? null : i + 1;
}

/** Runs `dmesg` with ctx.argv; returns the exit status. */
export function dmesgMain(ctx: ToolContext): number {
  let readClear = false;
  let clear = false;
  let notime = false;
  let raw = false;
  let decode = false;
  let consoleLevel: string | null = null;
  const argv = ctx.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const long: Readonly<Record<string, string>> = {
      "--read-clear": "c",
      "--clear": "C",
      "--notime": "t",
      "--raw": "r",
      "--decode": "x",
      "--console-level": "n",
      "--kernel": "k",
      "--nopager": "P",
    };
    if (a.startsWith("--")) {
      const [name, value] = a.split("=", 2) as [string, string | undefined];
      const short = long[name];
      if (short === undefined) {
        ctx.err(`dmesg: unrecognized option '${a}'\n${TRY_HELP}`);
        return 1;
      }
      if (short === "n") {
        consoleLevel = value ?? argv[++i] ?? null;
        if (consoleLevel === null) {
          ctx.err(`dmesg: option '${name}' requires an argument\n${TRY_HELP}`);
          return 1;
        }
        continue;
      }
      if (short === "c") readClear = true;
      else if (short === "C") clear = true;
      else if (short === "t") notime = true;
      else if (short === "r") raw = true;
      else if (short === "x") decode = true;
      continue;
    }
    if (!a.startsWith("-") || a === "-") {
      ctx.err(`dmesg: bad usage\n${TRY_HELP}`);
      return 1;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (c === "n") {
        consoleLevel = a.slice(j + 1) || argv[++i] || null;
        if (consoleLevel === null) {
          ctx.err(`dmesg: option requires an argument -- 'n'\n${TRY_HELP}`);
          return 1;
        }
        break;
      }
      if (c === "c") readClear = true;
      else if (c === "C") clear = true;
      else if (c === "t") notime = true;
      else if (c === "r") raw = true;
      else if (c === "x") decode = true;
      else if (c === "k" || c === "P" || c === "L") {
        // kernel messages only / no pager / no colours: what we do anyway
      } else {
        ctx.err(`dmesg: invalid option -- '${c}'\n${TRY_HELP}`);
        return 1;
      }
    }
  }
  const kernel = ctx.kernel;
  if (consoleLevel !== null) {
    const level = parseConsoleLevel(consoleLevel);
    if (level === null) {
      ctx.err(`dmesg: unknown level '${consoleLevel}'\n`);
      return 1;
    }
    kernel.consoleLevel = level;
    return 0;
  }
  if (clear) {
    kernel.log.length = 0;
    return 0;
  }
  let text = "";
  for (const line of kernel.log) {
    const level = (line as { readonly level?: number }).level ?? DEFAULT_LEVEL;
    const stamp = notime ? "" : `${Kernel.stamp(line.time)} `;
    if (raw) text += `<${level}>${stamp}${line.text}\n`;
    else if (decode) text += `kern  :${LEVEL_NAMES[level]!.padEnd(6, " ")}: ${stamp}${line.text}\n`;
    else text += `${stamp}${line.text}\n`;
  }
  ctx.out(text);
  if (readClear) kernel.log.length = 0;
  return 0;
}
