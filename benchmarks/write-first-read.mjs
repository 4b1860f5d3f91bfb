#!/usr/bin/env node
/**
 * What a write(2) of 2 MiB costs depending on the memory it copies from (docs/design.md, "Write
 * throughput through dump()"): each repetition writes, each to its own new file and each fsynced
 * afterwards (untimed),
 *   first   — an array filled long before, never written out yet (the kernel's first read of it),
 *   again   — the same array again, after user space refilled it (the kernel's second read),
 *   staged  — another array never written out, copied first into one reused buffer, which is then
 *             written (copy included in the time: what background-write.ts does).
 * Prints the median ms per write of each, and the kernel (system) CPU of each, over the repetitions.
 *
 *   node benchmarks/write-first-read.mjs [dir] [--reps N]
 */
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const reps = repsAt >= 0 ? Number(args.splice(repsAt, 2)[1]) : 20;
const dir = fs.mkdtempSync(join(args[0] ?? os.tmpdir(), 'write-first-read-'));
const M = 262_144;
const arrays = Array.from({ length: 2 * reps }, () => Float64Array.from({ length: M }, () => Math.random()));
const staging = new Uint8Array(M * 8);
const header = new Uint8Array(16);
const times = { first: [], again: [], staged: [] };
const system = { first: [], again: [], staged: [] };
let files = 0;

/** Writes `bytes()` (called inside the timing) to a new file; its time and system CPU go to `kind`. */
function write(kind, bytes) {
  const path = join(dir, `f${files++}`);
  const cpu = process.cpuUsage();
  const t = performance.now();
  const fd = fs.openSync(path, 'wx');
  fs.writevSync(fd, [header, bytes()]);
  times[kind].push(performance.now() - t);
  system[kind].push(process.cpuUsage(cpu).system / 1000);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.unlinkSync(path);
}

for (let i = 0; i < reps; i++) {
  const a = arrays[2 * i];
  write('first', () => new Uint8Array(a.buffer));
  a.fill(i + 0.5);
  write('again', () => new Uint8Array(a.buffer));
  const b = arrays[2 * i + 1];
  write('staged', () => {
    staging.set(new Uint8Array(b.buffer));
    return staging;
  });
}
fs.rmSync(dir, { recursive: true, force: true });
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const kind of Object.keys(times)) {
  console.log(`${kind.padEnd(7)} ${median(times[kind]).toFixed(2)} ms per 2 MiB (system CPU ${median(system[kind]).toFixed(2)} ms), ${reps} repetitions`);
}
