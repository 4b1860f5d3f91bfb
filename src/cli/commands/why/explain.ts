/**
 * `jug why`'s answer for one task, in plain words: its state and the reason, from one listing of
 * results and locks, the failure record, the run records and the code fingerprints.
 */
import type { TaskGraph } from '../../../graph.js';
import type { RunningNote, RunRecord } from '../../../run-records-types.js';
import type { FailureRecord, LockInfo } from '../../../store/store.js';
import { describeChanged, type OutdatedAnalysis } from '../../../outdated/analysis.js';
import { formatDuration } from '../../failure-report.js';
import { plural } from '../../table.js';
import { taskCall } from './select.js';

/** What is known of the task and of the graph around it. */
export interface WhyFacts {
  readonly graph: TaskGraph;
  readonly index: number;
  readonly stored: ReadonlySet<string>;
  readonly locks: ReadonlyMap<string, LockInfo>;
  /** The latest run record of each hash (any outcome); empty for a store without run records. */
  readonly latest: ReadonlyMap<string, RunRecord>;
  /** The latest 'done' record of each hash. */
  readonly done: ReadonlyMap<string, RunRecord>;
  readonly analysis: OutdatedAnalysis;
  readonly failure: FailureRecord | undefined;
  /** The running note of the task's lock holder (when it started, in which thread), if any. */
  readonly note?: RunningNote | undefined;
  /** Whether the store keeps run records at all. */
  readonly hasRecords: boolean;
  readonly now?: number;
}

/** The state `jug why` names (its first word), for tests and `--json`-like uses. */
export type WhyState = 'stored' | 'outdated' | 'downstream' | 'waiting' | 'ready' | 'running' | 'failed' | 'stale';

/** The answer: the state and the lines saying why. */
export interface WhyAnswer {
  readonly state: WhyState;
  readonly lines: readonly string[];
}

/** `2026-12-03 04:50:01 UTC`. */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function ago(ms: number, now: number): string {
  return formatDuration(Math.max(0, now - ms));
}

/** Who ran a record's task: `host vm (pid 4922, thread 3)`. */
function place(r: { host: string; pid: number; thread?: number }): string {
  return `host ${r.host} (pid ${r.pid}${r.thread === undefined ? '' : `, thread ${r.thread}`})`;
}

/** The answer for task `facts.index`. */
export function explain(facts: WhyFacts): WhyAnswer {
  const { graph, index, stored } = facts;
  const hash = graph.tasks[index]!.hash();
  if (stored.has(hash)) return explainStored(facts);
  const lock = facts.locks.get(hash);
  if (lock?.failed) return explainFailed(facts);
  if (lock !== undefined && lock.stale) return explainStale(lock);
  if (lock !== undefined) return explainRunning(lock, facts.note, facts.now ?? Date.now());
  const missing = graph.deps[index]!.filter((d) => !stored.has(graph.tasks[d]!.hash()));
  const lastFailure = lastFailed(facts);
  if (missing.length > 0) return explainWaiting(facts, missing, lastFailure);
  return { state: 'ready', lines: ['Ready: every dependency is stored; the next `jug execute` runs it.', ...lastFailure] };
}

function explainStored(facts: WhyFacts): WhyAnswer {
  const { graph, index } = facts;
  const hash = graph.tasks[index]!.hash();
  const record = facts.done.get(hash);
  const lines: string[] = [];
  if (record === undefined) {
    lines.push(
      facts.hasRecords
        ? 'Stored. No run record names it: it was computed before run records existed, or by a process that died before writing its record.'
        : 'Stored. This store keeps no run records, so when, where and by which code it was computed is not known.',
    );
  } else {
    lines.push(`Stored: computed by ${place(record)} at ${utc(record.end)}, in ${formatDuration(record.end - record.start)}.`);
  }
  const state = facts.analysis.states[index];
  if (state === 'outdated') {
    const changed = facts.analysis.changed.find((c) => c.task === graph.tasks[index]!.name);
    lines.push(
      `Outdated: the code of ${changed === undefined ? graph.tasks[index]!.name : describeChanged(changed)} changed since it was computed. ` +
        'It is kept (never recomputed silently); `jug execute --rerun-outdated` recomputes it and what depends on it.',
    );
    return { state: 'outdated', lines };
  }
  if (state === 'downstream') {
    const roots = outdatedAncestors(facts);
    const names = roots.slice(0, 3).map((i) => `${taskCall(graph.tasks[i]!)} [${graph.tasks[i]!.hash().slice(0, 12)}]`);
    lines.push(
      `Downstream of outdated results: it depends on ${plural(roots.length, 'outdated result')} (${names.join(', ')}${roots.length > 3 ? ', …' : ''}). ` +
        '`jug execute --rerun-outdated` recomputes them and it.',
    );
    return { state: 'downstream', lines };
  }
  if (state === 'unknown' && record !== undefined) {
    lines.push('Its code is not known: the run that stored it recorded no code fingerprint (an older jug), so it cannot be called outdated.');
  } else if (state === 'unknown') {
    lines.push('Whether its code changed since is not known (no code fingerprint recorded), so it is not called outdated.');
  } else {
    lines.push('Up to date: its function and the code it uses are as they were when it was computed.');
  }
  return { state: 'stored', lines };
}

