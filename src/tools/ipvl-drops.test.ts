import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  bootKernel,
  devOpen,
  devQueueXmit,
  allocSkb,
  type Kernel,
  type NetDevice,
  netnsAdd,
  rtnlNewLink,
} from "../kernel/index.ts";
// Tests may reach across folders: the reason names the driver counts are read from its table.
import { IpvlDrop } from "../ipvlan/index.ts";
import type { ToolContext } from "./context.ts";
import { DROP_REASONS } from "./drop-reasons.ts";
import { ipvlDropsMain } from "./ipvl-drops.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = findRoot(here);

function findRoot(start: string): string {
  let d = start;
  for (;;) {
    try {
      if (statSync(join(d, "package.json")).isFile() && statSync(join(d, "docs")).isDirectory()) return d;
    } catch {
      // keep walking up
    }
    const up = dirname(d);
    if (up === d) throw new Error(`Cannot find the project root above "${start}"`);
    d = up;
  }
}

async function run(
  k: Kernel,
  argv: string[],
  net = k.initNet,
): Promise<{ rc: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const ctx: ToolContext = {
    kernel: k,
    net,
    argv,
    stdin: new Uint8Array(0),
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  };
  const rc = await ipvlDropsMain(ctx);
  return { rc, out, err };
}

/** d0 (dummy, up) and d1 (dummy, down) in the initial namespace; v0 in ns0 with its peer v1. */
function world(): { k: Kernel; d0: NetDevice; d1: NetDevice; v0: NetDevice } {
  const k = bootKernel({ seed: 5 });
  const d0 = rtnlNewLink(k.initNet, { kind: "dummy", name: "d0" });
  const d1 = rtnlNewLink(k.initNet, { kind: "dummy", name: "d1" });
  devOpen(d0);
  // Three transmits on a device that is down: DEV_READY, as dev_queue_xmit counts them.
  for (let i = 0; i < 3; i++) devQueueXmit(allocSkb(new Uint8Array(60), d1));
  d0.countDrop("IPVLAN_PRIVATE");
  d0.countDrop("CPU_BACKLOG");
  d0.countDrop("CPU_BACKLOG");
  d0.countDrop("IPVLAN_FORWARD_FAIL");
  const ns0 = netnsAdd(k, "ns0");
  const v0 = rtnlNewLink(ns0, { kind: "veth", name: "v0", peer: { name: "v1" } });
  v0.countDrop("IPVLAN_L3_MULTICAST");
  return { k, d0, d1, v0 };
}

test("ipvl drops lists named drops per device, largest first, then by name", async () => {
  const { k } = world();
  const r = await run(k, []);
  assert.equal(r.rc, 0, r.err);
  assert.equal(
    r.out,
    [
      "2: d0:",
      "    CPU_BACKLOG          2",
      "    IPVLAN_FORWARD_FAIL  1",
      "    IPVLAN_PRIVATE       1",
      "3: d1:",
      "    DEV_READY  3",
      "",
    ].join("\n"),
  );
});

test("ipvl drops DEV and dev DEV pick one device; a device without drops says so", async () => {
  const { k } = world();
  assert.equal((await run(k, ["d1"])).out, "3: d1:\n    DEV_READY  3\n");
  assert.equal((await run(k, ["dev", "d1"])).out, "3: d1:\n    DEV_READY  3\n");
  assert.equal((await run(k, ["lo"])).out, "1: lo:\n    (no named drops)\n");
});

test("ipvl drops -s adds the Linux counters and what each reason also increments", async () => {
  const { k } = world();
  const r = await run(k, ["-s", "d0"]);
  assert.equal(
    r.out,
    [
      "2: d0: rx_dropped 0 rx_errors 0 tx_dropped 0 tx_errors 0",
      "    CPU_BACKLOG          2  rx_dropped",
      "    IPVLAN_FORWARD_FAIL  1  rx_errors, rx_dropped (note)",
      "    IPVLAN_PRIVATE       1  tx_dropped",
      "",
    ].join("\n"),
  );
  assert.match(
    (await run(k, ["-s", "d1"])).out,
    /^3: d1: rx_dropped 0 rx_errors 0 tx_dropped 3 tx_errors 0\n/,
  );
});

