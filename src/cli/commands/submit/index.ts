/**
 * `jug submit`: run the jugfile on a batch scheduler as a job array of `jug execute` workers.
 *
 * The steps, each in its own module of this folder: the options (options.ts); the scheduler
 * interface (scheduler.ts) and Slurm's implementation (slurm.ts: sbatch, squeue; slurm-script.ts:
 * the script); finding and running those programs (programs.ts); --wait (wait.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { UsageError } from '../../../errors.js';
import { PACKAGE_ROOT } from '../../../package-root.js';
import { registry } from '../../../registry.js';
import { openProject, type Project } from '../../common.js';
import { status } from '../status/index.js';
import { checkSubmitOptions, type SubmitCliOptions, type SubmitOptions } from './options.js';
import { requirePrograms } from './programs.js';
import { shellQuote } from './quote.js';
import type { JobSpec, Scheduler } from './scheduler.js';
import { slurm } from './slurm.js';
import { allFinished, waitForJob } from './wait.js';

export type { SubmitCliOptions } from './options.js';

/** The schedulers `--scheduler` names. */
const SCHEDULERS: ReadonlyMap<string, Scheduler> = new Map([[slurm.name, slurm]]);

/** The default of --lock-lease (seconds): passed on to the workers only when another is given. */
const DEFAULT_LEASE_S = 300;

/** Runs `jug submit`; returns the exit code (throws JugError / UsageError for the CLI to map). */
export async function submit(jugfile: string | undefined, cli: SubmitCliOptions): Promise<number> {
  const options = checkSubmitOptions(cli, [...SCHEDULERS.keys()]);
  const scheduler = SCHEDULERS.get(options.scheduler)!;
  // Before anything is loaded or written: a missing sbatch is said at once.
  if (!options.dryRun) requirePrograms(scheduler.programs, scheduler.install);
  const project = await openProject(jugfile, options);
  try {
    return await submitProject(project, scheduler, options);
  } finally {
    await project.store.close();
  }
}

async function submitProject(project: Project, scheduler: Scheduler, options: SubmitOptions): Promise<number> {
  const spec = jobSpec(project, options);
  const script = scheduler.script(spec);
  if (options.dryRun) {
    process.stdout.write(script);
    process.stderr.write(`jug: --dry-run: nothing written or submitted (the script would be in ${spec.jobsDir}).\n`);
    return 0;
  }
  if (allFinished(project)) {
    process.stderr.write(`jug: all ${project.graph.tasks.length} task(s) are finished: nothing to submit.\n`);
    return 0;
  }
  const path = writeScript(spec.jobsDir, script);
  const jobId = await scheduler.submit(path, spec.workdir);
  printSubmitted(scheduler, jobId, path, project, options);
  if (!options.wait) return 0;
  return finishWait(await waitForJob(scheduler, jobId, project, options), options);
}

/** The job: the workers' command with absolute paths, and what each may use. */
function jobSpec(project: Project, options: SubmitOptions): JobSpec {
  const { location } = project.store;
  if (location === ':memory:') throw new UsageError('jug submit needs a jugdir on disk that the workers share; :memory: lives in one process.');
  const jugdir = resolve(location);
  const jugfile = resolve(project.jugfile);
  const { workers, threads, timeLimitS, drainMarginS, mem, partition, account, schedulerArgs } = options;
  return {
    name: `jug-${basename(jugfile, extname(jugfile))}`,
    ...{ workers, threads, timeLimitS, drainMarginS, mem, partition, account, schedulerArgs },
    jobsDir: join(jugdir, 'jobs'),
    workdir: process.cwd(),
    command: {
      node: process.execPath,
      jug: join(PACKAGE_ROOT, 'bin', 'jug.js'),
      jugfile,
      jugdir,
      options: options.lockLease === undefined || options.lockLease === DEFAULT_LEASE_S ? [] : ['--lock-lease', String(options.lockLease)],
      jugfileArgs: registry().jugfileArgs ?? [],
    },
  };
}

/** Writes the script as `<jobs>/submit-<time>.sh`; returns its path. */
function writeScript(jobsDir: string, script: string): string {
  mkdirSync(jobsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const path = join(jobsDir, `submit-${stamp}-${process.pid}.sh`);
  writeFileSync(path, script, { mode: 0o755 });
  return path;
}

function printSubmitted(scheduler: Scheduler, jobId: string, path: string, project: Project, options: SubmitOptions): void {
  const { show, cancel } = scheduler.watchCommands(jobId);
  const jugdir = resolve(project.store.location);
  const statusCommand = `jug status ${shellQuote(project.jugfile)} --jugdir ${shellQuote(jugdir)}`;
  process.stdout.write(
    `Submitted job ${jobId}: ${options.workers} worker(s) running jug execute on ${project.jugfile}\n` +
      `  script: ${path}\n  logs:   ${join(jugdir, 'jobs', `${jobId}_<worker>.out`)}\n` +
      `Watch it:   ${show}\n            ${statusCommand}\nCancel it:  ${cancel}   (then submit again to resume: nothing needs cleaning up)\n`,
  );
  if (options.wait) process.stderr.write(`jug: waiting for job ${jobId} to end (Ctrl-C stops waiting, not the job).\n`);
}

/** After --wait: `jug status`, then exit 0 if every task is finished, 1 otherwise (saying why). */
async function finishWait(project: Project, options: SubmitOptions): Promise<number> {
  await status(project.jugfile, { jugdir: resolve(project.store.location), lockLease: options.lockLease });
  if (allFinished(project)) return 0;
  process.stderr.write(
    'jug: the job ended with tasks not finished (failed ones: `jug status --failed`); `jug submit` again runs what is left.\n',
  );
  return 1;
}
