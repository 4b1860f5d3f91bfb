/**
 * The bare Node/Piscina floor (not jug) as reference rows of benchmarks/run.mjs: the same bodies
 * in a bare Piscina pool (benchmarks/lib/floor-pool.mjs, static split: each thread handed its
 * share at once, no round trip between bodies), so that a report shows what Node itself takes on
 * the machine that minute next to what jug takes. See benchmarks/floor-primes.mjs for the full
 * comparison (Piscina's own dispatch, the CA bundle, bare `node -e 0` starts).
 */
import { join } from 'node:path';
import { BENCH_DIR, timeCommand } from './harness.mjs';

const POOL = join(BENCH_DIR, 'lib', 'floor-pool.mjs');
export const FLOOR_LABEL = 'bare Node/Piscina floor, not jug';

/** Wall ms of floor-pool.mjs `threads tasks kind ms limit static`, then (`thenStart`) one `node -e 0`, as a `jug check` follows our runs. */
export async function timeFloor(threads, tasks, kind, { ms = 0, limit = 0, thenStart = false } = {}) {
  const what = `${FLOOR_LABEL} (${threads} threads, ${kind})`;
  const args = [POOL, String(threads), String(tasks), kind, String(ms), String(limit), 'static'];
  const pool = await timeCommand(process.execPath, args, what, { label: 'node benchmarks/lib/floor-pool.mjs' });
  if (!thenStart) return pool.ms;
  const start = await timeCommand(process.execPath, ['-e', '0'], `${what}: node -e 0`, { label: 'node -e 0' });
  return pool.ms + start.ms;
}
