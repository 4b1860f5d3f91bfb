/**
 * Failure records (FailureRecord, store.ts): what is known about a task that failed, built where
 * the task is (the thread that ran it, or the main thread), stored with its failure mark under
 * `--keep-failed`, and printed by the CLI (src/cli/failure-report.ts).
 */
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, threadId } from 'node:worker_threads';
import { describeArguments } from './describe.js';
import type { ErrorInfo } from './execute-task.js';
import { PACKAGE_ROOT } from './package-root.js';
import type { FailureRecord } from './store/store.js';
import type { Task } from './task.js';

const HOST = hostname();

/** What a failure record says beyond the task and its error. */
export interface FailureDetails {
  /** How long the task function ran, ms (undefined: it never started). */
  readonly durationMs?: number;
  /** Worker thread id. @default this thread's, when it is a worker thread */
  readonly thread?: number;
  /** How many times the task was tried. */
  readonly attempts?: number;
  /** When it failed. @default now */
  readonly time?: Date;
}

/**
 * The failure record of `task` failing with `error`, in this process: its arguments described
 * (describeArguments), the stack without jug's own frames (removeJugFrames).
 */
export function makeFailureRecord(task: Task, error: ErrorInfo, details: FailureDetails = {}): FailureRecord {
  const thread = details.thread ?? (isMainThread ? undefined : threadId);
  return {
    task: task.name,
    hash: task.hash(),
    args: describeArguments(task.args),
    error: { name: error.name, message: error.message, stack: removeJugFrames(error.stack) },
    host: HOST,
    pid: process.pid,
    ...(thread === undefined ? {} : { thread }),
    time: (details.time ?? new Date()).toISOString(),
    ...(details.durationMs === undefined ? {} : { durationMs: Math.round(details.durationMs * 10) / 10 }),
    ...(details.attempts === undefined ? {} : { attempts: details.attempts }),
  };
}

/** The file a stack frame line (`    at f (/path/x.js:1:2)`, `    at /path/x.js:1:2`) points at, if any. */
function frameFile(line: string): string | undefined {
  const m = /^\s*at (?:.*? \()?(.+?)(?::\d+)?(?::\d+)?\)?$/.exec(line);
  if (m === null) return undefined;
  const where = m[1]!;
  if (where.startsWith('file://')) {
    try {
      return fileURLToPath(where);
    } catch {
      return where;
    }
  }
  return where;
}

/**
 * Whether a frame's file is jug's own: its built code (`dist/`) or sources (`src/`, where source
 * maps point), Node's internals (`node:internal/…`), or the worker pool jug runs threads with
 * (piscina). Such frames say how jug called the task, never why it failed.
 */
export function isJugFrame(file: string, root = PACKAGE_ROOT): boolean {
  if (file.startsWith('node:internal/')) return true;
  if (file.includes('/node_modules/piscina/')) return true;
  return file.startsWith(`${root}/dist/`) || file.startsWith(`${root}/src/`);
}

/**
 * `stack` without the frames of jug's own files (see isJugFrame): the message lines and the
 * frames of the task's code (the jugfile, its modules, its packages) stay, in order. A stack that
 * is only jug's frames keeps its message. A plain string → string step, to chain with other
 * stack rewrites (source maps).
 */
export function removeJugFrames(stack: string, root = PACKAGE_ROOT): string {
  const lines = stack.split('\n');
  const kept = lines.filter((line) => {
    if (!/^\s*at /.test(line)) return true;
    const file = frameFile(line);
    return file === undefined || !isJugFrame(file, root);
  });
  return kept.join('\n');
}
