/**
 * Unit tests of the canonical task / value hashing (src/hash.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { hashTask, hashValue, jugHash, taskRef, type CustomHashable } from '../src/hash.js';
import { HashError } from '../src/errors.js';
import { Task, TaskGenerator } from '../src/task.js';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Task names are given explicitly so they do not depend on this file's name.
const f = TaskGenerator(
  function f(a: number, b: number): number {
    return a + b;
  },
  { name: 'vectors.f' },
);
const g = TaskGenerator(
  function g(x: unknown): unknown {
    return x;
  },
  { name: 'vectors.g' },
);

const pair = TaskGenerator(
  function pair(a: number, b: number): number[] {
    return [a, b];
  },
  { name: 'vectors.pair' },
);

/** The Task used by the golden vectors: vectors.f(1, 2). */
const T12 = f(1, 2);

class Dataset implements CustomHashable {
  constructor(
    readonly path: string,
    readonly version: number,
  ) {}
  [jugHash](): string {
    return `${this.path}@${this.version}`;
  }
}

/** Bytes 01 02 03 ff as a fresh ArrayBuffer. */
function bytes4(): ArrayBuffer {
  return new Uint8Array([1, 2, 3, 255]).buffer;
}

/*
 * GOLDEN VECTORS.
 *
 * A task's hash is the address of its stored result. If any of these vectors fails, the encoding
 * changed, and every result that every user has already stored would be silently invalidated
 * (jug would recompute everything, or — worse — two versions of jug sharing a jugdir would
 * disagree about what is computed). Do NOT "fix" a failing vector by pasting the new hash: the
 * encoding must not change. If it really must, bump the domain version ('jug/task/v1',
 * 'jug/value/v1' in src/hash.ts) deliberately, document it, and regenerate the table.
 *
 * Each row: [label, input, hashValue(input), hashTask('vectors.g', [input])].
 */
