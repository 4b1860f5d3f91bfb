/**
 * Packs: many small results in a few files, for filesystems where a file per result hurts (NFS,
 * Lustre). Layout and protocol: docs/store-format.md, "Packs". The file store consults this
 * module when a loose result file is missing; `jug pack` calls {@link packLooseResults}.
 *
 *   <jugdir>/packs/index                the index: hash → (data file, offset, length); replaced whole (tmp + rename)
 *   <jugdir>/packs/<gen>-<8 hex>.pack   data: result files' bytes verbatim, one after another; never modified
 *   <jugdir>/packs/removed              tombstones: packed results removed since the index was written
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
import { decodeResult, decodeResultAt } from './encode.js';
import { parseLockOwner } from './lock-owner.js';
import type { Lock } from './store.js';
import { fsyncDir } from './sync-fs.js';

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

/** Value of each (lower-case, as jug writes hashes) hex digit's char code; -1 for anything else. */
const HEX_VALUE = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let d = 0; d < 16; d++) {
    t['0123456789abcdef'.charCodeAt(d)] = d;
  }
  return t;
})();

/** Value of the hex digit with char code `c`; -1 if it is not one. */
function hexDigit(c: number): number {
  return c < 128 ? HEX_VALUE[c]! : -1;
}

/** Slot of a hash in a table of 2^bits slots, from its first and last 32-bit words (SHA-1: uniform). */
function slotOf(first: number, last: number, bits: number): number {
  return Math.imul(first ^ last, 0x9e3779b1 | 0) >>> (32 - bits);
}

/**
 * A parsed index: entries sorted by hash, kept as the index's own bytes (no object per entry).
 * Found through a Map from hash to entry number, built once when the index is read from one hex
 * string of all entries (a look-up is then one Map.get, fast even before V8 has optimized the
 * caller: the first pass over a pack matters); an index of more than `mapMaxEntries` entries
 * through an open-addressing table of entry numbers instead (no string per entry).
 */
export class PackIndex {
  /** Indexes of more entries than this are looked up through the table (tests lower it). */
  static mapMaxEntries = 262_144;

  readonly #buf: Buffer;
  /** Offset of entry 0 in #buf. */
  readonly #base: number;
  readonly #count: number;
  readonly #byHash: Map<string, number> | undefined;
  /** Entry number + 1 per slot (0: empty); 2^#bits slots, at least twice the entries. */
  readonly #table: Int32Array | undefined;
  readonly #bits: number = 0;

