/**
 * IPv4 addresses of devices (net/ipv4/devinet.c): the in_device of every device, address add
 * and delete with primary/secondary handling and promotion, the validator and address notifier
 * chains, lifetimes, source address selection (inet_select_addr) and address lookups.
 */
import { NSEC_PER_SEC, type Timer } from "../clock.ts";
import { devMcAdd, devMcDel } from "../dev.ts";
import { fail } from "../errno.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { slotKey } from "../slots.ts";
import { fibAddIfaddr, fibDelIfaddr, fibDisableIp, fibModifyPrefixMetric } from "./fib-ifaddr.ts";
import { isMulticast, maskOf } from "./hdr.ts";
import { inDevOrconf } from "./sysctl.ts";
import { INFINITY_LIFE_TIME, IFA_F, type InAddrRequest, type InIfaddr, RT_SCOPE } from "./types.ts";
import { ipv4Net } from "./state.ts";

/** struct in_device: the IPv4 side of a device. */
export interface InDevice {
  readonly dev: NetDevice;
  /** ifa_list: primaries (ordered by scope) first, secondaries after. */
  readonly addrs: InIfaddr[];
  /** Joined IPv4 multicast groups with their use counts (mc_list). */
  readonly mcGroups: Map<number, number>;
  /** Set while the device is being unregistered (no promotions then). */
  dead: boolean;
  /** Lifetime timers of addresses with finite lifetimes. */
  readonly timers: Map<InIfaddr, Timer>;
}

/** The slot holding dev->ip_ptr. */
export const IN_DEV = slotKey<InDevice>("ipv4.in_device");

/** IGMP_ALL_HOSTS (224.0.0.1), joined on every device that is up. */
export const IGMP_ALL_HOSTS = 0xe0000001;

/** __in_dev_get_rtnl: the device's in_device, if it has one. */
export function inDevGet(dev: NetDevice): InDevice | undefined {
  return dev.slots.get(IN_DEV);
}

/** inetdev_init: creates the in_device. */
export function inetdevInit(dev: NetDevice): InDevice {
  const have = inDevGet(dev);
  if (have) return have;
  const inDev: InDevice = { dev, addrs: [], mcGroups: new Map(), dead: false, timers: new Map() };
  dev.slots.set(IN_DEV, inDev);
  return inDev;
}

/** inetdev_destroy: every address goes (no promotion), then the in_device. */
export function inetdevDestroy(dev: NetDevice): void {
  const inDev = inDevGet(dev);
  if (!inDev) return;
  inDev.dead = true;
  ipMcDown(inDev);
  inDev.mcGroups.clear();
  while (inDev.addrs.length > 0) inetDelIfa(inDev, inDev.addrs[0]);
  dev.slots.delete(IN_DEV);
}

/** inet_ifa_match: addr lies in the ifa's subnet (of ifa_address, the peer on ptp links). */
export function inetIfaMatch(addr: number, ifa: InIfaddr): boolean {
  return ((addr ^ ifa.address) & ifa.mask) >>> 0 === 0;
}

/** Primary addresses of a device in list order. */
export function primaries(inDev: InDevice): InIfaddr[] {
  return inDev.addrs.filter((a) => !(a.flags & IFA_F.SECONDARY));
}

/** inet_ifa_byprefix: the primary address owning a prefix. */
export function inetIfaByprefix(inDev: InDevice, prefix: number, mask: number): InIfaddr | undefined {
  return inDev.addrs.find(
    (a) => !(a.flags & IFA_F.SECONDARY) && a.mask === mask && ((prefix ^ a.address) & mask) >>> 0 === 0,
  );
}

/** Every address of the namespace's devices (device order, then list order): `ip -4 addr` dumps this. */
export function inetAddrList(net: NetNamespace, dev?: NetDevice): InIfaddr[] {
  const out: InIfaddr[] = [];
  for (const d of dev ? [dev] : net.devicesInOrder()) {
    const inDev = inDevGet(d);
    if (inDev) out.push(...inDev.addrs);
  }
  return out;
}

/** __ip_dev_find: the device owning a local address (any address of any in_device), or undefined. */
export function ipDevFind(net: NetNamespace, addr: number): NetDevice | undefined {
  for (const d of net.devices.values()) {
    const inDev = inDevGet(d);
    if (inDev?.addrs.some((a) => a.local === addr)) return d;
  }
  return undefined;
}