const VECTORS: ReadonlyArray<readonly [string, () => unknown, string, string]> = [
  ['null', () => null, '8dcd6570b3031ba484eb30aa192a5f9eda90ff21', 'd32a7d72285131723c4f236b705b72eef66c6991'],
  ['undefined', () => undefined, '72d90d48c392ff1e1dd12430425aca9cc274c48e', '35b01e78a4134cc31984bf1f61ee88844f462e87'],
  ['true', () => true, '6c0c70c7c400980d9087763c7bcac44b28cdcb9c', '4001a4d32019991235c0287cdadfa1ff8d646282'],
  ['false', () => false, '03b851ffa617adf54f4e978ab4a419c9c38dafc8', 'be2c1cc9346d447335bbac11f86b8742899c2819'],
  ['0', () => 0, '1c57c1b948c1995f26c92dccdc9dc60b59980746', 'e7800377feab73a455e91212aa0613430875bbb5'],
  ['-0', () => -0, '0711ea4b678a91016ad6765d2e436fd2234e0dfb', 'c7469093f59e94216c1e6781a4614d89d8169169'],
  ['1.5', () => 1.5, '067ad658a91556d92d29a4959e760d242bb0368a', '78f1828921d51dea810728ad4e9745e8a95f9be5'],
  ['NaN', () => NaN, '96cdbf2561400a738349f7ea139a9ef5e5f1fb15', '6e73225095cf0ded1bdbee9ffcbe9f4b18404552'],
  ['Infinity', () => Infinity, 'b02b61e32ac117c9c82b6d3e388ebdd776a6930c', '8866640c94f61b999d96a0df1f544aba322e1efb'],
  ['-Infinity', () => -Infinity, '078f2261e164776e75446e9aa2106e23be5c611e', 'e28c47ab5f77ee195cf2be043f63a92658a4fb23'],
  ['2**53', () => 2 ** 53, 'd333a8f472811cb490fa9c12d273686f21ee1a17', '17ad7c428cf6751fd1740fb95c1673cf0da6f111'],
  ['0n', () => 0n, '9f70b51d9a9ce6852c31656859587cb05e1d0921', '3f0fafa5a6f4185bdb4a09a275c8f8155912ecb3'],
  ['-5n', () => -5n, 'b59b194106951fad512bd6b456b0e006a7bf27a6', 'cdde62069f8296481c907103697a2a6d9d9c0928'],
  ['2n**70n', () => 2n ** 70n, '9bc7b19ce7705d705d722ab642236a54c7e8ca8e', 'af799827426b55132b37e1f75e859fa2be6faba0'],
  ["''", () => '', '2b1aa7705616efdcc569c689a870af7eedca372d', '6950a274e4956b0064ce9523852215172316b550'],
  ["'héllo ☃'", () => 'héllo ☃', '9956fcb97eab823f64caf5b66200be871647c0de', '6fde1582e24da7846c4d36c2baf3f8bae506f221'],
  [
    'nested array',
    () => [1, [2, [3, 'x']], []],
    '8881691bb8adb6294335b19bcd7a10df587274a3',
    'ec470b0bc0ddec0ae090140eaab9adca6878d381',
  ],
  [
    'plain object',
    () => ({ b: 1, a: { c: [true, null] } }),
    'e371639ad593e85cbd5f8a532a17ca0f65b7ee83',
    '36204ed78001fc0ffe2cf911423f79fa1f2b4953',
  ],
  [
    'Map',
    () =>
      new Map<unknown, unknown>([
        ['k', 1],
        [2, 'v'],
      ]),
    'f4c6383a73a736ea566df2562912984f68c939cd',
    '2561f51b6306f637d7676036eed4340eaeaafbb7',
  ],
  ['Set', () => new Set([1, 'a', null]), '3964942915b7823b7d9f6963db9346ebf279fe23', '3f40f4d90ee0085f461e80b3e49d23f4d8951dba'],
  [
    'Date',
    () => new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
    'fd173fb83d65ba167a37bd4b11c8770bd2fc2609',
    '137666b8ff3d36e7a39dba4c6e03239347db8c6a',
  ],
  [
    'Buffer',
    () => Buffer.from([1, 2, 3, 255]),
    'd4356a1982980494b24a99e0cce1d560220eb9a4',
    '8ff178eaa4933e19786cbd76f2db95c6cb0da783',
  ],
  [
    'Uint8Array',
    () => new Uint8Array([1, 2, 3, 255]),
    'd5f5a649171023cb813178aa4d22bb1bd07453eb',
    '53b52db93dea85eb5ae33dfbccdea612e9171f95',
  ],
  [
    'Float64Array',
    () => new Float64Array([1.5, -2, NaN]),
    '1081e8d81cd48624fbfdc15b23ce6f116134778b',
    '66fac6e78fb5487a7635cab21cbcbe706cfbf2cf',
  ],
  ['ArrayBuffer', () => bytes4(), '73cdff35f69c755dc1edb04ceff3852fb36e3f48', '76773aa553f07e0ec92f0db0fc9d6b0767467307'],
  [
    'DataView',
    () => new DataView(bytes4()),
    'e8535e97a45cc92af85e221adb3c9d488e3f3e07',
    '4500877b53f144dc5d304756c32827c817d6fc99',
  ],
  ['Task vectors.f(1, 2)', () => T12, 'ee8514f1b4f1af44a1f2698d8a81153c22488bd6', '505a0382f9c8b5b74cf38a60a56ccdf9e7847ff4'],
  ['TaskGenerator vectors.f', () => f, '6ff73be6734799c8f626bd49c19b1fca89fd71c0', 'b4d1d02565c8df874790ca287f8900e3704c01c5'],
  [
    'registered function vectors.f',
    () => f.fn,
    '6ff73be6734799c8f626bd49c19b1fca89fd71c0',
    'b4d1d02565c8df874790ca287f8900e3704c01c5',
  ],
  [
    '[jugHash]() object',
    () => new Dataset('dataset', 3),
    '353219206472d64432fd3de4af638b5870790a8c',
    '55f3a1c34deb7ddbea88f6f60c50cdf30158eec9',
  ],
  // The encoder writes short ASCII strings byte by byte and others through Buffer#write, into a
  // writer reused between hashes (grown for large inputs, fresh for a hash taken inside a
  // [jugHash]() method). These rows were computed by the previous encoder, which used
  // Buffer.from(s, 'utf8') for every string and a new buffer for every hash.
  ['ASCII string of 64', () => 'x'.repeat(64), 'f40ded686a9e9ae67c44117a254611ae57979fee', '3ded86f80bbf4687de7b141ac785af046b18bbd2'],
  ['ASCII string of 65', () => 'y'.repeat(65), '9c025f183ebbf1e4929171ac4703f9d9fcc66835', 'e0a2ecc7591a8cdb9bb4b3812ccbd45f448dac1e'],
  [
    'long non-ASCII string',
    () => 'é☃😀'.repeat(40),
    'd17acb829f69ff515b8abaa38665003957b49fee',
    '28b11f23c30ebec974112c119fdcedf9408d3371',
  ],
  ['lone surrogates', () => '\ud800a\udfff', '1c5fe7ed1b1d6e623be6d40ce75d62203588100f', '4d089ed33cf5f70f559fd799eceb8770b91e2c22'],
  ['latin-1 and astral', () => 'ÿ\u0080😀', '6b9ea55229ff41e496981ebba05dc167cd559000', 'e99b205a9e68944383eeb5f0bd2b854149f207d1'],
  [
    'object with non-ASCII and long keys',
    () => ({ clé: 1, ['k'.repeat(80)]: 'v', '😀': [1] }),
    'b424961db6db8a806dd1e0bf4fe79989774465a4',
    '7ce6f8a0eec869f3f19d9faf336b755d4dcd64b8',
  ],
  [
    'array of 1000 strings',
    () => Array.from({ length: 1000 }, (_, i) => `item-${i}`),
    'cfac85da1d9525ff69c3c633c6b02592d37b6c56',
    '393a6ea62b7da3b4a3373630c3b3a43e7b5a4104',
  ],
  [
    '[jugHash]() that hashes a value',
    () => ({ [jugHash]: () => hashValue({ inner: [1, 'two'] }) }),
    'ab44ea0372ca3cbbe82f38181840c4fa2fa685ae',
    '4b8072b327210e9fa482fc984bc70597af0000e2',
  ],
];

