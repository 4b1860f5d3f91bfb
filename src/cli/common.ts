/** What every subcommand needs: locate the jugfile, open its store, load its graph. */
import { resolve } from 'node:path';
import type { JugfileBundle } from '../bundle.js';
import type { BarrierStop } from '../barrier.js';
import { buildGraph, type TaskGraph } from '../graph.js';
import { findDefaultJugfile, jugdirFor, loadAgainst } from '../jugfile.js';
import { registry } from '../registry.js';
import { openStore } from '../store/open.js';
import type { FileStoreOptions } from '../store/file-store.js';
import type { Store } from '../store/store.js';
import { UsageError } from '../errors.js';
import type { Task } from '../task.js';

/** Options every subcommand accepts. */
export interface CommonOptions {
  /** Store location. @default `<jugfile without extension>.jugdata` */
  jugdir?: string;
  /** Log every task as it starts and ends. @default false */
  verbose?: boolean;
  /**
   * Seconds after which a lock held on another host whose heartbeat stopped counts as stale.
   * 0: never. @default 300
   */
  lockLease?: number;
}

/** A loaded jugfile with its store and graph. */
export interface Project {
  readonly jugfile: string;
  readonly store: Store;
  /**
   * The tasks declared (before the barrier, if the load stopped at one) as a graph: built on first
   * use (50,000 tasks: ~0.1 s), so that a command needing only {@link declared} never builds it.
   */
  readonly graph: TaskGraph;
  /**
   * Every Task the jugfile declared, in declaration order (duplicates included): the graph's
   * tasks are these, de-duplicated by hash, with their dependencies (all declared too). Absent
   * in projects made by hand (tests): use the graph's tasks then.
   */
  readonly declared?: readonly Task[];
  /** The jugfile module's exports (for `jug shell`). */
  readonly exports: Record<string, unknown>;
  /**
   * Set when the jugfile stopped loading at a `barrier()` / `bvalue()` because tasks before it
   * are not computed: tasks after it are unknown until they are.
   */
  readonly barrier: BarrierStop | undefined;
  /** The listing of stored results taken just before the load. */
  readonly stored: ReadonlySet<string>;
}

/** Loads the jugfile named (or the default one) with the store from `--jugdir` or the default. */
export async function openProject(
  jugfileArg: string | undefined,
  options: CommonOptions,
  bundle?: Promise<JugfileBundle>,
  storeOptions: FileStoreOptions = {},
): Promise<Project> {
  const jugfile = jugfileArg ?? findDefaultJugfile();
  const store = openStore(jugdirFor(options.jugdir, jugfile), cliStoreOptions(options, storeOptions));
  registry().cliRunning = true;
  return loadProject(jugfile, options, store, bundle, storeOptions);
}

function cliStoreOptions(options: CommonOptions, storeOptions: FileStoreOptions): FileStoreOptions {
  const leaseMs = options.lockLease === undefined ? undefined : options.lockLease * 1000;
  return { leaseMs, ...storeOptions };
}

/**
 * Loads (or loads again, e.g. past a barrier) the jugfile against an open store: one listing of
 * the store first, which the jugfile's barriers consult and the caller may reuse.
 */
export async function loadProject(
  jugfile: string,
  options: CommonOptions,
  store: Store,
  bundle?: Promise<JugfileBundle>,
  storeOptions: FileStoreOptions = {},
): Promise<Project> {
  // A jugfile may select its own store with setJugdir(); --jugdir still wins when given.
  registry().jugdirFixed = options.jugdir !== undefined;
  const loaded = await loadAgainst(jugfile, store, (dir) => openStore(dir, cliStoreOptions(options, storeOptions)), bundle);
  let graph: TaskGraph | undefined;
  return {
    jugfile,
    store: loaded.store,
    get graph(): TaskGraph {
      return (graph ??= buildGraph(loaded.tasks));
    },
    declared: loaded.tasks,
    exports: loaded.exports,
    barrier: loaded.barrier,
    stored: loaded.stored,
  };
}

