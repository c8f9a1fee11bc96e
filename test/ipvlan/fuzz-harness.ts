/**
 * Frame fuzzing of the ipvlan data path with an exact per-frame ledger. Random and malformed
 * frames (random bytes; mutated ARP/IPv4/IPv6/NS/UDP/ICMP frames: truncations, lying length
 * fields, ihl < 5, bad versions, multicast/broadcast/PAUSE MACs, slave-MAC-to-slave-MAC frames,
 * VLAN tags, jumbo frames) are injected one at a time on the master (receive path) or handed to
 * a slave's dev_queue_xmit (transmit path), in every mode × flag, and the event loop is run
 * until the frame is accounted for.
 *
 * The ledger. The injected skb carries a tag (an own property, which skb clones and the stacks'
 * `{ ...skb }` copies keep). Per frame:
 *
 *   sources = 1 (the frame) + C (copies the port's multicast work item makes: one per slave
 *             that is up, passes the MAC filter and did not send the frame; predicted when the
 *             frame is queued on the backlog)
 *   sinks   = deliveries of a tagged skb to a protocol handler (ptype: ARP/IPv4/IPv6 of any
 *             device — the documented "pass to a stack that itself counts")
 *           + tagged frames the NIC stand-in transmits (the wire)
 *           + tagged frames queued to an ipvtap reader
 *           + named drops of kind "drop" (see docs/drop-reasons.md)
 *
 * and sources == sinks must hold exactly once the loop has run (it runs until they balance, at
 * most 10 s of virtual time, then 1 ms more to catch duplicates). Drops of kind "note" (an extra
 * counter bump for a frame some other reason already named) are not sinks; drops of kind "copy"
 * (IPVLAN_MULTICAST_BACKLOG and IPVLAN_PAUSE_FRAME counted on the master) stand for a
 * receive-side copy for the slaves that was never made, so they are neither. The receive-side
 * clone the work item distributes from is consumed after distribution (consume_skb in Linux).
 * The stacks are initialised (addresses, routes) but their receive handlers are replaced by
 * recorders, so nothing answers and every delivery is final; the master is NOARP, so its
 * neighbour layer sends nothing and queues nothing. In L2 modes, every 1000 frames a burst of
 * 1100 multicast frames shares one ledger, so the port backlog, the CPU backlog and the tap queue
 * overflow. "l3s bridge +stack" runs the master's real IPv4/IPv6/ARP handlers behind the recorder
 * (the L3S diversion happens there): what they do after the pass is counted apart
 * (`stackDropReasons`, `generated`).
 *
 * Also checked after every frame: nothing threw, and no counter (link statistics, ipvlan's
 * per-slot and per-CPU counters, named drops) is negative, fractional or not finite.
 *
 * Test support (used by test/ipvlan/fuzz.test.ts and scripts/fuzz-ipvlan.ts), not public API.
 * @module
 */
import {
  allocSkb,
  bootKernel,
  devChangeNetNamespace,
  devClose,
  devMcAdd,
  devOpen,
  devQueueXmit,
  devSetAllmulti,
  devSetMtu,
  ethTypeTrans,
  fibRouteAdd,
  IFA_F,
  IFF,
  inet6AddrAdd,
  inetAddrAdd,
  ip6RouteAdd,
  ipv4Init,
  ipv6Init,
  type Kernel,
  NetDevice,
  NetdevTx,
  type NetdevTxValue,
  type NetNamespace,
  NSEC_PER_MSEC,
  NSEC_PER_SEC,
  netifReceiveSkb,
  registerNetdevice,
  rtnlNewLink,
  type SkBuff,
} from "../../src/kernel/index.ts";
import { type IpvlDev, type IpvlPort, IpvtapDev, ipvlanInit, ipvlanPortGet } from "../../src/ipvlan/index.ts";
import { ipvlanJhashSecret, ipvlanMacHash } from "../../src/ipvlan/multicast.ts";
import { arpFrame, MAC_M, MAC_R, nsFrame, rawFrame, udp4Frame, udp6Frame } from "../../src/ipvlan/testing.ts";
import { dropReasonKind } from "../../src/tools/drop-reasons.ts";
import { EtherType, emitFrame, IpProto, parseIpv4, parseIpv6 } from "../../src/wire/index.ts";
import { below, createRng, mutateFrame, randomFrame, type Rng } from "../../src/wire/test-mutate.ts";

