/**
 * Result framing (docs/store-format.md). Like Jug, a one-byte format prefix then the payload;
 * unlike Jug, a length and CRC-32 so that a truncated, empty or damaged file is detected instead
 * of being read as a value:
 *
 *   offset 0      prefix  'V' = V8 structured-clone payload, stored as is
 *                         'B' = V8 structured-clone payload, brotli-compressed (quality 1),
 *                               after its uncompressed length (uint64 LE)
 *                         'N' = a numeric array (number[] or a typed array) as its raw elements
 *                         'Z' = V8 structured-clone payload, zlib-deflated (written by jug up to
 *                               0.1.0 at git 7fd9be9; read, no longer written)
 *   offset 1..8   payload length in bytes, uint64 little-endian
 *   offset 9..12  CRC-32 of the payload bytes as written, uint32 little-endian
 *   offset 13..   payload
 *
 * The V8 payload is `v8.serialize(value)`: it holds anything structured clone can (nested
 * objects, arrays, Map, Set, Date, BigInt, typed arrays, Buffers, undefined, Error objects).
 *
 * The 'N' payload: byte 0 the element kind (NUMERIC_KINDS), byte 1 the codec (0 = the elements'
 * bytes as they are, little-endian, from file offset 16; 1 / 2 = those bytes shuffled into lanes —
 * every element's byte 0, then every byte 1, … — then compressed with brotli quality 1 / raw
 * deflate level 1, after their length as uint64 LE), byte 2 reserved (0), then the data. A plain array of numbers is stored this way when that round-trips
 * exactly (every element a number, no holes, no extra properties), and comes back as a plain
 * array; anything else falls back to the V8 payload.
 */
import { constants as bufferConstants } from 'node:buffer';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import util from 'node:util';
import v8 from 'node:v8';
import { CorruptResultError, StoreError, describeError } from '../errors.js';
import { shuffleBytes, unshuffleBytes } from './shuffle.js';

export { shuffleBytes, unshuffleBytes };

export const PREFIX_RAW = 0x56; // 'V'
export const PREFIX_ZLIB = 0x5a; // 'Z'
export const PREFIX_BROTLI = 0x42; // 'B'
export const PREFIX_NUMERIC = 0x4e; // 'N'
export const HEADER_BYTES = 13;
/** Bytes of the 'N' payload before the data: kind, codec, reserved. */
export const NUMERIC_HEADER_BYTES = 3;
export const NUMERIC_STORED = 0;
export const NUMERIC_SHUFFLED_BROTLI = 1;
export const NUMERIC_SHUFFLED_DEFLATE = 2;
/** Bytes before a compressed stream ('B', and 'N' codecs 1 and 2): its decompressed length, uint64 LE. */
export const RAW_LENGTH_BYTES = 8;

/** Below this many bytes compression is not attempted. */
const MIN_COMPRESS = 256;
/** Numeric arrays of fewer bytes than this go through V8 (its varints are smaller for small ints). */
const MIN_NUMERIC_BYTES = 4096;
/**
 * The sample that decides whether compressing pays: up to SAMPLE_CHUNKS chunks of SAMPLE_CHUNK bytes,
 * spread evenly. 16 KiB in all: brotli 1 takes ~0.11 ms on 16 KiB of shuffled random doubles here,
 * ~1.5 ms on 64 KiB (the size until 2026-12-03), for the same verdict (ratios 0.88 / 0.87 against
 * the 0.75 bar; LCG fractions 0.44 / 0.43; integers 0.02 / 0.01).
 */
const SAMPLE_CHUNK = 4 * 1024;
const SAMPLE_CHUNKS = 4;
/**
 * Compress when the sample shrinks to at most this fraction. A V8 payload compresses when that
 * saves ≥ 10% (brotli 1 costs ~3 ms per MB there). Numeric data only when it saves ≥ 25%:
 * uniformly random doubles shrink to ~0.83 after shuffling, which saves less disk time than
 * brotli and the unshuffle cost (~2.5 ms per 2 MB each way); data with fewer significant bits
 * (integers, 31-bit fractions, repeated values) shrinks to a few percent.
 */
const PAYS_V8 = 0.9;
const PAYS_NUMERIC = 0.75;
/**
 * Numeric data that brotli shrinks to at most this fraction is also deflated (level 1), and
 * kept deflated unless that is more than twice brotli's size: on such very redundant data
 * (integers, the benchmark's 31-bit LCG fractions, periodic data) deflate 1 compresses 2 MiB in
 * ~1–3 ms and inflates it in ~0.6 ms, 4× faster than brotli 1 decompresses (~2.6 ms), and a
 * result is read at least as often as it is written. On less redundant data deflate 1 slows down
 * a lot (13–30 ms per 2 MiB on doubles with 12–40 random bits, against brotli's 4–9 ms): brotli
 * stays. The whole-result ratio decides, not the sample's: a 64-KiB sample misses long-range
 * repeats (LCG data: 43 % on the sample, 2.8 % on 2 MiB).
 */
const DEFLATE_NUMERIC = 0.1;