  constructor(
    readonly generation: number,
    readonly files: readonly string[],
    buf: Buffer,
    base: number,
    count: number,
  ) {
    this.#buf = buf;
    this.#base = base;
    this.#count = count;
    if (count <= PackIndex.mapMaxEntries) {
      const hex = buf.toString('hex', base, base + count * ENTRY_BYTES);
      const byHash = new Map<string, number>();
      for (let i = 0; i < count; i++) byHash.set(hex.slice(i * 2 * ENTRY_BYTES, i * 2 * ENTRY_BYTES + 40), i);
      this.#byHash = byHash;
      return;
    }
    let bits = 4;
    while (1 << bits < count * 2) bits++;
    this.#bits = bits;
    const mask = (1 << bits) - 1;
    const table = new Int32Array(1 << bits);
    for (let i = 0, o = base; i < count; i++, o += ENTRY_BYTES) {
      const first = (buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!;
      const last = (buf[o + 16]! << 24) | (buf[o + 17]! << 16) | (buf[o + 18]! << 8) | buf[o + 19]!;
      let s = slotOf(first, last, bits);
      while (table[s] !== 0) s = (s + 1) & mask;
      table[s] = i + 1;
    }
    this.#table = table;
  }

  get size(): number {
    return this.#count;
  }

  /** Position of `hash` (40 lower-case hex digits) or -1. */
  find(hash: string): number {
    if (this.#byHash !== undefined) return this.#byHash.get(hash) ?? -1;
    if (hash.length !== 40) return -1;
    // The first and last 32-bit words (int32); `bad` turns negative at a character that is not hex.
    let first = 0;
    let last = 0;
    let bad = 0;
    for (let k = 0; k < 8; k++) {
      const d = hexDigit(hash.charCodeAt(k));
      const e = hexDigit(hash.charCodeAt(32 + k));
      bad |= d | e;
      first = (first << 4) | (d & 15);
      last = (last << 4) | (e & 15);
    }
    if (bad < 0) return -1;
    const mask = (1 << this.#bits) - 1;
    const table = this.#table!;
    for (let s = slotOf(first, last, this.#bits); ; s = (s + 1) & mask) {
      const v = table[s]!;
      if (v === 0) return -1;
      if (this.#holds(v - 1, hash)) return v - 1;
    }
  }

  /** Whether entry `i` is of `hash` (40 hex digits). */
  #holds(i: number, hash: string): boolean {
    const buf = this.#buf;
    const o = this.#base + i * ENTRY_BYTES;
    for (let j = 0; j < 20; j++) {
      const hi = hexDigit(hash.charCodeAt(2 * j));
      const lo = hexDigit(hash.charCodeAt(2 * j + 1));
      if ((hi | lo) < 0 || ((hi << 4) | lo) !== buf[o + j]) return false;
    }
    return true;
  }

  hashAt(i: number): string {
    const o = this.#base + i * ENTRY_BYTES;
    return this.#buf.toString('hex', o, o + 20);
  }

  /** Data file number (into `files`) of entry `i`. */
  fileAt(i: number): number {
    const o = this.#base + i * ENTRY_BYTES + 20;
    return this.#buf[o]! | (this.#buf[o + 1]! << 8);
  }

  offsetAt(i: number): number {
    const b = this.#buf;
    const o = this.#base + i * ENTRY_BYTES + 22;
    const lo = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
    return lo + (b[o + 4]! | (b[o + 5]! << 8)) * 4294967296; // 2^32
  }

  lengthAt(i: number): number {
    const b = this.#buf;
    const o = this.#base + i * ENTRY_BYTES + 28;
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  }

  entryAt(i: number): PackEntry {
    return { file: this.files[this.fileAt(i)]!, offset: this.offsetAt(i), length: this.lengthAt(i) };
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
  for (let i = 0, e = o + 20; i < count; i++, e += ENTRY_BYTES) {
    if ((buf[e]! | (buf[e + 1]! << 8)) >= nFiles) throw bad('entry names no data file');
  }
  return new PackIndex(generation, files, buf, o, count);
}

/** First line of the tombstone file: the index generation its removals apply to. */
function tombstoneHeader(generation: number): string {
  return `jug pack removals for generation ${generation}\n`;
}

/**
 * A tombstone file's text: the generation it applies to (from its first line; -1 if the line is
 * missing or damaged) and the hashes listed (malformed or partial lines are ignored).
 */
export function parseTombstones(text: string): { generation: number; hashes: Set<string> } {
  const nl = text.indexOf('\n');
  const m = /^jug pack removals for generation (\d+)$/.exec(nl < 0 ? '' : text.slice(0, nl));
  const hashes = new Set<string>();
  for (const line of text.slice(nl + 1).split('\n')) if (/^[0-9a-f]{40}$/.test(line)) hashes.add(line);
  return { generation: m === null ? -1 : Number(m[1]), hashes };
}

interface FileSig {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

function sigOf(path: string): FileSig | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    if (isCode(e, 'ENOTDIR')) return undefined; // the jugdir (or packs/) is a file: no pack
    throw e;
  }
  return st === undefined ? undefined : { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

function sameSig(a: FileSig | undefined, b: FileSig | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** PackReader.decodeCached(): not decoded from memory (the caller takes the full path). */
export const PACK_MISS: unique symbol = Symbol('not in the cached pack');

/** A packed result read back: its bytes and where they were, for messages. */
export interface PackedBytes {
  readonly bytes: Buffer;
  /** E.g. `<jugdir>/packs/1-0a1b2c3d.pack at offset 4120`. */
  readonly where: string;
  /** The data file. */
  readonly path: string;
  readonly entry: PackEntry;
}

/**
 * A hit in the cached index is trusted for this long after the tombstone file was last checked
 * (a `stat` per read cost more than the read itself): a packed result removed by another process
 * may still be read by a running process for this long, as an NFS client's attribute cache lets
 * a removed loose file be read for seconds. A hash not in the cached index is always looked up
 * afresh, and this process's own removals are seen at once.
 */
const RECHECK_MS = 100;

/** After this many reads from one data file, it is read whole and kept in memory (if not larger than SLURP_MAX_BYTES). */
const SLURP_AFTER_READS = 32;
const SLURP_MAX_BYTES = 64 * 1024 * 1024;
/** A data file this small is read whole at its first read (one read instead of many; packs of tiny results are ~20 bytes per result). */
const SLURP_AT_ONCE_BYTES = 1024 * 1024;

/** An open data file: read entry by entry, or whole once many of its entries were read. */
interface DataFile {
  fd: number;
  reads: number;
  whole?: Buffer;
}

/**
 * Reads packs, keeping the index, the removals and busy data files in memory. Whether anything
 * changed is told by one `stat` of the tombstone file `packs/removed`: a pack run replaces it
 * (a new inode) after publishing a new index, and a removal appends to it. A hash not in the
 * index is looked up again after re-reading the index itself (it may have been packed since).
 * One per FileStore.
 */
export class PackReader {
  readonly dir: string;
  #index: PackIndex | undefined;
  #indexSig: FileSig | undefined;
  #removed = new Set<string>();
  /** The tombstone file's signature when #index and #removed were read; undefined: re-read next time. */
  #removedSig: FileSig | undefined;
  #files = new Map<string, DataFile>();
  /** Data file name → its path. */
  #paths = new Map<string, string>();
  /** When (performance.now()) the tombstone file was last seen unchanged. */
  #checkedAt = Number.NEGATIVE_INFINITY;
  /** The data files of #wholesOf held in memory, by file number (decodeCached's shortcut past #files). */
  #wholes: (Buffer | undefined)[] = [];
  #wholesOf: PackIndex | undefined;
  /** Whether the index was looked for at least once. */
  #looked = false;

  constructor(readonly jugdir: string) {
    this.dir = join(jugdir, 'packs');
  }

  get indexPath(): string {
    return join(this.dir, 'index');
  }

  get removedPath(): string {
    return join(this.dir, 'removed');
  }

  /** The index and removals as of now (one `stat` when nothing changed); undefined: no pack. */
  current(): PackIndex | undefined {
    if (this.#index !== undefined && this.#removedSig !== undefined) {
      const now = performance.now();
      if (now - this.#checkedAt < RECHECK_MS) return this.#index;
      if (sameSig(sigOf(this.removedPath), this.#removedSig)) {
        this.#checkedAt = now;
        return this.#index;
      }
    }
    return this.reload();
  }

  /**
   * Reads the index and the removals again where their files changed (a `stat` of each). The
   * tombstone file is stat-ed before the index is read: a pack run publishing meanwhile replaces
   * it afterwards, so the next check sees it change.
   */
  reload(): PackIndex | undefined {
    this.#looked = true;
    // No pack (most jugdirs): one stat per look (`has()` of every task not stored comes here).
    if (sigOf(this.indexPath) === undefined) return this.#noPack();
    const rsig = sigOf(this.removedPath);
    const isig = sigOf(this.indexPath);
    if (isig === undefined) return this.#noPack();
    if (this.#index === undefined || !sameSig(isig, this.#indexSig)) {
      try {
        this.#index = parseIndex(fs.readFileSync(this.indexPath), this.indexPath);
        this.#indexSig = isig;
      } catch (e) {
        if (!isCode(e, 'ENOENT', 'ENOTDIR')) throw e;
        return this.reload(); // removed between the stat and the read
      }
      this.#removedSig = undefined;
    }
    const index = this.#index;
    if (this.#removedSig !== undefined && sameSig(rsig, this.#removedSig)) return index;
    let text = '';
    try {
      text = rsig === undefined ? '' : fs.readFileSync(this.removedPath, 'latin1');
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e;
    }
    const tomb = parseTombstones(text);
    const ours = tomb.generation === index.generation;
    this.#removed = ours ? tomb.hashes : new Set();
    // Not this generation's (the previous one's, folded into this index, or replaced since the
    // stat): no removals yet, and check again next time.
    this.#removedSig = ours && rsig !== undefined && text.length === rsig.size ? rsig : undefined;
    this.#checkedAt = performance.now();
    return index;
  }

  #noPack(): undefined {
    this.#index = undefined;
    this.#indexSig = undefined;
    this.#removedSig = undefined;
    this.#removed = new Set();
    return undefined;
  }

  /** Whether the index as last read holds `hash` (no file system access: a hint, not an answer). */
  mayHold(hash: string): boolean {
    if (!this.#looked) {
      this.#looked = true;
      this.reload(); // once: whether there is a pack at all
    }
    return this.#index !== undefined && this.#index.find(hash) >= 0;
  }

  /**
   * The live (not removed) entry of `hash`. `fresh`: the caller found no loose file, so a hash not
   * in the index as cached is looked up in the index read again.
   */
  find(hash: string, fresh = true): PackEntry | undefined {
    let index = this.current();
    let i = index === undefined ? -1 : index.find(hash);
    if (i < 0 && fresh && index !== undefined && this.#index === index) {
      index = this.reload();
      i = index === undefined ? -1 : index.find(hash);
    }
    if (index === undefined || i < 0 || this.#removed.has(hash)) return undefined;
    return index.entryAt(i);
  }

  /** Every live packed hash, added to `out` (the index read again). */
  addLive(out: Set<string>): void {
    const index = this.reload();
    if (index === undefined) return;
    for (let i = 0; i < index.size; i++) {
      const h = index.hashAt(i);
      if (!this.#removed.has(h)) out.add(h);
    }
  }

  /** The live entries of the current index, with the index (for a pack run, under the pack lock). */
  liveEntries(): { index: PackIndex | undefined; live: NewEntry[]; removed: number } {
    const index = this.reload();
    if (index === undefined) return { index, live: [], removed: 0 };
    const live: NewEntry[] = [];
    for (let i = 0; i < index.size; i++) {
      const hash = index.hashAt(i);
      if (!this.#removed.has(hash)) live.push({ hash, ...index.entryAt(i) });
    }
    return { index, live, removed: index.size - live.length };
  }

  /**
   * The value of `hash`'s live packed result if the index as cached holds it and its data file
   * is held in memory, else PACK_MISS: the hot path of loading packed results (a look-up in memory
   * and a decode in place; no system call while the cache is fresh, see RECHECK_MS). Any doubt —
   * a stale cache, a data file not in memory, damage — is a miss, left to {@link read} and the
   * caller's full path, which report it.
   */
  decodeCached(hash: string): unknown {
    if (!this.#looked) this.mayHold(hash);
    const index = this.#index;
    if (index === undefined) return PACK_MISS;
    const i = index.find(hash);
    if (i < 0 || this.current() !== index || (this.#removed.size > 0 && this.#removed.has(hash))) return PACK_MISS;
    const whole = this.#wholesOf === index ? this.#wholes[index.fileAt(i)] : undefined;
    return whole === undefined ? this.#decodeOpening(index, i, hash) : this.#decodeIn(whole, index, i, hash);
  }

  /**
   * decodeCached() of many hashes in one loop: `out[k]` gets the value of `hashes[k]`, or
   * PACK_MISS (then the caller loads it the full way). One freshness check for the whole batch,
   * and one loop that V8 optimizes while it runs (on-stack replacement), instead of thousands of
   * calls each run by the interpreter first: loading all of a pack's small results is then
   * bounded by decoding, not by compiling and calling. Returns how many were misses.
   */
  decodeManyCached(hashes: readonly string[], out: unknown[]): number {
    if (hashes.length === 0) return 0;
    if (!this.#looked) this.mayHold(hashes[0]!);
    const index = this.#index;
    if (index === undefined || this.current() !== index) return out.fill(PACK_MISS, 0, hashes.length), hashes.length;
    const removed = this.#removed.size > 0 ? this.#removed : undefined;
    let misses = 0;
    for (let k = 0; k < hashes.length; k++) {
      const hash = hashes[k]!;
      const i = index.find(hash);
      let v: unknown = PACK_MISS;
      if (i >= 0 && (removed === undefined || !removed.has(hash))) {
        const whole = this.#wholesOf === index ? this.#wholes[index.fileAt(i)] : undefined;
        if (whole === undefined) v = this.#decodeOpening(index, i, hash);
        else {
          try {
            v = decodeResultAt(whole, index.offsetAt(i), index.lengthAt(i), hash);
          } catch {
            v = PACK_MISS; // damage: the full path reports it
          }
        }
      }
      if (v === PACK_MISS) misses++;
      out[k] = v;
    }
    return misses;
  }

  #decodeIn(whole: Buffer, index: PackIndex, i: number, hash: string): unknown {
    try {
      return decodeResultAt(whole, index.offsetAt(i), index.lengthAt(i), hash);
    } catch {
      return PACK_MISS;
    }
  }

  /** decodeCached() when the entry's data file is not yet held for this index: opened (and read whole if small) first. */
  #decodeOpening(index: PackIndex, i: number, hash: string): unknown {
    try {
      if (this.#wholesOf !== index) {
        this.#wholesOf = index;
        this.#wholes = [];
      }
      const fileNo = index.fileAt(i);
      const name = index.files[fileNo]!;
      const whole = (this.#files.get(name) ?? this.#open(name, this.#pathOf(name))).whole;
      if (whole === undefined) return PACK_MISS;
      this.#wholes[fileNo] = whole;
      return this.#decodeIn(whole, index, i, hash);
    } catch {
      return PACK_MISS;
    }
  }

  /** The bytes of `hash`'s packed result, or undefined if it is not packed. */
  read(hash: string): PackedBytes | undefined {
    for (let attempt = 0; ; attempt++) {
      const entry = this.find(hash);
      if (entry === undefined) return undefined;
      const path = this.#pathOf(entry.file);
      try {
        const bytes = this.#readEntry(path, entry);
        return { bytes, where: `${path} at offset ${entry.offset}`, path, entry };
      } catch (e) {
        // Merged into a newer data file by a pack run since our index was read: read the index again.
        if (isCode(e, 'ENOENT') && attempt < 3) {
          this.#removedSig = undefined;
          continue;
        }
        throw new StoreError(`Could not read the packed result of ${hash} from ${path}: ${(e as Error).message}.`);
      }
    }
  }

  #pathOf(name: string): string {
    let path = this.#paths.get(name);
    if (path === undefined) this.#paths.set(name, (path = join(this.dir, name)));
    return path;
  }

  /** Opens data file `name` (read whole at once if small). */
  #open(name: string, path: string): DataFile {
    const file: DataFile = { fd: fs.openSync(path, 'r'), reads: 0 };
    this.#files.set(name, file);
    const { size } = fs.fstatSync(file.fd);
    if (size <= SLURP_AT_ONCE_BYTES) file.whole = readAt(file.fd, 0, size);
    return file;
  }

  #readEntry(path: string, entry: PackEntry): Buffer {
    const file = this.#files.get(entry.file) ?? this.#open(entry.file, path);
    if (file.whole === undefined && ++file.reads > SLURP_AFTER_READS) {
      const { size } = fs.fstatSync(file.fd);
      if (size <= SLURP_MAX_BYTES) file.whole = readAt(file.fd, 0, size);
    }
    if (file.whole !== undefined) return file.whole.subarray(entry.offset, entry.offset + entry.length);
    return readAt(file.fd, entry.offset, entry.length);
  }

  close(): void {
    for (const f of this.#files.values()) {
      try {
        fs.closeSync(f.fd);
      } catch {
        // closed already
      }
    }
    this.#files.clear();
  }
}

/** `length` bytes of `fd` from `offset` (fewer at the end of the file: then the CRC check fails). */
function readAt(fd: number, offset: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, bytes, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? bytes : bytes.subarray(0, got);
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


/**
 * Records the removal of packed `hashes` in `packs/removed`, flushed. Caller holds the pack lock.
 * The file belongs to one index generation (its first line): a file of another generation (left
 * by a pack run that died before replacing it) is replaced by one of this generation. A line cut
 * short by a crash is ended first, so that it cannot swallow the next hash.
 */
function appendTombstones(host: PackHost, generation: number, hashes: readonly string[]): void {
  const path = host.reader.removedPath;
  let text = '';
  try {
    text = fs.readFileSync(path, 'latin1');
  } catch (e) {
    if (!isCode(e, 'ENOENT')) throw host.fsError(e, `read ${path}`);
  }
  if (parseTombstones(text).generation !== generation) {
    writeFileDurably(host, path, [Buffer.from(tombstoneHeader(generation) + hashes.map((h) => `${h}\n`).join(''), 'latin1')]);
    if (host.fsync) fsyncDir(host.reader.dir);
    return;
  }
  if (hashes.length === 0) return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'a', 0o644);
    const prefix = text.endsWith('\n') ? '' : '\n';
    fs.writeSync(fd, prefix + hashes.map((h) => `${h}\n`).join(''));
    if (host.fsync) fs.fsyncSync(fd);
  } catch (e) {
    throw host.fsError(e, `record the removal of packed results in ${path}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Removes packed results (tombstones, under the pack lock); returns the hashes that were packed.
 * Cheap when there is no pack at all (one `stat`). Called after the loose files were unlinked.
 */
export async function removePacked(host: PackHost, hashes: Iterable<string>): Promise<Set<string>> {
  const removed = new Set<string>();
  const wanted = [...hashes];
  if (host.reader.current() === undefined && host.reader.reload() === undefined) return removed;
  if (wanted.every((h) => host.reader.find(h) === undefined)) return removed;
  await withPackLock(host, () => {
    const index = host.reader.reload();
    if (index === undefined) return;
    for (const h of wanted) if (host.reader.find(h) !== undefined) removed.add(h);
    if (removed.size > 0) appendTombstones(host, index.generation, [...removed]);
    host.reader.reload(); // this process sees its own removals at once
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
  /** Loose results left for the next run: this run packed `maxRunBytes` already. */
  readonly left: number;
  /** Data files of the pack afterwards. */
  readonly dataFiles: number;
  /** Bytes of the data files afterwards. */
  readonly bytes: number;
}

/** Options of {@link packLooseResults}. */
export interface PackOptions {
  /** Results whose file is larger than this stay loose. @default 65536 */
  readonly maxBytes?: number;
  /**
   * At most this many bytes of loose results are packed by one run (they are held in memory);
   * the rest wait for the next run (`PackReport.left`). @default 268435456 (256 MiB)
   */
  readonly maxRunBytes?: number;
}

interface Candidate {
  readonly hash: string;
  readonly path: string;
  readonly bytes: Buffer;
  readonly ino: number;
  readonly dev: number;
}

/** Reads the loose results that go into the pack: small enough, and whole (framing and CRC good). */
function readCandidates(
  host: PackHost,
  maxBytes: number,
  maxRunBytes: number,
): { candidates: Candidate[]; tooLarge: number; corrupt: number; left: number } {
  const candidates: Candidate[] = [];
  let tooLarge = 0;
  let corrupt = 0;
  let left = 0;
  let total = 0;
  for (const hash of host.listLoose()) {
    if (total >= maxRunBytes) {
      left++;
      continue;
    }
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
      total += got;
    } finally {
      fs.closeSync(fd);
    }
  }
  return { candidates, tooLarge, corrupt, left };
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
  const maxRunBytes = options.maxRunBytes ?? DEFAULT_RUN_MAX_BYTES;
  fs.mkdirSync(host.reader.dir, { recursive: true });
  return withPackLock(host, () => packUnderLock(host, maxBytes, maxRunBytes));
}

/** Default of PackOptions.maxRunBytes. */
const DEFAULT_RUN_MAX_BYTES = 256 * 1024 * 1024;

function packUnderLock(host: PackHost, maxBytes: number, maxRunBytes: number): PackReport {
  const { reader } = host;
  const { index: old, live, removed } = reader.liveEntries();
  const { candidates, tooLarge, corrupt, left } = readCandidates(host, maxBytes, maxRunBytes);
  const oldFiles = old?.files ?? [];
  const merge = removed > 0 || (candidates.length > 0 && new Set(live.map((e) => e.file)).size + 1 > MAX_DATA_FILES);
  const summary = (entries: readonly NewEntry[]): PackReport => {
    const files = new Set(entries.map((e) => e.file));
    let bytes = 0;
    for (const f of files) bytes += fs.statSync(join(reader.dir, f), { throwIfNoEntry: false })?.size ?? 0;
    return { packed: candidates.length, total: entries.length, tooLarge, corrupt, left, dataFiles: files.size, bytes };
  };
  if (candidates.length === 0 && !merge) return summary(live);

  const generation = (old?.generation ?? 0) + 1;
  const dataName = `${generation}-${randomBytes(4).toString('hex')}.pack`;
  const { chunks, entries } = layOut(host, dataName, merge ? live : [], candidates);
  writeFileDurably(host, join(reader.dir, dataName), chunks);
  const fresh = new Set(candidates.map((c) => c.hash));
  const kept = merge ? [] : live.filter((e) => !fresh.has(e.hash));
  const all = mergeEntries(kept, entries);
  writeFileDurably(host, reader.indexPath, [serializeIndex(generation, all)]);
  if (host.fsync) fsyncDir(reader.dir);
  // The old generation's removals are folded in: a new, empty tombstone file (a new inode, which
  // tells readers to read the index again). Then data files no longer named can go.
  appendTombstones(host, generation, []);
  reader.reload();
  const named = new Set(all.map((e) => e.file));
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
 * again meanwhile): it stays, and the entry is tombstoned too, so that a live packed entry and a
 * loose file of the same hash always hold the same result.
 */
function unlinkPackedLoose(host: PackHost, generation: number, candidates: readonly Candidate[]): void {
  const vanished: string[] = [];
  for (const c of candidates) {
    const st = fs.statSync(c.path, { throwIfNoEntry: false });
    if (st === undefined || st.ino !== c.ino || st.dev !== c.dev) {
      vanished.push(c.hash);
      continue;
    }
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
