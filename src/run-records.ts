/**
 * Run records (issue 17 §1; the types are src/run-records-types.ts): building the record of a
 * task this process ran, and reading them back consistently with the store.
 *
 * Writing: `jug execute`'s executors hand each task's outcome to a {@link RunRecorder}. A result's
 * record is handed to the store *before* the result is committed, and the stores write their
 * buffered records with the next group commit (the file store: before its first flush), so a
 * result that is stored never lacks its record, even after a crash; a crash loses at most the
 * records of the tasks that were running (whose results are not stored either).
 *
 * Reading: a record only says what a process did. Whether a result is there now is the store's
 * listing: `jug invalidate` and `jug cleanup` remove results, not records, so every reader
 * ({@link finishedRuns}) keeps only records of results still stored: a record of a removed
 * result never shows as done.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeArguments } from './describe.js';
import type { TaskOutcome } from './execute-task.js';
import { PACKAGE_ROOT } from './package-root.js';
import type { RecordCode } from './record-code.js';
import type { RunRecord } from './run-records-types.js';
import type { Store } from './store/store.js';
import type { Task } from './task.js';

export type { RunRecord, RunRecordStore } from './run-records-types.js';
export { parseRunLines, parseRunRecord } from './run-record-lines.js';

/** Longest `args` a record keeps (characters; describeArguments cuts with `…`). */
export const RECORD_ARGS_LENGTH = 200;
/** Longest `error` a record keeps (its first line, cut). */
export const RECORD_ERROR_LENGTH = 500;

const HOST = hostname();
let version: string | undefined;

/** jug's version (package.json), read once. */
export function jugVersion(): string {
  if (version === undefined) {
    try {
      version = String((JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown }).version ?? '?');
    } catch {
      version = '?';
    }
  }
  return version;
}

/** What a record says of one run of a task, beyond the task itself. */
export interface RunDetails {
  readonly outcome: RunRecord['outcome'];
  /** Epoch ms when the function started, and when it ended. */
  readonly start: number;
  readonly end: number;
  readonly thread?: number | undefined;
  readonly bytes?: number | undefined;
  readonly attempt?: number | undefined;
  /** For a failure: the error (its first line is kept). */
  readonly error?: string | undefined;
}

/** Gives a task's code fingerprint for its record (src/record-code.ts's taskCode). */
export type CodeOf = (task: Task) => RecordCode | undefined;

