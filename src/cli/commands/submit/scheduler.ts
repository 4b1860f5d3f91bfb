/**
 * What `jug submit` needs from a batch scheduler: write a job-array script, submit it, look at
 * the queue, and say how to watch and cancel the job. Slurm is the one implementation
 * (slurm.ts); PBS or LSF would be another object with the same shape.
 */

/** What every worker (array task) runs: `jug execute` on the jugfile, with absolute paths. */
export interface WorkerCommand {
  /** The Node executable. */
  readonly node: string;
  /** jug's bin/jug.js. */
  readonly jug: string;
  readonly jugfile: string;
  readonly jugdir: string;
  /** More options of `jug execute` (before --threads), e.g. `--lock-lease 600`. */
  readonly options: readonly string[];
  /** Arguments for the jugfile (after `--`). */
  readonly jugfileArgs: readonly string[];
}

/** How many workers, and what each may use (the checked options of `jug submit` carry them too). */
export interface JobResources {
  readonly workers: number;
  /** Threads of each worker; `auto`: the CPUs the scheduler gives it. */
  readonly threads: number | 'auto';
  /** Time limit of each worker, seconds. */
  readonly timeLimitS: number | undefined;
  /** Seconds before the time limit when the scheduler sends SIGUSR1 (jug's drain). */
  readonly drainMarginS: number;
  /** Memory of each worker (`4G`). */
  readonly mem: string | undefined;
  readonly partition: string | undefined;
  readonly account: string | undefined;
  /** More options for the scheduler, written into the script as given. */
  readonly schedulerArgs: readonly string[];
}

/** The job to submit: `workers` copies of the worker command, and what each may use. */
export interface JobSpec extends JobResources {
  /** The job's name in the queue. */
  readonly name: string;
  /** Directory of the script and of the workers' logs (`<jugdir>/jobs`). */
  readonly jobsDir: string;
  /** The workers' working directory (where `jug submit` ran). */
  readonly workdir: string;
  readonly command: WorkerCommand;
}

/** The job's array tasks still in the queue (none once the job has ended). */
export interface QueueState {
  readonly pending: number;
  readonly running: number;
  /** Other states (completing, suspended, …). */
  readonly other: number;
}

/** A batch scheduler as `jug submit` drives it. */
export interface Scheduler {
  /** `--scheduler` value. */
  readonly name: string;
  /** The programs it needs on PATH, and what to install when one is missing. */
  readonly programs: readonly string[];
  readonly install: string;
  /** The job-array script. */
  script(spec: JobSpec): string;
  /** Submits the script; resolves with the job id (throws a JugError if the scheduler refuses). */
  submit(scriptPath: string, workdir: string): Promise<string>;
  /** The job's tasks in the queue now (all zero once it ended). */
  queue(jobId: string): Promise<QueueState>;
  /** Commands that show the job, and the one that cancels it. */
  watchCommands(jobId: string): { readonly show: string; readonly cancel: string };
}
