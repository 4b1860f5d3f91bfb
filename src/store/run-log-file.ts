/**
 * The file store's run records (docs/store-format.md, "Run records"): one file per process,
 * `<jugdir>/runs/<pid>-<token>-<host>.jsonl`, one JSON record per line, appended by that process
 * only (its main thread). Records are buffered in memory and written with the store's next
 * commit of results, before the results are made durable and visible (so a stored result never
 * lacks its record), when the buffer is full, when a record is urgent, at close and at exit.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../run-records-types.js';
import { parseRunLines } from '../run-record-lines.js';
import { HOST_SAFE, OWNER_TOKEN } from './lock-owner.js';

/** The directory of the run records in a jugdir. */
export const RUNS_DIR = 'runs';
/** This process's run-record file name. */
export const RUN_FILE = `${process.pid}-${OWNER_TOKEN}-${HOST_SAFE}.jsonl`;
/** Records buffered before they are written without waiting for a commit. */
const MAX_BUFFERED = 512;

/** Open run logs, written at exit if their process ends without closing its store. */
const open = new Set<RunLogFile>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const log of open) log.close();
  });
}

/** One process's run records in one jugdir. */
export class RunLogFile {
  readonly #dir: string;
  readonly #ensureDir: (dir: string) => void;
  readonly #fsError: (e: unknown, what: string) => Error;
  #buffer: string[] = [];
  #fd: number | undefined;
  /** Written since the last fsync. */
  #unsynced = false;

  constructor(jugdir: string, ensureDir: (dir: string) => void, fsError: (e: unknown, what: string) => Error) {
    this.#dir = join(jugdir, RUNS_DIR);
    this.#ensureDir = ensureDir;
    this.#fsError = fsError;
  }

  /** This process's file. */
  get path(): string {
    return join(this.#dir, RUN_FILE);
  }

  /** Buffers `entry` (written now if `urgent` or the buffer is full). */
  append(entry: RunRecord, urgent: boolean): void {
    this.#buffer.push(JSON.stringify(entry) + '\n');
    if (this.#buffer.length === 1) {
      open.add(this);
      hookExit();
    }
    if (urgent || this.#buffer.length >= MAX_BUFFERED) this.write();
  }

  /** Whether records wait in the buffer. */
  get pending(): boolean {
    return this.#buffer.length > 0;
  }

  /** Writes the buffered records to the file (one write; not flushed to disk: see sync()). */
  write(): void {
    if (this.#buffer.length === 0) return;
    const text = this.#buffer.join('');
    this.#buffer = [];
    open.delete(this);
    try {
      if (this.#fd === undefined) {
        this.#ensureDir(this.#dir);
        this.#fd = fs.openSync(this.path, 'a', 0o644);
      }
      const bytes = Buffer.from(text);
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(this.#fd, bytes, off, bytes.length - off);
      this.#unsynced = true;
    } catch (e) {
      throw this.#fsError(e, `write run records to ${this.path}`);
    }
  }

  /** Flushes what was written to disk (fdatasync), if anything was since the last time. */
  sync(): void {
    if (!this.#unsynced || this.#fd === undefined) return;
    this.#unsynced = false;
    try {
      fs.fdatasyncSync(this.#fd);
    } catch {
      // a filesystem refusing it: the records are written, just not known durable
    }
  }

  /** Writes what is buffered and closes the file (never throws: called at exit too). */
  close(): void {
    try {
      this.write();
      this.sync();
    } catch {
      // the records are lost, the results are not
    }
    if (this.#fd !== undefined) {
      try {
        fs.closeSync(this.#fd);
      } catch {
        // closed already
      }
      this.#fd = undefined;
    }
    open.delete(this);
  }

  /**
   * Every readable record of every process in `jugdir`, per file in append order. A file that
   * vanishes while read (pruned) counts as empty; a partial last line is skipped.
   */
  static read(jugdir: string): RunRecord[] {
    const dir = join(jugdir, RUNS_DIR);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: RunRecord[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith('.jsonl')) continue;
      let text: string;
      try {
        text = fs.readFileSync(join(dir, name), 'utf8');
      } catch {
        continue;
      }
      for (const r of parseRunLines(text)) out.push(r);
    }
    return out;
  }
}