test("ipvl drops -j prints JSON; -s adds stats, counter and kind", async () => {
  const { k } = world();
  const plain = JSON.parse((await run(k, ["-j"])).out);
  assert.deepEqual(plain, [
    {
      ifindex: 2,
      ifname: "d0",
      drops: [
        { reason: "CPU_BACKLOG", count: 2 },
        { reason: "IPVLAN_FORWARD_FAIL", count: 1 },
        { reason: "IPVLAN_PRIVATE", count: 1 },
      ],
    },
    { ifindex: 3, ifname: "d1", drops: [{ reason: "DEV_READY", count: 3 }] },
  ]);
  const stats = JSON.parse((await run(k, ["-j", "-s", "d1"])).out);
  assert.deepEqual(stats, [
    {
      ifindex: 3,
      ifname: "d1",
      stats: { rx_dropped: 0, rx_errors: 0, tx_dropped: 3, tx_errors: 0 },
      drops: [
        {
          reason: "DEV_READY",
          count: 3,
          counter: "rx_dropped (dev_forward_skb); tx_dropped (dev_queue_xmit)",
          kind: "drop",
        },
      ],
    },
  ]);
  const pretty = (await run(k, ["-j", "-p", "d1"])).out;
  assert.ok(pretty.startsWith('[\n    {\n        "ifindex": 3,'), pretty);
  assert.deepEqual(JSON.parse((await run(k, ["-json", "lo"])).out), [
    { ifindex: 1, ifname: "lo", drops: [] },
  ]);
});

test("ipvl drops -n NS, -A and -a", async () => {
  const { k } = world();
  assert.equal((await run(k, ["-n", "ns0"])).out, "3: v0:\n    IPVLAN_L3_MULTICAST  1\n");
  const ns0 = k.namespaces.find((n) => n.name === "ns0")!;
  assert.equal((await run(k, [], ns0)).out, "3: v0:\n    IPVLAN_L3_MULTICAST  1\n", "the caller's namespace");
  const all = await run(k, ["-A"]);
  assert.equal(
    all.out,
    [
      "netns (initial):",
      "2: d0:",
      "    CPU_BACKLOG          2",
      "    IPVLAN_FORWARD_FAIL  1",
      "    IPVLAN_PRIVATE       1",
      "3: d1:",
      "    DEV_READY  3",
      "netns ns0:",
      "3: v0:",
      "    IPVLAN_L3_MULTICAST  1",
      "",
    ].join("\n"),
  );
  const json = JSON.parse((await run(k, ["-A", "-j"])).out) as { netns: string | null; ifname: string }[];
  assert.deepEqual(
    json.map((d) => `${d.netns}/${d.ifname}`),
    ["null/d0", "null/d1", "ns0/v0"],
  );
  const every = await run(k, ["-a", "-n", "ns0"]);
  assert.equal(
    every.out,
    "1: lo:\n    (no named drops)\n2: v1:\n    (no named drops)\n3: v0:\n    IPVLAN_L3_MULTICAST  1\n",
  );
});

test("ipvl drops errors as iproute2 prints them", async () => {
  const { k } = world();
  assert.deepEqual(await run(k, ["nope"]), { rc: 1, out: "", err: 'Cannot find device "nope"\n' });
  assert.deepEqual(await run(k, ["-n", "nope"]), {
    rc: 255,
    out: "",
    err: 'Cannot open network namespace "nope": No such file or directory\n',
  });
  assert.deepEqual(await run(k, ["-x"]), {
    rc: 255,
    out: "",
    err: 'Option "-x" is unknown, try "ipvl drops help".\n',
  });
  assert.deepEqual(await run(k, ["d0", "d1"]), {
    rc: 255,
    out: "",
    err: 'Error: either "dev" is duplicate, or "d1" is a garbage.\n',
  });
  const help = await run(k, ["help"]);
  assert.equal(help.rc, 255);
  assert.match(help.err, /^Usage: ipvl drops /);
  // The device exists in ns0 only: not found from the initial namespace.
  assert.equal((await run(k, ["v0"])).rc, 1);
  assert.equal((await run(k, ["-n", "ns0", "v0"])).rc, 0);
});

// ---- docs/drop-reasons.md covers every reason the code counts --------------------------------

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

/** The text between the parenthesis at `open` and its match. */
function callArgs(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Top-level comma-separated arguments. */
function splitArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(args.slice(start).trim());
  return out;
}

/** Upper-case string literals of an expression, except those it compares against (`=== "EXDEV"`). */
function literals(expr: string): string[] {
  return [...expr.matchAll(/(===|!==)?\s*"([A-Z][A-Z0-9_]+)"/g)].filter((m) => !m[1]).map((m) => m[2]);
}

const ipvlDrop = IpvlDrop as Readonly<Record<string, string>>;

/** Reason names of one argument expression, or null when it is not a literal or an IpvlDrop member. */
function resolve(expr: string): string[] | null {
  const names = literals(expr);
  for (const m of expr.matchAll(/IpvlDrop\.([A-Z0-9_]+)/g)) {
    const v = ipvlDrop[m[1]];
    if (v === undefined) throw new Error(`IpvlDrop.${m[1]} does not exist`);
    names.push(v);
  }
  return names.length > 0 ? names : null;
}

