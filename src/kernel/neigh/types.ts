/**
 * Constants of the neighbour subsystem (include/uapi/linux/neighbour.h, include/net/neighbour.h):
 * NUD states, NTF flags, neigh_update flags, and the per-device parameters (struct neigh_parms)
 * with their sysctl names and Linux defaults.
 */

/** Neighbour Unreachability Detection states (NUD_*), bit values as in Linux. */
export const NUD = {
  NONE: 0x00,
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
} as const;

/** One NUD state value. */
export type NudState = (typeof NUD)[keyof typeof NUD];

/** States whose entry has a running timer (NUD_IN_TIMER). */
export const NUD_IN_TIMER = NUD.INCOMPLETE | NUD.REACHABLE | NUD.DELAY | NUD.PROBE;
/** States with a usable link-layer address (NUD_VALID). */
export const NUD_VALID = NUD.PERMANENT | NUD.NOARP | NUD.REACHABLE | NUD.PROBE | NUD.STALE | NUD.DELAY;
/** States that need no confirmation before use (NUD_CONNECTED). */
export const NUD_CONNECTED = NUD.PERMANENT | NUD.NOARP | NUD.REACHABLE;

/** The text iproute2 prints for a single NUD state. */
export const NUD_NAMES: Readonly<Record<number, string>> = {
  0: "NONE",
  1: "INCOMPLETE",
  2: "REACHABLE",
  4: "STALE",
  8: "DELAY",
  16: "PROBE",
  32: "FAILED",
  64: "NOARP",
  128: "PERMANENT",
};

/** Neighbour entry flags (ndm_flags, NTF_*). */
export const NTF = {
  USE: 0x01,
  SELF: 0x02,
  MASTER: 0x04,
  PROXY: 0x08,
  EXT_LEARNED: 0x10,
  OFFLOADED: 0x20,
  STICKY: 0x40,
  ROUTER: 0x80,
} as const;

/** Extended flags (NDA_FLAGS_EXT, NTF_EXT_*). */
export const NTF_EXT = { MANAGED: 0x1, LOCKED: 0x2 } as const;

/** Flags of neigh_update (NEIGH_UPDATE_F_*). */
export const NEIGH_UPDATE_F = {
  /** A different lladdr replaces the known one. */
  OVERRIDE: 0x01,
  /** A different lladdr makes a connected entry STALE instead of being ignored. */
  WEAK_OVERRIDE: 0x02,
  /** The router flag may change (with ISROUTER giving the new value). */
  OVERRIDE_ISROUTER: 0x04,
  /** NTF_USE: behave as if a packet was sent. */
  USE: 0x08,
  MANAGED: 0x10,
  EXT_LEARNED: 0x20,
  ISROUTER: 0x40,
  /** Administrative change (netlink): may touch NOARP/PERMANENT entries. */
  ADMIN: 0x80,
} as const;

/** Netlink request flags that `ip neigh add|change|replace` map to (NLM_F_*). */
export interface NlRequestFlags {
  /** NLM_F_CREATE. */
  readonly create?: boolean;
  /** NLM_F_EXCL. */
  readonly excl?: boolean;
  /** NLM_F_REPLACE. */
  readonly replace?: boolean;
}

/**
 * struct neigh_parms as sysctl values: the name under `net.ipv4.neigh.<dev>.` (or ipv6) and the
 * Linux default. Times keep the sysctl unit of the name (`_ms` = ms, plain = seconds,
 * anycast_delay/proxy_delay/locktime = USER_HZ ticks of 10 ms).
 */
export const NEIGH_SYSCTL_DEFAULTS: Readonly<Record<string, number>> = {
  mcast_solicit: 3,
  ucast_solicit: 3,
  app_solicit: 0,
  mcast_resolicit: 0,
  retrans_time_ms: 1000,
  base_reachable_time_ms: 30000,
  delay_first_probe_time: 5,
  gc_stale_time: 60,
  unres_qlen_bytes: 212992,
  unres_qlen: 101,
  proxy_qlen: 64,
  anycast_delay: 100,
  proxy_delay: 80,
  locktime: 100,
  interval_probe_time_ms: 5000,
};

/** Table-wide sysctls that exist only as `net.ipv4.neigh.default.*` (gc thresholds). */
export const NEIGH_TABLE_SYSCTL_DEFAULTS: Readonly<Record<string, number>> = {
  gc_interval: 30,
  gc_thresh1: 128,
  gc_thresh2: 512,
  gc_thresh3: 1024,
};

/** The neighbour parameters of one device, in nanoseconds and counts (read live from sysctl). */
export interface NeighParms {
  readonly mcastProbes: number;
  readonly ucastProbes: number;
  readonly appProbes: number;
  readonly mcastReprobes: number;
  readonly retransTime: bigint;
  readonly baseReachableTime: bigint;
  readonly delayProbeTime: bigint;
  readonly gcStaleTime: bigint;
  readonly queueLenBytes: number;
  readonly locktime: bigint;
}