/** The note commands print when the jugfile stopped at a barrier. */
export function barrierNote(barrier: BarrierStop, missing = barrier.missing): string {
  return (
    `jug: the jugfile stops at a barrier (${barrier.where}): ${missing} task(s) before it are not computed yet, ` +
    'so tasks declared after it are not known (and not counted) until `jug execute` has run those.\n'
  );
}

/** The jugfile named on the command line, or the default one, as an absolute path. */
export function resolveJugfile(jugfileArg: string | undefined): string {
  return resolve(jugfileArg ?? findDefaultJugfile());
}

/**
 * `--target PATTERN`: `/regex/` is a regular expression; otherwise `*` is a wildcard, dots are
 * literal, and the pattern may match any part of the name (`primes.is` matches `primes.isPrime`);
 * a pattern without a dot matches from the function part (`isPrime` matches `primes.isPrime`).
 */
export function taskMatcher(pattern: string): (name: string) => boolean {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    let re: RegExp;
    try {
      re = new RegExp(pattern.slice(1, -1));
    } catch (e) {
      throw new UsageError(`--target ${pattern}: invalid regular expression (${(e as Error).message}).`);
    }
    return (name) => re.test(name);
  }
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(pattern.includes('.') ? body : `\\.${body}`);
  return (name) => re.test(name);
}

/** Which tasks `--target` selects. */
export type TaskSelector = (task: Task) => boolean;

/** Fewest hex characters `--target` takes as a hash prefix (shorter ones are name patterns). */
export const MIN_HASH_PREFIX = 6;

/** Said when `--target` matches nothing. */
export const TARGET_HASH_NOTE = `--target also takes a task hash, or a unique prefix of one (at least ${MIN_HASH_PREFIX} hex characters).`;

/**
 * `--target PATTERN` over `tasks`: a task hash, or a prefix of one of at least MIN_HASH_PREFIX
 * lowercase hex characters, selects that task; anything else is a name pattern ({@link taskMatcher}).
 * A hex string that is no task's hash prefix is a name pattern too. Throws a UsageError (listing
 * the candidates) for a prefix of several tasks' hashes, and for one that also matches task names.
 */
export function taskTarget(pattern: string, tasks: readonly Task[]): TaskSelector {
  const byName = taskMatcher(pattern);
  const named: TaskSelector = (t) => byName(t.name);
  if (!new RegExp(`^[0-9a-f]{${MIN_HASH_PREFIX},40}$`).test(pattern)) return named;
  const hashes = new Map<string, string>();
  for (const t of tasks) if (t.hash().startsWith(pattern)) hashes.set(t.hash(), t.name);
  if (hashes.size === 0) return named;
  const list = (entries: Iterable<[string, string]>): string =>
    [...entries]
      .slice(0, 10)
      .map(([h, n]) => `${h.slice(0, 12)} (${n})`)
      .join(', ');
  if (hashes.size > 1) {
    throw new UsageError(
      `--target '${pattern}' is the start of ${hashes.size} task hashes: ${list(hashes)}${hashes.size > 10 ? ', …' : ''}. ` +
        'Give more of the hash to choose one.',
    );
  }
  const [hash, name] = [...hashes][0]!;
  const alsoNamed = [...new Set(tasks.filter((t) => t.hash() !== hash && byName(t.name)).map((t) => t.name))];
  if (alsoNamed.length > 0) {
    throw new UsageError(
      `--target '${pattern}' is both the start of the hash of ${name} (${hash.slice(0, 12)}) and a pattern matching ` +
        `task names (${alsoNamed.slice(0, 5).join(', ')}). Give the whole hash (${hash}) for the one task, or /${pattern}/ for the names.`,
    );
  }
  return (t) => t.hash() === hash;
}

/** Task counts per name, one column per state index given. */
export function countByName<K extends number>(
  graph: TaskGraph,
  stateOf: (i: number) => K | undefined,
  columns: number,
): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  graph.tasks.forEach((t, i) => {
    let row = rows.get(t.name);
    if (row === undefined) {
      row = new Array<number>(columns).fill(0);
      rows.set(t.name, row);
    }
    const k = stateOf(i);
    if (k !== undefined) row[k]!++;
  });
  return rows;
}
