/** `type veth [ peer OPTIONS ]`, as ip/link_veth.c parses it (the peer with iplink_parse). */
import { VETH_USAGE } from "../help-texts.ts";
import { type Args, duparg, IpExit } from "../utils.ts";
import type { KindOptions, LinkParseEnv, LinkUtil } from "./registry.ts";

function parse(env: LinkParseEnv, args: Args): KindOptions {
  if (args.left === 0) return {};
  if (args.cur !== "peer") {
    env.ctx.out(VETH_USAGE);
    throw new IpExit(1);
  }
  args.shift();
  const { req, type } = env.parseNested(args);
  if (type !== null) duparg(env.ctx.err, "type", type);
  return { peer: req };
}

/** `veth`: no IFLA_INFO_DATA to print. */
export const vethLinkUtil: LinkUtil = {
  id: "veth",
  parse,
  help: (err) => err(VETH_USAGE),
};
