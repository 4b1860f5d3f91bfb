/** What every subcommand needs: locate the jugfile, open its store, load its graph. */
import { resolve } from 'node:path';
import type { JugfileBundle } from '../bundle.js';
import { buildGraph, type TaskGraph } from '../graph.js';
import { defaultJugdir, findDefaultJugfile, loadJugfile } from '../jugfile.js';
import { registry } from '../registry.js';
import { openStore } from '../store/open.js';
import type { FileStoreOptions } from '../store/file-store.js';
import type { Store } from '../store/store.js';
import { UsageError } from '../errors.js';

/** Options every subcommand accepts. */
export interface CommonOptions {
  /** Store location. @default `<jugfile without extension>.jugdata` */
  jugdir?: string;
  /** Log every task as it starts and ends. @default false */
  verbose?: boolean;
}

/** A loaded jugfile with its store and graph. */
export interface Project {
  readonly jugfile: string;
  readonly store: Store;
  readonly graph: TaskGraph;
}

/** Loads the jugfile named (or the default one) with the store from `--jugdir` or the default. */
export async function openProject(
  jugfileArg: string | undefined,
  options: CommonOptions,
  bundle?: Promise<JugfileBundle>,
  storeOptions: FileStoreOptions = {},
): Promise<Project> {
  const jugfile = jugfileArg ?? findDefaultJugfile();
  const store = openStore(options.jugdir ?? defaultJugdir(jugfile), storeOptions);
  const reg = registry();
  reg.store = store;
  reg.cliRunning = true;
  // One listing before the load: CompoundTask (and barrier) check synchronously what is stored.
  reg.stored = await store.list();
  const loaded = await loadJugfile(jugfile, { bundle });
  // A jugfile may select its own store with setJugdir(); --jugdir still wins when given.
  const active = options.jugdir === undefined ? (reg.store ?? store) : store;
  reg.store = active;
  return { jugfile, store: active, graph: buildGraph(loaded.tasks) };
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