type Zlib = typeof import('node:zlib');
let zlibModule: Zlib | undefined;
/**
 * node:zlib, loaded on first use: loading it compiles a good part of Node's stream code, which
 * every worker thread would otherwise pay at start-up, before its first task.
 */
function zlib(): Zlib {
  return (zlibModule ??= createRequire(import.meta.url)('node:zlib') as Zlib);
}

let nativeCrc32: ((data: Uint8Array, initial?: number) => number) | null | undefined;
/**
 * Up to this many bytes the CRC is computed in JavaScript: for small results (most of them) that
 * is faster than the call into zlib, and a process loading only small results never loads zlib.
 */
const CRC_JS_MAX_BYTES = 256;
/** CRC-32 of `data`, continuing from `initial` (the CRC of the bytes before it) when given. */
function crc32(data: Uint8Array, initial = 0): number {
  if (data.length <= CRC_JS_MAX_BYTES) return crc32Js(data, initial);
  if (nativeCrc32 === undefined) {
    const z = zlib() as Zlib & { crc32?: (d: Uint8Array, initial?: number) => number };
    nativeCrc32 = typeof z.crc32 === 'function' ? z.crc32.bind(z) : null;
  }
  return nativeCrc32 === null ? crc32Js(data, initial) : nativeCrc32(data, initial);
}

