/**
 * Code fingerprints (src/fingerprint/): what counts as a change of a task function's code and
 * what does not, on real jugfile sources written to temporary files.
 */
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codeFingerprint, type CodeFingerprint } from '../src/fingerprint/index.js';
import { makeTempDir, removeTempDir } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('fingerprint');
});
after(() => removeTempDir(tmp));

const BASE = `
import { TaskGenerator } from 'jug';

const FACTOR = 3;
const UNUSED = 'x';

function helper(n: number): number {
  return n + 1;
}

function unrelated(): number {
  return 42;
}

export const work = TaskGenerator(function work(n: number): number {
  // square it, then scale
  const squared = helper(n) * n;
  return squared * FACTOR;
});
`;

let counter = 0;
/** The fingerprint of `work` in a jugfile with this source (a new file each time: no cache hit). */
function fp(source: string, version?: string | number): CodeFingerprint {
  const file = join(tmp, `jugfile-${counter++}.ts`);
  writeFileSync(file, source);
  return codeFingerprint({ fn: () => 0, fnName: 'work', file, version });
}

describe('code fingerprint', () => {
  const base = fp(BASE);

  it('covers the task function, the top-level definitions it uses, and where each is', () => {
    assert.deepEqual(Object.keys(base.parts).sort(), ['FACTOR', 'helper', 'work']);
    assert.match(base.hash, /^[0-9a-f]{16}$/);
    assert.match(base.where['work']!, /^jugfile-\d+\.ts:15$/);
    assert.match(base.where['helper']!, /^jugfile-\d+\.ts:7$/);
  });

  it('comments, whitespace, formatting and type annotations do not count', () => {
    const edited = BASE.replace('// square it, then scale', '/* a different comment */')
      .replace('const squared = helper(n) * n;', 'const   squared =\n    helper( n ) *n')
      .replace('function work(n: number): number', 'function work(n: number | bigint): number');
    assert.equal(fp(edited).hash, base.hash);
  });

  it('renaming a local variable or a parameter does not count (it cannot change what the code does)', () => {
    const edited = BASE.replace(/squared/g, 'sq').replace('function work(n: number)', 'function work(k: number)').replace('helper(n) * n', 'helper(k) * k');
    assert.equal(fp(edited).hash, base.hash);
  });

  it("editing the function's body counts, and the parts tell which function changed", () => {
    const edited = fp(BASE.replace('return squared * FACTOR;', 'return squared * FACTOR + 1;'));
    assert.notEqual(edited.hash, base.hash);
    assert.notEqual(edited.parts['work'], base.parts['work']);
    assert.equal(edited.parts['helper'], base.parts['helper']);
  });

  it('editing a helper or a constant the function uses counts; one it does not use does not', () => {
    assert.notEqual(fp(BASE.replace('return n + 1;', 'return n + 2;')).hash, base.hash);
    assert.notEqual(fp(BASE.replace('const FACTOR = 3;', 'const FACTOR = 4;')).hash, base.hash);
    assert.equal(fp(BASE.replace('return 42;', 'return 43;')).hash, base.hash);
    assert.equal(fp(BASE.replace("const UNUSED = 'x';", "const UNUSED = 'y';")).hash, base.hash);
  });

  it('helpers of helpers count too', () => {
    const chained = BASE.replace('return n + 1;', 'return inner(n);') + '\nfunction inner(n: number): number { return n + 1; }\n';
    const before = fp(chained);
    assert.ok('inner' in before.parts);
    assert.notEqual(fp(chained.replace('{ return n + 1; }', '{ return n + 5; }')).hash, before.hash);
  });

  it("a TaskGenerator version counts (for code the fingerprint cannot see)", () => {
    assert.notEqual(fp(BASE, 2).hash, fp(BASE, 1).hash);
    assert.equal(fp(BASE, 1).hash, fp(BASE, '1').hash);
    assert.notEqual(fp(BASE, 1).hash, base.hash);
  });

  it('an arrow function declared apart and a plain JavaScript jugfile are found too', () => {
    const arrow = "import { TaskGenerator } from 'jug';\nconst work = (n) => n * 2;\nexport const t = TaskGenerator(work);\n";
    const js = join(tmp, 'plain.mjs');
    writeFileSync(js, arrow);
    const a = codeFingerprint({ fn: () => 0, fnName: 'work', file: js });
    writeFileSync(js, arrow.replace('n * 2', 'n * 3'));
    utimesSync(js, new Date(), new Date(Date.now() + 5000)); // another mtime: not the cached index
    assert.notEqual(codeFingerprint({ fn: () => 0, fnName: 'work', file: js }).hash, a.hash);
  });

  it('semicolons left to ASI, quote style and trailing commas do not count (a formatter changes them)', () => {
    const src = "import { TaskGenerator } from 'jug';\nexport const work = TaskGenerator(function work(n) {\n  const s = 'a';\n  return [n, s,];\n});\n";
    const js = join(tmp, 'format.mjs');
    const at = (text: string, k: number): string => {
      writeFileSync(js, text);
      utimesSync(js, new Date(), new Date(Date.now() + 5000 * k));
      return codeFingerprint({ fn: () => 0, fnName: 'work', file: js }).hash;
    };
    const a = at(src, 1);
    assert.equal(at(src.replace("const s = 'a';", 'const s = "a"').replace('[n, s,]', '[n, s]'), 2), a);
    assert.notEqual(at(src.replace("const s = 'a';", "const s = 'b';"), 3), a);
  });

  it('a property name is not a local: renaming a local keeps `x.total` and `{ total }` keys as they are', () => {
    const src = "import { TaskGenerator } from 'jug';\nexport const work = TaskGenerator(function work(x) {\n  const total = x.total + 1;\n  return { total };\n});\n";
    const js = join(tmp, 'props.mjs');
    writeFileSync(js, src);
    const a = codeFingerprint({ fn: () => 0, fnName: 'work', file: js }).hash;
    writeFileSync(js, src.replace('const total = x.total + 1;\n  return { total };', 'const t = x.total + 1;\n  return { total: t };'));
    utimesSync(js, new Date(), new Date(Date.now() + 7000));
    assert.equal(codeFingerprint({ fn: () => 0, fnName: 'work', file: js }).hash, a);
    writeFileSync(js, src.replace('return { total };', 'return { sum: total };'));
    utimesSync(js, new Date(), new Date(Date.now() + 9000));
    assert.notEqual(codeFingerprint({ fn: () => 0, fnName: 'work', file: js }).hash, a);
  });

  it('a task function named like the constant holding its generator (esbuild renames it other2): its options do not count', () => {
    const src = "import { TaskGenerator } from 'jug';\nexport const other = TaskGenerator(\n  function other(n: number): number {\n    return n + 1;\n  },\n  { retries: 1 },\n);\n";
    const ts = join(tmp, 'renamed.ts');
    const at = (text: string, k: number): CodeFingerprint => {
      writeFileSync(ts, text);
      utimesSync(ts, new Date(), new Date(Date.now() + 11000 * k));
      return codeFingerprint({ fn: () => 0, fnName: 'other', file: ts });
    };
    const a = at(src, 1);
    assert.deepEqual(Object.keys(a.parts), ['other']);
    assert.match(a.where['other']!, /^renamed\.ts:3$/);
    assert.equal(at(src.replace('{ retries: 1 }', '{ retries: 2 }'), 2).hash, a.hash);
    assert.notEqual(at(src.replace('n + 1', 'n + 2'), 3).hash, a.hash);
  });

  it("without a readable file, the function's own code in normal form", () => {
    const f1 = codeFingerprint({ fn: function work(n: number) { return n * 2; }, fnName: 'work', file: join(tmp, 'missing.ts') });
    const f2 = codeFingerprint({ fn: function work(m: number) { /* same */ return m * 2; }, fnName: 'work' });
    const f3 = codeFingerprint({ fn: function work(n: number) { return n * 3; }, fnName: 'work' });
    assert.equal(f1.hash, f2.hash);
    assert.notEqual(f1.hash, f3.hash);
  });
});