/** One port configuration: mode and flag. */
export interface FuzzMode {
  readonly name: string;
  readonly mode: 0 | 1 | 2;
  readonly flags: 0 | 1 | 2;
  /**
   * The master's own IPv4/IPv6/ARP handlers run behind the recorder (L3S diverts to the slaves
   * inside the master's IP layer). What happens in there is the stack's business: drops it
   * counts while handling a frame go to `stackDropReasons`, frames it sends are "generated".
   */
  readonly stack?: boolean;
}

/** l2/l3/l3s × bridge/private/vepa, then L3S with the master's stacks running. */
export const FUZZ_MODES: readonly FuzzMode[] = [
  ...(["l2", "l3", "l3s"] as const).flatMap((m, mode) =>
    (["bridge", "private", "vepa"] as const).map((f, flags) => ({
      name: `${m} ${f}`,
      mode: mode as 0 | 1 | 2,
      flags: flags as 0 | 1 | 2,
    })),
  ),
  { name: "l3s bridge +stack", mode: 2, flags: 0, stack: true },
];

/** Options of one fuzz run. */
export interface FuzzOptions {
  readonly seed: number;
  /** Frames per mode. */
  readonly framesPerMode: number;
  /** Mode names to run (default: all nine). */
  readonly modes?: readonly string[];
  /** Stop a mode after this many violations (default 10). */
  readonly maxViolations?: number;
  /** Called every `progressEvery` frames with the number done (for long runs). */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
  /**
   * L2 modes: every this many frames, a burst of 1100 multicast/broadcast frames (received, or
   * sent by slaves) under one ledger, so the port backlog and the CPU backlog overflow
   * (default 1000; 0: none). Bursts do not count as frames.
   */
  readonly burstEvery?: number;
  /**
   * Self-test of the ledger: deliveries to the device of this name are not counted, as if the
   * frames vanished without a name. A run with it must report violations.
   */
  readonly loseDeliveriesOn?: string;
}

/** A frame whose ledger did not balance, or that broke something. */
export interface FuzzViolation {
  readonly mode: string;
  /** Index of the frame within its mode (rerun the same seed to reproduce). */
  readonly frame: number;
  /** "rx eth0" or "tx <slave>". */
  readonly path: string;
  readonly problem: string;
  /** The frame, hex (at most 160 bytes shown). */
  readonly hex: string;
  readonly length: number;
}

/** What a run did (printed as JSON by scripts/fuzz-ipvlan.ts). */
export interface FuzzSummary {
  readonly seed: number;
  readonly framesPerMode: number;
  readonly modes: readonly string[];
  readonly frames: number;
  /** Bursts run (L2 modes), 1100 frames each, on top of `frames`. */
  readonly bursts: number;
  readonly injected: { readonly rx: number; readonly tx: number };
  /** Ledger totals over all frames. */
  readonly ledger: {
    readonly copies: number;
    readonly delivered: number;
    readonly wire: number;
    readonly tapQueued: number;
    readonly dropped: number;
    readonly notes: number;
    readonly copiesNotMade: number;
  };
  /** Untagged frames the NIC transmitted (the "+stack" mode's replies and ICMP errors). */
  readonly generated: number;
  /** Named drops by reason (all kinds), outside the master's stack. */
  readonly dropReasons: Record<string, number>;
  /** Named drops counted inside the master's stack ("+stack" modes), by reason. */
  readonly stackDropReasons: Record<string, number>;
  readonly perMode: Record<string, { frames: number; dropped: number; delivered: number; wire: number }>;
  readonly violationCount: number;
  readonly violations: readonly FuzzViolation[];
  readonly virtualSeconds: number;
}

/** Own property the fuzz puts on the skbs it injects; copies made by `{ ...skb }` keep it. */
const TAG = "ipvlFuzzTag";
type Tagged = SkBuff & { [TAG]?: number };

function tagOf(skb: SkBuff): number | undefined {
  return (skb as Tagged)[TAG];
}

/** The per-frame ledger, fed by the hooks. */
class Ledger {
  tag = 0;
  /** Frames injected under this tag (1, or a burst). */
  frames = 1;
  copies = 0;
  delivered = 0;
  wire = 0;
  tapQueued = 0;
  dropped = 0;
  notes = 0;
  copiesNotMade = 0;
  generated = 0;
  /**
   * The frame went into the master's running stack ("+stack" modes): whatever happens until the
   * next frame (its own fate, replies, looped-back copies) is the stack's, not the ledger's.
   */
  inStack = false;
  /** "dev:REASON" of every named drop counted for the frame. */
  readonly reasons: string[] = [];