/** inet_lookup_ifaddr_rcu: the ifa with this local address, if any. */
export function inetLookupIfaddr(net: NetNamespace, addr: number): InIfaddr | undefined {
  for (const d of net.devices.values()) {
    const ifa = inDevGet(d)?.addrs.find((a) => a.local === addr);
    if (ifa) return ifa;
  }
  return undefined;
}

/** Netlink request flags of `ip addr add` (create|excl), `replace` (create|replace), `change` (replace). */
export interface AddrNlFlags {
  readonly create?: boolean;
  readonly excl?: boolean;
  readonly replace?: boolean;
}

/**
 * inet_rtm_newaddr: adds an address (or updates an existing identical one with
 * replace/change). Throws KernelError: EEXIST (without an extack in 6.1; from 6.6 on with
 * "ipv4: Address already assigned", docs/kernel-versions.md), EINVAL for a
 * scope clash, whatever the inetaddr validator chain throws (ipvlan: EADDRINUSE), ENOBUFS without
 * an in_device.
 */
export function inetAddrAdd(
  dev: NetDevice,
  req: InAddrRequest,
  nl: AddrNlFlags = { create: true, excl: true },
): InIfaddr {
  const inDev = inDevGet(dev);
  if (!inDev) fail("ENOBUFS");
  if (req.prefixLen < 0 || req.prefixLen > 32) fail("EINVAL", "ipv4: Invalid prefix length");
  const now = dev.netns.kernel.now;
  const mask = maskOf(req.prefixLen);
  const address = (req.address ?? req.local) >>> 0;
  const local = req.local >>> 0;
  const validLft = req.validLft ?? INFINITY_LIFE_TIME;
  const preferredLft = req.preferredLft ?? INFINITY_LIFE_TIME;
  if (preferredLft > validLft || validLft === 0) fail("EINVAL", "ipv4: address lifetime invalid");
  const existing = inDev.addrs.find(
    (a) => a.mask === mask && ((address ^ a.address) & mask) >>> 0 === 0 && a.local === local,
  );
  if (existing) {
    // inet_rtm_newaddr: find_matching_ifa hit with NLM_F_EXCL or without NLM_F_REPLACE.
    if (nl.excl || !nl.replace) {
      fail("EEXIST", dev.netns.kernel.releaseAtLeast(6, 6) ? "ipv4: Address already assigned" : undefined);
    }
    const metric = req.rtPriority ?? 0;
    if (existing.rtPriority !== metric) {
      fibModifyPrefixMetric(existing, metric);
      existing.rtPriority = metric;
    }
    if (req.proto !== undefined) existing.proto = req.proto;
    setLifetime(inDev, existing, validLft, preferredLft);
    existing.tstamp = now;
    for (const l of ipv4Net(dev.netns).addrListeners) l("NEW", existing);
    return existing;
  }
  const ifa: InIfaddr = {
    dev,
    local,
    address,
    prefixLen: req.prefixLen,
    mask,
    broadcast: (req.broadcast ?? 0) >>> 0,
    scope: req.scope ?? RT_SCOPE.UNIVERSE,
    flags: (req.flags ?? 0) & ~IFA_F.SECONDARY,
    label: req.label ?? dev.name,
    rtPriority: req.rtPriority ?? 0,
    proto: req.proto ?? 0,
    validLft,
    preferredLft,
    cstamp: now,
    tstamp: now,
  };
  insertIfa(inDev, ifa);
  return ifa;
}

/** __inet_insert_ifa: duplicate/scope checks, the validator chain, list placement, notifications. */
function insertIfa(inDev: InDevice, ifa: InIfaddr): void {
  const dev = inDev.dev;
  let lastPrimary = 0;
  for (let i = 0; i < inDev.addrs.length; i++) {
    const a = inDev.addrs[i];
    if (!(a.flags & IFA_F.SECONDARY) && ifa.scope <= a.scope) lastPrimary = i + 1;
    if (a.mask === ifa.mask && inetIfaMatch(a.address, ifa)) {
      // __inet_insert_ifa (6.1): plain -EEXIST, no extack.
      if (a.local === ifa.local) fail("EEXIST");
      if (a.scope !== ifa.scope) fail("EINVAL", "ipv4: Invalid scope value");
      ifa.flags |= IFA_F.SECONDARY;
    }
  }
  const info = { local: ifa.local, address: ifa.address, prefixLen: ifa.prefixLen };
  // A validator (ipvlan refusing an address another slave owns) aborts the add by throwing.
  dev.netns.kernel.inetaddrValidatorChain.call({ event: "UP", dev, addr: info });
  if (ifa.flags & IFA_F.SECONDARY) inDev.addrs.push(ifa);
  else inDev.addrs.splice(lastPrimary, 0, ifa);
  setLifetime(inDev, ifa, ifa.validLft, ifa.preferredLft);
  for (const l of ipv4Net(dev.netns).addrListeners) l("NEW", ifa);
  fibAddIfaddr(ifa);
  dev.netns.kernel.inetaddrChain.call({ event: "UP", dev, addr: info });
}

