/**
 * The nf_tables control plane (net/netfilter/nf_tables_api.c): the per-namespace ruleset and
 * the transaction that changes it. Userland sends a batch of commands; they apply in order
 * and the whole batch commits or none of it does (nfnetlink batches). Base chains register a
 * netfilter hook with their priority on commit; rules that use conntrack take a reference on
 * the namespace's conntrack hooks (nf_ct_netns_get) for as long as they exist.
 */
import { type ErrnoName, KernelError } from "../errno.ts";
import type { NetNamespace } from "../netns.ts";
import { slotKey } from "../slots.ts";
import { nfCtNetnsGet, nfCtNetnsPut } from "./conntrack.ts";
import {
  NF_INET,
  NFPROTO,
  type NfHookOps,
  type NfHookNum,
  nfRegisterHook,
  nfUnregisterHook,
} from "./hooks.ts";
import { jumpTargets, NFT_JUMP_STACK_SIZE, nftDoChain, stmtUsesCt } from "./nft-eval.ts";
import {
  NFT_FAMILY_PF,
  type NftBaseSpec,
  type NftChain,
  type NftFamily,
  type NftHookName,
  type NftPolicy,
  type NftRhs,
  type NftRule,
  type NftStmt,
  type NftTable,
} from "./nft-types.ts";

/** A rule as userland sends it (handles and anonymous set handles are assigned on commit). */
export interface NftRuleSpec {
  readonly stmts: readonly NftStmt[];
  readonly comment: string | null;
}

/** One command of a batch (one netlink message). */
export type NftCommand =
  | {
      readonly op: "add" | "create";
      readonly obj: "table";
      readonly family: NftFamily;
      readonly name: string;
    }
  | {
      readonly op: "delete" | "flush";
      readonly obj: "table";
      readonly family: NftFamily;
      readonly name: string | null;
      readonly handle?: number | null;
    }
  | {
      readonly op: "add" | "create";
      readonly obj: "chain";
      readonly family: NftFamily;
      readonly table: string;
      readonly name: string;
      readonly base: NftBaseSpec | null;
      readonly policy: NftPolicy | null;
    }
  | {
      readonly op: "delete" | "flush";
      readonly obj: "chain";
      readonly family: NftFamily;
      readonly table: string;
      readonly name: string | null;
      readonly handle?: number | null;
    }
  | {
      readonly op: "add" | "insert";
      readonly obj: "rule";
      readonly family: NftFamily;
      readonly table: string;
      readonly chain: string;
      readonly rule: NftRuleSpec;
      /** Handle of the rule to insert before (insert) or after (add). */
      readonly position?: number | null;
      /** Index of the rule to insert before (insert) or after (add). */
      readonly index?: number | null;
    }
  | {
      readonly op: "replace";
      readonly obj: "rule";
      readonly family: NftFamily;
      readonly table: string;
      readonly chain: string;
      readonly handle: number;
      readonly rule: NftRuleSpec;
    }
  | {
      readonly op: "delete";
      readonly obj: "rule";
      readonly family: NftFamily;
      readonly table: string;
      readonly chain: string;
      readonly handle: number;
    }
  | { readonly op: "flush"; readonly obj: "ruleset"; readonly family: NftFamily | null };

/** Which part of a command the kernel blamed (what nft underlines). */
export type NftErrorAttr =
  | "table"
  | "chain"
  | "name"
  | "handle"
  | "position"
  | "index"
  | "policy"
  | "command"
  | `stmt:${number}`;

/** A failed batch: the errno, the index of the failing command and the blamed attribute. */
export class NftError extends KernelError {
  /** Index of the failing command in the batch. */
  readonly index: number;
  /** The attribute the error refers to. */
  readonly attr: NftErrorAttr;

  constructor(code: ErrnoName, index: number, attr: NftErrorAttr) {
    super(code);
    this.index = index;
    this.attr = attr;
  }
}