  reset(tag: number, frames = 1): void {
    this.tag = tag;
    this.frames = frames;
    this.copies = 0;
    this.delivered = 0;
    this.wire = 0;
    this.tapQueued = 0;
    this.dropped = 0;
    this.notes = 0;
    this.copiesNotMade = 0;
    this.reasons.length = 0;
    this.inStack = false;
  }

  get sources(): number {
    return this.frames + this.copies;
  }

  get sinks(): number {
    return this.delivered + this.wire + this.tapQueued + this.dropped;
  }
}

/** The NIC stand-in: what it transmits goes to the wire; tagged frames are sinks. */
class FuzzNic extends NetDevice {
  readonly #ledger: Ledger;

  constructor(name: string, mac: number, ledger: Ledger) {
    super("wire", name);
    this.mac = mac;
    this.mtu = 65535;
    this.#ledger = ledger;
  }

  override ndoStartXmit(skb: SkBuff): NetdevTxValue {
    this.stats.txPackets++;
    this.stats.txBytes += skb.data.length;
    if (tagOf(skb) === this.#ledger.tag) this.#ledger.wire++;
    else this.#ledger.generated++;
    return NetdevTx.OK;
  }
}

const ETH_P_PAUSE = 0x8808;
const MCAST_GROUP = 0x01_00_5e_01_02_03;

/** The fuzz topology of one mode. */
interface World {
  readonly k: Kernel;
  readonly nic: FuzzNic;
  readonly slaves: IpvlDev[];
  readonly port: IpvlPort;
  readonly devices: NetDevice[];
}

const S4 = [10, 11, 12, 13, 14, 15].map((i) => parseIpv4(`10.0.0.${i}`));
const S6 = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15].map((i) => parseIpv6(`2001:db8::${i.toString(16)}`));

/**
 * eth0 (the NIC: NOARP, MTU 65535, 10.0.0.2/24 and 2001:db8::2/64, default routes) with six
 * slaves: s0 in ns0, s1 in ns1 (MTU 1500: jumbo copies fail), s2 beside the master, s3 in ns3
 * and down (listed, not hashed), s4 an ipvtap in ns4 (tap queue of 64), s5 in ns5, allmulti,
 * with a joined group. Each has 10.0.0.1N/24 and 2001:db8::1N/64.
 */
function buildWorld(seed: number, m: FuzzMode, ledger: Ledger): World {
  const k = bootKernel({ seed });
  ipv4Init(k);
  ipv6Init(k);
  ipvlanInit(k);
  const root = k.initNet;
  quietIpv6(root);
  devOpen(root.loopback);
  const nic = new FuzzNic("eth0", MAC_M, ledger);
  // NOARP: the master's neighbour layer never resolves (nothing answers on this wire), so no
  // solicitation, no queued packet and no ICMP error from a failed resolution can be freed
  // later under a name the per-frame ledger could not attribute. Frames go out at once.
  nic.flags |= IFF.NOARP;
  // Registered the way a NIC driver's probe does it (there is no link kind to create one).
  registerNetdevice(root, nic);
  devOpen(nic);
  inetAddrAdd(nic, { local: parseIpv4("10.0.0.2"), prefixLen: 24 });
  inet6AddrAdd(nic, { addr: parseIpv6("2001:db8::2"), prefixLen: 64, flags: IFA_F.NODAD });
  fibRouteAdd(root, { dst: 0, dstLen: 0, gw: parseIpv4("10.0.0.1"), dev: nic });
  ip6RouteAdd(root, { dst: 0n, dstLen: 0, gateway: parseIpv6("2001:db8::1"), dev: nic });
  const slaves: IpvlDev[] = [];
  for (let i = 0; i < 6; i++) {
    const net: NetNamespace = i === 2 ? root : k.createNamespace(`ns${i}`);
    if (net !== root) {
      quietIpv6(net);
      devOpen(net.loopback);
    }
    const dev = rtnlNewLink(root, {
      kind: i === 4 ? "ipvtap" : "ipvlan",
      name: `s${i}`,
      link: nic,
      infoData: { mode: m.mode, flags: m.flags },
    }) as IpvlDev;
    if (net !== root) devChangeNetNamespace(dev, net);
    if (i === 1) devSetMtu(dev, 1500);
    // A short tap queue (`ip link set s4 txqueuelen 64`): bursts overflow it.
    if (i === 4) dev.txqlen = 64;
    devOpen(dev);
    inetAddrAdd(dev, { local: S4[i], prefixLen: 24 });
    inet6AddrAdd(dev, { addr: S6[i], prefixLen: 64, flags: IFA_F.NODAD });
    if (i === 5) {
      devSetAllmulti(dev, 1);
      devMcAdd(dev, MCAST_GROUP);
    }
    slaves.push(dev);
  }
  // s3 goes down: its addresses stay listed (IPv4; IPv6 is flushed on down) but leave the table.
  devClose(slaves[3]);
  inetAddrAdd(slaves[3], { local: parseIpv4("10.0.0.23"), prefixLen: 24 });
  // Let DAD and MLD chatter die down before the fuzz starts.
  k.loop.runUntil(k.now + 60n * NSEC_PER_SEC);
  const port = ipvlanPortGet(nic)!;
  const devices = [nic, ...slaves];
  // Nothing may happen on its own from now on: background traffic would enter the ledgers.
  const activity = () =>
    devices.map((d) => `${d.stats.txPackets}/${[...d.drops.values()].join(",")}`).join(" ");
  const before = activity();
  k.loop.runUntil(k.now + 3600n * NSEC_PER_SEC);
  if (activity() !== before)
    throw new Error(`the fuzz world of "${m.name}" is not quiet: ${before} -> ${activity()}`);
  return { k, nic, slaves, port, devices };
}

