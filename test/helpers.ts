/**
 * Helpers for the end-to-end tests: spawn the real `node bin/jug.js`, make temporary directories
 * inside the repository (jugfiles there resolve `import ... from 'jug'` by package self-reference,
 * which a jugfile under os.tmpdir() could not), and read what a run left in a jugdir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const JUG_BIN = join(ROOT, 'bin', 'jug.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
/** Git-ignored parent of every temporary directory the tests make. */
export const TMP_ROOT = join(ROOT, 'test', '.tmp');

/** A fresh directory under test/.tmp (remove it with {@link removeTempDir}). */
export function makeTempDir(prefix: string): string {
  mkdirSync(TMP_ROOT, { recursive: true });
  return mkdtempSync(join(TMP_ROOT, `${prefix}-`));
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** How a subprocess ended. */
export interface RunResult {
  /** Exit code; null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Working directory. @default ROOT */
  cwd?: string;
  /** Extra environment variables (added to a cleaned copy of this process's environment). */
  env?: Record<string, string | undefined>;
  /** Kill the process (SIGKILL) after this long; the test then fails on the exit code. @default 60 s */
  timeoutMs?: number;
}

/** This process's environment without what would leak test-runner or debug state into children. */
function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'JUG_DEBUG', 'FORCE_COLOR']) delete env[k];
  env['NO_COLOR'] = '1';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A running subprocess and the promise of its end. */
export interface Started {
  readonly child: ChildProcess;
  readonly done: Promise<RunResult>;
}

/** Starts `node <args>` without waiting for it. */
export function startNode(args: readonly string[], options: RunOptions = {}): Started {
  const child = spawn(process.execPath, [...args], {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => {
    stderr += `\n[test helper: killed after ${options.timeoutMs ?? 60_000} ms]\n`;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 60_000);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

/** Runs `node <args>` to completion. */
export function runNode(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return startNode(args, options).done;
}

/** Starts `node bin/jug.js <args>`. */
export function startJug(args: readonly string[], options: RunOptions = {}): Started {
  return startNode([JUG_BIN, ...args], options);
}

/** Runs `node bin/jug.js <args>` to completion. */
export function runJug(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return startJug(args, options).done;
}

/** Shows a run's output in assertion messages. */
export function show(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/**
 * Parses a summary table (`jug status`, `jug execute`) into name → counts, the `Total:` row
 * included under 'Total:'. Lines outside the table are ignored.
 */
export function parseTable(text: string): { columns: string[]; rows: Map<string, number[]> } {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => l.startsWith('Task name'));
  if (head < 0) throw new Error(`no summary table in:\n${text}`);
  const columns = lines[head]!.slice('Task name'.length).trim().split(/\s+/);
  const rows = new Map<string, number[]>();
  for (const line of lines.slice(head + 1)) {
    const m = /^(\S+)\s+((?:\d+\s*)+)$/.exec(line);
    if (m === null) continue;
    rows.set(m[1]!, m[2]!.trim().split(/\s+/).map(Number));
    if (m[1] === 'Total:') break;
  }
  return { columns, rows };
}

/** Hashes of the results stored in a jugdir (files `<jugdir>/<h[0:2]>/<h[2:]>`). */
export function storedHashes(jugdir: string): string[] {
  if (!existsSync(jugdir)) return [];
  const out: string[] = [];
  for (const shard of readdirSync(jugdir)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const rest of readdirSync(join(jugdir, shard))) if (/^[0-9a-f]{38}$/.test(rest)) out.push(shard + rest);
  }
  return out.sort();
}

/** Entries of a jugdir subdirectory (locks, tempfiles); [] when it does not exist. */
export function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * Reads exported values of a jugfile from a plain Node script (test/fixtures/read-results.mjs,
 * which does `import { init, value } from 'jug'`), as a user would after `jug execute`.
 */
export async function readResults(
  jugfile: string,
  jugdir: string | undefined,
  names: readonly string[],
  options: RunOptions = {},
): Promise<{ tasks: number; location: string; values: Record<string, unknown> }> {
  const r = await runNode([join(FIXTURES, 'read-results.mjs'), jugfile, jugdir ?? '-', ...names], options);
  if (r.code !== 0) throw new Error(`read-results.mjs failed: ${show(r)}`);
  return JSON.parse(r.stdout) as { tasks: number; location: string; values: Record<string, unknown> };
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; returns its last value. */
export async function waitFor(check: () => boolean, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `jug shell <args>` with `input` on stdin. */
export function runShell(args: string[], input: string, cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of ['NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'JUG_DEBUG', 'FORCE_COLOR']) delete env[k];
    const child = spawn(process.execPath, [JUG_BIN, 'shell', ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    collectOutput(child).then(resolve, reject);
    child.stdin.end(input);
  });
}

/** Collects a child's stdout and stderr (both piped) until it ends; SIGKILL after 60 s. */
export function collectOutput(child: ChildProcess): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
