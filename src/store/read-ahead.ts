/**
 * Reading many large results at once (FileStore.loadMany, e.g. a task whose argument is an array
 * of 50 tasks returning 2-MiB typed arrays): their files are read in libuv's pool, up to
 * READ_LANES at a time, while the main thread checks the CRC of those already read.
 *
 * Why (docs/design.md, "Reloading big results"): reading into new memory costs one page fault per
 * 4 KiB (~9 ms per 2 MiB on the VMs measured), which no reuse of memory can avoid when the reader
 * needs every array alive at once. In the pool these faults are taken on other threads, so on a
 * machine with a free core they overlap each other and the main thread's CRC checks.
 *
 * Two kinds of file take this path, typed arrays only (a plain number[] is built on V8's heap by
 * the main thread, from a reused buffer: nothing to move): uncompressed ones ('N', codec 0), read
 * straight into a new array; and compressed ones ('N', codecs 1 and 2) of at least POOL_MIN_BYTES
 * decompressed, whose (small) file is read, then decompressed by zlib in the pool into new memory
 * that becomes the array's own (encode.ts, typedFromInflated: the main thread only unshuffles,
 * through a reused buffer). A file that is anything else, smaller, missing, unreadable or damaged
 * gives undefined, and the caller then loads it the ordinary way, which reports any error as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import {
  HEADER_BYTES,
  NUMERIC_STORED,
  PREFIX_NUMERIC,
  STORED_HEAD_BYTES,
  typedFromInflated,
  packedNumericOf,
  storedDataMatches,
  storedNumericKind,
  uninitialized,
  type NumericArray,
  type PackedNumeric,
} from './encode.js';

/** Files at most this many at a time: libuv's pool has 4 threads by default. */
export const READ_LANES = 4;
/** Below this, the pool's round trips cost more than the page faults they would move. */
export const POOL_MIN_BYTES = 256 * 1024;
/** Compressed files larger than this are left to the ordinary path (read whole here first). */
const PACKED_MAX_FILE_BYTES = 64 * 1024 * 1024;

const open = promisify(fs.open);
const fstat = promisify(fs.fstat);
const read = promisify(fs.read);
const close = promisify(fs.close);
const littleEndian = os.endianness() === 'LE';

/** Whether a value just loaded is one that announces more like it (a large typed array). */
export function isLargeTypedArray(value: unknown): boolean {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && value.byteLength >= POOL_MIN_BYTES;
}

/**
 * Starts reading `paths` in the pool, READ_LANES at a time, in the order given. Each promise
 * gives the typed array, or undefined (load that one the ordinary way); none rejects.
 */
export function readAheadInPool(paths: readonly string[]): Promise<NumericArray | undefined>[] {
  const lanes: Promise<unknown>[] = Array.from({ length: READ_LANES }, () => Promise.resolve());
  return paths.map((path, i) => {
    const next = lanes[i % READ_LANES]!.then(() => readNumericAhead(path));
    lanes[i % READ_LANES] = next;
    return next;
  });
}

/** The typed array at `path`, read (and decompressed) in the pool; undefined on anything else or any doubt. */
export async function readNumericAhead(path: string): Promise<NumericArray | undefined> {
  if (!littleEndian) return undefined;
  let fd: number;
  try {
    fd = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return await readOpened(fd);
  } catch {
    return undefined;
  } finally {
    close(fd).catch(() => undefined);
  }
}

async function readOpened(fd: number): Promise<NumericArray | undefined> {
  const size = (await fstat(fd)).size;
  if (size < STORED_HEAD_BYTES) return undefined;
  const head = Buffer.allocUnsafe(STORED_HEAD_BYTES);
  if (!(await readFully(fd, head, 0))) return undefined;
  if (head[0] === PREFIX_NUMERIC && head[HEADER_BYTES + 1] !== NUMERIC_STORED) return readPacked(fd, size, head);
  return size < POOL_MIN_BYTES ? undefined : readStored(fd, size, head);
}

/** A stored typed array (not a plain number[]: that is built from a reused buffer on the main thread). */
async function readStored(fd: number, size: number, head: Buffer): Promise<NumericArray | undefined> {
  const kind = storedNumericKind(head, size);
  if (kind === undefined || kind.plain) return undefined;
  const typed = uninitialized(kind.ctor, size - STORED_HEAD_BYTES);
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  if (!(await readFully(fd, bytes, STORED_HEAD_BYTES)) || !storedDataMatches(head, bytes)) return undefined;
  return typed;
}

/** A compressed typed array: the whole file read and checked, then decompressed in the pool. */
async function readPacked(fd: number, size: number, head: Buffer): Promise<NumericArray | undefined> {
  if (size > PACKED_MAX_FILE_BYTES) return undefined;
  const file = Buffer.allocUnsafe(size);
  head.copy(file);
  if (!(await readFully(fd, file.subarray(STORED_HEAD_BYTES), STORED_HEAD_BYTES))) return undefined;
  const packed = packedNumericOf(file);
  if (packed === undefined || packed.plain || packed.rawBytes < POOL_MIN_BYTES) return undefined;
  const inflated = await decompressInPool(packed);
  return inflated?.length === packed.rawBytes ? typedFromInflated(packed, inflated) : undefined;
}

/**
 * zlib's asynchronous one-shot call (the work runs in libuv's pool), with one output chunk of
 * exactly the stated size: the output is then a Buffer with an ArrayBuffer of its own. Undefined
 * on any error (damage is reported by the ordinary path).
 */
async function decompressInPool(p: PackedNumeric): Promise<Buffer | undefined> {
  const zlib = await import('node:zlib');
  const options = { chunkSize: Math.max(p.rawBytes, 64), maxOutputLength: Math.max(p.rawBytes, 1) };
  return new Promise((resolve) => {
    const done = (e: Error | null, out: Buffer): void => resolve(e === null ? out : undefined);
    if (p.how === 'brotli') zlib.brotliDecompress(p.stream, options, done);
    else zlib.inflateRaw(p.stream, options, done);
  });
}

/** Reads exactly `into.length` bytes of `fd` at `position`; false if the file ends first. */
async function readFully(fd: number, into: Uint8Array, position: number): Promise<boolean> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await read(fd, into, done, into.length - done, position + done);
    if (bytesRead === 0) return false;
    done += bytesRead;
  }
  return true;
}
