/** Slurm, as `jug submit` drives it: sbatch to submit, squeue to watch, scancel to cancel. */
import { JugError } from '../../../errors.js';
import { runProgram } from './programs.js';
import type { QueueState, Scheduler } from './scheduler.js';
import { slurmScript } from './slurm-script.js';

export const slurm: Scheduler = {
  name: 'slurm',
  programs: ['sbatch', 'squeue'],
  install:
    "Slurm's client commands (on a cluster, run it on a login node or load the Slurm module; " +
    'Debian/Ubuntu: apt-get install slurm-client)',
  script: slurmScript,
  submit: sbatch,
  queue: squeue,
  watchCommands: (jobId) => ({ show: `squeue -j ${jobId}`, cancel: `scancel ${jobId}` }),
};

/** `sbatch --parsable <script>`: the job id (`id` or `id;cluster`); a refusal shows sbatch's message. */
async function sbatch(scriptPath: string, workdir: string): Promise<string> {
  const r = await runProgram('sbatch', ['--parsable', scriptPath], workdir);
  if (r.code !== 0) {
    throw new JugError(`sbatch refused the job (exit ${r.code ?? 'by a signal'}):\n${r.stderr.trim() || r.stdout.trim()}\n(the script is ${scriptPath})`);
  }
  const id = r.stdout.trim().split(/\s+/).pop()?.split(';')[0] ?? '';
  if (!/^\d+$/.test(id)) throw new JugError(`sbatch printed no job id: '${r.stdout.trim()}' (the script is ${scriptPath})`);
  return id;
}

/** The job's array tasks in the queue, one line each (`squeue -r`); none once it has ended. */
async function squeue(jobId: string): Promise<QueueState> {
  const r = await runProgram('squeue', ['--noheader', '--array', '--jobs', jobId, '--format', '%T']);
  // A job purged from the controller's memory (MinJobAge after its end) is an unknown id.
  if (r.code !== 0 && /invalid job id/i.test(r.stderr)) return { pending: 0, running: 0, other: 0 };
  if (r.code !== 0) throw new JugError(`squeue failed (exit ${r.code ?? 'by a signal'}): ${r.stderr.trim()}`);
  const states = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const pending = states.filter((s) => s === 'PENDING').length;
  const running = states.filter((s) => s === 'RUNNING').length;
  return { pending, running, other: states.length - pending - running };
}
