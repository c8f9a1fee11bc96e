/**
 * The `conntrack` command (conntrack-tools 1.4.7) over the simulated conntrack table:
 * -L (list, with filters), -D (delete matching), -F (flush), -C (count), -V. Entries print as
 * libnetfilter_conntrack's default format ("icmp     1 29 src=... [UNREPLIED] ... mark=0 use=1"),
 * the summary goes to stderr.
 */
import {
  type CtTuple,
  IPS,
  type NetNamespace,
  type NfConn,
  nfCtDelete,
  nfCtEntries,
  nfCtFlush,
  nfCtTimeoutSecs,
  TCP_STATE_NAMES,
} from "../kernel/index.ts";
import { formatIpv4, formatIpv6, parseIpv6 } from "../wire/index.ts";
import type { ToolContext } from "./context.ts";

const VERSION = "conntrack v1.4.7 (conntrack-tools)";

const PROTO_NAMES: Readonly<Record<string, number>> = {
  tcp: 6,
  udp: 17,
  udplite: 136,
  icmp: 1,
  icmpv6: 58,
  sctp: 132,
  dccp: 33,
  gre: 47,
};

const HELP = `Command line interface for the connection tracking system. Version 1.4.7
Usage: conntrack [commands] [options]

Commands:
  -L [table] [options]\t\tList conntrack or expectation table
  -G [table] parameters\t\tGet conntrack or expectation
  -D [table] parameters\t\tDelete conntrack or expectation
  -I [table] parameters\t\tCreate a conntrack or expectation
  -U [table] parameters\t\tUpdate a conntrack
  -E [table] [options]\t\tShow events
  -F [table]\t\t\tFlush table
  -C [table]\t\t\tShow counter
  -S\t\t\t\tShow statistics

Tables: conntrack, expect, dying, unconfirmed

Conntrack parameters and options:
  -n, --src-nat ip\t\t\tsource NAT ip
  -g, --dst-nat ip\t\t\tdestination NAT ip
  -j, --any-nat ip\t\t\tsource or destination NAT ip
  -m, --mark mark\t\t\tSet mark
  -c, --secmark secmark\t\t\tSet selinux secmark
  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY
  -z, --zero \t\t\t\tZero counters while listing
  -o, --output type[,...]\t\tOutput format, eg. xml
  -l, --label label[,...]\t\tconntrack labels

Expectation parameters and options:
  --tuple-src ip\tSource address in expect tuple
  --tuple-dst ip\tDestination address in expect tuple

Updating parameters and options:
  --label-add label\tAdd label
  --label-del label\tDelete label

Common parameters and options:
  -s, --src, --orig-src ip\t\tSource address from original direction
  -d, --dst, --orig-dst ip\t\tDestination address from original direction
  -r, --reply-src ip\t\tSource addres from reply direction
  -q, --reply-dst ip\t\tDestination address from reply direction
  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'
  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'
  -t, --timeout timeout\t\tSet timeout
  -u, --status status\t\tSet status, eg. ASSURED
  -w, --zone value\t\tSet conntrack zone
  --orig-zone value\t\tSet zone for original direction
  --reply-zone value\t\tSet zone for reply direction
  -b, --buffer-size\t\tNetlink socket buffer size
  --mask-src ip\t\t\tSource mask address
  --mask-dst ip\t\t\tDestination mask address

`;

interface Filter {
  l3: 4 | 6 | null;
  proto: number | null;
  origSrc: bigint | null;
  origDst: bigint | null;
  replySrc: bigint | null;
  replyDst: bigint | null;
  sport: number | null;
  dport: number | null;
  replySport: number | null;
  replyDport: number | null;
  state: number | null;
  mark: number | null;
  status: number | null;
}

class UsageError extends Error {}

/** inet_aton: `a`, `a.b`, `a.b.c`, `a.b.c.d`, each part decimal, octal or hex. */
function inetAton(s: string): number | null {
  const parts = s.split(".");
  if (parts.length > 4 || parts.some((p) => !/^(0x[0-9a-f]+|\d+)$/i.test(p))) return null;
  const nums = parts.map((p) =>
    /^0x/i.test(p) ? Number.parseInt(p, 16) : /^0\d/.test(p) ? Number.parseInt(p, 8) : Number(p),
  );
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return null;
  let v = 0;
  nums.forEach((n, i) => {
    v += n * 2 ** (8 * (3 - i));
  });
  return v + last;
}

function parseAddr(s: string, f: Filter): bigint {
  const v4 = inetAton(s);
  if (v4 !== null) {
    f.l3 = 4;
    return BigInt(v4);
  }
  try {
    const v6 = parseIpv6(s);
    f.l3 = 6;
    return v6;
  } catch {
    throw new UsageError(`Bad parameter \`${s}'`);
  }
}

