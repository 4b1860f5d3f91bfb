/** Running the scheduler's commands (sbatch, squeue): found on PATH, output captured. */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { JugError } from '../../../errors.js';

/** How a program ended. */
export interface ProgramResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The path of an executable `name` on PATH, or undefined. */
export function onPath(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws a JugError (exit 1) naming the first of `programs` not on PATH and what to install. */
export function requirePrograms(programs: readonly string[], install: string): void {
  const missing = programs.filter((p) => onPath(p) === undefined);
  if (missing.length === 0) return;
  throw new JugError(`${missing.join(' and ')} not found on PATH: jug submit needs ${install}.`);
}

/** Runs `name args…` (no shell) and collects its output. */
export function runProgram(name: string, args: readonly string[], cwd?: string): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(name, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (e) => reject(new JugError(`cannot run ${name}: ${e.message}`)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
