#!/usr/bin/env node
/**
 * A/B of the store-throughput probe (lib/store-throughput.mjs, this checkout's) against two
 * checkouts' builds: runs it with A's dist, then B's (order alternating), each in a fresh
 * directory, and prints per side the median write and load MB/s and the median of jug's write over
 * the plain write of the same process (steady when the machine's load swings), and the median of
 * the per-repetition ratios B/A of the write and load MB/s (and of the process's CPU time during
 * jug's writes and loads).
 *
 *   node benchmarks/ab-throughput.mjs OLD_CHECKOUT NEW_CHECKOUT [--reps N] [--values double|lcg] [--dir D]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args.splice(i, 2)[1];
};
const reps = Number(flag('--reps', 6));
const values = flag('--values', 'double');
const base = flag('--dir', os.tmpdir());
if (args.length !== 2) {
  console.error('usage: node benchmarks/ab-throughput.mjs OLD_CHECKOUT NEW_CHECKOUT [--reps N] [--values double|lcg] [--dir D]');
  process.exit(2);
}
const probe = new URL('./lib/store-throughput.mjs', import.meta.url).pathname;
const sides = args.map((root, i) => ({ name: 'AB'[i], dist: pathToFileURL(join(resolve(root), 'dist', 'index.js')).href, runs: [] }));

function run(side) {
  const dir = fs.mkdtempSync(join(base, 'ab-throughput-'));
  try {
    const r = spawnSync(process.execPath, [probe, dir, values], { env: { ...process.env, JUG_DIST: side.dist }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`probe with ${side.dist} exited ${r.status}:\n${r.stderr}`);
    side.runs.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (let i = 0; i < reps; i++) {
  for (const side of i % 2 === 0 ? sides : [...sides].reverse()) run(side);
  console.error(`rep ${i + 1}/${reps} done`);
}
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const s of sides) {
  const m = (f) => median(s.runs.map(f));
  console.log(
    `${s.name}: write ${m((r) => r.writeMBs).toFixed(0)} MB/s (plain ${m((r) => r.rawWriteMBs).toFixed(0)}), ` +
      `jug/plain write ${m((r) => r.writeMBs / r.rawWriteMBs).toFixed(3)}, CPU during jug's writes ${m((r) => r.writeCpuMs).toFixed(0)} ms, load ${m((r) => r.loadMBs).toFixed(0)} MB/s (plain ${m((r) => r.rawLoadMBs).toFixed(0)}, jug/plain ${m((r) => r.loadMBs / r.rawLoadMBs).toFixed(3)})  (${s.dist})`,
  );
}
const ratios = sides[0].runs.map((a, i) => sides[1].runs[i].writeMBs / a.writeMBs);
const cpuRatios = sides[0].runs.map((a, i) => sides[1].runs[i].writeCpuMs / a.writeCpuMs);
console.log(`B/A CPU during jug's writes: ${median(cpuRatios).toFixed(3)} (${cpuRatios.map((x) => x.toFixed(2)).join(' ')})`);
console.log(`B/A write MB/s: ${median(ratios).toFixed(3)} (${ratios.map((x) => x.toFixed(2)).join(' ')}), ${reps} repetitions, ${values}`);
const paired = (f) => sides[0].runs.map((a, i) => f(sides[1].runs[i]) / f(a));
const show = (xs) => `${median(xs).toFixed(3)} (${xs.map((x) => x.toFixed(2)).join(' ')})`;
console.log(`B/A load MB/s: ${show(paired((r) => r.loadMBs))}; jug/plain load: ${show(paired((r) => r.loadMBs / r.rawLoadMBs))}`);
if (sides.every((s) => s.runs.every((r) => r.loadCpuMs !== undefined))) console.log(`B/A CPU during jug's loads: ${show(paired((r) => r.loadCpuMs))}`);
