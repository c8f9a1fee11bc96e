/** `type macvlan|macvtap [ mode MODE ] [ flag FLAG | nopromisc ] [ bcqueuelen N ]` (ip/iplink_macvlan.c). */
import type { Printer } from "../json-print.ts";
import { type Args, getU32, invarg, IpExit, matches } from "../utils.ts";
import type { KindOptions, LinkParseEnv, LinkUtil } from "./registry.ts";

/** MACVLAN_MODE_* bits. */
const MODES: Readonly<Record<string, number>> = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 };
const MACVLAN_FLAG_NOPROMISC = 1;
const MACVLAN_FLAG_NODST = 2;

function explain(id: string, err: (s: string) => void): void {
  err(
    `Usage: ... ${id} mode MODE [flag MODE_FLAG] MODE_OPTS [bcqueuelen BC_QUEUE_LEN]\n\n` +
      "MODE: private | vepa | bridge | passthru | source\n" +
      "MODE_FLAG: null | nopromisc | nodst\n" +
      'MODE_OPTS: for mode "source":\n' +
      "\tmacaddr { { add | del } <macaddr> | set [ <macaddr> [ <macaddr>  ... ] ] | flush }\n" +
      "BC_QUEUE_LEN: Length of the rx queue for broadcast/multicast: [0-4294967295]\n",
  );
}

function parse(id: string, env: LinkParseEnv, args: Args): KindOptions {
  const err = env.ctx.err;
  const data: Record<string, number> = {};
  let flags = 0;
  let hasFlags = false;
  while (args.left > 0) {
    const a = args.cur;
    if (matches(a, "mode")) {
      const v = args.next();
      const m = MODES[v];
      if (m === undefined) {
        err(
          `Error: argument of "mode" must be "private", "vepa", "bridge", "passthru" or "source", not "${v}"\n`,
        );
        throw new IpExit(1);
      }
      data.mode = m;
    } else if (matches(a, "flag")) {
      const v = args.next();
      if (v === "nopromisc") flags |= MACVLAN_FLAG_NOPROMISC;
      else if (v === "nodst") flags |= MACVLAN_FLAG_NODST;
      else if (v === "null") flags = 0;
      else {
        err(`Error: argument of "flag" must be "nopromisc", "nodst" or "null", not "${v}"\n`);
        throw new IpExit(1);
      }
      hasFlags = true;
    } else if (matches(a, "nopromisc")) {
      flags |= MACVLAN_FLAG_NOPROMISC;
      hasFlags = true;
    } else if (matches(a, "bcqueuelen")) {
      const v = args.next();
      const n = getU32(v);
      if (n === null) invarg(err, "bcqueuelen is invalid", v);
      data.bcqueuelen = n;
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
  if (hasFlags) data.flags = flags;
  return { infoData: data };
}

function print(p: Printer, data: Readonly<Record<string, string | number | boolean>> | undefined): void {
  if (!data || typeof data.mode !== "number") return;
  const m = data.mode;
  const name = Object.entries(MODES).find(([, v]) => v === m)?.[0] ?? "unknown";
  p.string("any", "mode", "mode %s ", name);
  const flags = typeof data.flags === "number" ? data.flags : 0;
  if (flags & MACVLAN_FLAG_NOPROMISC) p.bool("any", "nopromisc", "nopromisc ", true);
  if (flags & MACVLAN_FLAG_NODST) p.bool("any", "nodst", "nodst ", true);
  if (typeof data.bcqueuelen === "number") p.number("any", "bcqueuelen", "bcqueuelen %u ", data.bcqueuelen);
  if (typeof data.usedbcqueuelen === "number") {
    p.number("any", "usedbcqueuelen", "usedbcqueuelen %u ", data.usedbcqueuelen);
  }
}

function make(id: string): LinkUtil {
  return { id, parse: (env, args) => parse(id, env, args), print, help: (err) => explain(id, err) };
}

/** `macvlan`. */
export const macvlanLinkUtil: LinkUtil = make("macvlan");
/** `macvtap`. */
export const macvtapLinkUtil: LinkUtil = make("macvtap");
