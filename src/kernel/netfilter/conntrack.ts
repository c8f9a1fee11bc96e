/**
 * Connection tracking (net/netfilter/nf_conntrack_core.c): a per-namespace table of entries
 * keyed by both directions' tuples; `nf_conntrack_in` at PRE_ROUTING/LOCAL_OUT (priority
 * CONNTRACK) attaches an entry to `skb.ct`, creating an unconfirmed one for a new flow, and
 * `nf_confirm` at POST_ROUTING/LOCAL_IN (priority INT_MAX) inserts it into the table. The hooks
 * exist in a namespace only while a user holds them (nf_ct_netns_get/put): an nft rule with a
 * `ct` expression, NAT... so a namespace without such rules has no entries, as in Linux.
 * Timeouts run on the kernel's virtual clock; expired entries vanish lazily (the gc worker).
 */
import { readIpv4, readIpv6 } from "../../wire/index.ts";
import type { NetNamespace } from "../netns.ts";
import type { SkBuff } from "../skb.ts";
import { slotKey } from "../slots.ts";
import {
  type CtTuple,
  GENERIC_TIMEOUT,
  ICMP_ERRORS,
  ICMP_TIMEOUT,
  ICMPV6_ERRORS,
  ICMPV6_NOCT,
  IP_CT,
  IP_CT_DIR,
  IPS,
  icmpValidNew,
  invertTuple,
  isIcmpProto,
  TCP_CONNTRACK,
  TCP_FLAG,
  TCP_TIMEOUTS,
  tcpNextState,
  tupleKey,
  UDP_STREAM_DELAY,
  UDP_TIMEOUT,
  UDP_TIMEOUT_STREAM,
} from "./conntrack-proto.ts";
import {
  NF,
  NF_INET,
  NF_IP_PRI,
  NFPROTO,
  type NfHookOps,
  type NfHookState,
  type NfVerdict,
  nfRegisterHook,
  nfUnregisterHook,
} from "./hooks.ts";
import { pktInfo, readU16 } from "./pktinfo.ts";

/** A conntrack entry (struct nf_conn). */
export interface NfConn {
  /** Unique id (ctnetlink CTA_ID). */
  readonly id: number;
  /** [original, reply] tuples. */
  readonly tuple: readonly [CtTuple, CtTuple];
  /** IPS_* bits. */
  status: number;
  /** Absolute expiry time (ns) once confirmed; the relative timeout before. */
  timeout: bigint;
  /** ct mark. */
  mark: number;
  /** TCP state (TCP_CONNTRACK_*), 0 for other protocols. */
  tcpState: number;
  /** UDP: when the flow becomes a "stream" if traffic goes both ways. */
  streamTs: bigint;
}

interface CtNet {
  /** Confirmed entries by tuple key (both directions). */
  readonly hash: Map<string, { ct: NfConn; dir: number }>;
  /** Confirmed entries in insertion order. */
  readonly list: Set<NfConn>;
  /** Users per l3 protocol (nf_ct_netns_get refcounts). */
  readonly users: { 4: number; 6: number };
  /** Registered hook ops per l3 protocol. */
  readonly ops: { 4: NfHookOps[]; 6: NfHookOps[] };
  /** Packets seen as invalid (the `invalid` statistic). */
  invalid: number;
  nextId: number;
}

const CT = slotKey<CtNet>("netfilter.conntrack");

function ctNet(net: NetNamespace): CtNet {
  let c = net.slots.get(CT);
  if (!c) {
    c = {
      hash: new Map(),
      list: new Set(),
      users: { 4: 0, 6: 0 },
      ops: { 4: [], 6: [] },
      invalid: 0,
      nextId: 1,
    };
    net.slots.set(CT, c);
  }
  return c;
}

/** The conntrack entry and ctinfo attached to a packet (nf_ct_get). */
export function nfCtGet(skb: SkBuff): NfConn | null {
  return (skb.ct as NfConn | null) ?? null;
}

/** Whether conntrack hooks are registered in a namespace for an l3 protocol. */
export function nfCtActive(net: NetNamespace, l3: 4 | 6): boolean {
  return ctNet(net).users[l3] > 0;
}

function pfList(pf: number): (4 | 6)[] {
  if (pf === NFPROTO.INET) return [4, 6];
  if (pf === NFPROTO.IPV4) return [4];
  if (pf === NFPROTO.IPV6) return [6];
  return [];
}

/** nf_ct_netns_get: takes a reference on the conntrack hooks of a family (INET = both). */
export function nfCtNetnsGet(net: NetNamespace, pf: number): void {
  const c = ctNet(net);
  for (const l3 of pfList(pf)) {
    if (c.users[l3]++ === 0) registerCtHooks(net, c, l3);
  }
}

