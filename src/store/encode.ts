/**
 * Result framing (docs/store-format.md). Like Jug, a one-byte format prefix then the payload;
 * unlike Jug, a length and CRC-32 so that a truncated, empty or damaged file is detected instead
 * of being read as a value:
 *
 *   offset 0      prefix  'V' = V8 structured-clone payload, stored as is
 *                         'Z' = V8 structured-clone payload, zlib-deflated
 *   offset 1..8   payload length in bytes, uint64 little-endian
 *   offset 9..12  CRC-32 of the payload bytes as written, uint32 little-endian
 *   offset 13..   payload
 *
 * The payload is `v8.serialize(value)`: it holds anything structured clone can (nested objects,
 * arrays, Map, Set, Date, BigInt, typed arrays, Buffers, undefined, Error objects).
 */
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { CorruptResultError, StoreError, describeError } from '../errors.js';

export const PREFIX_RAW = 0x56; // 'V'
export const PREFIX_ZLIB = 0x5a; // 'Z'
export const HEADER_BYTES = 13;

/** Below this many bytes compression is not attempted. */
const MIN_COMPRESS = 256;
/** Bytes sampled to decide whether compressing pays. */
const SAMPLE = 64 * 1024;

type Zlib = typeof import('node:zlib');
let zlibModule: Zlib | undefined;
/**
 * node:zlib, loaded on first use: loading it compiles a good part of Node's stream code, which
 * every worker thread would otherwise pay at start-up, before its first task.
 */
function zlib(): Zlib {
  return (zlibModule ??= createRequire(import.meta.url)('node:zlib') as Zlib);
}

let nativeCrc32: ((data: Uint8Array) => number) | null | undefined;
function crc32(data: Uint8Array): number {
  if (nativeCrc32 === undefined) {
    const z = zlib() as Zlib & { crc32?: (d: Uint8Array) => number };
    nativeCrc32 = typeof z.crc32 === 'function' ? z.crc32.bind(z) : null;
  }
  return nativeCrc32 === null ? crc32Js(data) : nativeCrc32(data);
}

let table: Uint32Array | undefined;
function crc32Js(data: Uint8Array): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether deflating `raw` is worth it: tried on a sample, kept if it saves at least 10%. */
function compressionPays(raw: Buffer): boolean {
  if (raw.length < MIN_COMPRESS) return false;
  const sample = raw.length > SAMPLE ? raw.subarray(0, SAMPLE) : raw;
  const packed = zlib().deflateSync(sample, { level: 1 });
  return packed.length < sample.length * 0.9;
}

/**
 * Encodes a result into the framed bytes written to the store. Throws a StoreError naming the
 * task, and where inside the value the culprit is (`.scale`, `[3].fn`), when the value cannot be
 * stored (functions, symbols, WeakMaps, ...).
 */
export function encodeResult(value: unknown, taskName = 'unknown task'): Buffer {
  let raw: Buffer;
  try {
    raw = v8.serialize(value);
  } catch (e) {
    const culprit = locateUncloneable(value, new Set());
    const why =
      culprit === undefined
        ? `: ${describeError(e)}`
        : `${culprit.path === '' ? '' : ` at ${culprit.path}`}: it is ${culprit.kind}.`;
    throw new StoreError(
      `The result of task '${taskName}' cannot be stored${why} ` +
        `Results must be structured-clonable data (objects, arrays, Map, Set, Date, BigInt, typed arrays, Buffers); ` +
        `functions, symbols and class-specific behaviour are not kept.`,
    );
  }
  let prefix = PREFIX_RAW;
  let payload = raw;
  if (compressionPays(raw)) {
    payload = zlib().deflateSync(raw, { level: 6 });
    prefix = PREFIX_ZLIB;
  }
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header[0] = prefix;
  header.writeBigUInt64LE(BigInt(payload.length), 1);
  header.writeUInt32LE(crc32(payload), 9);
  return Buffer.concat([header, payload]);
}

function serializes(x: unknown): boolean {
  try {
    v8.serialize(x);
    return true;
  } catch {
    return false;
  }
}

