/**
 * `ip link add|set|change|replace|delete|show|help`, as ip/iplink.c parses it (iplink_parse,
 * iplink_modify) and hands the request to the kernel's rtnetlink.
 */
import {
  findNetns,
  IFF,
  KernelError,
  type LinkRequest,
  type NetDevice,
  type NetNamespace,
} from "../kernel/index.ts";
import { rtnlDelLink, rtnlNewLink, rtnlSetLink } from "../kernel/index.ts";
import { LINK_USAGE } from "./help-texts.ts";
import { ipaddrList } from "./ipaddress.ts";
import type { IpOptions } from "./options.ts";
import { type LinkParseEnv, getLinkUtil } from "./link/registry.ts";
import { reportKernelError } from "./rtnl-errors.ts";
import {
  Args,
  checkIfname,
  duparg,
  duparg2,
  getInteger,
  invarg,
  IpExit,
  type IpToolContext,
  llAddrA2n,
  lookupDev,
  matches,
  nodev,
} from "./utils.ts";

/** A request being built, with the names iplink_parse collects. */
interface Parsed {
  req: Record<string, unknown>;
  flags: number;
  change: number;
  dev: string | null;
  name: string | null;
  link: string | null;
  type: string | null;
  index: number;
  addrLen: number;
}

const ON_OFF_FLAGS: Readonly<Record<string, [number, boolean]>> = {
  multicast: [IFF.MULTICAST, false],
  allmulticast: [IFF.ALLMULTI, false],
  promisc: [IFF.PROMISC, false],
  trailers: [IFF.NOTRAILERS, true],
  arp: [IFF.NOARP, true],
};

function usage(err: (s: string) => void): never {
  err(LINK_USAGE);
  throw new IpExit(255);
}

function onOffError(err: (s: string) => void, msg: string, value: string): never {
  err(`Error: argument of "${msg}" must be "on" or "off", not "${value}"\n`);
  throw new IpExit(1);
}

/** netns_get_fd, then a PID: the namespace `ip link set ... netns X` names. */
function resolveNetnsArg(ctx: IpToolContext, value: string): NetNamespace {
  const byName = value.includes("/") ? undefined : findNetns(ctx.kernel, value);
  if (byName) return byName;
  const pid = getInteger(value);
  if (pid === null) invarg(ctx.err, 'Invalid "netns" value\n', value);
  if (pid === 1 || pid === 0) return ctx.kernel.initNet;
  ctx.err("RTNETLINK answers: No such process\n");
  throw new IpExit(2);
}

/**
 * iplink_parse: the generic link options up to `type KIND` (which ends it). `create` tells
 * whether the message carries NLM_F_CREATE (names are then not looked up).
 */
