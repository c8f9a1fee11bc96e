/**
 * IPv4 sysctls of a namespace (net/ipv4/sysctl_net_ipv4.c, devinet.c's devconf): the namespace
 * values (`net.ipv4.*`), the per-device configuration (`net.ipv4.conf.{all,default,<dev>}.*`)
 * with Linux's defaults, the proc_handler side effects of writes (ip_forward / all.forwarding
 * switch every device; default.* reaches devices never written explicitly), and the
 * IN_DEV_* accessors combining `all` and the device as Linux does.
 */
import type { NetDevice } from "../netdev.ts";
import type { NetNamespace } from "../netns.ts";

/** `net.ipv4.*` values of a new namespace. */
export const IPV4_SYSCTL_DEFAULTS: Readonly<Record<string, string>> = {
  ip_forward: "0",
  ip_default_ttl: "64",
  ip_no_pmtu_disc: "0",
  ip_nonlocal_bind: "0",
  ip_forward_use_pmtu: "0",
  ip_forward_update_priority: "1",
  ip_local_port_range: "32768\t60999",
  ip_local_reserved_ports: "",
  ping_group_range: "1\t0",
  fwmark_reflect: "0",
  icmp_echo_ignore_all: "0",
  icmp_echo_enable_probe: "0",
  icmp_echo_ignore_broadcasts: "1",
  icmp_ignore_bogus_error_responses: "1",
  icmp_errors_use_inbound_ifaddr: "0",
  icmp_ratelimit: "1000",
  icmp_ratemask: "6168",
  icmp_msgs_per_sec: "1000",
  icmp_msgs_burst: "50",
  "route.min_pmtu": "552",
  "route.mtu_expires": "600",
  "route.min_adv_mss": "256",
};

/** ipv4_devconf (`all`) defaults; `default` differs only in accept_source_route. */
export const DEVCONF_DEFAULTS: Readonly<Record<string, number>> = {
  accept_local: 0,
  accept_redirects: 1,
  accept_source_route: 0,
  arp_accept: 0,
  arp_announce: 0,
  arp_evict_nocarrier: 1,
  arp_filter: 0,
  arp_ignore: 0,
  arp_notify: 0,
  bc_forwarding: 0,
  bootp_relay: 0,
  disable_policy: 0,
  disable_xfrm: 0,
  drop_gratuitous_arp: 0,
  drop_unicast_in_l2_multicast: 0,
  force_igmp_version: 0,
  forwarding: 0,
  igmpv2_unsolicited_report_interval: 10000,
  igmpv3_unsolicited_report_interval: 1000,
  ignore_routes_with_linkdown: 0,
  log_martians: 0,
  mc_forwarding: 0,
  medium_id: 0,
  promote_secondaries: 0,
  proxy_arp: 0,
  proxy_arp_pvlan: 0,
  route_localnet: 0,
  rp_filter: 0,
  secure_redirects: 1,
  send_redirects: 1,
  shared_media: 1,
  src_valid_mark: 0,
  tag: 0,
};

const CONF = "net.ipv4.conf.";

/** Per-namespace bookkeeping of devconf writes. */
interface DevconfState {
  /** `${dev}.${name}` entries written explicitly (devinet's per-device state bitmap). */
  readonly explicit: Set<string>;
  busy: boolean;
}

const states = new WeakMap<NetNamespace, DevconfState>();

/** Installs the namespace's `net.ipv4.*` and `conf.{all,default}` values and the write handler. */
export function ipv4SysctlInit(net: NetNamespace): void {
  const state: DevconfState = { explicit: new Set(), busy: true };
  states.set(net, state);
  for (const [k, v] of Object.entries(IPV4_SYSCTL_DEFAULTS)) net.sysctl.set(`net.ipv4.${k}`, v);
  for (const [k, v] of Object.entries(DEVCONF_DEFAULTS)) {
    net.sysctl.set(`${CONF}all.${k}`, String(v));
    net.sysctl.set(`${CONF}default.${k}`, String(k === "accept_source_route" ? 1 : v));
  }
  state.busy = false;
  net.sysctl.onWrite((key, value) => onWrite(net, state, key, value));
}

/** Creates `net.ipv4.conf.<dev>.*` from the namespace's `default` values (devinet_sysctl_register). */
export function devconfRegister(dev: NetDevice): void {
  const net = dev.netns;
  const state = states.get(net);
  if (state) state.busy = true;
  for (const k of Object.keys(DEVCONF_DEFAULTS)) {
    let v = net.sysctl.get(`${CONF}default.${k}`) ?? String(DEVCONF_DEFAULTS[k]);
    // Loopback never does IPsec policy checks (inetdev_init).
    if (dev.ifindex === 1 && (k === "disable_policy" || k === "disable_xfrm")) v = "1";
    net.sysctl.set(`${CONF}${dev.name}.${k}`, v);
  }
  if (state) state.busy = false;
}

