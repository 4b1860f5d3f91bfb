/**
 * The chaos of the kill -9 torture tests (test/torture.test.ts on files, test/redis-torture.test.ts
 * on Redis): keep a few `jug execute` processes running and SIGKILL each at a random moment after
 * its first task started, until a run completes, enough kills were made or the time is up.
 */
import type { RunResult, Started } from './helpers.js';

/** One process of the chaos. */
export interface ChaosProc {
  readonly started: Started;
  readonly pid: number;
  readonly threads: boolean;
  /** Kill this long after the process's first task starts (unless spared then). */
  readonly killAfterMs: number;
  spared: boolean;
  firstStartAt?: number;
  killed: boolean;
  result?: RunResult;
}

export interface ChaosOptions {
  /** Seeded random numbers in [0, 1). */
  readonly rand: () => number;
  /** Starts one `jug execute` (with `--threads 2` when `threads`). */
  readonly spawn: (threads: boolean) => Started;
  /** Pids of the processes whose first task has started (read from the jugfile's log). */
  readonly startedPids: () => ReadonlySet<number>;
  /** Processes kept running at once. */
  readonly processes: number;
  /** Once this many were killed, a process is spared now and then, so that a run can complete. */
  readonly minKills: number;
  readonly maxKills: number;
  readonly budgetMs: number;
  /** Longest delay after a process's first task before it is killed (ms; at least 20). */
  readonly maxKillAfterMs: number;
}

export interface ChaosResult {
  /** Every process, in the order they ended (all have ended). */
  readonly finished: readonly ChaosProc[];
  readonly kills: number;
  /** Whether a process that was not killed completed the run (exit 0). */
  readonly completed: boolean;
  /** How long the killing went on (ms). */
  readonly chaosMs: number;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1), so that a failure reproduces from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the chaos, then waits for whatever still runs to finish. */
export async function chaos(o: ChaosOptions): Promise<ChaosResult> {
  const live = new Set<ChaosProc>();
  const finished: ChaosProc[] = [];
  let kills = 0;
  let completed = false;
  const t0 = Date.now();
  const spawnOne = (): void => {
    const threads = o.rand() < 0.4;
    const started = o.spawn(threads);
    const p: ChaosProc = { started, pid: started.child.pid!, threads, killAfterMs: 20 + o.rand() * (o.maxKillAfterMs - 20), killed: false, spared: false };
    live.add(p);
    void started.done.then((r) => {
      p.result = r;
      live.delete(p);
      finished.push(p);
      if (!p.killed && r.code === 0) completed = true;
    });
  };
  while (!completed && kills < o.maxKills && Date.now() - t0 < o.budgetMs) {
    while (live.size < o.processes) spawnOne();
    await sleep(10);
    const started = o.startedPids();
    for (const p of live) {
      if (p.firstStartAt === undefined && started.has(p.pid)) p.firstStartAt = Date.now();
      if (p.firstStartAt === undefined || p.killed || p.spared || Date.now() - p.firstStartAt < p.killAfterMs) continue;
      if (kills >= o.minKills && o.rand() < 0.2) {
        p.spared = true;
        continue;
      }
      p.killed = true;
      kills++;
      p.started.child.kill('SIGKILL');
    }
    // Let a process that was killed be reaped before its replacement starts.
    await Promise.race([sleep(5), ...[...live].filter((p) => p.killed).map((p) => p.started.done)]);
  }
  const chaosMs = Date.now() - t0;
  // No more kills: whatever still runs finishes.
  await Promise.all([...live].map((p) => p.started.done));
  return { finished, kills, completed, chaosMs };
}
