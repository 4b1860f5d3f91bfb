/**
 * How the CLI prints a failed task, in one place: `jug execute` (failures of the run, and tasks
 * whose failure mark an earlier run left), `jug status --failed`, and the hints that follow them.
 * Everything comes from a FailureRecord (store.ts), so a failure stored by another process or
 * host prints the same way.
 */
import type { FailureRecord } from '../store/store.js';

/** How much of a failure {@link formatFailure} prints. */
export interface FailureFormat {
  /** The first line (what failed, and in which context). */
  readonly headline: string;
  /** Print at most this many lines of the stack (the rest is counted). @default all */
  readonly stackLines?: number;
  /** Say when it failed (for failures of earlier runs). @default true */
  readonly when?: boolean;
}

const INDENT = '  ';

/** `<1 ms`, `12 ms`, `3.4 s`, `2 min 5 s`, `1 h 3 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `2026-12-02 16:49:56 UTC` from an ISO time (as stored), or the text itself if it does not parse. */
export function formatTime(iso: string): string {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : `${t.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Where a task ran: `host vm (pid 4922, thread 3)`. */
export function formatPlace(record: FailureRecord): string {
  return `host ${record.host} (pid ${record.pid}${record.thread === undefined ? '' : `, thread ${record.thread}`})`;
}

/** The error's lines: the stack (which starts with the message), or the message then the stack if it does not. */
function errorLines(record: FailureRecord): string[] {
  const { name, message, stack } = record.error;
  const lines = stack.split('\n');
  if (message !== '' && !stack.includes(message)) lines.unshift(`${name}: ${message}`);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}

/**
 * A failed task as the CLI prints it: the headline, then the task's arguments (one line, as
 * stored), how long it ran and where (host, pid, thread), when (unless `when` is false), and the
 * error's stack (jug's own frames were removed when the record was made), each detail indented.
 * Ends with a newline.
 */
export function formatFailure(record: FailureRecord, format: FailureFormat): string {
  const out = [format.headline];
  out.push(`${INDENT}arguments: ${record.args === '' ? '(none)' : record.args}`);
  const ran = record.durationMs === undefined ? 'failed before it started, on' : `ran ${formatDuration(record.durationMs)} on`;
  const tries = record.attempts === undefined ? '' : `, ${record.attempts} attempt${record.attempts === 1 ? '' : 's'}`;
  const when = format.when === false ? '' : `, at ${formatTime(record.time)}`;
  out.push(`${INDENT}${ran} ${formatPlace(record)}${when}${tries}`);
  let lines = errorLines(record);
  const limit = format.stackLines;
  if (limit !== undefined && lines.length > limit) {
    const more = lines.length - limit;
    lines = [...lines.slice(0, limit), `… ${more} more line${more === 1 ? '' : 's'}`];
  }
  for (const l of lines) out.push(`${INDENT}${l}`);
  return `${out.join('\n')}\n`;
}

/** Said of a failure mark without a readable failure record. */
export const NO_RECORD = '(no failure record is stored with the mark: it was left by Python Jug or an older jug, or the record is damaged)';

/** How many lines of a stored error `jug status --failed` and a later run print. */
export const STORED_STACK_LINES = 6;

/**
 * The hint after failures: the narrowest command that runs exactly the failed tasks again,
 * keeping every stored result (never `jug invalidate`, which removes results). `kept`: some
 * failure left (or met) a failure mark; `hashes`: the failed tasks; `target`: the run's --target.
 */
export function retryHint(kept: boolean, hashes: readonly string[], target?: string): string {
  if (!kept) {
    return (
      'jug: fix the cause and run `jug execute` again: it runs only what is not stored yet (the failed ' +
      `task${hashes.length === 1 ? '' : 's'} and what depends on them); stored results are kept.\n`
    );
  }
  const unique = [...new Set(hashes)];
  const all = `jug execute --retry-failed${target === undefined ? '' : ` --target '${target}'`}`;
  if (unique.length === 1) {
    const one = `jug execute --retry-failed --target ${unique[0]!.slice(0, 12)}`;
    const or = target === undefined ? ` (or \`${all}\`: every failed task, and what depends on them)` : '';
    return `jug: to run it again, keeping every stored result: \`${one}\`${or}.\n`;
  }
  return `jug: to run the failed tasks again, keeping every stored result: \`${all}\`; \`jug status --failed\` lists them.\n`;
}
