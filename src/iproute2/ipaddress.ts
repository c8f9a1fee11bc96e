/**
 * `ip link show` and `ip addr show`, as ip/ipaddress.c:ipaddr_list_flush_or_save lists them:
 * the links (filtered), each followed by its addresses (print_addrinfo), in text, `-o`, `-br`
 * and JSON.
 */
import { type IfInfo, type NetNamespace, rtnlFillIfinfo } from "../kernel/index.ts";
import { ADDR_USAGE } from "./help-texts.ts";
import { Printer } from "./json-print.ts";
import { printLinkBrief, printLinkinfo, printLinkStats } from "./link-print.ts";
import { AF, type IpOptions } from "./options.ts";
import { type AddrMsg, dumpAddrs, hasIpv6 } from "./stacks.ts";
import { type InetPrefix, parsePrefix } from "./inet-prefix.ts";
import { Args, duparg2, invarg, IpExit, type IpToolContext, lookupDev, matches } from "./utils.ts";

/** rtnl_rtscope_n2a. */
export function scopeName(scope: number): string {
  switch (scope) {
    case 0:
      return "global";
    case 200:
      return "site";
    case 253:
      return "link";
    case 254:
      return "host";
    case 255:
      return "nowhere";
    default:
      return String(scope);
  }
}

/** rtnl_rtscope_a2n. */
export function scopeNumber(text: string): number | null {
  const names: Record<string, number> = {
    global: 0,
    universe: 0,
    site: 200,
    link: 253,
    host: 254,
    nowhere: 255,
  };
  if (names[text] !== undefined) return names[text]!;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 255 && /^\d+$/.test(text) ? n : null;
}

const IFA_FLAG_NAMES = [
  "secondary",
  "nodad",
  "optimistic",
  "dadfailed",
  "home",
  "deprecated",
  "tentative",
  "permanent",
  "mngtmpaddr",
  "noprefixroute",
  "autojoin",
  "stable-privacy",
];
const IFA_F_PERMANENT = 0x80;
const INFINITY = 0xffffffff;

/** The address filters of `ip addr show|flush`. */
export interface AddrFilter {
  /** `to PREFIX`. */
  pfx: InetPrefix | null;
  family: number;
  scope: number;
  scopeMask: number;
  flags: number;
  flagMask: number;
  label: string | null;
  up: boolean;
  kind: string | null;
  dev: string | null;
}

/** get_filter: the FLAG words of `ip addr show` (tentative, -tentative, permanent ...). */
function getFilter(f: AddrFilter, word: string): boolean {
  let arg = word;
  let neg = false;
  if (arg === "dynamic") {
    f.flags &= ~IFA_F_PERMANENT;
    f.flagMask |= IFA_F_PERMANENT;
    return true;
  }
  if (arg === "primary") {
    f.flags &= ~1;
    f.flagMask |= 1;
    return true;
  }
  if (arg.startsWith("-")) {
    neg = true;
    arg = arg.slice(1);
  }
  const i = IFA_FLAG_NAMES.indexOf(arg === "temporary" ? "secondary" : arg);
  if (i < 0) return false;
  const mask = 1 << i;
  if (neg) f.flags &= ~mask;
  else f.flags |= mask;
  f.flagMask |= mask;
  return true;
}

/** print_ifa_flags. */
function printIfaFlags(p: Printer, a: AddrMsg): void {
  let flags = a.flags;
  for (let i = 0; i < IFA_FLAG_NAMES.length; i++) {
    const mask = 1 << i;
    if (mask === IFA_F_PERMANENT) {
      if (!(flags & mask)) p.bool("any", "dynamic", "dynamic ", true);
    } else if (flags & mask) {
      if (mask === 1 && a.family === 6) p.bool("any", "temporary", "temporary ", true);
      else {
        p.fp(`${IFA_FLAG_NAMES[i]} `);
        p.bool("json", IFA_FLAG_NAMES[i]!, null, true);
      }
    }
    flags &= ~mask;
  }
  if (flags) {
    if (p.json) p.string("json", "ifa_flags", null, flags.toString(16).padStart(2, "0"));
    else p.fp(`flags ${flags.toString(16).padStart(2, "0")} `);
  }
}

