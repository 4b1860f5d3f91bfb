/**
 * Canonical, versioned encoding of task identities (docs/hashing.md).
 *
 * A task's hash is SHA-1 over `TASK_DOMAIN + enc(name) + enc(args)`, where `enc` is a tagged,
 * length-prefixed byte encoding that we define ourselves (never V8's serializer, never JSON
 * key order): stable across processes, machines and Node versions. Object keys are sorted;
 * Map and Set entries are hashed individually and sorted by digest, so insertion order never
 * matters. A Task or Tasklet argument contributes its own hash (Merkle tree over the graph).
 *
 * Changing anything here changes every stored result's address: the golden vectors in
 * test/hash.test.ts exist to make such a change fail CI.
 */
import { hash as cryptoHash } from 'node:crypto';
import { HashError } from './errors.js';
import { nameOfFunction, type TaskFunction } from './registry.js';

/**
 * Hook for user objects that define their own identity. An object with a `[jugHash]()` method
 * returning a string is hashed as that string (tagged so it cannot collide with a plain string).
 *
 * @example
 * class Dataset { constructor(readonly path: string, readonly version: number) {}
 *   [jugHash]() { return `${this.path}@${this.version}`; } }
 */
export const jugHash: unique symbol = Symbol.for('jug.hash') as never;

/** Internal hook: Task and Tasklet expose their 40-hex hash through it. */
export const taskRef: unique symbol = Symbol.for('jug.taskRef') as never;

/** Objects carrying a task reference (Task, Tasklet). */
export interface TaskRef {
  [taskRef](): string;
}

/** Objects with a user-defined identity. */
export interface CustomHashable {
  [jugHash](): string;
}

const TASK_DOMAIN = 'jug/task/v1\0';
const VALUE_DOMAIN = 'jug/value/v1\0';

/**
 * Growable byte buffer. Written for cold code: every process hashes its whole graph once at
 * start-up, mostly before V8 optimizes anything, so it writes bytes directly (no temporary
 * Buffers, no `Buffer#write*` argument checks) and is reused from one hash to the next.
 */
class Writer {
  buf: Buffer;
  len = 0;
  #dv: DataView;
  /** `#views[n]`: the first n bytes of `buf` (see view()). */
  #views: Uint8Array[] = [];
  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
    this.#dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    this.#dv = new DataView(next.buffer, next.byteOffset, next.length);
    this.#views = [];
  }
  tag(t: string): void {
    this.ensure(1);
    this.buf[this.len++] = t.charCodeAt(0);
  }
  u32(n: number): void {
    this.ensure(4);
    this.#dv.setUint32(this.len, n);
    this.len += 4;
  }
  f64(n: number): void {
    this.ensure(8);
    if (Number.isNaN(n)) {
      // One canonical NaN whatever its payload bits.
      this.#dv.setUint32(this.len, 0x7ff80000);
      this.#dv.setUint32(this.len + 4, 0);
    } else {
      this.#dv.setFloat64(this.len, n);
    }
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** A string as its UTF-8 byte length (u32) then its UTF-8 bytes (lone surrogates as U+FFFD). */
  str(s: string): void {
    this.ensure(4 + 3 * s.length); // at most 3 bytes of UTF-8 per UTF-16 code unit
    const start = this.len + 4;
    let end = start;
    if (s.length <= SHORT_STRING) {
      const b = this.buf;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          end = -1;
          break;
        }
        b[end++] = c;
      }
    } else {
      end = -1;
    }
    if (end < 0) end = start + this.buf.write(s, start, 'utf8');
    this.#dv.setUint32(this.len, end - start);
    this.len = end;
  }
  /** A string of code units below 256 (hex digests), one byte each. */
  ascii(s: string): void {
    this.ensure(s.length);
    const b = this.buf;
    let len = this.len;
    for (let i = 0; i < s.length; i++) b[len++] = s.charCodeAt(i);
    this.len = len;
  }
  /**
   * What was written, as a Uint8Array over the buffer. Views are kept per length (until the buffer
   * is replaced): tasks of one shape encode to the same length, and a new typed array per task
   * cost more than its digest (~1 µs each at start-up, while V8 still interprets this code).
   */
  view(): Uint8Array {
    const len = this.len;
    if (len >= MAX_VIEW) return new Uint8Array(this.buf.buffer, this.buf.byteOffset, len);
    return (this.#views[len] ??= new Uint8Array(this.buf.buffer, this.buf.byteOffset, len));
  }
  /** Ready for the next hash; a buffer grown past MAX_KEPT is not kept. */
  reset(): this {
    this.len = 0;
    if (this.buf.length > MAX_KEPT) {
      this.buf = Buffer.allocUnsafe(256);
      this.#dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
      this.#views = [];
    }
    return this;
  }
}

