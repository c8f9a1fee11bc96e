/**
 * Inline SVG of the HOWTO topology, and of one probe's packet path drawn on it: the echo
 * request (solid) and reply (dashed) as arrows through the devices the packet taps saw, green
 * when the ping succeeded and red when it failed, ARP in purple, and a cross where it stopped.
 */
import { ADDR, type Place } from "./howto.ts";
import type { Hop, ProbeResult, Stop } from "./probe.ts";

/** A node of the drawing: a namespace's IP stack, a device, or the ipvlan port (a junction). */
type NodeId = `${Place}-stack` | "ipvl0" | "ipvl1" | "eth0" | "ext0" | "port";

interface Node {
  readonly x: number;
  readonly y: number;
  /** Half width / height of the shape (arrows stop at its border). */
  readonly hw: number;
  readonly hh: number;
}

const NODES: Readonly<Record<NodeId, Node>> = {
  "ns0-stack": { x: 50, y: 66, hw: 34, hh: 15 },
  "ns1-stack": { x: 50, y: 242, hw: 34, hh: 15 },
  "root-stack": { x: 500, y: 82, hw: 34, hh: 15 },
  "router-stack": { x: 752, y: 150, hw: 34, hh: 15 },
  ipvl0: { x: 172, y: 66, hw: 52, hh: 24 },
  ipvl1: { x: 172, y: 242, hw: 52, hh: 24 },
  port: { x: 326, y: 150, hw: 11, hh: 11 },
  eth0: { x: 500, y: 150, hw: 52, hh: 24 },
  ext0: { x: 652, y: 150, hw: 48, hh: 24 },
};

/** Namespace boxes: x, y, width, height, label. */
const BOXES: readonly (readonly [number, number, number, number, string])[] = [
  [6, 12, 236, 104, "ns0"],
  [6, 188, 236, 104, "ns1"],
  [280, 34, 290, 232, "root ns (master's)"],
  [598, 84, 196, 132, "ns ext (router)"],
];

/** Arrow colours: ping OK, ping failed, ARP. */
export const COLOR = { ok: "#1a7f37", fail: "#cf222e", arp: "#8250df" } as const;

