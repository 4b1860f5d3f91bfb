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
 * Only uncompressed typed arrays ('N', codec 0, not a plain number[]) take this path; a file that
 * is anything else, smaller than POOL_MIN_BYTES, missing, unreadable or damaged gives undefined,
 * and the caller then loads it the ordinary way, which reports any error as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { STORED_HEAD_BYTES, storedDataMatches, storedNumericKind, uninitialized, type NumericArray } from './encode.js';

/** Files at most this many at a time: libuv's pool has 4 threads by default. */
export const READ_LANES = 4;
/** Below this, the pool's round trips cost more than the page faults they would move. */
export const POOL_MIN_BYTES = 256 * 1024;

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
 * gives the stored typed array, or undefined (load that one the ordinary way); none rejects.
 */
export function readAheadInPool(paths: readonly string[]): Promise<NumericArray | undefined>[] {
  const lanes: Promise<unknown>[] = Array.from({ length: READ_LANES }, () => Promise.resolve());
  return paths.map((path, i) => {
    const next = lanes[i % READ_LANES]!.then(() => readStoredTypedArray(path));
    lanes[i % READ_LANES] = next;
    return next;
  });
}

/** The stored typed array at `path`, read in the pool; undefined on anything else or any doubt. */
export async function readStoredTypedArray(path: string): Promise<NumericArray | undefined> {
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
  if (size < POOL_MIN_BYTES) return undefined;
  const head = Buffer.allocUnsafe(STORED_HEAD_BYTES);
  const kind = (await readFully(fd, head, 0)) ? storedNumericKind(head, size) : undefined;
  if (kind === undefined || kind.plain) return undefined;
  const typed = uninitialized(kind.ctor, size - STORED_HEAD_BYTES);
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  if (!(await readFully(fd, bytes, STORED_HEAD_BYTES)) || !storedDataMatches(head, bytes)) return undefined;
  return typed;
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
