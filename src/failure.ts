/**
 * Failure records (FailureRecord, store.ts): what is known about a task that failed, built where
 * the task is (the thread that ran it, or the main thread), stored with its failure mark under
 * `--keep-failed`, and printed by the CLI (src/cli/failure-report.ts).
 */
import { hostname } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';
import { describeArguments } from './describe.js';
import type { ErrorInfo } from './execute-task.js';
import { userStack } from './stack.js';
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
 * (describeArguments), the stack as the user should see it (userStack: mapped to their files, without jug's own frames).
 */
export function makeFailureRecord(task: Task, error: ErrorInfo, details: FailureDetails = {}): FailureRecord {
  const thread = details.thread ?? (isMainThread ? undefined : threadId);
  return {
    task: task.name,
    hash: task.hash(),
    args: describeArguments(task.args),
    error: { name: error.name, message: error.message, stack: userStack(error.stack) },
    host: HOST,
    pid: process.pid,
    ...(thread === undefined ? {} : { thread }),
    time: (details.time ?? new Date()).toISOString(),
    ...(details.durationMs === undefined ? {} : { durationMs: Math.round(details.durationMs * 10) / 10 }),
    ...(details.attempts === undefined ? {} : { attempts: details.attempts }),
  };
}
