/**
 * Worker-thread side of `jug execute --threads N` (a Piscina worker module).
 *
 * At start-up it imports the bundled jugfile once (so its task functions are registered by name
 * and its graph is rebuilt, with the same hashes as in the parent), opens the same store, and
 * claims a slot in the shared status table. For each request it looks the task up by hash and
 * runs it through `executeTask`, the same code path as the serial runner: lock, re-check, run,
 * write the result, release. Results never cross the thread boundary; only the outcome does.
 */
// Piscina hands its `workerData` option to each Worker unchanged: reading it from node:worker_threads
// spares every thread loading Piscina's main-side modules.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { JugfileError } from './errors.js';
import { BarrierError } from './barrier.js';
import { clearHooksForReload } from './hooks.js';
import { decodeHashes } from './executors/stored-snapshot.js';
import { errorInfo, executeTask, type RunDefaults, type TaskOutcome } from './execute-task.js';
import { beginLoad, registry } from './registry.js';
import { StatusTable, TaskState } from './status-table.js';
import { openStore } from './store/open.js';
import { FileStore } from './store/file-store.js';
import type { Store } from './store/store.js';
import { jugdirChosen, setJugfileArgv } from './jugfile.js';
import { Task } from './task.js';
import { Mutex } from './mutex.js';
import { AdaptiveWindow } from './executors/window.js';
import { bundleUrl } from './executors/bundle-slot.js';
import { markBooted } from './executors/booted-threads.js';
import { gateSaysGo, loadTurn } from './executors/load-gate.js';
import { claimTask, stillUnclaimed } from './executors/claims.js';
import { attemptEnded, attemptStarted } from './executors/timeout-watch.js';
import type { AttemptFailedMessage, ThreadLoadedMessage, WorkerCall, WorkerData, WorkerRequest } from './worker-protocol.js';
import { trace, tracing } from './trace.js';
// The whole public API, loaded with this module (one set of chunks, before source maps are turned
// on below): the jugfile's `import ... from 'jug'` then finds it all loaded, and has no source
// maps of jug's own files to parse.
import './index.js';

trace('worker modules loaded');
const data = workerData as WorkerData;
/** The run's retries, back-off and time limit, for tasks without their own (one object for every task). */
const runDefaults: RunDefaults = { retries: data.retries, retryDelayMs: data.retryDelayMs, timeoutMs: data.timeoutMs };
process.setSourceMapsEnabled(true); // stack frames (task names) point at the original files
// Workers only prepare results (the main thread commits them: see executeTask's deferCommit), so
// their store needs no commit delay — and so starts no syncfs helper process.
const openHere = (jugdir: string): Store => openStore(jugdir, { fsync: data.fsync, leaseMs: data.leaseMs });
let store = openHere(data.jugdir);
const reg = registry();
reg.store = store;
reg.cliRunning = true;
reg.jugdirFixed = data.jugdirFixed;
let loadError: unknown;
let byHash = new Map<string, Task>();
let generation = 0;
/** Whether the current load used the parent's listing (rather than this worker's own). */
let parentListing = false;

/**
 * Imports the jugfile (a fresh module instance for each load) and indexes its tasks by hash.
 * `stored` is the parent's listing for that generation: barriers and CompoundTasks then decide as
 * in the parent, so the worker declares the same tasks. At start-up, before the parent has
 * listed, the worker loads against its own listing; a task it then does not know (another
 * process stored a compound result meanwhile) makes it load again with the parent's.
 */
async function load(gen: number, stored?: ReadonlySet<string>, followed = false): Promise<void> {
  loadError = undefined;
  beginLoad();
  clearHooksForReload();
  loads++;
  try {
    reg.store = store;
    reg.stored = stored ?? (await store.list());
    parentListing = stored !== undefined;
    const url = await bundleUrl(data.bundle);
    if (url === undefined) throw new Error('the jugfile could not be bundled (the error is reported by the main thread)');
    setJugfileArgv(data.jugfile, data.jugfileArgs);
    await import(loads === 1 ? url : `${url}?jug-load=${loads}`);
    if (tracing) trace('jugfile imported');
  } catch (e) {
    if (!(e instanceof BarrierError)) loadError = e;
  } finally {
    reg.stored = undefined;
  }
  // The jugfile chose its own jugdir with setJugdir(), as the parent saw: use that store (with
  // this thread's options), and load again against its listing if the parent's was not given.
  const choice = loadError === undefined && !followed ? jugdirChosen(store) : undefined;
  if (choice !== undefined) {
    if (typeof choice !== 'string' && !(choice instanceof FileStore)) {
      loadError = new JugfileError(
        `The jugfile selects the store ${choice.location} with setJugdir(store); worker threads (--threads) cannot share it. ` +
          'Give setJugdir() a jugdir path, or run without --threads.',
      );
    } else {
      store = openHere(typeof choice === 'string' ? choice : choice.location);
      await load(gen, stored, true);
      return;
    }
  }
  reg.store = store;
  const declared = reg.barrier === undefined ? reg.tasks : reg.tasks.slice(0, reg.barrier.tasksBefore);
  byHash = new Map();
  for (const t of declared) if (t instanceof Task && !byHash.has(t.hash())) byHash.set(t.hash(), t);
  generation = gen;
}

let loads = 0;
let started = false;
// process.exit() while this thread loads the jugfile ends it before it could run any task: tell
// the parent, which reports it.
process.on('exit', (code) => {
  if (started) return;
  const exits = new Int32Array(data.loadExits);
  Atomics.store(exits, 1, code);
  Atomics.add(exits, 0, 1);
});
// Booted (Piscina hands this thread requests from now on); the jugfile is loaded only once the
// main thread says threads are needed (load-gate.ts), before the first request that still wants
// running.
let firstLoad: Promise<void> | undefined;

