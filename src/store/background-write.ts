/**
 * Writing an encoded result to its temporary file: small ones with one synchronous `writev`, large
 * ones in libuv's pool, so that copying them into the page cache (~5 ms per 2 MiB on this
 * project's VM: fresh page-cache pages cost page faults) overlaps the next task instead of
 * delaying it (docs/design.md, "Big results: what bounds them on this VM").
 *
 * A write in the pool may still be under way when task code runs again, which could change the
 * value written. Bytes that are the value's own memory (`EncodedResult.borrowed`: a typed array
 * stored as it is) are therefore first copied, synchronously, into a staging buffer that is
 * reused from one result to the next (new memory would cost the same page faults again); the CRC
 * in the header was computed in the same synchronous step, so the file always holds the value as
 * it was when the task returned. Without room for a staging buffer, the write is synchronous.
 */
import fs from 'node:fs';
import type { EncodedResult } from './encode.js';

/** Results of at least this many bytes are written in libuv's pool; smaller ones synchronously. */
export const BACKGROUND_WRITE_MIN_BYTES = 256 * 1024;
/** Staging buffers alive (in use or free) hold at most this many bytes in all. */
const STAGING_MAX_BYTES = 64 * 1024 * 1024;
/** Staging buffers are allocated in multiples of this, so that results of similar sizes share them. */
const STAGING_GRAIN = 64 * 1024;

const freeStaging: Uint8Array[] = [];
let stagingBytes = 0;

/** A staging buffer of at least `n` bytes (the smallest free one that fits, else a new one), or undefined when over budget. */
function takeStaging(n: number): Uint8Array | undefined {
  let best = -1;
  for (let i = 0; i < freeStaging.length; i++) {
    const len = freeStaging[i]!.length;
    if (len >= n && (best < 0 || len < freeStaging[best]!.length)) best = i;
  }
  if (best >= 0) return freeStaging.splice(best, 1)[0];
  const size = Math.ceil(n / STAGING_GRAIN) * STAGING_GRAIN;
  // Free buffers too small for this result make room first (the smallest first).
  freeStaging.sort((a, b) => b.length - a.length);
  while (stagingBytes + size > STAGING_MAX_BYTES && freeStaging.length > 0) stagingBytes -= freeStaging.pop()!.length;
  if (stagingBytes + size > STAGING_MAX_BYTES) return undefined;
  stagingBytes += size;
  return new Uint8Array(size);
}

function giveBackStaging(b: Uint8Array): void {
  freeStaging.push(b);
}

/** Bytes held by staging buffers (for tests). */
export function stagingBytesHeld(): number {
  return stagingBytes;
}

/** Writes every part, in order, at the start of `fd` (writev, continued after a short write). */
export function writePartsSync(fd: number, parts: readonly Uint8Array[]): void {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) rest = afterWritten(rest, fs.writevSync(fd, rest as Uint8Array[]));
}

/** `parts` without their first `n` bytes. */
function afterWritten(parts: readonly Uint8Array[], n: number): Uint8Array[] {
  let rest = [...parts];
  while (rest.length > 0 && n >= rest[0]!.length) {
    n -= rest[0]!.length;
    rest = rest.slice(1);
  }
  if (n > 0) rest = [rest[0]!.subarray(n), ...rest.slice(1)];
  return rest;
}

/** writePartsSync in libuv's pool. */
async function writePartsAsync(fd: number, parts: readonly Uint8Array[]): Promise<void> {
  let rest = parts.filter((p) => p.length > 0);
  let position = 0;
  while (rest.length > 0) {
    const n = await new Promise<number>((resolve, reject) =>
      fs.writev(fd, rest as Uint8Array[], position, (e, written) => (e ? reject(e) : resolve(written))),
    );
    position += n;
    rest = afterWritten(rest, n);
  }
}

/** The parts copied one after the other into `into` (which is at least as long): one part. */
function copyParts(parts: readonly Uint8Array[], length: number, into: Uint8Array): Uint8Array {
  let at = 0;
  for (const p of parts) {
    into.set(p, at);
    at += p.length;
  }
  return into.subarray(0, length);
}

/**
 * Writes `encoded` at the start of `fd`. A large result is written in libuv's pool: the promise
 * returned settles once it is written (its borrowed bytes are copied first, see above). Returns
 * undefined when the result was written synchronously (small, no staging room for borrowed bytes,
 * or `background` false: nothing else is to run meanwhile).
 *
 * A large result written synchronously is written from a staging buffer too: on this project's
 * VM the kernel's first read of memory (write(2) copying it into the page cache) costs ~4 ms of
 * system CPU per 2 MiB, a read of memory it has read before ~0.4 ms, and the copy into the reused
 * buffer ~0.3 ms (docs/design.md, "Write throughput through dump()"). A large result that is not
 * borrowed (compressed, or a converted `number[]`) and written in the pool is written from its
 * own memory: there the first read costs the pool's thread, and a copy would cost the task's
 * (measured: `jug execute` of number[] results used more main-thread CPU and memory with it).
 */
export function writeEncoded(fd: number, encoded: EncodedResult, background = true): Promise<void> | undefined {
  if (encoded.length < BACKGROUND_WRITE_MIN_BYTES) {
    writePartsSync(fd, encoded.parts);
    return undefined;
  }
  if (background && encoded.borrowed !== true) return writePartsAsync(fd, encoded.parts);
  const staging = takeStaging(encoded.length);
  if (staging === undefined) {
    writePartsSync(fd, encoded.parts);
    return undefined;
  }
  const snapshot = copyParts(encoded.parts, encoded.length, staging);
  if (background) return writePartsAsync(fd, [snapshot]).finally(() => giveBackStaging(staging));
  try {
    writePartsSync(fd, [snapshot]);
  } finally {
    giveBackStaging(staging);
  }
  return undefined;
}
