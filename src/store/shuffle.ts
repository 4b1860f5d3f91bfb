/**
 * Byte shuffle of numeric data (docs/store-format.md, the 'N' payload's codecs 1 and 2): element
 * i's byte b goes to b·n + i. Floats' sign, exponent and high mantissa bytes then sit together,
 * which the compressors shrink well, while random low bytes stay apart.
 *
 * The work is a transpose, done for every compressed result written and read (2 MiB each way in
 * the payload benchmark). When the element count is a multiple of 4 and the buffers are 4-byte
 * aligned on a little-endian machine, it goes 4 elements at a time as int32 words: one word of
 * each lane holds byte b of 4 consecutive elements, and a 4×4 byte transpose of 4 such words
 * (masks and shifts) gives 4 elements' words. That is 8 loads and 8 stores per 4 float64 elements
 * instead of 32 byte loads (or stores): 0.62 ms per 2 MiB instead of 1.02 ms on this project's VM
 * (minimum of 200; docs/design.md, "Compressed results at disk speed"). Anything else takes the
 * byte-wise loops, which give the same bytes.
 */
import os from 'node:os';

const littleEndian = os.endianness() === 'LE';

/** Shuffles `src` (elements of `stride` bytes) into `out` (by default a new buffer). */
export function shuffleBytes(src: Uint8Array, stride: number, out: Uint8Array = new Uint8Array(src.length)): Uint8Array {
  const n = Math.floor(src.length / stride);
  if (wordWise(src, out, stride, n)) {
    if (stride === 8) shuffleWords8(words(src, n * 2), words(out, n * 2), n / 4);
    else transposeWords4(words(src, n), words(out, n), n / 4, false);
    return out;
  }
  if (stride === 8 && src.byteOffset % 4 === 0) {
    shuffleElements8(new Uint32Array(src.buffer, src.byteOffset, n * 2), out, n);
    return out;
  }
  for (let b = 0; b < stride; b++) {
    const base = b * n;
    for (let i = 0; i < n; i++) out[base + i] = src[i * stride + b]!;
  }
  return out;
}

/** Any count of float64 elements read as two words each (the fallback of shuffleBytes). */
function shuffleElements8(w: Uint32Array, out: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const lo = w[2 * i]!;
    const hi = w[2 * i + 1]!;
    out[i] = lo;
    out[n + i] = lo >>> 8;
    out[2 * n + i] = lo >>> 16;
    out[3 * n + i] = lo >>> 24;
    out[4 * n + i] = hi;
    out[5 * n + i] = hi >>> 8;
    out[6 * n + i] = hi >>> 16;
    out[7 * n + i] = hi >>> 24;
  }
}

/** The inverse of shuffleBytes, into `out` (by default a new buffer). */
export function unshuffleBytes(src: Uint8Array, stride: number, out: Uint8Array = new Uint8Array(src.length)): Uint8Array {
  const n = Math.floor(src.length / stride);
  if (wordWise(src, out, stride, n)) {
    if (stride === 8) unshuffleWords8(words(src, n * 2), words(out, n * 2), n / 4);
    else transposeWords4(words(src, n), words(out, n), n / 4, true);
    return out;
  }
  if (stride === 8 && out.byteOffset % 4 === 0) {
    unshuffleElements8(src, new Uint32Array(out.buffer, out.byteOffset, n * 2), n);
    return out;
  }
  for (let b = 0; b < stride; b++) {
    const base = b * n;
    for (let i = 0; i < n; i++) out[i * stride + b] = src[base + i]!;
  }
  return out;
}

/** Any count of float64 elements written as two words each (the fallback of unshuffleBytes). */
function unshuffleElements8(src: Uint8Array, w: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    w[2 * i] = src[i]! | (src[n + i]! << 8) | (src[2 * n + i]! << 16) | (src[3 * n + i]! << 24);
    w[2 * i + 1] = src[4 * n + i]! | (src[5 * n + i]! << 8) | (src[6 * n + i]! << 16) | (src[7 * n + i]! << 24);
  }
}

/** Whether the word-wise transpose applies: whole groups of 4 elements, aligned lanes, little-endian. */
function wordWise(src: Uint8Array, out: Uint8Array, stride: number, n: number): boolean {
  return (
    littleEndian &&
    (stride === 8 || stride === 4) &&
    n > 0 &&
    n % 4 === 0 &&
    src.byteOffset % 4 === 0 &&
    out.byteOffset % 4 === 0 &&
    out.length >= n * stride
  );
}

function words(bytes: Uint8Array, count: number): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset, count);
}

// A 4×4 byte transpose of words r0..r3 (row k = word k, column j = byte j, little-endian) is done
// in two steps: bytes swapped between pairs of rows (p*), then 16-bit halves (the results).
// Column j of the input is word j of the output.

