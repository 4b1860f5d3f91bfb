#!/usr/bin/env node
/**
 * What loading many large results into new memory costs on this machine, without jug (docs/design.md,
 * "Reloading big results, round 3"). Writes one 2-MiB file of random doubles, then reads it N times
 * into new Float64Arrays kept alive (as a task summing them needs), checking a CRC-32 of each,
 * in one of these ways:
 *
 *   sync        readSync then zlib.crc32, on the main thread (jug before the read-ahead)
 *   touch       as sync, plus one byte read per 4 KiB before the CRC (splits the CRC's cost)
 *   fill        the new array filled in user mode first, then sync
 *   pool        reads in libuv's pool, 4 at a time, CRC on the main thread (jug's read-ahead)
 *   pool-gzip   as pool, the CRC taken from a level-0 gzip stream's trailer (computed in the pool)
 *
 *   node benchmarks/fresh-memory-probe.mjs MODE [N=50]
 *   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node benchmarks/fresh-memory-probe.mjs sync
 *
 * Prints wall ms, minor page faults, the main thread's CPU (10-ms ticks from /proc) and the
 * process's CPU (all threads). On a shared machine compare CPU and faults, not wall time.
 */
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';

const mode = process.argv[2] ?? 'sync';
const N = Number(process.argv[3] ?? 50);
const file = join(os.tmpdir(), `fresh-memory-probe-${process.pid}.bin`);
fs.writeFileSync(file, Float64Array.from({ length: 262_144 }, () => Math.random()));
const size = fs.statSync(file).size;
const expected = zlib.crc32(fs.readFileSync(file));

const mainCpu = () => {
  const s = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const usage = () => process.resourceUsage();

function check(crc) {
  if (crc !== expected) throw new Error(`CRC ${crc} !== ${expected}`);
}

function readSyncInto(u) {
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, u, 0, size, 0);
  fs.closeSync(fd);
}

function readInPool(u) {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (e, fd) => {
      if (e) return reject(e);
      fs.read(fd, u, 0, size, 0, (e2) => fs.close(fd, () => (e2 ? reject(e2) : resolve())));
    });
  });
}

function gzipCrc(u) {
  return new Promise((resolve, reject) => {
    const g = zlib.createGzip({ level: 0, chunkSize: 256 * 1024 });
    let last = Buffer.alloc(0);
    g.on('data', (d) => (last = d.length >= 8 ? d : Buffer.concat([last, d])));
    g.on('end', () => resolve(last.readUInt32LE(last.length - 8)));
    g.on('error', reject);
    g.end(u);
  });
}

const keep = [];
async function one() {
  const a = new Float64Array(size / 8);
  const u = new Uint8Array(a.buffer);
  keep.push(a);
  if (mode === 'fill') u.fill(1);
  if (mode.startsWith('pool')) await readInPool(u);
  else readSyncInto(u);
  if (mode === 'touch') for (let o = 0, s = 0; o < size; o += 4096) s += u[o];
  check(mode === 'pool-gzip' ? await gzipCrc(u) : zlib.crc32(u));
}

const u0 = usage();
const m0 = mainCpu();
const t0 = performance.now();
if (mode.startsWith('pool')) {
  let next = 0;
  const lane = async () => {
    while (next++ < N) await one();
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
} else for (let k = 0; k < N; k++) await one();
const wall = performance.now() - t0;
const u1 = usage();
fs.rmSync(file);
const cpu = (u1.userCPUTime + u1.systemCPUTime - u0.userCPUTime - u0.systemCPUTime) / 1000;
console.log(
  `${mode}: ${N} × ${size} bytes: wall ${wall.toFixed(0)} ms, minor faults ${u1.minorPageFault - u0.minorPageFault}, ` +
    `main thread CPU ${mainCpu() - m0} ms, process CPU ${cpu.toFixed(0)} ms (user ${((u1.userCPUTime - u0.userCPUTime) / 1000).toFixed(0)}, system ${((u1.systemCPUTime - u0.systemCPUTime) / 1000).toFixed(0)})`,
);
