/**
 * IPv6 multicast group membership and MLD (net/ipv6/mcast.c): per-device groups with reference
 * counts, their link-layer addresses in the device's mc list (dev_mc_add, which ipvlan's
 * multicast filter reads), MLDv2 state-change reports on join/leave (robustness 2, unsolicited
 * report interval 1 s), the initial reports after DAD, and answers to queries. MLDv1 is used
 * only when force_mld_version is 1.
 */
import {
  IPV6_ALL_MLDV2_ROUTERS,
  IPV6_ALL_NODES,
  IPV6_ALL_ROUTERS,
  type Icmpv6Repr,
  type Ipv6Addr,
  Ipv6OptionType,
  ipv6MulticastMac,
  ipv6MulticastScope,
  MldRecordType,
  type MldRecord,
} from "../../wire/index.ts";
import { NSEC_PER_MSEC } from "../clock.ts";
import { devMcAdd, devMcDel } from "../dev.ts";
import { fail } from "../errno.ts";
import type { NetDevice } from "../netdev.ts";
import { ipv6GetLladdr } from "./addr-util.ts";
import { buildIcmpv6Packet, ip6SendOnDev } from "./output.ts";
import { confInt } from "./sysctl.ts";
import { type Ifmcaddr6Priv, type Inet6DevPriv, in6DevGet } from "./state.ts";
import { IFA_F, type Ifmcaddr6 } from "./types.ts";

/** One jiffy at HZ=250. */
const JIFFY = 4n * NSEC_PER_MSEC;
const EMPTY = new Uint8Array(0);

/** MLDv1 in use: force_mld_version 1 (all or device). */
function mldInV1Mode(idev: Inet6DevPriv): boolean {
  const net = idev.dev.netns;
  const force = confInt(net, "all", "force_mld_version") || idev.cnf.force_mld_version;
  return force === 1;
}

/** unsolicited_report_interval in ns (at least one jiffy). */
function unsolicitedReportInterval(idev: Inet6DevPriv): bigint {
  const ms = mldInV1Mode(idev)
    ? idev.cnf.mldv1_unsolicited_report_interval
    : idev.cnf.mldv2_unsolicited_report_interval;
  const ns = BigInt(ms) * NSEC_PER_MSEC;
  return ns > 0n ? ns : JIFFY;
}

/** A random delay below `below` ns in whole jiffies (prandom_u32_max on jiffies). */
function randDelay(idev: Inet6DevPriv, below: bigint): bigint {
  const jiffies = Number(below / JIFFY);
  return jiffies <= 1 ? 0n : BigInt(idev.dev.netns.kernel.random.below(jiffies)) * JIFFY;
}

/** The joined groups of a device (`ip -6 maddr`), most recent first. */
export function ipv6DevMcList(dev: NetDevice): readonly Ifmcaddr6[] {
  return in6DevGet(dev)?.mcList ?? [];
}

/** ipv6_chk_mcast_addr: is the device a member of group? */
export function ipv6ChkMcastAddr(dev: NetDevice, group: Ipv6Addr): boolean {
  return in6DevGet(dev)?.mcList.some((m) => m.addr === group) ?? false;
}

/** igmp6_group_added: link-layer address in the device list, and a report when the device is up. */
function groupAdded(idev: Inet6DevPriv, mc: Ifmcaddr6Priv): void {
  const dev = idev.dev;
  if (!mc.loaded) {
    mc.loaded = true;
    devMcAdd(dev, mc.mac);
  }
  if (!dev.isUp || mc.noReport) return;
  if (mldInV1Mode(idev)) {
    sendV1(idev, mc.addr, "mld-report");
    const t = idev.dev.netns.kernel.loop.after(randDelay(idev, unsolicitedReportInterval(idev)), () => {
      if (mc.users > 0 && dev.isUp) sendV1(idev, mc.addr, "mld-report");
    });
    void t;
    return;
  }
  mc.crcount = idev.mcQrv;
  mldIfcEvent(idev);
}

/** igmp6_group_dropped: link-layer address out; a leave is reported (v2: TO_IN records). */
function groupDropped(idev: Inet6DevPriv, mc: Ifmcaddr6Priv, report: boolean): void {
  if (mc.loaded) {
    mc.loaded = false;
    devMcDel(idev.dev, mc.mac);
  }
  idev.dev.netns.kernel.loop.cancel(mc.queryTimer);
  mc.queryTimer = null;
  if (mc.noReport || !report || idev.dead || !idev.dev.isUp) return;
  if (mldInV1Mode(idev)) {
    sendV1(idev, mc.addr, "mld-done");
    return;
  }
  const tomb = idev.mcTomb.find((t) => t.addr === mc.addr);
  if (tomb) tomb.crcount = idev.mcQrv;
  else idev.mcTomb.push({ addr: mc.addr, crcount: idev.mcQrv });
  mldIfcEvent(idev);
}

