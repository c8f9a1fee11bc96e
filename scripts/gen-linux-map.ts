/**
 * Generates docs/linux-map.md: every declaration in src/ whose doc comment says which Linux
 * (kernel, iproute2, iputils, nftables, tcpdump) function or file it mirrors, grouped by folder.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/gen-linux-map.js > docs/linux-map.md
 *
 * A comment qualifies when it says "Mirrors"/"mirrors" or names a C source (`net/core/dev.c`,
 * `ipvlan_core.c:ipvlan_rcv_frame`, `ip/ipaddress.c: ipaddr_modify`). The comment must end right
 * before the declaration, or be the file's leading comment (listed as "(file)"). Test files are
 * skipped. test/docs/linux-map.test.ts fails when docs/linux-map.md is not what this prints.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface MapEntry {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  line: number;
  symbol: string;
  linux: string;
  summary: string;
}

/** A C (or bison) source path: `net/core/dev.c`, `ipvlan.h`, `parser_bison.y` (not `a.b.c`). */
const C_FILE = String.raw`(?<![\w.])(?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]{2,}\.(?:c|h|y)(?![\w.])`;
/** `file.c:func` (no space) or `file.c: func_name` (one space; the name must contain `_`). */
const FILE_FUNC = new RegExp(String.raw`(${C_FILE}):(?:(\w+)|\s(\w*_\w*))`, "g");
/** `func (path/file.c)`. */
const FUNC_PAREN_FILE = new RegExp(String.raw`\b(\w*_\w*) \((${C_FILE})\)`, "g");
const BARE_FILE = new RegExp(String.raw`(?<![\w/-])(${C_FILE})`, "g");
/** `Mirrors foo_bar` (a kernel-style name: lower case with an underscore). */
const MIRRORS_FUNC = /\b[Mm]irrors (?:the )?([a-z]\w*_\w*)/g;

function listSources(dir: string, out: string[]): string[] {
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) listSources(p, out);
    else if (ent.name.endsWith(".ts") && !ent.name.endsWith(".test.ts") && !ent.name.endsWith(".d.ts"))
      out.push(p);
  }
  return out;
}

/** The comment's text without the comment markers, one line per source line. */
function commentText(lines: string[]): string {
  return lines
    .map((l) =>
      l
        .trim()
        .replace(/^\/\*\*?/, "")
        .replace(/\*\/$/, "")
        .replace(/^\/\/\s?/, "")
        .replace(/^\*(?!\/)\s?/, "")
        .trim(),
    )
    .filter((l) => l.length > 0)
    .join(" ");
}

/** The Linux functions (or, failing that, files) a comment names, in order of appearance. */
export function linuxRefs(text: string): string[] {
  const found: { at: number; ref: string }[] = [];
  const covered: [number, number][] = [];
  for (const m of text.matchAll(FILE_FUNC)) {
    const fn = m[2] ?? m[3];
    if (!fn) continue;
    found.push({ at: m.index, ref: `${m[1]}:${fn}` });
    covered.push([m.index, m.index + m[0].length]);
  }
  for (const m of text.matchAll(FUNC_PAREN_FILE)) {
    found.push({ at: m.index, ref: `${m[2]}:${m[1]}` });
    covered.push([m.index, m.index + m[0].length]);
  }
  const inCovered = (i: number) => covered.some(([a, b]) => i >= a && i < b);
  for (const m of text.matchAll(MIRRORS_FUNC)) {
    const at = m.index + m[0].length - m[1].length;
    if (inCovered(at) || text[at + m[1].length] === ".") continue;
    found.push({ at, ref: m[1] });
  }
  for (const m of text.matchAll(BARE_FILE)) if (!inCovered(m.index)) found.push({ at: m.index, ref: m[1] });
  const refs: string[] = [];
  for (const f of found.sort((a, b) => a.at - b.at)) if (!refs.includes(f.ref)) refs.push(f.ref);
  return refs;
}

function qualifies(text: string): boolean {
  return /\b[Mm]irrors\b/.test(text) || new RegExp(C_FILE).test(text) || text.includes("net/core/");
}

/** The first sentence, without a "Mirrors x:" or "x:" lead-in, at most ~110 characters. */
function summarize(text: string, refs: string[]): string {
  let s = text.replace(/\{@link\s+([^}|]+?)(?:\s*\|[^}]*)?\}/g, "$1");
  s = s.replace(
    new RegExp(String.raw`^[Mm]irrors (?:the )?(?:${C_FILE}:)?\w+(?: \(${C_FILE}\))?[.:]?\s*`),
    "",
  );
  const lead = s.match(/^(\w+)(?: \([^)]*\))?:\s+/);
  if (lead && refs.some((r) => r === lead[1] || r.endsWith(`:${lead[1]}`) || r.endsWith(`:_${lead[1]}`)))
    s = s.slice(lead[0].length);
  s = s.replace(/^[,;:]\s*/, "");
  const end = s.search(/\.(\s|$)/);
  if (end >= 0) s = s.slice(0, end + 1);
  if (s.length > 110) s = `${s.slice(0, 107).replace(/\s+\S*$/, "")}…`;
  return s.length > 0 ? s : "—";
}

