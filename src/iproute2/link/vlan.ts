/** `type vlan id VLANID [ protocol 802.1Q|802.1ad ]` (ip/iplink_vlan.c, the options a test needs). */
import { VLAN_USAGE } from "../help-texts.ts";
import type { Printer } from "../json-print.ts";
import { type Args, getUnsignedMax, invarg, IpExit, matches } from "../utils.ts";
import type { KindOptions, LinkParseEnv, LinkUtil } from "./registry.ts";

const PROTOCOLS: Readonly<Record<string, number>> = { "802.1Q": 0x8100, "802.1ad": 0x88a8 };

function parse(env: LinkParseEnv, args: Args): KindOptions {
  const err = env.ctx.err;
  const data: Record<string, number> = {};
  while (args.left > 0) {
    const a = args.cur;
    if (matches(a, "protocol")) {
      const v = args.next();
      const proto = Object.entries(PROTOCOLS).find(([k]) => k.toLowerCase() === v.toLowerCase())?.[1];
      if (proto === undefined) invarg(err, "protocol is invalid", v);
      data.protocol = proto;
    } else if (matches(a, "id")) {
      const v = args.next();
      const id = getUnsignedMax(v, 0xffff);
      if (id === null) invarg(err, "id is invalid", v);
      data.id = id;
    } else if (matches(a, "help")) {
      err(VLAN_USAGE);
      throw new IpExit(1);
    } else {
      err(`vlan: unknown command "${a}"?\n`);
      err(VLAN_USAGE);
      throw new IpExit(1);
    }
    args.shift();
  }
  return { infoData: data };
}

function print(p: Printer, data: Readonly<Record<string, string | number | boolean>> | undefined): void {
  if (!data) return;
  const proto = typeof data.protocol === "number" ? data.protocol : 0x8100;
  p.string("any", "protocol", "protocol %s ", proto === 0x88a8 ? "802.1ad" : "802.1Q");
  if (typeof data.id === "number") p.number("any", "id", "id %u ", data.id);
}

/** `vlan`. */
export const vlanLinkUtil: LinkUtil = { id: "vlan", parse, print, help: (err) => err(VLAN_USAGE) };
