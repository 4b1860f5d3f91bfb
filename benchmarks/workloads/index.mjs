/**
 * The table of workloads `benchmarks/run.mjs` knows, in the order they run. To add one, write
 * benchmarks/workloads/<name>.mjs exporting `default { name, run }` — `run(opts)` gets the parsed
 * options (`reps`, `quick`, ...) and returns `{ title, rows, goals, notes }` (see README.md) — and
 * list it here. Helpers: ../lib/harness.mjs (our CLI, interleaved repetitions, tables) and
 * ../lib/pyjug.mjs (Python Jug, side by side).
 */
import memory from './memory.mjs';
import pack from './pack.mjs';
import payload from './payload.mjs';
import primes from './primes.mjs';
import primesCpu from './primes_cpu.mjs';
import redis from './redis.mjs';
import tiny from './tiny.mjs';

export const WORKLOAD_TABLE = [primes, primesCpu, tiny, memory, payload, redis, pack];
