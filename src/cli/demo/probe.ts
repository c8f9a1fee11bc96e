/**
 * One reachability probe, `ping -c1 -W1 DST` from a place, on virtual time, with what explains
 * its outcome: the devices the echo request and the echo reply crossed (packet taps on every
 * device of every namespace), the named drop counters that moved, and the neighbour entries
 * left unresolved.
 */
import {
  NSEC_PER_MSEC,
  NSEC_PER_SEC,
  NUD,
  neighTableGet,
  pingPayload,
  pingSocket,
  type SkBuff,
  type TapDirection,
} from "../../kernel/index.ts";
import { formatIpv4, parseIpv4 } from "../../wire/index.ts";
import { ADDR, type Lab, PLACES, type Place } from "./howto.ts";

/** What a traced packet was. */
export type HopKind = "request" | "reply" | "arp";

/** A device a packet of the probe was seen on. */
export interface Hop {
  /** The place (namespace) of the device. */
  readonly place: Place;
  readonly dev: string;
  readonly dir: TapDirection;
  /** For ARP: "who-has A tell B" / "A is-at"; empty for echoes. */
  readonly note: string;
}

/** A named drop counter that moved because of a packet of the probe. */
export interface Drop {
  readonly place: Place;
  readonly dev: string;
  readonly reason: string;
  /** Which packet: the echo request, the echo reply, or an ARP packet. */
  readonly kind: HopKind;
  /** For ARP, which one ("who-has A tell B" / "A is-at"). */
  readonly note: string;
}

/** A neighbour entry without a link-layer address after the probe (INCOMPLETE/FAILED). */
export interface Unresolved {
  readonly place: Place;
  readonly dev: string;
  readonly addr: string;
  readonly state: "INCOMPLETE" | "FAILED";
}

/** Outcome of one probe. */
export interface ProbeResult {
  readonly from: Place;
  readonly to: Place;
  readonly ok: boolean;
  /** The errno sendmsg failed with, if it did. */
  readonly sendError: string | null;
  /** Devices the echo request was seen on, in order. */
  readonly request: readonly Hop[];
  /** Devices the echo reply was seen on, in order. */
  readonly reply: readonly Hop[];
  /** ARP packets between the two ends (or the master) during the probe. */
  readonly arp: readonly Hop[];
  /** Drops of the probe's own packets (echoes and its ARP), from the named drop counters. */
  readonly drops: readonly Drop[];
  readonly unresolved: readonly Unresolved[];
  /** Whether the echo request reached the destination's stack. */
  readonly delivered: boolean;
  /** Short reason for a failure ("" when OK). */
  readonly reason: string;
  /** One sentence for a failure ("" when OK). */
  readonly detail: string;
  /** Where a failed ping stopped (null when OK). */
  readonly stop: Stop | null;
}

/** A place a packet stopped at: a device, or the namespace's own stack (dev null). */
export interface Stop {
  readonly place: Place;
  readonly dev: string | null;
}

/** How long `ping -W1` waits for the reply. */
const PING_TIMEOUT = NSEC_PER_SEC;
/** Time between two probes (the shell starting the next `ping`). */
const PROBE_GAP = 100n * NSEC_PER_MSEC;
/** ICMP data size of `ping` (56 bytes, 64 with the ICMP header). */
const PING_DATA = 56;

/** What the current probe wants to know about a frame: its kind and note, or null if not its. */
type Classifier = (skb: SkBuff) => { kind: HopKind; note: string } | null;

/** The probe being traced. */
interface Watch {
  readonly classify: Classifier;
  readonly hops: Record<HopKind, Hop[]>;
  readonly drops: Drop[];
}

/**
 * Packet taps on every namespace of a lab, and a watch on every device's named drop counters
 * (the simulated kernel has no kfree_skb tracepoint, so the demo wraps `countDrop` the way a
 * kprobe would). A drop belongs to the probe when the last frame any tap saw was the probe's:
 * the simulated data path is synchronous, so a frame is dropped before the next one is tapped.
 */
export class Tracer {
  readonly #lab: Lab;
  #watch: Watch | null = null;
  #last: { kind: HopKind; note: string } | null = null;

