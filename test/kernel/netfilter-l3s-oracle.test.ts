/**
 * The oracle scenario l3s-conntrack.sh, run with the simulated `nft` and `conntrack` on the
 * simulated kernel (IPv4 stack, ipvlan, netfilter): the master namespace loads the script's
 * `table inet count`, and the counters and `conntrack -L` lines (normalised as the script
 * does) must equal the recorded real-kernel output l3s-conntrack.out.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type NetNamespace, netfilterInit } from "../../src/kernel/index.ts";
import { conntrackMain, nftMain } from "../../src/tools/index.ts";
import { howto, MAC_M, ping, staticNeigh } from "../ipvlan/topology.ts";
import { runTool } from "./netfilter-tools.ts";

const RULESET = `table inet count {
  chain prerouting  { type filter hook prerouting  priority -150; meta l4proto icmp ct state new counter comment "pre-new"; meta l4proto icmp counter comment "pre-all"; }
  chain input       { type filter hook input       priority 0;    meta l4proto icmp counter comment "input"; }
  chain forward     { type filter hook forward     priority 0;    meta l4proto icmp counter comment "forward"; }
  chain output      { type filter hook output      priority 0;    meta l4proto icmp counter comment "output"; }
  chain postrouting { type filter hook postrouting priority 0;    meta l4proto icmp counter comment "post"; }
}
`;

/** The expected lines of l3s-conntrack.out (after its header). */
const EXPECTED: Record<string, string> = {
  l3: `=================== mode l3
  ns0 -> ns1                               OK
    master-ns nft counters: pre-new=0 pre-all=0 input=0 forward=0 output=0 post=0 
  ns0 -> router                            OK
    master-ns nft counters: pre-new=0 pre-all=0 input=0 forward=0 output=1 post=1 
  router -> ns0                            OK
    master-ns nft counters: pre-new=0 pre-all=0 input=0 forward=0 output=2 post=2 
  conntrack -L in the master (root) namespace:
    icmp     1 src=10.0.0.10 dst=10.0.0.1 type=8 code=0 [UNREPLIED] src=10.0.0.1 dst=10.0.0.10 type=0 code=0
  conntrack -L in ns0 (no ruleset there):
  -- add to the master namespace: nft add rule inet count input ip daddr 10.0.0.10 drop
  router -> ns0                            OK
  router -> ns1                            OK
  ns1 -> ns0                               OK
    master-ns nft counters: pre-new=0 pre-all=0 input=0 forward=0 output=4 post=4 
`,
  l3s: `=================== mode l3s
  ns0 -> ns1                               OK
    master-ns nft counters: pre-new=0 pre-all=0 input=0 forward=0 output=0 post=0 
  ns0 -> router                            OK
    master-ns nft counters: pre-new=0 pre-all=1 input=1 forward=0 output=1 post=1 
  router -> ns0                            OK
    master-ns nft counters: pre-new=1 pre-all=2 input=2 forward=0 output=2 post=2 
  conntrack -L in the master (root) namespace:
    icmp     1 src=10.0.0.1 dst=10.0.0.10 type=8 code=0 src=10.0.0.10 dst=10.0.0.1 type=0 code=0
    icmp     1 src=10.0.0.10 dst=10.0.0.1 type=8 code=0 src=10.0.0.1 dst=10.0.0.10 type=0 code=0
  conntrack -L in ns0 (no ruleset there):
  -- add to the master namespace: nft add rule inet count input ip daddr 10.0.0.10 drop
  router -> ns0                            FAIL
  router -> ns1                            OK
  ns1 -> ns0                               OK
    master-ns nft counters: pre-new=3 pre-all=4 input=4 forward=0 output=3 post=3 
`,
};

for (const mode of ["l3", "l3s"] as const) {
  test(`l3s-conntrack.sh with the simulated nft and conntrack: mode ${mode}`, async () => {
    const t = howto(mode, netfilterInit);
    const nft = (argv: string[], stdin?: string) =>
      runTool(nftMain, t.k, t.root, argv, stdin ? { stdin } : {});
    const conntrack = (net: NetNamespace) => runTool(conntrackMain, t.k, net, ["-L"]);
    staticNeigh(t, "10.0.0.10", MAC_M);
    staticNeigh(t, "10.0.0.11", MAC_M);
    assert.equal((await nft(["-f", "-"], RULESET)).rc, 0);

    let out = `=================== mode ${mode}\n`;
    const probe = (label: string, net: NetNamespace, dst: string) => {
      out += `  ${label.padEnd(40, " ")} ${ping(t.k, net, dst) ? "OK" : "FAIL"}\n`;
    };
    const counters = async () => {
      const list = (await nft(["list", "table", "inet", "count"])).out;
      const pairs = [...list.matchAll(/counter packets (\d+) bytes \d+ comment "([^"]*)"/g)].map(
        (m) => `${m[2]}=${m[1]}`,
      );
      out += `    master-ns nft counters: ${pairs.map((p) => `${p} `).join("")}\n`;
    };
    const ctlist = async () =>
      (await conntrack(t.root)).out
        .split("\n")
        .filter((l) => l !== "")
        .map((l) =>
          l
            .replace(/^(icmp +[0-9]+) [0-9]+ /, "$1 ")
            .replace(/ id=[0-9]+/g, "")
            .replace(/ (mark|use|zone)=[0-9]+/g, ""),
        )
        .sort();

    probe("ns0 -> ns1", t.ns0, "10.0.0.11");
    await counters();
    probe("ns0 -> router", t.ns0, "10.0.0.1");
    await counters();
    probe("router -> ns0", t.ext, "10.0.0.10");
    await counters();
    out += "  conntrack -L in the master (root) namespace:\n";
    for (const l of await ctlist()) out += `    ${l}\n`;
    out += "  conntrack -L in ns0 (no ruleset there):\n";
    for (const l of (await conntrack(t.ns0)).out.split("\n").filter((x) => x)) out += `    ${l}\n`;
    out += "  -- add to the master namespace: nft add rule inet count input ip daddr 10.0.0.10 drop\n";
    const add = await nft([
      "add",
      "rule",
      "inet",
      "count",
      "input",
      "ip",
      "daddr",
      "10.0.0.10",
      "counter",
      "drop",
      "comment",
      '"drop-input"',
    ]);
    assert.deepEqual(add, { rc: 0, out: "", err: "" });
    probe("router -> ns0", t.ext, "10.0.0.10");
    probe("router -> ns1", t.ext, "10.0.0.11");
    probe("ns1 -> ns0", t.ns1, "10.0.0.10");
    await counters();
    assert.equal(out, EXPECTED[mode]);
  });
}
