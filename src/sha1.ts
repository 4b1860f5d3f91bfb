/**
 * SHA-1 of short inputs in JavaScript, for task hashes (hash.ts).
 *
 * Every process hashes its whole graph at start-up: 50,000 tasks for a `jug status` of graph50k,
 * each input ~40 bytes (one or two 64-byte blocks). Through `crypto.hash()` each digest costs an
 * OpenSSL digest lookup, a Uint8Array view to pass the bytes and a call into C++: measured
 * ~1.5–2 µs per task, more than the digest itself. Here the digest runs on the hash writer's own
 * buffer (padded in place, no allocation) and the hex digest is written into a scratch buffer read
 * back as one flat Latin-1 string. The result is byte-for-byte SHA-1 (FIPS 180-4): test/sha1.test.ts
 * compares it with node:crypto for every length up to several blocks, and the golden vectors of
 * test/hash.test.ts pin the task hashes themselves. Long inputs (a task over 50,000 others) go
 * to node:crypto, which is faster per byte.
 */

/** Inputs longer than this (bytes) are hashed by node:crypto instead. */
export const JS_SHA1_MAX = 1024;

/** Bytes {@link sha1HexInPlace} may write past the input (padding: 0x80, zeros, 64-bit length). */
export const SHA1_PAD_ROOM = 72;

const W = new Int32Array(80);
const HEX_CODES = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]); // 0-9a-f
const hexOut = Buffer.allocUnsafe(40);

function putHex(x: number, at: number): void {
  for (let shift = 28; shift >= 0; shift -= 4) hexOut[at++] = HEX_CODES[(x >>> shift) & 15]!;
}

/**
 * SHA-1 of `buf[0, len)` as 40 lowercase hex characters. Pads the message in `buf` itself, so
 * `buf` must have {@link SHA1_PAD_ROOM} bytes of room after `len` (their content is overwritten).
 * For `len` up to {@link JS_SHA1_MAX}.
 */
export function sha1HexInPlace(buf: Uint8Array, len: number): string {
  const bits = len * 8;
  let end = len;
  buf[end++] = 0x80;
  while ((end & 63) !== 56) buf[end++] = 0;
  buf[end++] = 0;
  buf[end++] = 0;
  buf[end++] = 0;
  buf[end++] = 0; // high 32 bits of the bit length: inputs here are far below 512 MiB
  buf[end++] = (bits >>> 24) & 255;
  buf[end++] = (bits >>> 16) & 255;
  buf[end++] = (bits >>> 8) & 255;
  buf[end++] = bits & 255;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  for (let off = 0; off < end; off += 64) {
    for (let i = 0; i < 16; i++) {
      const p = off + i * 4;
      W[i] = (buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
    }
    for (let i = 16; i < 80; i++) {
      const x = W[i - 3]! ^ W[i - 8]! ^ W[i - 14]! ^ W[i - 16]!;
      W[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 20; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 20; i < 40; i++) {
      const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 40; i < 60; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + W[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 60; i < 80; i++) {
      const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + W[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  putHex(h0, 0);
  putHex(h1, 8);
  putHex(h2, 16);
  putHex(h3, 24);
  putHex(h4, 32);
  return hexOut.toString('latin1', 0, 40);
}
