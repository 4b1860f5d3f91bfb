/**
 * The one loop behind every open page: about once a second it looks at the store (one listing of
 * locks, one of results: no per-task stat), builds the snapshot and hands it to every subscriber
 * when it changed. However many tabs are open, that is one look per interval; with none open it
 * does nothing. It follows the run: when the store passes the barrier the jugfile stopped at, or
 * the jugfile changes, it loads the jugfile again.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { barrierNote, loadProject, type CommonOptions, type Project } from '../cli/common.js';
import { FINISHED, classify, statusByName, statusTotals, type StatusColumn } from '../cli/status-counts.js';
import { nameGraph, toDot } from '../cli/commands/graph.js';
import { describeError } from '../errors.js';
import { renderSvg } from '../render-svg.js';
import type { RunRecord } from '../run-records-types.js';
import type { FailureRecord } from '../store/store.js';
import { buildSnapshot, type StoreLook } from './snapshot.js';
import type { WebSnapshot } from './snapshot-types.js';

/** Most progress samples kept (older ones thinned out). */
const PROGRESS_SAMPLES = 2_000;
/** With bvalue() barriers (which wait on some tasks only), reload at most this often while tasks finish. */
const PARTIAL_BARRIER_RELOAD_MS = 5_000;

/** A snapshot and its JSON text (sent as is to every page). */
export interface Published {
  readonly snapshot: WebSnapshot;
  readonly json: string;
}

export type Listener = (p: Published) => void;

export class Monitor {
  readonly intervalMs: number;
  /** Looks at the store taken so far (for tests: one per interval, whatever the number of pages). */
  looks = 0;
  #project: Project;
  readonly #options: CommonOptions;
  #jugfileMtime: number;
  #loadedAt = Date.now();
  #finishedAtLoad = 0;
  #problem: string | undefined;
  readonly #listeners = new Set<Listener>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<Published> | undefined;
  #latest: Published | undefined;
  #lastKey = '';
  readonly #firstSeen = new Map<string, number>();
  #progress: [number, number][] = [];
  #failedKey: string | undefined;
  #failures: ReadonlyMap<string, FailureRecord | undefined> = new Map();
  #recordsKey: string | undefined;
  #records: readonly RunRecord[] | undefined;
  #dot = '';
  #svg = '';
  #graphVersion = '';

  constructor(project: Project, options: CommonOptions, intervalMs = 1_000) {
    this.#project = project;
    this.#options = options;
    this.intervalMs = intervalMs;
    this.#jugfileMtime = mtimeOf(project.jugfile);
    this.#finishedAtLoad = finishedIn(project);
  }

  get store(): Project['store'] {
    return this.#project.store;
  }

  /** The graph of task names coloured by state, as SVG (drawn by the last look). */
  get svg(): string {
    return this.#svg;
  }

  /** The latest snapshot: the last look's if it is less than an interval old, else a new look. */
  async latest(): Promise<Published> {
    const last = this.#latest;
    if (last !== undefined && Date.now() - last.snapshot.at < this.intervalMs) return last;
    return this.look();
  }

  /** Calls `listener` with every changed snapshot (and the current one at once); returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    if (this.#latest !== undefined) listener(this.#latest);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.look().catch(() => {}), this.intervalMs);
      void this.look().catch(() => {});
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  /** Stops looking (subscribers stay until they unsubscribe). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look at the store (shared by callers that come while it runs); publishes it if it changed. */
  look(): Promise<Published> {
    this.#ticking ??= this.#look().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  /** A look; when the store cannot be read (a jugdir removed, a network store down), the last state with the reason. */
  async #look(): Promise<Published> {
    try {
      return await this.#lookAtStore();
    } catch (e) {
      const last = this.#latest;
      if (last === undefined) throw e;
      const snapshot = { ...last.snapshot, at: Date.now(), problem: `Could not read the store: ${describeError(e)}` };
      const published = { snapshot, json: JSON.stringify(snapshot) };
      this.#publish(published);
      return published;
    }
  }

