/**
 * How IPv6 follows devices and sysctls: addrconf_notify + ndisc_netdev_event (register, up,
 * carrier changes, down, unregister and netns moves, MTU, rename, address change, notify peers),
 * addrconf_ifdown, and the proc handlers of forwarding, disable_ipv6 and addr_gen_mode.
 */
import type { NetdevNotification } from "../kernel.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import {
  addrconfFlushAddrs,
  addrconfJoinAnycast,
  addrconfLeaveAnycast,
  addrconfLinkReady,
  IF_FLAGS,
  IPV6_MIN_MTU,
  ipv6AddDev,
} from "./addrconf.ts";
import { addrconfAddrGen, addrconfUp } from "./addrconf-dad.ts";
import { fib6FlushDev } from "./fib6.ts";
import { ipv6DevMcDec, ipv6DevMcInc, ipv6McDestroyDev, ipv6McDown } from "./mcast.ts";
import { ndiscSendUnsolNa } from "./ndisc.ts";
import { addrconfRsStop, rt6PurgeDfltRouters } from "./router-disc.ts";
import { confInt, ipv6SysctlDevExit, ipv6SysctlDevRename, onSysctlWrite } from "./sysctl.ts";
import { INET6_DEV, type Inet6DevPriv, in6DevGet, ipv6Net } from "./state.ts";
import { IFA_F } from "./types.ts";

/** The all-routers groups a forwarding interface joins (link, interface and site scope). */
const ALL_ROUTERS = [
  0xff02_0000_0000_0000_0000_0000_0000_0002n,
  0xff01_0000_0000_0000_0000_0000_0000_0002n,
  0xff05_0000_0000_0000_0000_0000_0000_0002n,
];

/**
 * addrconf_ifdown: routes and neighbours of the device go (not for a down lo), addresses are
 * removed (keep_addr_on_down keeps permanent global ones), router solicitation stops, and the
 * multicast state goes down (or away entirely on unregister, with the inet6_dev itself).
 */
export function addrconfIfdown(dev: NetDevice, unregister: boolean): void {
  const net = dev.netns;
  if (unregister || !(dev.flags & IFF.LOOPBACK)) {
    fib6FlushDev(net, dev);
    ipv6Net(net).ndTbl.flushDev(dev, false);
  }
  const idev = in6DevGet(dev);
  if (!idev) return;
  if (unregister) idev.dead = true;
  const keep =
    !unregister && (idev.cnf.keep_addr_on_down > 0 || confInt(net, "all", "keep_addr_on_down") > 0);
  addrconfRsStop(idev);
  idev.ifFlags &= ~(IF_FLAGS.RS_SENT | IF_FLAGS.RA_RCVD | IF_FLAGS.READY);
  addrconfFlushAddrs(idev, keep);
  idev.mroute = null;
  if (unregister) {
    ipv6McDestroyDev(idev);
    dev.slots.delete(INET6_DEV);
    ipv6SysctlDevExit(net, dev.name);
  } else {
    ipv6McDown(idev);
  }
}

/** The netdev notifier of the IPv6 stack. */
export function ipv6NetdevEvent(ev: NetdevNotification): void {
  const dev = ev.dev;
  const net = dev.netns;
  if (!ipv6NetReady(net)) return;
  switch (ev.event) {
    case "REGISTER":
      if (dev.mtu >= IPV6_MIN_MTU) ipv6AddDev(dev);
      return;
    case "UP":
      addrconfUp(dev, "UP");
      return;
    case "CHANGE":
      if (!addrconfLinkReady(dev)) {
        if (dev.isUp && !dev.carrier && confInt(net, dev.name, "ndisc_evict_nocarrier")) {
          ipv6Net(net).ndTbl.flushDev(dev, true);
        }
        return;
      }
      addrconfUp(dev, "CHANGE");
      return;
    case "DOWN":
      addrconfIfdown(dev, false);
      return;
    case "UNREGISTER":
      addrconfIfdown(dev, true);
      return;
    case "CHANGEMTU": {
      if (dev.mtu < IPV6_MIN_MTU) {
        addrconfIfdown(dev, dev !== net.loopback);
        return;
      }
      const idev = in6DevGet(dev);
      if (idev) {
        net.sysctl.set(`net.ipv6.conf.${dev.name}.mtu`, String(dev.mtu));
        return;
      }
      if (ipv6AddDev(dev) && dev.isUp) addrconfUp(dev, "UP");
      return;
    }
    case "CHANGENAME": {
      const old = ev.info;
      if (typeof old === "string") ipv6SysctlDevRename(net, old, dev.name);
      else renameByScan(dev);
      return;
    }
    case "CHANGEADDR": {
      ipv6Net(net).ndTbl.changeAddr(dev);
      const idev = in6DevGet(dev);
      if (idev && (idev.cnf.ndisc_notify || confInt(net, "all", "ndisc_notify"))) ndiscSendUnsolNa(dev);
      return;
    }
    case "NOTIFY_PEERS":
      ndiscSendUnsolNa(dev);
      return;
    default:
      return;
  }
}