/** What `ip addr del` matches on (only the attributes given are compared). */
export interface AddrSelector {
  /** IFA_LOCAL. */
  readonly local?: number;
  /** IFA_ADDRESS with the request's prefix length. */
  readonly address?: number;
  readonly prefixLen?: number;
  /** IFA_LABEL. */
  readonly label?: string;
}

/** inet_rtm_deladdr: deletes the first matching address; EADDRNOTAVAIL "ipv4: Address not found". */
export function inetAddrDel(dev: NetDevice, sel: AddrSelector): void {
  const inDev = inDevGet(dev);
  if (!inDev) fail("ENODEV");
  for (const ifa of inDev.addrs) {
    if (sel.local !== undefined && ifa.local !== sel.local >>> 0) continue;
    if (sel.label !== undefined && ifa.label !== sel.label) continue;
    if (
      sel.address !== undefined &&
      (sel.prefixLen !== ifa.prefixLen || !inetIfaMatch(sel.address >>> 0, ifa))
    )
      continue;
    inetDelIfa(inDev, ifa);
    return;
  }
  fail("EADDRNOTAVAIL", "ipv4: Address not found");
}

/** `ip addr flush dev X`: deletes every address (iproute2 deletes them one by one, primaries last). */
export function inetAddrFlush(dev: NetDevice): void {
  const inDev = inDevGet(dev);
  if (!inDev) return;
  while (inDev.addrs.length > 0) inetDelIfa(inDev, inDev.addrs[inDev.addrs.length - 1]);
}

function notifyDel(inDev: InDevice, ifa: InIfaddr): void {
  const dev = inDev.dev;
  const t = inDev.timers.get(ifa);
  if (t) dev.netns.kernel.loop.cancel(t);
  inDev.timers.delete(ifa);
  for (const l of ipv4Net(dev.netns).addrListeners) l("DEL", ifa);
  fibDelIfaddr(ifa, null);
  dev.netns.kernel.inetaddrChain.call({
    event: "DOWN",
    dev,
    addr: { local: ifa.local, address: ifa.address, prefixLen: ifa.prefixLen },
  });
  if (inDev.addrs.length === 0) fibDisableIp(dev, true);
}

/**
 * __inet_del_ifa: deleting a primary also deletes the secondaries of its subnet, or promotes the
 * first of them when promote_secondaries is set (its routes move to the new primary).
 */