/** The record of one run of `task` in this process (`codeOf`: its code fingerprint, if wanted). */
export function makeRunRecord(task: Task, details: RunDetails, codeOf?: CodeOf): RunRecord {
  const code = codeOf?.(task);
  const { thread, bytes, attempt, error } = details;
  // Built without spreads (each a copy through a runtime call): this runs for every task.
  const r: Mutable<RunRecord> = {
    v: 1,
    hash: task.hash(),
    task: task.name,
    args: describeArguments(task.args, RECORD_ARGS_LENGTH),
    outcome: details.outcome,
    start: micro(details.start),
    end: micro(details.end),
    host: HOST,
    pid: process.pid,
    jug: jugVersion(),
  };
  if (thread !== undefined) r.thread = thread;
  if (bytes !== undefined) r.bytes = bytes;
  if (attempt !== undefined && attempt !== 1) r.attempt = attempt;
  if (error !== undefined) r.error = cut(firstLine(error), RECORD_ERROR_LENGTH);
  if (code !== undefined) {
    r.code = code.code;
    r.parts = code.parts;
  }
  return r;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What a run record says of an outcome: undefined for outcomes of tasks this process did not run. */
export function runDetails(outcome: TaskOutcome, now = Date.now()): RunDetails | undefined {
  if (outcome.kind === 'executed') {
    const start = outcome.startedAt ?? now - outcome.ms;
    const bytes = outcome.bytes ?? outcome.prepared?.bytes;
    return { outcome: 'done', start, end: start + outcome.ms, thread: outcome.thread, bytes, attempt: outcome.attempts };
  }
  if (outcome.kind !== 'failed') return undefined;
  const ran = outcome.record?.durationMs;
  const start = outcome.startedAt ?? (ran === undefined ? now : now - ran);
  const error = `${outcome.error.name}: ${outcome.error.message}`;
  return { outcome: 'failed', start, end: ran === undefined ? Math.max(start, now) : start + ran, thread: outcome.thread, attempt: outcome.attempts, error };
}

/**
 * Hands the outcomes of the tasks this process runs to the store as run records (stores without
 * run records: nothing). Used by `jug execute`'s executors in the main thread only, so each
 * process has one writer.
 */
export class RunRecorder {
  readonly #store: Store;
  readonly #codeOf: CodeOf | undefined;

  /** `codeOf`: the code fingerprint to record (src/record-code.ts), kept out of this module so that readers of records do not load the fingerprinter. */
  constructor(store: Store, codeOf?: CodeOf) {
    this.#store = store;
    this.#codeOf = codeOf;
  }

  /** Whether the store keeps run records. */
  get active(): boolean {
    return this.#store.recordRun !== undefined;
  }

  /**
   * Records `outcome` of `task` if this process ran it (executed or failed). An executed task's
   * record must be handed over before its result is committed (see the module comment).
   * Never throws: a record that cannot be written costs the record, not the task.
   */
  record(task: Task, outcome: TaskOutcome): void {
    if (this.#store.recordRun === undefined) return;
    const details = runDetails(outcome);
    if (details === undefined) return;
    try {
      // Failures are rare and show in `jug status` at once; results' records go with their commit.
      this.#store.recordRun(makeRunRecord(task, details, this.#codeOf), details.outcome === 'failed').catch(ignore);
    } catch {
      // describing the arguments or fingerprinting failed: no record
    }
  }
}

/** For the promise of a record handed over: its failure costs the record only. */
function ignore(): void {}

/**
 * Compacts `store`'s run records after results were removed (`jug cleanup`, `jug invalidate`):
 * drops the records of results no longer stored and older runs, keeping the latest record per
 * hash that readers use (recordsToKeep). Returns how many records were dropped (0 for a store
 * that cannot compact). Safe while other processes run: see the stores' compactRunLog.
 */
export async function compactRunRecords(store: Store): Promise<number> {
  if (store.compactRunLog === undefined) return 0;
  const { read, kept } = await store.compactRunLog(await store.list());
  return read - kept;
}

/** Every record of `store` (none for a store without run records). */
export async function readRunLog(store: Store): Promise<RunRecord[]> {
  return store.runLog === undefined ? [] : await store.runLog();
}

/** The last record of each hash (by end time; the later in the log on a tie). */
export function latestRuns(records: readonly RunRecord[]): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const r of records) {
    const seen = out.get(r.hash);
    if (seen === undefined || r.end >= seen.end) out.set(r.hash, r);
  }
  return out;
}

/**
 * The run behind each result stored now: per hash in `stored` (the store's listing), its last
 * 'done' record. A record of a result no longer stored (invalidated, cleaned up, set aside as
 * corrupt) is left out, as is a hash stored without a record (computed before run records, or
 * by a store without them).
 */
export function finishedRuns(records: readonly RunRecord[], stored: ReadonlySet<string>): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const r of records) {
    if (r.outcome !== 'done' || !stored.has(r.hash)) continue;
    const seen = out.get(r.hash);
    if (seen === undefined || r.end >= seen.end) out.set(r.hash, r);
  }
  return out;
}

/** How long a run took, ms (never negative). */
export function runDuration(r: RunRecord): number {
  return Math.max(0, r.end - r.start);
}

/** Epoch ms to the microsecond (durations of short tasks are fractions of a ms). */
function micro(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return i < 0 ? text : text.slice(0, i);
}

function cut(text: string, n: number): string {
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}
