/**
 * Packs: many small results in a few files, for filesystems where a file per result hurts (NFS,
 * Lustre). Layout and protocol: docs/store-format.md, "Packs". The file store consults this
 * module when a loose result file is missing; `jug pack` calls {@link packLooseResults}.
 *
 *   <jugdir>/packs/index                the index: hash → (data file, offset, length); replaced whole (tmp + rename)
 *   <jugdir>/packs/<gen>-<8 hex>.pack   data: result files' bytes verbatim, one after another; never modified
 *   <jugdir>/packs/removed-<gen>        tombstones: packed results removed since index generation <gen>
 *   <jugdir>/locks/pack.lock            held (a lock like a task's) while a pack is written or packed results removed
 *
 * Invariants:
 * - A loose result file wins over a packed entry of the same hash.
 * - A loose file is unlinked only after the pack holding its bytes and the index naming them are
 *   durable, so a reader that finds the loose file gone finds the entry in the (re-read) index.
 * - The index and the tombstones change only under the pack lock; data files are immutable and
 *   removed only after an index no longer naming them is durable (readers holding an older index
 *   re-read it when a data file is gone).
 */
import fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorruptResultError, StoreError } from '../errors.js';
import { decodeResult } from './encode.js';
import { parseLockOwner } from './lock-owner.js';
import type { Lock } from './store.js';

const INDEX_MAGIC = Buffer.from('JUGPIDX1', 'latin1');
const DATA_MAGIC = Buffer.from('JUGPACK1', 'latin1');
const ENTRY_BYTES = 32; // hash 20, file u16, offset u48, length u32
const DIGEST_BYTES = 20; // SHA-1 of everything before it
/** Results larger than this stay loose by default (`jug pack --max-size`). */
export const DEFAULT_PACK_MAX_BYTES = 64 * 1024;
/** A pack run merges every data file into one when there would be more than this many. */
const MAX_DATA_FILES = 4;
/** How long a remover or a second `jug pack` waits for the pack lock before giving up. */
const PACK_LOCK_WAIT_MS = 10 * 60_000;

function isCode(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');
}

/** Where one packed result is. */
export interface PackEntry {
  /** Data file name (in `packs/`). */
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

/** A parsed index: entries sorted by hash, looked up by binary search. */
export class PackIndex {
  constructor(
    readonly generation: number,
    readonly files: readonly string[],
    /** count × 20 bytes, sorted. */
    readonly hashes: Buffer,
    readonly fileOf: Uint16Array,
    readonly offsets: Float64Array,
    readonly lengths: Uint32Array,
  ) {}

  get size(): number {
    return this.fileOf.length;
  }

