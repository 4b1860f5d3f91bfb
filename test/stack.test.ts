/**
 * Stack traces as users see them (src/stack.ts): unit tests of userStack on written stacks, then
 * through the real CLI — a task failing at a known line of the jugfile (serial, --threads 2) or of
 * a module it imports names that file and line, with none of jug's frames; `jug shell` prints
 * errors the same way.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { userStack, userStackOf } from '../src/stack.js';
import { makeTempDir, removeTempDir, runJug, runShell, show, type RunResult } from './helpers.js';

const ROOT = '/opt/app/node_modules/jug';

describe('userStack (unit)', () => {
  it('removes jug dist/src frames, piscina, node:internal and native frames they call; keeps the rest in order', () => {
    const stack = [
      'Error: too big: 3',
      '    at risky (/home/u/p/helper.ts:3:11)',
      '    at [1, 2].map (<anonymous>)',
      '    at Task.viaHelper (/home/u/p/thr.ts:9:10)',
      `    at file://${ROOT}/dist/chunks/chunk-6AT5FRKQ.js:113:35`,
      '    at Array.map (<anonymous>)',
      `    at resolveWith (${ROOT}/src/value.ts:63:9)`,
      `    at ${ROOT}/node_modules/piscina/dist/worker.js:1:2`,
      '    at async Promise.all (index 0)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at Object.readFileSync (node:fs:453:20)',
    ].join('\n');
    assert.equal(
      userStack(stack, { root: ROOT }),
      [
        'Error: too big: 3',
        '    at risky (/home/u/p/helper.ts:3:11)',
        '    at [1, 2].map (<anonymous>)',
        '    at Task.viaHelper (/home/u/p/thr.ts:9:10)',
        '    at async Promise.all (index 0)',
        '    at Object.readFileSync (node:fs:453:20)',
      ].join('\n'),
    );
  });

  it('a stack of jug frames only keeps its first frame; multi-line messages stay; applying twice changes nothing', () => {
    const stack = `StoreError: line one\nline two\n    at FileStore.load (file://${ROOT}/dist/chunks/chunk-X.js:982:15)\n    at value (${ROOT}/dist/index.js:1:1)`;
    const once = userStack(stack, { root: ROOT });
    assert.equal(once, `StoreError: line one\nline two\n    at FileStore.load (file://${ROOT}/dist/chunks/chunk-X.js:982:15)`);
    assert.equal(userStack(once, { root: ROOT }), once);
    assert.equal(userStack('no frames at all', { root: ROOT }), 'no frames at all');
  });

  it("this package's own frames are recognised by default (userStackOf on a real error)", () => {
    const e = new Error('here');
    e.stack = `Error: here\n    at f (/u/x.ts:1:2)\n    at g (${join(process.cwd(), 'dist', 'a.js')}:3:4)`;
    assert.equal(userStackOf(e), 'Error: here\n    at f (/u/x.ts:1:2)');
    assert.equal(userStackOf('thrown text'), 'thrown text');
  });
});

describe('userStack maps frames still naming a bundle', () => {
  let tmp: string;
  before(() => {
    tmp = makeTempDir('stack-map');
  });
  after(() => removeTempDir(tmp));

  it('through the source map Node holds for it, to the original file and line', async () => {
    const source = join(tmp, 'orig.ts');
    writeFileSync(source, 'export function f(x: number): number {\n  const y: number = x * 2;\n  throw new Error(`at line 3: ${y}`);\n}\n');
    const dir = join(tmp, 'jug-bundles-test');
    mkdirSync(dir);
    const bundle = join(dir, 'abc.mjs');
    const { build } = await import('esbuild');
    await build({ entryPoints: [source], outfile: bundle, bundle: true, format: 'esm', platform: 'node', sourcemap: 'inline', logLevel: 'silent' });
    process.setSourceMapsEnabled(true);
    await import(pathToFileURL(bundle).href);
    // The generated line of the throw, as a stack formatted without source maps would show it.
    const generated = readFileSync(bundle, 'utf8').split('\n');
    const line = generated.findIndex((l) => l.includes('throw new Error')) + 1;
    const column = generated[line - 1]!.indexOf('throw') + 1;
    const stack = `Error: at line 3: 2\n    at f (${pathToFileURL(bundle).href}?jug-load=2:${line}:${column})`;
    assert.match(userStack(stack), new RegExp(`^Error: at line 3: 2\\n    at f \\(${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+\\)$`));
  });
});

describe('stack traces through the CLI', () => {
  let tmp: string;
  before(() => {
    tmp = makeTempDir('stack');
  });
  after(() => removeTempDir(tmp));

  const HELPER = `export function risky(x: number): number {
  if (x > 1) {
    throw new Error('too big: ' + x); // line 3
  }
  return x;
}
`;
  const JUGFILE = `import { TaskGenerator } from 'jug';
import { risky } from './helper.js';

export const boom = TaskGenerator(function boom(x: number): number {
  if (x === 2) throw new RangeError('bad x ' + x); // line 5
  return x;
});
export const viaHelper = TaskGenerator(function viaHelper(x: number): number {
  return risky(x); // line 9
});
export const a = [1, 2].map((x) => boom(x));
export const b = [1, 3].map((x) => viaHelper(x));
`;

  function project(name: string): string {
    const dir = join(tmp, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'helper.ts'), HELPER);
    writeFileSync(join(dir, 'jugfile.ts'), JUGFILE);
    return dir;
  }

  /** The failure block of `task` in execute's stderr: from its header up to the next blank line. */
  function failureBlock(r: RunResult, task: string): string {
    const start = r.stderr.indexOf(`task ${task} failed`);
    assert.ok(start >= 0, show(r));
    const end = r.stderr.indexOf('\n\n', start);
    return r.stderr.slice(start, end < 0 ? undefined : end);
  }

  for (const threads of [undefined, '2']) {
    it(`a failing task names jugfile.ts:LINE (and helper.ts:LINE in an imported module), no jug frames${threads ? ', --threads ' + threads : ''}`, async () => {
      const dir = project(`fail-${threads ?? 1}`);
      const r = await runJug(['execute', '--keep-going', ...(threads ? ['--threads', threads] : []), 'jugfile.ts'], { cwd: dir });
      assert.equal(r.code, 1, show(r));
      const boom = failureBlock(r, 'jugfile.boom');
      assert.match(boom, /RangeError: bad x 2\n\s+at .*boom \(.*jugfile\.ts:5:\d+\)/, show(r));
      const helper = failureBlock(r, 'jugfile.viaHelper');
      assert.match(helper, /Error: too big: 3\n\s+at risky \(.*helper\.ts:3:\d+\)\n\s+at .*viaHelper \(.*jugfile\.ts:9:\d+\)/, show(r));
      for (const block of [boom, helper]) {
        assert.doesNotMatch(block, /dist\/|chunk-|jug-bundle|node:internal|piscina/, show(r));
      }
    });
  }

  it('jug shell prints errors with the jugfile and REPL lines, without jug frames', async () => {
    const dir = project('shell');
    const r = await runShell(['jugfile.ts'], 'viaHelper.fn(5)\nawait value(a)\n', dir);
    assert.equal(r.code, 0, show(r));
    const [thrown, notComputed] = r.stdout.split('jug> ').slice(1);
    assert.match(thrown!, /Error: too big: 5\n\s+at risky \(.*helper\.ts:3:\d+\)\n\s+at .*viaHelper \(.*jugfile\.ts:9:\d+\)\n/, show(r));
    assert.match(notComputed!, /NotComputedError: .*\n\s+at REPL2:/, show(r));
    assert.doesNotMatch(r.stdout, /dist\/|chunk-|jug-bundle|node:internal/, show(r));
  });
});