/** No router solicitations (they repeat forever with back-off) from devices registered in net. */
function quietIpv6(net: NetNamespace): void {
  net.sysctl.set("net.ipv6.conf.default.router_solicitations", "0");
  net.sysctl.set("net.ipv6.conf.all.router_solicitations", "0");
}

// ---- frame generation ---------------------------------------------------------------------------

const IPS4 = [
  ...S4,
  parseIpv4("10.0.0.23"),
  parseIpv4("10.0.0.2"),
  parseIpv4("10.0.0.1"),
  parseIpv4("10.0.0.99"),
  parseIpv4("10.0.0.255"),
  parseIpv4("255.255.255.255"),
  parseIpv4("224.0.0.1"),
  parseIpv4("239.1.2.3"),
  parseIpv4("8.8.8.8"),
  parseIpv4("127.0.0.1"),
  0,
];
const IPS6 = [
  ...S6,
  parseIpv6("2001:db8::2"),
  parseIpv6("2001:db8::1"),
  parseIpv6("2001:db8::99"),
  parseIpv6("2001:db8:1::1"),
  parseIpv6("fe80::1"),
  parseIpv6("fe80::200:0:100:2"),
  parseIpv6("ff02::1"),
  parseIpv6("ff02::1:ff00:10"),
  parseIpv6("::1"),
  0n,
];
const DST_MACS = [
  MAC_M,
  MAC_M,
  MAC_M,
  0xffff_ffff_ffff,
  0x01_00_5e_00_00_01,
  MCAST_GROUP,
  0x33_33_00_00_00_01,
  0x33_33_ff_00_00_10,
  0x01_80_c2_00_00_01,
  MAC_R,
  0x02_00_00_00_99_99,
];
const SRC_MACS = [MAC_M, MAC_M, MAC_R, 0x02_00_00_00_77_77, 0x01_00_5e_00_00_01, 0];

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[below(rng, items.length)];
}

function putMac(f: Uint8Array, off: number, mac: number): void {
  if (f.length < off + 6) return;
  const hi = Math.floor(mac / 0x1_0000_0000);
  f[off] = hi >>> 8;
  f[off + 1] = hi & 0xff;
  f[off + 2] = mac >>> 24;
  f[off + 3] = (mac >>> 16) & 0xff;
  f[off + 4] = (mac >>> 8) & 0xff;
  f[off + 5] = mac & 0xff;
}

function icmp4Echo(rng: Rng, dstMac: number, srcMac: number): Uint8Array {
  return emitFrame({
    eth: { dst: dstMac, src: srcMac, etherType: EtherType.Ipv4 },
    ipv4: {
      src: pick(rng, IPS4),
      dst: pick(rng, IPS4),
      protocol: IpProto.Icmp,
      ttl: below(rng, 3) === 0 ? below(rng, 2) : 64,
      dscp: 0,
      ecn: 0,
      ident: rng() & 0xffff,
      dontFrag: below(rng, 2) === 0,
      moreFrags: below(rng, 8) === 0,
      fragOffset: 0,
      options: new Uint8Array(0),
      payloadLen: 0,
    },
    icmpv4: { kind: "echo-request", ident: 1, seq: 1, data: new Uint8Array(below(rng, 64)) },
  });
}