function iplinkParse(ctx: IpToolContext, args: Args, create: boolean, net: NetNamespace): Parsed {
  const err = ctx.err;
  const p: Parsed = {
    req: {},
    flags: 0,
    change: 0,
    dev: null,
    name: null,
    link: null,
    type: null,
    index: 0,
    addrLen: 0,
  };
  let qlen = false;
  let mtu = false;
  let netns = false;
  let group = false;
  let numtx = false;
  let numrx = false;
  while (args.left > 0) {
    const a = args.cur;
    if (a === "up" || a === "down") {
      p.change |= IFF.UP;
      if (a === "up") p.flags |= IFF.UP;
      else p.flags &= ~IFF.UP;
    } else if (a === "name") {
      const v = args.next();
      if (p.name !== null) duparg(err, "name", v);
      if (!checkIfname(v)) invarg(err, '"name" not a valid ifname', v);
      p.name = v;
      if (p.dev === null) p.dev = v;
    } else if (a === "index") {
      const v = args.next();
      if (p.index) duparg(err, "index", v);
      const n = Number.parseInt(v, 10);
      if (!(n > 0)) invarg(err, 'Invalid "index" value', v);
      p.index = n;
    } else if (matches(a, "link")) {
      p.link = args.next();
    } else if (matches(a, "address")) {
      const bytes = llAddrA2n(err, args.next());
      if (!bytes) throw new IpExit(1);
      p.req.address = bytes;
      p.addrLen = bytes.length;
    } else if (matches(a, "broadcast") || a === "brd") {
      const bytes = llAddrA2n(err, args.next());
      if (!bytes) throw new IpExit(1);
      p.req.broadcast = bytes;
    } else if (matches(a, "txqueuelen") || a === "qlen" || matches(a, "txqlen")) {
      const v = args.next();
      if (qlen) duparg(err, "txqueuelen", v);
      const n = getInteger(v);
      if (n === null) invarg(err, 'Invalid "txqueuelen" value\n', v);
      p.req.txqlen = n >>> 0;
      qlen = true;
    } else if (a === "mtu") {
      const v = args.next();
      if (mtu) duparg(err, "mtu", v);
      const n = getInteger(v);
      if (n === null) invarg(err, 'Invalid "mtu" value\n', v);
      p.req.mtu = n >>> 0;
      mtu = true;
    } else if (a === "netns") {
      const v = args.next();
      if (netns) duparg(err, "netns", v);
      p.req.netns = resolveNetnsArg(ctx, v);
      netns = true;
    } else if (ON_OFF_FLAGS[a]) {
      const [bit, inverted] = ON_OFF_FLAGS[a]!;
      const v = args.next();
      p.change |= bit;
      if (v !== "on" && v !== "off") onOffError(err, a, v);
      if ((v === "on") !== inverted) p.flags |= bit;
      else p.flags &= ~bit;
    } else if (a === "carrier") {
      const v = args.next();
      if (v !== "on" && v !== "off") onOffError(err, "carrier", v);
      p.req.carrier = v === "on";
    } else if (matches(a, "master")) {
      const v = args.next();
      const d = lookupDev(net, v);
      if (!d) invarg(err, "Device does not exist\n", v);
      p.req.master = d.ifindex;
    } else if (matches(a, "nomaster")) {
      p.req.master = 0;
    } else if (matches(a, "dynamic")) {
      const v = args.next();
      p.change |= IFF.DYNAMIC;
      if (v === "on") p.flags |= IFF.DYNAMIC;
      else if (v === "off") p.flags &= ~IFF.DYNAMIC;
      else onOffError(err, "dynamic", v);
    } else if (matches(a, "type")) {
      p.type = args.next();
      args.shift();
      break;
    } else if (matches(a, "alias")) {
      const v = args.next();
      if (Buffer.byteLength(v) >= 256) invarg(err, "alias too long\n", v);
      p.req.alias = v;
    } else if (a === "group") {
      const v = args.next();
      if (group) duparg(err, "group", v);
      const g = v === "default" ? 0 : getInteger(v);
      if (g === null) invarg(err, 'Invalid "group" value\n', v);
      p.req.group = g >>> 0;
      group = true;
    } else if (a === "mode") {
      const v = args.next().toLowerCase();
      if (v !== "default" && v !== "dormant") invarg(err, "Invalid link mode\n", args.cur);
      p.req.linkMode = v === "default" ? 0 : 1;
    } else if (a === "state") {
      const v = args.next();
      const states = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];
      if (!states.includes(v.toUpperCase())) invarg(err, "Invalid operstate\n", v);
    } else if (matches(a, "numtxqueues") || matches(a, "numrxqueues")) {
      const tx = matches(a, "numtxqueues");
      const key = tx ? "numtxqueues" : "numrxqueues";
      const v = args.next();
      if (tx ? numtx : numrx) duparg(err, key, v);
      const n = getInteger(v);
      if (n === null) invarg(err, `Invalid "${key}" value\n`, v);
      if (tx) {
        p.req.numTxQueues = n;
        numtx = true;
      } else {
        p.req.numRxQueues = n;
        numrx = true;
      }
    } else if (matches(a, "addrgenmode")) {
      const v = args.next().toLowerCase();
      const mode = ["eui64", "none", "stable_secret", "random"].indexOf(v);
      if (mode < 0) invarg(err, "Invalid address generation mode\n", args.cur);
      p.req.addrGenMode = mode;
    } else {
      if (a === "dev") args.next();
      else if (matches(a, "help")) usage(err);
      const v = args.cur;
      if (p.dev !== p.name) duparg2(err, "dev", v);
      if (!checkAltIfname(v)) invarg(err, '"dev" not a valid ifname', v);
      p.dev = v;
    }
    args.shift();
  }
  if (!create && p.index) {
    err("index can be used only when creating devices or when moving device to another netns.\n");
    throw new IpExit(255);
  }
  if (create && p.name !== null && p.dev !== p.name) {
    err('both "name" and "dev" cannot be used when creating devices.\n');
    throw new IpExit(255);
  }
  return p;
}

/** check_altifname: up to 127 bytes, no '/' or blanks. */
function checkAltIfname(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) >= 128) return false;
  if (name === "." || name === "..") return false;
  return !/[/\s]/.test(name);
}

