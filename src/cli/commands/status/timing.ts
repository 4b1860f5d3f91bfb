/**
 * `jug status --timing`: how long tasks took, from the run records only (src/run-records.ts):
 * per task name the finished count and total / median / max duration, the slowest tasks with
 * their arguments, and per host the tasks and busy time. Only the runs behind results stored now
 * count (finishedRuns): a record of a result invalidated or cleaned up since does not.
 */
import { finishedRuns, runDuration, type RunRecord } from '../../../run-records.js';
import { renderTable } from '../../table.js';

/** Durations of the finished tasks of one name, ms. */
export interface NameTiming {
  readonly finished: number;
  readonly totalMs: number;
  readonly medianMs: number;
  readonly maxMs: number;
}

/** One of the slowest tasks. */
export interface SlowTask {
  readonly name: string;
  readonly hash: string;
  readonly args: string | null;
  readonly ms: number;
  readonly host: string;
  readonly pid: number;
  readonly thread: number | null;
  /** When it ended, ISO 8601. */
  readonly end: string;
}

/** What one host did: tasks and the sum of their durations. */
export interface HostTiming {
  readonly tasks: number;
  readonly busyMs: number;
}

/** The document `jug status --timing --json` prints. */
export interface TimingSnapshot {
  /** Version of this schema (1). */
  readonly schema: 1;
  /** Per task name (sorted). */
  readonly tasks: Record<string, NameTiming>;
  /** The 10 slowest tasks, slowest first. */
  readonly slowest: SlowTask[];
  /** Per host (sorted by name). */
  readonly hosts: Record<string, HostTiming>;
  /** Results stored with no run record (computed before run records, or by a store without them). */
  readonly unrecorded: number;
}

/** How many of the slowest tasks are listed. */
export const SLOWEST = 10;

/**
 * The timing document from `records` (every run record of the store) and `stored` (its listing):
 * only the runs behind results stored now count.
 */
export function timingSnapshot(records: readonly RunRecord[], stored: ReadonlySet<string>): TimingSnapshot {
  const runs = [...finishedRuns(records, stored).values()];
  const byName = new Map<string, number[]>();
  const hosts = new Map<string, { tasks: number; busyMs: number }>();
  for (const r of runs) {
    const ms = runDuration(r);
    let list = byName.get(r.task);
    if (list === undefined) byName.set(r.task, (list = []));
    list.push(ms);
    const h = hosts.get(r.host) ?? { tasks: 0, busyMs: 0 };
    h.tasks++;
    h.busyMs += ms;
    hosts.set(r.host, h);
  }
  const tasks: Record<string, NameTiming> = {};
  for (const name of [...byName.keys()].sort()) {
    const ms = byName.get(name)!.sort((a, b) => a - b);
    tasks[name] = { finished: ms.length, totalMs: sum(ms), medianMs: median(ms), maxMs: ms[ms.length - 1]! };
  }
  const slowest = runs
    .sort((a, b) => runDuration(b) - runDuration(a) || a.end - b.end)
    .slice(0, SLOWEST)
    .map((r): SlowTask => ({
      name: r.task,
      hash: r.hash,
      args: r.args ?? null,
      ms: runDuration(r),
      host: r.host,
      pid: r.pid,
      thread: r.thread ?? null,
      end: new Date(r.end).toISOString(),
    }));
  const hostRecord: Record<string, HostTiming> = {};
  for (const host of [...hosts.keys()].sort()) hostRecord[host] = hosts.get(host)!;
  return { schema: 1, tasks, slowest, hosts: hostRecord, unrecorded: stored.size - runs.length };
}

/** `jug status --timing` as text: the table per name, the slowest tasks, the hosts. */
export function formatTiming(t: TimingSnapshot): string {
  const names = Object.keys(t.tasks);
  if (names.length === 0) {
    return 'No run records of stored results: `jug execute` records how long each task takes (stores without run records: none).\n';
  }
  const table = renderTimingTable(t);
  const slow = t.slowest.map((s) => `  ${fmtMs(s.ms).padStart(9)}  ${s.name}(${s.args ?? '?'})  ${s.hash.slice(0, 12)} on ${s.host}${s.thread === null ? '' : ` thread ${s.thread}`}\n`);
  const hosts = Object.entries(t.hosts).map(([h, x]) => `  ${h}: ${x.tasks} task${x.tasks === 1 ? '' : 's'}, busy ${fmtMs(x.busyMs)}\n`);
  const unrecorded =
    t.unrecorded > 0 ? `${t.unrecorded} stored result(s) have no run record (computed before run records existed, or by a store without them).\n` : '';
  return `${table}\nSlowest tasks:\n${slow.join('')}\nHosts:\n${hosts.join('')}${unrecorded}`;
}

/** The per-name table: finished count and durations (text cells, right-aligned like the status table). */
function renderTimingTable(t: TimingSnapshot): string {
  const rows = new Map<string, (string | number)[]>();
  for (const [name, x] of Object.entries(t.tasks)) rows.set(name, [x.finished, fmtMs(x.totalMs), fmtMs(x.medianMs), fmtMs(x.maxMs)]);
  // renderTable sums numeric columns for its Total row; durations are text, so its total row is
  // replaced by one that says the total of the finished counts and durations.
  const text = renderTable(['Finished', 'Total', 'Median', 'Max'], rows as unknown as Map<string, number[]>);
  const lines = text.split('\n');
  const totalFinished = Object.values(t.tasks).reduce((a, x) => a + x.finished, 0);
  const totalMs = Object.values(t.tasks).reduce((a, x) => a + x.totalMs, 0);
  const nameWidth = lines[0]!.length - 4 * 12;
  lines[lines.length - 2] = 'Total:'.padEnd(nameWidth) + [totalFinished, fmtMs(totalMs), '', ''].map((c) => String(c).padStart(12)).join('');
  return lines.join('\n');
}

/** A duration for people: `0.42 ms`, `12.3 ms`, `1.25 s`, `2m03s`, `1h02m`. */
export function fmtMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(2)} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** Median of sorted values. */
function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}
