#!/usr/bin/env node
/**
 * Store throughput for typed arrays, in-process (the payload workload runs it as a child):
 * writes N results of M float64 (a Float64Array each) through FileStore, one after the other,
 * each durable (fsync) before the next starts, then loads them all back with a new FileStore.
 * Prints one JSON line: { writeMBs, loadMBs, bytes, files }. MB = 10^6 bytes of array data.
 *
 *   node benchmarks/lib/store-throughput.mjs <jugdir> <double|lcg> [N] [M]
 *
 * The loads read files the writes just left in the page cache: this is the decode path's speed
 * (read, CRC, decompress, copy), not the disk's read speed.
 */
import { performance } from 'node:perf_hooks';
import { FileStore } from '../../dist/index.js';

const [jugdir, values = 'double', nArg = '50', mArg = '262144'] = process.argv.slice(2);
const N = Number(nArg);
const M = Number(mArg);

function make(seed) {
  const out = new Float64Array(M);
  if (values === 'lcg') {
    let x = seed + 1;
    for (let i = 0; i < M; i++) out[i] = (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  } else {
    let a = (seed * 0x9e3779b1 + 1) >>> 0;
    const u32 = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
    for (let i = 0; i < M; i++) out[i] = ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
  }
  return out;
}

const arrays = Array.from({ length: N }, (_, i) => make(i));
const hashes = arrays.map((_, i) => (i + 1).toString(16).padStart(40, 'a'));
const bytes = N * M * 8;

const writer = new FileStore(jugdir);
const t0 = performance.now();
for (let i = 0; i < N; i++) await writer.dump(hashes[i], arrays[i], `throughput.t${i}`);
const writeMs = performance.now() - t0;
await writer.close();

const reader = new FileStore(jugdir);
let check = 0;
const t1 = performance.now();
for (let i = 0; i < N; i++) check += (await reader.load(hashes[i]))[M - 1];
const loadMs = performance.now() - t1;
await reader.close();
const expected = arrays.reduce((s, a) => s + a[M - 1], 0);
if (check !== expected) throw new Error(`loaded values differ from those written (${check} vs ${expected})`);
process.stdout.write(JSON.stringify({ writeMBs: bytes / 1e6 / (writeMs / 1000), loadMBs: bytes / 1e6 / (loadMs / 1000), writeMs, loadMs, bytes, files: N }) + '\n');
