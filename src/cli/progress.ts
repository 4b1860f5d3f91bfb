/**
 * Progress while `jug execute` runs, read from the status table: an ora spinner on a terminal,
 * periodic plain lines otherwise, nothing with --quiet. Written to stderr so stdout keeps only
 * the summary table.
 *
 * ora is enabled only when stderr is a TTY with a positive width and CI is unset: ora 9 spins
 * forever on a 0-column TTY (node-notes §6).
 */
import type { TaskGraph } from '../graph.js';
import { TaskState, type StatusTable } from '../status-table.js';

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  /** Print nothing. @default false */
  quiet?: boolean;
  /** Seconds between plain lines when not on a terminal. @default 10, or JUG_PROGRESS_INTERVAL */
  lineInterval?: number;
}

/** A running progress display. */
export interface Progress {
  /** Stops the display (clearing the spinner). */
  stop(): void;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One status line: counts, rate and ETA. */
export function progressLine(table: StatusTable, startedAt: number, startDone: number, now = Date.now()): string {
  const c = table.counts();
  const done = c[TaskState.Loaded]! + c[TaskState.Executed]!;
  const total = table.tasks - c[TaskState.Excluded]!;
  const elapsed = (now - startedAt) / 1000;
  const rate = elapsed > 0 ? (done - startDone) / elapsed : 0;
  const left = total - done - c[TaskState.Failed]!;
  const eta = rate > 0 ? fmtDuration(left / rate) : '?';
  const elsewhere = c[TaskState.LockedElsewhere]!;
  return (
    `${done}/${total} finished, ${c[TaskState.Running]} running` +
    (elsewhere > 0 ? ` (+${elsewhere} in other processes)` : '') +
    `, ${c[TaskState.Ready]} ready, ${c[TaskState.Waiting]} waiting, ${c[TaskState.Failed]} failed` +
    ` · ${rate.toFixed(rate < 10 ? 1 : 0)} tasks/s · ETA ${eta}`
  );
}

/** Which display fits a stream: a spinner needs a real terminal with a width (ora hangs at 0). */
export function progressMode(
  stream: { isTTY?: boolean; columns?: number },
  env: NodeJS.ProcessEnv,
  quiet = false,
): 'none' | 'spinner' | 'lines' {
  if (quiet) return 'none';
  return stream.isTTY === true && (stream.columns ?? 0) > 0 && !env['CI'] ? 'spinner' : 'lines';
}

/** Starts the display appropriate for stderr. */
export async function startProgress(table: StatusTable, _graph: TaskGraph, options: ProgressOptions = {}): Promise<Progress> {
  const stream = process.stderr;
  const mode = progressMode(stream, process.env, options.quiet);
  if (mode === 'none') return { stop() {} };
  const startedAt = Date.now();
  const c0 = table.counts();
  const startDone = c0[TaskState.Loaded]! + c0[TaskState.Executed]!;
  if (mode === 'spinner') {
    const { default: ora } = await import('ora'); // loaded only for terminals
    const spinner = ora({ stream, text: progressLine(table, startedAt, startDone) }).start();
    const timer = setInterval(() => (spinner.text = progressLine(table, startedAt, startDone)), 200);
    timer.unref();
    return {
      stop() {
        clearInterval(timer);
        spinner.stop();
      },
    };
  }
  const every = Math.max(0.1, options.lineInterval ?? envInterval()) * 1000;
  const timer = setInterval(() => stream.write(`[jug] ${progressLine(table, startedAt, startDone)}\n`), every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** JUG_PROGRESS_INTERVAL (seconds between plain lines): 10 when unset, empty or not a positive number (with a warning). */
function envInterval(): number {
  const raw = process.env['JUG_PROGRESS_INTERVAL'];
  if (raw === undefined || raw.trim() === '') return 10;
  const n = Number(raw);
  if (Number.isFinite(n) && n > 0) return n;
  process.stderr.write(`jug: warning: JUG_PROGRESS_INTERVAL='${raw}' is not a positive number of seconds; using 10.\n`);
  return 10;
}
