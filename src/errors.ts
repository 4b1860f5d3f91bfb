/**
 * Every error jug raises on purpose is a `JugError`. The CLI maps them to exit codes in one place
 * (`src/cli/main.ts`); library users can catch them by class.
 */

import { inspect } from 'node:util';

/** Base class of every error jug raises on purpose. `exitCode` is what the CLI exits with. */
export class JugError extends Error {
  override name = 'JugError';
  /** Exit status the `jug` command uses when this error ends it. */
  get exitCode(): number {
    return 1;
  }
}

/** Bad command-line usage (unknown option, invalid value). The CLI exits with 2. */
export class UsageError extends JugError {
  override name = 'UsageError';
  override get exitCode(): number {
    return 2;
  }
}

/** A task was declared wrongly: anonymous function, duplicate name, bad options. */
export class TaskDefinitionError extends JugError {
  override name = 'TaskDefinitionError';
}

/** An argument of a task cannot be hashed. Names the task and the argument position. */
export class HashError extends JugError {
  override name = 'HashError';
}

/** The jugfile could not be loaded (missing, syntax error, threw at import). */
export class JugfileError extends JugError {
  override name = 'JugfileError';
}

/** A result could not be written to / read from the store. */
export class StoreError extends JugError {
  override name = 'StoreError';
}

/** A result file exists but does not decode: truncated, empty or damaged. */
export class CorruptResultError extends StoreError {
  override name = 'CorruptResultError';
  constructor(
    message: string,
    /** The file that failed to decode. */
    readonly path: string,
    /** What is wrong with it, e.g. `checksum mismatch`. */
    readonly reason: string = 'damaged',
    /** Hash of the task whose result it is, when the store knows it. */
    readonly hash?: string,
    /** Name of that task, when the caller gave it. */
    readonly taskName?: string,
  ) {
    super(message);
  }
}

/** A value was requested for a task whose result is not in the store. */
export class NotComputedError extends JugError {
  override name = 'NotComputedError';
  constructor(
    message: string,
    /** Hash of the task whose result is missing, when known. */
    readonly hash?: string,
  ) {
    super(message);
  }
}

/**
 * A task's failure as an exception (`taskName`, `hash`, `cause`: the original error), for API users
 * who want to raise one; jug itself reports task failures as outcomes and does not throw it.
 */
export class TaskFailedError extends JugError {
  override name = 'TaskFailedError';
  constructor(
    message: string,
    /** Name of the task, e.g. `primes.isPrime`. */
    readonly taskName: string,
    /** 40-hex hash of the task. */
    readonly hash: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Seconds for a message: `1.5 s`, `0.25 s`, `30 s`. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * An attempt of a task ran past its time limit (`jug execute --timeout`, or the task's
 * `timeoutMs`): the reason its signal (`taskSignal()`) is aborted with, and the error its failed
 * attempt is reported with. Not a JugError: the task, not jug, failed.
 */
export class TaskTimeoutError extends Error {
  override name = 'TaskTimeoutError';
  constructor(
    /** Name of the task, e.g. `crawl.fetchPage`. */
    readonly taskName: string,
    /** The time limit, in milliseconds. */
    readonly timeoutMs: number,
    /** What happened at the limit (e.g. its thread was terminated). */
    detail: string,
  ) {
    super(`task ${taskName} timed out after ${formatSeconds(timeoutMs)}: ${detail}`);
    this.stack = `${this.name}: ${this.message}`; // jug's timer frames would only distract
  }
}

/** Ends the CLI with a given exit code after the message (if any) has been printed. */
export class ExitError extends JugError {
  override name = 'ExitError';
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
  }
  override get exitCode(): number {
    return this.code;
  }
}

/** Short description of any thrown value, for messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** What to say when an exception escapes outside any task (a task's leftover work, most likely). */
export const UNAWAITED_WORK_HINT =
  'Task code probably started work it did not await (a promise, a timer, an event handler): await it ' +
  'in the task. (Hooks are synchronous: an async hook is not awaited either.) The run stops; finished results are kept.';

/** A thrown value for a message: an Error's stack, anything else inspected (never throws). */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  try {
    return `thrown value: ${inspect(e, { depth: 2, breakLength: Infinity })}`;
  } catch {
    return 'thrown value that cannot be displayed';
  }
}
