#!/usr/bin/env node
/**
 * Store throughput for typed arrays, in-process (the payload workload runs it as a child):
 * writes N results of M float64 (a Float64Array each) through FileStore, one after the other,
 * each durable (fsync) before the next starts, then loads them all back with a new FileStore.
 * The machine's own bounds are measured alongside, without jug: the same arrays written with
 * plain fs calls (open, writev, fsync, close, rename, fsync of the directory: the least a durable
 * store does), each plain write interleaved with jug's write of the same array — the first of the
 * two to write an array alternating, as the kernel's first read of an array's memory costs several
 * times a later one on this project's VM (docs/design.md, "Write throughput through dump()") —
 * and read back with plain fs calls into new typed arrays and CRC-checked, each raw read interleaved
 * with jug's load of the same array (so both meet the same allocator state: fresh memory or memory
 * freed by the previous loads); then the raw reads into one reused array (no page faults of fresh
 * memory). Prints one JSON line:
 *   { writeMBs, loadMBs, rawWriteMBs, rawLoadMBs, reusedLoadMBs, writeMs, rawWriteMs, writeCpuMs, loadMs, loadCpuMs,
 *     dirtyBefore: { dirtyKiB, writebackKiB } (the machine's, just before the first timed write), bytes, files }
 * MB = 10^6 bytes of array data.
 *
 *   node benchmarks/lib/store-throughput.mjs <jugdir> <double|lcg> [N] [M]
 *
 * The loads read files the writes just left in the page cache: this is the decode path's speed
 * (read, CRC, decompress, copy), not the disk's read speed.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
// JUG_DIST: another checkout's dist/index.js (benchmarks/ab-throughput.mjs runs this probe against two).
const { FileStore } = await import(process.env.JUG_DIST ?? '../../dist/index.js');

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
const expected = arrays.reduce((s, a) => s + a[M - 1], 0);

const rawDir = join(jugdir, 'raw');
mkdirSync(rawDir, { recursive: true });

/** The least a durable store does, without jug: open, writev (16 bytes of header, the array's own memory), fsync, close, rename, fsync of the directory. */
function writeRaw(i, name = `t${i}`) {
  const tmp = join(rawDir, `${name}.tmp`);
  const fd = openSync(tmp, 'wx');
  writevSync(fd, [new Uint8Array(16), new Uint8Array(arrays[i].buffer)]);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, join(rawDir, name));
  const dfd = openSync(rawDir, 'r');
  fsyncSync(dfd);
  closeSync(dfd);
}

const writer = new FileStore(jugdir);
// Warm-up, untimed: the first dump loads zlib and starts the store's `sync -f` helper (a fork of
// this process, which holds the arrays: ~100 ms); throughput is what comes after.
await writer.dump('f'.repeat(40), new Float64Array(arrays[0]), 'throughput.warm-up');
writeRaw(0, 'warm-up');
const dirtyBefore = meminfoKiB();
// Interleaved, like the loads below, so that the two meet the same state of the kernel's
// writeback (the benchmark runs this right after Python Jug's and our payload runs, whose pages
// the disk may still be writing); and the one writing an array first alternates: on this VM the
// first write(2) of an array costs several times the second of the same bytes (docs/design.md).
let writeMs = 0;
let rawWriteMs = 0;
/** The process's CPU time (all threads, user + system) during jug's writes: steadier than wall time on a loaded machine. */
let writeCpuMs = 0;
for (let i = 0; i < N; i++) {
  const jugFirst = i % 2 === 0;
  if (!jugFirst) rawWriteMs += timed(() => writeRaw(i));
  const a = performance.now();
  const cpu = process.cpuUsage();
  await writer.dump(hashes[i], arrays[i], `throughput.t${i}`);
  const used = process.cpuUsage(cpu);
  writeMs += performance.now() - a;
  writeCpuMs += (used.user + used.system) / 1000;
  if (jugFirst) rawWriteMs += timed(() => writeRaw(i));
}
await writer.close();

function timed(f) {
  const a = performance.now();
  f();
  return performance.now() - a;
}

/** Dirty and Writeback pages of the whole machine (/proc/meminfo, KiB), or undefined off Linux. */
function meminfoKiB() {
  try {
    const text = readFileSync('/proc/meminfo', 'utf8');
    const get = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
    return { dirtyKiB: get('Dirty'), writebackKiB: get('Writeback') };
  } catch {
    return undefined;
  }
}

/**
 * A plain read of raw file i (16 bytes of header skipped) into `into`, and a CRC-32 of the bytes
 * read: the least a store that checks what it reads does (and the CRC, like any consumer, touches
 * the new memory from user space, which on some VMs costs more than the read itself).
 */
function readRaw(i, into) {
  const fd = openSync(join(rawDir, `t${i}`), 'r');
  readSync(fd, into, 0, into.byteLength, 16);
  closeSync(fd);
  crcs += zlib.crc32(new Uint8Array(into.buffer, into.byteOffset, into.byteLength)) & 1;
  return into;
}
let crcs = 0;

const reader = new FileStore(jugdir);
let check = 0;
let rawCheck = 0;
let loadMs = 0;
let rawLoadMs = 0;
/** The process's CPU time (all threads, user + system) during jug's loads. */
let loadCpuMs = 0;
for (let i = 0; i < N; i++) {
  const a = performance.now();
  const cpu = process.cpuUsage();
  check += (await reader.load(hashes[i]))[M - 1];
  const used = process.cpuUsage(cpu);
  loadCpuMs += (used.user + used.system) / 1000;
  const b = performance.now();
  rawCheck += readRaw(i, new Float64Array(M))[M - 1];
  loadMs += b - a;
  rawLoadMs += performance.now() - b;
}
await reader.close();
const reused = new Float64Array(M);
const t2 = performance.now();
for (let i = 0; i < N; i++) rawCheck += readRaw(i, reused)[M - 1];
const reusedLoadMs = performance.now() - t2;
if (check !== expected) throw new Error(`loaded values differ from those written (${check} vs ${expected})`);
if (rawCheck !== 2 * expected) throw new Error('raw reads differ from the arrays written');
const mbs = (ms) => bytes / 1e6 / (ms / 1000);
process.stdout.write(
  JSON.stringify({
    writeMBs: mbs(writeMs),
    loadMBs: mbs(loadMs),
    rawWriteMBs: mbs(rawWriteMs),
    rawLoadMBs: mbs(rawLoadMs),
    reusedLoadMBs: mbs(reusedLoadMs),
    writeMs,
    rawWriteMs,
    writeCpuMs,
    loadMs,
    loadCpuMs,
    dirtyBefore,
    bytes,
    files: N,
  }) + '\n',
);