export function inetDelIfa(inDev: InDevice, ifa1: InIfaddr): void {
  const dev = inDev.dev;
  let promote: InIfaddr | undefined;
  // last_prim starts at the head of the list; prev_prom is the last address kept before promote.
  let lastPrim: InIfaddr | undefined = inDev.addrs[0];
  let prevProm: InIfaddr | undefined;
  const sameSubnet = (a: InIfaddr) => a.mask === ifa1.mask && inetIfaMatch(a.address, ifa1);
  if (!inDev.dead && !(ifa1.flags & IFA_F.SECONDARY)) {
    const doPromote = inDevOrconf(dev, "promote_secondaries");
    const start = inDev.addrs.indexOf(ifa1) + 1;
    for (let i = start; i < inDev.addrs.length; ) {
      const a = inDev.addrs[i];
      if (!(a.flags & IFA_F.SECONDARY) && ifa1.scope <= a.scope) lastPrim = a;
      if (!(a.flags & IFA_F.SECONDARY) || !sameSubnet(a)) {
        prevProm = a;
        i++;
        continue;
      }
      if (!doPromote) {
        inDev.addrs.splice(i, 1);
        notifyDel(inDev, a);
      } else {
        promote = a;
        break;
      }
    }
    if (promote) {
      // The subnet's secondaries change their prefsrc: drop their routes now, re-add later.
      for (let i = inDev.addrs.indexOf(promote); i < inDev.addrs.length; i++) {
        if (sameSubnet(inDev.addrs[i])) fibDelIfaddr(inDev.addrs[i], ifa1);
      }
    }
  }
  const idx = inDev.addrs.indexOf(ifa1);
  if (idx >= 0) inDev.addrs.splice(idx, 1);
  notifyDel(inDev, ifa1);
  if (!promote) return;
  if (prevProm) {
    // Only a promoted address with other addresses before it moves: right after last_prim.
    // (Directly behind the deleted primary, it keeps its place: addrs.out.)
    inDev.addrs.splice(inDev.addrs.indexOf(promote), 1);
    const at = lastPrim ? inDev.addrs.indexOf(lastPrim) + 1 : 0;
    inDev.addrs.splice(at, 0, promote);
  }
  promote.flags &= ~IFA_F.SECONDARY;
  for (const l of ipv4Net(dev.netns).addrListeners) l("NEW", promote);
  fibAddIfaddr(promote);
  dev.netns.kernel.inetaddrChain.call({
    event: "UP",
    dev,
    addr: { local: promote.local, address: promote.address, prefixLen: promote.prefixLen },
  });
  for (let i = inDev.addrs.indexOf(promote) + 1; i < inDev.addrs.length; i++) {
    const a = inDev.addrs[i];
    if (a.flags & IFA_F.SECONDARY && sameSubnet(a)) fibAddIfaddr(a);
  }
}

/** set_ifa_lifetime + check_lifetime: PERMANENT for infinite lifetimes, else timers. */
function setLifetime(inDev: InDevice, ifa: InIfaddr, valid: number, preferred: number): void {
  const loop = inDev.dev.netns.kernel.loop;
  ifa.validLft = valid;
  ifa.preferredLft = preferred;
  ifa.flags &= ~(IFA_F.PERMANENT | IFA_F.DEPRECATED);
  const old = inDev.timers.get(ifa);
  if (old) loop.cancel(old);
  inDev.timers.delete(ifa);
  if (valid === INFINITY_LIFE_TIME) {
    ifa.flags |= IFA_F.PERMANENT;
    return;
  }
  if (preferred === 0) ifa.flags |= IFA_F.DEPRECATED;
  const arm = (): void => {
    const now = loop.now;
    const age = (now - ifa.tstamp) / NSEC_PER_SEC;
    if (age >= BigInt(ifa.validLft)) {
      inDev.timers.delete(ifa);
      if (inDev.addrs.includes(ifa)) inetDelIfa(inDev, ifa);
      return;
    }
    let next = ifa.tstamp + BigInt(ifa.validLft) * NSEC_PER_SEC;
    if (ifa.preferredLft !== INFINITY_LIFE_TIME && !(ifa.flags & IFA_F.DEPRECATED)) {
      const pref = ifa.tstamp + BigInt(ifa.preferredLft) * NSEC_PER_SEC;
      if (now >= pref) {
        ifa.flags |= IFA_F.DEPRECATED;
        for (const l of ipv4Net(inDev.dev.netns).addrListeners) l("NEW", ifa);
      } else next = pref;
    }
    inDev.timers.set(ifa, loop.at(next, arm));
  };
  inDev.timers.set(ifa, loop.after(0n, arm));
}

/** Remaining lifetimes (seconds) as `ip addr` prints them: [valid, preferred]. */
export function ifaRemainingLifetimes(ifa: InIfaddr, now: bigint): [number, number] {
  if (ifa.flags & IFA_F.PERMANENT) return [INFINITY_LIFE_TIME, INFINITY_LIFE_TIME];
  const age = Number((now - ifa.tstamp) / NSEC_PER_SEC);
  const valid = Math.max(0, ifa.validLft - age);
  const pref =
    ifa.preferredLft === INFINITY_LIFE_TIME ? INFINITY_LIFE_TIME : Math.max(0, ifa.preferredLft - age);
  return [valid, pref];
}

/**
 * inet_select_addr: the source address to use on dev toward dst at a scope: the first primary
 * of the device in dst's subnet, else its first primary within scope, else any device's
 * (loopback first) primary that is not link-scoped.
 */