/** The parts of `x` that v8.serialize copies, each with its step in a path (`[3]`, `.fn`, `.get("k")`). */
function* clonedParts(x: unknown): Generator<readonly [string, unknown]> {
  if (typeof x !== 'object' || x === null || ArrayBuffer.isView(x) || x instanceof ArrayBuffer) return;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) yield [`[${i}]`, x[i]];
  } else if (x instanceof Map) {
    for (const [k, v] of x) {
      yield ['.keys()', k];
      yield [`.get(${keyText(k)})`, v];
    }
  } else if (x instanceof Set) {
    for (const v of x) yield ['<set element>', v];
  } else {
    for (const k of Object.keys(x)) yield [/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`, (x as Record<string, unknown>)[k]];
  }
}

/** A Map key as shown in a path (as in hash errors): `"name"`, `3`, or `…`. */
function keyText(k: unknown): string {
  if (typeof k === 'string') return JSON.stringify(k.length > 20 ? k.slice(0, 20) + '…' : k);
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  return '…';
}

/** What an uncloneable value is, for the message. */
function kindOf(x: unknown): string {
  if (typeof x === 'function') return `a function${x.name ? ` (${x.name})` : ''}`;
  if (typeof x === 'symbol') return 'a symbol';
  if (x instanceof Promise) return 'a Promise (await it inside the task)';
  const ctor = (x as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor ? `${/^[AEIOU]/.test(ctor) ? 'an' : 'a'} ${ctor}` : 'a value structured clone cannot copy';
}

/**
 * Where inside `x` (which v8.serialize rejects) the first part it cannot copy is: the deepest
 * failing part whose own parts all serialize. Called only on the error path; `seen` guards cycles
 * (a part already visited is left to the visit under way).
 */
function locateUncloneable(x: unknown, seen: Set<object>): { path: string; kind: string } | undefined {
  if (typeof x === 'object' && x !== null) {
    if (seen.has(x)) return undefined;
    seen.add(x);
  }
  let parts: (readonly [string, unknown])[];
  try {
    parts = [...clonedParts(x)];
  } catch {
    return { path: '', kind: kindOf(x) }; // a getter that throws: this object is the culprit
  }
  let failingSeen = false;
  for (const [step, part] of parts) {
    if (serializes(part)) continue;
    const inner = locateUncloneable(part, seen);
    if (inner !== undefined) return { path: step + inner.path, kind: inner.kind };
    failingSeen = true;
  }
  return failingSeen ? undefined : { path: '', kind: kindOf(x) };
}

/**
 * Decodes framed bytes. Any damage (wrong prefix, wrong length, checksum mismatch, undecodable
 * payload) raises CorruptResultError with `where` in the message — never a wrong value.
 * `path` (the file the bytes came from) becomes the error's `path`; it defaults to `where`.
 */
export function decodeResult(bytes: Uint8Array, where: string, path: string = where): unknown {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (why: string): CorruptResultError =>
    new CorruptResultError(`Corrupt result ${where}: ${why}.`, path, why);
  if (buf.length === 0) throw corrupt('the file is empty');
  if (buf.length < HEADER_BYTES) throw corrupt(`the file is truncated (${buf.length} bytes)`);
  const prefix = buf[0];
  if (prefix !== PREFIX_RAW && prefix !== PREFIX_ZLIB) {
    throw corrupt(`unknown format prefix 0x${prefix!.toString(16).padStart(2, '0')}`);
  }
  const length = buf.readBigUInt64LE(1);
  if (length !== BigInt(buf.length - HEADER_BYTES)) {
    throw corrupt(`the header says ${length} payload bytes but the file holds ${buf.length - HEADER_BYTES}`);
  }
  const payload = buf.subarray(HEADER_BYTES);
  if (crc32(payload) !== buf.readUInt32LE(9)) throw corrupt('checksum mismatch');
  try {
    const raw = prefix === PREFIX_ZLIB ? zlib().inflateSync(payload) : payload;
    return v8.deserialize(raw);
  } catch (e) {
    throw corrupt(`the payload does not decode (${describeError(e)})`);
  }
}