interface NftNet {
  tables: NftTable[];
  /** nft_net->table_handle. */
  tableHandle: number;
  /** Registered hooks of base chains. */
  readonly hooks: Map<NftChain, { ops: NfHookOps; table: NftTable }>;
  /** Conntrack references held per NFPROTO. */
  readonly ctRefs: Map<number, number>;
  /** Ruleset generation (bumped per commit), as `nft list` shows in JSON metainfo. */
  genId: number;
}

const NFT = slotKey<NftNet>("netfilter.nftables");

function nftNet(net: NetNamespace): NftNet {
  let n = net.slots.get(NFT);
  if (!n) {
    n = { tables: [], tableHandle: 0, hooks: new Map(), ctRefs: new Map(), genId: 0 };
    net.slots.set(NFT, n);
  }
  return n;
}

/** The tables of a namespace in creation order (what `nft list ruleset` dumps). */
export function nftTables(net: NetNamespace): readonly NftTable[] {
  return nftNet(net).tables;
}

/** The ruleset generation id (NFT_MSG_GETGEN). */
export function nftGenId(net: NetNamespace): number {
  return nftNet(net).genId;
}

/** Finds a table. */
export function nftFindTable(net: NetNamespace, family: NftFamily, name: string): NftTable | undefined {
  return nftNet(net).tables.find((t) => t.family === family && t.name === name);
}

/** Hooks valid per family (nft_chain_filter and friends). */
const FAMILY_HOOKS: Readonly<Record<NftFamily, readonly NftHookName[]>> = {
  ip: ["prerouting", "input", "forward", "output", "postrouting"],
  ip6: ["prerouting", "input", "forward", "output", "postrouting"],
  inet: ["prerouting", "input", "forward", "output", "postrouting", "ingress"],
  bridge: ["prerouting", "input", "forward", "output", "postrouting"],
  arp: ["input", "output", "forward"],
  netdev: ["ingress", "egress"],
};

/** Hook number of a base chain in its family. */
export function nftHookNum(family: NftFamily, hook: NftHookName): number {
  if (family === "arp") return { input: 0, output: 1, forward: 2 }[hook as "input"] ?? 0;
  if (family === "netdev") return hook === "egress" ? 1 : 0;
  switch (hook) {
    case "prerouting":
      return NF_INET.PRE_ROUTING;
    case "input":
      return NF_INET.LOCAL_IN;
    case "forward":
      return NF_INET.FORWARD;
    case "output":
      return NF_INET.LOCAL_OUT;
    case "postrouting":
      return NF_INET.POST_ROUTING;
    default:
      return NF_INET.INGRESS;
  }
}

function validBase(family: NftFamily, base: NftBaseSpec): boolean {
  if (!FAMILY_HOOKS[family].includes(base.hook)) return false;
  if (base.type === "nat") {
    return (
      (family === "ip" || family === "ip6" || family === "inet") &&
      ["prerouting", "input", "output", "postrouting"].includes(base.hook)
    );
  }
  if (base.type === "route")
    return (family === "ip" || family === "ip6" || family === "inet") && base.hook === "output";
  return true;
}

interface Snapshot {
  readonly tables: NftTable[];
  readonly chains: Map<NftTable, NftChain[]>;
  readonly rules: Map<NftChain, { rules: NftRule[]; policy: NftPolicy; base: NftBaseSpec | null }>;
}

function snapshot(n: NftNet): Snapshot {
  const chains = new Map<NftTable, NftChain[]>();
  const rules = new Map<NftChain, { rules: NftRule[]; policy: NftPolicy; base: NftBaseSpec | null }>();
  for (const t of n.tables) {
    chains.set(t, [...t.chains]);
    for (const c of t.chains) rules.set(c, { rules: [...c.rules], policy: c.policy, base: c.base });
  }
  return { tables: [...n.tables], chains, rules };
}

function restore(n: NftNet, s: Snapshot): void {
  n.tables = s.tables;
  for (const [t, cs] of s.chains) t.chains = cs;
  for (const [c, r] of s.rules) {
    c.rules = r.rules;
    c.policy = r.policy;
    c.base = r.base;
  }
}

