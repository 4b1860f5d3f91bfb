/**
 * What `jug webstatus` sends to the page (JSON, one document per change over Server-Sent Events,
 * and at /api/status). Shared by the server (src/web/) and the page (src/web/page/): types only.
 */

/** One task name's row of the status table. */
export interface NameRow {
  readonly name: string;
  /** Counts in the order of {@link WebSnapshot.columns}. */
  readonly counts: readonly number[];
}

/** A task some process holds the lock of (running now). */
export interface RunningTask {
  readonly name: string;
  readonly hash: string;
  /** Arguments in one line (truncated). */
  readonly args: string;
  readonly host?: string;
  readonly pid?: number;
  readonly thread?: number;
  /**
   * Since when it runs (epoch ms): from its process's running note when the store has one, else
   * when this server first saw the lock ({@link sinceSeen} true).
   */
  readonly since: number;
  readonly sinceSeen: boolean;
}

/** A failed task (a failure mark and its record). */
export interface FailedTask {
  readonly name: string;
  readonly hash: string;
  readonly args?: string;
  readonly host?: string;
  readonly pid?: number;
  readonly thread?: number;
  /** ISO 8601 time of the failure. */
  readonly time?: string;
  readonly error?: { readonly name: string; readonly message: string; readonly stack: string };
}

/** A task run that ended (from run records). */
export interface RunBar {
  /** Index into {@link Timeline.lanes}. */
  readonly lane: number;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly failed: boolean;
}

/** Task runs per host, process and thread (Dask's task stream). */
export interface Timeline {
  /** Lane labels, e.g. `node01 pid 123 thread 2`. */
  readonly lanes: readonly string[];
  readonly bars: readonly RunBar[];
}

/** A recently finished task. */
export interface Completion {
  readonly name: string;
  readonly hash: string;
  readonly args?: string;
  readonly host: string;
  readonly pid: number;
  readonly thread?: number;
  readonly end: number;
  readonly ms: number;
  readonly failed: boolean;
}

/** Durations of one task name's finished runs. */
export interface NameDurations {
  readonly name: string;
  readonly count: number;
  readonly medianMs: number;
  readonly maxMs: number;
}

/** Everything the page shows. */
export interface WebSnapshot {
  readonly v: 1;
  /** When it was taken (epoch ms, the server's clock). */
  readonly at: number;
  readonly jugfile: string;
  readonly jugdir: string;
  /** Column titles of the status table (`jug status`'s, Stale included). */
  readonly columns: readonly string[];
  readonly names: readonly NameRow[];
  readonly totals: readonly number[];
  /** The note `jug status` prints when the jugfile stops at a barrier. */
  readonly barrier?: string;
  /** Why the jugfile or the store could not be read now (the last good state is shown). */
  readonly problem?: string;
  /** Whether the store keeps run records (rate, timeline, durations and completions need them). */
  readonly records: boolean;
  /** Tasks finished per second over the last minute (run records), when known. */
  readonly rate?: number;
  /** Seconds until every known task is finished at that rate, when known. */
  readonly etaSeconds?: number;
  readonly running: readonly RunningTask[];
  readonly failures: readonly FailedTask[];
  readonly recent: readonly Completion[];
  readonly timeline: Timeline;
  readonly durations: readonly NameDurations[];
  /** Finished tasks over time, as seen by this server: [epoch ms, finished]. */
  readonly progress: readonly (readonly [number, number])[];
  /** Changes with the graph's picture: the page loads `/graph.svg?v=<graphVersion>`. */
  readonly graphVersion: string;
}
