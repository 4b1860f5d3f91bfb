/**
 * `jug submit --wait`: look at the queue and at the store every --poll seconds until the job's
 * array tasks have all left the queue, printing a line whenever the picture changes.
 *
 * Why poll squeue rather than `sbatch --wait`: the job id and the commands to watch it are printed
 * before waiting; the progress comes from the store meanwhile, which needs a loop of our own
 * anyway; and whether the work is done is for the store to say (`jug status`), not the workers'
 * exit codes (a drained worker exits 0 with work left). sacct is not used: it needs Slurm's
 * accounting database, which not every cluster (nor the test cluster) runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { JugError } from '../../../errors.js';
import { loadProject, type CommonOptions, type Project } from '../../common.js';
import { classify, statusTotals, FAILED, FINISHED, RUNNING } from '../../status-counts.js';
import type { QueueState, Scheduler } from './scheduler.js';

/** squeue failures in a row (the controller busy, restarting) before giving up. */
const QUEUE_TRIES = 5;

/** Waits until the job has left the queue; resolves with the project as last loaded. */
export async function waitForJob(
  scheduler: Scheduler,
  jobId: string,
  first: Project,
  options: CommonOptions & { readonly pollS: number; readonly quiet?: boolean },
): Promise<Project> {
  let project = first;
  let last = '';
  let failures = 0;
  for (;;) {
    const queue = await queueOrUndefined(scheduler, jobId, failures + 1);
    failures = queue === undefined ? failures + 1 : 0;
    project = await loadProject(project.jugfile, options, project.store);
    const line = `jug: job ${jobId}: ${queueText(queue)} · ${await storeText(project)}`;
    if (!options.quiet && line !== last) process.stderr.write(line + '\n');
    last = line;
    if (queue !== undefined && queue.pending + queue.running + queue.other === 0) return project;
    await sleep(options.pollS * 1000);
  }
}

/** The queue, or undefined after a failure of the scheduler's command (thrown after QUEUE_TRIES in a row). */
async function queueOrUndefined(scheduler: Scheduler, jobId: string, attempt: number): Promise<QueueState | undefined> {
  try {
    return await scheduler.queue(jobId);
  } catch (e) {
    if (attempt >= QUEUE_TRIES || !(e instanceof JugError)) throw e;
    process.stderr.write(`jug: warning: ${e.message} (trying again)\n`);
    return undefined;
  }
}

function queueText(queue: QueueState | undefined): string {
  if (queue === undefined) return 'queue unknown';
  const { pending, running, other } = queue;
  if (pending + running + other === 0) return 'ended';
  const parts = [`${running} worker(s) running`, `${pending} pending`];
  if (other > 0) parts.push(`${other} ending`);
  return parts.join(', ');
}

/** `tasks: 120 of 300 finished, 4 running, 1 failed` (and the barrier, when the load stopped at one). */
async function storeText(project: Project): Promise<string> {
  const totals = statusTotals(await classify(project.graph, project.store, project.stored));
  const parts = [`tasks: ${totals[FINISHED]} of ${project.graph.tasks.length} finished`, `${totals[RUNNING]} running`];
  if (totals[FAILED]! > 0) parts.push(`${totals[FAILED]} failed`);
  const more = project.barrier === undefined ? '' : ` (more after the barrier at ${project.barrier.where})`;
  return parts.join(', ') + more;
}

/** Every task finished, past every barrier. */
export function allFinished(project: Project): boolean {
  return project.barrier === undefined && project.graph.tasks.every((t) => project.stored.has(t.hash()));
}