export function inetSelectAddr(dev: NetDevice, dst: number, scope: number): number {
  const inDev = inDevGet(dev);
  const localnetScope = inDev && inDevOrconf(dev, "route_localnet") ? RT_SCOPE.LINK : RT_SCOPE.HOST;
  let addr = 0;
  if (inDev) {
    for (const ifa of inDev.addrs) {
      if (ifa.flags & IFA_F.SECONDARY) continue;
      if (Math.min(ifa.scope, localnetScope) > scope) continue;
      if (!dst || inetIfaMatch(dst, ifa)) {
        addr = ifa.local;
        break;
      }
      if (!addr) addr = ifa.local;
    }
  }
  if (addr) return addr;
  for (const d of dev.netns.devicesInOrder()) {
    const id = inDevGet(d);
    if (!id) continue;
    for (const ifa of id.addrs) {
      if (!(ifa.flags & IFA_F.SECONDARY) && ifa.scope !== RT_SCOPE.LINK && ifa.scope <= scope)
        return ifa.local;
    }
  }
  return 0;
}

/**
 * inet_confirm_addr: an address of the device (or of any device when dev is null) that is
 * `local` (or any within `scope` when local is 0) and shares a subnet with `dst` and `local`;
 * 0 if none.
 */
export function inetConfirmAddr(
  net: NetNamespace,
  dev: NetDevice | null,
  dst: number,
  local: number,
  scope: number,
): number {
  for (const d of dev ? [dev] : net.devicesInOrder()) {
    const inDev = inDevGet(d);
    if (!inDev) continue;
    const a = confirmAddrIndev(inDev, dst, local, scope);
    if (a) return a;
  }
  return 0;
}

/** confirm_addr_indev. */
function confirmAddrIndev(inDev: InDevice, dst: number, local: number, scope: number): number {
  const localnetScope = inDevOrconf(inDev.dev, "route_localnet") ? RT_SCOPE.LINK : RT_SCOPE.HOST;
  let same = false;
  let addr = 0;
  for (const ifa of inDev.addrs) {
    const minScope = Math.min(ifa.scope, localnetScope);
    if (!addr && (local === ifa.local || !local) && minScope <= scope) {
      addr = ifa.local;
      if (same) break;
    }
    if (!same) {
      same = (!local || inetIfaMatch(local, ifa)) && (!dst || inetIfaMatch(dst, ifa));
      if (same && addr) {
        if (local || !dst) break;
        if (inetIfaMatch(addr, ifa)) break;
        if (minScope <= scope) {
          addr = ifa.local;
          break;
        }
        same = false;
      }
    }
  }
  return same ? addr : 0;
}

/** ip_mc_up: join 224.0.0.1 (and program its link-layer address). */
export function ipMcUp(inDev: InDevice): void {
  ipMcIncGroup(inDev, IGMP_ALL_HOSTS);
}

/** ip_mc_down: the link-layer filters of joined groups go; memberships stay. */
export function ipMcDown(inDev: InDevice): void {
  for (const g of inDev.mcGroups.keys()) devMcDel(inDev.dev, mcMac(g));
  inDev.mcGroups.delete(IGMP_ALL_HOSTS);
}

/** ip_mc_inc_group: joins a group (dev_mc_add of its 01:00:5e address on first use). */
export function ipMcIncGroup(inDev: InDevice, group: number): void {
  if (!isMulticast(group)) return;
  const n = inDev.mcGroups.get(group) ?? 0;
  inDev.mcGroups.set(group, n + 1);
  if (n === 0 && inDev.dev.isUp && !(inDev.dev.flags & IFF.LOOPBACK)) devMcAdd(inDev.dev, mcMac(group));
}

/** ip_mc_dec_group. */
export function ipMcDecGroup(inDev: InDevice, group: number): void {
  const n = inDev.mcGroups.get(group) ?? 0;
  if (n <= 1) {
    if (inDev.mcGroups.delete(group) && inDev.dev.isUp && !(inDev.dev.flags & IFF.LOOPBACK)) {
      devMcDel(inDev.dev, mcMac(group));
    }
  } else inDev.mcGroups.set(group, n - 1);
}

/** ip_check_mc_rcu: whether the device joined the group. */
export function ipCheckMc(dev: NetDevice, group: number): boolean {
  return (inDevGet(dev)?.mcGroups.get(group) ?? 0) > 0;
}

function mcMac(group: number): number {
  return 0x01005e000000 + (group & 0x7fffff);
}