/** Removes `net.ipv4.conf.<dev>.*`. */
export function devconfUnregister(net: NetNamespace, devName: string): void {
  const p = `${CONF}${devName}.`;
  for (const k of [...net.sysctl.keys()]) if (k.startsWith(p)) net.sysctl.delete(k);
  const state = states.get(net);
  if (state) for (const e of [...state.explicit]) if (e.startsWith(`${devName}.`)) state.explicit.delete(e);
}

/** Moves a device's keys after a rename. */
export function devconfRename(net: NetNamespace, oldName: string, newName: string): void {
  const p = `${CONF}${oldName}.`;
  const state = states.get(net);
  if (state) state.busy = true;
  for (const [k, v] of [...net.sysctl.entries()]) {
    if (!k.startsWith(p)) continue;
    net.sysctl.delete(k);
    net.sysctl.set(`${CONF}${newName}.${k.slice(p.length)}`, v);
  }
  if (state) state.busy = false;
}

function onWrite(net: NetNamespace, state: DevconfState, key: string, value: string): void {
  if (state.busy) return;
  state.busy = true;
  try {
    if (key === "net.ipv4.ip_forward" || key === `${CONF}all.forwarding`) {
      forwardChange(net, value);
      return;
    }
    if (!key.startsWith(CONF)) return;
    const rest = key.slice(CONF.length);
    const dot = rest.indexOf(".");
    if (dot < 0) return;
    const who = rest.slice(0, dot);
    const name = rest.slice(dot + 1);
    if (who === "all") return;
    if (who === "default") {
      // devinet_copy_dflt_conf: devices that never had this value written follow default.
      for (const dev of net.devices.values()) {
        if (!state.explicit.has(`${dev.name}.${name}`) && net.sysctl.has(`${CONF}${dev.name}.${name}`)) {
          net.sysctl.set(`${CONF}${dev.name}.${name}`, value);
        }
      }
      return;
    }
    state.explicit.add(`${who}.${name}`);
  } finally {
    state.busy = false;
  }
}

/** inet_forward_change: all, default and every device follow; all.accept_redirects = !on. */
function forwardChange(net: NetNamespace, value: string): void {
  const on = Number.parseInt(value, 10) ? "1" : "0";
  net.sysctl.set("net.ipv4.ip_forward", on);
  net.sysctl.set(`${CONF}all.forwarding`, on);
  net.sysctl.set(`${CONF}all.accept_redirects`, on === "1" ? "0" : "1");
  net.sysctl.set(`${CONF}default.forwarding`, on);
  for (const dev of net.devices.values()) {
    if (net.sysctl.has(`${CONF}${dev.name}.forwarding`)) net.sysctl.set(`${CONF}${dev.name}.forwarding`, on);
  }
}

/** The raw value of `net.ipv4.conf.<dev>.<name>` (the `default` value if the device has none). */
export function devconf(dev: NetDevice, name: string): number {
  const net = dev.netns;
  const v = net.sysctl.get(`${CONF}${dev.name}.${name}`) ?? net.sysctl.get(`${CONF}default.${name}`);
  return v === undefined ? 0 : Number.parseInt(v, 10);
}

/** `net.ipv4.conf.all.<name>`. */
export function devconfAll(net: NetNamespace, name: string): number {
  return net.sysctlInt(`${CONF}all.${name}`);
}

/** IN_DEV_MAXCONF: the larger of `all` and the device. */
export function inDevMaxconf(dev: NetDevice, name: string): number {
  return Math.max(devconfAll(dev.netns, name), devconf(dev, name));
}

/** IN_DEV_ORCONF: `all` or the device. */
export function inDevOrconf(dev: NetDevice, name: string): boolean {
  return devconfAll(dev.netns, name) !== 0 || devconf(dev, name) !== 0;
}

/** IN_DEV_ANDCONF: `all` and the device. */
export function inDevAndconf(dev: NetDevice, name: string): boolean {
  return devconfAll(dev.netns, name) !== 0 && devconf(dev, name) !== 0;
}

/** IN_DEV_FORWARD. */
export function inDevForward(dev: NetDevice): boolean {
  return devconf(dev, "forwarding") !== 0;
}

/** IN_DEV_RX_REDIRECTS: with forwarding both must allow, without either may. */
export function inDevRxRedirects(dev: NetDevice): boolean {
  return inDevForward(dev) ? inDevAndconf(dev, "accept_redirects") : inDevOrconf(dev, "accept_redirects");
}

/** A namespace sysctl as a number (`net.ipv4.<name>`). */
export function ipv4Sysctl(net: NetNamespace, name: string): number {
  return net.sysctlInt(`net.ipv4.${name}`);
}