function formatAddr(t: CtTuple, a: bigint): string {
  return t.l3 === 4 ? formatIpv4(Number(a)) : formatIpv6(a);
}

function protoName(n: number): string {
  return Object.entries(PROTO_NAMES).find(([, v]) => v === n)?.[0] ?? "unknown";
}

function tupleText(t: CtTuple): string {
  let s = `src=${formatAddr(t, t.src)} dst=${formatAddr(t, t.dst)} `;
  if (t.proto === 6 || t.proto === 17 || t.proto === 136 || t.proto === 132 || t.proto === 33) {
    s += `sport=${t.sport} dport=${t.dport} `;
  } else if ((t.l3 === 4 && t.proto === 1) || (t.l3 === 6 && t.proto === 58)) {
    s += `type=${t.type} code=${t.code} id=${t.sport} `;
  }
  return s;
}

/** One entry in conntrack's default output format (no newline). */
export function conntrackLine(net: NetNamespace, ct: NfConn, extended = false): string {
  const [o, r] = ct.tuple;
  let s = "";
  if (extended) s += `${(o.l3 === 4 ? "ipv4" : "ipv6").padEnd(8, " ")} ${o.l3 === 4 ? 2 : 10} `;
  s += `${protoName(o.proto).padEnd(8, " ")} ${o.proto} ${nfCtTimeoutSecs(net, ct)} `;
  if (o.proto === 6) s += `${TCP_STATE_NAMES[ct.tcpState]} `;
  s += tupleText(o);
  if (!(ct.status & IPS.SEEN_REPLY)) s += "[UNREPLIED] ";
  s += tupleText(r);
  if (ct.status & IPS.ASSURED) s += "[ASSURED] ";
  s += `mark=${ct.mark >>> 0} use=1`;
  return s;
}

function matches(ct: NfConn, f: Filter): boolean {
  const [o, r] = ct.tuple;
  if (f.l3 !== null && o.l3 !== f.l3) return false;
  if (f.proto !== null && o.proto !== f.proto) return false;
  if (f.origSrc !== null && o.src !== f.origSrc) return false;
  if (f.origDst !== null && o.dst !== f.origDst) return false;
  if (f.replySrc !== null && r.src !== f.replySrc) return false;
  if (f.replyDst !== null && r.dst !== f.replyDst) return false;
  if (f.sport !== null && o.sport !== f.sport) return false;
  if (f.dport !== null && o.dport !== f.dport) return false;
  if (f.replySport !== null && r.sport !== f.replySport) return false;
  if (f.replyDport !== null && r.dport !== f.replyDport) return false;
  if (f.state !== null && ct.tcpState !== f.state) return false;
  if (f.mark !== null && ct.mark >>> 0 !== f.mark) return false;
  if (f.status !== null && (ct.status & f.status) !== f.status) return false;
  return true;
}

const SHORT_ARG = new Set([
  "s",
  "d",
  "r",
  "q",
  "p",
  "f",
  "m",
  "u",
  "o",
  "t",
  "w",
  "n",
  "g",
  "j",
  "c",
  "e",
  "l",
  "b",
]);
const LONG_MAP: Readonly<Record<string, string>> = {
  dump: "L",
  delete: "D",
  flush: "F",
  count: "C",
  version: "V",
  help: "h",
  src: "s",
  "orig-src": "s",
  dst: "d",
  "orig-dst": "d",
  "reply-src": "r",
  "reply-dst": "q",
  protonum: "p",
  proto: "p",
  family: "f",
  mark: "m",
  status: "u",
  output: "o",
};
const PROTO_OPTS = new Set([
  "sport",
  "dport",
  "orig-port-src",
  "orig-port-dst",
  "reply-port-src",
  "reply-port-dst",
  "state",
]);

