/**
 * link_util: what `ip link` knows about each link kind (iproute2's ip/iplink_*.c and
 * ip/link_*.c): an option parser that turns `type KIND ARGS...` into IFLA_INFO_DATA, a printer
 * for `ip -d link`, and a help text.
 */
import type { InfoData, LinkRequest } from "../../kernel/index.ts";
import type { Printer } from "../json-print.ts";
import type { Args, IpToolContext } from "../utils.ts";
import { ipvlanLinkUtil, ipvtapLinkUtil } from "./ipvlan.ts";
import { macvlanLinkUtil, macvtapLinkUtil } from "./macvlan.ts";
import { tunLinkUtil } from "./tun.ts";
import { vethLinkUtil } from "./veth.ts";
import { vlanLinkUtil } from "./vlan.ts";

/** What a kind's parser produced: IFLA_INFO_DATA and, for veth, the peer request. */
export interface KindOptions {
  readonly infoData?: InfoData;
  readonly peer?: LinkRequest;
}

/** Helpers a kind parser may call back into (veth parses its peer with iplink_parse). */
export interface LinkParseEnv {
  readonly ctx: IpToolContext;
  /** iplink_parse over the rest of the arguments, for a nested request (veth peer). */
  parseNested(args: Args): { req: LinkRequest; type: string | null };
}

/** One link kind. */
export interface LinkUtil {
  readonly id: string;
  /** parse_opt: consumes every remaining argument; prints and throws IpExit on errors. */
  parse?(env: LinkParseEnv, args: Args): KindOptions;
  /** print_opt: the kind's part of the `-d` details line (IFLA_INFO_DATA as the kernel dumps it). */
  print?(p: Printer, data: Readonly<Record<string, string | number | boolean>> | undefined): void;
  /** print_help. */
  help?(err: (s: string) => void): void;
}

const DUMMY: LinkUtil = { id: "dummy", help: (err) => err("Usage: ... dummy\n") };

const UTILS = new Map<string, LinkUtil>(
  [
    ipvlanLinkUtil,
    ipvtapLinkUtil,
    vethLinkUtil,
    macvlanLinkUtil,
    macvtapLinkUtil,
    vlanLinkUtil,
    tunLinkUtil,
    DUMMY,
  ].map((u) => [u.id, u]),
);

/** get_link_kind. */
export function getLinkUtil(kind: string): LinkUtil | undefined {
  return UTILS.get(kind);
}
