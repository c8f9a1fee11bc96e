/**
 * The IPv6 sysctls with their Linux 6.1 defaults (net.ipv6.conf.{all,default,<dev>}.*,
 * net.ipv6.icmp.*, net.ipv6.route.*, net.ipv6.neigh.<dev>.*), and a write hook on the namespace's
 * sysctl map so that writes take effect (forwarding and disable_ipv6 propagate from `all`, etc.).
 */
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";
import { NEIGH_SYSCTL_DEFAULTS, NEIGH_TABLE_SYSCTL_DEFAULTS } from "../neigh/types.ts";
import { slotKey } from "../slots.ts";
import type { Ipv6DevConf } from "./types.ts";

/** struct ipv6_devconf defaults (ipv6_devconf_dflt in net/ipv6/addrconf.c, Linux 6.1). */
export const IPV6_CONF_DEFAULTS: Readonly<Record<string, number>> = {
  forwarding: 0,
  hop_limit: 64,
  mtu: 1280,
  accept_ra: 1,
  accept_redirects: 1,
  autoconf: 1,
  dad_transmits: 1,
  router_solicitations: -1,
  router_solicitation_interval: 4,
  router_solicitation_max_interval: 3600,
  router_solicitation_delay: 1,
  force_mld_version: 0,
  mldv1_unsolicited_report_interval: 10000,
  mldv2_unsolicited_report_interval: 1000,
  use_tempaddr: 0,
  temp_valid_lft: 604800,
  temp_prefered_lft: 86400,
  regen_max_retry: 3,
  max_desync_factor: 600,
  max_addresses: 16,
  accept_ra_defrtr: 1,
  ra_defrtr_metric: 1024,
  accept_ra_from_local: 0,
  accept_ra_min_hop_limit: 1,
  accept_ra_pinfo: 1,
  accept_ra_rtr_pref: 1,
  router_probe_interval: 60,
  accept_ra_rt_info_min_plen: 0,
  accept_ra_rt_info_max_plen: 0,
  proxy_ndp: 0,
  accept_source_route: 0,
  optimistic_dad: 0,
  use_optimistic: 0,
  mc_forwarding: 0,
  disable_ipv6: 0,
  drop_unicast_in_l2_multicast: 0,
  drop_unsolicited_na: 0,
  accept_untracked_na: 0,
  accept_dad: 1,
  force_tllao: 0,
  ndisc_notify: 0,
  suppress_frag_ndisc: 1,
  accept_ra_mtu: 1,
  use_oif_addrs_only: 0,
  ignore_routes_with_linkdown: 0,
  keep_addr_on_down: 0,
  seg6_enabled: 0,
  seg6_require_hmac: 0,
  enhanced_dad: 1,
  addr_gen_mode: 0,
  disable_policy: 0,
  ndisc_tclass: 0,
  rpl_seg_enabled: 0,
  ioam6_enabled: 0,
  ioam6_id: 65535,
  ioam6_id_wide: 4294967295,
  ndisc_evict_nocarrier: 1,
};

/** net.ipv6.icmp.* defaults (ratemask is a bitmap printed as ranges). */
export const IPV6_ICMP_DEFAULTS: Readonly<Record<string, string>> = {
  echo_ignore_all: "0",
  echo_ignore_anycast: "0",
  echo_ignore_multicast: "0",
  ratelimit: "1000",
  ratemask: "0-1,3-127",
};

/** Namespace-wide net.ipv6.* defaults (other than conf/icmp/neigh). */
export const IPV6_NET_DEFAULTS: Readonly<Record<string, string>> = {
  anycast_src_echo_reply: "0",
  auto_flowlabels: "1",
  bindv6only: "0",
  fib_multipath_hash_fields: "7",
  fib_multipath_hash_policy: "0",
  fib_notify_on_flag_change: "0",
  flowlabel_consistency: "1",
  flowlabel_reflect: "0",
  flowlabel_state_ranges: "0",
  fwmark_reflect: "0",
  idgen_delay: "1",
  idgen_retries: "3",
  ip_nonlocal_bind: "0",
  max_dst_opts_length: "2147483647",
  max_dst_opts_number: "8",
  max_hbh_length: "2147483647",
  max_hbh_opts_number: "8",
  "route.gc_elasticity": "9",
  "route.gc_interval": "30",
  "route.gc_min_interval": "0",
  "route.gc_min_interval_ms": "500",
  "route.gc_thresh": "1024",
  "route.gc_timeout": "600",
  "route.max_size": "2147483647",
  "route.min_adv_mss": "1220",
  "route.mtu_expires": "600",
  "route.skip_notify_on_dev_down": "0",
  seg6_flowlabel: "0",
};

/** A handler run after an IPv6 sysctl value was written (key, new value). */
export type SysctlWriteHandler = (key: string, value: string) => void;

const QUIET = slotKey<{ depth: number }>("ipv6.sysctl-quiet");

/** Registers fn for writes to keys starting with prefix (not run for our own initial population). */
export function onSysctlWrite(net: NetNamespace, prefix: string, fn: SysctlWriteHandler): void {
  net.sysctl.onWrite((key, value) => {
    if ((net.slots.get(QUIET)?.depth ?? 0) > 0 || !key.startsWith(prefix)) return;
    fn(key, value);
  });
}

