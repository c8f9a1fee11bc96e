/**
 * The `nft` command (nftables 1.0.6): options, input from the command line, a file or stdin,
 * one atomic batch per invocation, `list` output as text or JSON, and errors printed the way
 * nft prints them (location, message, the input line, carets).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  type NetNamespace,
  NftBatchError,
  type NftCommand,
  nftCommit,
  type NftError,
  type NftFamily,
  type NftTable,
  nftTables,
  strerror,
} from "../kernel/index.ts";
import type { ToolContext } from "./context.ts";
import { tablesJson } from "./nft-json.ts";
import { formatNftError, NftSyntaxError, type Span } from "./nft-lexer.ts";
import { type CmdLocs, type ListCmd, type ParsedItem, parseNft } from "./nft-parser.ts";
import { type PrintOpts, tableChainsText, tableText } from "./nft-print.ts";

/** `nft -v`. */
export const NFT_VERSION = "nftables v1.0.6 (Lester Gooch #5)";

const USAGE = `Usage: nft [ options ] [ cmds... ]

Options (general):
  -h, --help                      Show this help
  -v, --version                   Show version information
  -V                              Show extended version information

Options (ruleset input handling):
  -f, --file <filename>           Read input from <filename>
  -D, --define <name=value>       Define variable, e.g. --define foo=1.2.3.4
  -i, --interactive               Read input from interactive CLI
  -I, --includepath <directory>   Add <directory> to the paths searched for include files. Default is: /etc
  -c, --check                     Check commands validity without actually applying the changes.
  -o, --optimize                  Optimize ruleset

Options (ruleset list formatting):
  -a, --handle                    Output rule handle.
  -s, --stateless                 Omit stateful information of ruleset.
  -t, --terse                     Omit contents of sets.
  -S, --service                   Translate ports to service names as described in /etc/services.
  -N, --reversedns                Translate IP addresses to names.
  -u, --guid                      Print UID/GID as defined in /etc/passwd and /etc/group.
  -n, --numeric                   Print fully numerical output.
  -y, --numeric-priority          Print chain priority numerically.
  -p, --numeric-protocol          Print layer 4 protocols numerically.
  -T, --numeric-time              Print time values numerically.

Options (command output formatting):
  -e, --echo                      Echo what has been added, inserted or replaced.
  -j, --json                      Format output in JSON
  -d, --debug <level [,level...]> Specify debugging level (scanner, parser, eval, netlink, mnl, proto-ctx, segtree, all)

`;

const LONG: Readonly<Record<string, string>> = {
  help: "h",
  version: "v",
  file: "f",
  define: "D",
  interactive: "i",
  includepath: "I",
  check: "c",
  optimize: "o",
  handle: "a",
  stateless: "s",
  terse: "t",
  service: "S",
  reversedns: "N",
  guid: "u",
  numeric: "n",
  "numeric-priority": "y",
  "numeric-protocol": "p",
  "numeric-time": "T",
  echo: "e",
  json: "j",
  debug: "d",
};
const WITH_ARG = new Set(["f", "D", "I", "d"]);
const FLAGS = new Set([
  "h",
  "v",
  "V",
  "i",
  "c",
  "o",
  "a",
  "s",
  "t",
  "S",
  "N",
  "u",
  "n",
  "y",
  "p",
  "T",
  "e",
  "j",
]);

interface Options {
  readonly flags: Set<string>;
  file: string | null;
  readonly rest: string[];
}

/** getopt_long with "+": options stop at the first non-option. */
function parseOptions(argv: readonly string[], ctx: ToolContext): Options | number {
  const o: Options = { flags: new Set(), file: null, rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    if (a.startsWith("--")) {
      const [name, val] = a.slice(2).split("=", 2);
      const short = LONG[name];
      if (!short) {
        ctx.err(`nft: unrecognized option '${a}'\n`);
        return 1;
      }
      if (WITH_ARG.has(short)) {
        const v = val ?? argv[++i];
        if (v === undefined) {
          ctx.err(`nft: option '--${name}' requires an argument\n`);
          return 1;
        }
        if (short === "f") o.file = v;
      } else {
        o.flags.add(short);
      }
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const c = a[k];
      if (WITH_ARG.has(c)) {
        const v = k + 1 < a.length ? a.slice(k + 1) : argv[++i];
        if (v === undefined) {
          ctx.err(`nft: option requires an argument -- '${c}'\n`);
          return 1;
        }
        if (c === "f") o.file = v;
        break;
      }
      if (!FLAGS.has(c)) {
        ctx.err(`nft: invalid option -- '${c}'\n`);
        return 1;
      }
      o.flags.add(c);
    }
  }
  o.rest.push(...argv.slice(i));
  return o;
}

