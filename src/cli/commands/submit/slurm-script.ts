/** The job-array script `jug submit` gives Slurm's sbatch. */
import { join } from 'node:path';
import type { JobSpec, WorkerCommand } from './scheduler.js';
import { formatTimeLimit } from './options.js';
import { shellQuote } from './quote.js';

/** The script: `#SBATCH` options, then `exec jug execute …` (exec, so Slurm's signals reach jug). */
export function slurmScript(spec: JobSpec): string {
  return [...header(spec), ...directives(spec).map((d) => `#SBATCH ${d}`), ...body(spec)].join('\n') + '\n';
}

function header(spec: JobSpec): string[] {
  const { command } = spec;
  return [
    '#!/bin/bash',
    `# Written by \`jug submit\`: a job array of ${spec.workers} worker(s), each running \`jug execute\` on`,
    `#   ${command.jugfile}`,
    `# sharing the work through the jugdir ${command.jugdir}.`,
    '# Nothing needs cleaning up after a cancelled, failed or timed-out job: submit it again',
    '# (`jug submit`, or `sbatch` on this file) and the workers do what is left.',
  ];
}

/** The sbatch options, without `#SBATCH `. */
function directives(spec: JobSpec): string[] {
  const out = [`--job-name=${spec.name}`, `--array=0-${spec.workers - 1}`];
  if (spec.threads !== 'auto') out.push(`--cpus-per-task=${spec.threads}`);
  if (spec.timeLimitS !== undefined) out.push(`--time=${formatTimeLimit(spec.timeLimitS)}`);
  // SIGUSR1 to the batch shell (B:), which exec made jug: drain before the time limit.
  out.push(`--signal=B:USR1@${spec.drainMarginS}`);
  if (spec.mem !== undefined) out.push(`--mem=${spec.mem}`);
  if (spec.partition !== undefined) out.push(`--partition=${spec.partition}`);
  if (spec.account !== undefined) out.push(`--account=${spec.account}`);
  out.push(`--output=${directiveValue(join(spec.jobsDir, '%A_%a.out'))}`, `--chdir=${directiveValue(spec.workdir)}`);
  return [...out, ...spec.schedulerArgs];
}

function body(spec: JobSpec): string[] {
  return [
    `# ${spec.drainMarginS} s before the time limit (Slurm may send it up to 30 s earlier), SIGUSR1 makes jug take no`,
    '# new task, let the running ones finish and exit 0; `jug execute --help` says more.',
    `exec ${executeLine(spec.command, spec.threads)}`,
  ];
}

/** `node jug.js execute <jugfile> --jugdir <dir> … --threads N [-- args]`, quoted for bash. */
function executeLine(command: WorkerCommand, threads: number | 'auto'): string {
  const words = [command.node, command.jug, 'execute', command.jugfile, '--jugdir', command.jugdir, ...command.options].map(shellQuote);
  words.push('--threads', threads === 'auto' ? 'auto' : '"${SLURM_CPUS_PER_TASK:-1}"');
  if (command.jugfileArgs.length > 0) words.push('--', ...command.jugfileArgs.map(shellQuote));
  return words.join(' ');
}

/** A path in an `#SBATCH` line: in double quotes when it has spaces. */
function directiveValue(path: string): string {
  return /\s/.test(path) ? `"${path}"` : path;
}