/** nf_ct_netns_put: drops the reference; the hooks go away with the last one. */
export function nfCtNetnsPut(net: NetNamespace, pf: number): void {
  const c = ctNet(net);
  for (const l3 of pfList(pf)) {
    if (c.users[l3] === 0) continue;
    if (--c.users[l3] === 0) {
      for (const ops of c.ops[l3]) nfUnregisterHook(net, ops);
      c.ops[l3] = [];
    }
  }
}

function registerCtHooks(net: NetNamespace, c: CtNet, l3: 4 | 6): void {
  const pf = l3 === 4 ? NFPROTO.IPV4 : NFPROTO.IPV6;
  const owner = l3 === 4 ? "nf_conntrack_ipv4" : "nf_conntrack_ipv6";
  const mk = (hook: NfHookOps["hook"], priority: number, fn: NfHookOps["fn"]): NfHookOps => ({
    pf,
    hook,
    priority,
    fn,
    owner,
  });
  c.ops[l3] = [
    mk(NF_INET.PRE_ROUTING, NF_IP_PRI.CONNTRACK, nfConntrackIn),
    mk(NF_INET.LOCAL_OUT, NF_IP_PRI.CONNTRACK, nfConntrackIn),
    mk(NF_INET.POST_ROUTING, NF_IP_PRI.CONNTRACK_CONFIRM, nfConfirm),
    mk(NF_INET.LOCAL_IN, NF_IP_PRI.CONNTRACK_CONFIRM, nfConfirm),
  ];
  for (const ops of c.ops[l3]) nfRegisterHook(net, ops);
}

/** Everything conntrack reads from a packet. */
interface CtPacket {
  readonly tuple: CtTuple;
  /** TCP flags, 0 otherwise. */
  readonly tcpFlags: number;
}

/** Builds the tuple of the packet whose IP header is at `nh` (nf_ct_get_tuple). */
function packetTuple(
  d: Uint8Array,
  l3: 4 | 6,
  nh: number,
  proto: number,
  thoff: number,
  end: number,
): CtPacket | null {
  const src = l3 === 4 ? BigInt(readIpv4(d, nh + 12)) : readIpv6(d, nh + 8);
  const dst = l3 === 4 ? BigInt(readIpv4(d, nh + 16)) : readIpv6(d, nh + 24);
  const base = { l3, proto, src, dst, sport: 0, dport: 0, type: 0, code: 0 };
  if (proto === 6 || proto === 17 || proto === 136 || proto === 132 || proto === 33) {
    if (end - thoff < 4) return null;
    const tuple = { ...base, sport: readU16(d, thoff), dport: readU16(d, thoff + 2) };
    const tcpFlags = proto === 6 && end - thoff >= 14 ? d[thoff + 13] : 0;
    return { tuple, tcpFlags };
  }
  if (isIcmpProto(l3, proto)) {
    if (end - thoff < 8) return null;
    return {
      tuple: { ...base, type: d[thoff], code: d[thoff + 1], sport: readU16(d, thoff + 4) },
      tcpFlags: 0,
    };
  }
  return { tuple: base, tcpFlags: 0 };
}

function lookup(net: NetNamespace, c: CtNet, t: CtTuple): { ct: NfConn; dir: number } | undefined {
  const h = c.hash.get(tupleKey(t));
  if (h && h.ct.timeout <= net.kernel.now) {
    removeEntry(c, h.ct);
    return undefined;
  }
  return h;
}

function removeEntry(c: CtNet, ct: NfConn): void {
  c.hash.delete(tupleKey(ct.tuple[0]));
  c.hash.delete(tupleKey(ct.tuple[1]));
  c.list.delete(ct);
  ct.status |= IPS.DYING;
}

/** Sets an entry's timeout (nf_ct_refresh): relative before confirmation, absolute after. */
function refresh(net: NetNamespace, ct: NfConn, timeout: bigint): void {
  ct.timeout = ct.status & IPS.CONFIRMED ? net.kernel.now + timeout : timeout;
}

function attach(skb: SkBuff, ct: NfConn | null, ctinfo: number): void {
  skb.ct = ct;
  skb.ctinfo = ctinfo;
}

