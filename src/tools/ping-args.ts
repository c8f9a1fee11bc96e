/**
 * Command line of iputils ping 20221126: getopt-style options (anywhere on the line), their
 * number parsing and error messages, and the destination's family and scope.
 */

/** `-M` values. */
export type PmtuMode = "do" | "dont" | "want" | "probe";

/** Parsed ping options. */
export interface PingOptions {
  /** -4 / -6; null: from the destination. */
  family: 4 | 6 | null;
  /** -c: stop after this many replies (0: no limit). */
  count: number;
  /** -i in milliseconds. */
  intervalMs: number;
  /** -W in milliseconds (lingertime: how long to wait after the last probe when nothing came back). */
  lingerMs: number;
  /** -w in milliseconds, or 0. */
  deadlineMs: number;
  /** -b. */
  broadcast: boolean;
  /** -I: device name or address. */
  iface: string | null;
  /** -s. */
  size: number;
  /** -M. */
  pmtu: PmtuMode | null;
  /** -t. */
  ttl: number | null;
  /** -Q. */
  tos: number;
  /** -m. */
  mark: number;
  /** -e: the ICMP echo identifier (null: the kernel picks one). */
  ident: number | null;
  quiet: boolean;
  numeric: boolean;
  verbose: boolean;
  /** -D: time stamps before reply lines. */
  timestamps: boolean;
  /** -O: report outstanding replies. */
  outstanding: boolean;
  /** The destination as typed. */
  target: string;
}

/** The usage text iputils prints for a bad option (to stderr, exit 2). */
export const PING_USAGE = `
Usage
  ping [options] <destination>

Options:
  <destination>      dns name or ip address
  -a                 use audible ping
  -A                 use adaptive ping
  -B                 sticky source address
  -c <count>         stop after <count> replies
  -C                 call connect() syscall on socket creation
  -D                 print timestamps
  -d                 use SO_DEBUG socket option
  -e <identifier>    define identifier for ping session, default is random for
                     SOCK_RAW and kernel defined for SOCK_DGRAM
                     Imply using SOCK_RAW (for IPv4 only for identifier 0)
  -f                 flood ping
  -h                 print help and exit
  -I <interface>     either interface name or address
  -i <interval>      seconds between sending each packet
  -L                 suppress loopback of multicast packets
  -l <preload>       send <preload> number of packages while waiting replies
  -m <mark>          tag the packets going out
  -M <pmtud opt>     define mtu discovery, can be one of <do|dont|want>
  -n                 no dns name resolution
  -O                 report outstanding replies
  -p <pattern>       contents of padding byte
  -q                 quiet output
  -Q <tclass>        use quality of service <tclass> bits
  -s <size>          use <size> as number of data bytes to be sent
  -S <size>          use <size> as SO_SNDBUF socket option value
  -t <ttl>           define time to live
  -U                 print user-to-user latency
  -v                 verbose output
  -V                 print version and exit
  -w <deadline>      reply wait <deadline> in seconds
  -W <timeout>       time to wait for response

IPv4 options:
  -4                 use IPv4
  -b                 allow pinging broadcast
  -R                 record route
  -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>

IPv6 options:
  -6                 use IPv6
  -F <flowlabel>     define flow label, default is random
  -N <nodeinfo opt>  use icmp6 node info query, try <help> as argument

For more details see ping(8).
`;

/** `ping -V`. */
export const PING_VERSION =
  "ping from iputils 20221126\nlibcap: yes, IDN: yes, NLS: no, error.h: yes, getrandom(): yes, __fpending(): yes\n";

const WITH_ARG = new Set([
  "c",
  "e",
  "F",
  "I",
  "i",
  "l",
  "m",
  "M",
  "N",
  "p",
  "Q",
  "s",
  "S",
  "t",
  "T",
  "w",
  "W",
]);
const LLONG_MAX = "9223372036854775807";

/** An exit with a message (printed by the caller to stderr). */
export class PingExit {
  readonly code: number;
  readonly stderr: string;
  readonly stdout: string;

