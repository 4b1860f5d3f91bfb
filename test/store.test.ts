/**
 * Unit tests of the result stores: one suite run against FileStore and MemoryStore, then the
 * FileStore's on-disk specifics (layout, atomic writes, lazy directories, damaged files).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FileStore } from '../src/store/file-store.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { decodeResult, encodeResult } from '../src/store/encode.js';
import { CorruptResultError, NotComputedError, StoreError } from '../src/errors.js';
import type { Store } from '../src/store/store.js';

/** A valid 40-hex hash derived from a label. */
function h(label: string | number): string {
  return createHash('sha1').update(String(label)).digest('hex');
}

let root: string;
let counter = 0;
before(() => {
  root = fs.mkdtempSync(join(os.tmpdir(), 'jug-store-test-'));
});
after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});
/** A fresh, not yet existing jugdir path. */
function freshDir(): string {
  return join(root, `jugdir-${++counter}`);
}

/** Asserts the promise rejects with an instance of `cls` whose message contains each fragment. */
async function rejectsWith(
  p: Promise<unknown>,
  cls: abstract new (...args: never[]) => Error,
  ...fragments: string[]
): Promise<Error> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  for (const f of fragments) assert.ok(caught.message.includes(f), `message ${JSON.stringify(caught.message)} lacks ${f}`);
  return caught;
}

const kinds: ReadonlyArray<readonly [string, () => Store]> = [
  ['FileStore', () => new FileStore(freshDir())],
  ['FileStore (fsync off)', () => new FileStore(freshDir(), { fsync: false })],
  ['MemoryStore', () => new MemoryStore()],
];

for (const [kind, make] of kinds) {
  describe(`${kind}: results`, () => {
    it('has / dump / load / remove', async () => {
      const s = make();
      const k = h('a');
      assert.equal(await s.has(k), false);
      await s.dump(k, { x: [1, 2, 3] }, 'mod.a');
      assert.equal(await s.has(k), true);
      assert.deepStrictEqual(await s.load(k), { x: [1, 2, 3] });
      assert.deepStrictEqual(await s.load(k, 'mod.a'), { x: [1, 2, 3] });
      assert.equal(await s.remove(k), true);
      assert.equal(await s.has(k), false);
      await rejectsWith(s.load(k), NotComputedError, k);
      assert.equal(await s.remove(k), false);
      await s.close();
    });

    it('load of a missing result → NotComputedError naming the hash (and the task)', async () => {
      const s = make();
      const k = h('missing');
      await rejectsWith(s.load(k), NotComputedError, k);
      await rejectsWith(s.load(k, 'mod.missingTask'), NotComputedError, k, 'mod.missingTask');
    });

    it('dump overwrites', async () => {
      const s = make();
      const k = h('over');
      await s.dump(k, 'first');
      await s.dump(k, { second: 2 });
      assert.deepStrictEqual(await s.load(k), { second: 2 });
      assert.deepStrictEqual([...(await s.list())], [k]);
    });

    it('results are independent per hash', async () => {
      const s = make();
      await s.dump(h(1), 1);
      await s.dump(h(2), 2);
      assert.equal(await s.load(h(1)), 1);
      assert.equal(await s.load(h(2)), 2);
      await s.remove(h(1));
      assert.equal(await s.has(h(1)), false);
      assert.equal(await s.load(h(2)), 2);
    });

    it('list() returns exactly the stored hashes', async () => {
      const s = make();
      assert.deepStrictEqual(await s.list(), new Set());
      const expected = new Set<string>();
      for (let i = 0; i < 60; i++) expected.add(h(`list-${i}`));
      // hashes sharing a 2-character prefix (same shard directory)
      expected.add('ab' + '0'.repeat(38));
      expected.add('ab' + '1'.repeat(38));
      for (const k of expected) await s.dump(k, k);
      assert.deepStrictEqual(await s.list(), expected);
      const gone = [...expected].slice(0, 10);
      for (const k of gone) await s.remove(k);
      for (const k of gone) expected.delete(k);
      assert.deepStrictEqual(await s.list(), expected);
    });

    it('round-trips rich values', async () => {
      const s = make();
      const v = {
        m: new Map<unknown, unknown>([[1, new Set(['a'])]]),
        b: Buffer.from([1, 2]),
        d: new Date(5),
        big: 10n ** 30n,
        f: new Float64Array([1, NaN]),
        zeros: new Array(50_000).fill(0),
      };
      await s.dump(h('rich'), v, 'mod.rich');
      const out = (await s.load(h('rich'))) as typeof v;
      assert.deepStrictEqual(out, v);
      assert.ok(Buffer.isBuffer(out.b));
    });

    it('a stored undefined or null is a result, not a missing one', async () => {
      const s = make();
      await s.dump(h('u'), undefined);
      await s.dump(h('n'), null);
      assert.equal(await s.has(h('u')), true);
      assert.equal(await s.load(h('u')), undefined);
      assert.equal(await s.load(h('n')), null);
    });

    it('an invalid hash → StoreError on dump and lock, nothing stored', async () => {
      const s = make();
      for (const bad of ['', 'abc', h('x').toUpperCase(), h('x') + '0', '../' + h('x').slice(3)]) {
        await rejectsWith(s.dump(bad, 1), StoreError, 'Invalid task hash', bad);
        assert.throws(() => s.lock(bad), StoreError);
      }
      assert.deepStrictEqual(await s.list(), new Set());
      assert.deepStrictEqual(await s.listLocks(), new Map());
    });

    it('an unstorable value → StoreError naming the task, nothing stored', async () => {
      const s = make();
      const k = h('bad');
      await rejectsWith(s.dump(k, { cb: () => 1 }, 'mod.badTask'), StoreError, 'mod.badTask');
      assert.equal(await s.has(k), false);
      assert.deepStrictEqual(await s.list(), new Set());
      // an earlier good result is kept
      await s.dump(k, 'good');
      await rejectsWith(s.dump(k, Symbol('x'), 'mod.badTask'), StoreError, 'mod.badTask');
      assert.equal(await s.load(k), 'good');
    });
  });
}