/** The drawing's size. */
const VIEW = { w: 800, h: 300 } as const;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The static drawing: namespaces, devices, stacks, the ipvlan port and the wires. */
function topologyBody(modeLabel: string): string {
  const out: string[] = [];
  for (const [x, y, w, h, label] of BOXES) {
    out.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="10" class="ns"/>`);
    out.push(`<text x="${x + 9}" y="${y + 19}" class="nslabel">${esc(label)}</text>`);
  }
  const wire = (a: NodeId, b: NodeId) => {
    const p = NODES[a];
    const q = NODES[b];
    out.push(`<line x1="${p.x}" y1="${p.y}" x2="${q.x}" y2="${q.y}" class="wire"/>`);
  };
  wire("ns0-stack", "ipvl0");
  wire("ns1-stack", "ipvl1");
  wire("ipvl0", "port");
  wire("ipvl1", "port");
  wire("port", "eth0");
  wire("root-stack", "eth0");
  wire("ext0", "router-stack");
  const e = NODES.eth0;
  const r = NODES.ext0;
  out.push(`<line x1="${e.x}" y1="${e.y - 4}" x2="${r.x}" y2="${r.y - 4}" class="wire"/>`);
  out.push(`<line x1="${e.x}" y1="${e.y + 4}" x2="${r.x}" y2="${r.y + 4}" class="wire"/>`);
  const vx = (e.x + e.hw + r.x - r.hw) / 2;
  out.push(`<text x="${vx}" y="${e.y + 40}" class="small" text-anchor="middle">veth</text>`);
  for (const place of ["ns0", "ns1", "root", "router"] as const) {
    const n = NODES[`${place}-stack`];
    out.push(
      `<rect x="${n.x - n.hw}" y="${n.y - n.hh}" width="${2 * n.hw}" height="${2 * n.hh}" rx="${n.hh}" class="stack"/>`,
    );
    out.push(`<text x="${n.x}" y="${n.y + 4}" class="small" text-anchor="middle">IP stack</text>`);
  }
  const dev = (id: NodeId, name: string, addr: string) => {
    const n = NODES[id];
    out.push(
      `<rect x="${n.x - n.hw}" y="${n.y - n.hh}" width="${2 * n.hw}" height="${2 * n.hh}" rx="5" class="dev"/>`,
    );
    out.push(`<text x="${n.x}" y="${n.y - 4}" class="devname" text-anchor="middle">${name}</text>`);
    out.push(`<text x="${n.x}" y="${n.y + 14}" class="small" text-anchor="middle">${addr}</text>`);
  };
  dev("ipvl0", "ipvl0", ADDR.ns0);
  dev("ipvl1", "ipvl1", ADDR.ns1);
  dev("eth0", "eth0", ADDR.root);
  dev("ext0", "ext0", ADDR.router);
  const p = NODES.port;
  out.push(
    `<polygon points="${p.x},${p.y - p.hh} ${p.x + p.hw},${p.y} ${p.x},${p.y + p.hh} ${p.x - p.hw},${p.y}" class="port"/>`,
  );
  out.push(`<text x="${p.x}" y="${p.y + 30}" class="small" text-anchor="middle">ipvlan port</text>`);
  if (modeLabel) {
    out.push(`<text x="${p.x}" y="${p.y + 45}" class="small" text-anchor="middle">${esc(modeLabel)}</text>`);
  }
  return out.join("");
}

/** Arrowhead markers, one per colour; an HTML page includes them once (see SVG_SHARED). */
const DEFS =
  `<defs>` +
  Object.entries(COLOR)
    .map(
      ([k, c]) =>
        `<marker id="ah-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`,
    )
    .join("") +
  `</defs>`;

/** The drawing's CSS (an HTML page puts it in its own <style>). */
export const SVG_CSS =
  ".ns{fill:#f6f8fa;stroke:#d0d7de}.nslabel{font:600 15px sans-serif;fill:#24292f}" +
  ".wire{stroke:#afb8c1;stroke-width:2}" +
  ".stack{fill:#fff;stroke:#57606a;stroke-width:1.5}.dev{fill:#fff;stroke:#57606a;stroke-width:1.5}" +
  ".port{fill:#ddf4ff;stroke:#0969da;stroke-width:1.5}.devname{font:600 15px monospace;fill:#24292f}" +
  ".small{font:12px sans-serif;fill:#57606a}";

/** A hidden <svg> with the shared markers, for a page holding many drawings. */
export const SVG_SHARED = `<svg width="0" height="0" style="position:absolute" aria-hidden="true">${DEFS}</svg>`;

function svgOpen(label: string, width: number, standalone: boolean): string {
  const head = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${VIEW.w} ${VIEW.h}" width="${width}" role="img" aria-label="${esc(label)}">`;
  return standalone ? `${head}<style>${SVG_CSS}</style>${DEFS}` : head;
}

/** The topology alone; `standalone` adds the CSS and markers a page would otherwise share. */
export function topologySvg(modeLabel = "", width: number = VIEW.w, standalone = false): string {
  return `${svgOpen("the HOWTO topology", width, standalone)}${topologyBody(modeLabel)}</svg>`;
}

/** The drawing node of a tapped device ("lo" is the namespace's own stack). */
function nodeOf(h: Pick<Hop, "place" | "dev">): NodeId {
  if (h.dev === "ipvl0" || h.dev === "ipvl1" || h.dev === "eth0" || h.dev === "ext0") return h.dev;
  return `${h.place}-stack`;
}

const SLAVES: readonly NodeId[] = ["ipvl0", "ipvl1"];

/** Corner points between two nodes: slaves reach everything else through the ipvlan port. */
function via(a: NodeId, b: NodeId): NodeId[] {
  const slaveA = SLAVES.includes(a);
  const slaveB = SLAVES.includes(b);
  if ((slaveA && !b.startsWith("ns")) || (slaveB && !a.startsWith("ns"))) {
    if (a !== "port" && b !== "port") return ["port"];
  }
  return [];
}

/** The nodes a packet went through: from its sender's stack, collapsing repeats. */
function nodePath(start: NodeId, hops: readonly Hop[], end: NodeId | null): NodeId[] {
  const seq: NodeId[] = [start];
  for (const h of hops) seq.push(nodeOf(h));
  if (end) seq.push(end);
  const out: NodeId[] = [];
  for (const n of seq) {
    if (out.at(-1) === n) continue;
    const prev = out.at(-1);
    if (prev) out.push(...via(prev, n));
    out.push(n);
  }
  return out;
}

/** Where the segment from a's centre towards b leaves a's shape. */
function border(a: Node, b: Node): [number, number] {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const t = Math.min(dx === 0 ? Infinity : a.hw / Math.abs(dx), dy === 0 ? Infinity : a.hh / Math.abs(dy));
  return [a.x + dx * Math.min(t, 0.5), a.y + dy * Math.min(t, 0.5)];
}

function r1(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Arrows along a node path, shifted sideways by `shift` so request and reply do not overlap. */
function arrows(
  path: readonly NodeId[],
  color: keyof typeof COLOR,
  shift: number,
  dash: string,
  w: number,
): string {
  const out: string[] = [];
  for (let i = 0; i + 1 < path.length; i++) {
    const a = NODES[path[i]!];
    const b = NODES[path[i + 1]!];
    const [x1, y1] = border(a, b);
    const [x2, y2] = border(b, a);
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const nx = (-(y2 - y1) / len) * shift;
    const ny = ((x2 - x1) / len) * shift;
    out.push(
      `<line x1="${r1(x1 + nx)}" y1="${r1(y1 + ny)}" x2="${r1(x2 + nx)}" y2="${r1(y2 + ny)}" stroke="${COLOR[color]}" stroke-width="${w}"${dash ? ` stroke-dasharray="${dash}"` : ""} marker-end="url(#ah-${color})"/>`,
    );
  }
  return out.join("");
}

/** The node of a place a ping stopped at. */
function stopNode(stop: Stop): NodeId {
  return stop.dev === null ? `${stop.place}-stack` : nodeOf({ place: stop.place, dev: stop.dev });
}

function isSlave(dev: string): boolean {
  return dev === "ipvl0" || dev === "ipvl1";
}

/** Where an ARP frame seen at `h` came from, given the frames seen before it (latest first). */
function arpSource(h: Hop, earlier: readonly Hop[]): NodeId | null {
  const n = nodeOf(h);
  if (h.dir === "out") {
    if (n !== "eth0") return `${h.place}-stack`;
    const slave = earlier.find((e) => e.dir === "out" && isSlave(e.dev) && e.note === h.note);
    return slave ? nodeOf(slave) : "root-stack";
  }
  if (n === "ext0") return "eth0";
  if (n === "eth0") return "ext0";
  if (!isSlave(h.dev)) return null;
  const src = earlier.find(
    (e) =>
      e.note === h.note &&
      ((e.dir === "in" && e.dev === "eth0") || (e.dir === "out" && isSlave(e.dev) && e.dev !== h.dev)),
  );
  return src ? nodeOf(src) : "eth0";
}

/**
 * The ARP frames' moves, each drawn once: a frame leaves its sender's stack; the master sends
 * out what a slave sends (L2) or what its own stack sends (L3, on behalf of a slave); slaves
 * get frames from a sibling slave or from what arrived on the master; the veth joins eth0/ext0.
 */
function arpPaths(p: ProbeResult): NodeId[][] {
  const seen = new Set<string>();
  const out: NodeId[][] = [];
  const add = (a: NodeId, b: NodeId) => {
    const key = `${a}>${b}`;
    if (a === b || seen.has(key)) return;
    seen.add(key);
    out.push(nodePath(a, [], b));
  };
  p.arp.forEach((h, i) => {
    const src = arpSource(h, p.arp.slice(0, i).reverse());
    if (src) add(src, nodeOf(h));
  });
  return out;
}

/** One probe's path on the topology; `standalone` as for topologySvg. */
export function probeSvg(p: ProbeResult, modeLabel: string, width = 372, standalone = false): string {
  const color = p.ok ? "ok" : "fail";
  const parts: string[] = [];
  for (const path of arpPaths(p)) parts.push(arrows(path, "arp", 0, "4 3", 2));
  const reqEnd = p.delivered ? (`${p.to}-stack` as NodeId) : null;
  const req = nodePath(`${p.from}-stack`, p.request, reqEnd);
  if (req.length > 1) parts.push(arrows(req, color, 5, "", 2.5));
  if (p.reply.length > 0) {
    const rep = nodePath(`${p.to}-stack`, p.reply, p.ok ? `${p.from}-stack` : null);
    parts.push(arrows(rep, color, 5, "6 4", 2.5));
  }
  if (p.stop) {
    const n = NODES[stopNode(p.stop)];
    const x = n.x + n.hw - 2;
    const y = n.y - n.hh + 2;
    parts.push(
      `<circle cx="${x}" cy="${y}" r="9" fill="${COLOR.fail}"/><path d="M${x - 4},${y - 4} L${x + 4},${y + 4} M${x + 4},${y - 4} L${x - 4},${y + 4}" stroke="#fff" stroke-width="2.2"/>`,
    );
  }
  const from = NODES[`${p.from}-stack`];
  parts.push(
    `<rect x="${from.x - from.hw}" y="${from.y - from.hh}" width="${2 * from.hw}" height="${2 * from.hh}" rx="${from.hh}" fill="none" stroke="${COLOR[color]}" stroke-width="3"/>`,
  );
  const title = `${p.from} → ${p.to} (${ADDR[p.to]}): ${p.ok ? "OK" : `FAIL, ${p.reason}`}`;
  return `${svgOpen(title, width, standalone)}<title>${esc(title)}</title>${topologyBody(modeLabel)}${parts.join("")}</svg>`;
}