/** Runs `nft`; resolves to the exit code. */
export async function nftMain(ctx: ToolContext): Promise<number> {
  const parsed = parseOptions(ctx.argv, ctx);
  if (typeof parsed === "number") return parsed;
  const o = parsed;
  if (o.flags.has("h")) {
    ctx.out(USAGE);
    return 0;
  }
  if (o.flags.has("v") || o.flags.has("V")) {
    ctx.out(`${NFT_VERSION}\n`);
    return 0;
  }
  const late = o.rest.findIndex((a) => /^-[a-zA-Z]+$/.test(a) && !/^-\d/.test(a));
  if (o.file === null && late >= 0 && o.rest.length > 0 && !/^-/.test(o.rest[0])) {
    const words = ["nft", ...o.rest];
    const line = `${words.join(" ")} `;
    const optAt = words.slice(0, late + 1).join(" ").length + 1;
    ctx.err(
      "Error: syntax error, options must be specified before commands\n" +
        `${line}\n${"   ^".padEnd(optAt, " ")}${"~".repeat(o.rest[late].length)}\n`,
    );
    return 1;
  }
  let src: string;
  let file: string | null;
  if (o.file !== null) {
    const isStdin = o.file === "-" || o.file === "/dev/stdin";
    file = isStdin ? "/dev/stdin" : o.file;
    if (isStdin) {
      src = new TextDecoder().decode(ctx.stdin);
    } else {
      try {
        src = readFileSync(resolve(ctx.cwd ?? process.cwd(), o.file), "utf8");
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === "EACCES" ? strerror(13) : code === "EISDIR" ? strerror(21) : strerror(2);
        ctx.err(`internal:0:0-0: Error: Could not open file "${o.file}": ${why}\n\n\n`);
        return 1;
      }
    }
  } else {
    if (o.rest.length === 0) {
      if (o.flags.has("i")) {
        ctx.err("nft: interactive mode is not supported here\n");
        return 1;
      }
      ctx.err("nft: no command specified\n");
      return 1;
    }
    src = `${o.rest.join(" ")}\n`;
    file = null;
  }
  const popts: PrintOpts = {
    handles: o.flags.has("a"),
    numeric: o.flags.has("n"),
    numericPrio: o.flags.has("y"),
    numericProto: o.flags.has("p"),
    services: o.flags.has("S"),
    stateless: o.flags.has("s"),
  };
  return runNft(ctx, src, file, popts, o.flags.has("j"), o.flags.has("c"));
}

function runNft(
  ctx: ToolContext,
  src: string,
  file: string | null,
  popts: PrintOpts,
  json: boolean,
  check: boolean,
): number {
  const report = (msg: string, span: Span, secondary: Span | null = null) =>
    ctx.err(formatNftError(src, file, msg, span, secondary));
  let items: ParsedItem[];
  try {
    items = parseNft(src, ctx.net);
  } catch (e) {
    if (!(e instanceof NftSyntaxError)) throw e;
    for (let x: NftSyntaxError | null = e; x; x = x.followUp) report(x.message, x.span, x.secondary);
    return 1;
  }
  const kernel = items.filter((it): it is Extract<ParsedItem, { kind: "kernel" }> => it.kind === "kernel");
  if (!cacheCheck(ctx.net, kernel, report)) return 1;
  if (kernel.length > 0) {
    try {
      nftCommit(
        ctx.net,
        kernel.map((k) => k.cmd),
        { check },
      );
    } catch (e) {
      if (!(e instanceof NftBatchError)) throw e;
      for (const err of e.errors) reportKernelError(ctx.net, kernel[err.index], err, report);
      return 1;
    }
  }
  let rc = 0;
  for (const it of items) {
    if (it.kind !== "list") continue;
    if (!runList(ctx, it.list, it.locs, popts, json, report)) rc = 1;
  }
  return rc;
}

type Report = (msg: string, span: Span, secondary?: Span | null) => void;

/** Evaluation-time checks nft makes against its cache (tables must exist for `add chain`). */
function cacheCheck(
  net: NetNamespace,
  items: readonly Extract<ParsedItem, { kind: "kernel" }>[],
  report: Report,
): boolean {
  const tables = new Set(nftTables(net).map((t) => `${t.family} ${t.name}`));
  let ok = true;
  for (const { cmd, locs } of items) {
    if (cmd.obj === "table" && (cmd.op === "add" || cmd.op === "create"))
      tables.add(`${cmd.family} ${cmd.name}`);
    if (cmd.obj === "table" && cmd.op === "delete" && cmd.name) tables.delete(`${cmd.family} ${cmd.name}`);
    if (cmd.obj === "ruleset")
      for (const t of [...tables]) if (!cmd.family || t.startsWith(`${cmd.family} `)) tables.delete(t);
    if (cmd.obj === "chain" && (cmd.op === "add" || cmd.op === "create")) {
      if (!tables.has(`${cmd.family} ${cmd.table}`)) {
        report(strerror(2), locs.table ?? locs.command);
        ok = false;
      } else if (locs.evalError) {
        report(locs.evalError.message, locs.evalError.span);
        ok = false;
      }
    }
  }
  return ok;
}

