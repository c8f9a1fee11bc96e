/**
 * End to end through the simulated IPv4 stack: an nft ruleset in one namespace counts and
 * drops real pings (the stack calls nfHook at its five points), conntrack sees the flows, and
 * `nft list` / `conntrack -L` print what the real tools would.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { netfilterInit } from "../../src/kernel/index.ts";
import { conntrackMain, nftMain } from "../../src/tools/index.ts";
import { ipv4Lab, mac } from "./ipv4-lab.ts";
import { runTool } from "./netfilter-tools.ts";

const RULESET = `table inet count {
  chain prerouting  { type filter hook prerouting  priority -150; meta l4proto icmp ct state new counter comment "pre-new"; meta l4proto icmp counter comment "pre-all"; }
  chain input       { type filter hook input       priority 0;    meta l4proto icmp counter comment "input"; }
  chain forward     { type filter hook forward     priority 0;    meta l4proto icmp counter comment "forward"; }
  chain output      { type filter hook output      priority 0;    meta l4proto icmp counter comment "output"; }
  chain postrouting { type filter hook postrouting priority 0;    meta l4proto icmp counter comment "post"; }
}
`;

function counters(listing: string): string {
  return [...listing.matchAll(/counter packets (\d+) bytes \d+ comment "([^"]*)"/g)]
    .map((m) => `${m[2]}=${m[1]}`)
    .join(" ");
}

function setup() {
  const lab = ipv4Lab();
  netfilterInit(lab.k);
  const a = lab.ns("a");
  const b = lab.ns("b");
  const [va, vb] = lab.veth(a, "va", b, "vb", mac(1), mac(2));
  lab.addr(va, "10.9.0.1/24");
  lab.addr(vb, "10.9.0.2/24");
  const nft = (argv: string[], stdin?: string) => runTool(nftMain, lab.k, a, argv, stdin ? { stdin } : {});
  const conntrack = (net = a, ...argv: string[]) => runTool(conntrackMain, lab.k, net, argv);
  return { lab, a, b, nft, conntrack };
}

test("pings through an nft ruleset: counters per hook, conntrack entry, drop rule", async () => {
  const { lab, a, b, nft, conntrack } = setup();
  assert.equal((await nft(["-f", "-"], RULESET)).rc, 0);

  const out = lab.ping(a, "10.9.0.2");
  assert.equal(out.replies.length, 1, "a -> b answered");
  let list = (await nft(["list", "table", "inet", "count"])).out;
  assert.equal(counters(list), "pre-new=0 pre-all=1 input=1 forward=0 output=1 post=1");
  assert.match(list, /meta l4proto icmp counter packets 1 bytes 84 comment "output"/);

  const ct = await conntrack(a, "-L");
  assert.equal(ct.rc, 0);
  assert.match(
    ct.out,
    /^icmp {5}1 (29|30) src=10\.9\.0\.1 dst=10\.9\.0\.2 type=8 code=0 id=\d+ src=10\.9\.0\.2 dst=10\.9\.0\.1 type=0 code=0 id=\d+ mark=0 use=1\n$/,
  );
  assert.equal(ct.err, "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n");
  const none = await conntrack(b, "-L");
  assert.equal(none.out, "", "no ruleset in b: no conntrack entries");

  const inbound = lab.ping(b, "10.9.0.1");
  assert.equal(inbound.replies.length, 1, "b -> a answered");
  list = (await nft(["list", "table", "inet", "count"])).out;
  assert.equal(counters(list), "pre-new=1 pre-all=2 input=2 forward=0 output=2 post=2");
  assert.equal((await conntrack(a, "-C")).out, "2\n");

  const add = await nft([
    "add",
    "rule",
    "inet",
    "count",
    "input",
    "ip",
    "saddr",
    "10.9.0.2",
    "counter",
    "drop",
    "comment",
    '"drop-input"',
  ]);
  assert.deepEqual(add, { rc: 0, out: "", err: "" });
  assert.equal(lab.ping(b, "10.9.0.1").replies.length, 0, "dropped at a's input");
  assert.equal(lab.ping(a, "10.9.0.2").replies.length, 0, "replies dropped too");
  list = (await nft(["list", "chain", "inet", "count", "input"])).out;
  assert.match(list, /ip saddr 10\.9\.0\.2 counter packets 2 bytes 168 drop comment "drop-input"/);

  assert.equal((await nft(["flush", "ruleset"])).rc, 0);
  assert.equal(lab.ping(b, "10.9.0.1").replies.length, 1, "no ruleset, no drop");
  const flushed = await conntrack(a, "-F");
  assert.equal(
    flushed.err,
    "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n",
  );
  lab.ping(a, "10.9.0.2");
  assert.equal((await conntrack(a, "-L")).out, "", "conntrack hooks left with the last ct rule");
});

test("conntrack timeouts run on the virtual clock", async () => {
  const { lab, a, nft, conntrack } = setup();
  await nft(["-f", "-"], RULESET);
  lab.ping(a, "10.9.0.2", { waitMs: 1000 });
  assert.match((await conntrack(a, "-L")).out, /^icmp {5}1 29 /);
  lab.run(10_000);
  assert.match((await conntrack(a, "-L")).out, /^icmp {5}1 19 /);
  lab.run(20_000);
  assert.equal((await conntrack(a, "-L")).out, "");
});

test("a policy drop output chain makes ping fail with EPERM", async () => {
  const { lab, a, nft } = setup();
  await nft(["add table ip f; add chain ip f out { type filter hook output priority 0; policy drop; }"]);
  const r = lab.ping(a, "10.9.0.2");
  assert.equal(r.replies.length, 0);
  assert.notEqual(r.sent, 0);
});

test("reject with icmp type host-prohibited: the sender gets the ICMP error (nf_send_unreach), then the drop", async () => {
  const { lab, a, nft } = setup();
  const rules = `table ip f {
  chain output { type filter hook output priority 0; ip daddr 10.9.0.2 icmp type echo-request counter reject with icmp type host-prohibited; }
}
`;
  assert.equal((await nft(["-f", "-"], rules)).rc, 0);
  const out = lab.ping(a, "10.9.0.2");
  assert.equal(out.replies.length, 0);
  assert.equal(out.errors.length, 1, "the rejected echo request comes back as an ICMP error");
  const e = out.errors[0]!;
  assert.deepEqual([e.type, e.code, e.errno], [3, 10, "EHOSTUNREACH"]);
});
