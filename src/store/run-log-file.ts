/**
 * The file store's run records (docs/store-format.md, "Run records"): one file per process,
 * `<jugdir>/runs/<pid>-<token>-<host>.jsonl`, one JSON record per line, appended by that process
 * only (its main thread). Records are buffered in memory and written with the store's next
 * commit of results, before the results are made durable and visible (so a stored result never
 * lacks its record), when the buffer is full, when a record is urgent, at close and at exit.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import type { RunningNote, RunRecord } from '../run-records-types.js';
import { parseRunLines, recordsToKeep, runRecordLine } from '../run-record-lines.js';
import type { RunLogCompaction } from './store.js';
import { HOST_SAFE, OWNER_TOKEN, isThisHost, localOwnerGone } from './lock-owner.js';

/** The directory of the run records in a jugdir. */
export const RUNS_DIR = 'runs';
/** This process's run-record file name. */
export const RUN_FILE = `${process.pid}-${OWNER_TOKEN}-${HOST_SAFE}.jsonl`;
/** This process's running-notes file name (its tasks running now: RunningNote[] as JSON). */
export const RUNNING_FILE = `${process.pid}-${OWNER_TOKEN}-${HOST_SAFE}.running`;
/** Prefix of a compacted log: `compacted-<pid>-<token>-<host>-<ms base 36>.jsonl`, written whole, never appended to. */
export const COMPACTED_PREFIX = 'compacted-';
/** Prefix of a compacted log being written (not `.jsonl`: readers skip it). */
const COMPACTING_PREFIX = '.compacting-';
/** A process's records file name: pid, start token, host. */
const PROCESS_FILE = /^(\d+)-([sr][0-9a-f]+)-(.+)\.jsonl$/;