/** Builds the LinkRequest of a parsed command line (plus `type` options). */
function buildRequest(
  ctx: IpToolContext,
  net: NetNamespace,
  p: Parsed,
  args: Args,
  create: boolean,
): LinkRequest {
  const req: Record<string, unknown> = { ...p.req };
  if (p.change) {
    req.flags = p.flags;
    req.change = p.change;
  }
  if (p.link !== null) {
    const l = lookupDev(net, p.link);
    if (!l) nodev(ctx.err, p.link);
    req.link = l;
  }
  if (create) {
    const name = p.name ?? p.dev;
    if (name !== null) req.name = name;
    if (p.index) req.index = p.index;
  } else if (p.name !== null && p.name !== p.dev) req.name = p.name;
  if (p.type !== null) {
    req.kind = p.type;
    const lu = getLinkUtil(p.type);
    // iplink_modify hands the kind's parser only what is left (`if (lu && argc)`): with no
    // options after "type KIND" no IFLA_INFO_DATA is sent at all (ipvlan then keeps the port's
    // flags and, on a new link, takes mode l3; a change-link without data is a no-op).
    if (lu?.parse && args.left > 0) {
      const env: LinkParseEnv = {
        ctx,
        parseNested: (a) => {
          const nested = iplinkParse(ctx, a, create, net);
          if (!create && nested.dev !== null && !lookupDev(net, nested.dev)) nodev(ctx.err, nested.dev);
          const nreq = buildRequest(ctx, net, { ...nested, type: null }, a, create);
          return { req: nreq, type: nested.type };
        },
      };
      const opts = lu.parse(env, args);
      req.infoData = opts.infoData ?? {};
      if (opts.peer !== undefined) req.peer = opts.peer;
    } else if (args.left > 0) {
      if (matches(args.cur, "help")) usage(ctx.err);
      ctx.err(`Garbage instead of arguments "${args.cur} ...". Try "ip link help".\n`);
      throw new IpExit(1);
    }
  }
  return req as LinkRequest;
}

/** iplink_modify for add/set/change/replace/delete; returns the exit status. */
function iplinkModify(
  ctx: IpToolContext,
  net: NetNamespace,
  cmd: "add" | "set" | "replace" | "delete",
  argv: string[],
): number {
  const args = new Args(argv, ctx.err);
  const create = cmd === "add" || cmd === "replace";
  const p = iplinkParse(ctx, args, create, net);
  let dev: NetDevice | undefined;
  if (!create) {
    if (p.dev === null) {
      ctx.err('Not enough information: "dev" argument is required.\n');
      throw new IpExit(255);
    }
    dev = lookupDev(net, p.dev);
    if (!dev) nodev(ctx.err, p.dev);
    if (p.addrLen && dev.addrLen !== p.addrLen) {
      ctx.err(`Invalid address length ${p.addrLen} - must be ${dev.addrLen} bytes\n`);
      return 1;
    }
  }
  const req = buildRequest(ctx, net, p, args, create);
  if (p.type === null && create) {
    ctx.err('Not enough information: "type" argument is required\n');
    return 1;
  }
  try {
    if (cmd === "delete") rtnlDelLink(dev!);
    else if (dev) rtnlSetLink(dev, req);
    else if (cmd === "replace" && req.name !== undefined && net.dev(req.name))
      rtnlSetLink(net.dev(req.name)!, req);
    else rtnlNewLink(net, req);
  } catch (e) {
    if (e instanceof KernelError) return reportKernelError(ctx, e);
    throw e;
  }
  return 0;
}

/** `ip link help [TYPE]`. */
function iplinkHelp(ctx: IpToolContext, argv: string[]): number {
  if (argv.length === 0) usage(ctx.err);
  const lu = getLinkUtil(argv[0]!);
  if (lu?.help) lu.help(ctx.out);
  else usage(ctx.err);
  return 0;
}

/** do_iplink. */
export function doIplink(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  if (argv.length === 0) return ipaddrList(ctx, opts, net, [], true);
  const [cmd, ...rest] = argv as [string, ...string[]];
  if (matches(cmd, "add")) return iplinkModify(ctx, net, "add", rest);
  if (matches(cmd, "set") || matches(cmd, "change")) return iplinkModify(ctx, net, "set", rest);
  if (matches(cmd, "replace")) return iplinkModify(ctx, net, "replace", rest);
  if (matches(cmd, "delete")) return iplinkModify(ctx, net, "delete", rest);
  if (matches(cmd, "show") || matches(cmd, "lst") || matches(cmd, "list"))
    return ipaddrList(ctx, opts, net, rest, true);
  if (matches(cmd, "help")) return iplinkHelp(ctx, rest);
  ctx.err(`Command "${cmd}" is unknown, try "ip link help".\n`);
  throw new IpExit(255);
}
