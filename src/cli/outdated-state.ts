/**
 * The outdated results of an opened project, as `jug status`, `jug why`, `jug invalidate
 * --outdated` and `jug execute` see them: the run records read once, compared with the code now.
 */
import type { TaskGraph } from '../graph.js';
import { analyse, latestAny, latestDone, type OutdatedAnalysis } from '../outdated/analysis.js';
import type { RunRecord } from '../run-records-types.js';
import { codeNow, partsWhere, prepareCodeNow } from '../outdated/current-code.js';
import { recordsMayBeOutdated } from '../outdated/quick-check.js';
import type { Store } from '../store/store.js';
import { plural } from './table.js';

/** The run records of a store, and what they say of the graph's stored results. */
export interface CodeState {
  /** Whether the store keeps run records (else every result is unknown). */
  readonly hasRecords: boolean;
  readonly log: readonly RunRecord[];
  readonly done: ReadonlyMap<string, RunRecord>;
  readonly analysis: OutdatedAnalysis;
}

/** Reads the run records of `store` and compares the stored results of `graph` with the code now. */
export async function codeState(graph: TaskGraph, store: Store, stored: ReadonlySet<string>): Promise<CodeState> {
  const hasRecords = store.runLog !== undefined;
  // Nothing stored: nothing can be outdated, and the records need not be read.
  const log = hasRecords && stored.size > 0 ? await store.runLog!() : [];
  // The code now, as the next run's records would carry it (cached on disk; only when compared).
  if (log.some((r) => r.code !== undefined)) await prepareCodeNow(graph.tasks);
  const done = latestDone(log);
  let analysis = analyse(graph, stored, done);
  if (analysis.changed.length > 0) {
    // Where the changed code is, for messages: parsed only now that some result is outdated.
    const where = await partsWhere(analysis.changed.map((c) => c.task));
    analysis = analyse(graph, stored, done, undefined, (name) => where.get(name) ?? {});
  }
  return { hasRecords, log, done, analysis };
}

/**
 * Whether some stored result of `graph` may be outdated, cheaply: false when no run record
 * carries a code fingerprint other than its task's now (src/outdated/quick-check.ts, on the
 * records' raw text: no parsing). True means "run {@link codeState} to know". For the commands
 * that only say whether results are outdated (`jug execute`'s line, `jug status`'s table).
 */
export async function mayHaveOutdated(graph: TaskGraph, store: Store, stored: ReadonlySet<string>): Promise<boolean> {
  if (stored.size === 0 || store.runLog === undefined) return false;
  if (store.runLogTexts === undefined) return true;
  const texts = await store.runLogTexts();
  if (!texts.some((t) => t.includes('"code":"'))) return false; // no fingerprints recorded: all unknown
  await prepareCodeNow(graph.tasks);
  return recordsMayBeOutdated(texts, currentCodeByName(graph));
}

/** Task name → its code fingerprint now; null when tasks of one name have different ones. */
function currentCodeByName(graph: TaskGraph): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const lastFn = new Map<string, unknown>();
  for (const t of graph.tasks) {
    if (lastFn.get(t.name) === t.fn) continue; // one look per name and function (thousands of tasks share a few)
    lastFn.set(t.name, t.fn);
    const code = codeNow(t)?.code;
    if (code === undefined) {
      if (out.has(t.name)) out.set(t.name, null);
      continue;
    }
    const seen = out.get(t.name);
    out.set(t.name, seen === undefined || seen === code ? code : null);
  }
  return out;
}

/** The latest record of each hash, any outcome (for `jug why`). */
export function latestRecords(state: CodeState): Map<string, RunRecord> {
  return latestAny(state.log);
}

/** The command that reruns outdated results, as messages name it. */
export const RERUN_COMMAND = 'jug execute --rerun-outdated';

/**
 * The line `jug execute` prints when stored results are outdated (it keeps them): how many, and
 * the command that recomputes them; '' when none are.
 */
export function outdatedRunLine(a: OutdatedAnalysis): string {
  if (a.outdated === 0) return '';
  const names = a.changed.map((c) => c.task).slice(0, 3).join(', ') + (a.changed.length > 3 ? ', …' : '');
  const down = a.downstream === 0 ? '' : ` (and ${plural(a.downstream, 'result')} depending on them)`;
  return (
    `jug: ${plural(a.outdated, 'stored result')}${down} were computed by code that has changed since (${names}); ` +
    `they are kept: \`${RERUN_COMMAND}\` recomputes them (\`jug status --outdated\` says what changed).\n`
  );
}
