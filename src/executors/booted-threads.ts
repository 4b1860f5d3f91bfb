/**
 * Which pool threads have finished starting (loaded jug and the jugfile), in shared memory: each
 * thread adds its own `threadId` when its start-up is over. The pool's balancer reads it to start
 * threads in waves and to hand tasks only to threads that can run them at once (thread-pool.ts).
 *
 * Layout: Int32 count, then up to `capacity` thread ids (threads that die are replaced, so a run
 * may see more ids than `--threads`; past the capacity only the count grows).
 */
export type BootedThreads = SharedArrayBuffer;

export function createBootedThreads(capacity: number): BootedThreads {
  return new SharedArrayBuffer(4 * (1 + capacity));
}

/** Records that thread `threadId` has started. */
export function markBooted(list: BootedThreads, threadId: number): void {
  const a = new Int32Array(list);
  const i = Atomics.add(a, 0, 1);
  if (i < a.length - 1) Atomics.store(a, 1 + i, threadId);
}

/** The number of threads that have started, and their ids (`ids` undefined once past the capacity). */
export function bootedThreads(list: BootedThreads): { readonly count: number; readonly ids: ReadonlySet<number> | undefined } {
  const a = new Int32Array(list);
  const count = Atomics.load(a, 0);
  if (count > a.length - 1) return { count, ids: undefined };
  const ids = new Set<number>();
  for (let i = 0; i < count; i++) {
    const id = Atomics.load(a, 1 + i);
    if (id !== 0) ids.add(id); // 0: counted, id not written yet (a moment later it is)
  }
  return { count, ids };
}