const DECL: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^export\s+(?:default\s+)?(?:async\s+)?function\*?\s+(\w+)/, (m) => m[1]],
  [/^(?:export\s+)?(?:abstract\s+)?class\s+(\w+)/, (m) => m[1]],
  [/^(?:export\s+)?(?:declare\s+)?(?:const|let|var)\s+(\w+)/, (m) => m[1]],
  [/^(?:export\s+)?(?:interface|type|enum)\s+(\w+)/, (m) => m[1]],
  [/^(?:async\s+)?function\*?\s+(\w+)/, (m) => m[1]],
];
const MEMBER =
  /^\s+(?:(?:public|private|protected|static|readonly|override|abstract|async|declare|get|set)\s+)*(#?\w+)\s*[?!]?\s*[(<:=]/;

function declName(line: string, cls: string | null): string | null {
  for (const [re, name] of DECL) {
    const m = line.match(re);
    if (m) return name(m);
  }
  const m = line.match(MEMBER);
  if (m && cls && !["if", "for", "while", "switch", "return", "case"].includes(m[1])) return `${cls}.${m[1]}`;
  return null;
}

export function scanFile(root: string, path: string): MapEntry[] {
  const file = relative(root, path).split(sep).join("/");
  const lines = readFileSync(path, "utf8").split("\n");
  const out: MapEntry[] = [];
  let cls: string | null = null;
  let i = 0;
  let sawCode = false;
  while (i < lines.length) {
    const t = lines[i].trim();
    const classMatch = lines[i].match(/^(?:export\s+)?(?:abstract\s+)?class\s+(\w+)/);
    if (classMatch) cls = classMatch[1];
    else if (/^\S/.test(lines[i]) && !t.startsWith("/") && !t.startsWith("*") && !t.startsWith("}"))
      cls = null;
    if (!t.startsWith("/*") && !t.startsWith("//")) {
      if (t.length > 0) sawCode = true;
      i++;
      continue;
    }
    // Collect one comment block.
    const start = i;
    if (t.startsWith("/*")) {
      while (i < lines.length && !lines[i].includes("*/")) i++;
      i++;
    } else {
      while (i < lines.length && lines[i].trim().startsWith("//")) i++;
    }
    const text = commentText(lines.slice(start, i));
    if (!qualifies(text)) continue;
    const refs = linuxRefs(text);
    if (refs.length === 0) continue;
    const next = i < lines.length ? lines[i] : "";
    const name = declName(next, cls);
    if (name) {
      out.push({ file, line: i + 1, symbol: name, linux: refs.join(", "), summary: summarize(text, refs) });
    } else if (!sawCode && start <= 1) {
      out.push({
        file,
        line: start + 1,
        symbol: "(file)",
        linux: refs.join(", "),
        summary: summarize(text, refs),
      });
    }
    sawCode = true;
  }
  return out;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/`/g, "'");
}

export function generateLinuxMap(root: string): string {
  const entries = listSources(join(root, "src"), []).flatMap((p) => scanFile(root, p));
  const groups = new Map<string, MapEntry[]>();
  for (const e of entries) {
    const dir = e.file.slice(0, e.file.lastIndexOf("/"));
    const g = groups.get(dir) ?? [];
    g.push(e);
    groups.set(dir, g);
  }
  const out: string[] = [
    "# Linux map",
    "",
    "<!-- Generated by scripts/gen-linux-map.ts; do not edit. Regenerate with:",
    "     npx tsc -p tsconfig.json && node dist/scripts/gen-linux-map.js > docs/linux-map.md",
    "     (test/docs/linux-map.test.ts fails when this file is stale.) -->",
    "",
    "Where ipvl's code says it mirrors a function or file of Linux 6.1, iproute2, iputils, nftables or",
    "tcpdump: taken from the doc comment right above each declaration (or a file's leading comment,",
    'shown as "(file)"). Paths of Linux sources are as the comments give them.',
    "",
    `${entries.length} entries in ${groups.size} folders.`,
  ];
  for (const dir of [...groups.keys()].sort()) {
    out.push("", `## ${dir}`, "", "| ipvl symbol | Linux | summary |", "| --- | --- | --- |");
    for (const e of groups.get(dir)!) {
      const short = e.file.slice(dir.length + 1);
      out.push(`| \`${e.symbol}\` (${short}) | \`${cell(e.linux)}\` | ${cell(e.summary)} |`);
    }
  }
  return `${out.join("\n")}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const here = fileURLToPath(import.meta.url);
  // dist/scripts/gen-linux-map.js or scripts/gen-linux-map.ts
  const root = join(here, here.includes(`${sep}dist${sep}`) ? "../../.." : "../..");
  process.stdout.write(generateLinuxMap(root));
}
