/**
 * `jug status --failed`: every failure mark of the store (`--keep-failed`), one block each, from
 * the records stored with the marks (Store.failures(), so any store): name, hash, arguments, where
 * and when the task failed, the first lines of the error.
 */
import type { TaskGraph } from '../graph.js';
import type { FailureRecord, Store } from '../store/store.js';
import { NO_RECORD, STORED_STACK_LINES, formatFailure, retryHint } from './failure-report.js';

/** The failed tasks as `jug status --failed` prints them ("No failed tasks." when there are none). */
export async function failedList(graph: TaskGraph, store: Store): Promise<string> {
  const failures = await store.failures();
  if (failures.size === 0) return 'No failed tasks.\n';
  // In graph order (dependencies first); marks of hashes this jugfile does not declare last.
  const order = (h: string): number => graph.index.get(h) ?? Number.MAX_SAFE_INTEGER;
  const hashes = [...failures.keys()].sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
  const blocks = hashes.map((h) => failedBlock(h, failures.get(h), graph));
  const n = hashes.length;
  return `${n} failed task${n === 1 ? '' : 's'}:\n\n${blocks.join('\n')}\n${retryHint(true, hashes)}`;
}

function failedBlock(hash: string, record: FailureRecord | undefined, graph: TaskGraph): string {
  const i = graph.index.get(hash);
  // A hash the loaded jugfile does not declare (changed since, or behind a barrier): the record's name.
  const name = i !== undefined ? graph.tasks[i]!.name : (record?.task ?? '(a task the jugfile does not declare now)');
  const headline = `${name}, hash ${hash}:`;
  if (record === undefined) return `${headline}\n  ${NO_RECORD}\n`;
  return formatFailure(record, { headline, stackLines: STORED_STACK_LINES });
}
