/**
 * One task, a barrier, then the rendezvous of rendezvous.ts: the first pass leaves one task for
 * all the threads (the others stop), the second needs every thread at once again.
 */
import { TaskGenerator, barrier } from 'jug';
import { threadId } from 'node:worker_threads';

const THREADS = Number(process.env['JUG_TEST_THREADS'] ?? 1);

export const first = TaskGenerator(function first(): number {
  return threadId;
})();

await barrier();

const { meet } = await import('./rendezvous.js');
export const all = Array.from({ length: THREADS }, (_, i) => meet(i));
