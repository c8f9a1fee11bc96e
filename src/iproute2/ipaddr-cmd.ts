/** `ip addr add|del|change|replace|show|flush` (ip/ipaddress.c: ipaddr_modify and friends). */
import {
  inet6AddrAdd,
  inet6AddrDel,
  inetAddrAdd,
  inetAddrDel,
  KernelError,
  type NetNamespace,
} from "../kernel/index.ts";
import { ADDR_USAGE } from "./help-texts.ts";
import { getAddr, getPrefix, type InetPrefix } from "./inet-prefix.ts";
import { addrSelected, ipaddrList, parseAddrFilter, scopeNumber } from "./ipaddress.ts";
import { AF, type IpOptions } from "./options.ts";
import { reportKernelError } from "./rtnl-errors.ts";
import { dumpAddrs, requireStack } from "./stacks.ts";
import {
  Args,
  duparg,
  duparg2,
  getU32,
  invarg,
  IpExit,
  type IpToolContext,
  lookupDev,
  matches,
  nodev,
} from "./utils.ts";

const IFA_F = {
  HOMEADDRESS: 0x10,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
};

/** rtnl_addrprot_a2n: address protocol names or numbers. */
export function addrProtoNumber(text: string): number | null {
  const names = ["unspec", "kernel_lo", "kernel_ra", "kernel_ll"];
  const i = names.indexOf(text);
  if (i >= 0) return i;
  const n = getU32(text);
  return n !== null && n <= 255 ? n : null;
}

/** ipaddr_modify. */
function ipaddrModify(
  ctx: IpToolContext,
  opts: IpOptions,
  net: NetNamespace,
  cmd: "add" | "del" | "replace" | "change",
  argv: string[],
): number {
  const err = ctx.err;
  const args = new Args(argv, err);
  let family = opts.family === AF.PACKET ? 0 : opts.family;
  let local: InetPrefix | null = null;
  let localArg = "";
  let proto: number | undefined;
  let peer: InetPrefix | null = null;
  let brd: number | null = null;
  let brdMode = 0;
  let scope: number | null = null;
  let dev: string | null = null;
  let label: string | null = null;
  let metric: number | undefined;
  let flags = 0;
  let validLft: number | undefined;
  let preferredLft: number | undefined;
  while (args.left > 0) {
    const a = args.cur;
    if (a === "peer" || a === "remote") {
      const v = args.next();
      if (peer) duparg(err, "peer", v);
      peer = getPrefix(err, v, family);
      family ||= peer.family;
    } else if (matches(a, "broadcast") || a === "brd") {
      const v = args.next();
      if (brdMode || brd !== null) duparg(err, "broadcast", v);
      if (v === "+") brdMode = -1;
      else if (v === "-") brdMode = -2;
      else {
        const b = getAddr(err, v, family);
        family ||= b.family;
        brd = b.v4;
      }
    } else if (a === "anycast") {
      args.next();
    } else if (a === "scope") {
      const v = args.next();
      const s = scopeNumber(v);
      if (s === null) invarg(err, "invalid scope value.", v);
      scope = s;
    } else if (a === "dev") dev = args.next();
    else if (a === "label") label = args.next();
    else if (matches(a, "metric") || matches(a, "priority") || matches(a, "preference")) {
      const v = args.next();
      const m = getU32(v);
      if (m === null) invarg(err, '"metric" value is invalid\n', v);
      metric = m;
    } else if (matches(a, "valid_lft") || matches(a, "preferred_lft")) {
      const v = args.next();
      const n = v === "forever" ? 0xffffffff : getU32(v);
      if (n === null) invarg(err, `${matches(a, "valid_lft") ? "valid_lft" : "preferred_lft"} value`, v);
      if (matches(a, "valid_lft")) validLft = n;
      else preferredLft = n;
    } else if (a === "home") flags |= IFA_F.HOMEADDRESS;
    else if (a === "nodad") flags |= IFA_F.NODAD;
    else if (a === "optimistic") flags |= IFA_F.OPTIMISTIC;
    else if (a === "mngtmpaddr") flags |= IFA_F.MANAGETEMPADDR;
    else if (a === "noprefixroute") flags |= IFA_F.NOPREFIXROUTE;
    else if (a === "autojoin") flags |= IFA_F.MCAUTOJOIN;
    else if (matches(a, "proto")) {
      const v = args.next();
      const n = addrProtoNumber(v);
      if (n === null) invarg(err, '"proto" value is invalid\n', v);
      proto = n;
    } else {
      if (a === "local") args.next();
      else if (matches(a, "help")) {
        err(ADDR_USAGE);
        throw new IpExit(255);
      }
      if (local) duparg2(err, "local", args.cur);
      localArg = args.cur;
      local = getPrefix(err, args.cur, family);
      family ||= local.family;
    }
    args.shift();
  }
  if (dev === null) {
    err('Not enough information: "dev" argument is required.\n');
    return 1;
  }
  if (!local) {
    // No IFA_LOCAL: the request goes out anyway. Without a family no handler takes it; the
    // family's own handler refuses it.
    const d0 = lookupDev(net, dev);
    if (!d0) nodev(err, dev);
    return reportKernelError(ctx, new KernelError(family === AF.UNSPEC ? "EOPNOTSUPP" : "EINVAL"));
  }
  const prefixLen = peer ? peer.bitlen : local.bitlen;
  if (brdMode < 0 && cmd !== "del") {
    if (family !== AF.INET) {
      err("Broadcast can be set only for IPv4 addresses\n");
      return 1;
    }
    const base = peer ?? local;
    if (base.bitlen <= 30) {
      const hostMask = base.bitlen === 0 ? 0xffffffff : (2 ** (32 - base.bitlen) - 1) >>> 0;
      brd = brdMode === -1 ? (base.v4 | hostMask) >>> 0 : (base.v4 & ~hostMask) >>> 0;
    }
  }
  if (scope === null && cmd !== "del") scope = family === AF.INET && local.v4 >>> 24 === 127 ? 254 : 0;
  const d = lookupDev(net, dev);
  if (!d) nodev(err, dev);
  if (validLft !== undefined || preferredLft !== undefined) {
    const valid = validLft ?? 0xffffffff;
    const pref = preferredLft ?? 0xffffffff;
    if (!valid) {
      err("valid_lft is zero\n");
      return 1;
    }
    if (valid < pref) {
      err("preferred_lft is greater than valid_lft\n");
      return 1;
    }
    validLft = valid;
    preferredLft = pref;
  }
  // Without a peer, IFA_ADDRESS repeats the local address, except for the wildcard IPv4 delete
  // ("ip addr del 10.0.0.1 dev X" without a length matches any prefix length).
  const wildcard = cmd === "del" && family === AF.INET && !local.lenGiven && !peer;
  if (wildcard) {
    err(
      "Warning: Executing wildcard deletion to stay compatible with old scripts.\n" +
        `         Explicitly specify the prefix length (${localArg}/32) to avoid this warning.\n` +
        "         This special behaviour is likely to disappear in further releases,\n" +
        "         fix your scripts!\n",
    );
  }
  try {
    if (family === AF.INET6) {
      requireStack(net, 6);
      if (cmd === "del") inet6AddrDel(d, local.v6, prefixLen);
      else {
        inet6AddrAdd(d, {
          addr: local.v6,
          prefixLen,
          flags,
          create: true,
          excl: cmd === "add",
          replace: cmd === "replace",
          ...(peer ? { peer: peer.v6 } : {}),
          ...(validLft !== undefined ? { validLft } : {}),
          ...(preferredLft !== undefined ? { preferredLft } : {}),
          ...(metric !== undefined ? { metric } : {}),
        });
      }
    } else {
      requireStack(net, 4);
      if (cmd === "del") {
        inetAddrDel(d, {
          local: local.v4,
          ...(wildcard ? {} : { address: peer ? peer.v4 : local.v4, prefixLen }),
          ...(label !== null ? { label } : {}),
        });
      } else {
        inetAddrAdd(
          d,
          {
            local: local.v4,
            prefixLen,
            flags,
            ...(peer ? { address: peer.v4 } : {}),
            ...(brd !== null ? { broadcast: brd } : {}),
            ...(scope !== null ? { scope } : {}),
            ...(label !== null ? { label } : {}),
            ...(metric !== undefined ? { rtPriority: metric } : {}),
            ...(proto !== undefined ? { proto } : {}),
            ...(validLft !== undefined ? { validLft } : {}),
            ...(preferredLft !== undefined ? { preferredLft } : {}),
          },
          { create: cmd !== "change", excl: cmd === "add", replace: cmd !== "add" },
        );
      }
    }
  } catch (e) {
    if (e instanceof KernelError) return reportKernelError(ctx, e);
    throw e;
  }
  return 0;
}