/** Runs `conntrack`; resolves to the exit code. */
export async function conntrackMain(ctx: ToolContext): Promise<number> {
  const fail = (msg: string): number => {
    ctx.err(`${VERSION}: ${msg}\nTry \`conntrack -h' or 'conntrack --help' for more information.\n`);
    return 2;
  };
  const f: Filter = {
    l3: null,
    proto: null,
    origSrc: null,
    origDst: null,
    replySrc: null,
    replyDst: null,
    sport: null,
    dport: null,
    replySport: null,
    replyDport: null,
    state: null,
    mark: null,
    status: null,
  };
  let command: string | null = null;
  let extended = false;
  const argv = ctx.argv;
  if (argv.length === 0) {
    ctx.out(HELP);
    return 0;
  }
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      let opt: string;
      let val: string | undefined;
      if (a.startsWith("--")) {
        const [name, inline] = a.slice(2).split("=", 2);
        if (PROTO_OPTS.has(name)) {
          if (f.proto !== 6 && f.proto !== 17 && f.proto !== 136 && f.proto !== 132 && f.proto !== 33) {
            return fail(`unknown option \`${a}'`);
          }
          if (name === "state" && f.proto !== 6) return fail(`unknown option \`${a}'`);
          const v = inline ?? argv[++i];
          if (v === undefined) return fail(`option \`${a}' requires an argument`);
          if (name === "state") {
            const st = TCP_STATE_NAMES.indexOf(v.toUpperCase() as (typeof TCP_STATE_NAMES)[number]);
            if (st < 0) return fail(`Bad parameter \`${v}'`);
            f.state = st;
            continue;
          }
          const port = Number(v);
          if (!/^\d+$/.test(v) || port > 65535) return fail(`Bad parameter \`${v}'`);
          if (name === "sport" || name === "orig-port-src") f.sport = port;
          else if (name === "dport" || name === "orig-port-dst") f.dport = port;
          else if (name === "reply-port-src") f.replySport = port;
          else f.replyDport = port;
          continue;
        }
        const short = LONG_MAP[name];
        if (!short) return fail(`unknown option \`${a}'`);
        opt = short;
        val = inline;
      } else if (a.startsWith("-") && a.length === 2) {
        opt = a[1];
      } else {
        // Table names after a command (conntrack, expect...) and stray words.
        if (command !== null && a === "conntrack") continue;
        return fail(`unknown option \`${a}'`);
      }
      if (SHORT_ARG.has(opt) && val === undefined) {
        val = argv[++i];
        if (val === undefined) return fail(`option \`${a}' requires an argument`);
      }
      switch (opt) {
        case "L":
        case "D":
        case "F":
        case "C":
        case "E":
        case "G":
        case "I":
        case "U":
        case "S":
          if (command !== null) return fail(`Invalid parameters`);
          command = opt;
          break;
        case "V":
          ctx.out(`${VERSION}\n`);
          return 0;
        case "h":
          ctx.out(HELP);
          return 0;
        case "s":
          f.origSrc = parseAddr(val!, f);
          break;
        case "d":
          f.origDst = parseAddr(val!, f);
          break;
        case "r":
          f.replySrc = parseAddr(val!, f);
          break;
        case "q":
          f.replyDst = parseAddr(val!, f);
          break;
        case "p": {
          const v = val!.toLowerCase();
          const n = PROTO_NAMES[v] ?? (/^\d+$/.test(v) ? Number(v) : undefined);
          if (n === undefined || n > 255) return fail(`\`${val}' unsupported protocol`);
          f.proto = n;
          break;
        }
        case "f":
          if (val === "ipv4") f.l3 = 4;
          else if (val === "ipv6") f.l3 = 6;
          else return fail(`\`${val}' unsupported protocol`);
          break;
        case "m": {
          const n = Number(val);
          if (!Number.isInteger(n)) return fail(`Bad parameter \`${val}'`);
          f.mark = n >>> 0;
          break;
        }
        case "u": {
          let st = 0;
          for (const w of val!.split(",")) {
            if (w === "ASSURED") st |= IPS.ASSURED;
            else if (w === "SEEN_REPLY") st |= IPS.SEEN_REPLY;
            else if (w !== "UNSET") return fail(`Bad parameter \`${w}'`);
          }
          f.status = st;
          break;
        }
        case "o":
          for (const w of val!.split(",")) {
            if (w === "extended") extended = true;
            else if (!["id", "timestamp", "ktimestamp", "labels", "userspace", "xml", "save"].includes(w)) {
              return fail(`Bad parameter \`${w}'`);
            }
          }
          break;
        case "t":
        case "w":
        case "n":
        case "g":
        case "j":
        case "c":
        case "e":
        case "l":
        case "b":
        case "z":
          break;
        default:
          return fail(`unknown option \`${a}'`);
      }
    }
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message);
    throw e;
  }
  const net = ctx.net;
  switch (command) {
    case null:
      return fail("no command specified");
    case "L": {
      const list = nfCtEntries(net).filter((ct) => matches(ct, f));
      let s = "";
      for (const ct of list) s += `${conntrackLine(net, ct, extended)}\n`;
      ctx.out(s);
      ctx.err(`${VERSION}: ${list.length} flow entries have been shown.\n`);
      return 0;
    }
    case "D": {
      const list = nfCtEntries(net).filter((ct) => matches(ct, f));
      let s = "";
      for (const ct of list) {
        s += `${conntrackLine(net, ct, extended)}\n`;
        nfCtDelete(net, ct);
      }
      ctx.out(s);
      ctx.err(`${VERSION}: ${list.length} flow entries have been deleted.\n`);
      return list.length > 0 ? 0 : 1;
    }
    case "F":
      nfCtFlush(net);
      ctx.err(`${VERSION}: connection tracking table has been emptied.\n`);
      return 0;
    case "C":
      ctx.out(`${nfCtEntries(net).length}\n`);
      return 0;
    default:
      return fail(`Operation not supported`);
  }
}