describe('MemoryStore: damaged bytes', () => {
  it('load → CorruptResultError naming the task', async () => {
    const s = new MemoryStore();
    const k = h('mem-corrupt');
    await s.dump(k, [1, 2, 3]);
    const bytes = s.results.get(k)!;
    bytes[bytes.length - 1]! ^= 0x10;
    await rejectsWith(s.load(k, 'mod.memTask'), CorruptResultError, 'mod.memTask', k);
  });
});

describe('FileStore: on-disk layout', () => {
  it('a result lives at <jugdir>/<h[0:2]>/<h[2:]>', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const k = h('layout');
    await s.dump(k, { v: 42 }, 'mod.layout');
    const file = join(dir, k.slice(0, 2), k.slice(2));
    assert.equal(s.resultPath(k), file);
    assert.ok(fs.statSync(file).isFile());
    assert.deepStrictEqual(decodeResult(fs.readFileSync(file), 'test'), { v: 42 });
    // exactly what encodeResult produces
    assert.deepStrictEqual(fs.readFileSync(file), encodeResult({ v: 42 }));
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), [k.slice(0, 2), 'tempfiles']);
    assert.deepStrictEqual(fs.readdirSync(join(dir, k.slice(0, 2))), [k.slice(2)]);
  });

  it('a result written by one FileStore is seen by another on the same jugdir', async () => {
    const dir = freshDir();
    await new FileStore(dir).dump(h('shared'), 'hello');
    const other = new FileStore(dir + '/');
    assert.equal(other.location, dir);
    assert.equal(await other.load(h('shared')), 'hello');
    assert.deepStrictEqual(await other.list(), new Set([h('shared')]));
  });

  it('no leftover files in tempfiles/ after dumps (also failed ones)', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    for (let i = 0; i < 20; i++) await s.dump(h(`tmp-${i}`), new Array(1000).fill(i));
    await s.dump(h('tmp-0'), 'overwrite');
    await assert.rejects(s.dump(h('tmp-bad'), () => 1));
    assert.deepStrictEqual(fs.readdirSync(join(dir, 'tempfiles')), []);
    assert.equal((await s.list()).size, 20);
  });

  it('result files are not executable', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    await s.dump(h('mode'), 1);
    const mode = fs.statSync(s.resultPath(h('mode'))).mode & 0o777;
    assert.equal(mode & 0o111, 0, `mode ${mode.toString(8)}`);
    assert.equal(mode & 0o600, 0o600, `mode ${mode.toString(8)}`);
  });

  it('reads create nothing on a missing jugdir (lazy directories)', async () => {
    const parent = freshDir();
    fs.mkdirSync(parent);
    const dir = join(parent, 'jugdata');
    const s = new FileStore(dir);
    const k = h('lazy');
    assert.equal(await s.has(k), false);
    assert.deepStrictEqual(await s.list(), new Set());
    assert.deepStrictEqual(await s.listLocks(), new Map());
    await rejectsWith(s.load(k, 'mod.lazy'), NotComputedError, k);
    assert.equal(await s.remove(k), false);
    const lock = s.lock(k);
    assert.equal(await lock.isLocked(), false);
    assert.equal(await lock.isFailed(), false);
    assert.equal(await lock.fail(), false);
    await lock.release();
    assert.equal(fs.existsSync(dir), false);
    assert.deepStrictEqual(fs.readdirSync(parent), []);
  });

  it('list() ignores everything that is not a result file', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const k = h('only');
    await s.dump(k, 1);
    await s.lock(h('locked')).get();
    fs.writeFileSync(join(dir, 'README'), 'x');
    fs.writeFileSync(join(dir, 'ab'), 'a file named like a shard');
    fs.mkdirSync(join(dir, 'zz'));
    fs.writeFileSync(join(dir, 'zz', 'f'.repeat(38)), 'not hex shard');
    fs.writeFileSync(join(dir, k.slice(0, 2), 'short'), 'x');
    fs.writeFileSync(join(dir, k.slice(0, 2), k.slice(2) + '.tmp'), 'x');
    fs.writeFileSync(join(dir, 'tempfiles', 'c'.repeat(38)), 'x');
    assert.deepStrictEqual(await s.list(), new Set([k]));
  });

  it('a damaged result file → CorruptResultError with the path and the task name', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const k = h('corrupt');
    await s.dump(k, { data: new Array(100).fill(1) });
    const file = s.resultPath(k);
    const good = fs.readFileSync(file);
    const damaged: ReadonlyArray<readonly [string, Buffer]> = [
      ['empty', Buffer.alloc(0)],
      ['truncated', good.subarray(0, good.length - 3)],
      ['flipped bit', Buffer.from(good.map((b, i) => (i === good.length >> 1 ? b ^ 4 : b)))],
      ['garbage', Buffer.from('this is not a jug result')],
    ];
    for (const [label, bytes] of damaged) {
      fs.writeFileSync(file, bytes);
      const e = await rejectsWith(s.load(k, 'mod.corruptTask'), CorruptResultError, file, 'mod.corruptTask');
      assert.equal((e as CorruptResultError).path, file, `${label}: .path should be the file`);
      // without a task name the path is still named
      await rejectsWith(s.load(k), CorruptResultError, file);
      // has() still reports the (damaged) file
      assert.equal(await s.has(k), true);
    }
    // dumping again repairs it
    await s.dump(k, 'fixed');
    assert.equal(await s.load(k), 'fixed');
  });

  it('dump with an invalid hash → StoreError, nothing written', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    for (const bad of ['', 'abc', h('x').toUpperCase(), h('x') + '0', h('x').slice(1), '../../' + h('x').slice(6), 'g'.repeat(40)]) {
      await rejectsWith(s.dump(bad, 1), StoreError, 'Invalid task hash');
      assert.throws(() => s.lock(bad), StoreError);
    }
    assert.equal(fs.existsSync(dir), false);
  });

  it('a jugdir that is a regular file → dump throws a clear StoreError', async () => {
    const file = freshDir();
    fs.writeFileSync(file, 'I am a file');
    const s = new FileStore(file);
    const e = await rejectsWith(s.dump(h('f'), 1, 'mod.fileTask'), StoreError, file);
    assert.ok(!(e instanceof CorruptResultError));
    assert.match(e.message, /a file\?/);
    await rejectsWith(s.lock(h('f')).get(), StoreError, file);
    // reads still do not crash with a raw system error
    assert.equal(await s.has(h('f')), false);
    await rejectsWith(s.load(h('f')), NotComputedError, h('f'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'I am a file');
  });
});
