/**
 * Netfilter hook points (include/uapi/linux/netfilter.h, net/netfilter/core.c). Each namespace
 * has, per protocol family and hook, a list of hook functions sorted by priority; the IP stacks
 * call {@link nfHook} at the five points, and anything (nftables chains, conntrack, ipvlan's
 * L3S LOCAL_IN hook) registers with {@link nfRegisterHook}.
 */
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import type { SkBuff } from "../skb.ts";
import { slotKey } from "../slots.ts";

/** Protocol families with hooks (NFPROTO_*). */
export const NFPROTO = { INET: 1, IPV4: 2, ARP: 3, NETDEV: 5, BRIDGE: 7, IPV6: 10 } as const;

/** Hook numbers (NF_INET_*). */
export const NF_INET = {
  PRE_ROUTING: 0,
  LOCAL_IN: 1,
  FORWARD: 2,
  LOCAL_OUT: 3,
  POST_ROUTING: 4,
  INGRESS: 5,
} as const;

/** One hook number. */
export type NfHookNum = (typeof NF_INET)[keyof typeof NF_INET];

/** Verdicts (NF_DROP, NF_ACCEPT, NF_STOLEN). */
export const NF = { DROP: 0, ACCEPT: 1, STOLEN: 2, REPEAT: 4, STOP: 5 } as const;

/** One verdict. */
export type NfVerdict = (typeof NF)[keyof typeof NF];

/** Well-known priorities (include/uapi/linux/netfilter_ipv4.h). */
export const NF_IP_PRI = {
  FIRST: -2147483648,
  RAW_BEFORE_DEFRAG: -450,
  CONNTRACK_DEFRAG: -400,
  RAW: -300,
  SELINUX_FIRST: -225,
  CONNTRACK: -200,
  MANGLE: -150,
  NAT_DST: -100,
  FILTER: 0,
  SECURITY: 50,
  NAT_SRC: 100,
  SELINUX_LAST: 225,
  CONNTRACK_HELPER: 300,
  CONNTRACK_CONFIRM: 2147483647,
  LAST: 2147483647,
} as const;

/** The state a hook function sees (struct nf_hook_state). */
export interface NfHookState {
  readonly hook: NfHookNum;
  /** NFPROTO_IPV4 or NFPROTO_IPV6 (inet chains see both). */
  readonly pf: number;
  readonly in: NetDevice | null;
  readonly out: NetDevice | null;
  readonly net: NetNamespace;
}

/** A hook function: inspect/modify skb, return a verdict. */
export type NfHookFn = (skb: SkBuff, state: NfHookState) => NfVerdict;

/** A registered hook (struct nf_hook_ops). */
export interface NfHookOps {
  readonly pf: number;
  readonly hook: NfHookNum;
  readonly priority: number;
  readonly fn: NfHookFn;
  /** Who registered it, for debugging ("nft inet filter input", "ipvlan l3s" ...). */
  readonly owner: string;
}

const HOOKS = slotKey<Map<string, NfHookOps[]>>("netfilter.hooks");

function table(net: NetNamespace): Map<string, NfHookOps[]> {
  let t = net.slots.get(HOOKS);
  if (!t) {
    t = new Map();
    net.slots.set(HOOKS, t);
  }
  return t;
}

/** nf_register_net_hook: NFPROTO_INET registers for both IPv4 and IPv6. */
export function nfRegisterHook(net: NetNamespace, ops: NfHookOps): void {
  const pfs = ops.pf === NFPROTO.INET ? [NFPROTO.IPV4, NFPROTO.IPV6] : [ops.pf];
  for (const pf of pfs) {
    const key = `${pf}:${ops.hook}`;
    const list = table(net).get(key) ?? [];
    // Stable insert: equal priorities keep registration order, as nf_hook_entries_grow does.
    const i = list.findIndex((o) => o.priority > ops.priority);
    if (i < 0) list.push(ops);
    else list.splice(i, 0, ops);
    table(net).set(key, list);
  }
}

/** nf_unregister_net_hook. */
export function nfUnregisterHook(net: NetNamespace, ops: NfHookOps): void {
  for (const [key, list] of table(net)) {
    const i = list.indexOf(ops);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) table(net).delete(key);
  }
}

/** Whether any hook is registered at this point (lets the stacks skip work, like nf_hook's static key). */
export function nfHasHooks(net: NetNamespace, pf: number, hook: NfHookNum): boolean {
  return (net.slots.get(HOOKS)?.get(`${pf}:${hook}`)?.length ?? 0) > 0;
}

/**
 * nf_hook_slow: runs the hook functions in priority order; stops at the first verdict other
 * than ACCEPT. The caller continues the packet's path only on ACCEPT (and frees it on DROP,
 * counting the reason NETFILTER_DROP).
 */
export function nfHook(
  pf: number,
  hook: NfHookNum,
  net: NetNamespace,
  skb: SkBuff,
  inDev: NetDevice | null,
  outDev: NetDevice | null,
): NfVerdict {
  const list = net.slots.get(HOOKS)?.get(`${pf}:${hook}`);
  if (!list || list.length === 0) return NF.ACCEPT;
  const state: NfHookState = { hook, pf, in: inDev, out: outDev, net };
  for (const ops of [...list]) {
    const v = ops.fn(skb, state);
    if (v !== NF.ACCEPT) return v;
  }
  return NF.ACCEPT;
}
