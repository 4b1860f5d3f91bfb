/**
 * A jugfile (or a module it imports) importing a package that is not installed: through the real
 * CLI, the error names the file and line and the npm command that fixes it, without the bundler's
 * wording; the same for the `jug` package itself not resolvable from the jugfile's directory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, removeTempDir, runJug, show } from './helpers.js';

let tmp: string;
let outside: string;
before(() => {
  tmp = makeTempDir('missing-package');
  // Outside this repository, where `import 'jug'` cannot resolve by package self-reference.
  outside = mkdtempSync(join(tmpdir(), 'jug-missing-package-'));
});
after(() => {
  removeTempDir(tmp);
  rmSync(outside, { recursive: true, force: true });
});

const JUGFILE = `import csv from 'csv-parser';
import { TaskGenerator } from 'jug';
import { mean } from './helper.js';
export const f = TaskGenerator(function f(x: number): number { return x; });
export const t = f(csv === undefined ? mean([1]) : 2);
`;
const HELPER = `// statistics
import { mean as m } from '@acme/stats/mean';
export const mean = m;
`;

function project(name: string, jugfile = JUGFILE): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'miss.ts'), jugfile);
  writeFileSync(join(dir, 'helper.ts'), HELPER);
  return dir;
}

describe('a jugfile importing a package that is not installed', () => {
  for (const threads of [undefined, '2']) {
    it(`names the jugfile, its line and npm install${threads ? ' (execute --threads ' + threads + ')' : ' (status)'}`, async () => {
      const dir = project(`csv-${threads ?? 1}`);
      const args = threads === undefined ? ['status', 'miss.ts'] : ['execute', '--threads', threads, 'miss.ts'];
      const r = await runJug(args, { cwd: dir });
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /jugfile miss\.ts:1 imports 'csv-parser', which is not installed \(npm install csv-parser\)/, show(r));
      assert.doesNotMatch(r.stderr, /plugin|jug-external-packages|Could not resolve/, show(r));
    });
  }

  it('in a module the jugfile imports: names that module and line, and the package (not the subpath) to install', async () => {
    const dir = project('scoped', JUGFILE.replace("import csv from 'csv-parser';\n", 'const csv = 1;\n'));
    const r = await runJug(['status', 'miss.ts'], { cwd: dir });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /module helper\.ts:2 imports '@acme\/stats\/mean', which is not installed \(npm install @acme\/stats\)/, show(r));
    assert.doesNotMatch(r.stderr, /plugin|Could not resolve/, show(r));
  });

  it('JUG_LOADER=tsx says the same', async () => {
    const dir = project('tsx');
    const r = await runJug(['status', 'miss.ts'], { cwd: dir, env: { JUG_LOADER: 'tsx' } });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /miss\.ts imports 'csv-parser', which is not installed \(npm install csv-parser\)/, show(r));
  });

  it("jug itself not resolvable from the jugfile's directory: says so and how to install or link it", async () => {
    writeFileSync(join(outside, 'j.ts'), "import { TaskGenerator } from 'jug';\nexport const f = TaskGenerator(function f(): number { return 1; });\nexport const t = f();\n");
    const r = await runJug(['status', 'j.ts'], { cwd: outside });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /jugfile j\.ts:1 imports 'jug', which is not installed where the jugfile is/, show(r));
    assert.match(r.stderr, /npm install jug/, show(r));
    assert.match(r.stderr, /npm link jug/, show(r));
    assert.doesNotMatch(r.stderr, /plugin|Could not resolve/, show(r));
  });
});
