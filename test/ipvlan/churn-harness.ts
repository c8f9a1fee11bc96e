/**
 * Randomised address churn on one ipvlan port (the idea of the kernel selftest ipvtap_test.sh,
 * made deterministic): one master, slaves spread over namespaces (and some beside the master),
 * a seeded PRNG drives address adds/deletes from small pools (so collisions are frequent), slave
 * down/up, namespace moves, delete-and-recreate, mode/flag changes and the master's own
 * addresses. After every operation the port is checked against the IP stacks:
 *
 *   1. no address is listed by two slaves of the port (any namespace, up or down);
 *   2. every slave's ipvlan list equals the addresses its IP stacks hold (IPv4 keyed on
 *      ifa_address, IPv6 all addresses), and the port's slave list is the live slaves;
 *   3. the hash table holds exactly the listed addresses of the running slaves (size and
 *      identity), and nothing of a stopped slave;
 *   4. every add had the outcome a model predicts: EEXIST from the IP layer for its own
 *      duplicate, else EADDRINUSE with the extack text when any slave of the port lists the key,
 *      else success; adds on the master are never refused by ipvlan;
 *   5. a frame injected on the master for every pool address (and every hashed one) is steered
 *      to the owning slave and to no other (L2/L3: rx_handler steering; L3S: the master's IP
 *      layer diversion, for keys the owner's namespace treats as local).
 *
 * Everything is a function of the seed: the same seed gives the same trace hash.
 * Test support (used by test/ipvlan/churn.test.ts and scripts/soak-churn.ts), not public API.
 * @module
 */
import {
  bootKernel,
  devChangeNetNamespace,
  devClose,
  devOpen,
  IFA_F,
  inet6AddrAdd,
  inet6AddrDel,
  inetAddrAdd,
  inetAddrDel,
  inetAddrList,
  ipv4Init,
  ipv6DevAddrs,
  ipv6Init,
  type Kernel,
  KernelError,
  NSEC_PER_MSEC,
  NSEC_PER_SEC,
  type NetDevice,
  type NetNamespace,
  netnsAdd,
  rtnlDelLink,
  rtnlNewLink,
  rtnlSetLink,
} from "../../src/kernel/index.ts";
import { type IpvlDev, type IpvlPort, ipvlanInit, ipvlanPortGet } from "../../src/ipvlan/index.ts";
import { IPVL_IPV4, IPVL_IPV6 } from "../../src/ipvlan/consts.ts";
import { addWire, MAC_M, udp4Frame, udp6Frame, type WireDevice } from "../../src/ipvlan/testing.ts";
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "../../src/wire/index.ts";
import { below, createRng, type Rng } from "../../src/wire/test-mutate.ts";

/** The extack ipvlan's validators attach to a refused duplicate. */
export const IPVLAN_DUP_EXTACK = "Address already assigned to an ipvlan device";

/** Options of one churn run. */
export interface ChurnOptions {
  readonly seed: number;
  /** Number of random operations. */
  readonly ops: number;
  /** Slaves that start in a namespace of their own (default 16). */
  readonly nsSlaves?: number;
  /** Slaves that start beside the master (default 4). */
  readonly rootSlaves?: number;
  /** Run the demux check every N operations (default 1: after every one; 0: never). */
  readonly demuxEvery?: number;
  /** Keep this many recent operations for the failure report (default 25). */
  readonly history?: number;
  /** Called every `progressEvery` operations with the number done (for long runs). */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
}

/** Per operation kind: how often it ran and how each outcome ended. */
export type OutcomeCounts = Record<string, Record<string, number>>;

/** What a run did (printed as JSON by scripts/soak-churn.ts). */
export interface ChurnSummary {
  readonly seed: number;
  readonly ops: number;
  /** FNV-1a over the operation trace: equal seeds give equal hashes. */
  readonly traceHash: string;
  readonly outcomes: OutcomeCounts;
  /** Invariant evaluations (one per operation) and demux frames injected. */
  readonly checks: number;
  readonly demuxFrames: number;
  /** Largest number of addresses hashed at once, and addresses refused as duplicates. */
  readonly maxHashed: number;
  readonly virtualSeconds: number;
}