/** `ip addr flush FILTER`: deletes each matching address (ipaddr_flush). */
function ipaddrFlush(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  if (argv.length === 0) {
    ctx.err("Flush requires arguments.\n");
    return 1;
  }
  const parsed = parseAddrFilter(ctx, opts, net, argv, false);
  if (typeof parsed === "number") return parsed;
  const { f, devFilter } = parsed;
  const family = f.family === AF.PACKET ? 0 : f.family;
  // iproute2 repeats dump + delete rounds until a dump finds nothing left to delete (deleting a
  // primary takes its secondaries along, so later deletes of a round may fail harmlessly).
  for (let round = 0; round < 10; round++) {
    const victims = dumpAddrs(net, family).filter((a) => addrSelected(f, a, devFilter));
    if (victims.length === 0) break;
    for (const a of victims) {
      try {
        if (a.v6) inet6AddrDel(a.dev, a.v6.addr, a.v6.prefixLen);
        else if (a.v4) {
          const x = a.v4;
          inetAddrDel(a.dev, { local: x.local, address: x.address, prefixLen: x.prefixLen, label: x.label });
        }
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
      }
    }
  }
  return 0;
}

/** do_ipaddr. */
export function doIpaddr(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  if (argv.length === 0) return ipaddrList(ctx, opts, net, [], false);
  const [cmd, ...rest] = argv as [string, ...string[]];
  if (matches(cmd, "add")) return ipaddrModify(ctx, opts, net, "add", rest);
  if (matches(cmd, "change") || cmd === "chg") return ipaddrModify(ctx, opts, net, "change", rest);
  if (matches(cmd, "replace")) return ipaddrModify(ctx, opts, net, "replace", rest);
  if (matches(cmd, "delete")) return ipaddrModify(ctx, opts, net, "del", rest);
  if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst"))
    return ipaddrList(ctx, opts, net, rest, false);
  if (matches(cmd, "flush")) return ipaddrFlush(ctx, opts, net, rest);
  if (matches(cmd, "help")) {
    ctx.err(ADDR_USAGE);
    throw new IpExit(255);
  }
  ctx.err(`Command "${cmd}" is unknown, try "ip address help".\n`);
  throw new IpExit(255);
}
