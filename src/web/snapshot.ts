/**
 * Builds the page's {@link WebSnapshot} from one look at the store: the status classes of every
 * task (src/cli/status-counts.ts, as `jug status` counts them), the locks, the failure marks and
 * the run records. Pure: the monitor (monitor.ts) gathers the inputs.
 */
import { describeArguments } from '../describe.js';
import type { TaskGraph } from '../graph.js';
import type { RunRecord, RunningNote } from '../run-records-types.js';
import type { FailureRecord, LockInfo } from '../store/store.js';
import { READY, RUNNING, STATUS_COLUMNS, FINISHED, FAILED, STALE, statusByName, statusTotals, type StatusColumn } from '../cli/status-counts.js';
import { durationsOf, liveRecords, rateOf, recentOf, timelineOf } from './run-stats.js';
import type { FailedTask, RunningTask, WebSnapshot } from './snapshot-types.js';

/** Most running tasks and failures listed (the counts show them all). */
export const LIST_LIMIT = 200;

/** What one look at the store gave. */
export interface StoreLook {
  readonly graph: TaskGraph;
  readonly classes: readonly StatusColumn[];
  readonly stored: ReadonlySet<string>;
  readonly locks: ReadonlyMap<string, LockInfo>;
  readonly failures: ReadonlyMap<string, FailureRecord | undefined>;
  /** Undefined: the store keeps no run records. */
  readonly records: readonly RunRecord[] | undefined;
  /** What running processes say they run (start, thread): `Store.runningNotes()`. */
  readonly notes: readonly RunningNote[];
}

/** The rest of the snapshot: where, since when, what the server saw over time. */
export interface SnapshotContext {
  readonly now: number;
  readonly jugfile: string;
  readonly jugdir: string;
  readonly barrier?: string;
  readonly problem?: string;
  /** When this server first saw each lock (epoch ms). */
  readonly firstSeen: ReadonlyMap<string, number>;
  readonly progress: readonly (readonly [number, number])[];
  readonly graphVersion: string;
}

export function buildSnapshot(look: StoreLook, ctx: SnapshotContext): WebSnapshot {
  const { graph, classes } = look;
  const rows = statusByName(graph, classes);
  const totals = statusTotals(classes);
  const records = look.records ?? [];
  const live = liveRecords(records, look.stored, new Set(look.failures.keys()));
  const rate = look.records === undefined ? rateFromProgress(ctx.progress, ctx.now) : rateOf(records, ctx.now);
  // Tasks left to run; an ETA only while some run or wait to (not for tasks stuck behind a failure).
  const left = totals.reduce((a, b) => a + b, 0) - totals[FINISHED]! - totals[FAILED]! - totals[STALE]!;
  const moving = totals[RUNNING]! + totals[READY]! > 0;
  return {
    v: 1,
    at: ctx.now,
    jugfile: ctx.jugfile,
    jugdir: ctx.jugdir,
    columns: STATUS_COLUMNS,
    names: [...rows].map(([name, counts]) => ({ name, counts })),
    totals,
    ...(ctx.barrier === undefined ? {} : { barrier: ctx.barrier }),
    ...(ctx.problem === undefined ? {} : { problem: ctx.problem }),
    records: look.records !== undefined,
    ...(rate === undefined ? {} : { rate }),
    ...(rate === undefined || rate <= 0 || !moving ? {} : { etaSeconds: left / rate }),
    running: runningTasks(look, ctx),
    failures: failedTasks(look),
    recent: recentOf(records),
    timeline: timelineOf(records, ctx.now),
    durations: durationsOf(live, [...rows.keys()]),
    progress: ctx.progress,
    graphVersion: ctx.graphVersion,
  };
}

/**
 * The running tasks: holder from the lock; start and thread from the holder's running note (a
 * note counts only when its host and pid are the lock holder's, as `jug status --json` reads
 * them), else since when this server first saw the lock.
 */
function runningTasks(look: StoreLook, ctx: SnapshotContext): RunningTask[] {
  const noteOf = new Map<string, RunningNote>();
  for (const n of look.notes) noteOf.set(`${n.hash} ${n.pid}@${n.host}`, n);
  const out: RunningTask[] = [];
  look.graph.tasks.forEach((t, i) => {
    if (look.classes[i] !== RUNNING || out.length >= LIST_LIMIT) return;
    const h = t.hash();
    const holder = look.locks.get(h)?.holder;
    const note = holder === undefined ? undefined : noteOf.get(`${h} ${holder.pid}@${holder.host}`);
    out.push({
      name: t.name,
      hash: h,
      args: describeArguments(t.args),
      ...(holder === undefined ? {} : { host: holder.host, pid: holder.pid }),
      ...(note?.thread === undefined ? {} : { thread: note.thread }),
      since: note?.start ?? ctx.firstSeen.get(h) ?? ctx.now,
      sinceSeen: note === undefined,
    });
  });
  return out.sort((a, b) => a.since - b.since);
}

function failedTasks(look: StoreLook): FailedTask[] {
  const out: FailedTask[] = [];
  for (const [hash, record] of look.failures) {
    if (out.length >= LIST_LIMIT) break;
    const i = look.graph.index.get(hash);
    const name = i !== undefined ? look.graph.tasks[i]!.name : (record?.task ?? '(a task the jugfile does not declare now)');
    if (record === undefined) {
      out.push({ name, hash });
      continue;
    }
    out.push({
      name,
      hash,
      args: record.args,
      host: record.host,
      pid: record.pid,
      ...(record.thread === undefined ? {} : { thread: record.thread }),
      time: record.time,
      error: record.error,
    });
  }
  // In graph order (dependencies first), marks of tasks the jugfile does not declare last.
  const order = (h: string): number => look.graph.index.get(h) ?? Number.MAX_SAFE_INTEGER;
  return out.sort((a, b) => order(a.hash) - order(b.hash));
}

/**
 * Without run records: finished tasks per second over the last minute of what the server saw
 * (`progress` holds a sample at each change, oldest first).
 */
export function rateFromProgress(progress: readonly (readonly [number, number])[], now: number): number | undefined {
  if (progress.length < 2) return undefined;
  const from = now - 60_000;
  let base: readonly [number, number] = progress[0]!;
  for (const p of progress) if (p[0] <= from) base = [from, p[1]];
  const dt = now - base[0];
  if (dt <= 0) return undefined;
  return ((progress[progress.length - 1]![1] - base[1]) * 1000) / dt;
}
