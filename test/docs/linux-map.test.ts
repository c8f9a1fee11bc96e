// docs/linux-map.md is what scripts/gen-linux-map.ts prints for the current src/: regenerate it
// (npx tsc -p tsconfig.json && node dist/scripts/gen-linux-map.js > docs/linux-map.md) when this fails.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { generateLinuxMap, linuxRefs } from "../../scripts/gen-linux-map.ts";

const ROOT = fileURLToPath(
  new URL(import.meta.url.includes("/dist/") ? "../../../" : "../../", import.meta.url),
);

test("docs/linux-map.md is current", () => {
  const want = generateLinuxMap(ROOT);
  const have = readFileSync(join(ROOT, "docs", "linux-map.md"), "utf8");
  if (have !== want) {
    const a = have.split("\n");
    const b = want.split("\n");
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    assert.fail(
      `docs/linux-map.md is stale (first difference at line ${i + 1}):\n` +
        `  file:      ${a[i] ?? "(end)"}\n  generated: ${b[i] ?? "(end)"}\n` +
        "Regenerate: npx tsc -p tsconfig.json && node dist/scripts/gen-linux-map.js > docs/linux-map.md",
    );
  }
});

test("the map covers the driver's data path and the kernel helpers it names", () => {
  const map = generateLinuxMap(ROOT);
  for (const fn of [
    "ipvlan_core.c:ipvlan_handle_frame",
    "ipvlan_core.c:ipvlan_xmit_mode_l2",
    "ipvlan_main.c:ipvlan_link_new",
    "ipvlan_l3s.c:ipvlan_l3_rcv",
    "net/core/dev.c:register_netdevice",
  ]) {
    assert.ok(map.includes(`\`${fn}\``), fn);
  }
});

test("linuxRefs: the reference forms comments use", () => {
  assert.deepEqual(linuxRefs("Mirrors ipvlan_core.c:ipvlan_rcv_frame. Local frames"), [
    "ipvlan_core.c:ipvlan_rcv_frame",
  ]);
  assert.deepEqual(linuxRefs("netif_stacked_transfer_operstate (net/core/dev.c): dormant"), [
    "net/core/dev.c:netif_stacked_transfer_operstate",
  ]);
  assert.deepEqual(linuxRefs("`ip addr add` (ip/ipaddress.c: ipaddr_modify and friends)."), [
    "ip/ipaddress.c:ipaddr_modify",
  ]);
  assert.deepEqual(linuxRefs("Mirrors nft_reject_inet_eval: the code"), ["nft_reject_inet_eval"]);
  assert.deepEqual(linuxRefs("inet_aton: `a`, `a.b`, `a.b.c`, `a.b.c.d`"), []);
  assert.deepEqual(linuxRefs("Mirrors the IPv4 UdpSock."), []);
});