  /** Position of `hash` (40 hex) or -1. */
  find(hash: string): number {
    const key = Buffer.from(hash, 'hex');
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.hashes.compare(key, 0, 20, mid * 20, mid * 20 + 20);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  hashAt(i: number): string {
    return this.hashes.toString('hex', i * 20, i * 20 + 20);
  }

  entryAt(i: number): PackEntry {
    return { file: this.files[this.fileOf[i]!]!, offset: this.offsets[i]!, length: this.lengths[i]! };
  }
}

/** One entry to write into an index. */
interface NewEntry {
  readonly hash: string;
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

export function serializeIndex(generation: number, entries: readonly NewEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const files = [...new Set(sorted.map((e) => e.file))];
  const fileNo = new Map(files.map((f, i) => [f, i]));
  const namesBytes = files.reduce((n, f) => n + 1 + Buffer.byteLength(f, 'latin1'), 0);
  const size = 8 + 4 + 2 + namesBytes + 4 + sorted.length * ENTRY_BYTES + DIGEST_BYTES;
  const buf = Buffer.alloc(size);
  let o = INDEX_MAGIC.copy(buf, 0);
  o = buf.writeUInt32LE(generation, o);
  o = buf.writeUInt16LE(files.length, o);
  for (const f of files) {
    o = buf.writeUInt8(Buffer.byteLength(f, 'latin1'), o);
    o += buf.write(f, o, 'latin1');
  }
  o = buf.writeUInt32LE(sorted.length, o);
  for (const e of sorted) {
    o += buf.write(e.hash, o, 'hex');
    o = buf.writeUInt16LE(fileNo.get(e.file)!, o);
    o = buf.writeUIntLE(e.offset, o, 6);
    o = buf.writeUInt32LE(e.length, o);
  }
  createHash('sha1').update(buf.subarray(0, o)).digest().copy(buf, o);
  return buf;
}

export function parseIndex(buf: Buffer, path: string): PackIndex {
  const bad = (why: string): StoreError =>
    new StoreError(
      `The pack index ${path} is damaged (${why}): the results packed in it cannot be found. ` +
        'Loose results are not affected; delete the packs directory and run `jug execute` to recompute the packed ones.',
    );
  if (buf.length < 8 + 4 + 2 + 4 + DIGEST_BYTES || !buf.subarray(0, 8).equals(INDEX_MAGIC)) throw bad('not a jug pack index');
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  if (!createHash('sha1').update(body).digest().equals(buf.subarray(body.length))) throw bad('checksum mismatch');
  let o = 8;
  const generation = buf.readUInt32LE(o);
  o += 4;
  const nFiles = buf.readUInt16LE(o);
  o += 2;
  const files: string[] = [];
  for (let i = 0; i < nFiles; i++) {
    const len = buf.readUInt8(o);
    files.push(buf.toString('latin1', o + 1, o + 1 + len));
    o += 1 + len;
  }
  const count = buf.readUInt32LE(o);
  o += 4;
  if (o + count * ENTRY_BYTES !== body.length) throw bad('wrong length');
  const hashes = Buffer.alloc(count * 20);
  const fileOf = new Uint16Array(count);
  const offsets = new Float64Array(count);
  const lengths = new Uint32Array(count);
  for (let i = 0; i < count; i++, o += ENTRY_BYTES) {
    buf.copy(hashes, i * 20, o, o + 20);
    fileOf[i] = buf.readUInt16LE(o + 20);
    offsets[i] = buf.readUIntLE(o + 22, 6);
    lengths[i] = buf.readUInt32LE(o + 28);
    if (fileOf[i]! >= nFiles) throw bad('entry names no data file');
  }
  return new PackIndex(generation, files, hashes, fileOf, offsets, lengths);
}

/** Hashes listed in a tombstone file's text (malformed or partial lines are ignored). */
function parseTombstones(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) if (/^[0-9a-f]{40}$/.test(line)) out.add(line);
  return out;
}

interface FileSig {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

function sigOf(path: string): FileSig | undefined {
  const st = fs.statSync(path, { throwIfNoEntry: false });
  return st === undefined ? undefined : { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

function sameSig(a: FileSig | undefined, b: FileSig | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** A packed result read back: its bytes and where they were, for messages. */
export interface PackedBytes {
  readonly bytes: Buffer;
  /** E.g. `<jugdir>/packs/1-0a1b2c3d.pack at offset 4120`. */
  readonly where: string;
  readonly entry: PackEntry;
}

/**
 * Reads packs, keeping the index in memory and re-reading it (and the tombstones) whenever their
 * files changed: two `stat` calls per look-up. One per FileStore.
 */
export class PackReader {
  readonly dir: string;
  #index: PackIndex | undefined;
  #indexSig: FileSig | undefined;
  #removed = new Set<string>();
  #removedSig: FileSig | undefined;
  #fds = new Map<string, number>();

  constructor(readonly jugdir: string) {
    this.dir = join(jugdir, 'packs');
  }

  get indexPath(): string {
    return join(this.dir, 'index');
  }

  removedPath(generation: number): string {
    return join(this.dir, `removed-${generation}`);
  }

  /** Brings the cached index and tombstones up to date; the index, or undefined if there is none. */
  refresh(): PackIndex | undefined {
    const sig = sigOf(this.indexPath);
    if (!sameSig(sig, this.#indexSig)) {
      this.#indexSig = sig;
      this.#index = undefined;
      this.#removedSig = undefined;
      this.#removed = new Set();
      if (sig !== undefined) {
        try {
          this.#index = parseIndex(fs.readFileSync(this.indexPath), this.indexPath);
        } catch (e) {
          this.#indexSig = undefined; // replaced between stat and read: read it again next time
          if (isCode(e, 'ENOENT')) return this.refresh();
          throw e;
        }
      }
    }
    const index = this.#index;
    if (index === undefined) return undefined;
    const path = this.removedPath(index.generation);
    const rsig = sigOf(path);
    if (!sameSig(rsig, this.#removedSig)) {
      this.#removedSig = rsig;
      try {
        this.#removed = rsig === undefined ? new Set() : parseTombstones(fs.readFileSync(path, 'latin1'));
      } catch (e) {
        if (!isCode(e, 'ENOENT')) throw e;
        this.#removed = new Set(); // folded into a newer index meanwhile: the next stat of the index sees it
      }
    }
    return index;
  }

  /** The live (not removed) entry of `hash`, looked up in the current index. */
  find(hash: string): PackEntry | undefined {
    const index = this.refresh();
    if (index === undefined) return undefined;
    const i = index.find(hash);
    if (i < 0 || this.#removed.has(hash)) return undefined;
    return index.entryAt(i);
  }

  /** Every live packed hash, added to `out`. */
  addLive(out: Set<string>): void {
    const index = this.refresh();
    if (index === undefined) return;
    for (let i = 0; i < index.size; i++) {
      const h = index.hashAt(i);
      if (!this.#removed.has(h)) out.add(h);
    }
  }

  /** The live entries of the current index, with the index (for a pack run, under the pack lock). */
  liveEntries(): { index: PackIndex | undefined; live: NewEntry[]; removed: number } {
    const index = this.refresh();
    if (index === undefined) return { index, live: [], removed: 0 };
    const live: NewEntry[] = [];
    for (let i = 0; i < index.size; i++) {
      const hash = index.hashAt(i);
      if (!this.#removed.has(hash)) live.push({ hash, ...index.entryAt(i) });
    }
    return { index, live, removed: index.size - live.length };
  }

  /** The bytes of `hash`'s packed result, or undefined if it is not packed. */
  read(hash: string): PackedBytes | undefined {
    for (let attempt = 0; ; attempt++) {
      const entry = this.find(hash);
      if (entry === undefined) return undefined;
      const path = join(this.dir, entry.file);
      let fd = this.#fds.get(entry.file);
      try {
        if (fd === undefined) {
          fd = fs.openSync(path, 'r');
          this.#fds.set(entry.file, fd);
        }
        const bytes = Buffer.allocUnsafe(entry.length);
        let got = 0;
        while (got < entry.length) {
          const n = fs.readSync(fd, bytes, got, entry.length - got, entry.offset + got);
          if (n === 0) break;
          got += n;
        }
        return { bytes: got === entry.length ? bytes : bytes.subarray(0, got), where: `${path} at offset ${entry.offset}`, entry };
      } catch (e) {
        // Merged into a newer data file by a pack run since our index was read: read the index again.
        if (isCode(e, 'ENOENT') && attempt < 3) {
          this.#indexSig = undefined;
          continue;
        }
        throw new StoreError(`Could not read the packed result of ${hash} from ${path}: ${(e as Error).message}.`);
      }
    }
  }

  /** Whether a pack index exists (a cheap check before taking the pack lock). */
  exists(): boolean {
    return fs.existsSync(this.indexPath);
  }

  close(): void {
    for (const fd of this.#fds.values()) {
      try {
        fs.closeSync(fd);
      } catch {
        // closed already
      }
    }
    this.#fds.clear();
  }
}

/** What the pack writer needs from the file store. */
export interface PackHost {
  readonly location: string;
  /** Flush data to disk (fsync) before it counts: the store's `fsync` option. */
  readonly fsync: boolean;
  readonly reader: PackReader;
  /** The lock `locks/pack.lock` (a FileLock: stale ones, of dead processes, are reclaimed). */
  packLock(): Lock;
  /** The loose results, by one listing. */
  listLoose(): Set<string>;
  resultPath(hash: string): string;
  /** Wraps a filesystem error with the store's hints. */
  fsError(e: unknown, what: string): StoreError;
}

/**
 * Runs `fn` holding the pack lock; waits while another live process holds it (a dead one's is
 * reclaimed by the lock itself).
 */
export async function withPackLock<T>(host: PackHost, fn: () => T | Promise<T>, waitMs = PACK_LOCK_WAIT_MS): Promise<T> {
  const lock = host.packLock();
  const end = Date.now() + waitMs;
  let pause = 5;
  while (!(await lock.get())) {
    if (Date.now() > end) {
      const path = join(host.location, 'locks', 'pack.lock');
      let who = '';
      try {
        const owner = parseLockOwner(fs.readFileSync(path, 'utf8'));
        if (owner !== undefined) who = ` (held by PID ${owner.pid} on ${owner.host})`;
      } catch {
        // gone meanwhile
      }
      throw new StoreError(
        `Waited ${Math.round(waitMs / 1000)} s for the pack lock ${path}${who}: another \`jug pack\` or a removal of packed ` +
          'results is still running. Run again when it has finished (a lock left by a process that died is reclaimed by itself).',
      );
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 500);
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Writes `data` to `path` through a temporary file: created, written, flushed, renamed. */
function writeFileDurably(host: PackHost, path: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
    }
    if (host.fsync) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw host.fsError(e, `write ${path}`);
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Appends tombstones for `hashes` to the current generation's `removed-<gen>` and flushes it.
 * Caller holds the pack lock. A line cut short by a crash is ended first, so it cannot swallow the
 * next hash.
 */
function appendTombstones(host: PackHost, generation: number, hashes: readonly string[]): void {
  if (hashes.length === 0) return;
  const path = host.reader.removedPath(generation);
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'a+', 0o644);
    const size = fs.fstatSync(fd).size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    fs.writeSync(fd, prefix + hashes.map((h) => `${h}\n`).join(''));
    if (host.fsync) fs.fsyncSync(fd);
  } catch (e) {
    throw host.fsError(e, `record the removal of packed results in ${path}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (host.fsync) fsyncDir(host.reader.dir);
}

/**
 * Removes packed results (tombstones, under the pack lock); returns the hashes that were packed.
 * Cheap when there is no pack at all (one `stat`).
 */
export async function removePacked(host: PackHost, hashes: Iterable<string>): Promise<Set<string>> {
  const removed = new Set<string>();
  if (!host.reader.exists()) return removed;
  const wanted = [...hashes];
  if (wanted.every((h) => host.reader.find(h) === undefined)) return removed;
  await withPackLock(host, () => {
    const index = host.reader.refresh();
    if (index === undefined) return;
    for (const h of wanted) if (host.reader.find(h) !== undefined) removed.add(h);
    appendTombstones(host, index.generation, [...removed]);
  });
  return removed;
}

/** What one `jug pack` did. */
export interface PackReport {
  /** Loose results moved into the pack. */
  readonly packed: number;
  /** Results in the pack afterwards. */
  readonly total: number;
  /** Loose results left loose: larger than the limit. */
  readonly tooLarge: number;
  /** Loose results left loose: their file does not decode (corrupt: `jug execute` recomputes it). */
  readonly corrupt: number;
  /** Data files of the pack afterwards. */
  readonly dataFiles: number;
  /** Bytes of the data files afterwards. */
  readonly bytes: number;
}

/** Options of {@link packLooseResults}. */
export interface PackOptions {
  /** Results whose file is larger than this stay loose. @default 65536 */
  readonly maxBytes?: number;
}

interface Candidate {
  readonly hash: string;
  readonly path: string;
  readonly bytes: Buffer;
  readonly ino: number;
  readonly dev: number;
}

/** Reads the loose results that go into the pack: small enough, and whole (framing and CRC good). */
function readCandidates(host: PackHost, maxBytes: number): { candidates: Candidate[]; tooLarge: number; corrupt: number } {
  const candidates: Candidate[] = [];
  let tooLarge = 0;
  let corrupt = 0;
  for (const hash of host.listLoose()) {
    const path = host.resultPath(hash);
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      if (isCode(e, 'ENOENT')) continue; // removed meanwhile
      throw host.fsError(e, `read ${path}`);
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.size > maxBytes) {
        tooLarge++;
        continue;
      }
      const bytes = Buffer.allocUnsafe(st.size);
      let got = 0;
      while (got < st.size) {
        const n = fs.readSync(fd, bytes, got, st.size - got, got);
        if (n === 0) break;
        got += n;
      }
      try {
        decodeResult(bytes.subarray(0, got), path, path);
      } catch (e) {
        if (!(e instanceof CorruptResultError)) throw e;
        corrupt++;
        continue;
      }
      candidates.push({ hash, path, bytes: bytes.subarray(0, got), ino: st.ino, dev: st.dev });
    } finally {
      fs.closeSync(fd);
    }
  }
  return { candidates, tooLarge, corrupt };
}

/**
 * `jug pack`: moves small loose results into the pack, safely while other processes run tasks,
 * load results and remove them. Under the pack lock:
 *
 * 1. read the current index and tombstones, and the loose results to pack (verified);
 * 2. write a new data file (the new results; and every live packed one too when there are
 *    tombstones or too many data files: then the old data files are merged away), flushed,
 *    renamed into `packs/`;
 * 3. write the new index (next generation) through a temporary file, flushed, renamed, and the
 *    directory flushed: from now on readers find the results in the pack;
 * 4. remove the old generation's tombstones and data files the new index does not name;
 * 5. unlink the packed loose files, each only if it is still the file that was read (same inode);
 *    one already gone was removed meanwhile (`jug invalidate`): its packed entry gets a tombstone.
 */
export async function packLooseResults(host: PackHost, options: PackOptions = {}): Promise<PackReport> {
  const maxBytes = options.maxBytes ?? DEFAULT_PACK_MAX_BYTES;
  fs.mkdirSync(host.reader.dir, { recursive: true });
  return withPackLock(host, () => packUnderLock(host, maxBytes));
}

function packUnderLock(host: PackHost, maxBytes: number): PackReport {
  const { reader } = host;
  const { index: old, live, removed } = reader.liveEntries();
  const { candidates, tooLarge, corrupt } = readCandidates(host, maxBytes);
  const oldFiles = old?.files ?? [];
  const merge = removed > 0 || (candidates.length > 0 && new Set(live.map((e) => e.file)).size + 1 > MAX_DATA_FILES);
  const summary = (entries: readonly NewEntry[]): PackReport => {
    const files = new Set(entries.map((e) => e.file));
    let bytes = 0;
    for (const f of files) bytes += fs.statSync(join(reader.dir, f), { throwIfNoEntry: false })?.size ?? 0;
    return { packed: candidates.length, total: entries.length, tooLarge, corrupt, dataFiles: files.size, bytes };
  };
  if (candidates.length === 0 && !merge) return summary(live);

  const generation = (old?.generation ?? 0) + 1;
  const dataName = `${generation}-${randomBytes(4).toString('hex')}.pack`;
  const { chunks, entries } = layOut(host, dataName, merge ? live : [], candidates);
  writeFileDurably(host, join(reader.dir, dataName), chunks);
  const kept = merge ? [] : live.filter((e) => !candidates.some((c) => c.hash === e.hash));
  const all = mergeEntries(kept, entries);
  writeFileDurably(host, reader.indexPath, [serializeIndex(generation, all)]);
  if (host.fsync) fsyncDir(reader.dir);
  reader.refresh();

  // The old generation's tombstones are folded in; data files no longer named can go.
  const named = new Set(all.map((e) => e.file));
  if (old !== undefined) fs.rmSync(reader.removedPath(old.generation), { force: true });
  for (const f of oldFiles) if (!named.has(f)) fs.rmSync(join(reader.dir, f), { force: true });

  unlinkPackedLoose(host, generation, candidates);
  removeEmptyShards(host, candidates);
  return summary(all);
}

/** The data file's bytes (magic, then each result verbatim) and the index entries for them. */
function layOut(
  host: PackHost,
  dataName: string,
  carried: readonly NewEntry[],
  candidates: readonly Candidate[],
): { chunks: Uint8Array[]; entries: NewEntry[] } {
  const chunks: Uint8Array[] = [DATA_MAGIC];
  const entries: NewEntry[] = [];
  let offset = DATA_MAGIC.length;
  const fresh = new Set(candidates.map((c) => c.hash));
  for (const e of carried) {
    if (fresh.has(e.hash)) continue; // a loose file wins: it replaces the packed entry
    const got = host.reader.read(e.hash);
    if (got === undefined) continue;
    chunks.push(got.bytes);
    entries.push({ hash: e.hash, file: dataName, offset, length: got.bytes.length });
    offset += got.bytes.length;
  }
  for (const c of candidates) {
    chunks.push(c.bytes);
    entries.push({ hash: c.hash, file: dataName, offset, length: c.bytes.length });
    offset += c.bytes.length;
  }
  return { chunks, entries };
}

function mergeEntries(kept: readonly NewEntry[], added: readonly NewEntry[]): NewEntry[] {
  const byHash = new Map<string, NewEntry>();
  for (const e of kept) byHash.set(e.hash, e);
  for (const e of added) byHash.set(e.hash, e);
  return [...byHash.values()];
}

/**
 * Step 5: unlink each packed loose file if it is still the one read. Gone: removed meanwhile by a
 * remover that did not see the pack yet: tombstone the entry. Another file (removed and computed
 * again meanwhile): it stays, and wins over the packed entry.
 */
function unlinkPackedLoose(host: PackHost, generation: number, candidates: readonly Candidate[]): void {
  const vanished: string[] = [];
  for (const c of candidates) {
    const st = fs.statSync(c.path, { throwIfNoEntry: false });
    if (st === undefined) {
      vanished.push(c.hash);
      continue;
    }
    if (st.ino !== c.ino || st.dev !== c.dev) continue;
    try {
      fs.unlinkSync(c.path);
    } catch (e) {
      if (isCode(e, 'ENOENT')) vanished.push(c.hash);
      else throw host.fsError(e, `remove ${c.path} (it is packed)`);
    }
  }
  appendTombstones(host, generation, vanished);
}

/** Removes shard directories the packing emptied (a writer that finds its shard gone makes it again). */
function removeEmptyShards(host: PackHost, candidates: readonly Candidate[]): void {
  const shards = new Set(candidates.map((c) => c.hash.slice(0, 2)));
  for (const s of shards) {
    try {
      fs.rmdirSync(join(host.location, s));
    } catch {
      // not empty (new results), or gone
    }
  }
}