/** print_addrinfo for one address (the caller checked the family and device). */
function printAddrinfo(p: Printer, a: AddrMsg, o: IpOptions): void {
  if (o.oneline) {
    if (p.json) {
      p.number("json", "index", null, a.dev.ifindex);
      p.string("json", "dev", null, a.dev.name);
    } else p.fp(`${a.dev.ifindex}: ${a.dev.name}`);
  }
  if (!o.brief) p.string("any", "family", "    %s ", a.family === 4 ? "inet" : "inet6");
  p.string("any", "local", "%s", a.local);
  if (a.peer !== null) {
    p.fp(" peer ");
    p.string("any", "address", "%s", a.peer);
  }
  p.number("any", "prefixlen", "/%d ", a.prefixLen);
  if (a.metric) p.number("any", "metric", "metric %u ", a.metric);
  if (o.brief) return;
  if (a.broadcast !== null) {
    p.fp("brd ");
    p.string("any", "broadcast", "%s ", a.broadcast);
  }
  p.string("any", "scope", "scope %s ", scopeName(a.scope));
  printIfaFlags(p, a);
  if (a.label !== null) p.string("any", "label", "%s", a.label);
  p.fp(p.sl);
  p.fp("       valid_lft ");
  if (a.valid === INFINITY) {
    p.number("json", "valid_life_time", null, INFINITY);
    p.fp("forever");
  } else p.number("any", "valid_life_time", "%usec", a.valid);
  p.fp(" preferred_lft ");
  if (a.preferred === INFINITY) {
    p.number("json", "preferred_life_time", null, INFINITY);
    p.fp("forever");
  } else p.number("any", "preferred_life_time", "%usec", a.preferred);
  p.fp("\n");
}

/** Whether an address passes the scope/flag/label filters (the checks print_addrinfo makes). */
function addrMatches(f: AddrFilter, a: AddrMsg): boolean {
  if (f.family && f.family !== (a.family === 4 ? AF.INET : AF.INET6)) return false;
  if ((f.scope ^ a.scope) & f.scopeMask) return false;
  if ((f.flags ^ a.flags) & f.flagMask) return false;
  if (f.label !== null && !globMatch(f.label, a.label ?? a.dev.name)) return false;
  if (f.pfx !== null && !pfxMatch(f.pfx, a)) return false;
  return true;
}

/** inet_addr_match_rta: the local address starts with the `to` prefix. */
function pfxMatch(p: InetPrefix, a: AddrMsg): boolean {
  if (p.family !== (a.family === 4 ? AF.INET : AF.INET6)) return false;
  if (p.bitlen === 0) return true;
  if (a.v4) {
    const mask = p.bitlen >= 32 ? 0xffffffff : (0xffffffff << (32 - p.bitlen)) >>> 0;
    return ((a.v4.local ^ p.v4) & mask) >>> 0 === 0;
  }
  const v = a.v6?.addr ?? 0n;
  const mask = ((1n << BigInt(p.bitlen)) - 1n) << BigInt(128 - p.bitlen);
  return ((v ^ p.v6) & mask) === 0n;
}

/** fnmatch() for labels. */
function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return re.test(s);
}

/** Whether an address passes every filter (for flush). */
export function addrSelected(f: AddrFilter, a: AddrMsg, devFilter: number | null): boolean {
  return (devFilter === null || a.dev.ifindex === devFilter) && addrMatches(f, a);
}