/** nf_conntrack_in. */
export function nfConntrackIn(skb: SkBuff, state: NfHookState): NfVerdict {
  if (skb.ct !== null || skb.ctinfo === IP_CT.UNTRACKED) return NF.ACCEPT;
  const net = state.net;
  const c = ctNet(net);
  const pkt = pktInfo(skb, state.pf);
  if (pkt.l3 === 0 || pkt.tprot < 0 || pkt.fragoff !== 0) {
    c.invalid++;
    return NF.ACCEPT;
  }
  const end = pkt.nh + pkt.len;
  const d = skb.data;
  const parsed = packetTuple(d, pkt.l3, pkt.nh, pkt.tprot, pkt.thoff, end);
  if (!parsed) {
    c.invalid++;
    return NF.ACCEPT;
  }
  const t = parsed.tuple;
  if (isIcmpProto(t.l3, t.proto)) {
    if (t.l3 === 6 && ICMPV6_NOCT.has(t.type)) {
      attach(skb, null, IP_CT.UNTRACKED);
      return NF.ACCEPT;
    }
    if ((t.l3 === 4 ? ICMP_ERRORS : ICMPV6_ERRORS).has(t.type)) {
      icmpError(net, c, skb, pkt.thoff + 8, end, t.l3);
      return NF.ACCEPT;
    }
  }
  let h = lookup(net, c, t);
  if (h && t.proto === 6 && h.dir === IP_CT_DIR.ORIGINAL && parsed.tcpFlags & TCP_FLAG.SYN) {
    // A SYN reopening a closed connection replaces the old entry (the -NF_REPEAT case).
    const st = h.ct.tcpState;
    if (st === TCP_CONNTRACK.TIME_WAIT || st === TCP_CONNTRACK.CLOSE) {
      removeEntry(c, h.ct);
      h = undefined;
    }
  }
  let ct: NfConn;
  let dir: number;
  if (h) {
    ct = h.ct;
    dir = h.dir;
  } else {
    const created = newConn(net, c, parsed);
    if (!created) {
      c.invalid++;
      return NF.ACCEPT;
    }
    ct = created;
    dir = IP_CT_DIR.ORIGINAL;
  }
  let ctinfo: number;
  if (dir === IP_CT_DIR.REPLY) {
    ctinfo = IP_CT.ESTABLISHED_REPLY;
  } else if (ct.status & IPS.SEEN_REPLY) {
    ctinfo = IP_CT.ESTABLISHED;
  } else {
    ctinfo = IP_CT.NEW;
  }
  if (!handlePacket(net, c, ct, dir, parsed)) {
    c.invalid++;
    return NF.ACCEPT;
  }
  if (dir === IP_CT_DIR.REPLY) ct.status |= IPS.SEEN_REPLY;
  attach(skb, ct, ctinfo);
  return NF.ACCEPT;
}

/** init_conntrack: a new unconfirmed entry, or null when the packet may not start a flow. */
function newConn(net: NetNamespace, c: CtNet, p: CtPacket): NfConn | null {
  const t = p.tuple;
  if (isIcmpProto(t.l3, t.proto) && !icmpValidNew(t)) return null;
  if (t.proto === 6) {
    const st = tcpNextState(IP_CT_DIR.ORIGINAL, p.tcpFlags, TCP_CONNTRACK.NONE);
    if (st >= TCP_CONNTRACK.MAX) return null;
  }
  const reply = invertTuple(t);
  if (!reply) return null;
  return {
    id: c.nextId++,
    tuple: [t, reply],
    status: 0,
    timeout: 0n,
    mark: 0,
    tcpState: TCP_CONNTRACK.NONE,
    streamTs: net.kernel.now + UDP_STREAM_DELAY,
  };
}

/** The per-protocol packet handler; false means the packet is invalid for this entry. */
function handlePacket(net: NetNamespace, c: CtNet, ct: NfConn, dir: number, p: CtPacket): boolean {
  const t = p.tuple;
  if (t.proto === 6) return tcpPacket(net, c, ct, dir, p.tcpFlags);
  if (t.proto === 17 || t.proto === 136) {
    // SEEN_REPLY is set only after the first reply went through here, as in nf_conntrack_in.
    if (ct.status & IPS.SEEN_REPLY) {
      const stream = net.kernel.now > ct.streamTs;
      refresh(net, ct, stream ? UDP_TIMEOUT_STREAM : UDP_TIMEOUT);
      if (stream) ct.status |= IPS.ASSURED;
    } else {
      refresh(net, ct, UDP_TIMEOUT);
    }
    return true;
  }
  if (isIcmpProto(t.l3, t.proto)) {
    refresh(net, ct, ICMP_TIMEOUT);
    return true;
  }
  refresh(net, ct, GENERIC_TIMEOUT);
  return true;
}