/** Every error of a failed batch (the kernel keeps going to report them all, then aborts). */
export class NftBatchError extends KernelError {
  /** The failing commands, in batch order. */
  readonly errors: readonly NftError[];

  constructor(errors: readonly NftError[]) {
    super(errors[0].code);
    this.errors = errors;
  }
}

/** Options of {@link nftCommit}. */
export interface NftCommitOptions {
  /** Validate only (nft -c): abort even when every command succeeds. */
  readonly check?: boolean;
}

/**
 * Applies a batch atomically (nfnetlink_rcv_batch + nf_tables_commit/abort). On failure throws
 * NftBatchError listing every failing command; then nothing changed, except that handles
 * handed out stay used, as in Linux.
 */
export function nftCommit(net: NetNamespace, cmds: readonly NftCommand[], opts: NftCommitOptions = {}): void {
  const n = nftNet(net);
  const snap = snapshot(n);
  const errors: NftError[] = [];
  cmds.forEach((cmd, i) => {
    const before = snapshot(n);
    try {
      apply(n, cmd, i);
    } catch (e) {
      if (!(e instanceof NftError)) throw e;
      restore(n, before);
      errors.push(e);
    }
  });
  if (errors.length > 0 || opts.check) {
    restore(n, snap);
    if (errors.length > 0) throw new NftBatchError(errors);
    return;
  }
  n.genId++;
  syncHooks(net, n);
  syncConntrack(net, n);
}

function fail(code: ErrnoName, index: number, attr: NftErrorAttr): never {
  throw new NftError(code, index, attr);
}

function getTable(n: NftNet, family: NftFamily, name: string, i: number): NftTable {
  return n.tables.find((t) => t.family === family && t.name === name) ?? fail("ENOENT", i, "table");
}

function getChain(t: NftTable, name: string, i: number, attr: NftErrorAttr = "chain"): NftChain {
  return t.chains.find((c) => c.name === name) ?? fail("ENOENT", i, attr);
}

function apply(n: NftNet, cmd: NftCommand, i: number): void {
  switch (cmd.obj) {
    case "ruleset":
      n.tables = n.tables.filter((t) => cmd.family !== null && t.family !== cmd.family);
      return;
    case "table":
      applyTable(n, cmd, i);
      return;
    case "chain":
      applyChain(n, cmd, i);
      return;
    case "rule":
      applyRule(n, cmd, i);
      return;
  }
}

function applyTable(n: NftNet, cmd: Extract<NftCommand, { obj: "table" }>, i: number): void {
  if (cmd.op === "add" || cmd.op === "create") {
    const have = n.tables.find((t) => t.family === cmd.family && t.name === cmd.name);
    if (have) {
      if (cmd.op === "create") fail("EEXIST", i, "name");
      return;
    }
    if (cmd.name.length > 255) fail("ENAMETOOLONG", i, "name");
    n.tables.push({ family: cmd.family, name: cmd.name, handle: ++n.tableHandle, chains: [], nextHandle: 0 });
    return;
  }
  const del = cmd as Extract<NftCommand, { obj: "table"; op: "delete" | "flush" }>;
  const t =
    del.handle != null
      ? (n.tables.find((x) => x.family === del.family && x.handle === del.handle) ??
        fail("ENOENT", i, "handle"))
      : getTable(n, del.family, del.name ?? "", i);
  if (cmd.op === "delete") n.tables = n.tables.filter((x) => x !== t);
  else for (const c of t.chains) c.rules = [];
}

