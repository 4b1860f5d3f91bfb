/**
 * A jugfile whose worker-thread load goes wrong (the main thread's load is fine), per LOAD_FAULT:
 * `exit` calls process.exit(9), `oom` fills the heap, `hang` waits forever.
 */
import { isMainThread } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

export const f = TaskGenerator(function f(x: number): number {
  return x;
});
export const t = [1, 2, 3].map((i) => f(i));

const fault = process.env['LOAD_FAULT'];
if (!isMainThread && fault === 'exit') process.exit(9);
if (!isMainThread && fault === 'oom') {
  const hog: number[][] = [];
  for (;;) hog.push(new Array<number>(1 << 20).fill(1.5));
}
if (!isMainThread && fault === 'hang') await new Promise(() => {});