/** The outdated tasks `facts.index` depends on, transitively. */
function outdatedAncestors(facts: WhyFacts): number[] {
  const { graph, analysis } = facts;
  const seen = new Set<number>();
  const stack = [...graph.deps[facts.index]!];
  const out: number[] = [];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    if (analysis.states[i] === 'outdated') out.push(i);
    stack.push(...graph.deps[i]!);
  }
  return out.sort((a, b) => a - b);
}

function explainFailed(facts: WhyFacts): WhyAnswer {
  const f = facts.failure;
  if (f === undefined) {
    return {
      state: 'failed',
      lines: ['Failed: it is marked failed (a run with --keep-failed), without a failure record.', RETRY],
    };
  }
  const first = (f.error.message === '' ? f.error.name : `${f.error.name}: ${f.error.message}`).split('\n')[0];
  const ran = f.durationMs === undefined ? '' : ` after ${formatDuration(f.durationMs)}`;
  return {
    state: 'failed',
    lines: [`Failed on ${place(f)} at ${utc(Date.parse(f.time))}${ran}: ${first}`, RETRY, '`jug status --failed` shows the stack.'],
  };
}

const RETRY = 'It is marked failed, so no run takes it: `jug execute --retry-failed` runs it again (stored results are kept).';

function explainStale(lock: LockInfo): WhyAnswer {
  const who = lock.holder === undefined ? 'a process that is gone' : `pid ${lock.holder.pid} on ${lock.holder.host}, which is gone`;
  return {
    state: 'stale',
    lines: [
      `Stale lock: it is locked by ${who} (a dead process, or another host silent past --lock-lease).`,
      'The next `jug execute` takes it over and runs it; `jug cleanup --stale` removes the lock now.',
    ],
  };
}

function explainRunning(lock: LockInfo, note: RunningNote | undefined, now: number): WhyAnswer {
  const thread = note?.thread === undefined ? '' : `, thread ${note.thread}`;
  const who = lock.holder === undefined ? 'another process' : `pid ${lock.holder.pid}${thread} on ${lock.holder.host}`;
  // When it started: its process's running note (absent for a store without them).
  const start = note?.start;
  const since = start === undefined ? '' : ` since ${utc(start)} (${ago(start, now)} ago)`;
  const beat = lock.heartbeatAt === undefined ? '' : `; last heartbeat ${ago(lock.heartbeatAt, now)} ago`;
  return { state: 'running', lines: [`Running: ${who} holds its lock${since}${beat}.`] };
}

function explainWaiting(facts: WhyFacts, missing: readonly number[], lastFailure: readonly string[]): WhyAnswer {
  const { graph, stored, locks } = facts;
  const what = (d: number): string => {
    const t = graph.tasks[d]!;
    const lock = locks.get(t.hash());
    const deps = graph.deps[d]!;
    const state = lock?.failed
      ? 'failed'
      : lock?.stale
        ? 'stale lock'
        : lock !== undefined
          ? `running${lock.holder === undefined ? '' : ` on ${lock.holder.host}`}`
          : deps.every((x) => stored.has(graph.tasks[x]!.hash()))
            ? 'ready'
            : 'waiting';
    return `  ${t.hash().slice(0, 12)}  ${taskCall(t)}: ${state}`;
  };
  return {
    state: 'waiting',
    lines: [
      `Waiting on ${plural(missing.length, 'dependency', 'dependencies')} not stored yet:`,
      ...missing.slice(0, 10).map(what),
      ...(missing.length > 10 ? [`  … ${missing.length - 10} more`] : []),
      ...lastFailure,
    ],
  };
}

/** A failure in the run records that left no mark (the task runs again): said as a note. */
function lastFailed(facts: WhyFacts): string[] {
  const r = facts.latest.get(facts.graph.tasks[facts.index]!.hash());
  if (r === undefined || r.outcome !== 'failed') return [];
  return [`Its last run failed on ${place(r)} at ${utc(r.end)}: ${r.error ?? '(no message recorded)'}`];
}