function icmp6Echo(rng: Rng, dstMac: number, srcMac: number): Uint8Array {
  return emitFrame({
    eth: { dst: dstMac, src: srcMac, etherType: EtherType.Ipv6 },
    ipv6: {
      src: pick(rng, IPS6),
      dst: pick(rng, IPS6),
      nextHeader: IpProto.Icmpv6,
      hopLimit: below(rng, 3) === 0 ? below(rng, 2) : 64,
      dscp: 0,
      ecn: 0,
      flowLabel: rng() & 0xfffff,
      extHeaders: [],
      payloadLen: 0,
    },
    icmpv6: { kind: "echo-request", ident: 1, seq: 1, data: new Uint8Array(below(rng, 64)) },
  });
}

/** A well-formed frame of a random kind with addresses from the topology. */
function validFrame(rng: Rng): Uint8Array {
  const dstMac = pick(rng, DST_MACS);
  const srcMac = pick(rng, SRC_MACS);
  const payloadLen = below(rng, 4) === 0 ? below(rng, 1500) : below(rng, 40);
  switch (below(rng, 10)) {
    case 0:
      return arpFrame({
        dstMac,
        srcMac,
        op: 1 + below(rng, 2),
        senderIp: pick(rng, IPS4),
        targetIp: pick(rng, IPS4),
      });
    case 1:
      return udp4Frame({ dstMac, srcMac, src: pick(rng, IPS4), dst: pick(rng, IPS4), payloadLen });
    case 2:
      return icmp4Echo(rng, dstMac, srcMac);
    case 3:
      return udp6Frame({ dstMac, srcMac, src: pick(rng, IPS6), dst: pick(rng, IPS6), payloadLen });
    case 4:
      return icmp6Echo(rng, dstMac, srcMac);
    case 5: {
      // Neighbour solicitation: a DAD probe (from ::) or an address resolution.
      const f = nsFrame({ srcMac, src: below(rng, 2) === 0 ? 0n : pick(rng, IPS6), target: pick(rng, IPS6) });
      if (below(rng, 3) === 0) putMac(f, 0, dstMac);
      return f;
    }
    case 6:
      return rawFrame({ dstMac: 0x01_80_c2_00_00_01, srcMac, etherType: ETH_P_PAUSE, len: 46 });
    case 7:
      return rawFrame({
        dstMac,
        srcMac,
        etherType: pick(rng, [0x88cc, 0x1234, 0x8100, 0x0842]),
        len: below(rng, 80),
      });
    case 8:
      // Slave to slave: every slave has the master's MAC, so source and destination are equal.
      return below(rng, 2) === 0
        ? udp4Frame({ dstMac: MAC_M, srcMac: MAC_M, src: pick(rng, S4), dst: pick(rng, IPS4), payloadLen })
        : udp6Frame({ dstMac: MAC_M, srcMac: MAC_M, src: pick(rng, S6), dst: pick(rng, IPS6), payloadLen });
    default:
      return arpFrame({
        dstMac: MAC_M,
        srcMac: MAC_M,
        op: 1,
        senderIp: pick(rng, S4),
        targetIp: pick(rng, IPS4),
      });
  }
}

/** Targeted damage: ihl < 5, wrong version, jumbo padding, short frames, odd MACs. */
function damage(rng: Rng, frame: Uint8Array): Uint8Array {
  let f = frame;
  const type = f.length >= 14 ? (f[12] << 8) | f[13] : -1;
  switch (below(rng, 7)) {
    case 0:
      if (type === 0x0800 && f.length > 14) f[14] = 0x40 | below(rng, 5);
      break;
    case 1:
      if (f.length > 14) f[14] = (pick(rng, [0, 4, 5, 6, 7, 15]) << 4) | (f[14] & 0x0f);
      break;
    case 2: {
      // Jumbo: pad to 1501..9100 bytes, sometimes with the IP length fields telling the truth.
      const g = new Uint8Array(1501 + below(rng, 7600));
      g.set(f.subarray(0, Math.min(f.length, g.length)));
      if (below(rng, 2) === 0 && type === 0x0800 && g.length >= 34) {
        g[16] = (g.length - 14) >>> 8;
        g[17] = (g.length - 14) & 0xff;
      } else if (below(rng, 2) === 0 && type === 0x86dd && g.length >= 54) {
        g[18] = (g.length - 54) >>> 8;
        g[19] = (g.length - 54) & 0xff;
      }
      f = g;
      break;
    }
    case 3:
      f = f.slice(0, below(rng, 20));
      break;
    case 4:
      putMac(f, 0, pick(rng, DST_MACS));
      putMac(f, 6, pick(rng, [...SRC_MACS, 0xffff_ffff_ffff]));
      break;
    case 5:
      // Destination = source = a multicast MAC: the L2 local test with a group address.
      putMac(f, 0, 0x01_00_5e_00_00_01);
      putMac(f, 6, 0x01_00_5e_00_00_01);
      break;
    default:
      break;
  }
  return f;
}