/** The process that writes a records file. */
export interface RunFileWriter {
  readonly pid: number;
  readonly token: string;
  /** File-safe host name (HOST_SAFE of its host). */
  readonly host: string;
  /** The file's path (to judge another host's writer by the file's age). */
  readonly path: string;
}

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
/** Writes `text` to `path` atomically (aside, then renamed), or removes `path` when `text` is undefined. */
export type NoteWriter = (path: string, text: string | undefined) => void;

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
    this.#buffer.push(runRecordLine(entry));
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

  /**
   * Writes the buffered records and returns the file's descriptor if it needs an fdatasync
   * (which the caller then owes: the store's helper thread does it with the results it commits),
   * undefined if nothing was written since the last flush.
   */
  writeForSync(): number | undefined {
    this.write();
    if (!this.#unsynced || this.#fd === undefined) return undefined;
    this.#unsynced = false;
    return this.#fd;
  }

  /** The flush a writeForSync() caller owed did not happen: the next sync() does it. */
  syncLater(): void {
    if (this.#fd !== undefined) this.#unsynced = true;
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

  /**
   * Replaces this process's running notes: written under a temporary name and renamed (a reader
   * sees the old list or the new one); an empty list removes the file. Best-effort. `write`: does
   * the writing (or, text undefined, the removal) instead, e.g. in the store's helper thread.
   */
  noteRunning(notes: readonly RunningNote[], write?: NoteWriter): void {
    const path = join(this.#dir, RUNNING_FILE);
    try {
      if (notes.length === 0) {
        if (this.#notesWritten) {
          if (write !== undefined) write(path, undefined);
          else fs.rmSync(path, { force: true });
        }
        this.#notesWritten = false;
        return;
      }
      this.#ensureDir(this.#dir);
      if (write !== undefined) {
        write(path, JSON.stringify(notes));
      } else {
        const tmp = `${path}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(notes), { mode: 0o644 });
        fs.renameSync(tmp, path);
      }
      this.#notesWritten = true;
    } catch {
      // the notes are a hint: a run goes on without them
    }
  }

  #notesWritten = false;

  /**
   * Removes the running notes left by processes of this host that are gone (killed before they
   * could remove them); returns how many. Other hosts' are left: their age says nothing (a note is
   * rewritten only when its tasks change), and readers ignore notes without a live lock anyway.
   */
  static removeDeadNotes(jugdir: string): number {
    const dir = join(jugdir, RUNS_DIR);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const m = /^(\d+)-([sr][0-9a-f]+)-(.+)\.running(\.tmp)?$/.exec(name);
      if (m === null || name === RUNNING_FILE || name === `${RUNNING_FILE}.tmp` || !isThisHost(m[3]!)) continue;
      if (!localOwnerGone({ pid: Number(m[1]), token: m[2] })) continue;
      try {
        fs.unlinkSync(join(dir, name));
        removed++;
      } catch {
        // removed meanwhile
      }
    }
    return removed;
  }

  /** Every process's running notes in `jugdir` (unreadable files and bad entries skipped). */
  static readRunning(jugdir: string): RunningNote[] {
    const out: RunningNote[] = [];
    for (const path of runFiles(jugdir, '.running')) {
      try {
        const list = JSON.parse(fs.readFileSync(path, 'utf8')) as unknown;
        if (!Array.isArray(list)) continue;
        for (const n of list as Partial<RunningNote>[]) {
          if (typeof n?.hash === 'string' && typeof n.start === 'number' && typeof n.host === 'string' && typeof n.pid === 'number') {
            out.push({ hash: n.hash, start: n.start, host: n.host, pid: n.pid, ...(typeof n.thread === 'number' ? { thread: n.thread } : {}) });
          }
        }
      } catch {
        // removed or being replaced: skipped
      }
    }
    return out;
  }

  /** Writes what is buffered and closes the file (never throws: called at exit too). */
  close(): void {
    this.noteRunning([]);
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
    const out: RunRecord[] = [];
    for (const text of RunLogFile.readTexts(jugdir)) for (const r of parseRunLines(text)) out.push(r);
    return out;
  }

  /** The text of every run-log file in `jugdir` (unreadable ones skipped), unparsed. */
  static readTexts(jugdir: string): string[] {
    const out: string[] = [];
    for (const path of runFiles(jugdir, '.jsonl')) {
      try {
        out.push(fs.readFileSync(path, 'utf8'));
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }
}

/**
 * Compacts the records of `jugdir` (the caller holds the compaction lock, so no other compaction
 * runs): reads the files no live process appends to — those of processes `live` says are gone,
 * and earlier compacted logs — writes what recordsToKeep() keeps of them to one new compacted log
 * (temporary name, fsync, rename, fsync of the directory), then removes the files read. Files of
 * live processes (this one's included) are left alone: they may be appended to meanwhile. A crash
 * before the removals leaves records twice, which readers take as one (the latest per hash).
 */
export function compactRunFiles(jugdir: string, stored: ReadonlySet<string>, live: (w: RunFileWriter) => boolean): RunLogCompaction {
  const dir = join(jugdir, RUNS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return { read: 0, kept: 0 };
  }
  const records: RunRecord[] = [];
  const read: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (name.startsWith(COMPACTING_PREFIX)) {
      fs.rmSync(path, { force: true }); // a compaction that crashed (we hold the lock)
      continue;
    }
    if (!name.endsWith('.jsonl') || name === RUN_FILE) continue;
    if (!name.startsWith(COMPACTED_PREFIX)) {
      const m = PROCESS_FILE.exec(name);
      if (m === null || live({ pid: Number(m[1]), token: m[2]!, host: m[3]!, path })) continue;
    }
    try {
      for (const r of parseRunLines(fs.readFileSync(path, 'utf8'))) records.push(r);
      read.push(path);
    } catch {
      // unreadable: left as it is
    }
  }
  const kept = recordsToKeep(records, stored);
  const alone = read.length === 1 && read[0]!.slice(dir.length + 1).startsWith(COMPACTED_PREFIX);
  if (read.length === 0 || (alone && kept.length === records.length)) return { read: records.length, kept: records.length };
  if (kept.length > 0) writeCompacted(dir, kept);
  for (const path of read) fs.rmSync(path, { force: true });
  return { read: records.length, kept: kept.length };
}

/** Writes `records` to a new compacted log in `dir`, durably, under its final name at once. */
function writeCompacted(dir: string, records: readonly RunRecord[]): void {
  const name = `${COMPACTED_PREFIX}${process.pid}-${OWNER_TOKEN}-${HOST_SAFE}-${Date.now().toString(36)}.jsonl`;
  const tmp = join(dir, `${COMPACTING_PREFIX}${name}`);
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    let text = '';
    for (const r of records) text += runRecordLine(r);
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, join(dir, name));
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // a filesystem that cannot flush a directory
  }
}

/** The paths of the files in `<jugdir>/runs/` whose names end with `suffix`, sorted; none if there is no such directory. */
function runFiles(jugdir: string, suffix: string): string[] {
  const dir = join(jugdir, RUNS_DIR);
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => name.endsWith(suffix))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}
