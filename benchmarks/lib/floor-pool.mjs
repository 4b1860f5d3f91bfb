#!/usr/bin/env node
// The bare Node/Piscina program of benchmarks/floor-primes.mjs (not jug): a Piscina pool of
// `threads` threads (all started at once, Piscina's own way) runs `tasks` bodies, then, for the
// primes bodies, one small final task on their results, and the process exits at once.
//
//   node benchmarks/lib/floor-pool.mjs THREADS TASKS KIND [MS=1000] [LIMIT] [SPLIT=queue]
//
// KIND: sleep (examples/primes.ts's awaited 1-s sleep), wait (PRIMES_SYNC=1: Atomics.wait),
// cpu (primes_cpu's countDivisors(1_000_003 + i, LIMIT)).
// SPLIT: queue (one Piscina task per body: Piscina's own dispatch, a round trip to the main
// thread after each body) or static (each thread is handed its share of the bodies, round-robin,
// as one Piscina task: no round trip between bodies, the least any Node program can do).
import { Piscina } from 'piscina';

const [threads, tasks, kind, ms = '1000', limit = '20312000', split = 'queue'] = process.argv.slice(2);
const pool = new Piscina({
  filename: new URL('./floor-worker.mjs', import.meta.url).href,
  minThreads: Number(threads),
  maxThreads: Number(threads),
  idleTimeout: 60_000,
});
const bodies = Array.from({ length: Number(tasks) }, (_, i) =>
  kind === 'cpu' ? { kind, n: 1_000_003 + i, limit: Number(limit) } : { kind, n: i + 2, ms: Number(ms) },
);
let results;
if (split === 'static') {
  const shares = Array.from({ length: Number(threads) }, (_, t) => bodies.filter((_, i) => i % Number(threads) === t));
  const answers = await Promise.all(shares.map((list) => pool.run({ list })));
  results = answers.flatMap((a) => a.out);
  // FLOOR_TRACE=1: when each thread began its first body, in ms since this process started.
  const starts = answers.map((a) => a.start - performance.timeOrigin).sort((a, b) => a - b);
  if (process.env['FLOOR_TRACE'] === '1') process.stderr.write(`first bodies at ${starts.map((s) => s.toFixed(0)).join(' ')} ms; last body ended ${performance.now().toFixed(0)} ms\n`);
} else {
  results = await Promise.all(bodies.map((b) => pool.run(b)));
}
if (kind !== 'cpu') await pool.run({ kind: 'count', flags: results });
process.exit(0);
