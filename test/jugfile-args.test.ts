/**
 * Arguments for the jugfile after its name (`jug execute sweep.ts -- --n 3`): the jugfile sees
 * `process.argv` = [node, jugfile, ...args], in the main thread and in worker threads alike, and
 * every command passes them (Python Jug: sys.argv = [jugfile] + user args).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, removeTempDir, runJug, show, storedHashes } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('jugfile-args');
});
after(() => removeTempDir(tmp));

// One task per argument; the jugfile's own path must be argv[1].
const JUGFILE = `
import { TaskGenerator } from 'jug';
import { basename } from 'node:path';
if (basename(process.argv[1] ?? '') !== 'sweep.ts') throw new Error('argv[1] is ' + process.argv[1]);
export const upper = TaskGenerator(function upper(a: string): string {
  return a.toUpperCase();
});
export const ups = process.argv.slice(2).map((a) => upper(a));
`;

describe('jugfile arguments', { concurrency: 2 }, () => {
  for (const threads of [[], ['--threads', '2']]) {
    test(`execute ${threads.join(' ') || '(serial)'} passes them; status sees the same tasks only with the same arguments`, async () => {
      const dir = join(tmp, `t${threads.length}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'sweep.ts'), JUGFILE);
      const ex = await runJug(['execute', 'sweep.ts', '--short', ...threads, '--', '--n', '3', 'x'], { cwd: dir });
      assert.equal(ex.code, 0, show(ex));
      assert.match(ex.stdout, /Executed:  3 tasks/, show(ex));
      assert.equal(storedHashes(join(dir, 'sweep.jugdata')).length, 3);
      const same = await runJug(['status', '--short', 'sweep.ts', '--', '--n', '3', 'x'], { cwd: dir });
      assert.equal(same.stdout, 'All tasks complete (3 tasks).\n', show(same));
      const none = await runJug(['status', '--short', 'sweep.ts'], { cwd: dir });
      assert.equal(none.stdout, 'All tasks complete (0 tasks).\n', show(none));
      const plain = await runJug(['check', 'sweep.ts', 'y'], { cwd: dir }); // no dash: no -- needed
      assert.equal(plain.code, 1, show(plain));
    });
  }
});
