/**
 * The port's address table (port->hlhead in ipvlan.h), built for the data path: keys are read
 * straight from frame bytes, a lookup costs the same for 2 or 4096 slaves and allocates nothing.
 */
import { IPVL_IPV4 } from "./consts.ts";

/** What the table stores: an address and the port slot of the slave owning it (IpvlAddr). */
export interface IpvlTableEntry {
  readonly atype: number;
  readonly ip4: number;
  readonly ip6: bigint;
  readonly master: { readonly slot: number };
}

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function readBe32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

function hash6(a: number, b: number, c: number, d: number, secret: number): number {
  return mix32(Math.imul(mix32(a ^ secret) + b, 0x9e3779b1) ^ Math.imul(c + 0x7f4a7c15, 0x85ebca77) ^ d);
}

/** The four big-endian 32-bit words of an IPv6 address, as signed integers. */
export function words6(ip: bigint): [number, number, number, number] {
  return [
    Number((ip >> 96n) & 0xffffffffn) | 0,
    Number((ip >> 64n) & 0xffffffffn) | 0,
    Number((ip >> 32n) & 0xffffffffn) | 0,
    Number(ip & 0xffffffffn) | 0,
  ];
}

const INITIAL_SLOTS = 64;
/** IPv4 entry: key, owner slot + 1 (0 = empty). */
const E4 = 2;
/** IPv6 entry: four key words, owner slot + 1 (0 = empty). */
const E6 = 5;

/**
 * The port's address table (port->hlhead): exact-match IPv4 and IPv6 keys, shared by all slaves.
 * Linear-probing open addressing with a seeded hash (the kernel uses jhash with a boot-time
 * secret), load ≤ 1/2, backward-shift deletion (no tombstones). Each entry keeps its key and
 * the owner's port slot side by side in one Int32Array, so the receive fast path finds the
 * target slave in one cache line without touching the IpvlAddr; `get4`/`get6*` return the
 * IpvlAddr for everything else.
 */
export class IpvlAddrTable<A extends IpvlTableEntry> {
  readonly #secret: number;
  #mask4 = INITIAL_SLOTS - 1;
  #e4 = new Int32Array(INITIAL_SLOTS * E4);
  #v4: (A | null)[] = new Array<A | null>(INITIAL_SLOTS).fill(null);
  #n4 = 0;
  #mask6 = INITIAL_SLOTS - 1;
  #e6 = new Int32Array(INITIAL_SLOTS * E6);
  #v6: (A | null)[] = new Array<A | null>(INITIAL_SLOTS).fill(null);
  #n6 = 0;

  constructor(secret: number) {
    this.#secret = secret | 0;
  }

  /** Number of hashed addresses. */
  get size(): number {
    return this.#n4 + this.#n6;
  }

  #find4(k: number): number {
    const e = this.#e4;
    const mask = this.#mask4;
    let i = mix32(k ^ this.#secret) & mask;
    for (;;) {
      const j = i * E4;
      const owner = e[j + 1];
      if (owner === 0) return -1;
      if (e[j] === k) return i;
      i = (i + 1) & mask;
    }
  }

  #find6(a: number, b: number, c: number, d: number): number {
    const e = this.#e6;
    const mask = this.#mask6;
    let i = hash6(a, b, c, d, this.#secret) & mask;
    for (;;) {
      const j = i * E6;
      if (e[j + 4] === 0) return -1;
      if (e[j] === a && e[j + 1] === b && e[j + 2] === c && e[j + 3] === d) return i;
      i = (i + 1) & mask;
    }
  }

  /** The port slot of the slave owning IPv4 `ip` (unsigned or signed 32-bit), or -1. */
  slot4(ip: number): number {
    const i = this.#find4(ip | 0);
    return i < 0 ? -1 : this.#e4[i * E4 + 1] - 1;
  }

