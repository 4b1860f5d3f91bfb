/**
 * The parent's listing of stored results, shared with worker threads as a SharedArrayBuffer of
 * 20-byte hashes (shared, not copied, with each request). A worker loads the jugfile against the
 * same listing as the parent, so `barrier()`, `bvalue()` and `CompoundTask` decide the same way in
 * every thread — and so they declare the same tasks — even while other processes store results.
 */

/** Packs 40-hex hashes into a SharedArrayBuffer, 20 bytes each. */
export function encodeHashes(hashes: ReadonlySet<string>): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(Math.max(1, hashes.size * 20));
  const bytes = Buffer.from(sab); // a view: each hash is decoded straight into the shared memory
  let i = 0;
  for (const h of hashes) {
    bytes.write(h, i, 20, 'hex');
    i += 20;
  }
  return sab;
}

/** Unpacks {@link encodeHashes}; `count` is the number of hashes. */
export function decodeHashes(sab: SharedArrayBuffer, count: number): Set<string> {
  const bytes = Buffer.from(sab, 0, count * 20);
  const out = new Set<string>();
  for (let i = 0; i < count; i++) out.add(bytes.toString('hex', i * 20, i * 20 + 20));
  return out;
}
