/**
 * `jug status --json`: the status of every task as one JSON document, for scripts, CI and
 * `jug webstatus`. {@link statusSnapshot} builds it from one listing of locks and one of results
 * (the same classification as the table: src/cli/status-counts.ts) and the failure marks with
 * their records. The schema is documented in the README ("`jug status --json`"); its keys are
 * stable: new ones may be added, none renamed or removed without raising `schema`.
 */
import type { BarrierStop } from '../../../barrier.js';
import type { TaskGraph } from '../../../graph.js';
import type { RunningNote } from '../../../run-records-types.js';
import type { FailureRecord, LockInfo, Store } from '../../../store/store.js';
import { codeState } from '../../outdated-state.js';
import { outdatedJson, type OutdatedJson } from '../../status-outdated.js';
import { FAILED, FINISHED, READY, RUNNING, STALE, WAITING, classify, type StatusColumn } from '../../status-counts.js';

/** Counts of tasks in each state. */
export interface StatusCounts {
  /** Some dependency is not finished. */
  waiting: number;
  /** Dependencies finished, not running. */
  ready: number;
  /** A live process holds its lock. */
  running: number;
  /** Its result is stored. */
  finished: number;
  /** Its lock is a failure mark (`--keep-failed`). */
  failed: number;
  /** Its lock's holder is gone (the next run takes it over). */
  stale: number;
}

/** A task whose lock a live process holds. */
export interface RunningTask {
  readonly name: string;
  readonly hash: string;
  /** The lock holder's host and pid (null: a lock that does not say). */
  readonly host: string | null;
  readonly pid: number | null;
  /** Worker thread running it (null: the main thread, or not known: see `since`). */
  readonly thread: number | null;
  /** When it started, ISO 8601, from its process's running note (null: no note yet, or a store without them). */
  readonly since: string | null;
  /** When its holder last showed it is alive (its heartbeat), ISO 8601 (null: not known). */
  readonly heartbeat: string | null;
}

/** A failure mark (`jug execute --keep-failed`) with what its record says (nulls: no readable record). */
export interface FailureEntry {
  /** Task name (from the jugfile, else from the record; null: neither knows it). */
  readonly name: string | null;
  readonly hash: string;
  /** The arguments described in one line. */
  readonly args: string | null;
  /** The error's first line, `Name: message`. */
  readonly error: string | null;
  readonly host: string | null;
  readonly pid: number | null;
  /** When it failed, ISO 8601. */
  readonly when: string | null;
}

/** The document `jug status --json` prints. */
export interface StatusSnapshot {
  /** Version of this schema (1). */
  readonly schema: 1;
  /** The store's location (the jugdir). */
  readonly jugdir: string;
  /** When the snapshot was taken, ISO 8601. */
  readonly time: string;
  /** Counts per task name, names sorted. */
  readonly tasks: Record<string, StatusCounts>;
  /** Counts over all tasks, and their number. */
  readonly totals: StatusCounts & { total: number };
  /** Tasks running now (graph order). */
  readonly running: RunningTask[];
  /** Failure marks (graph order; marks of tasks the jugfile does not declare last). */
  readonly failures: FailureEntry[];
  /**
   * Stored results computed by code that has changed since (issue 18): how many are outdated,
   * downstream of those, of unknown code, and per changed task function how many and where.
   */
  readonly outdated: OutdatedJson;
  /** Set when the jugfile stopped loading at a barrier: tasks after it are not counted. */
  readonly barrier: { readonly where: string; readonly tasksBefore: number; readonly missing: number } | null;
}

const COLUMN_KEY: Record<StatusColumn, keyof StatusCounts> = {
  [WAITING]: 'waiting',
  [READY]: 'ready',
  [FINISHED]: 'finished',
  [RUNNING]: 'running',
  [FAILED]: 'failed',
  [STALE]: 'stale',
};

const zero = (): StatusCounts => ({ waiting: 0, ready: 0, running: 0, finished: 0, failed: 0, stale: 0 });

