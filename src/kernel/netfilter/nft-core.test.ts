import assert from "node:assert/strict";
import { test } from "node:test";
import { bootKernel } from "../boot.ts";
import type { NetNamespace } from "../netns.ts";
import { nfCtActive } from "./conntrack.ts";
import { NF, NF_INET, NFPROTO, nfHasHooks } from "./hooks.ts";
import { netfilterInit } from "./init.ts";
import { NftBatchError, type NftCommand, nftCommit, nftTables } from "./nft-core.ts";
import type { NftStmt } from "./nft-types.ts";
import { deliverIn, frame4, skbOf } from "./test-packets.ts";

function ns(): NetNamespace {
  const k = bootKernel();
  netfilterInit(k);
  return k.createNamespace("n");
}

const table = (name = "t"): NftCommand => ({ op: "add", obj: "table", family: "inet", name });
const base = (name: string, hook: "input" | "output" = "input", priority = 0): NftCommand => ({
  op: "add",
  obj: "chain",
  family: "inet",
  table: "t",
  name,
  base: { type: "filter", hook, priority, device: null },
  policy: null,
});
const chain = (name: string): NftCommand => ({
  op: "add",
  obj: "chain",
  family: "inet",
  table: "t",
  name,
  base: null,
  policy: null,
});
const rule = (c: string, ...stmts: NftStmt[]): NftCommand => ({
  op: "add",
  obj: "rule",
  family: "inet",
  table: "t",
  chain: c,
  rule: { stmts, comment: null },
});
const jump = (target: string): NftStmt => ({ kind: "verdict", code: "jump", chain: target });
const drop: NftStmt = { kind: "verdict", code: "drop", chain: null };

function errnoOf(f: () => void): string[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof NftBatchError);
    return e.errors.map((x) => `${x.index}:${x.code}:${x.attr}`);
  }
  return [];
}

test("handles: per-namespace table counter, per-table counter for chains, rules and sets", () => {
  const net = ns();
  nftCommit(net, [table(), base("in"), chain("c"), rule("c", { kind: "counter", packets: 0, bytes: 0 })]);
  nftCommit(net, [
    rule("in", {
      kind: "match",
      sel: { kind: "meta", key: "l4proto" },
      op: "==",
      rhs: { kind: "set", elems: [{ kind: "value", value: 6n }], handle: 0 },
      width: 8,
    }),
  ]);
  const t = nftTables(net)[0];
  assert.equal(t.handle, 1);
  assert.deepEqual(
    t.chains.map((c) => c.handle),
    [1, 2],
  );
  assert.equal(t.chains[1].rules[0].handle, 3);
  assert.equal(t.chains[0].rules[0].handle, 5, "the anonymous set took handle 4");
  nftCommit(net, [{ op: "flush", obj: "ruleset", family: null }, table("u")]);
  assert.equal(nftTables(net)[0].handle, 2);
});

test("a failing batch changes nothing but still uses up handles; all errors are reported", () => {
  const net = ns();
  nftCommit(net, [table(), chain("c")]);
  const errs = errnoOf(() =>
    nftCommit(net, [
      chain("d"),
      rule("c", jump("x")),
      rule("nosuch", drop),
      { op: "create", obj: "table", family: "inet", name: "t" },
    ]),
  );
  assert.deepEqual(errs, ["1:ENOENT:stmt:0", "2:ENOENT:chain", "3:EEXIST:name"]);
  assert.deepEqual(
    nftTables(net)[0].chains.map((c) => c.name),
    ["c"],
  );
  nftCommit(net, [chain("e")]);
  assert.equal(nftTables(net)[0].chains[1].handle, 4, "handles 2 and 3 went to the aborted batch");
});

test("base chains register hooks on commit and unregister when deleted", () => {
  const net = ns();
  nftCommit(net, [table(), { ...base("in"), policy: "drop" } as NftCommand]);
  assert.equal(nfHasHooks(net, NFPROTO.IPV4, NF_INET.LOCAL_IN), true);
  assert.equal(nfHasHooks(net, NFPROTO.IPV6, NF_INET.LOCAL_IN), true, "inet registers both families");
  const dev = net.loopback;
  const pkt = () => skbOf(frame4("10.0.0.1", "10.0.0.2", { icmp: "echo-request", id: 1 }), dev);
  assert.equal(deliverIn(net, pkt(), dev), NF.DROP);
  nftCommit(net, [
    { op: "add", obj: "chain", family: "inet", table: "t", name: "in", base: null, policy: "accept" },
  ]);
  assert.equal(deliverIn(net, pkt(), dev), NF.ACCEPT, "policy updated in place");
  nftCommit(net, [{ op: "delete", obj: "table", family: "inet", name: "t" }]);
  assert.equal(nfHasHooks(net, NFPROTO.IPV4, NF_INET.LOCAL_IN), false);
});

test("chain rules: EBUSY for referenced chains, EMLINK for loops reachable from a base chain", () => {
  const net = ns();
  nftCommit(net, [table(), base("in"), chain("a"), chain("b"), rule("a", jump("b"))]);
  assert.deepEqual(
    errnoOf(() => nftCommit(net, [{ op: "delete", obj: "chain", family: "inet", table: "t", name: "b" }])),
    ["0:EBUSY:name"],
  );
  // A loop among regular chains is fine until a base chain reaches it.
  nftCommit(net, [rule("b", jump("a"))]);
  assert.deepEqual(
    errnoOf(() => nftCommit(net, [rule("in", jump("a"))])),
    ["0:EMLINK:command"],
  );
  assert.deepEqual(
    errnoOf(() => nftCommit(net, [rule("a", jump("in"))])),
    ["0:EOPNOTSUPP:stmt:0"],
  );
  assert.deepEqual(
    errnoOf(() =>
      nftCommit(net, [
        {
          op: "add",
          obj: "chain",
          family: "inet",
          table: "t",
          name: "x",
          base: { type: "route", hook: "input", priority: 0, device: null },
          policy: null,
        },
      ]),
    ),
    ["0:EOPNOTSUPP:command"],
  );
});

test("rules using ct hold the conntrack hooks; check mode changes nothing", () => {
  const net = ns();
  const ct: NftStmt = {
    kind: "match",
    sel: { kind: "ct", key: "state" },
    op: "==",
    rhs: { kind: "flags", mask: 8n },
    width: 32,
  };
  nftCommit(net, [table(), base("in"), rule("in", ct)], { check: true });
  assert.equal(nftTables(net).length, 0);
  nftCommit(net, [table(), base("in"), rule("in", ct)]);
  assert.equal(nfCtActive(net, 4), true);
  assert.equal(nfCtActive(net, 6), true);
  nftCommit(net, [{ op: "flush", obj: "chain", family: "inet", table: "t", name: "in" }]);
  assert.equal(nfCtActive(net, 4), false);
});
