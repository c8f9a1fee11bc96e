/** `ip route get` (ip/iproute.c iproute_get): one route lookup, printed as the kernel answers it. */
import {
  DEFAULT_RULES,
  fib6NhFlags,
  ip6RouteGet,
  ipRouteInput,
  ipRouteOutput,
  ipv4Net,
  KernelError,
  type NetDevice,
  type NetNamespace,
} from "../kernel/index.ts";
import { ROUTE_USAGE } from "./help-texts.ts";
import { getPrefix, type InetPrefix } from "./inet-prefix.ts";
import { Printer } from "./json-print.ts";
import { AF, type IpOptions } from "./options.ts";
import { newFilter, printRoute, type RouteMsg } from "./route-print.ts";
import { reportKernelError } from "./rtnl-errors.ts";
import { requireStack, v4Text, v6Text } from "./stacks.ts";
import { Args, getU32, invarg, IpExit, type IpToolContext, lookupDev, matches, nodev } from "./utils.ts";

/**
 * The table a lookup reports: with the default rules Linux keeps local and main in one trie and
 * looks up main only, so hits in the local table report main.
 */
function mergedTable(net: NetNamespace, table: number): number {
  const rules = ipv4Net(net).rules;
  const isDefault =
    rules.length === DEFAULT_RULES.length &&
    rules.every((r, i) => r.priority === DEFAULT_RULES[i]!.priority && r.table === DEFAULT_RULES[i]!.table);
  return isDefault && table === 255 ? 254 : table;
}

/** iproute_get: `ip route get ADDRESS [from A] [iif D] [oif D] [mark M]`. */
export function routeGet(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  const err = ctx.err;
  const args = new Args(argv, err);
  let family = opts.family === AF.PACKET ? 0 : opts.family;
  let dst: InetPrefix | null = null;
  let from: InetPrefix | null = null;
  let idev: string | null = null;
  let odev: string | null = null;
  let mark = 0;
  while (args.left > 0) {
    const a = args.cur;
    if (a === "from") {
      from = getPrefix(err, args.next(), family);
      family ||= from.family;
    } else if (a === "iif") idev = args.next();
    else if (matches(a, "mark")) {
      const v = args.next();
      const n = getU32(v);
      if (n === null) invarg(err, "invalid mark value", v);
      mark = n;
    } else if (matches(a, "oif") || a === "dev") odev = args.next();
    else if (a === "tos" || a === "dsfield" || a === "uid") args.next();
    else if (matches(a, "connected") || matches(a, "fibmatch")) {
      // not simulated: plain lookup
    } else {
      let v = a;
      if (a === "to") v = args.next();
      else if (matches(a, "help")) {
        err(ROUTE_USAGE);
        throw new IpExit(255);
      }
      dst = getPrefix(err, v, family);
      family ||= dst.family;
    }
    args.shift();
  }
  if (!dst) {
    err("need at least a destination address\n");
    return 1;
  }
  let iif: NetDevice | undefined;
  let oif: NetDevice | undefined;
  if (idev !== null) {
    const d = lookupDev(net, idev);
    if (!d) nodev(err, idev);
    iif = d;
  }
  if (odev !== null) {
    const d = lookupDev(net, odev);
    if (!d) nodev(err, odev);
    oif = d;
  }
  if (family === 0) family = AF.INET;
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: opts.oneline });
  try {
    let msg: RouteMsg;
    if (family === AF.INET6) {
      requireStack(net, 6);
      const r = ip6RouteGet(net, {
        daddr: dst.v6,
        ...(from ? { saddr: from.v6 } : {}),
        ...(oif ? { oif: oif.ifindex } : {}),
        ...(iif ? { iif: iif.ifindex } : {}),
        ...(mark ? { mark } : {}),
      });
      const route = r.route;
      msg = {
        family: 6,
        table: route?.table ?? 254,
        dst: v6Text(r.daddr),
        dstLen: 128,
        src: v6Text(from?.v6 ?? 0n),
        srcLen: 128,
        type: r.type,
        protocol: route?.protocol ?? 0,
        scope: 0,
        gateway: route?.gateway != null ? v6Text(route.gateway) : null,
        dev: r.dev,
        // rt6_fill_node: an input lookup (iif) reports RTA_IIF; only an output one RTA_PREFSRC.
        prefsrc: !iif && r.saddr ? v6Text(r.saddr) : null,
        metric: route?.metric ?? 0,
        flags: route ? fib6NhFlags(route) : 0,
        pref: route?.pref ?? 0,
        metrics: {},
        uid: null,
        cacheFlags: null,
        expires: null,
        ...(iif ? { iif: iif.name } : {}),
      };
    } else {
      requireStack(net, 4);
      const saddr = from?.v4 ?? 0;
      const res = iif
        ? ipRouteInput(dst.v4, saddr, iif)
        : ipRouteOutput(net, {
            daddr: dst.v4,
            saddr,
            ...(oif ? { oif: oif.ifindex } : {}),
            ...(mark ? { mark } : {}),
          });
      if (typeof res === "string") throw new KernelError(res);
      if (res.action === "error" && res.error) throw new KernelError(res.error);
      const ex = res.type === 1 ? ipv4Net(net).pmtu.get(res.daddr >>> 0) : undefined;
      const pmtu = ex && ex.expires > net.kernel.now ? ex : undefined;
      msg = {
        family: 4,
        table: mergedTable(net, res.table),
        dst: v4Text(res.daddr),
        dstLen: 32,
        src: from ? v4Text(saddr) : null,
        srcLen: 32,
        type: res.type,
        protocol: 0,
        scope: 0,
        gateway: res.gateway ? v4Text(res.gateway) : null,
        // local input routes deliver through the loopback device (rt_dst_alloc in
        // ip_route_input_slow's local_input)
        dev: iif && res.type === 2 ? net.loopback : res.dev,
        prefsrc: !iif && res.saddr !== saddr ? v4Text(res.saddr) : null,
        metric: null,
        flags: 0,
        ...(iif ? { iif: iif.name } : {}),
        pref: null,
        metrics: { ...(res.fib?.metrics ?? {}), ...(pmtu ? { mtu: pmtu.mtu } : {}) },
        uid: iif ? null : 0,
        cacheFlags: res.flags,
        expires: pmtu ? Math.max(0, Number((pmtu.expires - net.kernel.now) / 1_000_000_000n)) : null,
      };
    }
    const f = newFilter();
    f.tb = 0;
    // rt_fill_info copies the RTCF_* bits into rtm_flags; iproute2 reads RTCF_MULTICAST there
    // as RTM_F_OFFLOAD_FAILED.
    const flags = msg.family === 4 ? (msg.cacheFlags ?? 0) & ~0xffff : msg.flags;
    p.start();
    printRoute(p, { ...msg, flags }, opts, f);
    p.end();
  } catch (e) {
    if (e instanceof KernelError) return reportKernelError(ctx, e);
    throw e;
  }
  ctx.out(p.take());
  return 0;
}
