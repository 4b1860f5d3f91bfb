/**
 * What the page shows from run records (src/run-records-types.ts): the rate and ETA, the recent
 * completions, the timeline of runs per host / process / thread, and durations per task name.
 * Pure functions of the records, so they are tested without a server.
 */
import type { RunRecord } from '../run-records-types.js';
import type { Completion, NameDurations, Timeline } from './snapshot-types.js';

/** How far back the rate looks. */
export const RATE_WINDOW_MS = 60_000;
/** How far back the timeline reaches, and how many bars it holds at most (the latest). */
export const TIMELINE_WINDOW_MS = 10 * 60_000;
export const TIMELINE_MAX_BARS = 3_000;
/** How many recent completions are shown. */
export const RECENT_COUNT = 20;

/**
 * Tasks done per second over the last {@link RATE_WINDOW_MS} (or since the first of those
 * records started, when that is shorter); undefined when none ended in the window.
 */
export function rateOf(records: readonly RunRecord[], now: number): number | undefined {
  const from = now - RATE_WINDOW_MS;
  let n = 0;
  let earliest = now;
  for (const r of records) {
    if (r.outcome !== 'done' || r.end <= from || r.end > now) continue;
    n++;
    earliest = Math.min(earliest, r.start);
  }
  if (n === 0) return undefined;
  const span = Math.max(now - Math.max(earliest, from), 1_000);
  return (n * 1000) / span;
}

/** The lane label of a record: `host pid N` and ` thread T` for a worker thread. */
export function laneOf(r: Pick<RunRecord, 'host' | 'pid' | 'thread'>): string {
  return `${r.host} pid ${r.pid}${r.thread === undefined ? '' : ` thread ${r.thread}`}`;
}

/** The latest runs (ended within the window), one lane per host / process / thread, lanes sorted. */
export function timelineOf(records: readonly RunRecord[], now: number): Timeline {
  const recent = records
    .filter((r) => r.end > now - TIMELINE_WINDOW_MS)
    .sort((a, b) => a.end - b.end)
    .slice(-TIMELINE_MAX_BARS);
  const lanes = [...new Set(recent.map(laneOf))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const laneIndex = new Map(lanes.map((l, i) => [l, i]));
  return {
    lanes,
    bars: recent.map((r) => ({ lane: laneIndex.get(laneOf(r))!, name: r.task, start: r.start, end: r.end, failed: r.outcome === 'failed' })),
  };
}

/** The last {@link RECENT_COUNT} runs that ended, latest first. */
export function recentOf(records: readonly RunRecord[]): Completion[] {
  return [...records]
    .sort((a, b) => b.end - a.end)
    .slice(0, RECENT_COUNT)
    .map((r) => ({
      name: r.task,
      hash: r.hash,
      ...(r.args === undefined ? {} : { args: r.args }),
      host: r.host,
      pid: r.pid,
      ...(r.thread === undefined ? {} : { thread: r.thread }),
      end: r.end,
      ms: r.end - r.start,
      failed: r.outcome === 'failed',
    }));
}

/** Median and maximum duration of each task name's done runs, in `order` (names without runs left out). */
export function durationsOf(records: readonly RunRecord[], order: readonly string[]): NameDurations[] {
  const byName = new Map<string, number[]>();
  for (const r of records) {
    if (r.outcome !== 'done') continue;
    const list = byName.get(r.task) ?? [];
    list.push(r.end - r.start);
    byName.set(r.task, list);
  }
  const names = [...order.filter((n) => byName.has(n)), ...[...byName.keys()].filter((n) => !order.includes(n)).sort()];
  return names.map((name) => {
    const ms = byName.get(name)!.sort((a, b) => a - b);
    const mid = ms.length >> 1;
    const median = ms.length % 2 === 1 ? ms[mid]! : (ms[mid - 1]! + ms[mid]!) / 2;
    return { name, count: ms.length, medianMs: median, maxMs: ms[ms.length - 1]! };
  });
}

/**
 * The records that still count: the latest run of each hash whose result is stored (done) or that
 * is marked failed now, so that a result removed since (`invalidate`, `cleanup`) or a failure
 * retried since no longer shows.
 */
export function liveRecords(records: readonly RunRecord[], stored: ReadonlySet<string>, failed: ReadonlySet<string>): RunRecord[] {
  const latest = new Map<string, RunRecord>();
  for (const r of records) {
    const seen = latest.get(r.hash);
    if (seen === undefined || r.end >= seen.end) latest.set(r.hash, r);
  }
  return [...latest.values()].filter((r) => (r.outcome === 'done' ? stored.has(r.hash) : failed.has(r.hash)));
}