/** What {@link statusSnapshot} reads (a loaded project has it all). */
export interface SnapshotInput {
  readonly graph: TaskGraph;
  readonly store: Store;
  /** A listing of results taken before (the jugfile's load); undefined: list now. */
  readonly stored?: ReadonlySet<string> | undefined;
  readonly barrier?: BarrierStop | undefined;
}

/**
 * The status document of `jug status --json` (see {@link StatusSnapshot}): one listing of locks,
 * one of results (unless given), and the failure marks with their records.
 */
export async function statusSnapshot(input: SnapshotInput, now = new Date()): Promise<StatusSnapshot> {
  const { graph, store, barrier } = input;
  const locks = await store.listLocks();
  const classes = await classify(graph, store, input.stored, locks);
  const failures = await store.failures();
  const notes = (await store.runningNotes?.()) ?? [];
  const { analysis } = await codeState(graph, store, input.stored ?? (await store.list()));
  return {
    schema: 1,
    jugdir: store.location,
    time: now.toISOString(),
    ...countsOf(graph, classes),
    running: runningTasks(graph, classes, locks, notes),
    failures: failureEntries(graph, failures),
    outdated: outdatedJson(analysis),
    barrier: barrier === undefined ? null : { where: barrier.where, tasksBefore: barrier.tasksBefore, missing: barrier.missing },
  };
}

/** Counts per task name (sorted) and in all. */
function countsOf(graph: TaskGraph, classes: readonly StatusColumn[]): Pick<StatusSnapshot, 'tasks' | 'totals'> {
  const byName = new Map<string, StatusCounts>();
  const totals = { ...zero(), total: 0 };
  graph.tasks.forEach((t, i) => {
    let row = byName.get(t.name);
    if (row === undefined) byName.set(t.name, (row = zero()));
    const key = COLUMN_KEY[classes[i]!];
    row[key]++;
    totals[key]++;
    totals.total++;
  });
  const tasks: Record<string, StatusCounts> = {};
  for (const name of [...byName.keys()].sort()) tasks[name] = byName.get(name)!;
  return { tasks, totals };
}

/**
 * The running tasks, with their start and thread from their holder's running note: a note counts
 * only when its host and pid are the lock holder's (a dead process's notes are ignored).
 */
function runningTasks(
  graph: TaskGraph,
  classes: readonly StatusColumn[],
  locks: ReadonlyMap<string, LockInfo>,
  notes: readonly RunningNote[],
): RunningTask[] {
  const noteOf = new Map<string, RunningNote>();
  for (const n of notes) noteOf.set(`${n.hash} ${n.pid}@${n.host}`, n);
  const out: RunningTask[] = [];
  graph.tasks.forEach((t, i) => {
    if (classes[i] !== RUNNING) return;
    const lock = locks.get(t.hash());
    const note = lock?.holder === undefined ? undefined : noteOf.get(`${t.hash()} ${lock.holder.pid}@${lock.holder.host}`);
    out.push({
      name: t.name,
      hash: t.hash(),
      host: lock?.holder?.host ?? null,
      pid: lock?.holder?.pid ?? null,
      thread: note?.thread ?? null,
      since: note === undefined ? null : new Date(note.start).toISOString(),
      heartbeat: lock?.heartbeatAt === undefined ? null : new Date(lock.heartbeatAt).toISOString(),
    });
  });
  return out;
}

function failureEntries(graph: TaskGraph, failures: ReadonlyMap<string, FailureRecord | undefined>): FailureEntry[] {
  const order = (h: string): number => graph.index.get(h) ?? Number.MAX_SAFE_INTEGER;
  const hashes = [...failures.keys()].sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
  return hashes.map((hash) => {
    const r = failures.get(hash);
    const i = graph.index.get(hash);
    return {
      name: i !== undefined ? graph.tasks[i]!.name : (r?.task ?? null),
      hash,
      args: r?.args ?? null,
      error: r === undefined ? null : firstLine(`${r.error.name}: ${r.error.message}`),
      host: r?.host ?? null,
      pid: r?.pid ?? null,
      when: r?.time ?? null,
    };
  });
}

function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return i < 0 ? text : text.slice(0, i);
}
