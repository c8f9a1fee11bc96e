// examples/howto-l2.sh and examples/howto-l3.sh (the README's "Try it") run through the CLI
// (bin/ipvl.js run, simulated kernel), and the pings that must succeed do.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(
  new URL(import.meta.url.includes("/dist/") ? "../../../" : "../../", import.meta.url),
);
const BIN = join(ROOT, "bin", "ipvl.js");

/** Runs an example; returns its stdout split into "=== title" sections. */
function runExample(name: string): Map<string, string> {
  const r = spawnSync(process.execPath, [BIN, "run", join("examples", name)], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `${name}: exit ${r.status}\n${r.stderr}`);
  const sections = new Map<string, string>();
  for (const part of r.stdout.split(/^=== /m).slice(1)) {
    const nl = part.indexOf("\n");
    sections.set(part.slice(0, nl), part.slice(nl + 1));
  }
  return sections;
}

function section(sections: Map<string, string>, prefix: string): string {
  for (const [title, body] of sections) if (title.startsWith(prefix)) return body;
  assert.fail(`no section "${prefix}" in ${[...sections.keys()].join(" | ")}`);
}

function assertPingOk(body: string, what: string): void {
  assert.match(body, /(\d+) packets transmitted, \1 received, 0% packet loss/, `${what}:\n${body}`);
}

test("examples/howto-l2.sh: ns0 <-> ns1 and ns0 -> router", () => {
  const s = runExample("howto-l2.sh");
  assertPingOk(section(s, "ns0 -> ns1"), "ns0 -> ns1");
  assertPingOk(section(s, "ns1 -> ns0"), "ns1 -> ns0");
  assertPingOk(section(s, "ns0 -> router"), "ns0 -> router");
  assert.match(section(s, "ip -d link show"), /ipvlan {2}mode l2 bridge/);
});

test("examples/howto-l3.sh: ns0 <-> ns1", () => {
  const s = runExample("howto-l3.sh");
  assertPingOk(section(s, "ns0 -> ns1"), "ns0 -> ns1");
  assertPingOk(section(s, "ns1 -> ns0"), "ns1 -> ns0");
  assert.match(section(s, "ip -d link show"), /ipvlan {2}mode l3 bridge/);
});