/** The filter words of `ip addr show|flush` and `ip link show` (ipaddr_list_flush_or_save). */
export function parseAddrFilter(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  argv: string[],
  doLink: boolean,
): { f: AddrFilter; devFilter: number | null } | number {
  const err = ctx.err;
  const f: AddrFilter = {
    pfx: null,
    family: doLink ? AF.PACKET : opts.family,
    scope: 0,
    scopeMask: 0,
    flags: 0,
    flagMask: 0,
    label: null,
    up: false,
    kind: null,
    dev: null,
  };
  const args = new Args(argv, err);
  while (args.left > 0) {
    const a = args.cur;
    if (a === "to") {
      const v = args.next();
      const px = parsePrefix(v, f.family === AF.PACKET ? 0 : f.family);
      if (px === null) invarg(err, 'invalid "to"\n', v);
      f.pfx = px;
      if (f.family === AF.UNSPEC) f.family = px.family;
    } else if (a === "scope") {
      const v = args.next();
      const s = scopeNumber(v);
      f.scopeMask = -1;
      if (s === null) {
        if (v !== "all") invarg(err, 'invalid "scope"\n', v);
        f.scope = 255;
        f.scopeMask = 0;
      } else f.scope = s;
    } else if (a === "up") f.up = true;
    else if (!doLink && getFilter(f, a)) {
      // a FLAG word
    } else if (a === "label") f.label = args.next();
    else if (a === "type") {
      const v = args.next();
      f.kind = v.endsWith("_slave") ? null : v;
    } else if (a === "master" || a === "vrf" || a === "group") {
      args.next();
    } else if (a === "nomaster") {
      // no bridges or bonds: every device has no master
    } else {
      if (a === "dev") args.next();
      else if (matches(a, "help")) {
        err(ADDR_USAGE);
        throw new IpExit(255);
      }
      if (f.dev !== null) duparg2(err, "dev", args.cur);
      f.dev = args.cur;
    }
    args.shift();
  }
  let devFilter: number | null = null;
  if (f.dev !== null) {
    const d = lookupDev(net, f.dev);
    if (!d) {
      err(`Device "${f.dev}" does not exist.\n`);
      return 1;
    }
    devFilter = d.ifindex;
  }
  return { f, devFilter };
}

/**
 * ipaddr_list_flush_or_save (list): `ip link show [dev] X [up] [type T]` when doLink, else
 * `ip addr show [dev X] [scope S] [to P] [FLAGS] [label L] [up]`.
 */
export function ipaddrList(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  argv: string[],
  doLink: boolean,
): number {
  const parsed = parseAddrFilter(ctx, opts, net, argv, doLink);
  if (typeof parsed === "number") return parsed;
  const { f, devFilter } = parsed;
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: opts.oneline });
  p.start();
  let links: IfInfo[] = net
    .devicesInOrder()
    .filter((d) => devFilter === null || d.ifindex === devFilter)
    .map((d) => rtnlFillIfinfo(d, net));
  if (f.up) links = links.filter((l) => l.flags & 1);
  if (f.kind !== null) links = links.filter((l) => l.linkInfo?.kind === f.kind);
  const addrs = f.family === AF.PACKET ? [] : dumpAddrs(net, f.family === AF.PACKET ? 0 : f.family);
  if (f.family !== AF.PACKET) {
    links = links.filter((l) => {
      const mine = addrs.filter((a) => a.dev.ifindex === l.ifindex);
      if (mine.length === 0) return f.family === AF.UNSPEC;
      return mine.some((a) => addrMatches(f, a));
    });
  }
  const linkOpts = {
    details: opts.details,
    stats: opts.stats,
    doLink,
    family: f.family,
    showQueue: true,
    // `ip -6 addr` without a device dumps links with family AF_INET6, which IPv6 answers itself.
    inet6Dump: f.family === AF.INET6 && devFilter === null && hasIpv6(net),
  };
  // With -o or a label filter, addresses are listed without their link.
  const noLink = f.family !== AF.PACKET && (opts.oneline || f.label !== null);
  for (const l of links) {
    p.openObject(null);
    if (opts.brief) printLinkBrief(p, l, net, f.family);
    else if (!noLink) {
      printLinkinfo(p, l, net, linkOpts);
      p.fp("\n");
    }
    if (f.family !== AF.PACKET) {
      p.openArray("json", "addr_info");
      for (const a of addrs) {
        if (a.dev.ifindex !== l.ifindex || !addrMatches(f, a)) continue;
        if (f.up && !(l.flags & 1)) continue;
        p.openObject(null);
        printAddrinfo(p, a, opts);
        p.closeObject();
      }
      p.closeArray("json", null);
      if (opts.brief) p.fp("\n");
    }
    if (!doLink && opts.stats && !opts.brief) {
      printLinkStats(p, l, opts.stats);
      p.fp("\n");
    }
    p.closeObject();
  }
  p.end();
  ctx.out(p.take());
  return 0;
}
