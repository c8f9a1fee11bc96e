/**
 * The normalisation applied to every differential scenario output (real kernel and simulated)
 * before it is compared or recorded. It masks only values that depend on wall-clock timing (and
 * drops one error line caused by a race with other processes), so that two runs on the same
 * kernel agree; everything else must match byte for byte.
 *
 * Deliberately absent (the scenarios make them deterministic instead):
 * - ICMP echo identifiers: the pings whose identifier is printed (tcpdump, conntrack) fix it
 *   with `ping -e`.
 * - tcpdump timestamps: the scenarios read captures with `-t`.
 * - Neighbour states: the scenarios slow the neighbour timers down (REACHABLE lasts minutes,
 *   DELAY a minute), so REACHABLE/STALE/DELAY follow from the order of events alone.
 * - Orders of hash-table dumps (neighbours, conntrack): the scenarios sort them.
 * - Namespace names: the scenarios print them without their run-unique prefix.
 *
 * Usage as a filter (record.sh): `node_modules/.bin/tsx test/differential/normalize.ts <raw >normalised`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One rule: what it replaces and why that text differs from run to run. */
export interface NormalizationRule {
  /** Short name, for reports. */
  readonly name: string;
  /** Why the value differs from run to run. */
  readonly why: string;
  /** Global (and, for line anchors, multiline) pattern. */
  readonly pattern: RegExp;
  /** Replacement (may refer to groups). */
  readonly replacement: string;
}

/** The rules, applied in order. Keep this list short: each entry hides a possible difference. */
export const NORMALIZATION_RULES: readonly NormalizationRule[] = [
  {
    name: "ping round-trip time",
    why: "`64 bytes from ...: icmp_seq=1 ttl=64 time=0.061 ms` is measured wall-clock time",
    pattern: /\btime=\d+(?:\.\d+)? ms$/gm,
    replacement: "time=<rtt> ms",
  },
  {
    name: "ping total time",
    why: "`2 packets transmitted, ..., time 203ms` is the wall-clock time from the first to the last send (-i0.2 plus scheduling delays)",
    pattern: /^(\d+ packets transmitted, .*, time )\d+ms$/gm,
    replacement: "$1<t>ms",
  },
  {
    name: "ping rtt summary",
    why: "`rtt min/avg/max/mdev = 0.061/0.084/0.107/0.023 ms` summarises measured round-trip times",
    pattern: /^rtt min\/avg\/max\/mdev = [\d./]+ ms$/gm,
    replacement: "rtt min/avg/max/mdev = <rtt> ms",
  },
  {
    name: "conntrack timeout",
    why: "`icmp     1 29 src=...`: the third field is the seconds left until the entry expires, counting down in wall-clock time since its last packet",
    pattern: /^([a-z0-9]+ +\d+ )\d+ (?=(?:[A-Z_]+ )?src=)/gm,
    replacement: "$1<ttl> ",
  },
  {
    name: "iproute2 netns name lookup race",
    why: "to print `link-netns NAME`, ip asks the kernel about every namespace in /run/netns; one that another process is deleting at that moment (already unmounted, not yet unlinked) makes it print this error; real runs only",
    pattern: /^\[stderr\] Error: Peer netns reference is invalid\.\n/gm,
    replacement: "",
  },
];

/** Applies {@link NORMALIZATION_RULES} to a scenario's output. */
export function normalize(text: string): string {
  let out = text;
  for (const rule of NORMALIZATION_RULES) out = out.replace(rule.pattern, rule.replacement);
  return out;
}

// As a filter: stdin -> stdout.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(normalize(readFileSync(0, "utf8")));
}