/** Writes sysctl values without running the IPv6 write handlers (initial population). */
export function sysctlQuietSet(net: NetNamespace, entries: Iterable<[string, string]>): void {
  let q = net.slots.get(QUIET);
  if (!q) {
    q = { depth: 0 };
    net.slots.set(QUIET, q);
  }
  q.depth++;
  try {
    for (const [k, v] of entries) net.sysctl.set(k, v);
  } finally {
    q.depth--;
  }
}

/** Populates net.ipv6.* for a new namespace: conf.all, conf.default, icmp, route and neigh.default. */
export function ipv6SysctlNetInit(net: NetNamespace): void {
  const e: [string, string][] = [];
  for (const scope of ["all", "default"]) {
    for (const [k, v] of Object.entries(IPV6_CONF_DEFAULTS))
      e.push([`net.ipv6.conf.${scope}.${k}`, String(v)]);
  }
  for (const [k, v] of Object.entries(IPV6_ICMP_DEFAULTS)) e.push([`net.ipv6.icmp.${k}`, v]);
  for (const [k, v] of Object.entries(IPV6_NET_DEFAULTS)) e.push([`net.ipv6.${k}`, v]);
  for (const [k, v] of Object.entries(NEIGH_SYSCTL_DEFAULTS))
    e.push([`net.ipv6.neigh.default.${k}`, String(v)]);
  for (const [k, v] of Object.entries(NEIGH_TABLE_SYSCTL_DEFAULTS))
    e.push([`net.ipv6.neigh.default.${k}`, String(v)]);
  sysctlQuietSet(net, e);
}

/** Creates net.ipv6.conf.<dev>.* (copied from default, mtu from the device) and net.ipv6.neigh.<dev>.*. */
export function ipv6SysctlDevInit(dev: NetDevice): void {
  const net = dev.netns;
  const e: [string, string][] = [];
  for (const k of Object.keys(IPV6_CONF_DEFAULTS)) {
    const v =
      k === "mtu"
        ? String(dev.mtu)
        : (net.sysctl.get(`net.ipv6.conf.default.${k}`) ?? String(IPV6_CONF_DEFAULTS[k]));
    e.push([`net.ipv6.conf.${dev.name}.${k}`, v]);
  }
  for (const k of Object.keys(NEIGH_SYSCTL_DEFAULTS)) {
    e.push([
      `net.ipv6.neigh.${dev.name}.${k}`,
      net.sysctl.get(`net.ipv6.neigh.default.${k}`) ?? String(NEIGH_SYSCTL_DEFAULTS[k]),
    ]);
  }
  sysctlQuietSet(net, e);
}

/** Removes a device's net.ipv6.conf.<dev>.* and net.ipv6.neigh.<dev>.* entries. */
export function ipv6SysctlDevExit(net: NetNamespace, name: string): void {
  for (const prefix of [`net.ipv6.conf.${name}.`, `net.ipv6.neigh.${name}.`]) {
    for (const k of [...net.sysctl.keys()]) if (k.startsWith(prefix)) net.sysctl.delete(k);
  }
}

/** Renames a device's sysctl directories (NETDEV_CHANGENAME). */
export function ipv6SysctlDevRename(net: NetNamespace, oldName: string, newName: string): void {
  const moved: [string, string][] = [];
  for (const kind of ["conf", "neigh"]) {
    const prefix = `net.ipv6.${kind}.${oldName}.`;
    for (const [k, v] of [...net.sysctl]) {
      if (!k.startsWith(prefix)) continue;
      net.sysctl.delete(k);
      moved.push([`net.ipv6.${kind}.${newName}.${k.slice(prefix.length)}`, v]);
    }
  }
  sysctlQuietSet(net, moved);
}

/** A live view of net.ipv6.conf.<dev>.* as numbers (reads and writes go to the sysctl map). */
export function devConfView(dev: NetDevice): Ipv6DevConf {
  return new Proxy({} as Ipv6DevConf, {
    get(_t, key) {
      if (typeof key !== "string") return undefined;
      return confInt(dev.netns, dev.name, key);
    },
    set(_t, key, value) {
      if (typeof key !== "string") return false;
      dev.netns.sysctl.set(`net.ipv6.conf.${dev.name}.${key}`, String(value));
      return true;
    },
  });
}

/** A numeric net.ipv6.conf.<scope>.<key> value (scope: all, default or a device name). */
export function confInt(net: NetNamespace, scope: string, key: string): number {
  const v = net.sysctl.get(`net.ipv6.conf.${scope}.${key}`);
  if (v === undefined) return IPV6_CONF_DEFAULTS[key] ?? 0;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** A numeric net.ipv6.<key> value (icmp.echo_ignore_all, route.mtu_expires ...). */
export function netInt(net: NetNamespace, key: string): number {
  const v = net.sysctl.get(`net.ipv6.${key}`);
  return v === undefined ? 0 : Number.parseInt(v, 10) || 0;
}