/** Frames per burst: more than the port backlog (IPVLAN_QBACKLOG_LIMIT) holds. */
const BURST = 1100;

/** A burst member: a broadcast/multicast frame from the wire, or one a slave sends. */
function burstFrame(rng: Rng, w: World): [Uint8Array, NetDevice] {
  const dstMac = pick(rng, [0xffff_ffff_ffff, 0x01_00_5e_00_00_01, MCAST_GROUP, 0x33_33_00_00_00_01]);
  const fromWire = below(rng, 2) === 0;
  const srcMac = fromWire ? MAC_R : MAC_M;
  const frame =
    below(rng, 3) === 0
      ? arpFrame({ dstMac, srcMac, senderIp: pick(rng, IPS4), targetIp: pick(rng, IPS4) })
      : udp4Frame({
          dstMac,
          srcMac,
          src: pick(rng, IPS4),
          dst: parseIpv4("10.0.0.255"),
          payloadLen: below(rng, 64),
        });
  return [frame, fromWire ? w.nic : w.slaves[below(rng, w.slaves.length)]];
}

/** One fuzz frame. */
export function fuzzFrame(rng: Rng): Uint8Array {
  const r = below(rng, 20);
  if (r < 3) return randomFrame(rng);
  let f = validFrame(rng);
  if (r < 12) f = mutateFrame(f, rng);
  if (below(rng, 3) === 0) f = damage(rng, f);
  return f;
}

// ---- the run ------------------------------------------------------------------------------------

function hex(f: Uint8Array): string {
  return Buffer.from(f.subarray(0, 160)).toString("hex");
}

function testBit(bits: Uint32Array, n: number): boolean {
  return (bits[n >>> 5] & (1 << (n & 31))) !== 0;
}

const STAT_KEYS = Object.keys(new NetDevice("x", "x").stats);

/** Every counter of a device: link statistics, driver counters, named drops. */
function counterProblems(dev: NetDevice, port: IpvlPort): string[] {
  const out: string[] = [];
  const bad = (v: number) => !Number.isFinite(v) || v < 0 || !Number.isInteger(v);
  const st = dev.stats as unknown as Record<string, number>;
  for (const key of STAT_KEYS) if (bad(st[key])) out.push(`${dev.name} stats.${key} = ${st[key]}`);
  for (const [reason, n] of dev.drops) if (bad(n) || n === 0) out.push(`${dev.name} drops ${reason} = ${n}`);
  const ipvl = dev as Partial<IpvlDev>;
  if (ipvl.rxErrs !== undefined && bad(ipvl.rxErrs)) out.push(`${dev.name} rx_errs = ${ipvl.rxErrs}`);
  if (ipvl.txDrps !== undefined && bad(ipvl.txDrps)) out.push(`${dev.name} tx_drps = ${ipvl.txDrps}`);
  if (dev === port.dev) for (const v of port.rx) if (bad(v)) out.push(`port rx counter = ${v}`);
  return out;
}

