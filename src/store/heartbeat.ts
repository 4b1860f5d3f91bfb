/**
 * The heartbeat: refreshes the mtime of this process's owner file — and with it every lock the
 * process holds, which are hard links to it (lock-owner.ts) — every `intervalMs`. It runs in a
 * worker thread of its own, so it keeps beating while task code blocks the main thread or the
 * pool's threads, and it stops with the process: a killed process stops beating, and after the
 * lease other hosts reclaim its locks.
 */
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

/** Starts beating on `path` every `intervalMs` (the thread does not keep the process alive). */
export function startHeartbeat(path: string, intervalMs: number): Heartbeat {
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