/** An invariant failed: carries the seed, the step and the operations that led there. */
export class ChurnViolation extends Error {
  readonly seed: number;
  readonly step: number;

  constructor(seed: number, step: number, what: string, recent: readonly string[]) {
    super(
      `churn invariant violated (seed ${seed}, step ${step}): ${what}\n` +
        `  reproduce: node dist/scripts/soak-churn.js ${seed} ${step + 1}\n` +
        `  last operations:\n${recent.map((r) => `    ${r}`).join("\n")}`,
    );
    this.name = "ChurnViolation";
    this.seed = seed;
    this.step = step;
  }
}

const MODES = ["l2", "l3", "l3s"] as const;
const FLAGS = ["bridge", "private", "vepa"] as const;
/** A source outside every pool, inside the pools' IPv4 subnet (connected route in the slaves). */
const PROBE_SRC4 = parseIpv4("10.0.0.250");
const PROBE_SRC6 = parseIpv6("2001:db8::fe");
/** MAC of nobody: L2/L3 steering ignores it, the receiving IP layer drops it as OTHERHOST. */
const OTHER_MAC = 0x02_00_00_00_99_99;

/** The IPv6 link-local ipvlan's EUI-64 gives the slave with dev_id `id` (master MAC 02:00:00:00:00:02). */
export function slaveLinkLocal(devId: number): bigint {
  return (0xfe80n << 112n) | (0x0200_0000n << 32n) | (BigInt(devId & 0xffff) << 24n) | 0x0002n;
}

function fnv1a(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Writes a wrong, non-zero UDP checksum so the receiving stack drops the probe silently. */
function spoilUdpChecksum(frame: Uint8Array, udpOff: number): Uint8Array {
  const c = ((frame[udpOff + 6] << 8) | frame[udpOff + 7]) ^ 0x5a5a;
  frame[udpOff + 6] = (c || 1) >>> 8;
  frame[udpOff + 7] = c || 1;
  return frame;
}

function keyText(ip: number | bigint): string {
  return typeof ip === "bigint" ? formatIpv6(ip) : formatIpv4(ip);
}

/** The churn world: kernel, master, namespaces, live slaves, pools. */
class World {
  readonly k: Kernel;
  readonly master: WireDevice;
  readonly root: NetNamespace;
  readonly spaces: NetNamespace[] = [];
  readonly slaves: IpvlDev[] = [];
  readonly pool4: number[] = [];
  readonly pool6: bigint[] = [];
  mode = 0;
  flags = 0;
  #nameSeq = 0;

  constructor(seed: number, nsSlaves: number, rootSlaves: number) {
    const k = bootKernel({ seed });
    ipv4Init(k);
    ipv6Init(k);
    ipvlanInit(k);
    this.k = k;
    this.root = k.initNet;
    devOpen(this.root.loopback);
    this.master = addWire(this.root, "eth0", MAC_M);
    inetAddrAdd(this.master, { local: parseIpv4("10.0.0.2"), prefixLen: 24 });
    for (let i = 0; i < 12; i++) this.pool4.push(parseIpv4(`10.0.0.${10 + i}`));
    for (let i = 0; i < 12; i++) this.pool6.push(parseIpv6(`2001:db8::${(0x10 + i).toString(16)}`));
    // The link-locals of the first dev_ids: a user may take one, the autoconf of its owner then collides.
    for (let id = 1; id <= 6; id++) this.pool6.push(slaveLinkLocal(id));
    for (let i = 0; i < nsSlaves; i++) {
      const net = netnsAdd(k, `ns${i}`);
      devOpen(net.loopback);
      this.spaces.push(net);
    }
    for (let i = 0; i < nsSlaves + rootSlaves; i++) {
      const net = i < nsSlaves ? this.spaces[i] : this.root;
      const dev = this.create(net, i % 5 === 4 ? "ipvtap" : "ipvlan");
      devOpen(dev);
    }
    k.loop.runUntil(k.now + 2n * NSEC_PER_SEC);
  }

  get port(): IpvlPort | null {
    return ipvlanPortGet(this.master);
  }

  /** `ip link add NAME link eth0 [netns NS] type ipvlan mode M FLAG`. */
  create(net: NetNamespace, kind: "ipvlan" | "ipvtap"): IpvlDev {
    const name = `s${this.#nameSeq++}`;
    const dev = rtnlNewLink(this.root, {
      kind,
      name,
      link: this.master,
      ...(net === this.root ? {} : { netns: net }),
      infoData: { mode: this.mode, flags: this.flags },
    }) as IpvlDev;
    this.slaves.push(dev);
    return dev;
  }

  /** Every namespace a slave may live in. */
  get places(): NetNamespace[] {
    return [this.root, ...this.spaces];
  }
}

/** The IPv4 keys ipvlan should list for a device: ifa_address of every IPv4 address. */
function stackKeys4(dev: NetDevice): number[] {
  return inetAddrList(dev.netns, dev).map((a) => a.address >>> 0);
}

function stackKeys6(dev: NetDevice): bigint[] {
  return ipv6DevAddrs(dev).map((a) => a.addr);
}

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x)) && s.size === a.length;
}

