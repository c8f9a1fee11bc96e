/**
 * Seeded generation of random and mutated frames for robustness tests and `scripts/fuzz-wire.ts`:
 * truncation, bit flips, byte stomps, length fields set to lies, inserted and deleted bytes.
 * Test support, not public API; no dependencies so the fuzz script can use it.
 * @module
 */

import { internetChecksum } from "./checksum.ts";

/** A source of uniformly distributed unsigned 32-bit integers. */
export type Rng = () => number;

/** A small, fast, seeded PRNG (mulberry32); the same seed gives the same sequence. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** An integer in `[0, n)`. */
export function below(rng: Rng, n: number): number {
  return n <= 0 ? 0 : rng() % n;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[below(rng, items.length)];
}

type LengthField = { readonly off: number; readonly size: 1 | 2; readonly value: number };

/**
 * Offsets of the length-like fields of a frame (ethertype, IHL, total/payload length, next header,
 * extension header lengths, UDP length, TCP data offset, option lengths), found leniently.
 */
export function lengthFields(f: Uint8Array): LengthField[] {
  const out: LengthField[] = [];
  const u8 = (off: number): void => {
    if (off < f.length) out.push({ off, size: 1, value: f[off] });
  };
  const u16 = (off: number): void => {
    if (off + 1 < f.length) out.push({ off, size: 2, value: (f[off] << 8) | f[off + 1] });
  };
  if (f.length < 14) return out;
  let l3 = 14;
  let type = (f[12] << 8) | f[13];
  if (type === 0x8100 && f.length >= 18) {
    l3 = 18;
    type = (f[16] << 8) | f[17];
  }
  let l4 = -1;
  let proto = -1;
  if (type === 0x0800 && f.length >= l3 + 20) {
    u8(l3);
    u16(l3 + 2);
    u16(l3 + 6);
    u8(l3 + 9);
    l4 = l3 + (f[l3] & 0xf) * 4;
    proto = f[l3 + 9];
    for (let o = l3 + 20; o + 1 < l4 && o + 1 < f.length; o += 4) u8(o + 1);
  } else if (type === 0x86dd && f.length >= l3 + 40) {
    u16(l3 + 4);
    u8(l3 + 6);
    let next = f[l3 + 6];
    let off = l3 + 40;
    for (
      let n = 0;
      n < 8 && (next === 0 || next === 43 || next === 44 || next === 60) && off + 8 <= f.length;
      n++
    ) {
      u8(off);
      u8(off + 1);
      if (next !== 44 && off + 3 < f.length) u8(off + 3);
      const len = next === 44 ? 8 : (f[off + 1] + 1) * 8;
      next = f[off];
      off += len;
    }
    l4 = off;
    proto = next;
  }
  if (l4 < 0 || l4 >= f.length) return out;
  if (proto === 17) u16(l4 + 4);
  else if (proto === 6) {
    u8(l4 + 12);
    for (let o = l4 + 20; o + 1 < Math.min(f.length, l4 + (f[l4 + 12] >>> 4) * 4); o++) u8(o);
  } else if (proto === 58) {
    u8(l4);
    u8(l4 + 1);
    for (let o = l4 + 8; o + 1 < f.length; o += 8) u8(o + 1);
    u16(l4 + 6);
  } else if (proto === 1) u8(l4);
  return out;
}

function lie(rng: Rng, field: LengthField): number {
  const max = field.size === 1 ? 0xff : 0xffff;
  switch (below(rng, 6)) {
    case 0:
      return 0;
    case 1:
      return max;
    case 2:
      return (field.value + 1) & max;
    case 3:
      return (field.value - 1) & max;
    case 4:
      return below(rng, 64);
    default:
      return below(rng, max + 1);
  }
}

/** Recomputes the IPv4 header checksum if the frame looks like IPv4, so mutations reach deeper layers. */
export function refreshIpv4Checksum(f: Uint8Array): void {
  const l3 = f.length >= 18 && f[12] === 0x81 && f[13] === 0x00 ? 18 : 14;
  if (f.length < l3 + 20 || f[l3 - 2] !== 0x08 || f[l3 - 1] !== 0x00) return;
  const hl = (f[l3] & 0xf) * 4;
  if (hl < 20 || l3 + hl > f.length) return;
  f[l3 + 10] = 0;
  f[l3 + 11] = 0;
  const c = internetChecksum(f, l3, l3 + hl);
  f[l3 + 10] = c >>> 8;
  f[l3 + 11] = c;
}

