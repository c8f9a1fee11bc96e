/**
 * The rtnetlink side of the neighbour subsystem (neigh_add, neigh_delete, neigh_dump_info,
 * pneigh_*), what `ip neigh add|change|replace|del|flush|show` end up calling, plus the
 * per-namespace table registry and the per-device sysctl registration.
 */
import type { MacAddr } from "../../wire/index.ts";
import { fail } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { slotKey } from "../slots.ts";
import type { NeighKey, Neighbour, NeighTable } from "./neigh.ts";
import { NEIGH_SYSCTL_DEFAULTS, NEIGH_UPDATE_F, type NlRequestFlags, NTF, NUD } from "./types.ts";

const TABLES = slotKey<Map<4 | 6, unknown>>("neigh.tables");

/** Registers a namespace's table for a family (arp_tbl / nd_tbl); the protocol's pernet init calls it. */
export function neighTableRegister<K extends NeighKey>(net: NetNamespace, table: NeighTable<K>): void {
  let m = net.slots.get(TABLES);
  if (!m) {
    m = new Map();
    net.slots.set(TABLES, m);
  }
  m.set(table.ops.family, table);
}

/** The namespace's ARP table (family 4) or ND table (family 6), if that protocol is initialised. */
export function neighTableGet(net: NetNamespace, family: 4): NeighTable<number> | undefined;
export function neighTableGet(net: NetNamespace, family: 6): NeighTable<bigint> | undefined;
export function neighTableGet(
  net: NetNamespace,
  family: 4 | 6,
): NeighTable<number> | NeighTable<bigint> | undefined {
  return net.slots.get(TABLES)?.get(family) as NeighTable<number> | NeighTable<bigint> | undefined;
}

/** Drops a namespace's table (pernet exit). */
export function neighTableUnregister(net: NetNamespace, family: 4 | 6): void {
  const t = net.slots.get(TABLES)?.get(family) as NeighTable<NeighKey> | undefined;
  t?.destroy();
  net.slots.get(TABLES)?.delete(family);
}

/**
 * neigh_sysctl_register: creates `<prefix>.<dev>.*` with the values of the table defaults
 * (init_net's `<prefix>.default.*`, as neigh_parms_alloc copies tbl->parms).
 */
export function neighSysctlRegister(net: NetNamespace, prefix: string, devName: string): void {
  const init = net.kernel.initNet;
  for (const [name, def] of Object.entries(NEIGH_SYSCTL_DEFAULTS)) {
    net.sysctl.set(
      `${prefix}.${devName}.${name}`,
      init.sysctl.get(`${prefix}.default.${name}`) ?? String(def),
    );
  }
}

/** neigh_sysctl_unregister. */
export function neighSysctlUnregister(net: NetNamespace, prefix: string, devName: string): void {
  const p = `${prefix}.${devName}.`;
  for (const k of [...net.sysctl.keys()]) if (k.startsWith(p)) net.sysctl.delete(k);
}

/** An `ip neigh add|change|replace` request (RTM_NEWNEIGH). */
export interface NeighAddRequest<K extends NeighKey> {
  readonly dev: NetDevice | null;
  readonly key: K;
  /** NDA_LLADDR. */
  readonly lladdr?: MacAddr;
  /** ndm_state; iproute2 defaults to NUD_PERMANENT. */
  readonly state?: number;
  /** ndm_flags (NTF_PROXY, NTF_ROUTER, NTF_USE, NTF_EXT_LEARNED). */
  readonly flags?: number;
  /** NDA_PROTOCOL. */
  readonly protocol?: number;
  readonly nl: NlRequestFlags;
}

/** neigh_add. Throws KernelError as Linux answers (ENOENT without create, EEXIST with excl ...). */
export function neighAdd<K extends NeighKey>(table: NeighTable<K>, req: NeighAddRequest<K>): void {
  const ndmFlags = req.flags ?? 0;
  const state = req.state ?? NUD.PERMANENT;
  if (req.dev && req.lladdr !== undefined && req.dev.addrLen === 0) fail("EINVAL", "Invalid link address");
  if (ndmFlags & NTF.PROXY) {
    const id = `${req.dev?.ifindex ?? 0}/${req.key}`;
    const have = table.proxies.get(id);
    if (have && req.nl.excl) fail("EEXIST");
    if (!have && !req.nl.create) fail("ENOENT");
    table.proxies.set(id, {
      dev: req.dev,
      key: req.key,
      flags: NTF.PROXY,
      protocol: req.protocol ?? have?.protocol ?? 0,
    });
    return;
  }
  if (!req.dev) fail("EINVAL", "Device not specified");
  let flags: number = NEIGH_UPDATE_F.ADMIN | NEIGH_UPDATE_F.OVERRIDE;
  if (ndmFlags & NTF.EXT_LEARNED) flags |= NEIGH_UPDATE_F.EXT_LEARNED;
  if (ndmFlags & NTF.ROUTER) flags |= NEIGH_UPDATE_F.ISROUTER;
  let n: Neighbour<K> | undefined = table.lookup(req.dev, req.key);
  if (!n) {
    if (!req.nl.create) fail("ENOENT");
    n = table.create(req.dev, req.key);
  } else {
    if (req.nl.excl) fail("EEXIST");
    if (!req.nl.replace) flags &= ~(NEIGH_UPDATE_F.OVERRIDE | NEIGH_UPDATE_F.OVERRIDE_ISROUTER);
  }
  if (req.protocol !== undefined) n.protocol = req.protocol;
  if (ndmFlags & NTF.USE) {
    table.eventSend(n, null);
    return;
  }
  if (flags & NEIGH_UPDATE_F.OVERRIDE) flags |= NEIGH_UPDATE_F.OVERRIDE_ISROUTER;
  table.update(n, req.lladdr ?? null, state, flags);
}

/**
 * neigh_delete: the entry goes FAILED (queued packets are reported) and is unlinked.
 * ENOENT when there is no such entry.
 */
export function neighDelete<K extends NeighKey>(
  table: NeighTable<K>,
  dev: NetDevice | null,
  key: K,
  proxy = false,
): void {
  if (proxy) {
    const id = `${dev?.ifindex ?? 0}/${key}`;
    if (!table.proxies.delete(id)) fail("ENOENT");
    return;
  }
  if (!dev) fail("EINVAL");
  const n = table.lookup(dev, key);
  if (!n) fail("ENOENT");
  table.update(n, null, NUD.FAILED, NEIGH_UPDATE_F.OVERRIDE | NEIGH_UPDATE_F.ADMIN);
  table.remove(n);
}

/** pneigh_lookup: whether `key` is proxied on dev (or on any device). */
export function pneighLookup<K extends NeighKey>(table: NeighTable<K>, dev: NetDevice, key: K): boolean {
  return table.proxies.has(`${dev.ifindex}/${key}`) || table.proxies.has(`0/${key}`);
}

/**
 * neigh_get (RTM_GETNEIGH for one entry, `ip neigh get ADDR dev DEV`): the entry, or ENOENT
 * "Neighbour entry not found". (Proxy entries, `ip neigh get proxy`, are not looked up here.)
 */
export function neighGet<K extends NeighKey>(table: NeighTable<K>, dev: NetDevice, key: K): Neighbour<K> {
  const n = table.lookup(dev, key);
  if (!n) fail("ENOENT", "Neighbour entry not found");
  return n;
}
