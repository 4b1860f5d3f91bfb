#!/usr/bin/env node
/**
 * The byte shuffle of numeric results (src/store/shuffle.ts) against the loops it replaced (one
 * byte, or one element's two words, at a time; copied below), on 2 MiB of the payload benchmark's
 * LCG values in memory already touched. Prints the minimum over --reps runs of each (ms per 2 MiB):
 * on a shared machine the minimum is the figure least disturbed by other processes.
 *
 *   node --import tsx benchmarks/shuffle-kernels.mjs [--reps N]
 */
import { shuffleBytes, unshuffleBytes } from '../src/store/shuffle.ts';

const i = process.argv.indexOf('--reps');
const reps = i < 0 ? 200 : Number(process.argv[i + 1]);
const M = 262144;
const values = new Float64Array(M);
let x = 1;
for (let k = 0; k < M; k++) values[k] = (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
const src = new Uint8Array(values.buffer);

/** The element-wise loops used until this file (stride 8, aligned). */
function oldShuffle8(s, out) {
  const n = s.length / 8;
  const w = new Uint32Array(s.buffer, s.byteOffset, n * 2);
  for (let k = 0; k < n; k++) {
    const lo = w[2 * k];
    const hi = w[2 * k + 1];
    out[k] = lo;
    out[n + k] = lo >>> 8;
    out[2 * n + k] = lo >>> 16;
    out[3 * n + k] = lo >>> 24;
    out[4 * n + k] = hi;
    out[5 * n + k] = hi >>> 8;
    out[6 * n + k] = hi >>> 16;
    out[7 * n + k] = hi >>> 24;
  }
  return out;
}
function oldUnshuffle8(s, out) {
  const n = s.length / 8;
  const w = new Uint32Array(out.buffer, out.byteOffset, n * 2);
  for (let k = 0; k < n; k++) {
    w[2 * k] = s[k] | (s[n + k] << 8) | (s[2 * n + k] << 16) | (s[3 * n + k] << 24);
    w[2 * k + 1] = s[4 * n + k] | (s[5 * n + k] << 8) | (s[6 * n + k] << 16) | (s[7 * n + k] << 24);
  }
  return out;
}

const shuffled = shuffleBytes(src, 8);
if (Buffer.compare(Buffer.from(oldShuffle8(src, new Uint8Array(src.length))), Buffer.from(shuffled)) !== 0) throw new Error('shuffles differ');
const out = new Uint8Array(src.length);
const kernels = {
  'shuffle, element-wise (before)': () => oldShuffle8(src, out),
  'shuffle, 4x4 word transpose': () => shuffleBytes(src, 8, out),
  'unshuffle, element-wise (before)': () => oldUnshuffle8(shuffled, out),
  'unshuffle, 4x4 word transpose': () => unshuffleBytes(shuffled, 8, out),
};
const best = {};
for (let r = 0; r < reps; r++) {
  for (const [name, f] of Object.entries(kernels)) {
    const t = performance.now();
    f();
    best[name] = Math.min(best[name] ?? Infinity, performance.now() - t);
  }
}
for (const [name, ms] of Object.entries(best)) console.log(`${name}: ${ms.toFixed(3)} ms per 2 MiB (minimum of ${reps})`);
