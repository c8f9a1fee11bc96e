/**
 * `type ipvlan|ipvtap [ mode l2|l3|l3s ] [ bridge|private|vepa ]`, as ip/iplink_ipvlan.c parses
 * and prints it. FLAGS is always sent (0 without a flag word); MODE only when given.
 */
import type { Printer } from "../json-print.ts";
import { type Args, IpExit, matches } from "../utils.ts";
import type { KindOptions, LinkParseEnv, LinkUtil } from "./registry.ts";

/** IPVLAN_MODE_*. */
const MODES: Readonly<Record<string, number>> = { l2: 0, l3: 1, l3s: 2 };
/** IPVLAN_F_PRIVATE / IPVLAN_F_VEPA. */
const IPVLAN_F_PRIVATE = 0x01;
const IPVLAN_F_VEPA = 0x02;

function explain(id: string, err: (s: string) => void): void {
  err(
    `Usage: ... ${id} [ mode MODE ] [ FLAGS ]\n\nMODE: l3 | l3s | l2\nFLAGS: bridge | private | vepa\n` +
      "(first values are the defaults if nothing is specified).\n",
  );
}

function parse(id: string, env: LinkParseEnv, args: Args): KindOptions {
  const err = env.ctx.err;
  let flags = 0;
  let flagGiven = false;
  let mode: number | undefined;
  while (args.left > 0) {
    const a = args.cur;
    if (matches(a, "mode")) {
      const v = args.next();
      const m = MODES[v];
      if (m === undefined) {
        err('Error: argument of "mode" must be either "l2", "l3" or "l3s"\n');
        throw new IpExit(1);
      }
      mode = m;
    } else if (matches(a, "private") && !flagGiven) {
      flags |= IPVLAN_F_PRIVATE;
      flagGiven = true;
    } else if (matches(a, "vepa") && !flagGiven) {
      flags |= IPVLAN_F_VEPA;
      flagGiven = true;
    } else if (matches(a, "bridge") && !flagGiven) {
      flagGiven = true;
    } else if (matches(a, "help")) {
      explain(id, err);
      throw new IpExit(1);
    } else {
      err(`${id}: unknown option "${a}"?\n`);
      explain(id, err);
      throw new IpExit(1);
    }
    args.shift();
  }
  return { infoData: mode === undefined ? { flags } : { mode, flags } };
}

/** ipvlan_print_opt: " mode l2 " then one of "private ", "vepa ", "bridge ". */
function print(p: Printer, data: Readonly<Record<string, string | number | boolean>> | undefined): void {
  if (!data) return;
  if (typeof data.mode === "number") {
    const m = data.mode;
    p.string("any", "mode", " mode %s ", m === 0 ? "l2" : m === 1 ? "l3" : m === 2 ? "l3s" : "unknown");
  }
  if (typeof data.flags === "number") {
    const f = data.flags;
    if (f & IPVLAN_F_PRIVATE) p.bool("any", "private", "private ", true);
    else if (f & IPVLAN_F_VEPA) p.bool("any", "vepa", "vepa ", true);
    else p.bool("any", "bridge", "bridge ", true);
  }
}

function make(id: string): LinkUtil {
  return {
    id,
    parse: (env, args) => parse(id, env, args),
    print,
    help: (err) => explain(id, err),
  };
}

/** `ipvlan`. */
export const ipvlanLinkUtil: LinkUtil = make("ipvlan");
/** `ipvtap` (same options, its own name in messages). */
export const ipvtapLinkUtil: LinkUtil = make("ipvtap");
