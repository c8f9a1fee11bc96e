/**
 * The layering rules of docs/conventions.md, checked on the source tree: imports between
 * src/ folders go one way only, and only through the target folder's index.ts.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = findRoot(dirname(fileURLToPath(import.meta.url)));
const src = join(root, "src");

/** Which src/ folders each folder may import. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  wire: [],
  kernel: ["wire"],
  ipvlan: ["kernel", "wire"],
  iproute2: ["kernel", "wire", "tools"],
  tools: ["kernel", "wire"],
  linux: ["kernel", "wire"],
  cli: ["wire", "kernel", "ipvlan", "iproute2", "tools", "linux"],
};

function findRoot(start: string): string {
  let d = start;
  for (;;) {
    try {
      if (statSync(join(d, "package.json")).isFile() && statSync(join(d, "src")).isDirectory()) return d;
    } catch {
      // keep walking up
    }
    const up = dirname(d);
    if (up === d) throw new Error(`Cannot find the project root above "${start}"`);
    d = up;
  }
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  const re = /^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gms;
  for (const m of text.matchAll(re)) specs.push(m[1]);
  for (const m of text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1]);
  return specs.filter((s) => s.startsWith("."));
}

function folderOf(file: string): string {
  return relative(src, file).split(sep)[0];
}

test("src/ folders import each other only in the allowed direction, through index.ts", () => {
  const problems: string[] = [];
  for (const file of walk(src)) {
    if (file.endsWith(".test.ts")) continue;
    const from = folderOf(file);
    const allowed = ALLOWED[from];
    if (!allowed) {
      problems.push(`${relative(root, file)}: folder "${from}" has no layering rule`);
      continue;
    }
    for (const spec of importsOf(file)) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src + sep)) continue;
      const to = folderOf(target);
      if (to === from) continue;
      if (!allowed.includes(to))
        problems.push(`${relative(root, file)} imports ${to}/ (not allowed for ${from}/)`);
      else if (relative(join(src, to), target) !== "index.ts") {
        problems.push(
          `${relative(root, file)} imports ${relative(root, target)} instead of src/${to}/index.ts`,
        );
      }
    }
  }
  assert.deepEqual(problems, []);
});

test("the layering check sees the imports it is meant to police", () => {
  const samples = walk(src).filter((f) => !f.endsWith(".test.ts"));
  const crossFolder = samples.flatMap((f) =>
    importsOf(f).filter((s) => folderOf(resolve(dirname(f), s)) !== folderOf(f)),
  );
  assert.ok(crossFolder.length > 0, "expected at least one cross-folder import in src/");
});
