/** The global options of `ip` (ip/ip.c main) that the objects consult. */

/** Address families as iproute2 numbers them (preferred_family). */
export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10, PACKET: 17, MPLS: 28 } as const;

/** Options in effect for one command. */
export interface IpOptions {
  /** -4/-6/-0/-f: preferred_family. */
  family: number;
  /** -d (count). */
  details: number;
  /** -s (count). */
  stats: number;
  /** -j. */
  json: boolean;
  /** -p. */
  pretty: boolean;
  /** -o. */
  oneline: boolean;
  /** -br. */
  brief: boolean;
  /** -r. */
  resolve: boolean;
  /** -N. */
  numeric: boolean;
  /** -force (batch continues after errors). */
  force: boolean;
  /** -a (all namespaces, for `ip -all netns`). */
  all: boolean;
  /** -h (human readable stats). */
  human: boolean;
}

/** The defaults before any option. */
export function defaultOptions(): IpOptions {
  return {
    family: AF.UNSPEC,
    details: 0,
    stats: 0,
    json: false,
    pretty: false,
    oneline: false,
    brief: false,
    resolve: false,
    numeric: false,
    force: false,
    all: false,
    human: false,
  };
}
