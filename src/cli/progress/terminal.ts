/**
 * A few lines at the bottom of a terminal, redrawn in place with ANSI codes (carriage return,
 * cursor up, erase in line): the progress display of `jug execute`.
 *
 * It writes to its stream and nothing else. In particular it never reads stdin nor changes the
 * terminal's mode: a display that puts stdin in raw mode (ora's default `discardStdin`) turns
 * Ctrl-C into a byte nobody reads instead of SIGINT (docs/design.md, "Progress display").
 *
 * Whatever else is written to the terminal while the area is shown (warnings, the messages of a
 * signal, a task's console.log, through process.stderr / process.stdout) goes above it: the area
 * is erased first and drawn again below. Lines are cut to the terminal's width, so that a redraw
 * never meets a wrapped line. The cursor is hidden while the area is shown and shown again when
 * it closes, including from a process 'exit' listener for an exit nobody planned.
 */
import { truncate } from './format.js';

/** Writes of a stream, as replaced while the area is shown. */
type Write = NodeJS.WriteStream['write'];

const ESC = '\x1b[';
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;

/** Options of {@link LiveArea}. */
export interface LiveAreaOptions {
  /**
   * Other streams that show on the same terminal (process.stdout, when it is one): their writes
   * are put above the area too. @default none
   */
  readonly sharing?: readonly NodeJS.WriteStream[];
  /** Hide the cursor while the area is shown. @default true */
  readonly hideCursor?: boolean;
}

/** Lines redrawn in place at the bottom of a terminal (see the module comment). */
export class LiveArea {
  readonly #stream: NodeJS.WriteStream;
  /** The stream's own write: the area's output does not go through the interception. */
  readonly #raw: (s: string) => void;
  readonly #restores: (() => void)[] = [];
  readonly #hideCursor: boolean;
  readonly #onExit = (): void => this.close();
  /** Lines the terminal shows now (the cursor is at the end of the last one). */
  #shown = 0;
  #lines: readonly string[] = [];
  /** False while other output has left a line unfinished: the area waits for its newline. */
  #atLineStart = true;
  #cursorHidden = false;
  #redraw: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(stream: NodeJS.WriteStream, options: LiveAreaOptions = {}) {
    this.#stream = stream;
    const write = stream.write;
    this.#raw = (s) => void write.call(stream, s);
    this.#hideCursor = options.hideCursor ?? true;
    for (const s of new Set([stream, ...(options.sharing ?? [])])) this.#intercept(s);
    process.on('exit', this.#onExit);
  }

  /** Shows `lines` in place of what the area showed. */
  draw(lines: readonly string[]): void {
    if (this.#closed) return;
    this.#lines = lines;
    if (!this.#atLineStart) return; // drawn once the other output's line is complete
    const width = Math.max(1, (this.#stream.columns ?? 80) - 1);
    const rows = Math.max(1, (this.#stream.rows ?? 24) - 1);
    const shown = lines.slice(0, rows).map((l) => truncate(l, width));
    let out = this.#eraseCodes();
    if (shown.length > 0 && this.#hideCursor && !this.#cursorHidden) {
      out += HIDE_CURSOR;
      this.#cursorHidden = true;
    }
    out += shown.join('\n');
    this.#shown = shown.length;
    if (out !== '') this.#raw(out);
  }

  /** Erases the area, shows the cursor and gives the streams their own writes back. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#redraw !== undefined) clearImmediate(this.#redraw);
    let out = this.#eraseCodes();
    if (this.#cursorHidden) out += SHOW_CURSOR;
    if (out !== '') this.#raw(out);
    this.#shown = 0;
    this.#cursorHidden = false;
    for (const restore of this.#restores.splice(0)) restore();
    process.off('exit', this.#onExit);
  }

  /**
   * Codes that erase the shown lines, leaving the cursor at the start of the first: each line is
   * erased on its own (erase in line), never the screen from the cursor down: tmux, for one,
   * moves a screen erased from its top row into the scrollback (`scroll-on-clear`), which would
   * leave a copy of the area there at every redraw.
   */
  #eraseCodes(): string {
    if (this.#shown === 0) return '';
    const out = `\r${ESC}K${`${ESC}1A${ESC}K`.repeat(this.#shown - 1)}`;
    this.#shown = 0;
    return out;
  }

  /** Routes `s`'s writes above the area until {@link close}. */
  #intercept(s: NodeJS.WriteStream): void {
    const own = Object.prototype.hasOwnProperty.call(s, 'write');
    const original = s.write;
    const area = this;
    s.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const erase = area.#eraseCodes();
      if (erase !== '') area.#raw(erase);
      const ok = (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      area.#afterOther(chunk);
      return ok;
    } as Write;
    this.#restores.push(() => {
      if (own) s.write = original;
      else delete (s as { write?: Write }).write; // back to the prototype's
    });
  }

  /** Other output was written: draw the area again below it once its line is complete. */
  #afterOther(chunk: unknown): void {
    const last = typeof chunk === 'string' ? chunk.charCodeAt(chunk.length - 1) : chunk instanceof Uint8Array ? chunk[chunk.length - 1] : undefined;
    if (last !== undefined) this.#atLineStart = last === 10; // '\n'
    if (!this.#atLineStart || this.#redraw !== undefined || this.#closed) return;
    this.#redraw = setImmediate(() => {
      this.#redraw = undefined;
      this.draw(this.#lines);
    });
    this.#redraw.unref();
  }
}
