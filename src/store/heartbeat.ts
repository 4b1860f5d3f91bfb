/**
 * The heartbeat: refreshes the mtime of this process's owner file — and with it every lock the
 * process holds, which are hard links to it (lock-owner.ts) — every `intervalMs`. It runs in a
 * worker thread of its own, so it keeps beating while task code blocks the main thread or the
 * pool's threads, and it stops with the process: a killed process stops beating, and after the
 * lease other hosts reclaim its locks.
 */
import { utimes } from 'node:fs';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const beat = () => {
  const now = new Date();
  try { fs.utimesSync(workerData.path, now, now); } catch {}
};
beat();
setInterval(beat, workerData.intervalMs);
`;

/** A running heartbeat; `stop()` ends it. */
export interface Heartbeat {
  stop(): Promise<void>;
}

/**
 * Starts beating on `path` every `intervalMs` (neither the thread nor the timer keeps the process
 * alive). `thread: false` beats from a timer in the calling thread instead: only for callers whose
 * event loop never blocks while they hold locks (`jug execute --threads`, whose task code runs in
 * the pool's threads). @default thread true
 */
export function startHeartbeat(path: string, intervalMs: number, options: { readonly thread?: boolean } = {}): Heartbeat {
  if (options.thread === false) {
    const beat = (): void => {
      const now = new Date();
      utimes(path, now, now, () => {}); // a beat that fails only makes the lease expire
    };
    beat();
    const timer = setInterval(beat, intervalMs);
    timer.unref();
    return { stop: async () => clearInterval(timer) };
  }
  // No execArgv: the beat is plain CommonJS, whatever loaders or flags the process runs with.
  const worker = new Worker(SOURCE, { eval: true, execArgv: [], workerData: { path, intervalMs } });
  worker.unref();
  worker.on('error', () => {}); // a heartbeat that cannot beat only makes the lease expire
  return {
    stop: async () => {
      await worker.terminate();
    },
  };
}