/** ipv6_dev_mc_inc: joins (or references again) a group on a device. */
export function ipv6DevMcInc(dev: NetDevice, addr: Ipv6Addr): void {
  const idev = in6DevGet(dev);
  if (!idev) fail("ENODEV");
  if (idev.dead) fail("ENODEV");
  const have = idev.mcList.find((m) => m.addr === addr);
  if (have) {
    have.users++;
    return;
  }
  const mc: Ifmcaddr6Priv = {
    addr,
    mac: ipv6MulticastMac(addr),
    users: 1,
    loaded: false,
    noReport: addr === IPV6_ALL_NODES || ipv6MulticastScope(addr) < 2,
    crcount: 0,
    queryTimer: null,
  };
  idev.mcList.unshift(mc);
  const ti = idev.mcTomb.findIndex((t) => t.addr === addr);
  if (ti >= 0) idev.mcTomb.splice(ti, 1);
  groupAdded(idev, mc);
}

/** ipv6_dev_mc_dec: drops one reference; the last one leaves the group. */
export function ipv6DevMcDec(dev: NetDevice, addr: Ipv6Addr): void {
  const idev = in6DevGet(dev);
  if (!idev) return;
  const i = idev.mcList.findIndex((m) => m.addr === addr);
  if (i < 0) return;
  const mc = idev.mcList[i];
  if (--mc.users > 0) return;
  idev.mcList.splice(i, 1);
  groupDropped(idev, mc, true);
}

/** ipv6_mc_up: every group is (re)loaded and (re)reported as a state change. */
export function ipv6McUp(idev: Inet6DevPriv): void {
  mcReset(idev);
  for (const mc of idev.mcList) groupAdded(idev, mc);
}

/** ipv6_mc_down: timers stop, link-layer addresses leave the device's list. */
export function ipv6McDown(idev: Inet6DevPriv): void {
  mcReset(idev);
  idev.mcTomb.length = 0;
  for (const mc of idev.mcList) groupDropped(idev, mc, false);
}

/** ipv6_mc_destroy_dev: the device goes away; every group is dropped. */
export function ipv6McDestroyDev(idev: Inet6DevPriv): void {
  ipv6McDown(idev);
  idev.mcList.length = 0;
}

function mcReset(idev: Inet6DevPriv): void {
  const loop = idev.dev.netns.kernel.loop;
  loop.cancel(idev.mcIfcTimer);
  loop.cancel(idev.mcDadTimer);
  loop.cancel(idev.mcGqTimer);
  idev.mcIfcTimer = null;
  idev.mcDadTimer = null;
  idev.mcGqTimer = null;
  idev.mcIfcCount = 0;
  idev.mcDadCount = 0;
  idev.mcQrv = 2;
}

/** mld_ifc_event: state-change reports go out qrv times. */
function mldIfcEvent(idev: Inet6DevPriv): void {
  if (mldInV1Mode(idev)) return;
  idev.mcIfcCount = idev.mcQrv;
  mldIfcStartWork(idev, JIFFY);
}

function mldIfcStartWork(idev: Inet6DevPriv, delay: bigint): void {
  const loop = idev.dev.netns.kernel.loop;
  loop.cancel(idev.mcIfcTimer);
  idev.mcIfcTimer = loop.after(randDelay(idev, delay) + 2n * JIFFY, () => {
    idev.mcIfcTimer = null;
    mldSendCr(idev);
    if (idev.mcIfcCount > 0) {
      idev.mcIfcCount--;
      if (idev.mcIfcCount > 0) mldIfcStartWork(idev, unsolicitedReportInterval(idev));
    }
  });
}

/** mld_send_cr: TO_IN records for left groups, TO_EX records for joined ones, each qrv times. */
function mldSendCr(idev: Inet6DevPriv): void {
  const records: MldRecord[] = [];
  for (const t of [...idev.mcTomb]) {
    if (t.crcount > 0) {
      records.push({ recordType: MldRecordType.ChangeToInclude, group: t.addr, sources: [], auxData: EMPTY });
      t.crcount--;
    }
    if (t.crcount <= 0) idev.mcTomb.splice(idev.mcTomb.indexOf(t), 1);
  }
  for (const mc of idev.mcList) {
    if (mc.noReport || mc.crcount <= 0) continue;
    records.push({ recordType: MldRecordType.ChangeToExclude, group: mc.addr, sources: [], auxData: EMPTY });
    mc.crcount--;
  }
  if (records.length > 0) sendV2(idev, records);
}

/** ipv6_mc_dad_complete: the first link-local is usable; reports go out again from it. */
export function ipv6McDadComplete(idev: Inet6DevPriv): void {
  if (mldInV1Mode(idev)) return;
  idev.mcDadCount = idev.mcQrv;
  if (idev.mcDadCount === 0) return;
  mldSendInitialCr(idev);
  idev.mcDadCount--;
  if (idev.mcDadCount > 0) mldDadStartWork(idev);
}

