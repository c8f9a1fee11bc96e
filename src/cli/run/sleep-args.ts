// `sleep` argument handling, coreutils-compatible (options are looked for in every argument, as
// GNU getopt does; operands are summed; each may carry one of the suffixes s, m, h, d).

/** Parsed `sleep` invocation: total seconds, or what to print and the exit code. */
export type SleepArgs =
  | { readonly kind: "sleep"; readonly seconds: number }
  | { readonly kind: "print"; readonly stdout: string; readonly stderr: string; readonly code: number };

const TRY_HELP = "Try 'sleep --help' for more information.\n";
const SUFFIX_SECONDS: Readonly<Record<string, number>> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };

// What strtod accepts as a prefix: decimal or hexadecimal floats, inf/infinity, nan.
const STRTOD_PREFIX =
  /^\s*([+-]?)(?:(inf(?:inity)?|nan(?:\([0-9a-z_]*\))?)|0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?|((?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?))/i;

/** Parses a leading float like C strtod; null when no number is there. */
function strtodPrefix(s: string): { value: number; rest: string } | null {
  const m = STRTOD_PREFIX.exec(s);
  if (m === null) return null;
  const sign = m[1] === "-" ? -1 : 1;
  if (m[2] !== undefined) {
    const v = m[2].toLowerCase().startsWith("inf") ? Number.POSITIVE_INFINITY : Number.NaN;
    return { value: sign * v, rest: s.slice(m[0].length) };
  }
  if (m[6] !== undefined) return { value: sign * Number(m[6]), rest: s.slice(m[0].length) };
  const int = m[3] ?? "";
  const frac = m[4] ?? "";
  if (int === "" && frac === "") {
    // "0x" with no hex digits: strtod takes just the "0".
    const zero = s.indexOf("0");
    return { value: 0, rest: s.slice(zero + 1) };
  }
  const mant =
    Number.parseInt(int === "" ? "0" : int, 16) +
    (frac === "" ? 0 : Number.parseInt(frac, 16) / 16 ** frac.length);
  const exp = m[5] === undefined ? 0 : Number.parseInt(m[5], 10);
  return { value: sign * mant * 2 ** exp, rest: s.slice(m[0].length) };
}

/** True when the locale in `env` uses UTF-8 (coreutils then quotes with ‘…’). */
function utf8Locale(env: Readonly<Record<string, string>>): boolean {
  const loc = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(loc);
}

/** Parses `sleep` arguments (without argv[0]) the way coreutils `sleep` does. */
export function parseSleepArgs(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): SleepArgs {
  const operands: string[] = [];
  let optionsDone = false;
  for (const a of args) {
    if (optionsDone || a === "-" || !a.startsWith("-")) {
      operands.push(a);
    } else if (a === "--") {
      optionsDone = true;
    } else if (a === "--help") {
      return {
        kind: "print",
        stdout:
          "Usage: sleep NUMBER[SUFFIX]...\n" +
          "Pause for the sum of the given intervals (SUFFIX: s seconds, m minutes, h hours, d days).\n" +
          "Under ipvl this advances the simulated kernel's clock instead of waiting.\n",
        stderr: "",
        code: 0,
      };
    } else if (a === "--version") {
      return { kind: "print", stdout: "sleep (ipvl)\n", stderr: "", code: 0 };
    } else if (a.startsWith("--")) {
      return { kind: "print", stdout: "", stderr: `sleep: unrecognized option '${a}'\n${TRY_HELP}`, code: 1 };
    } else {
      return {
        kind: "print",
        stdout: "",
        stderr: `sleep: invalid option -- '${a[1]}'\n${TRY_HELP}`,
        code: 1,
      };
    }
  }
  if (operands.length === 0) {
    return { kind: "print", stdout: "", stderr: `sleep: missing operand\n${TRY_HELP}`, code: 1 };
  }
  const [lq, rq] = utf8Locale(env) ? ["\u2018", "\u2019"] : ["'", "'"];
  let seconds = 0;
  let errors = "";
  for (const op of operands) {
    const num = strtodPrefix(op);
    const factor = num === null ? undefined : SUFFIX_SECONDS[num.rest];
    if (num === null || !(num.value >= 0) || factor === undefined) {
      errors += `sleep: invalid time interval ${lq}${op}${rq}\n`;
      continue;
    }
    seconds += num.value * factor;
  }
  if (errors !== "") return { kind: "print", stdout: "", stderr: errors + TRY_HELP, code: 1 };
  return { kind: "sleep", seconds };
}

/** The operand the userland's `sleep` receives: `Number()` of it gives the seconds ("Infinity" too). */
export function formatSleepSeconds(seconds: number): string {
  return String(seconds);
}