/** Strings up to this length are encoded by a loop when they are ASCII (most names and keys). */
const SHORT_STRING = 64;
/** Views of at most this many bytes are kept for reuse (Writer.view()). */
const MAX_VIEW = 4096;
/** Largest buffer the shared writer keeps between hashes (bytes). */
const MAX_KEPT = 1 << 20;

/** The writer top-level hashes use; a hash computed while it is busy (from a [jugHash]() method) gets its own. */
const shared = new Writer();
let sharedBusy = false;

/** Runs `f` with a writer holding nothing (the shared one when free). */
function withWriter<T>(f: (w: Writer) => T): T {
  if (sharedBusy) return f(new Writer());
  sharedBusy = true;
  try {
    return f(shared.reset());
  } finally {
    sharedBusy = false;
  }
}

/**
 * Where in an argument the encoder is, for error messages (`[2].data.get("k")`): a list from the
 * innermost step outwards, built as the encoder descends and only spelled out on an error. A
 * number is an index, any other step is text as shown.
 */
type Path = { readonly up: Path; readonly step: number | string } | undefined;

/** Spells out a path: `[2].data.get("k")`. */
function showPath(path: Path): string {
  let out = '';
  for (let p = path; p !== undefined; p = p.up) out = (typeof p.step === 'number' ? `[${p.step}]` : p.step) + out;
  return out;
}

class Encoder {
  /** Containers being encoded (to refuse cycles); made at the first container: most tasks have none. */
  #seen: Set<object> | undefined;
  constructor(readonly w: Writer) {}