/** Applies one to three random mutations to a copy of `frame`. */
export function mutateFrame(frame: Uint8Array, rng: Rng): Uint8Array {
  let f = frame.slice();
  const rounds = 1 + below(rng, 3);
  for (let r = 0; r < rounds; r++) {
    switch (below(rng, 9)) {
      case 0:
        f = f.slice(0, below(rng, f.length + 1));
        break;
      case 1:
        for (let n = 1 + below(rng, 4); n > 0 && f.length > 0; n--)
          f[below(rng, f.length)] ^= 1 << below(rng, 8);
        break;
      case 2:
        if (f.length > 0) f[below(rng, f.length)] = rng();
        break;
      case 3:
      case 4: {
        const fields = lengthFields(f);
        if (fields.length === 0) break;
        const field = pick(rng, fields);
        const v = lie(rng, field);
        if (field.size === 1) f[field.off] = v;
        else {
          f[field.off] = v >>> 8;
          f[field.off + 1] = v;
        }
        break;
      }
      case 5: {
        const at = below(rng, f.length + 1);
        const n = 1 + below(rng, 16);
        const g = new Uint8Array(f.length + n);
        g.set(f.subarray(0, at));
        for (let i = 0; i < n; i++) g[at + i] = rng();
        g.set(f.subarray(at), at + n);
        f = g;
        break;
      }
      case 6: {
        const at = below(rng, f.length);
        const n = Math.min(1 + below(rng, 16), f.length - at);
        const g = new Uint8Array(f.length - n);
        g.set(f.subarray(0, at));
        g.set(f.subarray(at + n), at);
        f = g;
        break;
      }
      case 7: {
        // An 802.1Q tag in front of the ethertype, as a trunk port would add.
        if (f.length < 14) break;
        const g = new Uint8Array(f.length + 4);
        g.set(f.subarray(0, 12));
        g.set([0x81, 0x00, rng() & 0xef, rng()], 12);
        g.set(f.subarray(12), 16);
        f = g;
        break;
      }
      default: {
        const g = new Uint8Array(f.length + 1 + below(rng, 32));
        g.set(f);
        for (let i = f.length; i < g.length; i++) g[i] = rng();
        f = g;
      }
    }
  }
  if (below(rng, 2) === 0) refreshIpv4Checksum(f);
  return f;
}

const ETHERTYPES = [0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x1234] as const;
const PROTOS = [1, 6, 17, 58, 0, 43, 44, 60, 59, 51, 2] as const;

/** A random frame: random bytes behind a plausible Ethernet and (often) IP header. */
export function randomFrame(rng: Rng): Uint8Array {
  const len = below(rng, 4) === 0 ? below(rng, 64) : 14 + below(rng, 200);
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = rng();
  if (len < 14) return f;
  const type = pick(rng, ETHERTYPES);
  f[12] = type >>> 8;
  f[13] = type;
  const l3 = 14;
  if (type === 0x0800 && len >= l3 + 20) {
    f[l3] = 0x45 + (below(rng, 3) === 0 ? below(rng, 11) : 0);
    const total = below(rng, 4) === 0 ? rng() & 0xffff : len - l3;
    f[l3 + 2] = total >>> 8;
    f[l3 + 3] = total;
    f[l3 + 6] &= below(rng, 2) === 0 ? 0x40 : 0xff;
    f[l3 + 7] = below(rng, 2) === 0 ? 0 : f[l3 + 7];
    f[l3 + 9] = pick(rng, PROTOS);
    if (below(rng, 4) !== 0) refreshIpv4Checksum(f);
  } else if (type === 0x86dd && len >= l3 + 40) {
    f[l3] = 0x60 | (f[l3] & 0xf);
    const payload = below(rng, 4) === 0 ? rng() & 0xffff : len - l3 - 40;
    f[l3 + 4] = payload >>> 8;
    f[l3 + 5] = payload;
    f[l3 + 6] = pick(rng, PROTOS);
  } else if (type === 0x0806 && len >= l3 + 8) {
    f.set([0, 1, 8, 0, 6, 4], l3);
  }
  return f;
}