/** A reduced nf_conntrack_tcp_packet: the state table, no window tracking. */
function tcpPacket(net: NetNamespace, c: CtNet, ct: NfConn, dir: number, flags: number): boolean {
  const old = ct.tcpState;
  const next = tcpNextState(dir, flags, old);
  if (next === TCP_CONNTRACK.MAX) return false;
  if (next === TCP_CONNTRACK.IGNORE) return true;
  if (flags & TCP_FLAG.RST && !(ct.status & IPS.SEEN_REPLY) && ct.status & IPS.CONFIRMED) {
    // Only a RST came back: not a connection worth keeping (nf_ct_kill_acct).
    removeEntry(c, ct);
    refresh(net, ct, 0n);
    return true;
  }
  ct.tcpState = next;
  if (
    !(ct.status & IPS.ASSURED) &&
    (old === TCP_CONNTRACK.SYN_RECV || old === TCP_CONNTRACK.ESTABLISHED) &&
    next === TCP_CONNTRACK.ESTABLISHED
  ) {
    ct.status |= IPS.ASSURED;
  }
  refresh(net, ct, TCP_TIMEOUTS[next]);
  return true;
}

/** icmp_error_message: relate an ICMP error to the flow of the packet it quotes. */
function icmpError(net: NetNamespace, c: CtNet, skb: SkBuff, inner: number, end: number, l3: 4 | 6): void {
  const d = skb.data;
  let proto: number;
  let thoff: number;
  if (l3 === 4) {
    if (end - inner < 20) return;
    proto = d[inner + 9];
    thoff = inner + (d[inner] & 0x0f) * 4;
  } else {
    if (end - inner < 40) return;
    proto = d[inner + 6];
    thoff = inner + 40;
  }
  const p = packetTuple(d, l3, inner, proto, thoff, end);
  if (!p) return;
  // The quoted packet travelled the other way: look up its inverse.
  const inv = invertTuple(p.tuple);
  if (!inv) return;
  const h = lookup(net, c, inv);
  if (!h) return;
  attach(skb, h.ct, h.dir === IP_CT_DIR.REPLY ? IP_CT.RELATED_REPLY : IP_CT.RELATED);
}

/** nf_confirm / __nf_conntrack_confirm: insert a new entry into the table. */
export function nfConfirm(skb: SkBuff, state: NfHookState): NfVerdict {
  const ct = nfCtGet(skb);
  if (!ct || ct.status & IPS.CONFIRMED || ct.status & IPS.DYING) return NF.ACCEPT;
  const net = state.net;
  const c = ctNet(net);
  gc(net, c);
  const clash = lookup(net, c, ct.tuple[0]) ?? lookup(net, c, ct.tuple[1]);
  if (clash) {
    // nf_ct_resolve_clash: the packet joins the entry that won.
    attach(skb, clash.ct, skb.ctinfo);
    return NF.ACCEPT;
  }
  ct.status |= IPS.CONFIRMED;
  ct.timeout += net.kernel.now;
  c.hash.set(tupleKey(ct.tuple[0]), { ct, dir: IP_CT_DIR.ORIGINAL });
  c.hash.set(tupleKey(ct.tuple[1]), { ct, dir: IP_CT_DIR.REPLY });
  c.list.add(ct);
  return NF.ACCEPT;
}

function gc(net: NetNamespace, c: CtNet): void {
  const now = net.kernel.now;
  for (const ct of c.list) if (ct.timeout <= now) removeEntry(c, ct);
}

/** The live entries of a namespace, oldest first (what ctnetlink dumps). */
export function nfCtEntries(net: NetNamespace): NfConn[] {
  const c = ctNet(net);
  gc(net, c);
  return [...c.list];
}

/** Removes one entry (ctnetlink delete). */
export function nfCtDelete(net: NetNamespace, ct: NfConn): void {
  removeEntry(ctNet(net), ct);
}

/** Removes every entry (conntrack -F); returns how many went. */
export function nfCtFlush(net: NetNamespace): number {
  const c = ctNet(net);
  const n = c.list.size;
  for (const ct of [...c.list]) removeEntry(c, ct);
  return n;
}

/** Seconds until an entry expires, as ctnetlink reports CTA_TIMEOUT. */
export function nfCtTimeoutSecs(net: NetNamespace, ct: NfConn): number {
  const left = ct.timeout - net.kernel.now;
  return left <= 0n ? 0 : Number(left / 1_000_000_000n);
}

/** Forgets a namespace's conntrack state (pernet exit). */
export function nfCtNetExit(net: NetNamespace): void {
  const c = net.slots.get(CT);
  if (!c) return;
  for (const l3 of [4, 6] as const) for (const ops of c.ops[l3]) nfUnregisterHook(net, ops);
  net.slots.delete(CT);
}
