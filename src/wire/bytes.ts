/**
 * Big-endian field access on `Uint8Array`, shared by the codecs. Direct indexing is several
 * times faster than `DataView` on Node 20. Callers guarantee the offsets are in bounds.
 * @module
 */

/** Reads a big-endian u16 at `off`. */
export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** Reads a big-endian u32 at `off` (unsigned). */
export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Writes the low 16 bits of `value` big-endian at `off`. */
export function writeU16(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value >>> 8;
  buf[off + 1] = value;
}

/** Writes the low 32 bits of `value` big-endian at `off`. */
export function writeU32(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value >>> 24;
  buf[off + 1] = value >>> 16;
  buf[off + 2] = value >>> 8;
  buf[off + 3] = value;
}

/** Copies `src` into `dst` at `off`, skipping the copy when `src` already sits there (zero-copy emit). */
export function copyInto(dst: Uint8Array, off: number, src: Uint8Array): void {
  if (src.buffer === dst.buffer && src.byteOffset === dst.byteOffset + off) return;
  dst.set(src, off);
}

/** True when every byte of `buf[start, end)` is zero. */
export function allZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** A shared empty byte array for reprs without options or data. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
