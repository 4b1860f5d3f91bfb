#!/usr/bin/env node
/**
 * What `jug webstatus` costs while it watches a store: on the tiny workload (5,001 tasks:
 * benchmarks/jugfiles/tiny.ts, executed once first), the time of one look at the store (a GET
 * /api/status when the last look is an interval old: listing, classification, snapshot, graph),
 * and the server's CPU time per second with 1 and with 4 pages' event streams open (they share
 * one look per interval). Medians; Linux (/proc) for CPU time.
 *
 *   npm run build && node benchmarks/webstatus-look.mjs [--looks N] [--seconds S]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const looks = opt('--looks', 15);
const seconds = opt('--seconds', 10);
const jug = join(root, 'bin', 'jug.js');
const jugfile = join(root, 'benchmarks', 'jugfiles', 'tiny.ts');
const work = join(root, 'benchmarks', '.work', 'webstatus');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const jugdir = join(work, 'tiny.jugdata');

const run = spawnSync(process.execPath, [jug, 'execute', jugfile, '--jugdir', jugdir, '-q'], { stdio: 'inherit' });
if (run.status !== 0) process.exit(1);

const server = spawn(process.execPath, [jug, 'webstatus', jugfile, '--jugdir', jugdir, '--port', '0', '--interval', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /http:\/\/\S+\//.exec(out);
    if (m) resolve(m[0]);
  });
});
const fetchTimed = (path) =>
  new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    get(url + path, (res) => {
      res.resume();
      res.on('end', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
    }).on('error', reject);
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/** CPU time (user + system) of the server process, ms (/proc/<pid>/stat, in clock ticks of 10 ms). */
const cpuMs = () => {
  const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

await fetchTimed('api/status'); // first look: loads the WebAssembly Graphviz
const times = [];
for (let i = 0; i < looks; i++) {
  await sleep(1_050);
  times.push(await fetchTimed('api/status'));
}
console.log(`one look at 5,001 tasks (GET /api/status): median ${median(times).toFixed(1)} ms over ${looks}`);

for (const pages of [1, 4]) {
  const streams = Array.from({ length: pages }, () => get(url + 'events', (res) => res.resume()));
  await sleep(1_500);
  const c0 = cpuMs();
  await sleep(seconds * 1000);
  const used = cpuMs() - c0;
  console.log(`${pages} page(s) open: server CPU ${(used / seconds).toFixed(0)} ms per second (${seconds} s)`);
  for (const s of streams) s.destroy();
  await sleep(500);
}
server.kill('SIGINT');
rmSync(work, { recursive: true, force: true });
