/** `ip netns list|add|delete|identify|set|list-id|exec` (ip/ipnetns.c). */
import { findNetns, namedNamespaces, type NetNamespace, netnsAdd, netnsDelete } from "../kernel/index.ts";
import { NETNS_USAGE } from "./help-texts.ts";
import { Printer } from "./json-print.ts";
import type { IpOptions } from "./options.ts";
import { getU32, IpExit, type IpToolContext, matches } from "./utils.ts";

/** is_valid_netns_name. */
function validName(name: string): boolean {
  return name.length > 0 && name.length < 256 && !name.includes("/") && name !== "." && name !== "..";
}

function checkName(ctx: IpToolContext, name: string): void {
  if (!validName(name)) {
    ctx.err(`Invalid netns name "${name}"\n`);
    throw new IpExit(255);
  }
}

/** netns_list: newest first, with " (id: N)" when the current namespace has an id for it. */
function netnsList(ctx: IpToolContext, opts: IpOptions, net: NetNamespace): number {
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: false });
  p.start();
  for (const ns of namedNamespaces(ctx.kernel)) {
    p.openObject(null);
    p.string("any", "name", "%s", ns.name);
    const id = net.peerId(ns);
    if (id >= 0) p.number("any", "id", " (id: %d)", id);
    p.fp("\n");
    p.closeObject();
  }
  p.end();
  ctx.out(p.take());
  return 0;
}

/** `ip netns list-id`: "nsid N (iproute2 netns name: X)". */
function netnsListId(ctx: IpToolContext, opts: IpOptions, net: NetNamespace): number {
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: false });
  p.start();
  const entries = [...net.nsids.entries()].sort((a, b) => a[1] - b[1]);
  for (const [peer, id] of entries) {
    p.openObject(null);
    p.number("any", "nsid", "nsid %u ", id);
    if (peer.name !== null) p.string("any", "name", "(iproute2 netns name: %s)", peer.name);
    p.fp("\n");
    p.closeObject();
  }
  p.end();
  ctx.out(p.take());
  return 0;
}

/** do_netns. */
export function doNetns(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  const kernel = ctx.kernel;
  if (argv.length === 0) return netnsList(ctx, opts, net);
  const [cmd, ...rest] = argv as [string, ...string[]];
  if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst")) return netnsList(ctx, opts, net);
  if (matches(cmd, "list-id")) return netnsListId(ctx, opts, net);
  if (matches(cmd, "help")) {
    ctx.err(NETNS_USAGE);
    throw new IpExit(255);
  }
  if (matches(cmd, "add")) {
    if (rest.length < 1) {
      ctx.err("No netns name specified\n");
      return 1;
    }
    const name = rest[0]!;
    checkName(ctx, name);
    if (findNetns(kernel, name)) {
      ctx.err(`Cannot create namespace file "/run/netns/${name}": File exists\n`);
      return 1;
    }
    netnsAdd(kernel, name);
    return 0;
  }
  if (matches(cmd, "delete")) {
    if (opts.all) {
      for (const ns of namedNamespaces(kernel)) netnsDelete(ns);
      return 0;
    }
    if (rest.length < 1) {
      ctx.err("No netns name specified\n");
      return 1;
    }
    const name = rest[0]!;
    checkName(ctx, name);
    const ns = findNetns(kernel, name);
    if (!ns) {
      ctx.err(`Cannot remove namespace file "/run/netns/${name}": No such file or directory\n`);
      return 1;
    }
    netnsDelete(ns);
    return 0;
  }
  if (matches(cmd, "identify")) {
    ctx.out(net.name !== null ? `${net.name}\n` : "\n");
    return 0;
  }
  if (matches(cmd, "set")) {
    if (rest.length < 1) {
      ctx.err("No netns name specified\n");
      return 1;
    }
    if (rest.length < 2) {
      ctx.err("No nsid specified\n");
      return 1;
    }
    const name = rest[0]!;
    const idText = rest[1]!;
    let id: number;
    if (idText === "auto") id = -1;
    else {
      const v = getU32(idText);
      if (v === null || v > 0x7fffffff) {
        ctx.err(`Invalid "netnsid" value\n`);
        return 1;
      }
      id = v;
    }
    const ns = findNetns(kernel, name);
    if (!ns) {
      ctx.err(`Cannot open network namespace "${name}": No such file or directory\n`);
      return 1;
    }
    if (net.nsids.has(ns) || (id >= 0 && [...net.nsids.values()].includes(id))) {
      ctx.err("RTNETLINK answers: File exists\n");
      return 2;
    }
    if (id < 0) net.peerIdAlloc(ns);
    else net.nsids.set(ns, id);
    return 0;
  }
  if (matches(cmd, "exec")) {
    const r = resolveNetnsExec(kernel, ["netns", ...argv]);
    if (!r.ok) {
      ctx.err(r.error);
      return r.status;
    }
    ctx.err("ipvl: ip netns exec: the command is run by the harness\n");
    return 1;
  }
  ctx.err(`Command "${cmd}" is unknown, try "ip netns help".\n`);
  throw new IpExit(255);
}

/** Result of checking an `ip netns exec NAME CMD...` command line. */
export type NetnsExecResolution =
  | { readonly ok: true; readonly net: NetNamespace; readonly argv: readonly string[] }
  | { readonly ok: false; readonly error: string; readonly status: number };

/**
 * Validates `ip netns exec NAME CMD...` as iproute2 does before exec'ing: `argv` is what follows
 * "ip" (global options allowed before "netns"). Returns the namespace and the command's argv.
 */
export function resolveNetnsExec(
  kernel: import("../kernel/index.ts").Kernel,
  argv: readonly string[],
): NetnsExecResolution {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith("-")) i++;
  const rest = argv.slice(i);
  if (rest.length < 2 || !matches(rest[0]!, "netns") || !matches(rest[1]!, "exec")) {
    return { ok: false, error: "Not an ip netns exec command line\n", status: 255 };
  }
  const name = rest[2];
  if (name === undefined) return { ok: false, error: "No netns name specified\n", status: 1 };
  if (rest.length < 4) return { ok: false, error: "No command specified\n", status: 1 };
  const net = validName(name) ? findNetns(kernel, name) : undefined;
  if (!net) {
    return {
      ok: false,
      error: `Cannot open network namespace "${name}": No such file or directory\n`,
      status: 255,
    };
  }
  return { ok: true, net, argv: rest.slice(3) };
}
