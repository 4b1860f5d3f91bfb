/**
 * Worker-thread side of `jug execute --threads N` (a Piscina worker module).
 *
 * At start-up it imports the bundled jugfile once (so its task functions are registered by name
 * and its graph is rebuilt, with the same hashes as in the parent), opens the same store, and
 * claims a slot in the shared status table. For each request it looks the task up by hash and
 * runs it through `executeTask`, the same code path as the serial runner: lock, re-check, run,
 * write the result, release. Results never cross the thread boundary; only the outcome does.
 */
import { workerData } from 'piscina';
import { JugfileError } from './errors.js';
import { BarrierError } from './barrier.js';
import { RUNNER_COMMIT_DELAY_MS, errorInfo, executeTask, type TaskOutcome } from './execute-task.js';
import { beginLoad, registry } from './registry.js';
import { StatusTable, TaskState } from './status-table.js';
import { openStore } from './store/open.js';
import { Task } from './task.js';
import { Mutex } from './mutex.js';
import { AdaptiveWindow } from './executors/window.js';

/** What the parent passes to each worker at start-up. */
export interface WorkerData {
  /** file:// URL of the bundled jugfile. */
  readonly moduleUrl: string;
  /** The jugdir (store location) string. */
  readonly jugdir: string;
  readonly fsync: boolean;
  readonly keepFailed: boolean;
  /** Lease of other hosts' locks, ms (as the parent's store). */
  readonly leaseMs: number | undefined;
}

/** One request: run task `index` (identified by `hash`), with the shared status table. */
export interface WorkerRequest {
  readonly index: number;
  readonly hash: string;
  readonly table: SharedArrayBuffer;
  readonly tasks: number;
  readonly threads: number;
  /** Which load of the jugfile the task comes from: a worker behind it loads the jugfile again. */
  readonly generation: number;
}

const data = workerData as WorkerData;
process.setSourceMapsEnabled(true); // stack frames (task names) point at the original files
const store = openStore(data.jugdir, { fsync: data.fsync, commitDelayMs: RUNNER_COMMIT_DELAY_MS, leaseMs: data.leaseMs });
const reg = registry();
reg.store = store;
reg.cliRunning = true;
let loadError: unknown;
let byHash = new Map<string, Task>();
let generation = 0;

/**
 * Imports the jugfile (a fresh module instance for each generation) and indexes its tasks by
 * hash. A barrier stops the import as in the parent: this worker then knows the tasks before it,
 * and loads again when the parent sends tasks of the next generation. The store holds at least
 * what it held when the parent loaded, so the worker gets at least as far as the parent did.
 */
async function load(gen: number): Promise<void> {
  loadError = undefined;
  beginLoad();
  try {
    reg.stored = await store.list();
    await import(gen === 0 ? data.moduleUrl : `${data.moduleUrl}?jug-generation=${gen}`);
  } catch (e) {
    if (!(e instanceof BarrierError)) loadError = e;
  }
  const declared = reg.barrier === undefined ? reg.tasks : reg.tasks.slice(0, reg.barrier.tasksBefore);
  byHash = new Map();
  for (const t of declared) if (t instanceof Task && !byHash.has(t.hash())) byHash.set(t.hash(), t);
  generation = gen;
}

await load(0);
let reloading: Promise<void> | undefined;
let slot: number | undefined;
const window = new AdaptiveWindow(1); // only commitEarly is used here: the parent sizes the window
// Task functions of this thread never overlap (see executeTask); when none is waiting, the
// results of the batch just run are committed together.
const mutex = new Mutex(() => store.flush());

export default async function run(request: WorkerRequest): Promise<TaskOutcome> {
  while (request.generation > generation) {
    reloading ??= load(request.generation).finally(() => (reloading = undefined));
    await reloading;
  }
  if (loadError !== undefined) {
    throw new JugfileError(`A worker thread could not load the jugfile: ${errorInfo(loadError).stack}`);
  }
  const table = new StatusTable(request.table, request.tasks, request.threads);
  slot ??= table.claimThreadSlot();
  const task = byHash.get(request.hash);
  if (task === undefined) {
    return {
      kind: 'failed',
      keptFailed: false,
      error: errorInfo(
        new JugfileError(
          `Task ${request.hash} was not declared when the worker thread loaded the jugfile: the jugfile must ` +
            `declare the same tasks every time it is loaded (no randomness or time-dependent arguments).`,
        ),
        true,
      ),
    };
  }
  const mySlot = slot;
  const outcome = await executeTask(task, store, {
    keepFailed: data.keepFailed,
    exclusive: (section) => mutex.run(section),
    onSectionStart: () => window.commitEarly && store.flush(),
    onRun: () => {
      table.set(request.index, TaskState.Running);
      table.setThreadTask(mySlot, request.index);
    },
    onRunEnd: () => table.setThreadTask(mySlot, -1),
  });
  window.observe(outcome);
  return outcome;
}
