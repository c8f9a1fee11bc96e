/** `ip maddr show [dev X]` (ip/ipmaddr.c): link-layer and IPv6 multicast memberships per device. */
import { inDevGet, ipv6DevMcList, type NetNamespace } from "../kernel/index.ts";
import { MADDR_USAGE } from "./help-texts.ts";
import { Printer } from "./json-print.ts";
import { AF, type IpOptions } from "./options.ts";
import { v4Text, v6Text } from "./stacks.ts";
import { IpExit, type IpToolContext, llAddrN2a, macBytes, matches } from "./utils.ts";

/** do_multiaddr: show only (add/del of link-layer groups are not simulated). */
export function doIpmaddr(ctx: IpToolContext, opts: IpOptions, net: NetNamespace, argv: string[]): number {
  let rest = argv;
  if (rest.length > 0) {
    const cmd = rest[0]!;
    if (matches(cmd, "help")) {
      ctx.err(MADDR_USAGE);
      throw new IpExit(255);
    }
    if (!(matches(cmd, "show") || matches(cmd, "lst") || matches(cmd, "list"))) {
      ctx.err(`Command "${cmd}" is unknown, try "ip maddr help".\n`);
      throw new IpExit(255);
    }
    rest = rest.slice(1);
  }
  // The device filter compares names; an unknown name just matches nothing.
  let only: string | null = null;
  for (let i = 0; i < rest.length; i++) {
    const name = rest[i] === "dev" ? rest[++i] : rest[i];
    only = name ?? null;
  }
  const p = new Printer({ json: opts.json, pretty: opts.pretty, oneline: false });
  p.start();
  for (const d of net.devicesInOrder()) {
    if (only !== null && d.name !== only) continue;
    const links = opts.family === AF.INET || opts.family === AF.INET6 ? [] : [...d.mcList.keys()];
    const v6 = opts.family === AF.INET || opts.family === AF.PACKET ? [] : ipv6DevMcList(d);
    const v4 =
      opts.family === AF.INET6 || opts.family === AF.PACKET ? [] : [...(inDevGet(d)?.mcGroups ?? new Map())];
    if (links.length === 0 && v4.length === 0 && v6.length === 0) continue;
    p.openObject(null);
    p.number("any", "ifindex", "%d:", d.ifindex);
    p.string("any", "ifname", "\t%s\n", d.name);
    p.openArray("json", "maddr");
    for (const m of links) {
      p.openObject(null);
      p.fp("\tlink  ");
      p.string("any", "link", "%s", llAddrN2a(macBytes(m, d.addrLen || 6)));
      p.fp("\n");
      p.closeObject();
    }
    // /proc/net/igmp lists a device's groups newest first
    for (const [group, users] of v4.reverse()) {
      p.openObject(null);
      p.string("any", "family", "\t%s  ", "inet");
      p.string("any", "address", "%s", v4Text(group));
      if (users > 1) p.number("any", "users", " users %u", users);
      p.fp("\n");
      p.closeObject();
    }
    for (const g of v6) {
      p.openObject(null);
      p.string("any", "family", "\t%s ", "inet6");
      p.string("any", "address", "%s", v6Text(g.addr));
      if (g.users > 1) p.number("any", "users", " users %u", g.users);
      p.fp("\n");
      p.closeObject();
    }
    p.closeArray("json", null);
    p.closeObject();
  }
  p.end();
  ctx.out(p.take());
  return 0;
}