  async #lookAtStore(): Promise<Published> {
    this.looks++;
    await this.#reloadIfJugfileChanged();
    let look = await this.#storeLook();
    if (await this.#reloadIfPastBarrier(look.classes)) look = await this.#storeLook();
    const now = Date.now();
    this.#track(look, now);
    await this.#drawGraph(look);
    const project = this.#project;
    const snapshot = buildSnapshot(look, {
      now,
      jugfile: project.jugfile,
      jugdir: project.store.location,
      ...(project.barrier === undefined ? {} : { barrier: barrierNote(project.barrier).replace(/^jug: /, '').trim() }),
      ...(this.#problem === undefined ? {} : { problem: this.#problem }),
      firstSeen: this.#firstSeen,
      progress: this.#progress,
      graphVersion: this.#graphVersion,
    });
    const published = { snapshot, json: JSON.stringify(snapshot) };
    this.#publish(published);
    return published;
  }

  /** Keeps `published` as the latest and hands it to the subscribers if it differs from the last (its time aside). */
  #publish(published: Published): void {
    this.#latest = published;
    const key = JSON.stringify({ ...published.snapshot, at: 0 });
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    for (const l of this.#listeners) l(published);
  }

  /** Locks, results, and (when they changed) failure records and run records. */
  async #storeLook(): Promise<StoreLook> {
    const { graph, store } = this.#project;
    const locks = await store.listLocks();
    const stored = await store.list();
    const classes = await classify(graph, store, stored, locks);
    const failedKey = [...locks].filter(([, l]) => l.failed).map(([h]) => h).sort().join();
    if (failedKey !== this.#failedKey) {
      this.#failures = await store.failures();
      this.#failedKey = failedKey;
    }
    if (store.runLog !== undefined) {
      const recordsKey = `${stored.size}/${failedKey}`;
      if (recordsKey !== this.#recordsKey) {
        this.#records = await store.runLog();
        this.#recordsKey = recordsKey;
      }
    }
    // Running notes only while some task runs (a read of each running process's note file).
    const live = [...locks.values()].some((l) => !l.failed && !l.stale);
    const notes = live ? ((await store.runningNotes?.()) ?? []) : [];
    return { graph, classes, stored, locks, failures: this.#failures, records: store.runLog === undefined ? undefined : this.#records, notes };
  }

  /** When each running task's lock was first seen; the finished count when it changed. */
  #track(look: StoreLook, now: number): void {
    for (const [h, l] of look.locks) if (!l.failed && !l.stale && !this.#firstSeen.has(h)) this.#firstSeen.set(h, now);
    for (const h of this.#firstSeen.keys()) if (!look.locks.has(h)) this.#firstSeen.delete(h);
    const finished = statusTotals(look.classes)[FINISHED]!;
    const last = this.#progress[this.#progress.length - 1];
    if (last === undefined || last[1] !== finished) this.#progress.push([now, finished]);
    // Thin out the older half when full, so that the whole run stays in view.
    if (this.#progress.length > PROGRESS_SAMPLES) {
      const half = this.#progress.length >> 1;
      this.#progress = [...this.#progress.slice(0, half).filter((_, i) => i % 2 === 0), ...this.#progress.slice(half)];
    }
  }

  async #drawGraph(look: StoreLook): Promise<void> {
    const dot = toDot(nameGraph(this.#project.graph, statusByName(this.#project.graph, look.classes)));
    if (dot === this.#dot) return;
    try {
      this.#svg = await renderSvg(dot);
    } catch (e) {
      this.#problem = `The graph could not be drawn: ${describeError(e)}`;
      return;
    }
    this.#dot = dot;
    this.#graphVersion = createHash('sha1').update(dot).digest('hex').slice(0, 12);
  }

  async #reloadIfJugfileChanged(): Promise<void> {
    const mtime = mtimeOf(this.#project.jugfile);
    if (mtime === this.#jugfileMtime) return;
    this.#jugfileMtime = mtime;
    await this.#reload();
  }

  /**
   * The jugfile stopped at a barrier: load it again once the tasks before it are all finished
   * (a `barrier()`), or every few seconds while tasks finish (a `bvalue()` waits on some only).
   */
  async #reloadIfPastBarrier(classes: readonly StatusColumn[]): Promise<boolean> {
    if (this.#project.barrier === undefined) return false;
    const finished = classes.filter((c) => c === FINISHED).length;
    const all = finished === classes.length;
    const some = finished > this.#finishedAtLoad && Date.now() - this.#loadedAt >= PARTIAL_BARRIER_RELOAD_MS;
    if (!all && !some) return false;
    return this.#reload();
  }

  async #reload(): Promise<boolean> {
    const { jugfile, store } = this.#project;
    try {
      this.#project = await loadProject(jugfile, this.#options, store);
      this.#problem = undefined;
    } catch (e) {
      // Keep showing the last graph (a jugfile being edited may not load for a moment).
      this.#problem = `Could not load the jugfile again: ${describeError(e)}`;
      return false;
    }
    this.#loadedAt = Date.now();
    this.#finishedAtLoad = finishedIn(this.#project);
    return true;
  }
}

/** How many of the project's tasks were stored when it was loaded. */
function finishedIn(project: Project): number {
  return project.graph.tasks.filter((t) => project.stored.has(t.hash())).length;
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