function ipv6NetReady(net: NetNamespace): boolean {
  try {
    ipv6Net(net);
    return true;
  } catch {
    return false;
  }
}

/** CHANGENAME without the old name: find the device's sysctl directory by elimination. */
function renameByScan(dev: NetDevice): void {
  const net = dev.netns;
  const names = new Set([...net.devices.values()].map((d) => d.name));
  const dirs = new Set<string>();
  for (const k of net.sysctl.keys()) {
    if (!k.startsWith("net.ipv6.conf.")) continue;
    const who = k.slice("net.ipv6.conf.".length).split(".")[0];
    if (who !== "all" && who !== "default" && !names.has(who)) dirs.add(who);
  }
  if (dirs.size === 1) ipv6SysctlDevRename(net, [...dirs][0], dev.name);
}

/** dev_forward_change: all-routers groups and subnet-router anycast follow forwarding. */
function devForwardChange(idev: Inet6DevPriv): void {
  const dev = idev.dev;
  const on = idev.cnf.forwarding > 0;
  if (dev.flags & IFF.MULTICAST) {
    for (const g of ALL_ROUTERS) {
      if (on) ipv6DevMcInc(dev, g);
      else ipv6DevMcDec(dev, g);
    }
  }
  for (const ifa of idev.addrs) {
    if (ifa.flags & IFA_F.TENTATIVE) continue;
    if (on) addrconfJoinAnycast(ifa);
    else addrconfLeaveAnycast(ifa);
  }
  if (on) addrconfRsStop(idev);
}

/** Per-device forwarding values seen last, to detect changes (the sysctl map only stores strings). */
const lastForwarding = new WeakMap<Inet6DevPriv, boolean>();

function syncForwarding(idev: Inet6DevPriv): void {
  const on = idev.cnf.forwarding > 0;
  const was = lastForwarding.get(idev) ?? idev.mcList.some((m) => m.addr === ALL_ROUTERS[0]);
  lastForwarding.set(idev, on);
  if (on !== was) devForwardChange(idev);
}

/** Registers the proc handlers of net.ipv6.conf.* in a namespace. */
export function ipv6SysctlHandlers(net: NetNamespace): void {
  let busy = false;
  onSysctlWrite(net, "net.ipv6.conf.", (key, value) => {
    if (busy) return;
    const rest = key.slice("net.ipv6.conf.".length);
    const dot = rest.indexOf(".");
    if (dot < 0) return;
    const who = rest.slice(0, dot);
    const name = rest.slice(dot + 1);
    busy = true;
    try {
      if (name === "forwarding") forwardingWrite(net, who, value);
      else if (name === "disable_ipv6") disableWrite(net, who, value);
      else if (name === "addr_gen_mode") addrGenModeWrite(net, who, value);
    } finally {
      busy = false;
    }
  });
}

function devsOf(net: NetNamespace): Inet6DevPriv[] {
  const out: Inet6DevPriv[] = [];
  for (const dev of net.devicesInOrder()) {
    const idev = in6DevGet(dev);
    if (idev) out.push(idev);
  }
  return out;
}

/** addrconf_fixup_forwarding: `all` sets default and every device; a device only itself. */
function forwardingWrite(net: NetNamespace, who: string, value: string): void {
  const on = Number.parseInt(value, 10) ? "1" : "0";
  if (who === "default") return;
  if (who === "all") {
    net.sysctl.set("net.ipv6.conf.default.forwarding", on);
    for (const idev of devsOf(net)) {
      net.sysctl.set(`net.ipv6.conf.${idev.dev.name}.forwarding`, on);
      syncForwarding(idev);
    }
  } else {
    const idev = devsOf(net).find((d) => d.dev.name === who);
    if (idev) syncForwarding(idev);
  }
  if (on === "1") rt6PurgeDfltRouters(net);
}

/** addrconf_disable_ipv6 / dev_disable_change: disabling acts as a down, enabling as an up. */
function disableWrite(net: NetNamespace, who: string, value: string): void {
  const on = Number.parseInt(value, 10) ? "1" : "0";
  if (who === "default") return;
  const targets = who === "all" ? devsOf(net) : devsOf(net).filter((d) => d.dev.name === who);
  if (who === "all") net.sysctl.set("net.ipv6.conf.default.disable_ipv6", on);
  for (const idev of targets) {
    net.sysctl.set(`net.ipv6.conf.${idev.dev.name}.disable_ipv6`, on);
    if (on === "1") addrconfIfdown(idev.dev, false);
    else if (idev.dev.isUp) addrconfUp(idev.dev, "UP");
  }
}

/** addrconf_sysctl_addr_gen_mode: the device's mode changes and a new link-local is generated. */
function addrGenModeWrite(net: NetNamespace, who: string, value: string): void {
  if (who === "all" || who === "default") return;
  const idev = devsOf(net).find((d) => d.dev.name === who);
  if (!idev) return;
  const mode = Number.parseInt(value, 10);
  if (Number.isNaN(mode) || mode === idev.dev.addrGenMode) return;
  idev.dev.addrGenMode = mode;
  if (addrconfLinkReady(idev.dev) && idev.ifFlags & IF_FLAGS.READY) addrconfAddrGen(idev);
}