let table: Uint32Array | undefined;
function crc32Js(data: Uint8Array, initial: number, start = 0, end = data.length): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = (initial ^ 0xffffffff) >>> 0;
  for (let i = start; i < end; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Codecs

/** Brotli at quality 1: on this project's measurements faster than zlib level 1 and smaller (docs/store-format.md). */
function brotli(data: Uint8Array): Buffer {
  const z = zlib();
  return z.brotliCompressSync(data, {
    params: { [z.constants.BROTLI_PARAM_QUALITY]: 1, [z.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
}

/** Deflate (raw, RFC 1951: the CRC of the framing already guards the bytes) at level 1. */
function deflate(data: Uint8Array): Buffer {
  return zlib().deflateRawSync(data, { level: 1 });
}

/**
 * Splits `payload` into its stated decompressed length and the stream after it, and decompresses
 * it in one piece of exactly that size (Node's default collects 16-KiB chunks, then copies them
 * together); a stream that would give more, or less, is damage. `scratch`: the bytes are consumed
 * at once by the caller (never kept in the value), so they may go to a reused buffer
 * (decompressInto) — a V8 payload must not: v8.deserialize makes typed arrays that alias it.
 */
function decompress(payload: Uint8Array, how: 'brotli' | 'deflate', scratch = false): Buffer {
  if (payload.length < RAW_LENGTH_BYTES) throw new Error('the compressed payload is shorter than its length field');
  const head = Buffer.from(payload.buffer, payload.byteOffset, RAW_LENGTH_BYTES);
  const raw = head.readBigUInt64LE(0);
  const z = zlib();
  if (raw > BigInt(bufferConstants.MAX_LENGTH)) throw new Error(`implausible decompressed length ${raw}`);
  const size = Number(raw);
  const options = { chunkSize: Math.max(size, 64), maxOutputLength: Math.max(size, 1) };
  const stream = payload.subarray(RAW_LENGTH_BYTES);
  const out =
    (scratch ? decompressInto(stream, how, options) : undefined) ??
    (how === 'brotli' ? z.brotliDecompressSync(stream, options) : z.inflateRawSync(stream, options));
  if (out.length !== size) throw new Error(`the stream decompresses to ${out.length} bytes, not the ${size} stated`);
  return out;
}

/** The parts of Node's zlib engines (zlib.js, unchanged from Node 12 to 24) that decompressInto uses. */
interface EngineInternals {
  _outBuffer?: unknown;
  _outOffset?: unknown;
  _chunkSize?: unknown;
  _finishFlushFlag?: unknown;
  _processChunk?: unknown;
}

/**
 * decompress() into the reused scratch buffer instead of a new one: a new 2-MiB buffer costs
 * 512 page faults as the decompressor first writes it (7–40 ms on this project's VM, against
 * ~0.5 ms for the inflate itself). Node's one-shot functions allocate their output and have no
 * option to pass one, so this makes the same engine (`new zlib.InflateRaw(options)`) and points
 * its output buffer at the scratch before running the same synchronous path zlib.inflateRawSync
 * runs (`_processChunk` with the finish flag). Those are Node internals: when they do not look as
 * expected, undefined (the caller then decompresses the ordinary way). Whatever the engine
 * returns is the output either way, so a Node that behaves otherwise costs speed, never
 * correctness.
 */
function decompressInto(stream: Uint8Array, how: 'brotli' | 'deflate', options: { chunkSize: number; maxOutputLength: number }): Buffer | undefined {
  const z = zlib();
  const engine = (how === 'brotli' ? new z.BrotliDecompress(options) : new z.InflateRaw(options)) as unknown as EngineInternals;
  const chunkSize = engine._chunkSize;
  const finish = engine._finishFlushFlag;
  if (
    typeof engine._processChunk !== 'function' ||
    chunkSize !== options.chunkSize ||
    typeof finish !== 'number' ||
    engine._outOffset !== 0 ||
    !Buffer.isBuffer(engine._outBuffer) ||
    engine._outBuffer.length !== chunkSize
  ) {
    (engine as unknown as { close(): void }).close();
    return undefined;
  }
  const target = scratchBytes(options.chunkSize);
  engine._outBuffer = Buffer.from(target.buffer, target.byteOffset, options.chunkSize);
  const out: unknown = (engine._processChunk as (chunk: Uint8Array, flush: number) => unknown).call(engine, stream, finish);
  return Buffer.isBuffer(out) ? out : undefined;
}

/** The 8-byte decompressed-length field that precedes a compressed stream. */
function rawLength(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(RAW_LENGTH_BYTES);
  b.writeBigUInt64LE(BigInt(n), 0);
  return b;
}

/** Up to SAMPLE_CHUNKS chunks of `data` (whole multiples of `stride` bytes), spread evenly, concatenated. */
function sampleOf(data: Uint8Array, stride: number): Uint8Array {
  if (data.length <= SAMPLE_CHUNK * SAMPLE_CHUNKS) return data;
  const chunk = SAMPLE_CHUNK - (SAMPLE_CHUNK % stride);
  const out = new Uint8Array(chunk * SAMPLE_CHUNKS);
  const step = Math.floor((data.length - chunk) / (SAMPLE_CHUNKS - 1));
  for (let k = 0; k < SAMPLE_CHUNKS; k++) {
    const at = Math.floor((k * step) / stride) * stride;
    out.set(data.subarray(at, at + chunk), k * chunk);
  }
  return out;
}

/** Whether brotli shrinks `sample` to at most `fraction` of its size. */
function pays(sample: Uint8Array, fraction: number): boolean {
  return brotli(sample).length <= sample.length * fraction;
}

// ---------------------------------------------------------------------------------------------
// Numeric arrays

export type NumericArray = Float64Array | Float32Array | Int32Array | Uint32Array;
type NumericCtor = Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor;

/** Kind byte of the 'N' payload → what it decodes to. 'a': a plain Array of numbers, held as float64. */
export const NUMERIC_KINDS: Readonly<Record<number, { ctor: NumericCtor; plain: boolean }>> = {
  0x61: { ctor: Float64Array, plain: true }, // 'a'
  0x64: { ctor: Float64Array, plain: false }, // 'd'
  0x66: { ctor: Float32Array, plain: false }, // 'f'
  0x69: { ctor: Int32Array, plain: false }, // 'i'
  0x75: { ctor: Uint32Array, plain: false }, // 'u'
};

const TYPED_KIND = new Map<object, number>([
  [Float64Array.prototype, 0x64],
  [Float32Array.prototype, 0x66],
  [Int32Array.prototype, 0x69],
  [Uint32Array.prototype, 0x75],
]);

const littleEndian = os.endianness() === 'LE';

/** A numeric value ready for the 'N' payload: its kind byte and its elements' bytes. */
interface NumericBody {
  readonly kind: number;
  readonly bytes: Uint8Array;
  readonly stride: number;
  /** `bytes` is the value's own memory (a typed array), not a copy made for encoding. */
  readonly borrowed: boolean;
}

/**
 * The 'N' body of `value` when it is a typed array of an exact supported type (not a subclass,
 * not a Buffer) of at least MIN_NUMERIC_BYTES; undefined otherwise.
 */
function typedBody(value: unknown): NumericBody | undefined {
  if (!ArrayBuffer.isView(value) || value.byteLength < MIN_NUMERIC_BYTES) return undefined;
  const kind = TYPED_KIND.get(Object.getPrototypeOf(value) as object);
  if (kind === undefined) return undefined;
  const typed = value as NumericArray;
  return { kind, bytes: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), stride: typed.BYTES_PER_ELEMENT, borrowed: true };
}

/** Whether every element of a plain array is a number (a hole reads as undefined: not a number). */
function allNumbers(a: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'number') return false;
  return true;
}

const INSPECT_OWN_PROPERTIES: util.InspectOptions = { maxArrayLength: 0, depth: 0, customInspect: false, showHidden: false, getters: false };

/**
 * Whether the array `a` has no own enumerable properties besides its elements (structured clone
 * would keep such a property: `a.label = ...`). Asked of util.inspect with no elements shown,
 * which lists only the other properties (Node finds them without walking the elements, unlike
 * Object.keys): an array with none prints as `[ ... n more items ]`. Anything else — an extra
 * property, a symbol key, a future Node printing it differently — counts as "maybe", and the
 * value goes through V8, which is always exact.
 */
function onlyElements(a: readonly unknown[]): boolean {
  return util.inspect(a, INSPECT_OWN_PROPERTIES) === `[ ... ${a.length} more item${a.length === 1 ? '' : 's'} ]`;
}

/** A plain array of numbers as float64 elements (exact: -0, NaN, ±Infinity and every double survive). */
function plainBody(a: readonly number[]): NumericBody {
  const f = Float64Array.from(a);
  return { kind: 0x61, bytes: new Uint8Array(f.buffer), stride: 8, borrowed: false };
}

/** A candidate for the plain-array path: a real Array (not a subclass) long enough to be worth it. */
function plainCandidate(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && value.length * 8 >= MIN_NUMERIC_BYTES && Object.getPrototypeOf(value) === Array.prototype;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** An encoded result as the pieces written one after the other (header first), and their total length. */
export interface EncodedResult {
  readonly parts: readonly Uint8Array[];
  readonly length: number;
  /**
   * Some part is the value's own memory (a typed array stored as it is, written without a copy):
   * it changes if the value does, so a writer that lets task code run before the bytes are
   * written must copy them first (the file store's background writes do).
   */
  readonly borrowed?: boolean;
  /** A typed array's result: the array, and how to tell later that it still holds the bytes encoded. */
  readonly kept?: KeptValue;
}

/**
 * A typed array as it was encoded: `crc32(bytes, seed) === crc` while it still holds those bytes
 * (`bytes` is a view of its memory, of `length` bytes; a detached buffer leaves it empty). The file
 * store hands such a value to the next reader in this process instead of reading the file back
 * (src/store/handoff.ts).
 */
export interface KeptValue {
  readonly value: unknown;
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly seed: number;
  readonly crc: number;
}

/** Whether a kept value still holds the bytes it was encoded from (one CRC-32 pass over them). */
export function keptUnchanged(k: KeptValue): boolean {
  return k.bytes.byteLength === k.length && crc32(k.bytes, k.seed) === k.crc;
}

/** The 13-byte header for `body` (prefix, length, CRC-32 over all of `body`), followed by `body`. */
function frame(prefix: number, body: readonly Uint8Array[]): EncodedResult {
  let length = 0;
  let crc = 0;
  for (const p of body) {
    length += p.length;
    crc = crc32(p, crc);
  }
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header[0] = prefix;
  header.writeBigUInt64LE(BigInt(length), 1);
  header.writeUInt32LE(crc, 9);
  return { parts: [header, ...body], length: HEADER_BYTES + length };
}

/**
 * 'N': the elements as they are, or shuffled and compressed when the sample says it pays —
 * deflated when they are very redundant, else with brotli (see DEFLATE_NUMERIC).
 */
function encodeNumeric(body: NumericBody, value: unknown, taskName: string | undefined): EncodedResult {
  const key = taskName === undefined ? undefined : `${taskName}\0${body.kind}`;
  if (!compressionMayPay(body, key)) return encodeStored(body, value);
  // The shuffled bytes only live until they are compressed: a reused buffer (fresh memory costs page faults).
  const shuffled = shuffleBytes(body.bytes, body.stride, scratchBytes(body.bytes.length));
  const packed = compressShuffled(shuffled, key);
  if (packed === undefined) return encodeStored(body, value);
  const framed = frame(PREFIX_NUMERIC, [new Uint8Array([body.kind, packed.codec, 0]), rawLength(shuffled.length), packed.bytes]);
  if (!body.borrowed) return framed;
  return { ...framed, kept: { value, bytes: body.bytes, length: body.bytes.length, seed: 0, crc: crc32(body.bytes) } };
}

/**
 * Shuffled numeric data compressed: with brotli 1, or deflate 1 when that is very redundant (see
 * DEFLATE_NUMERIC); undefined when the whole result does not shrink enough to pay (PAYS_NUMERIC).
 * When the function's last result was deflated, deflate alone first: kept if it shrinks the data
 * to at most twice DEFLATE_NUMERIC (brotli's own bound for trying deflate, with deflate's margin).
 */
function compressShuffled(shuffled: Uint8Array, key: string | undefined): { codec: number; bytes: Buffer } | undefined {
  if (key !== undefined && decisions.get(key)?.codec === NUMERIC_SHUFFLED_DEFLATE) {
    const deflated = deflate(shuffled);
    if (deflated.length <= shuffled.length * DEFLATE_NUMERIC * 2) return { codec: NUMERIC_SHUFFLED_DEFLATE, bytes: deflated };
  }
  const packed = brotli(shuffled);
  if (packed.length > shuffled.length * PAYS_NUMERIC) {
    remember(key, NUMERIC_STORED);
    return undefined;
  }
  if (packed.length <= shuffled.length * DEFLATE_NUMERIC) {
    const deflated = deflate(shuffled);
    if (deflated.length <= 2 * packed.length) {
      remember(key, NUMERIC_SHUFFLED_DEFLATE);
      return { codec: NUMERIC_SHUFFLED_DEFLATE, bytes: deflated };
    }
  }
  remember(key, NUMERIC_SHUFFLED_BROTLI);
  return { codec: NUMERIC_SHUFFLED_BROTLI, bytes: packed };
}

/** 'N' with the elements as they are (codec 0). */
function encodeStored(body: NumericBody, value: unknown): EncodedResult {
  const head = new Uint8Array([body.kind, NUMERIC_STORED, 0]);
  const stored = frame(PREFIX_NUMERIC, [head, body.bytes]);
  if (!body.borrowed) return stored;
  // The file's CRC covers the kind bytes, then the array's: continued from the former, it tells whether the array changed.
  const crc = Buffer.from(stored.parts[0]!.buffer, stored.parts[0]!.byteOffset, HEADER_BYTES).readUInt32LE(9);
  return { ...stored, borrowed: true, kept: { value, bytes: body.bytes, length: body.bytes.length, seed: crc32(head), crc } };
}

/**
 * Codec decisions of recent numeric results, per task function and element kind: the codec its
 * last result got and, after "stored as it is", how many more results to store so before sampling
 * again. The sample costs ~1–1.5 ms per 2-MiB result on this project's VM, as much as a tenth of
 * writing it, and trying both brotli and deflate on very redundant data costs a compression more;
 * a task function's results are usually alike.
 */
interface Decision {
  readonly codec: number;
  left: number;
}
const decisions = new Map<string, Decision>();
/** After a sample said "stored as they are", this many further results of that function skip the sample. */
export const RESAMPLE_EVERY = 8;
const MAX_DECISIONS = 4096;

/**
 * Whether to try compressing `body`: the sample decides, unless the function's last results
 * decided already (`key` = task function and kind; none: always the sample). After a result that
 * compressed, the whole result is compressed and its own ratio decides (no sample needed); after
 * one stored as it is, the next RESAMPLE_EVERY − 1 results are stored so, then the sample decides again.
 */
function compressionMayPay(body: NumericBody, key: string | undefined): boolean {
  const known = key === undefined ? undefined : decisions.get(key);
  if (known !== undefined && known.codec !== NUMERIC_STORED) return true;
  if (known !== undefined && known.left > 0) {
    known.left--;
    return false;
  }
  const sample = shuffleBytes(sampleOf(body.bytes, body.stride), body.stride);
  const pays = brotli(sample).length / sample.length <= PAYS_NUMERIC;
  if (!pays) remember(key, NUMERIC_STORED);
  return pays;
}

function remember(key: string | undefined, codec: number): void {
  if (key === undefined) return;
  if (decisions.size >= MAX_DECISIONS && !decisions.has(key)) decisions.clear();
  decisions.set(key, { codec, left: codec === NUMERIC_STORED ? RESAMPLE_EVERY - 1 : 0 });
}

/** Forgets the does-it-pay decisions (for tests). */
export function forgetCodecDecisions(): void {
  decisions.clear();
}

/** 'V' or 'B': the V8 payload, brotli-compressed when the sample says it pays. */
function encodeV8(raw: Buffer): EncodedResult {
  if (raw.length >= MIN_COMPRESS && pays(sampleOf(raw, 1), PAYS_V8)) {
    const packed = brotli(raw);
    if (packed.length + RAW_LENGTH_BYTES < raw.length) return frame(PREFIX_BROTLI, [rawLength(raw.length), packed]);
  }
  return frame(PREFIX_RAW, [raw]);
}

function serialize(value: unknown, taskName: string): Buffer {
  try {
    return v8.serialize(value);
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
}

/**
 * Encodes a result into the framed bytes written to the store, as the pieces to write one after
 * the other (no copy of a large array's elements). Throws a StoreError naming the task, and where
 * inside the value the culprit is (`.scale`, `[3].fn`), when the value cannot be stored
 * (functions, symbols, WeakMaps, ...).
 *
 * Numeric arrays (typed arrays of float64/float32/int32/uint32, and plain arrays of numbers that
 * round-trip exactly) are stored as their elements ('N'); everything else as V8's serialization
 * ('V', or 'B' when brotli shrinks it).
 */
export function encodeResultParts(value: unknown, taskName?: string): EncodedResult {
  if (littleEndian) {
    const typed = typedBody(value);
    if (typed !== undefined) return encodeNumeric(typed, value, taskName);
    if (plainCandidate(value) && allNumbers(value) && onlyElements(value)) {
      return encodeNumeric(plainBody(value as readonly number[]), value, taskName);
    }
  }
  return encodeV8(serialize(value, taskName ?? 'unknown task'));
}

/** encodeResultParts as one buffer. */
export function encodeResult(value: unknown, taskName?: string): Buffer {
  const { parts, length } = encodeResultParts(value, taskName);
  return Buffer.concat(parts, length);
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

const KNOWN_PREFIXES = new Set([PREFIX_RAW, PREFIX_ZLIB, PREFIX_BROTLI, PREFIX_NUMERIC]);

/** The value of an 'N' payload (throws on anything malformed: the caller reports it as corrupt). */
function decodeNumeric(payload: Uint8Array): unknown {
  if (payload.length < NUMERIC_HEADER_BYTES) throw new Error('the numeric payload is shorter than its header');
  const kind = NUMERIC_KINDS[payload[0]!];
  const codec = payload[1]!;
  if (kind === undefined) throw new Error(`unknown numeric kind 0x${payload[0]!.toString(16)}`);
  if (codec !== NUMERIC_STORED && codec !== NUMERIC_SHUFFLED_BROTLI && codec !== NUMERIC_SHUFFLED_DEFLATE) {
    throw new Error(`unknown numeric codec ${codec}`);
  }
  const stride = kind.ctor.BYTES_PER_ELEMENT;
  const data = payload.subarray(NUMERIC_HEADER_BYTES);
  const shuffled = codec !== NUMERIC_STORED;
  const bytes = shuffled ? decompress(data, codec === NUMERIC_SHUFFLED_BROTLI ? 'brotli' : 'deflate', true) : data;
  if (bytes.length % stride !== 0) throw new Error(`${bytes.length} data bytes are not whole ${stride}-byte elements`);
  // A plain array is built from a reused buffer; a typed array gets memory of its own.
  const typed = kind.plain ? scratchFloat64(bytes.length) : uninitialized(kind.ctor, bytes.length);
  const view = new Uint8Array(typed.buffer, typed.byteOffset, bytes.length);
  if (shuffled) unshuffleBytes(bytes, stride, view);
  else view.set(bytes);
  if (!littleEndian) swapBytes(view, stride);
  return kind.plain ? toPlainArray(typed as Float64Array) : typed;
}

/** A compressed 'N' result split for decompressing elsewhere (read-ahead.ts): see packedNumericOf. */
export interface PackedNumeric {
  readonly plain: boolean;
  readonly stride: number;
  readonly ctor: NumericCtor;
  readonly how: 'brotli' | 'deflate';
  /** The decompressed (shuffled) length the payload states. */
  readonly rawBytes: number;
  readonly stream: Uint8Array;
}

/**
 * The parts of a whole result file's bytes when it is a shuffled, compressed 'N' result whose
 * frame (prefix, length, CRC-32) checks out and whose stated length is whole elements; undefined
 * for anything else or any doubt (the caller then decodes the file the ordinary way, which
 * reports any damage). Little-endian machines only.
 */
export function packedNumericOf(file: Uint8Array): PackedNumeric | undefined {
  const at = HEADER_BYTES + NUMERIC_HEADER_BYTES;
  if (!littleEndian || file.length < at + RAW_LENGTH_BYTES || file[0] !== PREFIX_NUMERIC) return undefined;
  const buf = Buffer.from(file.buffer, file.byteOffset, file.length);
  const codec = buf[HEADER_BYTES + 1];
  const kind = NUMERIC_KINDS[buf[HEADER_BYTES]!];
  if (kind === undefined || (codec !== NUMERIC_SHUFFLED_DEFLATE && codec !== NUMERIC_SHUFFLED_BROTLI)) return undefined;
  if (buf.readUInt32LE(1) !== buf.length - HEADER_BYTES || buf.readUInt32LE(5) !== 0) return undefined;
  if (crc32(buf.subarray(HEADER_BYTES)) !== buf.readUInt32LE(9)) return undefined;
  const raw = buf.readBigUInt64LE(at);
  const stride = kind.ctor.BYTES_PER_ELEMENT;
  if (raw > BigInt(bufferConstants.MAX_LENGTH) || Number(raw) % stride !== 0) return undefined;
  const how = codec === NUMERIC_SHUFFLED_BROTLI ? 'brotli' : 'deflate';
  return { plain: kind.plain, stride, ctor: kind.ctor, how, rawBytes: Number(raw), stream: buf.subarray(at + RAW_LENGTH_BYTES) };
}

/**
 * The typed array of a PackedNumeric (undefined for a plain number[]) from its decompressed bytes
 * `inflated` (exactly `rawBytes` long), which become the array's memory when they own their whole
 * ArrayBuffer: unshuffled into the reused scratch, then copied back. So the value's memory is the
 * memory the decompressor wrote (in libuv's pool, faulted in there), and the main thread only
 * reads and writes pages already touched.
 */
export function typedFromInflated(p: PackedNumeric, inflated: Uint8Array): NumericArray | undefined {
  if (p.plain) return undefined;
  const n = inflated.length / p.stride;
  if (inflated.byteOffset !== 0 || inflated.buffer.byteLength !== inflated.length) {
    const typed = uninitialized(p.ctor, inflated.length);
    unshuffleBytes(inflated, p.stride, new Uint8Array(typed.buffer, typed.byteOffset, inflated.length));
    return typed;
  }
  inflated.set(unshuffleBytes(inflated, p.stride, scratchBytes(inflated.length)));
  return new p.ctor(inflated.buffer as ArrayBuffer, 0, n);
}

/**
 * A new typed array of `bytes` bytes with its own ArrayBuffer (byte offset 0, as v8.deserialize
 * gives), not zero-filled: every byte is written next (memory malloc reused would otherwise be
 * cleared first, ~0.2 ms per 2 MiB). Buffer.allocUnsafe of that size has an ArrayBuffer of its own.
 */
export function uninitialized(ctor: NumericCtor, bytes: number): NumericArray {
  const b = Buffer.allocUnsafe(bytes);
  if (b.byteOffset !== 0 || b.buffer.byteLength !== bytes) return new ctor(bytes / ctor.BYTES_PER_ELEMENT);
  return new ctor(b.buffer, 0, bytes / ctor.BYTES_PER_ELEMENT);
}

function swapBytes(view: Uint8Array, stride: number): void {
  const b = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  if (stride === 8) b.swap64();
  else b.swap32();
}

/** A plain array holding `f`'s elements (V8 keeps it as unboxed doubles). */
function toPlainArray(f: Float64Array): number[] {
  const out = new Array<number>(f.length);
  for (let i = 0; i < f.length; i++) out[i] = f[i]!;
  return out;
}

function decodePayload(prefix: number, payload: Uint8Array): unknown {
  switch (prefix) {
    case PREFIX_NUMERIC:
      return decodeNumeric(payload);
    case PREFIX_BROTLI:
      return v8.deserialize(decompress(payload, 'brotli'));
    case PREFIX_ZLIB:
      return v8.deserialize(zlib().inflateSync(payload));
    default: {
      const v = smallV8Value(payload);
      return v === NOT_SMALL ? v8.deserialize(payload) : v;
    }
  }
}

const oneDouble = new Float64Array(1);
const doubleBytes = new Uint8Array(oneDouble.buffer);
/** smallV8Value(): the payload is not one it decodes. */
const NOT_SMALL: unique symbol = Symbol('not a small V8 value');

/**
 * A V8 payload of one primitive — an int32, a double, true, false, null, undefined — decoded
 * without v8.deserialize (whose set-up costs more than the whole rest of loading a small packed
 * result); NOT_SMALL for anything else, which v8.deserialize then decodes. The layout (V8's
 * ValueSerializer): 0xFF, the format version, then a tag: 'I' and a zigzag varint, 'N' and 8
 * bytes of a little-endian double, 'T' 'F' '0' '_'. Only an exact match with nothing after it is
 * taken, for the versions whose tags are these (13–15; Node 20 and 22 write 15).
 */
function smallV8Value(p: Uint8Array, start = 0, end = p.length): unknown {
  const n = end - start;
  if (n < 3 || n > 11 || p[start] !== 0xff || p[start + 1]! < 13 || p[start + 1]! > 15) return NOT_SMALL;
  const tag = p[start + 2]!;
  if (n === 3) {
    if (tag === 0x54) return true; // 'T'
    if (tag === 0x46) return false; // 'F'
    if (tag === 0x30) return null; // '0'
    if (tag === 0x5f) return undefined; // '_'
    return NOT_SMALL;
  }
  if (tag === 0x4e && n === 11 && littleEndian) {
    for (let i = 0; i < 8; i++) doubleBytes[i] = p[start + 3 + i]!; // 'N'
    return oneDouble[0];
  }
  if (tag !== 0x49) return NOT_SMALL; // 'I': int32, zigzag varint (at most 5 bytes)
  let z = 0;
  for (let i = start + 3, scale = 1; i < end; i++, scale *= 128) {
    const b = p[i]!;
    if (scale === 268435456 && b > 0x0f) return NOT_SMALL; // the 5th byte holds the top 4 bits
    z += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return i === end - 1 ? (z % 2 === 0 ? z / 2 : -(z + 1) / 2) : NOT_SMALL;
  }
  return NOT_SMALL;
}

/** The uint32 (little-endian) at `o` (in range: the caller checked). */
function u32At(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/**
 * decodeResult() of `length` bytes of `buf` from `offset` (a result inside a pack held in
 * memory). A whole, undamaged result of one small primitive is decoded in place, without making
 * a Buffer for it (that costs more than the rest); anything else goes through decodeResult.
 */
export function decodeResultAt(buf: Buffer, offset: number, length: number, where: string, path: string = where): unknown {
  const end = offset + length;
  if (
    length >= HEADER_BYTES &&
    length <= HEADER_BYTES + 11 &&
    end <= buf.length &&
    buf[offset] === PREFIX_RAW &&
    u32At(buf, offset + 1) === length - HEADER_BYTES &&
    u32At(buf, offset + 5) === 0 &&
    crc32Js(buf, 0, offset + HEADER_BYTES, end) === u32At(buf, offset + 9)
  ) {
    const v = smallV8Value(buf, offset + HEADER_BYTES, end);
    if (v !== NOT_SMALL) return v;
  }
  return decodeResult(buf.subarray(offset, end), where, path);
}

/**
 * Decodes framed bytes. Any damage (wrong prefix, wrong length, checksum mismatch, undecodable
 * payload) raises CorruptResultError with `where` in the message — never a wrong value.
 * `path` (the file the bytes came from) becomes the error's `path`; it defaults to `where`.
 */
export function decodeResult(bytes: Uint8Array, where: string, path: string = where): unknown {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw corruptResult(where, path, 'the file is empty');
  if (buf.length < HEADER_BYTES) throw corruptResult(where, path, `the file is truncated (${buf.length} bytes)`);
  const prefix = buf[0]!;
  if (!KNOWN_PREFIXES.has(prefix)) {
    throw corruptResult(where, path, `unknown format prefix 0x${prefix.toString(16).padStart(2, '0')}`);
  }
  // The uint64 length as two uint32 halves (no BigInt on the hot path of small results).
  if (buf.readUInt32LE(1) !== buf.length - HEADER_BYTES || buf.readUInt32LE(5) !== 0) {
    const length = buf.readBigUInt64LE(1);
    throw corruptResult(where, path, `the header says ${length} payload bytes but the file holds ${buf.length - HEADER_BYTES}`);
  }
  const payload = buf.subarray(HEADER_BYTES);
  if (crc32(payload) !== buf.readUInt32LE(9)) throw corruptResult(where, path, 'checksum mismatch');
  try {
    return decodePayload(prefix, payload);
  } catch (e) {
    throw corruptResult(where, path, `the payload does not decode (${describeError(e)})`);
  }
}

function corruptResult(where: string, path: string, why: string): CorruptResultError {
  return new CorruptResultError(`Corrupt result ${where}: ${why}.`, path, why);
}

/** Reads exactly `into.length` bytes of `fd` at `position`; false if the file ends first. */
function readFully(fd: number, into: Uint8Array, position: number): boolean {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) return false;
    done += n;
  }
  return true;
}

/** Reused for reading plain numeric arrays (then copied into the array): fresh memory costs page faults. */
let scratch: Float64Array | undefined;
const SCRATCH_MAX_BYTES = 64 * 1024 * 1024;

function scratchFloat64(bytes: number): Float64Array {
  const n = Math.ceil(bytes / 8);
  if (bytes > SCRATCH_MAX_BYTES) return new Float64Array(n);
  if (scratch === undefined || scratch.length < n) scratch = new Float64Array(Math.max(n, 1024));
  return scratch.subarray(0, n);
}

/** `bytes` bytes of a reused buffer (8-byte aligned), for data that is consumed at once. */
function scratchBytes(bytes: number): Uint8Array {
  if (bytes > SCRATCH_MAX_BYTES) return new Uint8Array(bytes);
  if (shuffleScratch === undefined || shuffleScratch.length < bytes) shuffleScratch = new Uint8Array(Math.max(bytes, 8192));
  return shuffleScratch.subarray(0, bytes);
}
let shuffleScratch: Uint8Array | undefined;

/**
 * Reads and decodes the result file at `path` (errors as decodeResult; the file system's own
 * errors, ENOENT included, are thrown as they are). An uncompressed numeric result is read
 * straight into the memory of the value returned, skipping a copy of the whole file; its length
 * and CRC are checked the same way. Anything else goes through decodeResult.
 */
export function decodeResultFile(path: string, where: string): unknown {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (littleEndian && size >= DIRECT_MIN_BYTES) {
      const direct = readStoredNumeric(fd, size);
      if (direct !== undefined) return direct;
    }
    // Everything else, and any doubt (damage is then reported by decodeResult): the whole file.
    const all = Buffer.allocUnsafe(size);
    return decodeResult(readFully(fd, all, 0) ? all : fs.readFileSync(path), where, path);
  } finally {
    fs.closeSync(fd);
  }
}

/** Files smaller than this are read whole: the direct path's extra read is not worth it. */
const DIRECT_MIN_BYTES = 64 * 1024;

/**
 * An uncompressed 'N' result read straight into its value's memory, when the file is one whose
 * header, length and CRC all check out; undefined otherwise (the caller then decodes the whole
 * file, which reports any damage).
 */
function readStoredNumeric(fd: number, size: number): unknown {
  const head = Buffer.allocUnsafe(STORED_HEAD_BYTES);
  const kind = readFully(fd, head, 0) ? storedNumericKind(head, size) : undefined;
  if (kind === undefined) return undefined;
  const dataBytes = size - head.length;
  const typed = kind.plain ? scratchFloat64(dataBytes) : uninitialized(kind.ctor, dataBytes);
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, dataBytes);
  if (!readFully(fd, bytes, head.length) || !storedDataMatches(head, bytes)) return undefined;
  return kind.plain ? toPlainArray(typed as Float64Array) : typed;
}

/** Bytes of a file before a stored 'N' result's data (the frame's header and the 'N' header). */
export const STORED_HEAD_BYTES = HEADER_BYTES + NUMERIC_HEADER_BYTES;

/**
 * The kind of a stored (uncompressed) 'N' result whose first STORED_HEAD_BYTES are `head`, in a
 * file of `size` bytes, when the header and the size agree; undefined otherwise.
 */
export function storedNumericKind(head: Buffer, size: number): { ctor: NumericCtor; plain: boolean } | undefined {
  if (head[0] !== PREFIX_NUMERIC || head[HEADER_BYTES + 1] !== NUMERIC_STORED) return undefined;
  const kind = NUMERIC_KINDS[head[HEADER_BYTES]!];
  const dataBytes = size - STORED_HEAD_BYTES;
  if (kind === undefined || dataBytes < 0 || dataBytes % kind.ctor.BYTES_PER_ELEMENT !== 0) return undefined;
  return head.readBigUInt64LE(1) === BigInt(size - HEADER_BYTES) ? kind : undefined;
}

/** Whether the CRC-32 in `head` (see storedNumericKind) is that of its 'N' header and `data`. */
export function storedDataMatches(head: Buffer, data: Uint8Array): boolean {
  return crc32(data, crc32(head.subarray(HEADER_BYTES, STORED_HEAD_BYTES))) === head.readUInt32LE(9);
}
