/**
 * Running notes (RunningNote, src/run-records-types.ts): which tasks this process runs now, since
 * when and in which thread, told to the store so that `jug status --json` and `jug webstatus`
 * in any process can show them. Cheap: the notes are written at most every NOTE_INTERVAL_MS and
 * only when they changed (a run of short tasks costs ~2 small writes a second), except that a
 * task expected to run long (`urgent`) is noted at once, before the serial runner blocks in it.
 *
 * Serial runs say when each task starts and ends ({@link RunningTracker.started} / ended); with
 * --threads, the tracker reads the status table's thread slots (each worker writes its slot).
 */
import { hostname } from 'node:os';
import type { TaskGraph } from './graph.js';
import type { RunningNote } from './run-records-types.js';
import type { StatusTable } from './status-table.js';
import type { Store } from './store/store.js';
import type { Task } from './task.js';

/** Longest delay before a change of the running tasks is written. */
export const NOTE_INTERVAL_MS = 500;

const HOST = hostname();

export class RunningTracker {
  readonly #store: Store;
  /** Tasks started in this thread (serial runs), by hash. */
  readonly #serial = new Map<string, number>();
  /** The pass's table and graph (threaded runs: read from the thread slots). */
  #table: StatusTable | undefined;
  #graph: TaskGraph | undefined;
  #dirty = false;
  #last = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Whether the store keeps running notes. */
  get active(): boolean {
    return this.#store.noteRunning !== undefined;
  }

  /** Starts the periodic writer (unref'd: it never keeps the process alive). */
  start(): void {
    if (!this.active || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.write(), NOTE_INTERVAL_MS).unref();
  }

  /** A threaded pass: its running tasks are read from `table`'s thread slots. */
  watch(table: StatusTable, graph: TaskGraph): void {
    this.#table = table;
    this.#graph = graph;
    this.#dirty = true;
  }

  /** A task starts in this thread; `urgent`: write the notes now (a task expected to run long). */
  started(task: Task, urgent: boolean): void {
    if (!this.active) return;
    this.#serial.set(task.hash(), Date.now());
    this.#dirty = true;
    if (urgent) this.write();
  }

  /** A task started by {@link started} ended. */
  ended(task: Task): void {
    if (this.#serial.delete(task.hash())) this.#dirty = true;
  }

  /** The notes now. */
  notes(): RunningNote[] {
    const out: RunningNote[] = [];
    for (const [hash, start] of this.#serial) out.push({ hash, start, host: HOST, pid: process.pid });
    const table = this.#table;
    const tasks = this.#graph?.tasks;
    if (table !== undefined && tasks !== undefined) {
      for (const slot of table.threadSlots()) {
        const task = slot.task >= 0 ? tasks[slot.task] : undefined;
        if (task === undefined) continue;
        out.push({ hash: task.hash(), start: Math.round(slot.since), host: HOST, pid: process.pid, ...(slot.thread > 0 ? { thread: slot.thread } : {}) });
      }
    }
    return out;
  }

  /** Writes the notes if they changed. */
  write(): void {
    if (!this.active) return;
    if (!this.#dirty && this.#table === undefined) return;
    this.#dirty = false;
    const notes = this.notes();
    const text = JSON.stringify(notes);
    if (text === this.#last) return;
    this.#last = text;
    void this.#store.noteRunning!(notes).catch(() => {});
  }

  /** Stops the writer and removes the notes. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#serial.clear();
    this.#table = undefined;
    if (this.active && this.#last !== '' && this.#last !== '[]') await this.#store.noteRunning!([]).catch(() => {});
    this.#last = '';
  }
}