  /** The port slot of the slave owning the IPv6 address at `buf[off..off+16)`, or -1. */
  slot6At(buf: Uint8Array, off: number): number {
    const i = this.#find6(
      readBe32(buf, off),
      readBe32(buf, off + 4),
      readBe32(buf, off + 8),
      readBe32(buf, off + 12),
    );
    return i < 0 ? -1 : this.#e6[i * E6 + 4] - 1;
  }

  /** The IPv4 entry for `ip`, or null. */
  get4(ip: number): A | null {
    const i = this.#find4(ip | 0);
    return i < 0 ? null : this.#v4[i];
  }

  /** The IPv6 entry whose 16 bytes start at `buf[off]`, or null (no bigint is built). */
  get6At(buf: Uint8Array, off: number): A | null {
    const i = this.#find6(
      readBe32(buf, off),
      readBe32(buf, off + 4),
      readBe32(buf, off + 8),
      readBe32(buf, off + 12),
    );
    return i < 0 ? null : this.#v6[i];
  }

  /** The IPv6 entry for `ip`, or null. */
  get6(ip: bigint): A | null {
    const [a, b, c, d] = words6(ip);
    const i = this.#find6(a, b, c, d);
    return i < 0 ? null : this.#v6[i];
  }

  /** Inserts addr (the caller checked its key is not present). */
  add(addr: A): void {
    if (addr.atype === IPVL_IPV4) {
      if ((this.#n4 + 1) * 2 > this.#v4.length) this.#grow4();
      this.#insert4(addr);
      this.#n4++;
    } else {
      if ((this.#n6 + 1) * 2 > this.#v6.length) this.#grow6();
      this.#insert6(addr);
      this.#n6++;
    }
  }

  /** Removes addr if it is the entry stored for its key. */
  delete(addr: A): void {
    if (addr.atype === IPVL_IPV4) {
      const i = this.#find4(addr.ip4 | 0);
      if (i < 0 || this.#v4[i] !== addr) return;
      this.#n4--;
      this.#shift4(i);
    } else {
      const [a, b, c, d] = words6(addr.ip6);
      const i = this.#find6(a, b, c, d);
      if (i < 0 || this.#v6[i] !== addr) return;
      this.#n6--;
      this.#shift6(i);
    }
  }

  #insert4(addr: A): void {
    const k = addr.ip4 | 0;
    const mask = this.#mask4;
    let i = mix32(k ^ this.#secret) & mask;
    while (this.#v4[i] !== null) i = (i + 1) & mask;
    this.#e4[i * E4] = k;
    this.#e4[i * E4 + 1] = addr.master.slot + 1;
    this.#v4[i] = addr;
  }

  #insert6(addr: A): void {
    const w = words6(addr.ip6);
    const mask = this.#mask6;
    let i = hash6(w[0], w[1], w[2], w[3], this.#secret) & mask;
    while (this.#v6[i] !== null) i = (i + 1) & mask;
    this.#e6.set(w, i * E6);
    this.#e6[i * E6 + 4] = addr.master.slot + 1;
    this.#v6[i] = addr;
  }

  /** Backward-shift deletion: later members of the probe run move into the hole. */
  #shift4(hole: number): void {
    const mask = this.#mask4;
    const e = this.#e4;
    let i = hole;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const v = this.#v4[j];
      if (v === null) break;
      const home = mix32(e[j * E4] ^ this.#secret) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        e.copyWithin(i * E4, j * E4, j * E4 + E4);
        this.#v4[i] = v;
        i = j;
      }
    }
    e.fill(0, i * E4, i * E4 + E4);
    this.#v4[i] = null;
  }

  #shift6(hole: number): void {
    const mask = this.#mask6;
    const e = this.#e6;
    let i = hole;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const v = this.#v6[j];
      if (v === null) break;
      const k = j * E6;
      const home = hash6(e[k], e[k + 1], e[k + 2], e[k + 3], this.#secret) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        e.copyWithin(i * E6, k, k + E6);
        this.#v6[i] = v;
        i = j;
      }
    }
    e.fill(0, i * E6, i * E6 + E6);
    this.#v6[i] = null;
  }

  #grow4(): void {
    const old = this.#v4;
    const n = old.length * 2;
    this.#mask4 = n - 1;
    this.#e4 = new Int32Array(n * E4);
    this.#v4 = new Array<A | null>(n).fill(null);
    for (const v of old) if (v !== null) this.#insert4(v);
  }

  #grow6(): void {
    const old = this.#v6;
    const n = old.length * 2;
    this.#mask6 = n - 1;
    this.#e6 = new Int32Array(n * E6);
    this.#v6 = new Array<A | null>(n).fill(null);
    for (const v of old) if (v !== null) this.#insert6(v);
  }
}