function mldDadStartWork(idev: Inet6DevPriv): void {
  const loop = idev.dev.netns.kernel.loop;
  loop.cancel(idev.mcDadTimer);
  idev.mcDadTimer = loop.after(randDelay(idev, unsolicitedReportInterval(idev)) + 2n * JIFFY, () => {
    idev.mcDadTimer = null;
    mldSendInitialCr(idev);
    if (idev.mcDadCount > 0) {
      idev.mcDadCount--;
      if (idev.mcDadCount > 0) mldDadStartWork(idev);
    }
  });
}

/** mld_send_initial_cr: one report with a TO_EX record per reportable group. */
function mldSendInitialCr(idev: Inet6DevPriv): void {
  const records: MldRecord[] = [];
  for (const mc of idev.mcList) {
    if (mc.noReport) continue;
    records.push({ recordType: MldRecordType.ChangeToExclude, group: mc.addr, sources: [], auxData: EMPTY });
  }
  if (records.length > 0) sendV2(idev, records);
}

/** mld_send_report: current-state (MODE_IS_EXCLUDE) records, for one group or all. */
function mldSendReport(idev: Inet6DevPriv, group: Ipv6Addr | null): void {
  const records: MldRecord[] = [];
  for (const mc of idev.mcList) {
    if (mc.noReport || (group !== null && mc.addr !== group)) continue;
    records.push({ recordType: MldRecordType.ModeIsExclude, group: mc.addr, sources: [], auxData: EMPTY });
  }
  if (records.length > 0) sendV2(idev, records);
}

/** The source of MLD messages: a usable link-local address, else :: (RFC 3590). */
function mldSource(dev: NetDevice): Ipv6Addr {
  return ipv6GetLladdr(dev, IFA_F.TENTATIVE) ?? 0n;
}

/** Hop-by-hop header with the router alert option (RFC 2711), as every MLD message carries. */
const ROUTER_ALERT_HBH = [
  {
    kind: "hop-by-hop" as const,
    options: [
      { type: Ipv6OptionType.RouterAlert, data: new Uint8Array(2) },
      { type: Ipv6OptionType.PadN, data: EMPTY },
    ],
  },
];

function sendV2(idev: Inet6DevPriv, records: MldRecord[]): void {
  const dev = idev.dev;
  if (!dev.isUp) return;
  const repr: Icmpv6Repr = { kind: "mldv2-report", records };
  const pkt = buildIcmpv6Packet(mldSource(dev), IPV6_ALL_MLDV2_ROUTERS, 1, repr, ROUTER_ALERT_HBH);
  ip6SendOnDev(dev, pkt, IPV6_ALL_MLDV2_ROUTERS);
}

function sendV1(idev: Inet6DevPriv, group: Ipv6Addr, kind: "mld-report" | "mld-done"): void {
  const dev = idev.dev;
  if (!dev.isUp) return;
  const dst = kind === "mld-report" ? group : IPV6_ALL_ROUTERS;
  const pkt = buildIcmpv6Packet(mldSource(dev), dst, 1, { kind, group }, ROUTER_ALERT_HBH);
  ip6SendOnDev(dev, pkt, dst);
}

/** Maximum response delay of a query in ns (MLDv2 exponential code above 32767). */
function maxRespDelay(code: number, v2: boolean): bigint {
  let ms = code;
  if (v2 && code >= 32768) ms = ((code & 0x0fff) | 0x1000) << (((code >> 12) & 7) + 3);
  return BigInt(ms) * NSEC_PER_MSEC;
}

/**
 * igmp6_event_query: a general query schedules a full current-state report, a group-specific
 * query one for that group, after a random delay below the maximum response time.
 */
export function mldEventQuery(
  dev: NetDevice,
  src: Ipv6Addr,
  repr: Extract<Icmpv6Repr, { kind: "mld-query" }>,
): void {
  const idev = in6DevGet(dev);
  if (!idev || src >> 118n !== 0x3fan) return;
  const loop = dev.netns.kernel.loop;
  const delay = randDelay(idev, maxRespDelay(repr.maxResp, repr.v2 !== undefined)) + JIFFY;
  if (repr.group === 0n) {
    if (idev.mcGqTimer) return;
    idev.mcGqTimer = loop.after(delay, () => {
      idev.mcGqTimer = null;
      if (mldInV1Mode(idev)) {
        for (const mc of idev.mcList) if (!mc.noReport) sendV1(idev, mc.addr, "mld-report");
      } else {
        mldSendReport(idev, null);
      }
    });
    return;
  }
  const mc = idev.mcList.find((m) => m.addr === repr.group);
  if (!mc || mc.noReport || mc.queryTimer) return;
  mc.queryTimer = loop.after(delay, () => {
    mc.queryTimer = null;
    if (mldInV1Mode(idev)) sendV1(idev, mc.addr, "mld-report");
    else mldSendReport(idev, mc.addr);
  });
}
