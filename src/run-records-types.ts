/**
 * Run records: what each `jug execute` process did, task by task (issue 17 §1). The data shared
 * by `jug status --json` / `--timing`, `jug webstatus`, outdated results (code fingerprints) and
 * `jug why`. This file holds only the types; writing and reading them is `src/run-records.ts`,
 * storing them is each store's (`Store.recordRun()` / `Store.runLog()`).
 *
 * Plain JSON-safe data, one record per task a process executed (or failed), appended by that
 * process; any process on any host that sees the store reads them all.
 */

/** One task run by one process. */
export interface RunRecord {
  /** Record format version (1). Readers skip records of a version they do not know. */
  readonly v: 1;
  /** Task hash (40 hex). */
  readonly hash: string;
  /** Task name, e.g. `primes.is_prime`. */
  readonly task: string;
  /** The task's arguments in one line (describe() form, truncated). */
  readonly args?: string;
  /** 'done': the result was stored; 'failed': the task failed (after its retries). */
  readonly outcome: 'done' | 'failed';
  /** When the task function started, epoch ms. */
  readonly start: number;
  /** When it ended, epoch ms. */
  readonly end: number;
  /** Host name of the process. */
  readonly host: string;
  /** Process id. */
  readonly pid: number;
  /** Worker thread id (`--threads`); absent: the main thread. */
  readonly thread?: number;
  /** Encoded result size in bytes (outcome 'done', when known). */
  readonly bytes?: number;
  /** Attempts it took (retries); absent: 1. */
  readonly attempt?: number;
  /** jug's version. */
  readonly jug: string;
  /** For a failure: the error's first line. */
  readonly error?: string;
  /**
   * Code fingerprint of the task function at the time (issue 18; src/fingerprint/): 16 hex digits.
   * Absent in records written before fingerprints existed (their results count as "unknown").
   */
  readonly code?: string;
  /** The fingerprint's parts (name → 12 hex digits), to tell which function changed. */
  readonly parts?: Readonly<Record<string, string>>;
}

/**
 * The store side of run records (optional on `Store`: a store without them has no timing,
 * no outdated detection and shows nothing in the timeline).
 */
export interface RunRecordStore {
  /**
   * Appends one record of this process. Cheap: stores may buffer and write in groups;
   * `urgent` asks to write it (and what is buffered) now. A crash may lose only the records of
   * the tasks running or buffered at that moment; a partial record is skipped by readers.
   */
  recordRun(entry: RunRecord, urgent?: boolean): Promise<void>;
  /** Every readable record of every process, oldest first per process. */
  runLog(): Promise<RunRecord[]>;
}

/**
 * A task running now in one process, as that process last said (`Store.noteRunning()`): what
 * `jug status --json` and `jug webstatus` show as the running task's start and thread. Not a
 * record of history: each process replaces its notes as tasks start and end (about twice a
 * second at most), and removes them when it closes the store.
 */
export interface RunningNote {
  /** Task hash (40 hex). */
  readonly hash: string;
  /** When its function started, epoch ms. */
  readonly start: number;
  readonly host: string;
  readonly pid: number;
  /** Worker thread id (`--threads`); absent: the main thread. */
  readonly thread?: number;
}