function applyChain(n: NftNet, cmd: Extract<NftCommand, { obj: "chain" }>, i: number): void {
  const t = getTable(n, cmd.family, cmd.table, i);
  if (cmd.op === "add" || cmd.op === "create") {
    const have = t.chains.find((c) => c.name === cmd.name);
    if (have) {
      if (cmd.op === "create") fail("EEXIST", i, "name");
      if (cmd.base) {
        const b = have.base;
        if (!b) fail("EEXIST", i, "name");
        if (b.type !== cmd.base.type || b.hook !== cmd.base.hook || b.priority !== cmd.base.priority) {
          fail("EOPNOTSUPP", i, "command");
        }
      } else if (cmd.policy && !have.base) {
        fail("EOPNOTSUPP", i, "policy");
      }
      if (cmd.policy) have.policy = cmd.policy;
      return;
    }
    if (cmd.base && !validBase(cmd.family, cmd.base)) fail("EOPNOTSUPP", i, "command");
    if (cmd.name.length > 255) fail("ENAMETOOLONG", i, "name");
    if (!cmd.base && cmd.policy) fail("EOPNOTSUPP", i, "policy");
    t.chains = [
      ...t.chains,
      { name: cmd.name, handle: ++t.nextHandle, base: cmd.base, policy: cmd.policy ?? "accept", rules: [] },
    ];
    return;
  }
  const del = cmd as Extract<NftCommand, { obj: "chain"; op: "delete" | "flush" }>;
  const c =
    del.handle != null
      ? (t.chains.find((x) => x.handle === del.handle) ?? fail("ENOENT", i, "handle"))
      : getChain(t, del.name ?? "", i, "name");
  if (cmd.op === "flush") {
    c.rules = [];
    return;
  }
  // A chain still referenced by a jump/goto is in use (chain->use).
  const used = t.chains.some((o) => o.rules.some((r) => jumpTargets(r.stmts).includes(c.name)));
  if (used) fail("EBUSY", i, "name");
  t.chains = t.chains.filter((x) => x !== c);
}

function applyRule(n: NftNet, cmd: Extract<NftCommand, { obj: "rule" }>, i: number): void {
  const t = getTable(n, cmd.family, cmd.table, i);
  const c = getChain(t, cmd.chain, i);
  if (cmd.op === "delete") {
    const at = c.rules.findIndex((r) => r.handle === cmd.handle);
    if (at < 0) fail("ENOENT", i, "handle");
    c.rules = c.rules.filter((_, k) => k !== at);
    return;
  }
  let at: number;
  if (cmd.op === "replace") {
    at = c.rules.findIndex((r) => r.handle === cmd.handle);
    if (at < 0) fail("ENOENT", i, "handle");
  } else if (cmd.position != null) {
    at = c.rules.findIndex((r) => r.handle === cmd.position);
    if (at < 0) fail("ENOENT", i, "position");
    if (cmd.op === "add") at++;
  } else if (cmd.index != null) {
    if (cmd.index >= c.rules.length) fail("ENOENT", i, "index");
    at = cmd.op === "add" ? cmd.index + 1 : cmd.index;
  } else {
    at = cmd.op === "add" ? c.rules.length : 0;
  }
  const stmts = cmd.rule.stmts.map((s) => cloneStmt(s, t));
  // A replaced rule keeps its handle.
  const handle = cmd.op === "replace" ? c.rules[at].handle : ++t.nextHandle;
  stmts.forEach((s, k) => {
    if (s.kind !== "verdict" || (s.code !== "jump" && s.code !== "goto")) return;
    const target = t.chains.find((x) => x.name === s.chain) ?? fail("ENOENT", i, `stmt:${k}`);
    if (target.base) fail("EOPNOTSUPP", i, `stmt:${k}`);
  });
  const rule: NftRule = { handle, stmts, comment: cmd.rule.comment };
  const rules = [...c.rules];
  if (cmd.op === "replace") rules[at] = rule;
  else rules.splice(at, 0, rule);
  c.rules = rules;
  if (!validateTable(t)) fail("EMLINK", i, "command");
}

/**
 * nft_chain_validate: walks the jumps from every base chain; a loop, or a path deeper than the
 * jump stack, makes the ruleset invalid (EMLINK). Chains no base chain reaches are not checked.
 */
