/**
 * Where the parent tells worker threads which module to import. The pool starts before the
 * jugfile is bundled, so that the threads boot (Node, then jug's own modules) while the parent
 * checks or builds the bundle; each thread then waits here for the bundle's URL. A
 * SharedArrayBuffer rather than a message: a thread that starts later (threads start in waves, and
 * dead ones are replaced) reads the URL already there.
 *
 * Layout: Int32 state (0 pending, 1 ready, 2 failed), Int32 byte length, then the UTF-8 URL.
 */
const HEADER = 8;

/** `Atomics.waitAsync` (Node ≥ 16; typed in TypeScript's ES2024 lib, newer than ours). */
interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
  ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}
const MAX_URL_BYTES = 8192;

export type BundleSlot = SharedArrayBuffer;

export function createBundleSlot(): BundleSlot {
  return new SharedArrayBuffer(HEADER + MAX_URL_BYTES);
}

/** Publishes the bundle's URL (or, with `undefined`, that bundling failed) and wakes the threads. */
export function publishBundle(slot: BundleSlot, url: string | undefined): void {
  const state = new Int32Array(slot, 0, 2);
  if (url !== undefined) {
    const bytes = Buffer.from(url, 'utf8');
    if (bytes.length > MAX_URL_BYTES) throw new Error(`bundle URL longer than ${MAX_URL_BYTES} bytes: ${url}`);
    new Uint8Array(slot, HEADER).set(bytes);
    Atomics.store(state, 1, bytes.length);
  }
  Atomics.store(state, 0, url === undefined ? 2 : 1);
  Atomics.notify(state, 0);
}

/** The published URL, once there is one; undefined if bundling failed. */
export async function bundleUrl(slot: BundleSlot): Promise<string | undefined> {
  const state = new Int32Array(slot, 0, 2);
  while (Atomics.load(state, 0) === 0) {
    const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(state, 0, 0);
    if (wait.async) await wait.value;
  }
  if (Atomics.load(state, 0) === 2) return undefined;
  return Buffer.from(slot, HEADER, Atomics.load(state, 1)).toString('utf8');
}
