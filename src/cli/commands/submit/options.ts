/**
 * The options of `jug submit`, checked before anything is written or submitted: a bad value is a
 * usage error (exit 2) naming the option, the value and what is expected.
 */
import { UsageError } from '../../../errors.js';
import type { CommonOptions } from '../../common.js';
import type { JobResources } from './scheduler.js';

/** Options of `jug submit`, as the command line (and configuration files) give them. */
export interface SubmitCliOptions extends CommonOptions {
  /** Array tasks, each one `jug execute` process. */
  workers?: number;
  /** Threads of each worker, or `auto` (the CPUs the scheduler gives it). @default 1 */
  threads?: number | 'auto';
  /** Time limit of each worker, Slurm's formats (`HH:MM:SS`, `MM`, `D-HH:MM`, …). */
  time?: string;
  /** Memory of each worker (`4G`, `500M`). */
  mem?: string;
  partition?: string;
  account?: string;
  /** More scheduler options, one each (`--qos=high`). */
  sbatchArg?: string[];
  /** Seconds before the time limit when workers are asked to drain (default: see drainMargin()). */
  drainMargin?: number;
  /** Print the script; write and submit nothing. */
  dryRun?: boolean;
  /** Block until the job ends, then print `jug status`. */
  wait?: boolean;
  /** Seconds between two looks at the queue and the store with --wait. @default 10 */
  poll?: number;
  /** @default 'slurm' */
  scheduler?: string;
}

/** The checked options. */
export interface SubmitOptions extends CommonOptions, JobResources {
  readonly dryRun: boolean;
  readonly wait: boolean;
  readonly pollS: number;
  readonly scheduler: string;
}

/** The drain margin without a time limit, and the most the default rule gives. */
export const MAX_DEFAULT_MARGIN_S = 120;

/**
 * The default drain margin: a third of the time limit, at most 2 minutes (120 s also without a
 * time limit). Slurm looks at time limits about every 30 s, so it sends the signal between
 * `margin` and `margin + 30` s before the limit, and kills up to 30 s after it: a task running
 * when the drain comes has at least `margin` seconds to finish, and with the shortest limit
 * (1 minute, margin 20 s) the signal comes 10 to 40 s after the start, not before jug runs.
 */
export function defaultDrainMargin(timeLimitS: number | undefined): number {
  if (timeLimitS === undefined) return MAX_DEFAULT_MARGIN_S;
  return Math.min(MAX_DEFAULT_MARGIN_S, Math.floor(timeLimitS / 3));
}

/**
 * A Slurm time limit in seconds: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.
 * Throws a UsageError for anything else, and for less than a minute (Slurm's limits are whole
 * minutes: it would round it up).
 */
export function parseTimeLimit(text: string): number {
  const m = /^(?:(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?|(\d+)(?::(\d+)(?::(\d+))?)?)$/.exec(text.trim());
  if (m === null) throw badTime(text, 'expected HH:MM:SS (or MM, MM:SS, D-HH, D-HH:MM, D-HH:MM:SS)');
  const n = (s: string | undefined): number => (s === undefined ? 0 : Number(s));
  const parts = m[1] !== undefined ? [n(m[1]) * 24 + n(m[2]), n(m[3]), n(m[4])] : timeParts(m[5]!, m[6], m[7]);
  const [h, min, s] = parts as [number, number, number];
  if ((m[1] !== undefined || m[7] !== undefined) && min > 59) throw badTime(text, 'minutes must be below 60');
  if (s > 59) throw badTime(text, 'seconds must be below 60');
  const total = h * 3600 + min * 60 + s;
  if (total < 60) throw badTime(text, 'Slurm time limits are whole minutes: at least 0:01:00');
  return total;
}

/** Hours, minutes, seconds of `MM`, `MM:SS` or `HH:MM:SS`. */
function timeParts(a: string, b: string | undefined, c: string | undefined): number[] {
  if (c !== undefined) return [Number(a), Number(b), Number(c)];
  return [0, Number(a), b === undefined ? 0 : Number(b)];
}

function badTime(text: string, why: string): UsageError {
  return new UsageError(`--time '${text}': ${why}.`);
}

/** Seconds as Slurm writes a time limit: `H:MM:SS`, or `D-HH:MM:SS` from a day on. */
export function formatTimeLimit(seconds: number): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const rest = `${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
  return d > 0 ? `${d}-${two(h)}:${rest}` : `${h}:${rest}`;
}

/** Checks every option (see the module comment); the scheduler's names come from `schedulers`. */
export function checkSubmitOptions(cli: SubmitCliOptions, schedulers: readonly string[]): SubmitOptions {
  const { workers } = cli;
  if (workers === undefined) throw new UsageError('--workers <n> is required: how many workers (array tasks) to start.');
  const scheduler = cli.scheduler ?? 'slurm';
  if (!schedulers.includes(scheduler)) throw new UsageError(`--scheduler '${scheduler}': expected ${schedulers.join(', ')}.`);
  const timeLimitS = cli.time === undefined ? undefined : parseTimeLimit(cli.time);
  if (cli.mem !== undefined && !/^\d+[KMGT]?$/i.test(cli.mem.trim())) {
    throw new UsageError(`--mem '${cli.mem}': expected a size such as 4G, 500M or 2048 (MiB).`);
  }
  const drainMarginS = cli.drainMargin ?? defaultDrainMargin(timeLimitS);
  if (timeLimitS !== undefined && drainMarginS >= timeLimitS) {
    throw new UsageError(`--drain-margin ${drainMarginS}: must be shorter than the time limit (${timeLimitS} s).`);
  }
  return {
    ...cli,
    workers,
    threads: cli.threads ?? 1,
    timeLimitS,
    drainMarginS,
    mem: cli.mem?.trim(),
    partition: word('--partition', cli.partition),
    account: word('--account', cli.account),
    schedulerArgs: (cli.sbatchArg ?? []).map(schedulerArg),
    dryRun: cli.dryRun ?? false,
    wait: cli.wait ?? false,
    pollS: cli.poll ?? 10,
    scheduler,
  };
}

/** A name (partition, account): no space, quote or control character. */
function word(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\w.,:@+-]+$/.test(value)) throw new UsageError(`${option} '${value}': expected a name (letters, digits, . , : @ + - _).`);
  return value;
}

/** `--sbatch-arg`: one option, written into the script as it is. */
function schedulerArg(arg: string): string {
  if (!arg.startsWith('-') || /[\n\r]/.test(arg)) {
    throw new UsageError(`--sbatch-arg '${arg}': expected one option of sbatch, such as --qos=high or --constraint=avx2 (one per --sbatch-arg).`);
  }
  return arg;
}