function validateTable(t: NftTable): boolean {
  const byName = new Map(t.chains.map((c) => [c.name, c]));
  const walk = (c: NftChain, path: Set<NftChain>, depth: number): boolean => {
    if (path.has(c) || depth > NFT_JUMP_STACK_SIZE) return false;
    path.add(c);
    for (const r of c.rules) {
      for (const name of jumpTargets(r.stmts)) {
        const next = byName.get(name);
        if (next && !walk(next, path, depth + 1)) return false;
      }
    }
    path.delete(c);
    return true;
  };
  return t.chains.every((c) => !c.base || walk(c, new Set(), 0));
}

/** Copies a statement into kernel memory: fresh counters, set handles from the table. */
function cloneStmt(s: NftStmt, t: NftTable): NftStmt {
  switch (s.kind) {
    case "counter":
      return { kind: "counter", packets: s.packets, bytes: s.bytes };
    case "match":
      return s.rhs.kind === "set" ? { ...s, rhs: cloneSet(s.rhs, t) } : s;
    default:
      return s;
  }
}

function cloneSet(rhs: Extract<NftRhs, { kind: "set" }>, t: NftTable): NftRhs {
  return { kind: "set", elems: rhs.elems, handle: ++t.nextHandle };
}

/** Registers hooks of new base chains and unregisters those of deleted ones. */
function syncHooks(net: NetNamespace, n: NftNet): void {
  const live = new Map<NftChain, NftTable>();
  for (const t of n.tables) for (const c of t.chains) if (c.base) live.set(c, t);
  for (const [c, h] of n.hooks) {
    const t = live.get(c);
    if (t !== h.table || !c.base || c.base.priority !== h.ops.priority) {
      nfUnregisterHook(net, h.ops);
      n.hooks.delete(c);
    }
  }
  for (const [c, t] of live) {
    if (n.hooks.has(c) || !c.base) continue;
    const base = c.base;
    const device = base.device;
    const ops: NfHookOps = {
      pf: NFT_FAMILY_PF[t.family],
      hook: nftHookNum(t.family, base.hook) as NfHookNum,
      priority: base.priority,
      owner: `nft ${t.family} ${t.name} ${c.name}`,
      fn: (skb, state) => {
        if (device !== null && state.in?.name !== device && state.out?.name !== device) return 1;
        return nftDoChain(t, c, skb, state);
      },
    };
    nfRegisterHook(net, ops);
    n.hooks.set(c, { ops, table: t });
  }
}

/** Holds one conntrack reference per family for as long as anything there needs conntrack. */
function syncConntrack(net: NetNamespace, n: NftNet): void {
  const want = new Map<number, number>();
  for (const t of n.tables) {
    const pf = NFT_FAMILY_PF[t.family];
    if (pf !== NFPROTO.IPV4 && pf !== NFPROTO.IPV6 && pf !== NFPROTO.INET) continue;
    for (const c of t.chains) {
      // Rules with a ct expression or a NAT statement hold conntrack (an empty nat chain
      // does not, as on Linux 6.x).
      for (const r of c.rules) {
        if (r.stmts.some(stmtUsesCt)) want.set(pf, (want.get(pf) ?? 0) + 1);
      }
    }
  }
  for (const pf of new Set([...want.keys(), ...n.ctRefs.keys()])) {
    const have = n.ctRefs.get(pf) ?? 0;
    const need = (want.get(pf) ?? 0) > 0 ? 1 : 0;
    if (need && !have) nfCtNetnsGet(net, pf);
    if (!need && have) nfCtNetnsPut(net, pf);
    n.ctRefs.set(pf, need);
  }
}

/** Drops a namespace's ruleset and its hooks (pernet exit). */
export function nftNetExit(net: NetNamespace): void {
  const n = net.slots.get(NFT);
  if (!n) return;
  n.tables = [];
  syncHooks(net, n);
  syncConntrack(net, n);
  net.slots.delete(NFT);
}
