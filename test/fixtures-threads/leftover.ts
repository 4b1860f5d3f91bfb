/**
 * A task that leaves a rejected promise nobody handles (or, with LEFTOVER=throw, a timer that
 * throws) and returns at once, next to four 300 ms tasks: the escape happens outside any task.
 */
import { TaskGenerator } from 'jug';

export const careless = TaskGenerator(async function careless(): Promise<number> {
  if (process.env['LEFTOVER'] === 'throw') setTimeout(() => {
    throw new Error('leftover exception from careless()');
  }, 0);
  else void Promise.reject(new Error('leftover rejection from careless()'));
  return 1;
});

export const nap = TaskGenerator(async function nap(i: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 300));
  return i;
});

export const all = [careless(), ...[1, 2, 3, 4].map((i) => nap(i))];
