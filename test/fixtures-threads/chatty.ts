/**
 * Two tasks that each write many lines to stdout and to stderr from their worker thread, the
 * last of each marked, and return at once (where they ran): the run ends right after. Every line
 * must reach the parent's stdout/stderr before the pool is destroyed (test/threads.test.ts).
 */
import { isMainThread } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const LINES = Number(process.env['CHATTY_LINES'] ?? 200);

export const chatty = TaskGenerator(function chatty(n: number): string {
  for (let i = 0; i < LINES; i++) {
    process.stdout.write(`out ${n} ${i}\n`);
    process.stderr.write(`err ${n} ${i}\n`);
  }
  process.stdout.write(`out ${n} last\n`);
  process.stderr.write(`err ${n} last\n`);
  return isMainThread ? 'main thread' : 'worker thread';
});

export const tasks = [chatty(1), chatty(2)];
