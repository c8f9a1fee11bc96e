/**
 * ipv4Init: plugs the IPv4 stack into a kernel (inet_init + devinet_init + ip_fib_init +
 * arp_init): per-namespace state and sysctls, the ARP and IPv4 ethertype handlers, and the
 * netdevice notifier reactions (addresses, routes and neighbours follow device state).
 */
import type { Kernel, NetdevNotification } from "../kernel.ts";
import {
  neighSysctlRegister,
  neighSysctlUnregister,
  neighTableRegister,
  neighTableUnregister,
} from "../neigh/admin.ts";
import { NeighTable } from "../neigh/neigh.ts";
import { NEIGH_SYSCTL_DEFAULTS, NEIGH_TABLE_SYSCTL_DEFAULTS } from "../neigh/types.ts";
import { IFF, type NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { arpOps, arpRcv, sendGratuitousArp } from "./arp.ts";
import { inDevGet, inetAddrAdd, inetdevDestroy, inetdevInit, ipMcDown, ipMcUp } from "./devinet.ts";
import { DEFAULT_RULES, fibNewTable } from "./fib.ts";
import { fibAddIfaddr, fibDisableIp, fibSyncDownDev, fibSyncUp } from "./fib-ifaddr.ts";
import { ipRcv } from "./input.ts";
import { IPV4_NET, type Ipv4Net, ipv4Net, newMib } from "./state.ts";
import { devconfRegister, devconfRename, devconfUnregister, inDevMaxconf, ipv4SysctlInit } from "./sysctl.ts";
import { RT_SCOPE, RT_TABLE, RTNH_F } from "./types.ts";

const NEIGH_PREFIX = "net.ipv4.neigh";

/** Last known name and NOARP flag of each device (to react to renames and flag changes). */
const known = new WeakMap<NetDevice, { name: string; noarp: boolean }>();

/** inetdev_init + sysctl registration for one device (NETDEV_REGISTER). */
function onRegister(dev: NetDevice): void {
  inetdevInit(dev);
  devconfRegister(dev);
  neighSysctlRegister(dev.netns, NEIGH_PREFIX, dev.name);
  known.set(dev, { name: dev.name, noarp: (dev.flags & IFF.NOARP) !== 0 });
}

/** NETDEV_UP: lo gets 127.0.0.1/8, 224.0.0.1 is joined, routes of the addresses come back. */
function onUp(dev: NetDevice): void {
  const inDev = inDevGet(dev);
  if (!inDev) return;
  if (dev.flags & IFF.LOOPBACK && !inDev.addrs.some((a) => a.local === 0x7f000001)) {
    try {
      inetAddrAdd(dev, { local: 0x7f000001, prefixLen: 8, scope: RT_SCOPE.HOST });
    } catch {
      // Already configured differently by the user.
    }
  }
  ipMcUp(inDev);
  for (const ifa of [...inDev.addrs]) fibAddIfaddr(ifa);
  fibSyncUp(dev, RTNH_F.DEAD);
  if (inDevMaxconf(dev, "arp_notify")) sendGratuitousArp(dev);
}

/** The netdevice notifier (inetdev_event + fib_netdev_event + arp_netdev_event). */
function onNetdevEvent(ev: NetdevNotification): void {
  const dev = ev.dev;
  const net = dev.netns;
  if (!net.slots.get(IPV4_NET)) return;
  switch (ev.event) {
    case "REGISTER":
      onRegister(dev);
      return;
    case "UP":
      onUp(dev);
      return;
    case "DOWN": {
      const inDev = inDevGet(dev);
      if (inDev) ipMcDown(inDev);
      fibDisableIp(dev, false, "DOWN");
      return;
    }
    case "CHANGE": {
      if (dev.isUp && dev.carrier) fibSyncUp(dev, RTNH_F.LINKDOWN);
      else fibSyncDownDev(dev, "CHANGE", false);
      const k = known.get(dev);
      const noarp = (dev.flags & IFF.NOARP) !== 0;
      if (k && k.noarp !== noarp) {
        k.noarp = noarp;
        ipv4Net(net).arp.changeAddr(dev);
      }
      if (!dev.carrier && inDevGet(dev) && inDevMaxconf(dev, "arp_evict_nocarrier")) {
        ipv4Net(net).arp.flushDev(dev, true);
      }
      return;
    }
    case "CHANGEADDR":
      ipv4Net(net).arp.changeAddr(dev);
      return;
    case "CHANGENAME": {
      const k = known.get(dev);
      if (!k) return;
      const old = k.name;
      k.name = dev.name;
      devconfRename(net, old, dev.name);
      for (const [key, v] of [...net.sysctl.entries()]) {
        const p = `${NEIGH_PREFIX}.${old}.`;
        if (!key.startsWith(p)) continue;
        net.sysctl.delete(key);
        net.sysctl.set(`${NEIGH_PREFIX}.${dev.name}.${key.slice(p.length)}`, v);
      }
      for (const ifa of inDevGet(dev)?.addrs ?? []) {
        const colon = ifa.label.indexOf(":");
        ifa.label = colon >= 0 ? `${dev.name}${ifa.label.slice(colon)}` : dev.name;
      }
      return;
    }
    case "UNREGISTER": {
      fibDisableIp(dev, true, "UNREGISTER");
      inetdevDestroy(dev);
      devconfUnregister(net, dev.name);
      neighSysctlUnregister(net, NEIGH_PREFIX, dev.name);
      ipv4Net(net).arp.flushDev(dev, false);
      known.delete(dev);
      return;
    }
    default:
      return;
  }
}

/** pernet init: sysctls, tables (local, main), the ARP table, then the devices already there. */
function pernetInit(net: NetNamespace): void {
  ipv4SysctlInit(net);
  if (net === net.kernel.initNet) {
    for (const [k, v] of Object.entries({ ...NEIGH_SYSCTL_DEFAULTS, ...NEIGH_TABLE_SYSCTL_DEFAULTS })) {
      net.sysctl.set(`${NEIGH_PREFIX}.default.${k}`, String(v));
    }
  }
  const state: Ipv4Net = {
    net,
    arp: new NeighTable(net, arpOps),
    tables: new Map(),
    rules: DEFAULT_RULES.map((r) => ({ ...r })),
    pmtu: new Map(),
    redirects: new Map(),
    addrListeners: new Set(),
    routeListeners: new Set(),
    udp: new Set(),
    ping: new Set(),
    peers: new Map(),
    icmpGlobal: { credit: 50, stamp: net.kernel.now },
    ipId: net.kernel.random.below(0x10000),
    nextPort: 0,
    mib: newMib(),
  };
  net.slots.set(IPV4_NET, state);
  neighTableRegister(net, state.arp);
  fibNewTable(net, RT_TABLE.LOCAL);
  fibNewTable(net, RT_TABLE.MAIN);
  for (const dev of net.devicesInOrder()) {
    onRegister(dev);
    if (dev.isUp) onUp(dev);
  }
}

/** pernet exit: timers stop, sockets close. */
function pernetExit(net: NetNamespace): void {
  const state = net.slots.get(IPV4_NET);
  if (!state) return;
  neighTableUnregister(net, 4);
  for (const s of [...state.udp]) s.close();
  for (const s of [...state.ping]) s.close();
  net.slots.delete(IPV4_NET);
}

/** Registers the IPv4 stack (and ARP) in a kernel; call once, after bootKernel(). */
export function ipv4Init(kernel: Kernel): void {
  kernel.netdevChain.register(onNetdevEvent);
  kernel.registerProtocol(0x0800, ipRcv);
  kernel.registerProtocol(0x0806, arpRcv);
  kernel.registerPernet({ name: "ipv4", init: pernetInit, exit: pernetExit });
}

/** Whether ipv4Init ran for this namespace. */
export function ipv4Enabled(net: NetNamespace): boolean {
  return net.slots.get(IPV4_NET) !== undefined;
}