  constructor(lab: Lab) {
    this.#lab = lab;
    for (const place of PLACES) {
      const net = lab.net[place];
      net.taps.add({ dev: null, deliver: (skb, dir) => this.#tap(place, skb, dir) });
      for (const dev of net.devices.values()) {
        const count = dev.countDrop.bind(dev);
        dev.countDrop = (reason: string) => {
          count(reason);
          if (this.#watch && this.#last) {
            this.#watch.drops.push({ place, dev: dev.name, reason, ...this.#last });
          }
        };
      }
    }
  }

  /** The lab the tracer watches. */
  get lab(): Lab {
    return this.#lab;
  }

  /** Starts tracing a probe. */
  start(classify: Classifier): Watch {
    this.#watch = { classify, hops: { request: [], reply: [], arp: [] }, drops: [] };
    this.#last = null;
    return this.#watch;
  }

  /** Stops tracing. */
  stop(): void {
    this.#watch = null;
    this.#last = null;
  }

  #tap(place: Place, skb: SkBuff, dir: TapDirection): void {
    const w = this.#watch;
    if (!w) return;
    const c = w.classify(skb);
    this.#last = c;
    if (c) w.hops[c.kind].push({ place, dev: skb.dev.name, dir, note: c.note });
  }
}

/** Offset of the network header in a tapped frame, if it carries this EtherType. */
function l3Offset(skb: SkBuff, ethertype: number): number | null {
  const d = skb.data;
  if (skb.dev.hardHeaderLen !== 14) return null;
  if (d.length < 14 || ((d[12] << 8) | d[13]) !== ethertype) return null;
  return 14;
}

/** The ICMP echo in a frame: type (8 request, 0 reply) and identifier; null for anything else. */
function echoOf(skb: SkBuff): { type: number; id: number } | null {
  const d = skb.data;
  const ip = l3Offset(skb, 0x0800);
  if (ip === null || d.length < ip + 20 || d[ip] >> 4 !== 4 || d[ip + 9] !== 1) return null;
  const icmp = ip + (d[ip] & 0x0f) * 4;
  if (d.length < icmp + 8) return null;
  const type = d[icmp];
  if (type !== 0 && type !== 8) return null;
  return { type, id: (d[icmp + 4] << 8) | d[icmp + 5] };
}

function ipAt(d: Uint8Array, off: number): string {
  return `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
}

/** An ARP request or reply: operation, sender and target protocol addresses. */
function arpOf(skb: SkBuff): { op: number; sender: string; target: string } | null {
  const d = skb.data;
  const a = l3Offset(skb, 0x0806);
  if (a === null || d.length < a + 28) return null;
  return { op: (d[a + 6] << 8) | d[a + 7], sender: ipAt(d, a + 14), target: ipAt(d, a + 24) };
}

/** The frames of a probe from `from` to `to`: its echoes and the ARP between the ends (or the master). */
function classifier(from: Place, to: Place, id: number): Classifier {
  const ends = [ADDR[from], ADDR[to]];
  const near = [...ends, ADDR.root];
  return (skb) => {
    const e = echoOf(skb);
    if (e) return e.id === id ? { kind: e.type === 8 ? "request" : "reply", note: "" } : null;
    const a = arpOf(skb);
    if (!a || a.sender === a.target || !near.includes(a.sender) || !near.includes(a.target)) return null;
    if (!ends.includes(a.sender) && !ends.includes(a.target)) return null;
    const note = a.op === 1 ? `who-has ${a.target} tell ${a.sender}` : `${a.sender} is-at`;
    return { kind: "arp", note };
  };
}

function unresolvedNeighbours(lab: Lab, addrs: readonly string[]): Unresolved[] {
  const out: Unresolved[] = [];
  for (const place of PLACES) {
    const table = neighTableGet(lab.net[place], 4);
    if (!table) continue;
    for (const n of table.entries()) {
      const addr = formatIpv4(n.key);
      if (!addrs.includes(addr)) continue;
      if (n.nudState === NUD.INCOMPLETE || n.nudState === NUD.FAILED) {
        out.push({
          place,
          dev: n.dev.name,
          addr,
          state: n.nudState === NUD.FAILED ? "FAILED" : "INCOMPLETE",
        });
      }
    }
  }
  return out;
}

const KIND_TEXT: Readonly<Record<HopKind, string>> = {
  request: "the echo request",
  reply: "the echo reply",
  arp: "an ARP packet",
};

/** "the echo request", "the ARP reply (10.0.0.11 is-at)". */
function packetText(d: Drop): string {
  if (d.kind !== "arp") return KIND_TEXT[d.kind];
  return `the ARP ${d.note.startsWith("who-has") ? "request" : "reply"} (${d.note})`;
}

/** Whether the echo request got to the destination's stack (it answered, or took it in undropped). */
function requestDelivered(
  to: Place,
  request: readonly Hop[],
  reply: readonly Hop[],
  drops: readonly Drop[],
): boolean {
  if (reply.length > 0) return true;
  const last = request.at(-1);
  return (
    last !== undefined && last.place === to && last.dir === "in" && !drops.some((d) => d.kind === "request")
  );
}

/** Why a probe failed: the short reason, the sentence, and where the drawing puts the cross. */
interface Explanation {
  readonly reason: string;
  readonly detail: string;
  readonly stop: Stop;
}

/** The explanation of a failed probe. */
function explain(
  from: Place,
  to: Place,
  sendError: string | null,
  request: readonly Hop[],
  reply: readonly Hop[],
  drops: readonly Drop[],
  unresolved: readonly Unresolved[],
): Explanation {
  const ipvlanDrop = drops.find((d) => d.reason.startsWith("IPVLAN_"));
  if (ipvlanDrop) {
    const d = ipvlanDrop;
    const errno = sendError ? `; sendmsg returned ${sendError}` : "";
    return {
      reason: d.reason,
      detail: `ipvlan dropped ${packetText(d)} on ${d.dev} (${d.place})${errno}`,
      stop: { place: d.place, dev: d.dev },
    };
  }
  if (sendError) {
    return {
      reason: sendError,
      detail: `ping: sendmsg failed with ${sendError}`,
      stop: { place: from, dev: null },
    };
  }
  // Which side is stuck: before the request reached `to`, or on the way back.
  const arrived = requestDelivered(to, request, reply, drops);
  // The asking side first (the sender of the stuck packet), then the master's namespace (L3).
  const [asker, target] = arrived ? [to, from] : [from, to];
  const candidates = unresolved.filter((u) => u.addr === ADDR[target] && u.place !== target);
  const stuck =
    candidates.find((u) => u.place === asker) ?? candidates.find((u) => u.place === "root") ?? candidates[0];
  if (stuck) {
    const what = arrived ? KIND_TEXT.reply : KIND_TEXT.request;
    return {
      reason: "unresolved ARP",
      detail: `${what} waits for ARP: nobody answers ${stuck.place}'s who-has ${stuck.addr} on ${stuck.dev}`,
      stop: { place: stuck.place, dev: null },
    };
  }
  const other = drops[0];
  if (other) {
    const what = packetText(other);
    return {
      reason: other.reason,
      detail: `${what} was dropped on ${other.dev} (${other.place}) as ${other.reason}`,
      stop: { place: other.place, dev: other.dev },
    };
  }
  const lastOf = (hops: readonly Hop[], fallback: Place): Stop => {
    const h = hops.at(-1);
    return h ? { place: h.place, dev: h.dev } : { place: fallback, dev: null };
  };
  if (request.length === 0) {
    return { reason: "not sent", detail: "the echo request never reached a device", stop: lastOf([], from) };
  }
  if (!arrived) {
    return { reason: "lost", detail: `the echo request never arrived in ${to}`, stop: lastOf(request, from) };
  }
  if (reply.length === 0)
    return { reason: "no reply", detail: `${to} sent no echo reply`, stop: lastOf([], to) };
  return { reason: "reply lost", detail: `the echo reply never reached ${from}`, stop: lastOf(reply, to) };
}

