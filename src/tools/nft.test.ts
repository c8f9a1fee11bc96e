import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel, type NetNamespace, netfilterInit } from "../kernel/index.ts";
import type { ToolContext } from "./context.ts";
import { formatNftError, tokenize } from "./nft-lexer.ts";
import { priorityByName, priorityText } from "./nft-priority.ts";
import { NFT_VERSION, nftMain } from "./nft.ts";

function ns(): NetNamespace {
  const k = bootKernel();
  netfilterInit(k);
  return k.createNamespace("t");
}

async function nft(
  net: NetNamespace,
  argv: string[],
  stdin = "",
): Promise<{ rc: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const ctx: ToolContext = {
    kernel: net.kernel,
    net,
    argv,
    stdin: new TextEncoder().encode(stdin),
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  };
  const rc = await nftMain(ctx);
  return { rc, out, err };
}

/** Adds one rule to `inet t c` (or `FAMILY t c`) and returns how nft lists it back. */
async function roundTrip(rule: string, family = "inet"): Promise<string> {
  const net = ns();
  const r = await nft(net, [
    `add table ${family} t; add chain ${family} t c; add rule ${family} t c ${rule}`,
  ]);
  assert.equal(r.rc, 0, r.err);
  const list = await nft(net, ["list", "chain", family, "t", "c"]);
  return list.out.split("\n")[2].trim();
}

test("tokens keep their offsets; words keep addresses, ranges and prefixes whole", () => {
  const toks = tokenize('ip saddr 10.0.0.0/8 tcp dport 1-1023 comment "a b" # c\n;');
  assert.deepEqual(
    toks.map((t) => `${t.kind}:${t.text}@${t.start}`),
    [
      "word:ip@0",
      "word:saddr@3",
      "word:10.0.0.0/8@9",
      "word:tcp@20",
      "word:dport@24",
      "word:1-1023@30",
      "word:comment@37",
      "string:a b@45",
      "nl:\n@54",
      "punct:;@55",
      "eof:@56",
    ],
  );
});

test("errors: carets under the span, tabs kept, file locations 1-based", () => {
  const src = "table inet t {\n\tchain c {\n\t\tip saddr 1.2.3.4 bogus accept\n";
  const at = src.indexOf("accept");
  assert.equal(
    formatNftError(src, "f.nft", "syntax error, unexpected accept", { start: at, end: at + 6 }, null),
    "f.nft:3:26-31: Error: syntax error, unexpected accept\n\t\tip saddr 1.2.3.4 bogus accept\n\t\t                       ^^^^^^\n",
  );
  const line = "add rule inet t c accept accept\n";
  assert.equal(
    formatNftError(
      line,
      null,
      "Statement after terminal statement has no effect",
      { start: 25, end: 31 },
      { start: 18, end: 24 },
    ),
    "Error: Statement after terminal statement has no effect\nadd rule inet t c accept accept\n                  ~~~~~~ ^^^^^^\n",
  );
});

test("priorities print by name within 10 of a standard one valid for the hook", () => {
  assert.equal(priorityText("inet", "prerouting", -150, false), "mangle");
  assert.equal(priorityText("inet", "forward", 10, false), "filter + 10");
  assert.equal(priorityText("inet", "postrouting", -100, false), "-100");
  assert.equal(priorityText("inet", "input", -90, false), "-90");
  assert.equal(priorityText("inet", "input", 51, false), "security + 1");
  assert.equal(priorityText("bridge", "input", -200, false), "filter");
  assert.equal(priorityText("arp", "output", -150, false), "-150");
  assert.equal(priorityText("inet", "input", 0, true), "0");
  assert.equal(priorityByName("ip", "output", "dstnat"), undefined);
  assert.equal(priorityByName("bridge", "output", "out"), 100);
});

test("rules print back as nft 1.0.6 prints them", async () => {
  assert.equal(
    await roundTrip("meta l4proto icmp ct state new counter"),
    "meta l4proto icmp ct state new counter packets 0 bytes 0",
  );
  assert.equal(await roundTrip("meta l4proto tcp tcp dport 22 accept"), "tcp dport 22 accept");
  assert.equal(await roundTrip("tcp dport 22 tcp sport 1"), "tcp sport 1 tcp dport 22");
  assert.equal(
    await roundTrip("tcp dport 22 counter tcp sport 1"),
    "meta l4proto tcp counter packets 0 bytes 0 tcp sport 1 tcp dport 22",
  );
  assert.equal(await roundTrip("ip protocol tcp tcp dport 22", "ip"), "tcp dport 22");
  assert.equal(await roundTrip("ip protocol tcp tcp dport 22"), "ip protocol tcp tcp dport 22");
  assert.equal(
    await roundTrip("ip saddr 10.1.2.3/8 ip daddr { 10.0.0.2, 10.0.0.1 }"),
    "ip saddr 10.0.0.0/8 ip daddr { 10.0.0.1, 10.0.0.2 }",
  );
  assert.equal(await roundTrip("mark 5 meta mark set 0x10"), "meta mark 0x00000005 meta mark set 0x00000010");
  assert.equal(await roundTrip('iif lo log level warn prefix "x: " drop'), 'iif "lo" log prefix "x: " drop');
  assert.equal(await roundTrip("ct state related,established accept"), "ct state established,related accept");
  assert.equal(await roundTrip("tcp flags == syn"), "tcp flags == syn");
  assert.equal(
    await roundTrip("ip6 nexthdr icmpv6 icmpv6 type { nd-neighbor-advert, nd-neighbor-solicit }"),
    "ip6 nexthdr ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert }",
  );
});

test("nft -j lists JSON with nft's separators; -c checks without applying; -v", async () => {
  const net = ns();
  const r = await nft(net, ["-c", "add table inet x"]);
  assert.deepEqual(r, { rc: 0, out: "", err: "" });
  // As in Linux, the aborted check batch used table handle 1.
  assert.equal((await nft(net, ["list", "tables"])).out, "");
  await nft(net, [
    "add table inet x; add chain inet x c { type filter hook input priority 0; }; add rule inet x c drop",
  ]);
  assert.equal(
    (await nft(net, ["-j", "list", "ruleset"])).out,
    '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, ' +
      '{"table": {"family": "inet", "name": "x", "handle": 2}}, ' +
      '{"chain": {"family": "inet", "table": "x", "name": "c", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, ' +
      '{"rule": {"family": "inet", "table": "x", "chain": "c", "handle": 2, "expr": [{"drop": null}]}}]}\n',
  );
  assert.deepEqual(await nft(net, ["-v"]), { rc: 0, out: `${NFT_VERSION}\n`, err: "" });
  assert.deepEqual(await nft(net, []), { rc: 1, out: "", err: "nft: no command specified\n" });
});

test("nft -f - reads stdin and reports errors with /dev/stdin locations", async () => {
  const net = ns();
  const r = await nft(net, ["-f", "-"], "add table ip t\nadd chain ip t c\nadd rule ip t c ip ttl 300\n");
  assert.deepEqual(r, {
    rc: 1,
    out: "",
    err: "/dev/stdin:3:24-26: Error: Value 300 exceeds valid range 0-255\nadd rule ip t c ip ttl 300\n                       ^^^\n",
  });
  assert.equal((await nft(net, ["list", "ruleset"])).out, "", "nothing of the batch was applied");
});
