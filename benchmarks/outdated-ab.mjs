#!/usr/bin/env node
// A/B cost of outdated results (issue 18) on the tiny workload: two jug packages, interleaved
// runs, medians of wall and CPU (user+sys of the jug process and its children, /usr/bin/time).
//
//   node benchmarks/outdated-ab.mjs --a DIR_A --b DIR_B [--rounds 8] [--cold]
//
// DIR_A / DIR_B: package roots with dist/ built (B: this revision; A: the same revision with
// the fingerprint's two calls in src/cli/commands/execute/passes.ts removed — prepareTaskCode()
// and outdatedBeforePass() — see benchmarks/RESULTS-outdated.md). Scenarios: a fresh jugdir,
// serial and --threads 2 (every task runs and is recorded), and `execute` again on the complete
// jugdir (loads every result's record to look for outdated ones). --cold: each round runs on a
// copy of tiny.ts with a new comment, so no cached fingerprint or stripped source is found.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args[i + 1];
};
const A = opt('--a');
const B = opt('--b');
const rounds = Number(opt('--rounds', '8'));
const cold = args.includes('--cold');
if (!A || !B) throw new Error('usage: --a DIR_A --b DIR_B [--rounds N] [--cold]');

const scenarios = [
  { name: 'serial, fresh jugdir', extra: [], fresh: true },
  { name: '--threads 2, fresh jugdir', extra: ['--threads', '2'], fresh: true },
  { name: 'serial, execute again on the complete jugdir', extra: [], fresh: false },
];

function timed(pkg, cwd, argv) {
  const out = join(cwd, `.time-${process.pid}`);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', out, process.execPath, join(pkg, 'bin', 'jug.js'), ...argv], {
    cwd,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`jug ${argv.join(' ')} in ${pkg} exited ${r.status}:\n${r.stderr}`);
  const [wall, user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  rmSync(out);
  return { wall, cpu: user + sys };
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const results = {};
for (const pkg of [A, B]) {
  const work = join(pkg, 'benchmarks', '.work', `ab-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  results[pkg] = { work };
}
const tiny = readFileSync(join(B, 'benchmarks', 'jugfiles', 'tiny.ts'), 'utf8');
const samples = new Map(scenarios.map((s) => [s.name, { [A]: [], [B]: [] }]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [A, B] : [B, A];
  for (const pkg of order) {
    const { work } = results[pkg];
    const jugfile = join(work, `tiny-${round}.ts`);
    writeFileSync(jugfile, cold ? `${tiny}\n// round ${round} ${Date.now()}\n` : tiny);
    for (const s of scenarios) {
      const jugdir = join(work, `r${round}-${s.extra.length}.jugdata`);
      const t = timed(pkg, work, ['execute', jugfile, '--jugdir', jugdir, '-q', ...s.extra]);
      samples.get(s.name)[pkg].push(t);
    }
  }
  process.stderr.write(`round ${round + 1}/${rounds} done\n`);
}
for (const pkg of [A, B]) rmSync(results[pkg].work, { recursive: true, force: true });

console.log(`| scenario | A wall (s) | B wall (s) | B/A wall | A CPU (s) | B CPU (s) | B/A CPU |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const s of scenarios) {
  const a = samples.get(s.name)[A];
  const b = samples.get(s.name)[B];
  const [aw, bw, ac, bc] = [median(a.map((x) => x.wall)), median(b.map((x) => x.wall)), median(a.map((x) => x.cpu)), median(b.map((x) => x.cpu))];
  console.log(`| ${s.name} | ${aw.toFixed(2)} | ${bw.toFixed(2)} | ${(bw / aw).toFixed(3)} | ${ac.toFixed(2)} | ${bc.toFixed(2)} | ${(bc / ac).toFixed(3)} |`);
}
