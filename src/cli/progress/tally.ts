/**
 * Counts of one pass of `jug execute`, per task name, read from the status table: which results
 * were stored when the pass started (shown as stored from the first frame, before the scheduler
 * has even looked), which this process executed, which other processes stored meanwhile.
 */
import type { TaskGraph } from '../../graph.js';
import { TaskState, type StatusTable } from '../../status-table.js';
import type { NameTally } from './estimator.js';

const FIELDS = ['total', 'stored', 'executed', 'byOthers', 'running', 'elsewhere', 'ready', 'waiting', 'failed'] as const;
type Field = (typeof FIELDS)[number];
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<Field, number>;

/** A tally per task name, in the order names first appear in the graph, and their sum. */
export interface PassTallies {
  readonly total: NameTally;
  readonly byName: readonly NameTally[];
}

/** Reads a pass's tallies from its status table. */
export class PassTally {
  readonly #names: string[] = [];
  readonly #nameOf: Int32Array;
  /** 1: stored at the start; 2: executed by this run in an earlier pass (before a barrier). */
  readonly #before: Uint8Array;

  /**
   * @param stored the listing the pass started from (the one the jugfile was loaded against)
   * @param executedEarlier hashes this run executed in earlier passes (they count as executed)
   */
  constructor(graph: TaskGraph, stored: ReadonlySet<string>, executedEarlier: ReadonlySet<string> = new Set()) {
    const index = new Map<string, number>();
    this.#nameOf = new Int32Array(graph.tasks.length);
    this.#before = new Uint8Array(graph.tasks.length);
    graph.tasks.forEach((t, i) => {
      let k = index.get(t.name);
      if (k === undefined) {
        index.set(t.name, (k = this.#names.length));
        this.#names.push(t.name);
      }
      this.#nameOf[i] = k;
      const h = t.hash();
      this.#before[i] = executedEarlier.has(h) ? 2 : stored.has(h) ? 1 : 0;
    });
  }

  /** The counts now. */
  read(table: StatusTable): PassTallies {
    const counts = new Int32Array(this.#names.length * FIELDS.length);
    const n = Math.min(table.tasks, this.#nameOf.length);
    for (let i = 0; i < n; i++) {
      const field = this.#field(i, table.get(i));
      if (field === undefined) continue;
      const base = this.#nameOf[i]! * FIELDS.length;
      counts[base + F.total]!++;
      counts[base + field]!++;
    }
    const byName = this.#names.map((name, k) => tallyOf(name, counts.subarray(k * FIELDS.length, (k + 1) * FIELDS.length)));
    return { total: sumTallies('', byName), byName };
  }

  /** Which count task i in `state` adds to; undefined: not part of this run (--target). */
  #field(i: number, state: TaskState): number | undefined {
    const before = this.#before[i]!;
    switch (state) {
      case TaskState.Excluded:
        return undefined;
      case TaskState.Loaded:
        return before === 2 ? F.executed : before === 1 ? F.stored : F.byOthers;
      case TaskState.Executed:
        return F.executed;
      case TaskState.Waiting:
        // Before the scheduler's first look every task is Waiting: stored ones are shown as such.
        return before === 2 ? F.executed : before === 1 ? F.stored : F.waiting;
      case TaskState.Ready:
        return F.ready;
      case TaskState.Running:
        return F.running;
      case TaskState.LockedElsewhere:
        return F.elsewhere;
      case TaskState.Failed:
        return F.failed;
      default:
        return undefined;
    }
  }
}

function tallyOf(name: string, c: Int32Array): NameTally {
  return {
    name,
    total: c[F.total]!,
    stored: c[F.stored]!,
    executed: c[F.executed]!,
    byOthers: c[F.byOthers]!,
    running: c[F.running]!,
    elsewhere: c[F.elsewhere]!,
    ready: c[F.ready]!,
    waiting: c[F.waiting]!,
    failed: c[F.failed]!,
  };
}

/** The sum of several tallies, under `name`. */
export function sumTallies(name: string, tallies: readonly NameTally[]): NameTally {
  const c = new Int32Array(FIELDS.length);
  for (const t of tallies) FIELDS.forEach((f, i) => (c[i]! += t[f]));
  return tallyOf(name, c);
}