/** `ping -c1 -W1 ADDR[to]` from `from`; virtual time moves by the wait plus a short gap. */
export function probe(tracer: Tracer, from: Place, to: Place): ProbeResult {
  const lab = tracer.lab;
  const k = lab.kernel;
  const sock = pingSocket(lab.net[from]);
  const watch = tracer.start(classifier(from, to, sock.id));
  let got = false;
  sock.onReply = () => {
    got = true;
  };
  const r = sock.send(parseIpv4(ADDR[to]), 1, pingPayload(PING_DATA, k.now));
  const sendError = r === 0 ? null : r;
  if (r === 0) k.loop.runUntilDone(() => got, k.now + PING_TIMEOUT);
  sock.close();
  k.loop.runUntil(k.now + PROBE_GAP);
  tracer.stop();
  const { request, reply, arp } = watch.hops;
  const unresolved = unresolvedNeighbours(lab, [ADDR[from], ADDR[to]]);
  const drops = watch.drops;
  const why = got ? null : explain(from, to, sendError, request, reply, drops, unresolved);
  return {
    from,
    to,
    ok: got,
    sendError,
    request,
    reply,
    arp,
    drops,
    unresolved,
    delivered: requestDelivered(to, request, reply, drops),
    reason: why?.reason ?? "",
    detail: why?.detail ?? "",
    stop: why?.stop ?? null,
  };
}