describe('hash golden vectors (changing any of these invalidates every stored result)', () => {
  it('the task used in the vectors has a fixed hash', () => {
    assert.equal(T12.name, 'vectors.f');
    assert.equal(T12.hash(), '2dbe66552837c5379c2a23218c52587c78047799');
    assert.equal(hashTask('vectors.f', [1, 2]), '2dbe66552837c5379c2a23218c52587c78047799');
  });

  for (const [label, make, valueHash, taskHash] of VECTORS) {
    it(`hashValue(${label})`, () => {
      assert.equal(hashValue(make()), valueHash);
    });
    it(`hashTask('vectors.g', [${label}])`, () => {
      assert.equal(hashTask('vectors.g', [make()]), taskHash);
    });
  }

  it('multi-argument and zero-argument tasks', () => {
    assert.equal(hashTask('vectors.g', []), 'f366e3b1fe50ceaba79b1926a2523964f93fba80');
    assert.equal(hashTask('vectors.g', [1, 'a', [T12]]), '1ca16da2b0ef31fe9d6f6ee7199dba9ac5bacc2b');
  });

  it('every vector is distinct (no two inputs of the table collide)', () => {
    // The Task generator and its registered function are the same identity, by design.
    const values = VECTORS.filter(([l]) => l !== 'registered function vectors.f').map(([, , v]) => v);
    assert.equal(new Set(values).size, values.length);
  });

  it('matches the documented byte encoding (independent re-derivation)', () => {
    const sha1 = (...parts: Buffer[]): string => createHash('sha1').update(Buffer.concat(parts)).digest('hex');
    const lenStr = (s: string): Buffer => {
      const b = Buffer.from(s, 'utf8');
      const l = Buffer.alloc(4);
      l.writeUInt32BE(b.length);
      return Buffer.concat([l, b]);
    };
    const VALUE = Buffer.from('jug/value/v1\0', 'latin1');
    const TASK = Buffer.from('jug/task/v1\0', 'latin1');
    // null is tag 'z'
    assert.equal(hashValue(null), sha1(VALUE, Buffer.from('z')));
    // a number is tag 'n' + float64 big-endian
    const num = Buffer.alloc(9);
    num[0] = 0x6e;
    num.writeDoubleBE(1.5, 1);
    assert.equal(hashValue(1.5), sha1(VALUE, num));
    // a string is tag 's' + uint32 BE byte length + UTF-8
    assert.equal(hashValue('héllo ☃'), sha1(VALUE, Buffer.from('s'), lenStr('héllo ☃')));
    // a task is 's' name, then 'a' + count + each argument
    assert.equal(hashTask('vectors.g', []), sha1(TASK, Buffer.from('s'), lenStr('vectors.g'), Buffer.from('a'), Buffer.alloc(4)));
    // a task argument contributes 'T' + its 40-hex hash (Merkle)
    assert.equal(hashValue(T12), sha1(VALUE, Buffer.from('T'), Buffer.from(T12.hash(), 'latin1')));
    // An array: 'a' + count + each element. Numbers and tasks take a shorter path in the encoder
    // (no error path to build): the same bytes as any other element, NaN canonical, -0 kept.
    const n = (x: number): Buffer => {
      const b = Buffer.alloc(9);
      b[0] = 0x6e;
      if (Number.isNaN(x)) b.writeUInt32BE(0x7ff80000, 1);
      else b.writeDoubleBE(x, 1);
      return b;
    };
    const count = (k: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(k);
      return b;
    };
    const mixed = [1, T12, -0, Number.NaN, 'x', [T12, 2]];
    assert.equal(
      hashValue(mixed),
      sha1(
        VALUE, Buffer.from('a'), count(6), n(1), Buffer.from('T'), Buffer.from(T12.hash(), 'latin1'), n(-0), n(Number.NaN),
        Buffer.from('s'), lenStr('x'), Buffer.from('a'), count(2), Buffer.from('T'), Buffer.from(T12.hash(), 'latin1'), n(2),
      ),
    );
    assert.equal(
      hashTask('vectors.g', [mixed]),
      sha1(TASK, Buffer.from('s'), lenStr('vectors.g'), Buffer.from('a'), count(1), Buffer.from('a'), count(6), n(1), Buffer.from('T'), Buffer.from(T12.hash(), 'latin1'), n(-0), n(Number.NaN), Buffer.from('s'), lenStr('x'), Buffer.from('a'), count(2), Buffer.from('T'), Buffer.from(T12.hash(), 'latin1'), n(2)),
    );
    // A circular array is still refused by the shared encoder, which then hashes the next task normally.
    const loop: unknown[] = [1];
    loop.push(loop);
    assert.throws(() => hashTask('vectors.g', [loop]), /circular/);
    assert.equal(hashTask('vectors.g', [1, 'a', [T12]]), '1ca16da2b0ef31fe9d6f6ee7199dba9ac5bacc2b');
  });
});

