/**
 * Progress while `jug execute` runs, on stderr (stdout keeps only the summary table):
 *
 * - on a terminal (stderr a TTY with a width, CI unset): a spinner line redrawn in place
 *   (terminal.ts), with one line per task name under it for `--progress names`;
 * - otherwise, or with `--progress lines`: a plain line every JUG_PROGRESS_INTERVAL seconds (10);
 * - with `--progress none` or `-q`: nothing.
 *
 * Counts come from the status table (tally.ts), rate and ETA from this process's own work
 * (estimator.ts), the text from format.ts.
 */
import type { TaskGraph } from '../../graph.js';
import type { SchedulerEvent } from '../../scheduler.js';
import type { StatusTable } from '../../status-table.js';
import { ProgressEstimator } from './estimator.js';
import { mainLine, nameLines } from './format.js';
import { PassTally, type PassTallies } from './tally.js';
import { LiveArea } from './terminal.js';

/** `--progress` choices. */
export const PROGRESS_CHOICES = ['auto', 'names', 'lines', 'none'] as const;
/** What `--progress` asks for: see {@link PROGRESS_CHOICES} and `jug execute --help`. */
export type ProgressChoice = (typeof PROGRESS_CHOICES)[number];

/** How progress is shown. */
export type ProgressMode = 'none' | 'spinner' | 'lines';

/** Spinner frames, one every {@link FRAME_MS}. */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 120;

/**
 * Which display fits a stream: the spinner needs a real terminal with a width (a 0-column TTY,
 * as some CI runners give, has no room for a line to redraw), outside CI.
 */
export function progressMode(
  stream: { isTTY?: boolean; columns?: number },
  env: NodeJS.ProcessEnv,
  quiet = false,
  choice: ProgressChoice = 'auto',
): ProgressMode {
  if (quiet || choice === 'none') return 'none';
  if (choice === 'lines') return 'lines';
  return stream.isTTY === true && (stream.columns ?? 0) > 0 && !env['CI'] ? 'spinner' : 'lines';
}

/** Options of {@link RunProgress}. */
export interface RunProgressOptions {
  /** `--progress`. @default 'auto' */
  readonly choice?: ProgressChoice;
  /** `-q`: nothing shown. @default false */
  readonly quiet?: boolean;
  /** Tasks run at once (threads, 1 when serial): the ETA divides the work left by this. */
  readonly slots: number;
  /** Seconds between plain lines. @default JUG_PROGRESS_INTERVAL, or 10 */
  readonly lineInterval?: number;
  /** The stream shown on. @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
}

/** One pass's display (a spinner area, or a timer printing plain lines). */
interface PassDisplay {
  update(lines: readonly string[]): void;
  close(): void;
}

/**
 * The progress of one `jug execute` run: its estimator lives through every pass (a jugfile with
 * barriers is run in passes, one per load), its display is started for each pass.
 */
export class RunProgress {
  readonly mode: ProgressMode;
  readonly #names: boolean;
  readonly #estimator: ProgressEstimator;
  readonly #stream: NodeJS.WriteStream;
  readonly #lineMs: number;
  #pass: { display: PassDisplay; timer: NodeJS.Timeout } | undefined;
  /** What the main line starts with once the run is stopping ('' until then). */
  #stopping = '';

  constructor(options: RunProgressOptions) {
    this.#stream = options.stream ?? process.stderr;
    this.mode = progressMode(this.#stream, process.env, options.quiet, options.choice);
    this.#names = options.choice === 'names';
    this.#estimator = new ProgressEstimator({ slots: options.slots });
    this.#lineMs = this.mode === 'lines' ? Math.max(0.1, options.lineInterval ?? envInterval()) * 1000 : FRAME_MS;
  }

  /** Feeds the estimator with the scheduler's events (the durations of tasks executed here). */
  onEvent(ev: SchedulerEvent): void {
    if (ev.type === 'done' && ev.outcome.kind === 'executed') this.#estimator.executed(ev.task.name, ev.outcome.ms);
  }

  /**
   * Shows a pass: `stored` is the listing it starts from (its results show as stored from the
   * first frame), `executedEarlier` what this run executed in earlier passes.
   */
  startPass(table: StatusTable, graph: TaskGraph, stored: ReadonlySet<string>, executedEarlier?: ReadonlySet<string>): void {
    this.endPass();
    if (this.mode === 'none') return;
    const tally = new PassTally(graph, stored, executedEarlier);
    const display = this.mode === 'spinner' ? this.#spinner() : this.#plainLines();
    let frame = 0;
    const update = (): void => display.update(this.#lines(tally.read(table), frame++));
    if (this.mode === 'spinner') update();
    const timer = setInterval(update, this.#lineMs);
    timer.unref();
    this.#pass = { display, timer };
  }

  /** The run is stopping (a first Ctrl-C), or draining (SIGUSR1): the main line says so until the end. */
  stopping(draining = false): void {
    this.#stopping = draining ? DRAINING : STOPPING;
  }

  /** Stops the pass's display; on a terminal the area is erased, so that nothing of it remains. */
  endPass(): void {
    if (this.#pass === undefined) return;
    clearInterval(this.#pass.timer);
    this.#pass.display.close();
    this.#pass = undefined;
  }

  /** The text of one frame: the main line (after the spinner or `[jug]`), then the per-name lines. */
  #lines(tallies: PassTallies, frame: number): string[] {
    const spinner = this.mode === 'spinner';
    // On a terminal, lines are fitted to its width (LiveArea cuts them one column short).
    const width = spinner ? Math.max(1, (this.#stream.columns ?? 80) - 1) : Infinity;
    const prefix = `${spinner ? FRAMES[frame % FRAMES.length] : '[jug]'} ${this.#stopping}`;
    const main = prefix + mainLine(tallies, this.#estimator, width - [...prefix].length);
    if (!this.#names) return [main];
    const names = nameLines(tallies.byName, this.#estimator, spinner ? width : Infinity);
    return [main, ...(spinner ? names : names.map((l) => `[jug] ${l}`))];
  }

  #spinner(): PassDisplay {
    const stdout = process.stdout;
    const area = new LiveArea(this.#stream, { sharing: stdout.isTTY ? [stdout] : [] });
    return { update: (lines) => area.draw(lines), close: () => area.close() };
  }

  #plainLines(): PassDisplay {
    return { update: (lines) => this.#stream.write(`${lines.join('\n')}\n`), close() {} };
  }
}

const STOPPING = 'stopping, Ctrl-C again aborts · ';
const DRAINING = 'draining (SIGUSR1): no new task · ';

/** JUG_PROGRESS_INTERVAL (seconds between plain lines): 10 when unset, empty or not a positive number (with a warning). */
function envInterval(): number {
  const raw = process.env['JUG_PROGRESS_INTERVAL'];
  if (raw === undefined || raw.trim() === '') return 10;
  const n = Number(raw);
  if (Number.isFinite(n) && n > 0) return n;
  process.stderr.write(`jug: warning: JUG_PROGRESS_INTERVAL='${raw}' is not a positive number of seconds; using 10.\n`);
  return 10;
}