  private get seen(): Set<object> {
    return (this.#seen ??= new Set<object>());
  }

  /** Ready for another top-level value (the shared encoder of {@link hashTask}). */
  reset(w: Writer): this {
    (this as { w: Writer }).w = w;
    this.#seen?.clear();
    return this;
  }

  encode(x: unknown, path: Path): void {
    const w = this.w;
    switch (typeof x) {
      case 'undefined':
        return w.tag('u');
      case 'boolean':
        return w.tag(x ? 't' : 'f');
      case 'number':
        w.tag('n');
        return w.f64(x);
      case 'bigint':
        w.tag('i');
        return w.str(x.toString(16));
      case 'string':
        w.tag('s');
        return w.str(x);
      case 'symbol':
        throw unhashable('a symbol', path);
      case 'function': {
        const fn = x as TaskFunction & Partial<TaskRef>;
        const ref = fn[taskRef];
        if (typeof ref === 'function') {
          // A TaskGenerator: identified by the task name of the function it wraps.
          w.tag('F');
          return w.str(ref.call(fn));
        }
        const name = nameOfFunction(fn);
        if (name === undefined) {
          throw unhashable(
            `function '${fn.name || '(anonymous)'}', which is not a task function`,
            path,
            'Only functions wrapped with TaskGenerator (identified by their task name) can be arguments.',
          );
        }
        w.tag('F');
        return w.str(name);
      }
      case 'object':
        return this.encodeObject(x, path);
    }
  }

  private encodeObject(x: object | null, path: Path): void {
    if (x === null) return this.w.tag('z');
    if (this.encodeAtom(x, path)) return;
    if (this.seen.has(x)) throw unhashable('a circular structure', path, 'Task arguments must be trees of values.');
    this.seen.add(x);
    try {
      this.encodeContainer(x, path);
    } finally {
      this.seen.delete(x);
    }
  }

  /** Objects hashed whole, without looking inside: task references, [jugHash](), binary data, dates. */
  private encodeAtom(x: object, path: Path): boolean {
    const w = this.w;
    const ref = (x as Partial<TaskRef>)[taskRef];
    if (typeof ref === 'function') {
      w.tag('T');
      w.ascii(ref.call(x));
      return true;
    }
    const custom = (x as Partial<CustomHashable>)[jugHash];
    if (typeof custom === 'function') {
      const h: unknown = custom.call(x);
      if (typeof h !== 'string') {
        throw unhashable(`an object whose [jugHash]() returned ${typeof h}`, path, '[jugHash]() must return a string.');
      }
      w.tag('H');
      w.str(h);
      return true;
    }
    if (ArrayBuffer.isView(x)) {
      w.tag('x');
      w.str(binaryTypeName(x));
      w.u32(x.byteLength);
      w.bytes(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      return true;
    }
    if (x instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer)) {
      w.tag('x');
      w.str(x instanceof ArrayBuffer ? 'ArrayBuffer' : 'SharedArrayBuffer');
      w.u32(x.byteLength);
      w.bytes(new Uint8Array(x));
      return true;
    }
    if (x instanceof Date) {
      w.tag('D');
      w.f64(x.getTime());
      return true;
    }
    return false;
  }

  /** Arrays, Maps, Sets and plain objects (the caller guards against cycles); anything else is refused. */
  private encodeContainer(x: object, path: Path): void {
    if (Array.isArray(x)) return this.encodeArray(x, path);
    if (x instanceof Map) return this.encodeUnordered('M', x, path);
    if (x instanceof Set) return this.encodeUnordered('S', x, path);
    const proto: unknown = Object.getPrototypeOf(x);
    if (proto === Object.prototype || proto === null) return this.encodePlain(x as Record<string, unknown>, path);
    throw refused(x, path);
  }

  private encodeArray(x: readonly unknown[], path: Path): void {
    const w = this.w;
    w.tag('a');
    w.u32(x.length);
    for (let i = 0; i < x.length; i++) {
      const e: unknown = x[i];
      // The common elements (numbers, tasks: an array of 50,000 task results) without a path
      // object each: they cannot fail, so no error message needs where they are.
      if (typeof e === 'number') {
        w.tag('n');
        w.f64(e);
        continue;
      }
      const ref = typeof e === 'object' && e !== null ? (e as Partial<TaskRef>)[taskRef] : undefined;
      if (typeof ref === 'function') {
        w.tag('T');
        w.ascii(ref.call(e));
        continue;
      }
      this.encode(e, { up: path, step: i });
    }
  }

  /**
   * A Map or Set: each entry hashed on its own (the enclosing containers still count as seen, so a
   * cycle through an entry is refused), the digests sorted, so that insertion order does not matter.
   */
  private encodeUnordered(tag: 'M' | 'S', x: Map<unknown, unknown> | Set<unknown>, path: Path): void {
    const digests: Buffer[] = [];
    const entry = (encodeEntry: (sub: Encoder) => void): void => {
      const sub = new Encoder(new Writer());
      for (const s of this.seen) sub.seen.add(s);
      encodeEntry(sub);
      digests.push(sha1Bytes(sub.w.view()));
    };
    if (x instanceof Map) {
      for (const [k, v] of x) {
        entry((sub) => {
          sub.encode(k, { up: path, step: '.keys()' });
          sub.encode(v, { up: path, step: `.get(${short(k)})` });
        });
      }
    } else {
      for (const v of x) entry((sub) => sub.encode(v, { up: path, step: '<set element>' }));
    }
    this.w.tag(tag);
    this.sorted(digests);
  }

  private encodePlain(x: Record<string, unknown>, path: Path): void {
    const w = this.w;
    const keys = Object.keys(x).sort();
    w.tag('o');
    w.u32(keys.length);
    for (const k of keys) {
      w.str(k);
      this.encode(x[k], { up: path, step: `.${k}` });
    }
  }

  private sorted(digests: Buffer[]): void {
    digests.sort(Buffer.compare);
    this.w.u32(digests.length);
    for (const d of digests) this.w.bytes(d);
  }
}

/** The error for an object jug cannot hash (a class instance without [jugHash](), a Promise). */
function refused(x: object, path: Path): UnhashableValue {
  if (x instanceof Promise) {
    return unhashable(
      'a Promise',
      path,
      'Await it before declaring the task, or make the work that produces it a task and pass that task.',
    );
  }
  const ctor = (x as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
  return unhashable(
    `an instance of ${ctor}`,
    path,
    `Pass plain data (objects, arrays, Map, Set, Date, typed arrays), or give ${ctor} a [jugHash]() method ` +
      `(import { jugHash } from 'jug'; see docs/hashing.md).`,
  );
}

function binaryTypeName(v: ArrayBufferView): string {
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (v instanceof DataView) return 'DataView';
  return Object.prototype.toString.call(v).slice(8, -1); // "Float64Array", ...
}

function short(k: unknown): string {
  if (typeof k === 'string') return JSON.stringify(k.length > 20 ? k.slice(0, 20) + '…' : k);
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  return '…';
}

/** Raised internally with the path; the caller adds which task and argument. */
class UnhashableValue extends Error {
  constructor(
    readonly what: string,
    readonly path: Path,
    readonly hint: string,
  ) {
    super(what);
  }

  /** The user's error: `Cannot hash ${subject} at [2].data: it is a symbol. ${hint}` */
  toHashError(subject: string): HashError {
    const where = this.path === undefined ? '' : ` at ${showPath(this.path)}`;
    return new HashError(`Cannot hash ${subject}${where}: it is ${this.what}.` + (this.hint ? ` ${this.hint}` : ''));
  }
}

function unhashable(what: string, path: Path, hint = ''): UnhashableValue {
  return new UnhashableValue(what, path, hint);
}

function sha1Bytes(b: Uint8Array): Buffer {
  return cryptoHash('sha1', b, 'buffer') as unknown as Buffer;
}

function sha1Hex(b: Uint8Array): string {
  return cryptoHash('sha1', b, 'hex');
}

/**
 * Hash of a task: 40 lowercase hex characters. Throws a HashError naming the task and argument
 * position when an argument cannot be hashed.
 */
export function hashTask(name: string, args: readonly unknown[]): string {
  // Called once per task declared (a million at start-up for a big jugfile): the shared writer
  // and encoder without a closure or allocation per call when free (withWriter's logic, inlined).
  if (sharedBusy) {
    const w = new Writer();
    return encodeTask(w, new Encoder(w), name, args);
  }
  sharedBusy = true;
  try {
    return encodeTask(shared.reset(), sharedEncoder.reset(shared), name, args);
  } finally {
    sharedBusy = false;
  }
}

/** The shared writer's encoder (used only while `sharedBusy` is held by hashTask). */
const sharedEncoder = new Encoder(shared);

function encodeTask(w: Writer, enc: Encoder, name: string, args: readonly unknown[]): string {
  w.ascii(TASK_DOMAIN);
  w.tag('s');
  w.str(name);
  w.tag('a');
  w.u32(args.length);
  for (let i = 0; i < args.length; i++) {
    try {
      enc.encode(args[i], undefined);
    } catch (e) {
      if (e instanceof UnhashableValue) throw e.toHashError(`argument ${i + 1} of task '${name}'`);
      throw e;
    }
  }
  return sha1Hex(w.view());
}

/**
 * Hash of any hashable value (40 hex characters), with the same canonical encoding as task
 * arguments. Useful inside `[jugHash]()` implementations.
 */
export function hashValue(value: unknown): string {
  return withWriter((w) => {
    w.ascii(VALUE_DOMAIN);
    try {
      new Encoder(w).encode(value, undefined);
    } catch (e) {
      if (e instanceof UnhashableValue) throw e.toHashError('value');
      throw e;
    }
    return sha1Hex(w.view());
  });
}

/** Hash of a derived value (Tasklet): its operation applied to a base hash. */
export function hashDerived(kind: string, baseHash: string, operand: unknown): string {
  return hashTask(`jug.tasklet.${kind}`, [{ [taskRef]: () => baseHash } as TaskRef, operand]);
}