/** Runs the fuzz over the requested modes; never throws for what it finds (see violations). */
export function runFuzz(options: FuzzOptions): FuzzSummary {
  const modes = FUZZ_MODES.filter((m) => !options.modes || options.modes.includes(m.name));
  const maxViolations = options.maxViolations ?? 10;
  const violations: FuzzViolation[] = [];
  let violationCount = 0;
  const reasons: Record<string, number> = {};
  const perMode: FuzzSummary["perMode"] = {};
  const totals = { copies: 0, delivered: 0, wire: 0, tapQueued: 0, dropped: 0, notes: 0, copiesNotMade: 0 };
  const injected = { rx: 0, tx: 0 };
  let generated = 0;
  let frames = 0;
  let bursts = 0;
  let tags = 0;
  let virtualNs = 0n;

  const ledger = new Ledger();
  let master: NetDevice | null = null;
  // Named drops are observed where they are counted: NetDevice.countDrop (restored below).
  const countDrop = NetDevice.prototype.countDrop;
  let fuzzing = false;
  let inStack = 0;
  const stackReasons: Record<string, number> = {};
  NetDevice.prototype.countDrop = function (this: NetDevice, reason: string): void {
    countDrop.call(this, reason);
    // Set-up chatter (DAD, MLD) is not part of any frame's ledger.
    if (!fuzzing) return;
    if (inStack > 0 || ledger.inStack) {
      stackReasons[reason] = (stackReasons[reason] ?? 0) + 1;
      return;
    }
    reasons[reason] = (reasons[reason] ?? 0) + 1;
    ledger.reasons.push(`${this.name}:${reason}`);
    const kind = dropReasonKind(reason, this === master);
    if (kind === "note") ledger.notes++;
    else if (kind === "copy") ledger.copiesNotMade++;
    else ledger.dropped++;
  };
  try {
    for (const [mi, m] of modes.entries()) {
      const rng = createRng((options.seed * 31 + mi) >>> 0);
      fuzzing = false;
      const w = buildWorld(options.seed + mi, m, ledger);
      fuzzing = true;
      ledger.generated = 0;
      const k = w.k;
      master = w.nic;
      const stats = { frames: 0, dropped: 0, delivered: 0, wire: 0 };
      perMode[m.name] = stats;
      const secret = ipvlanJhashSecret(k);
      // Deliveries: the protocol handlers only record (the stacks behind them stay silent).
      for (const et of [EtherType.Ipv4, EtherType.Arp, EtherType.Ipv6]) {
        const stack = k.protocols.get(et);
        k.registerProtocol(et, (skb) => {
          if (tagOf(skb) === ledger.tag && skb.dev.name !== options.loseDeliveriesOn) ledger.delivered++;
          if (!m.stack || skb.dev !== w.nic || stack === undefined) return;
          // The pass was the frame's end; what the stack derives from it (replies built from the
          // skb, ICMP errors) is traffic of its own, so the tag goes.
          delete (skb as Tagged)[TAG];
          ledger.inStack = true;
          inStack++;
          try {
            stack(skb);
          } finally {
            inStack--;
          }
        });
      }
      // ipvtap readers: whatever the driver queued for them.
      const taps = w.slaves.filter((s): s is IpvtapDev => s instanceof IpvtapDev);
      // Copies: predicted when a frame is queued for the multicast work item.
      const backlog = w.port.backlog;
      backlog.push = function (this: typeof backlog, ...entries: typeof backlog): number {
        for (const { skb, txPkt } of entries) {
          if (tagOf(skb) !== ledger.tag) continue;
          const hash = ipvlanMacHash(skb.data, 0, secret);
          for (const s of w.port.ipvlans) {
            if (txPkt && s === skb.dev) continue;
            if (s.isUp && testBit(s.macFilters, hash)) ledger.copies++;
          }
        }
        return Array.prototype.push.apply(this, entries);
      };
      let modeViolations = 0;
      const violation = (i: number, path: string, frame: Uint8Array, problem: string): void => {
        violationCount++;
        modeViolations++;
        if (violations.length < 100) {
          violations.push({ mode: m.name, frame: i, path, problem, hex: hex(frame), length: frame.length });
        }
      };
      const started = k.now;
      /** Hands one tagged frame to the master's receive path or a slave's dev_queue_xmit. */
      const inject = (frame: Uint8Array, dev: NetDevice, tag: number): void => {
        const skb = allocSkb(frame.slice(), dev) as Tagged;
        skb[TAG] = tag;
        if (dev === w.nic) {
          injected.rx++;
          ethTypeTrans(skb, dev);
          dev.stats.rxPackets++;
          dev.stats.rxBytes += frame.length;
          netifReceiveSkb(skb);
        } else {
          injected.tx++;
          // What a stack sets; a packet socket may leave the protocol 0 or lie about it.
          const r = below(rng, 10);
          skb.protocol =
            r < 8 ? (frame.length >= 14 ? (frame[12] << 8) | frame[13] : 0) : r === 8 ? 0 : rng() & 0xffff;
          devQueueXmit(skb);
        }
      };
      /** Injects a group of frames under one tag, runs the loop, checks the ledger. */
      const runGroup = (i: number, group: readonly [Uint8Array, NetDevice][], burst: boolean): void => {
        const [frame, dev] = group[0];
        const path = burst ? `burst of ${group.length}` : dev === w.nic ? "rx eth0" : `tx ${dev.name}`;
        const tag = ++tags;
        ledger.reset(tag, group.length);
        const tapBefore = taps.map((t) => t.tapQueue.length);
        try {
          for (const [f, d] of group) inject(f, d, tag);
          const tapped = () => taps.reduce((n, t, j) => n + countTagged(t.tapQueue, tapBefore[j], tag), 0);
          const balanced = () => ledger.sinks + tapped() >= ledger.sources;
          k.loop.runUntilDone(balanced, k.now + 10n * NSEC_PER_SEC);
          // A little more time: anything arriving now would be a duplicate.
          k.loop.runUntil(k.now + NSEC_PER_MSEC);
          ledger.tapQueued = tapped();
        } catch (e) {
          violation(i, path, frame, `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          return;
        } finally {
          // The reader of /dev/tapN empties its queue now and then (so it also overflows).
          for (const t of taps) if (below(rng, 4) === 0) t.tapQueue.length = 0;
        }
        generated += ledger.generated;
        ledger.generated = 0;
        if (ledger.sinks !== ledger.sources) {
          const reasonsText =
            ledger.reasons.length > 12
              ? `${ledger.reasons.slice(0, 12).join(" ")} … (${ledger.reasons.length})`
              : ledger.reasons.join(" ") || "none";
          violation(
            i,
            path,
            frame,
            `ledger: ${ledger.frames} frame(s) + ${ledger.copies} copies != ${ledger.delivered} delivered + ` +
              `${ledger.wire} on the wire + ${ledger.tapQueued} tap-queued + ${ledger.dropped} dropped ` +
              `(notes ${ledger.notes}, copies not made ${ledger.copiesNotMade}; reasons: ${reasonsText})`,
          );
        }
        if (ledger.notes > 0 && ledger.dropped === 0) {
          violation(i, path, frame, `${ledger.notes} note(s) but no drop: a freed frame without a name`);
        }
        for (const d of allDevices(k)) {
          const problems = counterProblems(d, w.port);
          if (problems.length > 0) violation(i, path, frame, `counters: ${problems.join(", ")}`);
        }
        totals.copies += ledger.copies;
        totals.delivered += ledger.delivered;
        totals.wire += ledger.wire;
        totals.tapQueued += ledger.tapQueued;
        totals.dropped += ledger.dropped;
        totals.notes += ledger.notes;
        totals.copiesNotMade += ledger.copiesNotMade;
        stats.dropped += ledger.dropped;
        stats.delivered += ledger.delivered;
        stats.wire += ledger.wire;
      };
      const burstEvery = options.burstEvery ?? 1000;
      for (let i = 0; i < options.framesPerMode && modeViolations < maxViolations; i++) {
        // L2 ports also get bursts of multicast, one ledger for all: the backlogs overflow.
        if (m.mode === 0 && burstEvery > 0 && i > 0 && i % burstEvery === 0) {
          const group: [Uint8Array, NetDevice][] = [];
          for (let j = 0; j < BURST; j++) group.push(burstFrame(rng, w));
          runGroup(i, group, true);
          bursts++;
        }
        const which = below(rng, 10);
        runGroup(i, [[fuzzFrame(rng), which < 4 ? w.nic : w.slaves[below(rng, w.slaves.length)]]], false);
        frames++;
        stats.frames++;
        if (options.onProgress && frames % (options.progressEvery ?? 100_000) === 0)
          options.onProgress(frames);
      }
      virtualNs += k.now - started;
    }
  } finally {
    NetDevice.prototype.countDrop = countDrop;
  }
  return {
    seed: options.seed,
    framesPerMode: options.framesPerMode,
    modes: modes.map((m) => m.name),
    frames,
    bursts,
    injected,
    ledger: totals,
    generated,
    dropReasons: sortedRecord(reasons),
    stackDropReasons: sortedRecord(stackReasons),
    perMode,
    violationCount,
    violations,
    virtualSeconds: Number(virtualNs / NSEC_PER_MSEC) / 1000,
  };
}

function countTagged(queue: readonly SkBuff[], from: number, tag: number): number {
  let n = 0;
  for (let i = Math.min(from, queue.length); i < queue.length; i++) if (tagOf(queue[i]) === tag) n++;
  return n;
}

function sortedRecord(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Every device of every namespace (lo and the slaves' neighbours included). */
function allDevices(k: Kernel): NetDevice[] {
  return k.namespaces.flatMap((n) => [...n.devices.values()]);
}
