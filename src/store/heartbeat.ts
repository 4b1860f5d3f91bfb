/**
 * The file store's helper thread. It refreshes the mtime of this process's owner file — and with
 * it every lock the process holds, which are hard links to it (lock-owner.ts) — every
 * `intervalMs`, so it keeps beating while task code blocks the main thread or the pool's threads,
 * and it stops with the process: a killed process stops beating, and after the lease other hosts
 * reclaim its locks.
 *
 * The same thread commits results for a serial run (`commit()`, see commit-job.ts): the main
 * thread hands it the whole chain of a finished result — flush the file, rename it into place,
 * flush the directory, release the task's lock — and starts the next task meanwhile, instead of
 * waiting ~1 ms per result on the disk (the chain needs no event-loop turn of the main thread,
 * which the next synchronous task would hold: docs/design.md, "Per-task overhead of CPU-bound
 * tasks").
 */
import { utimes } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { COMMIT_JOB_SOURCE, type CommitJob, type CommitReply } from './commit-job.js';

const SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { dirname } = require('node:path');
const beat = () => {
  const now = new Date();
  try { fs.utimesSync(workerData.path, now, now); } catch {}
};
beat();
setInterval(beat, workerData.intervalMs);
${COMMIT_JOB_SOURCE}
const pending = new Int32Array(workerData.pending);
parentPort.on('message', (job) => {
  parentPort.postMessage(job.note !== undefined ? writeNote(job) : runCommitJob(job));
  Atomics.sub(pending, 0, 1);
  Atomics.notify(pending, 0);
});
`;

/** Longest a process exit waits for commits in progress in the helper thread (a stuck disk must not hang it). */
const EXIT_DRAIN_MS = 10_000;

/** A running heartbeat; `stop()` ends it. */
export interface Heartbeat {
  /**
   * Runs a commit job in the heartbeat's thread (absent: a timer heartbeat, no thread). Resolves
   * once the thread has done it: the results are durable and visible and their locks released,
   * except those the reply names as failed.
   */
  commit?(job: Omit<CommitJob, 'id'>): Promise<CommitReply>;
  /**
   * Replaces the file at `path` by `text` (written aside, then renamed), or removes it when `text`
   * is undefined, in the heartbeat's thread, in order with the commits (the running notes: a hint,
   * so failures are ignored).
   */
  writeNote?(path: string, text: string | undefined): void;
  /** Resolves once no commit job is in progress (absent: no thread, never any). */
  idle?(): Promise<void>;
  /** Waits for the commit jobs in progress, then stops beating. */
  stop(): Promise<void>;
}

/**
 * Starts beating on `path` every `intervalMs` (neither the thread nor the timer keeps the process
 * alive, except while a commit job is in progress). `thread: false` beats from a timer in the
 * calling thread instead: only for callers whose event loop never blocks while they hold locks
 * (`jug execute --threads`, whose task code runs in the pool's threads). @default thread true
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
  return new ThreadHeartbeat(path, intervalMs);
}

/** The heartbeat (and commit) thread. */
class ThreadHeartbeat implements Heartbeat {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { readonly resolve: (r: CommitReply) => void; readonly reject: (e: Error) => void }>();
  /** The jobs in progress, settled or not (what stop() waits for). */
  readonly #inFlight = new Set<Promise<unknown>>();
  #nextId = 1;
  #dead: Error | undefined;
  /** Jobs sent and not yet done by the thread (it counts down): what an exit waits for. */
  readonly #pending = new Int32Array(new SharedArrayBuffer(4));
  readonly #drainAtExit = (): void => this.#drain(EXIT_DRAIN_MS);

  constructor(path: string, intervalMs: number) {
    // No execArgv: the thread is plain CommonJS, whatever loaders or flags the process runs with.
    this.#worker = new Worker(SOURCE, { eval: true, execArgv: [], workerData: { path, intervalMs, pending: this.#pending.buffer } });
    // A task that calls process.exit() while an earlier result's commit is in the thread: the
    // thread finishes it (and the lock is released) before the process ends.
    process.on('exit', this.#drainAtExit);
    this.#worker.unref();
    this.#worker.on('message', (reply: CommitReply) => this.#answered(reply));
    // A heartbeat that cannot beat only makes the lease expire; commits waiting on it fail.
    this.#worker.on('error', (e) => this.#die(e));
    this.#worker.on('exit', () => this.#die(new Error("the store's helper thread exited")));
  }

  commit(job: Omit<CommitJob, 'id'>): Promise<CommitReply> {
    return this.#send(job);
  }

  writeNote(path: string, text: string | undefined): void {
    this.#send({ note: path, text }).catch(() => {}); // a hint: a run goes on without it
  }

  /** Sends a job to the thread; resolves with its reply. */
  #send(job: object): Promise<CommitReply> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    const reply = new Promise<CommitReply>((resolve, reject) => {
      if (this.#waiting.size === 0) this.#worker.ref(); // a pending job keeps the process alive
      this.#waiting.set(id, { resolve, reject });
      Atomics.add(this.#pending, 0, 1);
      this.#worker.postMessage({ ...job, id });
    });
    const settled: Promise<unknown> = reply.then(
      () => this.#inFlight.delete(settled),
      () => this.#inFlight.delete(settled),
    );
    this.#inFlight.add(settled);
    return reply;
  }

  #answered(reply: CommitReply): void {
    const w = this.#waiting.get(reply.id);
    this.#waiting.delete(reply.id);
    if (this.#waiting.size === 0) this.#worker.unref();
    w?.resolve(reply);
  }

  #die(e: Error): void {
    this.#dead ??= e;
    for (const w of this.#waiting.values()) w.reject(e);
    this.#waiting.clear();
  }

  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Blocks this thread until the helper thread has done every job sent (at most `ms`). */
  #drain(ms: number): void {
    if (this.#dead !== undefined) return;
    const deadline = Date.now() + ms;
    for (let n = Atomics.load(this.#pending, 0); n > 0 && Date.now() < deadline; n = Atomics.load(this.#pending, 0)) {
      Atomics.wait(this.#pending, 0, n, 50);
    }
  }

  async stop(): Promise<void> {
    process.off('exit', this.#drainAtExit);
    await this.idle();
    this.#dead ??= new Error('the store was closed');
    await this.#worker.terminate();
  }
}