/** Runs one churn; throws ChurnViolation on the first broken invariant. */
export function runChurn(options: ChurnOptions): ChurnSummary {
  const seed = options.seed;
  const rng: Rng = createRng(seed ^ 0x5eed);
  const w = new World(seed, options.nsSlaves ?? 16, options.rootSlaves ?? 4);
  const k = w.k;
  const demuxEvery = options.demuxEvery ?? 1;
  const keep = options.history ?? 25;
  const recent: string[] = [];
  const outcomes: OutcomeCounts = {};
  let hash = 0x811c9dc5;
  let step = 0;
  let checks = 0;
  let demuxFrames = 0;
  let maxHashed = 0;

  const fail = (what: string): never => {
    throw new ChurnViolation(seed, step, what, recent);
  };
  const record = (op: string, outcome: string, detail: string): void => {
    const line = `#${step} ${op} ${detail} -> ${outcome}`;
    recent.push(line);
    if (recent.length > keep) recent.shift();
    hash = fnv1a(hash, line);
    const o = (outcomes[op] ??= {});
    o[outcome] = (o[outcome] ?? 0) + 1;
  };
  const pick = <T>(items: readonly T[]): T => items[below(rng, items.length)];
  const chance = (pct: number): boolean => below(rng, 100) < pct;

  /** Which slave of the port lists `ip` in its ipvlan list (several = already a violation). */
  const listedBy = (ip: number | bigint): IpvlDev[] =>
    w.slaves.filter((s) =>
      s.addrs.some((a) =>
        typeof ip === "bigint"
          ? a.atype === IPVL_IPV6 && a.ip6 === ip
          : a.atype === IPVL_IPV4 && a.ip4 === ip,
      ),
    );

  /** Runs an address add and checks its outcome against the model. */
  const checkedAdd = (
    op: string,
    dev: NetDevice,
    key: number | bigint,
    ownDup: boolean,
    add: () => void,
  ): void => {
    const isSlave = w.slaves.includes(dev as IpvlDev);
    const busy = isSlave && listedBy(key).length > 0;
    const want = ownDup ? "EEXIST" : busy ? "EADDRINUSE" : "ok";
    let got = "ok";
    try {
      add();
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      got = e.code;
      if (e.code === "EADDRINUSE" && e.extack !== IPVLAN_DUP_EXTACK) {
        fail(`${op} ${keyText(key)} on ${dev.name}: EADDRINUSE with extack ${JSON.stringify(e.extack)}`);
      }
    }
    record(op, got, `${dev.name} ${keyText(key)}`);
    if (got !== want) fail(`${op} ${keyText(key)} on ${dev.name}: got ${got}, the model expects ${want}`);
  };

  /** Anything but a violation escaping the kernel is one too (with the seed and the trace). */
  const guarded = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ChurnViolation) throw e;
      fail(`${what} threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  };

  const ops: readonly [number, string, () => void][] = [
    [
      26,
      "addr4.add",
      () => {
        const dev = pick(w.slaves);
        const ip = pick(w.pool4);
        // A point-to-point address: ipvlan keys on the peer (ifa_address), not the local side.
        const peer = chance(10);
        const local = peer ? pick(w.pool4) : ip;
        const prefixLen = peer ? 32 : 24;
        const mask = prefixLen === 32 ? 0xffffffff : 0xffffff00;
        const ownDup = inetAddrList(dev.netns, dev).some(
          (a) => a.local === local && a.prefixLen === prefixLen && ((a.address ^ ip) & mask) >>> 0 === 0,
        );
        checkedAdd(peer ? "addr4.add-peer" : "addr4.add", dev, ip, ownDup, () =>
          inetAddrAdd(dev, { local, address: ip, prefixLen }),
        );
      },
    ],
    [
      13,
      "addr4.del",
      () => {
        const dev = pick(w.slaves);
        const have = inetAddrList(dev.netns, dev);
        const a = have.length > 0 && !chance(15) ? pick(have) : null;
        const local = a ? a.local : pick(w.pool4);
        let got = "ok";
        try {
          inetAddrDel(dev, { local });
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
          got = e.code;
        }
        record("addr4.del", got, `${dev.name} ${formatIpv4(local)}`);
        if ((got === "ok") !== (a !== null || have.some((x) => x.local === local))) {
          fail(`addr4.del ${formatIpv4(local)} on ${dev.name}: unexpected ${got}`);
        }
      },
    ],
    [
      20,
      "addr6.add",
      () => {
        const dev = pick(w.slaves);
        const ip = pick(w.pool6);
        const ownDup = stackKeys6(dev).includes(ip);
        const flags = chance(75) ? IFA_F.NODAD : 0;
        checkedAdd(flags ? "addr6.add-nodad" : "addr6.add-dad", dev, ip, ownDup, () =>
          inet6AddrAdd(dev, { addr: ip, prefixLen: 64, flags }),
        );
      },
    ],
    [
      10,
      "addr6.del",
      () => {
        const dev = pick(w.slaves);
        const have = stackKeys6(dev);
        const ip = have.length > 0 && !chance(15) ? pick(have) : pick(w.pool6);
        let got = "ok";
        try {
          inet6AddrDel(dev, ip);
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
          got = e.code;
        }
        record("addr6.del", got, `${dev.name} ${formatIpv6(ip)}`);
        if ((got === "ok") !== have.includes(ip))
          fail(`addr6.del ${formatIpv6(ip)} on ${dev.name}: unexpected ${got}`);
      },
    ],
    [
      10,
      "link.updown",
      () => {
        const dev = pick(w.slaves);
        const up = !dev.isUp;
        if (up) devOpen(dev);
        else devClose(dev);
        record("link.updown", up ? "up" : "down", dev.name);
      },
    ],
    [
      6,
      "link.netns",
      () => {
        const dev = pick(w.slaves);
        const to = pick(w.places.filter((n) => n !== dev.netns));
        devChangeNetNamespace(dev, to);
        if (chance(60)) devOpen(dev);
        record("link.netns", dev.isUp ? "up" : "down", `${dev.name} -> ${to.name ?? "root"}`);
      },
    ],
    [
      5,
      "link.recreate",
      () => {
        const old = pick(w.slaves);
        const net = chance(50) ? old.netns : pick(w.places);
        rtnlDelLink(old);
        w.slaves.splice(w.slaves.indexOf(old), 1);
        const dev = w.create(net, chance(20) ? "ipvtap" : "ipvlan");
        if (chance(75)) devOpen(dev);
        record(
          "link.recreate",
          dev.kind,
          `${old.name} -> ${dev.name}@${net.name ?? "root"} devId=${dev.devId}`,
        );
      },
    ],
    [
      4,
      "link.mode",
      () => {
        const dev = pick(w.slaves);
        const mode = below(rng, 3);
        const flags = below(rng, 3);
        rtnlSetLink(dev, { kind: dev.kind, infoData: { mode, flags } });
        w.mode = mode;
        w.flags = flags;
        record("link.mode", `${MODES[mode]} ${FLAGS[flags]}`, dev.name);
      },
    ],
    [
      6,
      "master.addr",
      () => {
        const m = w.master;
        if (chance(60)) {
          const v6 = chance(40);
          const ip = v6 ? pick(w.pool6) : pick(w.pool4);
          const ownDup =
            typeof ip === "bigint"
              ? stackKeys6(m).includes(ip)
              : inetAddrList(w.root, m).some((a) => a.local === ip && a.prefixLen === 24);
          checkedAdd(v6 ? "master.addr6.add" : "master.addr4.add", m, ip, ownDup, () =>
            typeof ip === "bigint"
              ? inet6AddrAdd(m, { addr: ip, prefixLen: 64, flags: IFA_F.NODAD })
              : inetAddrAdd(m, { local: ip, prefixLen: 24 }),
          );
        } else {
          const v4 = inetAddrList(w.root, m).filter((a) => a.local !== parseIpv4("10.0.0.2"));
          const v6 = stackKeys6(m);
          if (v4.length + v6.length === 0) {
            record("master.addr.del", "none", m.name);
            return;
          }
          const i = below(rng, v4.length + v6.length);
          if (i < v4.length) inetAddrDel(m, { local: v4[i].local });
          else inet6AddrDel(m, v6[i - v4.length]);
          record(
            "master.addr.del",
            "ok",
            i < v4.length ? formatIpv4(v4[i].local) : formatIpv6(v6[i - v4.length]),
          );
        }
      },
    ],
  ];
  const totalWeight = ops.reduce((n, [wt]) => n + wt, 0);

  const checkInvariants = (): void => {
    checks++;
    const port = w.port;
    if (w.slaves.length === 0) {
      if (port !== null) fail("the port outlived its last slave");
      return;
    }
    if (port === null) {
      fail("slaves exist but the master has no port");
      return;
    }
    if (port.count !== w.slaves.length || !sameSet(port.ipvlans, w.slaves)) {
      fail(
        `port lists ${port.ipvlans.map((s) => s.name)} (count ${port.count}), live: ${w.slaves.map((s) => s.name)}`,
      );
    }
    const owner = new Map<number | bigint, string>();
    let hashed = 0;
    for (const s of w.slaves) {
      if (s.port !== port) fail(`${s.name} points at another port`);
      // (2) ipvlan's list mirrors the IP stacks.
      const v4 = s.addrs.filter((a) => a.atype === IPVL_IPV4).map((a) => a.ip4);
      const v6 = s.addrs.filter((a) => a.atype === IPVL_IPV6).map((a) => a.ip6);
      if (!sameSet(v4, stackKeys4(s))) {
        fail(`${s.name}: ipvlan lists ${v4.map(formatIpv4)}, IPv4 holds ${stackKeys4(s).map(formatIpv4)}`);
      }
      if (!sameSet(v6, stackKeys6(s))) {
        fail(`${s.name}: ipvlan lists ${v6.map(formatIpv6)}, IPv6 holds ${stackKeys6(s).map(formatIpv6)}`);
      }
      for (const a of s.addrs) {
        const key = a.atype === IPVL_IPV4 ? a.ip4 : a.ip6;
        // (1) unique across the port.
        const prev = owner.get(key);
        if (prev !== undefined) fail(`${keyText(key)} is listed by ${prev} and ${s.name}`);
        owner.set(key, s.name);
        // (3) hashed exactly while the slave runs, and the table entry is this very address.
        const inTable = a.atype === IPVL_IPV4 ? port.table.get4(a.ip4) : port.table.get6(a.ip6);
        if (s.isUp) {
          hashed++;
          if (!a.hashed || inTable !== a) fail(`${keyText(key)} of running ${s.name} is not hashed to it`);
        } else if (a.hashed || inTable !== null) {
          fail(`${keyText(key)} of stopped ${s.name} is still hashed`);
        }
      }
    }
    if (port.table.size !== hashed)
      fail(`table holds ${port.table.size} addresses, running slaves list ${hashed}`);
    maxHashed = Math.max(maxHashed, hashed);
  };

  /** Which slaves' rx_packets moved while `fn` ran. */
  const rxMoved = (fn: () => void): IpvlDev[] => {
    const before = w.slaves.map((s) => s.stats.rxPackets);
    fn();
    return w.slaves.filter((s, i) => s.stats.rxPackets !== before[i]);
  };

  const probes = new Map<string, Uint8Array>();
  /** A UDP probe for `key` (cached): to the master's MAC in L3S, else to a MAC nobody has. */
  const probeFrame = (key: number | bigint, l3s: boolean): Uint8Array => {
    const id = `${l3s ? "h" : "o"}${key}`;
    let frame = probes.get(id);
    if (frame === undefined) {
      // L3S diverts inside the master's IP layer: the frame must look like it is for this host.
      const dstMac = l3s ? MAC_M : OTHER_MAC;
      const srcMac = 0x02_00_00_00_77_77;
      frame =
        typeof key === "bigint"
          ? spoilUdpChecksum(udp6Frame({ dstMac, srcMac, src: PROBE_SRC6, dst: key }), 54)
          : spoilUdpChecksum(udp4Frame({ dstMac, srcMac, src: PROBE_SRC4, dst: key }), 34);
      probes.set(id, frame);
    }
    return frame;
  };

  const checkDemux = (): void => {
    const port = w.port;
    if (port === null) return;
    const l3s = port.mode === 2;
    const keys = new Set<number | bigint>([...w.pool4, ...w.pool6]);
    for (const s of w.slaves) for (const a of s.addrs) keys.add(a.atype === IPVL_IPV4 ? a.ip4 : a.ip6);
    for (const key of keys) {
      const owners = listedBy(key);
      const owner = owners.length === 1 && owners[0].isUp ? owners[0] : null;
      // L3S diverts inside the master's IP layer: the frame must look like it is for this host.
      const frame = probeFrame(key, l3s);
      demuxFrames++;
      const name = keyText(key);
      let moved: IpvlDev[] = [];
      guarded(`the demux probe for ${name}`, () => {
        moved = rxMoved(() => {
          w.master.inject(frame.slice());
          k.loop.settle();
        });
      });
      if (moved.some((s) => s !== owner)) {
        fail(
          `a frame for ${name} reached ${moved.map((s) => s.name)}, owner ${owner?.name ?? "none (unhashed)"}`,
        );
      }
      if (owner !== null && moved.length === 0 && (!l3s || l3sLocal(owner, key))) {
        fail(`a frame for ${name} did not reach its owner ${owner.name} (mode ${MODES[port.mode]})`);
      }
    }
  };

  checkInvariants();
  for (step = 0; step < options.ops; step++) {
    let r = below(rng, totalWeight);
    for (const [wt, name, fn] of ops) {
      if (r < wt) {
        guarded(name, fn);
        break;
      }
      r -= wt;
    }
    guarded("the event loop", () => k.loop.runUntil(k.now + 10n * NSEC_PER_MSEC));
    checkInvariants();
    if (demuxEvery > 0 && step % demuxEvery === 0) checkDemux();
    if (options.onProgress && (step + 1) % (options.progressEvery ?? 100_000) === 0)
      options.onProgress(step + 1);
  }
  return {
    seed,
    ops: options.ops,
    traceHash: hash.toString(16).padStart(8, "0"),
    outcomes,
    checks,
    demuxFrames,
    maxHashed,
    virtualSeconds: Number(k.now / NSEC_PER_MSEC) / 1000,
  };
}

/**
 * Whether an L3S slave's namespace accepts `key` as local: the address is the local side of
 * an IPv4 address (not a point-to-point peer) or a non-tentative IPv6 address. Only then does
 * the master's IP layer route it to LOCAL_IN, where ipvlan hands it over.
 */
function l3sLocal(dev: NetDevice, key: number | bigint): boolean {
  if (typeof key === "bigint") {
    return ipv6DevAddrs(dev).some((a) => a.addr === key && !(a.flags & (IFA_F.TENTATIVE | IFA_F.DADFAILED)));
  }
  return inetAddrList(dev.netns, dev).some((a) => a.address === key && a.local === key);
}
