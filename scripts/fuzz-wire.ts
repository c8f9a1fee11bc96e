/**
 * Standalone robustness fuzzer for src/wire (not part of the test run). Generates random frames
 * and mutations of frames captured from a Linux kernel (truncation, bit flips, lying length
 * fields, inserted/deleted bytes), parses every layer through pretty.ts, and counts outcomes.
 * Fails (exit 1) if anything but a WireError escapes a parser, or if a parsed frame does not
 * survive emit-then-parse unchanged. Prints one JSON summary line.
 *
 * Usage: node dist/scripts/fuzz-wire.js [frames=3000000] [seed=1]
 */

import {
  CHECKSUM_CAPS_DEFAULT,
  CHECKSUM_CAPS_NONE,
  emitFrame,
  type FrameRepr,
  formatFrameRepr,
  parseFrame,
  WireError,
} from "../src/wire/index.ts";
// Test support from src/wire (captured frames and the mutation engine); not public API.
import { FRAMES } from "../src/wire/test-frames.ts";
import { below, createRng, mutateFrame, randomFrame } from "../src/wire/test-mutate.ts";

function argInt(index: number, fallback: number): number {
  const text = process.argv[index];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`Cannot parse argument "${text}": expected a non-negative integer`);
    process.exit(2);
  }
  return n;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

function layerOf(f: FrameRepr): string {
  if (f.udp !== undefined) return "udp";
  if (f.tcp !== undefined) return "tcp";
  if (f.icmpv4 !== undefined) return `icmpv4.${f.icmpv4.kind}`;
  if (f.icmpv6 !== undefined) return `icmpv6.${f.icmpv6.kind}`;
  if (f.arp !== undefined) return "arp";
  if (f.ipv4 !== undefined) return "ipv4.raw";
  if (f.ipv6 !== undefined) return "ipv6.raw";
  return "ethernet.raw";
}

function sameRepr(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameRepr((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const total = argInt(2, 3_000_000);
const seed = argInt(3, 1);
const rng = createRng(seed);
const seeds = Object.values(FRAMES);
const outcomes: Record<string, number> = {
  parsed: 0,
  truncated: 0,
  malformed: 0,
  checksum: 0,
  unsupported: 0,
};
const layers: Record<string, number> = {};
let escaped = 0;
let unstable = 0;
const started = performance.now();

for (let i = 0; i < total; i++) {
  const bytes = below(rng, 4) === 0 ? randomFrame(rng) : mutateFrame(seeds[below(rng, seeds.length)], rng);
  const caps = i % 2 === 0 ? CHECKSUM_CAPS_NONE : CHECKSUM_CAPS_DEFAULT;
  let repr: FrameRepr;
  try {
    repr = parseFrame(bytes, caps);
    formatFrameRepr(repr);
  } catch (e) {
    if (e instanceof WireError) {
      outcomes[e.kind]++;
      continue;
    }
    escaped++;
    if (escaped <= 10) console.error(`escaped at frame ${i}: ${String(e)}\n  frame ${hex(bytes)}`);
    continue;
  }
  outcomes.parsed++;
  const layer = layerOf(repr);
  layers[layer] = (layers[layer] ?? 0) + 1;
  try {
    const again = parseFrame(emitFrame(repr));
    if (!sameRepr(again, repr)) throw new Error("emit then parse changed the repr");
  } catch (e) {
    unstable++;
    if (unstable <= 10) console.error(`unstable at frame ${i}: ${String(e)}\n  frame ${hex(bytes)}`);
  }
}

const ms = performance.now() - started;
console.log(
  JSON.stringify({
    name: "wire.fuzz",
    frames: total,
    seed,
    outcomes,
    layers: Object.fromEntries(Object.entries(layers).sort(([a], [b]) => a.localeCompare(b))),
    escaped,
    unstable,
    seconds: Math.round(ms) / 1000,
    framesPerSec: Math.round((total / ms) * 1000),
  }),
);
if (escaped > 0 || unstable > 0) process.exit(1);