/** string_misspell_update: whether `b` is a plausible misspelling of `a`, and how far. */
function misspellDistance(a: string, b: string): number | null {
  const maxLen = Math.max(a.length, b.length);
  const minLen = Math.min(a.length, b.length);
  if (maxLen <= 1) return null;
  const threshold = maxLen - minLen <= 1 ? Math.max(Math.ceil(maxLen / 3), 1) : Math.ceil((maxLen + 2) / 3);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0),
  ]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  const dist = d[a.length][b.length];
  return dist > threshold ? null : dist;
}

function fuzzyTable(net: NetNamespace, name: string): NftTable | undefined {
  let best: NftTable | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const t of nftTables(net)) {
    if (t.name === name) return t;
    const d = misspellDistance(t.name, name);
    if (d !== null && d < bestD) {
      best = t;
      bestD = d;
    }
  }
  return best;
}

/** nft_cmd_enoent: "did you mean ..." for rule and chain commands that named nothing. */
function enoentHint(net: NetNamespace, cmd: NftCommand, attr: string): string | null {
  if (cmd.obj !== "rule" && cmd.obj !== "chain") return null;
  if (attr === "table") {
    const t = fuzzyTable(net, cmd.table);
    return t ? `; did you mean table ‘${t.name}’ in family ${t.family}?` : null;
  }
  const chainName = cmd.obj === "rule" ? cmd.chain : cmd.name;
  if ((attr === "chain" || (cmd.obj === "chain" && attr === "name")) && chainName) {
    const t = nftTables(net).find((x) => x.family === cmd.family && x.name === cmd.table);
    if (!t) return null;
    let best: string | null = null;
    let bestD = Number.POSITIVE_INFINITY;
    for (const c of t.chains) {
      const d = misspellDistance(c.name, chainName);
      if (d !== null && d < bestD) {
        best = c.name;
        bestD = d;
      }
    }
    return best ? `; did you mean chain ‘${best}’ in table ${t.family} ‘${t.name}’?` : null;
  }
  return null;
}

function reportKernelError(
  net: NetNamespace,
  item: Extract<ParsedItem, { kind: "kernel" }>,
  err: NftError,
  report: Report,
): void {
  const l = item.locs;
  let span: Span = l.command;
  const a = err.attr;
  if (a.startsWith("stmt:")) span = l.stmts?.[Number(a.slice(5))] ?? l.command;
  else if (a === "table") span = l.table ?? l.command;
  else if (a === "chain") span = l.chain ?? l.command;
  else if (a === "name") span = l.name ?? l.chain ?? l.table ?? l.command;
  else if (a === "handle") span = l.handle ?? l.command;
  else if (a === "position") span = l.position ?? l.command;
  else if (a === "index") span = l.index ?? l.command;
  else if (a === "policy") span = l.policy ?? l.command;
  const hint = err.code === "ENOENT" ? enoentHint(net, item.cmd, a) : null;
  if (hint) report(`${strerror(err.errno)}${hint}`, span);
  else report(`Could not process rule: ${strerror(err.errno)}`, span);
}

function runList(
  ctx: ToolContext,
  l: ListCmd,
  locs: CmdLocs,
  popts: PrintOpts,
  json: boolean,
  report: Report,
): boolean {
  const all = nftTables(ctx.net);
  const famOk = (t: NftTable) => l.family === null || t.family === l.family;
  switch (l.what) {
    case "ruleset":
    case "tables":
    case "chains": {
      const tables = all.filter(famOk);
      if (json) {
        ctx.out(
          tablesJson(ctx.net, tables, {
            withTable: true,
            chains: l.what === "tables" ? () => [] : (t) => t.chains,
            rules: l.what === "ruleset",
          }),
        );
        return true;
      }
      let s = "";
      for (const t of tables) {
        if (l.what === "tables") s += `table ${t.family} ${t.name}\n`;
        else if (l.what === "chains") s += tableChainsText(t, popts);
        else s += tableText(t, t.chains, ctx.net, popts);
      }
      ctx.out(s);
      return true;
    }
    case "table":
    case "chain": {
      const t = all.find((x) => x.family === (l.family as NftFamily) && x.name === l.table);
      if (!t) {
        report(strerror(2), locs.table ?? locs.command);
        return false;
      }
      const chains = l.what === "table" ? t.chains : t.chains.filter((c) => c.name === l.chain);
      if (l.what === "chain" && chains.length === 0) {
        report(strerror(2), locs.chain ?? locs.command);
        return false;
      }
      if (json)
        ctx.out(
          tablesJson(ctx.net, [t], { withTable: l.what === "table", chains: () => chains, rules: true }),
        );
      else ctx.out(tableText(t, chains, ctx.net, popts, l.what === "table"));
      return true;
    }
  }
}