  constructor(code: number, stderr: string, stdout = "") {
    this.code = code;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

/** strtol_or_err: a whole integer in [min, max]. */
function integer(arg: string, min: number, max: number, maxText = String(max)): number {
  if (!/^\s*[+-]?\d+$/.test(arg)) throw new PingExit(1, `ping: invalid argument: '${arg}'\n`);
  const n = Number(arg);
  if (n < min || n > max)
    throw new PingExit(1, `ping: invalid argument: '${arg}': out of range: ${min} <= value <= ${maxText}\n`);
  return n;
}

/** ping_strtod: a float; trailing garbage only warns (with the value of the numeric prefix). */
function seconds(arg: string, warn: (s: string) => void): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(arg);
  if (!m) {
    warn(
      `ping: option argument contains garbage: ${arg}\nping: this will become fatal error in the future\n`,
    );
    return 0;
  }
  if (m[0].length !== arg.length) {
    warn(
      `ping: option argument contains garbage: ${arg.slice(m[0].length)}\nping: this will become fatal error in the future\n`,
    );
  }
  return Number(m[0]);
}

/** Parses ping's arguments; throws PingExit for what ends the program before it starts. */
export function parsePingArgs(argv: readonly string[], warn: (s: string) => void): PingOptions {
  const o: PingOptions = {
    family: null,
    count: 0,
    intervalMs: 1000,
    lingerMs: 10000,
    deadlineMs: 0,
    broadcast: false,
    iface: null,
    size: 56,
    pmtu: null,
    ttl: null,
    tos: 0,
    mark: 0,
    ident: null,
    quiet: false,
    numeric: false,
    verbose: false,
    timestamps: false,
    outstanding: false,
    target: "",
  };
  const operands: string[] = [];
  const apply = (c: string, arg: string) => {
    switch (c) {
      case "c":
        o.count = integer(arg, 1, Number.MAX_SAFE_INTEGER, LLONG_MAX);
        break;
      case "i": {
        const s = seconds(arg, warn);
        if (!(s >= 0)) throw new PingExit(2, `ping: bad timing interval: ${arg}\n`);
        o.intervalMs = Math.round(s * 1000);
        break;
      }
      case "W": {
        const s = seconds(arg, warn);
        if (!(s >= 0) || s > 2147483) throw new PingExit(2, `ping: bad linger time: ${arg}\n`);
        o.lingerMs = Math.round(s * 1000);
        break;
      }
      case "w": {
        if (!/^\s*\d+(\.\d*)?$/.test(arg)) throw new PingExit(1, `ping: invalid argument: '${arg}'\n`);
        o.deadlineMs = Math.round(Number(arg) * 1000);
        break;
      }
      case "s":
        o.size = integer(arg, 0, 2147483647);
        break;
      case "t":
        o.ttl = integer(arg, 0, 255);
        break;
      case "I":
        o.iface = arg;
        break;
      case "M":
        if (arg !== "do" && arg !== "dont" && arg !== "want" && arg !== "probe") {
          throw new PingExit(2, `ping: invalid -M argument: ${arg}\n`);
        }
        o.pmtu = arg;
        break;
      case "Q":
        o.tos = integer(arg, 0, 255);
        break;
      case "m":
        o.mark = integer(arg, 0, 0xffffffff);
        break;
      case "e":
        // iputils: strtoul_or_err(optarg, ..., 0, IDENTIFIER_MAX), IDENTIFIER_MAX = 0xffff
        o.ident = integer(arg, 0, 0xffff);
        break;
      default:
        // -F -l -N -p -S -T: accepted, no effect here
        break;
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (WITH_ARG.has(c)) {
        const arg = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (arg === undefined)
          throw new PingExit(2, `ping: option requires an argument -- '${c}'\n${PING_USAGE}`);
        apply(c, arg);
        break;
      }
      switch (c) {
        case "4":
          o.family = 4;
          break;
        case "6":
          o.family = 6;
          break;
        case "b":
          o.broadcast = true;
          break;
        case "q":
          o.quiet = true;
          break;
        case "n":
          o.numeric = true;
          break;
        case "v":
          o.verbose = true;
          break;
        case "D":
          o.timestamps = true;
          break;
        case "O":
          o.outstanding = true;
          break;
        case "V":
          throw new PingExit(0, "", PING_VERSION);
        case "h":
        case "?":
          throw new PingExit(2, PING_USAGE);
        case "a":
        case "A":
        case "B":
        case "C":
        case "d":
        case "L":
        case "U":
        case "R":
        case "r":
        case "f":
          break;
        default:
          throw new PingExit(2, `ping: invalid option -- '${c}'\n${PING_USAGE}`);
      }
    }
  }
  if (operands.length === 0) throw new PingExit(1, "ping: usage error: Destination address required\n");
  if (operands.length > 1) throw new PingExit(2, "ping: record route: Operation not permitted\n");
  o.target = operands[0]!;
  return o;
}