/** Loads the jugfile the first time (once; every request waits for it). */
function loadOnce(): Promise<void> {
  firstLoad ??= load(0).then(() => {
    started = true;
    markBooted(data.booted, threadId);
    trace('jugfile loaded');
    // The pool may start its next wave of threads now (pool-size.ts).
    const loaded: ThreadLoadedMessage = { jugThreadLoaded: threadId };
    parentPort?.postMessage(loaded);
  });
  return firstLoad;
}
// Already told to load (a later thread, or a run without probes): load before saying ready, so
// that the pool hands this thread tasks it can start at once.
if (gateSaysGo(data.loadGate)) await loadOnce();
// Otherwise load as soon as told, request or not (no request may come before the verdict).
else void loadTurn(data.loadGate, () => firstLoad === undefined).then(async (go) => {
  if (go) await loadOnce();
});

/**
 * Waits until this thread may load the jugfile and loads it; false when `request` was withdrawn
 * meanwhile (the main thread runs it itself) or the run stops: it is answered `cancelled` then.
 */
async function loadedFor(request: WorkerRequest): Promise<boolean> {
  if (firstLoad === undefined) {
    const wanted = (): boolean =>
      Atomics.load(new Int32Array(request.stop), 0) === 0 && stillUnclaimed(request.claims, request.index, request.token);
    if (tracing) trace(`request ${request.index} waits for the load gate`);
    if (!(await loadTurn(data.loadGate, wanted))) return false;
  }
  await loadOnce();
  return true;
}
let reloading: Promise<void> | undefined;

/** Loads the jugfile again for `request`'s generation with the parent's listing (one load at a time). */
async function reload(request: WorkerRequest): Promise<void> {
  reloading ??= load(request.generation, decodeHashes(request.stored, request.storedCount)).finally(
    () => (reloading = undefined),
  );
  await reloading;
}
let slot: number | undefined;
const window = new AdaptiveWindow(1); // only commitEarly is used here: the parent sizes the window
// Task functions of this thread never overlap (see executeTask); when none is waiting, the
// results of the batch just run are committed together.
const mutex = new Mutex(() => store.flush());

export default async function run(call: WorkerCall): Promise<TaskOutcome | TaskOutcome[]> {
  // A batch runs as its requests would one by one: their sections take turns on the mutex.
  const answer = await ('batch' in call ? Promise.all(call.batch.map(runOne)) : runOne(call));
  await stdioTaken();
  return answer;
}

/**
 * Waits until the main thread has taken everything this thread wrote to stdout and stderr. A
 * worker's write travels as a message, and the next one waits in the thread until the main thread
 * acknowledges it: without this wait, the lines a task wrote last were lost when the pool was
 * destroyed right after its answer (the run's end). Costs nothing when nothing is waiting.
 */
function stdioTaken(): Promise<unknown> | undefined {
  const waits = [process.stdout, process.stderr]
    .filter((s) => s.writableLength > 0)
    .map((s) => new Promise<void>((resolve) => s.write('', () => resolve())));
  return waits.length === 0 ? undefined : Promise.all(waits);
}

async function runOne(request: WorkerRequest): Promise<TaskOutcome> {
  if (tracing) trace(`request ${request.index} copy ${request.copy}`);
  if (!(await loadedFor(request))) return { kind: 'cancelled' };
  while (request.generation > generation) await reload(request);
  if (!byHash.has(request.hash) && !parentListing && loadError === undefined) await reload(request);
  if (loadError !== undefined) {
    throw new JugfileError(`A worker thread could not load the jugfile: ${errorInfo(loadError).stack}`);
  }
  const table = new StatusTable(request.table, request.tasks, request.threads);
  slot ??= table.claimThreadSlot(threadId);
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
  const stop = new Int32Array(request.stop);
  const clock = request.attempt;
  // Its lock is asked for when its turn comes: a network store may take several at once. (A copy
  // of it in another thread that claims it first finds the lock this process's, and runs it.)
  if (request.lockHeld !== true) store.lockAhead?.(request.hash);
  const outcome = await executeTask(task, store, {
    keepFailed: data.keepFailed,
    deferCommit: true,
    debug: data.debug,
    defaults: runDefaults,
    firstAttempt: request.firstAttempt,
    lockHeld: request.lockHeld,
    // Stopping, or another thread took this task over (it was sent there too: claims.ts).
    cancelled: () => Atomics.load(stop, 0) !== 0 || !claimTask(request.claims, request.index, request.token, request.copy),
    stopping: () => Atomics.load(stop, 0) !== 0,
    onAttemptFailed: (failure) => {
      const message: AttemptFailedMessage = { jugAttemptFailed: { index: request.index, token: request.token, failure } };
      parentPort?.postMessage(message);
    },
    exclusive: (section) => mutex.run(section),
    onSectionStart: () => window.commitEarly && store.flush(),
    onRun: (attempt) => {
      if (clock !== undefined) attemptStarted(clock, attempt);
      if (tracing) trace(`run ${task.name}`);
      table.set(request.index, TaskState.Running);
      table.setThreadTask(mySlot, request.index, threadId);
    },
    onRunEnd: () => {
      if (clock !== undefined) attemptEnded(clock);
      if (tracing) trace('run end');
      table.setThreadTask(mySlot, -1);
    },
  });
  window.observe(outcome);
  // Where it ran, for `jug execute -v`.
  return outcome.kind === 'executed' || outcome.kind === 'failed' ? { ...outcome, thread: threadId } : outcome;
}