/** Every reason name the code counts, with where; plus calls whose reason could not be resolved. */
function reasonsInCode(): { used: Map<string, string>; unresolved: string[] } {
  const used = new Map<string, string>();
  const unresolved: string[] = [];
  const src = join(root, "src");
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, "utf8");
    const rel = relative(root, file);
    const where = (i: number) => `${rel}:${text.slice(0, i).split("\n").length}`;
    const add = (names: string[], i: number) => {
      for (const n of names) if (!used.has(n)) used.set(n, where(i));
    };
    for (const m of text.matchAll(/\b(countDrop|kfreeSkb)\(/g)) {
      const open = m.index + m[0].length - 1;
      const args = splitArgs(callArgs(text, open));
      // Definitions (`countDrop(reason: string)`) are not uses.
      if (args.some((a) => /^\w+\s*:/.test(a))) continue;
      const expr = m[1] === "kfreeSkb" ? (args[1] ?? "") : (args[0] ?? "");
      const names = resolve(expr);
      if (names) {
        add(names, m.index);
        continue;
      }
      // A parameter passed through: find the helper that takes it, then the helper's callers.
      const param = expr.trim();
      const before = text.slice(0, m.index);
      const defs = [
        ...before.matchAll(new RegExp(`(#?\\w+)\\s*\\(([^()]*\\b${param}\\s*:\\s*string[^()]*)\\)`, "g")),
      ];
      const helper = defs.at(-1)?.[1];
      if (!/^\w+$/.test(param) || helper === undefined) {
        unresolved.push(`${where(m.index)}: ${m[0]}${expr})`);
        continue;
      }
      const position = splitArgs(defs.at(-1)![2]).findIndex((a) => new RegExp(`^${param}\\b`).test(a));
      let callers = 0;
      const escaped = helper.replace("#", "\\#");
      for (const c of text.matchAll(new RegExp(`(?<![\\w#])${escaped}\\(`, "g"))) {
        const cargs = splitArgs(callArgs(text, c.index + c[0].length - 1));
        if (cargs.some((a) => /^\w+\??\s*:/.test(a))) continue;
        const found = resolve(cargs[position] ?? "");
        if (found) {
          add(found, c.index);
          callers++;
        } else unresolved.push(`${where(c.index)}: ${helper}(${cargs.join(", ")})`);
      }
      if (callers === 0) unresolved.push(`${where(m.index)}: no caller of ${helper}() passes a reason name`);
    }
  }
  return { used, unresolved };
}

/** The reason rows of docs/drop-reasons.md: name → [kind, counter]. */
function reasonsInDoc(): Map<string, [string, string]> {
  const text = readFileSync(join(root, "docs", "drop-reasons.md"), "utf8");
  const rows = new Map<string, [string, string]>();
  for (const m of text.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|/gm)) {
    assert.ok(!rows.has(m[1]), `docs/drop-reasons.md documents ${m[1]} twice`);
    rows.set(m[1], [m[2].trim(), m[4].trim()]);
  }
  return rows;
}

test("every drop reason the code counts is documented in docs/drop-reasons.md and catalogued", () => {
  const { used, unresolved } = reasonsInCode();
  assert.deepEqual(
    unresolved,
    [],
    "reason arguments the scan cannot resolve (extend resolve() or pass a literal)",
  );
  // The scan sees the reasons it is meant to police.
  for (const n of ["IPVLAN_PRIVATE", "UNHANDLED_PROTO", "IP_INHDR", "NEIGH_FAILED", "PKT_TOO_BIG"]) {
    assert.ok(used.has(n), `the scan missed ${n}`);
  }
  const doc = reasonsInDoc();
  const missingDoc = [...used].filter(([n]) => !doc.has(n)).map(([n, w]) => `${n} (${w})`);
  assert.deepEqual(missingDoc, [], "counted in the code but missing from docs/drop-reasons.md");
  const missingCatalog = [...used]
    .filter(([n]) => DROP_REASONS[n] === undefined)
    .map(([n, w]) => `${n} (${w})`);
  assert.deepEqual(missingCatalog, [], "counted in the code but missing from src/tools/drop-reasons.ts");
  const stale = [...doc.keys()].filter((n) => !used.has(n));
  assert.deepEqual(stale, [], "documented but never counted in src/");
});

test("docs/drop-reasons.md and src/tools/drop-reasons.ts agree on kind and counter", () => {
  const doc = reasonsInDoc();
  assert.deepEqual([...doc.keys()].sort(), Object.keys(DROP_REASONS).sort());
  for (const [name, [kind, counter]] of doc) {
    const info = DROP_REASONS[name]!;
    assert.equal(kind, info.kind, `${name}: kind`);
    assert.equal(counter, info.counter, `${name}: counter`);
  }
});