describe('hash properties', () => {
  it('hashes are 40 lowercase hex characters', () => {
    assert.match(hashValue({ a: [1, 2] }), /^[0-9a-f]{40}$/);
    assert.match(hashTask('x.y', [1]), /^[0-9a-f]{40}$/);
  });

  it('task and value hashes use different domains', () => {
    assert.notEqual(hashTask('n', []), hashValue('n'));
  });

  it('object key order does not matter', () => {
    const a = { x: 1, y: [1, 2], z: { p: 'q', r: null } };
    const b = { z: { r: null, p: 'q' }, y: [1, 2], x: 1 };
    assert.equal(hashValue(a), hashValue(b));
    assert.equal(hashTask('t', [a]), hashTask('t', [b]));
    // ...but values do
    assert.notEqual(hashValue(a), hashValue({ ...a, x: 2 }));
    // ...and keys do
    assert.notEqual(hashValue({ a: 1 }), hashValue({ b: 1 }));
  });

  it('null-prototype objects hash like plain objects', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.k = 1;
    assert.equal(hashValue(o), hashValue({ k: 1 }));
  });

  it('Map insertion order does not matter, keys and values do', () => {
    const m1 = new Map<unknown, unknown>([
      ['a', 1],
      ['b', 2],
      [3, [4]],
    ]);
    const m2 = new Map<unknown, unknown>([
      [3, [4]],
      ['b', 2],
      ['a', 1],
    ]);
    assert.equal(hashValue(m1), hashValue(m2));
    assert.notEqual(hashValue(m1), hashValue(new Map<unknown, unknown>([...m1, ['a', 9]])));
    // swapping key and value is a different map
    assert.notEqual(hashValue(new Map([['a', 'b']])), hashValue(new Map([['b', 'a']])));
  });

  it('Set insertion order does not matter, elements do', () => {
    assert.equal(hashValue(new Set([1, 'x', null, [2]])), hashValue(new Set([[2], null, 'x', 1])));
    assert.notEqual(hashValue(new Set([1, 2])), hashValue(new Set([1, 3])));
    assert.notEqual(hashValue(new Set([1, 2])), hashValue(new Set([1])));
  });

  it('-0 and 0 differ', () => {
    assert.notEqual(hashValue(-0), hashValue(0));
    assert.notEqual(hashTask('t', [-0]), hashTask('t', [0]));
  });

  it('every NaN hashes the same whatever its payload bits', () => {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setUint32(0, 0x7ff80001);
    dv.setUint32(4, 0xdeadbeef);
    const payloadNaN = dv.getFloat64(0);
    dv.setUint32(0, 0xfff80000); // sign bit set
    dv.setUint32(4, 0);
    const negativeNaN = dv.getFloat64(0);
    // Make sure the engine really kept distinct bit patterns, so this test can fail.
    const bits = (n: number): string => Buffer.from(new Float64Array([n]).buffer).toString('hex');
    assert.notEqual(bits(payloadNaN), bits(NaN));
    assert.notEqual(bits(negativeNaN), bits(NaN));
    assert.equal(hashValue(payloadNaN), hashValue(NaN));
    assert.equal(hashValue(negativeNaN), hashValue(NaN));
    assert.equal(hashValue(new Date(NaN)), hashValue(new Date('not a date')));
  });

  it('the binary type is part of the identity', () => {
    const raw = [1, 2, 3, 4, 5, 6, 7, 8];
    const u8 = new Uint8Array(raw);
    assert.notEqual(hashValue(Buffer.from(raw)), hashValue(u8));
    assert.notEqual(hashValue(new Int8Array(raw)), hashValue(u8));
    assert.notEqual(hashValue(new Uint8ClampedArray(raw)), hashValue(u8));
    assert.notEqual(hashValue(u8.buffer), hashValue(u8));
    assert.notEqual(hashValue(new DataView(u8.buffer)), hashValue(u8));
    assert.notEqual(hashValue(new Float64Array(u8.buffer)), hashValue(new BigInt64Array(u8.buffer)));
    // same type, same bytes: equal, however the view was made
    const big = new Uint8Array([9, 9, ...raw, 9]);
    assert.equal(hashValue(big.subarray(2, 10)), hashValue(u8));
    assert.equal(hashValue(Buffer.from(big.buffer, 2, 8)), hashValue(Buffer.from(raw)));
    // and different bytes differ
    assert.notEqual(hashValue(new Uint8Array([1, 2, 3])), hashValue(new Uint8Array([1, 2, 4])));
  });

  it('containers of the same elements differ by kind', () => {
    assert.notEqual(hashValue([1, 2, 3]), hashValue(new Set([1, 2, 3])));
    assert.notEqual(hashValue({ 0: 1, 1: 2 }), hashValue([1, 2]));
    assert.notEqual(hashValue(new Map([[0, 1]])), hashValue({ 0: 1 }));
    assert.notEqual(hashValue([]), hashValue({}));
    assert.notEqual(hashValue([[1, 2]]), hashValue([1, 2]));
    assert.notEqual(hashValue([1, [2]]), hashValue([[1], 2]));
  });

  it('primitive types are part of the identity', () => {
    assert.notEqual(hashValue('1'), hashValue(1));
    assert.notEqual(hashValue(1n), hashValue(1));
    assert.notEqual(hashValue(1n), hashValue('1'));
    assert.notEqual(hashValue(null), hashValue(undefined));
    assert.notEqual(hashValue(true), hashValue(1));
    assert.notEqual(hashValue(''), hashValue(null));
    assert.notEqual(hashValue(new Date(5)), hashValue(5));
    assert.notEqual(hashTask('t', ['1']), hashTask('t', [1]));
  });

  it('argument boundaries are unambiguous', () => {
    assert.notEqual(hashTask('t', ['ab', 'c']), hashTask('t', ['a', 'bc']));
    assert.notEqual(hashTask('t', [[1, 2]]), hashTask('t', [1, 2]));
    assert.notEqual(hashTask('t', []), hashTask('t', [undefined]));
    assert.notEqual(hashTask('ab', ['c']), hashTask('a', ['bc']));
  });

  it('a [jugHash]() object hashes as its identity string, tagged apart from a plain string', () => {
    assert.equal(hashValue(new Dataset('p', 1)), hashValue(new Dataset('p', 1)));
    assert.notEqual(hashValue(new Dataset('p', 1)), hashValue(new Dataset('p', 2)));
    assert.notEqual(hashValue(new Dataset('p', 1)), hashValue('p@1'));
    // a plain object with the hook uses it too, ignoring its other fields
    assert.equal(hashValue({ [jugHash]: () => 'p@1', junk: Math.random() }), hashValue(new Dataset('p', 1)));
  });

  it('a TaskGenerator and its wrapped function hash as the task name', () => {
    assert.equal(hashValue(f), hashValue(f.fn));
    assert.notEqual(hashValue(f), hashValue(g));
    assert.notEqual(hashValue(f), hashValue('vectors.f'));
  });

  it('Merkle: a task argument contributes its own hash', () => {
    const inner1 = f(1, 2);
    const inner1Again = f(1, 2);
    const inner2 = f(1, 3);
    assert.notEqual(inner1, inner1Again);
    assert.equal(g(inner1).hash(), g(inner1Again).hash(), 'same inner identity ⇒ same outer hash');
    assert.notEqual(g(inner1).hash(), g(inner2).hash(), "changing the inner task's args changes the outer hash");
    // ...deep inside containers too
    assert.notEqual(g({ k: [new Set([inner1])] }).hash(), g({ k: [new Set([inner2])] }).hash());
    // two levels deep
    assert.notEqual(g(g(inner1)).hash(), g(g(inner2)).hash());
    // the outer hash depends only on the inner hash, not on the inner object
    const stub = { [taskRef]: () => inner1.hash() };
    assert.equal(hashTask('vectors.g', [stub]), g(inner1).hash());
    // a task is not its result value
    assert.notEqual(g(inner1).hash(), g(3).hash());
    // tasklets are distinct from their base, and from each other
    const p1 = pair(1, 2);
    const p2 = pair(1, 3);
    assert.notEqual(g(p1.get(0)).hash(), g(p1).hash());
    assert.notEqual(p1.get(0).hash(), p1.get(1).hash());
    assert.notEqual(p1.get(0).hash(), p2.get(0).hash());
    assert.equal(p1.get(0).hash(), pair(1, 2).get(0).hash());
  });

  it('a Task created with new Task() hashes like the generator call', () => {
    const viaNew = new Task(f.fn, 1, 2);
    assert.equal(viaNew.name, 'vectors.f');
    assert.equal(viaNew.hash(), T12.hash());
  });

  it('shared (non-circular) sub-objects are fine', () => {
    const shared = { v: [1] };
    assert.equal(hashValue([shared, shared]), hashValue([{ v: [1] }, { v: [1] }]));
    const m = new Map([
      ['a', shared],
      ['b', shared],
    ]);
    assert.doesNotThrow(() => hashValue(m));
  });

  it('is the same in another process', async () => {
    const value = { a: [1, 2n, 'x'], m: new Map([[1, new Set(['s'])]]), d: new Date(0), b: new Float32Array([1.25]) };
    const script = `
      import { hashTask, hashValue } from './src/hash.js';
      import { TaskGenerator } from './src/task.js';
      const f = TaskGenerator(function f(a, b) { return a + b; }, { name: 'vectors.f' });
      const value = { b: new Float32Array([1.25]), d: new Date(0), m: new Map([[1, new Set(['s'])]]), a: [1, 2n, 'x'] };
      console.log(JSON.stringify([hashValue(value), hashTask('vectors.g', [f(1, 2), value]), hashValue(NaN)]));
    `;
    const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
    });
    const [v, t, n] = JSON.parse(stdout.trim()) as [string, string, string];
    assert.equal(v, hashValue(value));
    assert.equal(t, hashTask('vectors.g', [T12, value]));
    assert.equal(n, hashValue(NaN));
  });
});