/** float64 elements from 8 lanes of `groups` words each: s (lanes) → w (elements). */
function unshuffleWords8(s: Int32Array, w: Int32Array, groups: number): void {
  const g1 = groups, g2 = 2 * groups, g3 = 3 * groups, g4 = 4 * groups, g5 = 5 * groups, g6 = 6 * groups, g7 = 7 * groups;
  for (let g = 0, o = 0; g < groups; g++, o += 8) {
    const l0 = s[g]!, l1 = s[g1 + g]!, l2 = s[g2 + g]!, l3 = s[g3 + g]!;
    const l4 = s[g4 + g]!, l5 = s[g5 + g]!, l6 = s[g6 + g]!, l7 = s[g7 + g]!;
    const a0 = (l0 & 0x00ff00ff) | ((l1 & 0x00ff00ff) << 8);
    const a1 = ((l0 >>> 8) & 0x00ff00ff) | (l1 & 0xff00ff00);
    const a2 = (l2 & 0x00ff00ff) | ((l3 & 0x00ff00ff) << 8);
    const a3 = ((l2 >>> 8) & 0x00ff00ff) | (l3 & 0xff00ff00);
    const b0 = (l4 & 0x00ff00ff) | ((l5 & 0x00ff00ff) << 8);
    const b1 = ((l4 >>> 8) & 0x00ff00ff) | (l5 & 0xff00ff00);
    const b2 = (l6 & 0x00ff00ff) | ((l7 & 0x00ff00ff) << 8);
    const b3 = ((l6 >>> 8) & 0x00ff00ff) | (l7 & 0xff00ff00);
    w[o] = (a0 & 0xffff) | (a2 << 16);
    w[o + 1] = (b0 & 0xffff) | (b2 << 16);
    w[o + 2] = (a1 & 0xffff) | (a3 << 16);
    w[o + 3] = (b1 & 0xffff) | (b3 << 16);
    w[o + 4] = (a0 >>> 16) | (a2 & 0xffff0000);
    w[o + 5] = (b0 >>> 16) | (b2 & 0xffff0000);
    w[o + 6] = (a1 >>> 16) | (a3 & 0xffff0000);
    w[o + 7] = (b1 >>> 16) | (b3 & 0xffff0000);
  }
}

/** The inverse of unshuffleWords8: s (elements) → w (8 lanes of `groups` words each). */
function shuffleWords8(s: Int32Array, w: Int32Array, groups: number): void {
  const g1 = groups, g2 = 2 * groups, g3 = 3 * groups, g4 = 4 * groups, g5 = 5 * groups, g6 = 6 * groups, g7 = 7 * groups;
  for (let g = 0, o = 0; g < groups; g++, o += 8) {
    const e0 = s[o]!, e1 = s[o + 2]!, e2 = s[o + 4]!, e3 = s[o + 6]!; // low words of elements 0..3
    const f0 = s[o + 1]!, f1 = s[o + 3]!, f2 = s[o + 5]!, f3 = s[o + 7]!; // high words
    const a0 = (e0 & 0x00ff00ff) | ((e1 & 0x00ff00ff) << 8);
    const a1 = ((e0 >>> 8) & 0x00ff00ff) | (e1 & 0xff00ff00);
    const a2 = (e2 & 0x00ff00ff) | ((e3 & 0x00ff00ff) << 8);
    const a3 = ((e2 >>> 8) & 0x00ff00ff) | (e3 & 0xff00ff00);
    const b0 = (f0 & 0x00ff00ff) | ((f1 & 0x00ff00ff) << 8);
    const b1 = ((f0 >>> 8) & 0x00ff00ff) | (f1 & 0xff00ff00);
    const b2 = (f2 & 0x00ff00ff) | ((f3 & 0x00ff00ff) << 8);
    const b3 = ((f2 >>> 8) & 0x00ff00ff) | (f3 & 0xff00ff00);
    w[g] = (a0 & 0xffff) | (a2 << 16);
    w[g1 + g] = (a1 & 0xffff) | (a3 << 16);
    w[g2 + g] = (a0 >>> 16) | (a2 & 0xffff0000);
    w[g3 + g] = (a1 >>> 16) | (a3 & 0xffff0000);
    w[g4 + g] = (b0 & 0xffff) | (b2 << 16);
    w[g5 + g] = (b1 & 0xffff) | (b3 << 16);
    w[g6 + g] = (b0 >>> 16) | (b2 & 0xffff0000);
    w[g7 + g] = (b1 >>> 16) | (b3 & 0xffff0000);
  }
}

/**
 * 4-byte elements, 4 lanes of `groups` words: `toElements` reads the lanes of s and writes
 * elements to w; otherwise the reverse (the same transpose, indexed the other way round).
 */
function transposeWords4(s: Int32Array, w: Int32Array, groups: number, toElements: boolean): void {
  const g1 = groups, g2 = 2 * groups, g3 = 3 * groups;
  for (let g = 0, o = 0; g < groups; g++, o += 4) {
    const r0 = toElements ? s[g]! : s[o]!;
    const r1 = toElements ? s[g1 + g]! : s[o + 1]!;
    const r2 = toElements ? s[g2 + g]! : s[o + 2]!;
    const r3 = toElements ? s[g3 + g]! : s[o + 3]!;
    const a0 = (r0 & 0x00ff00ff) | ((r1 & 0x00ff00ff) << 8);
    const a1 = ((r0 >>> 8) & 0x00ff00ff) | (r1 & 0xff00ff00);
    const a2 = (r2 & 0x00ff00ff) | ((r3 & 0x00ff00ff) << 8);
    const a3 = ((r2 >>> 8) & 0x00ff00ff) | (r3 & 0xff00ff00);
    const c0 = (a0 & 0xffff) | (a2 << 16);
    const c1 = (a1 & 0xffff) | (a3 << 16);
    const c2 = (a0 >>> 16) | (a2 & 0xffff0000);
    const c3 = (a1 >>> 16) | (a3 & 0xffff0000);
    if (toElements) {
      w[o] = c0;
      w[o + 1] = c1;
      w[o + 2] = c2;
      w[o + 3] = c3;
    } else {
      w[g] = c0;
      w[g1 + g] = c1;
      w[g2 + g] = c2;
      w[g3 + g] = c3;
    }
  }
}
