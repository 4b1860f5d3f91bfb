/**
 * Which stored results were computed by code that has changed since (outdated), which depend on
 * those (downstream), which cannot be told (unknown: no fingerprint recorded), from the run
 * records (the latest 'done' record of each hash) and the jugfile's code now (current-code.ts).
 * Never changes anything: `jug status`, `jug why` and `--rerun-outdated` decide what to do.
 */
import type { TaskGraph } from '../graph.js';
import type { RunRecord } from '../run-records-types.js';
import type { RecordCode } from '../record-code.js';
import type { Task } from '../task.js';
import { codeNow } from './current-code.js';

/** What is known of a stored result's code. */
export type CodeState = 'current' | 'outdated' | 'downstream' | 'unknown';

/** A task function whose code changed since some of its results were computed. */
export interface ChangedFunction {
  /** Task name, e.g. `primes.isPrime`. */
  readonly task: string;
  /** Its results computed by other code. */
  readonly results: number;
  /**
   * The parts of its fingerprint that differ (its own function, a helper, a constant), each with
   * where it is now (`file:line`); a part that is gone has no place. Empty when only the
   * `version` differs, or when the records predate parts.
   */
  readonly parts: readonly { readonly name: string; readonly where?: string; readonly change: 'changed' | 'added' | 'removed' }[];
  /** Where the task function is (`file:line`). */
  readonly where?: string;
  /** True when the parts are all the same: the `version` (or code outside the file) changed. */
  readonly versionOnly: boolean;
}

/** The code state of a graph's stored results. */
export interface OutdatedAnalysis {
  /** Per task index: its state if its result is stored, else undefined. */
  readonly states: readonly (CodeState | undefined)[];
  /** Per outdated task index, the record of the run that stored it. */
  readonly records: ReadonlyMap<number, RunRecord>;
  /** The functions whose code changed, most results first. */
  readonly changed: readonly ChangedFunction[];
  /** Counts over the graph. */
  readonly outdated: number;
  readonly downstream: number;
  readonly unknown: number;
}

/** The latest 'done' record of each hash (by end time; a later run of the same task wins). */
export function latestDone(log: readonly RunRecord[]): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const r of log) {
    if (r.outcome !== 'done') continue;
    const seen = out.get(r.hash);
    if (seen === undefined || seen.end <= r.end) out.set(r.hash, r);
  }
  return out;
}

/** The latest record of each hash, whatever its outcome (for `jug why`). */
export function latestAny(log: readonly RunRecord[]): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const r of log) {
    const seen = out.get(r.hash);
    if (seen === undefined || seen.end <= r.end) out.set(r.hash, r);
  }
  return out;
}

/** How to get the current fingerprint of a task's function (replaceable in unit tests). */
export type CodeOf = (task: Task) => RecordCode | undefined;
/** Where the parts of a task name's code are now, `file:line` by part name. */
export type WhereOf = (taskName: string) => Readonly<Record<string, string>>;

/**
 * Classifies the stored results of `graph`: a result whose latest 'done' record has a code
 * fingerprint different from its function's now is outdated; a stored result depending
 * (transitively) on an outdated one is downstream; a result without a record or without a
 * fingerprint in it is unknown (computed before fingerprints existed, or by a store without run
 * records), never outdated. Only tasks whose names are registered with a function get compared.
 */
export function analyse(
  graph: TaskGraph,
  stored: ReadonlySet<string>,
  done: ReadonlyMap<string, RunRecord>,
  codeOf: CodeOf = codeNow,
  whereOf: WhereOf = () => ({}),
): OutdatedAnalysis {
  const states: (CodeState | undefined)[] = new Array<CodeState | undefined>(graph.tasks.length).fill(undefined);
  const records = new Map<number, RunRecord>();
  const byFunction = new Map<string, { count: number; records: RunRecord[]; now: RecordCode }>();
  graph.tasks.forEach((t, i) => {
    if (!stored.has(t.hash())) return;
    const record = done.get(t.hash());
    const now = record?.code === undefined ? undefined : codeOf(t);
    if (record?.code === undefined || now === undefined) {
      states[i] = 'unknown';
    } else if (record.code === now.code) {
      states[i] = 'current';
    } else {
      states[i] = 'outdated';
      records.set(i, record);
      const f = byFunction.get(t.name) ?? { count: 0, records: [], now };
      f.count++;
      if (f.records.length < 50) f.records.push(record);
      byFunction.set(t.name, f);
    }
  });
  markDownstream(graph, states);
  const changed = [...byFunction]
    .map(([task, f]) => describeChange(task, f.count, f.records, f.now, whereOf(task)))
    .sort((a, b) => b.results - a.results || a.task.localeCompare(b.task));
  let outdated = 0;
  let downstream = 0;
  let unknown = 0;
  for (const s of states) {
    if (s === 'outdated') outdated++;
    else if (s === 'downstream') downstream++;
    else if (s === 'unknown') unknown++;
  }
  return { states, records, changed, outdated, downstream, unknown };
}

/** Stored results depending, through any chain of tasks, on an outdated one: downstream. */
function markDownstream(graph: TaskGraph, states: (CodeState | undefined)[]): void {
  // Graph order is topological: one forward pass sees every dependency before its dependants.
  const tainted = new Array<boolean>(graph.tasks.length).fill(false);
  for (let i = 0; i < graph.tasks.length; i++) {
    const fromDeps = graph.deps[i]!.some((d) => tainted[d]);
    tainted[i] = fromDeps || states[i] === 'outdated';
    if (fromDeps && states[i] !== undefined && states[i] !== 'outdated') states[i] = 'downstream';
  }
}

/** What changed in a function's code, from its outdated results' records and its fingerprint now. */
function describeChange(
  task: string,
  results: number,
  records: readonly RunRecord[],
  now: RecordCode,
  at: Readonly<Record<string, string>>,
): ChangedFunction {
  const fnPart = Object.keys(now.parts).find((n) => task.endsWith(`.${n}`)) ?? Object.keys(now.parts)[0];
  const where = fnPart === undefined ? undefined : at[fnPart];
  const seen = new Map<string, ChangedFunction['parts'][number]>();
  for (const r of records) {
    if (r.parts === undefined) continue;
    for (const [name, h] of Object.entries(now.parts)) {
      const before = r.parts[name];
      if (before === h || seen.has(name)) continue;
      seen.set(name, { name, where: at[name], change: before === undefined ? 'added' : 'changed' });
    }
    for (const name of Object.keys(r.parts)) {
      if (!(name in now.parts) && !seen.has(name)) seen.set(name, { name, change: 'removed' });
    }
  }
  const parts = [...seen.values()].sort((a, b) => (a.name === fnPart ? -1 : b.name === fnPart ? 1 : a.name.localeCompare(b.name)));
  const hadParts = records.some((r) => r.parts !== undefined);
  return { task, results, parts, ...(where === undefined ? {} : { where }), versionOnly: hadParts && parts.length === 0 };
}

/** `primes.isPrime (isPrime at primes.ts:12, helper factor at primes.ts:4)` or `… (version)`. */
export function describeChanged(c: ChangedFunction): string {
  if (c.versionOnly) return `${c.task} (its version${c.where === undefined ? '' : `, ${c.where}`})`;
  if (c.parts.length === 0) return c.where === undefined ? c.task : `${c.task} (${c.where})`;
  const list = c.parts.map((p) => (p.change === 'removed' ? `${p.name} removed` : `${p.name} at ${p.where ?? '?'}`));
  return `${c.task} (${list.join(', ')})`;
}