describe('hash errors', () => {
  /** Asserts `fn` throws a HashError whose message contains every fragment. */
  function throwsHashError(fn: () => unknown, ...fragments: string[]): void {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof HashError, `expected HashError, got ${String(e)}`);
      for (const frag of fragments) assert.ok(e.message.includes(frag), `message ${JSON.stringify(e.message)} lacks ${frag}`);
      return true;
    });
  }

  it('a symbol, naming task, argument position and inner path', () => {
    throwsHashError(() => hashTask('m.t', [1, { data: [0, Symbol('s')] }]), "task 'm.t'", 'argument 2', '.data[1]', 'symbol');
    throwsHashError(() => hashTask('m.t', [Symbol('s')]), "task 'm.t'", 'argument 1', 'symbol');
  });

  it('a class instance without a [jugHash]() hook', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    throwsHashError(
      () => hashTask('m.t', ['a', 'b', [{ p: new Point(1) }]]),
      "task 'm.t'",
      'argument 3',
      '[0].p',
      'Point',
      'jugHash',
    );
  });

  it('a plain function that is not a task function', () => {
    throwsHashError(
      () => hashTask('m.t', [{ cb: function helper() {} }]),
      "task 'm.t'",
      'argument 1',
      '.cb',
      'helper',
      'not a task function',
    );
    throwsHashError(() => hashTask('m.t', [1, () => 1]), 'argument 2', 'function');
  });

  it('a circular structure', () => {
    const o: { a: number; self?: unknown } = { a: 1 };
    o.self = o;
    throwsHashError(() => hashTask('m.t', [0, o]), "task 'm.t'", 'argument 2', '.self', 'circular');
    const arr: unknown[] = [1];
    arr.push({ back: arr });
    throwsHashError(() => hashTask('m.t', [arr]), 'argument 1', '[1].back', 'circular');
    const m = new Map<string, unknown>();
    m.set('me', m);
    throwsHashError(() => hashTask('m.t', [m]), 'argument 1', 'circular');
    const s = new Set<unknown>();
    s.add([s]);
    throwsHashError(() => hashTask('m.t', [s]), 'argument 1', 'circular');
  });

  it('a WeakMap', () => {
    throwsHashError(() => hashTask('m.t', [{ cache: new WeakMap() }]), "task 'm.t'", 'argument 1', '.cache', 'WeakMap');
  });

  it('paths through Map values and Set elements', () => {
    throwsHashError(() => hashTask('m.t', [new Map([['k', Symbol('x')]])]), 'argument 1', '.get("k")');
    throwsHashError(() => hashTask('m.t', [new Set([Symbol('x')])]), 'argument 1', '<set element>');
  });

  it('a [jugHash]() that does not return a string', () => {
    const bad = { [jugHash]: () => 42 };
    throwsHashError(() => hashTask('m.t', [bad]), 'argument 1', 'jugHash');
  });

  it('hashValue reports the inner path', () => {
    throwsHashError(() => hashValue({ data: [0, Symbol('s')] }), '.data[1]', 'symbol');
  });

  it('declaring a task with an unhashable argument fails at declaration, naming the task', () => {
    throwsHashError(() => g({ data: [0, new WeakMap()] }), "task 'vectors.g'", 'argument 1', '.data[1]');
  });
});
