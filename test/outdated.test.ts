/**
 * Outdated results through the real CLI (issue 18): which edits make stored results outdated
 * (`jug status`: the Outdated and Downstream columns, the note, `--outdated`), which do not, and
 * that `jug invalidate --outdated` / `jug execute --rerun-outdated` recompute exactly the outdated
 * results and what depends on them (counted by the task functions' side effects), nothing else;
 * `jug execute` alone never recomputes a stored result and says how to. Serial and --threads.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, parseTable, removeTempDir, runJug, show, type RunResult } from './helpers.js';

/** work ×3 → total; other ×2 (uses helper, has a version) → total. Each call appends to SIDE_LOG. */
const JUGFILE = `import { TaskGenerator } from 'jug';
import { appendFileSync } from 'node:fs';

const LOG = process.env['SIDE_LOG'] ?? '/dev/null';
const FACTOR = 3;

function helper(n: number): number {
  return n + 1;
}

export const work = TaskGenerator(function work(n: number): number {
  appendFileSync(LOG, \`work \${n}\\n\`);
  // square, then scale
  const squared = n * n;
  return squared * FACTOR;
});

export const other = TaskGenerator(
  function other(n: number): number {
    appendFileSync(LOG, \`other \${n}\\n\`);
    return helper(n);
  },
  { version: 1 },
);

export const total = TaskGenerator(function total(xs: number[], ys: number[]): number {
  appendFileSync(LOG, 'total\\n');
  return [...xs, ...ys].reduce((a, b) => a + b, 0);
});

export const ws = [1, 2, 3].map((n) => work(n));
export const os = [1, 2].map((n) => other(n));
export const t = total(ws, os);
`;

const WORK_LINE = JUGFILE.split('\n').findIndex((l) => l.includes('function work(')) + 1;
const HELPER_LINE = JUGFILE.split('\n').findIndex((l) => l.includes('function helper(')) + 1;

let tmp = '';
before(() => (tmp = makeTempDir('outdated')));
after(() => removeTempDir(tmp));

/** A project in its own directory: the jugfile, its jugdir, the side-effect log. */
class Project {
  readonly jugfile: string;
  readonly jugdir: string;
  readonly log: string;
  constructor(name: string) {
    this.jugfile = join(tmp, `${name}.ts`);
    this.jugdir = join(tmp, `${name}.jugdata`);
    this.log = join(tmp, `${name}.log`);
    this.write(JUGFILE);
  }
  write(text: string): void {
    writeFileSync(this.jugfile, text);
  }
  edit(from: string, to: string): void {
    const text = readFileSync(this.jugfile, 'utf8');
    assert.ok(text.includes(from), `the jugfile has no '${from}'`);
    this.write(text.replace(from, to));
  }
  jug(...args: string[]): Promise<RunResult> {
    const [cmd, ...rest] = args;
    return runJug([cmd!, this.jugfile, '--jugdir', this.jugdir, ...rest], { env: { SIDE_LOG: this.log } });
  }
  /** Side effects since the last call, sorted. */
  takeLog(): string[] {
    if (!existsSync(this.log)) return [];
    const lines = readFileSync(this.log, 'utf8').trim().split('\n').filter((l) => l !== '');
    writeFileSync(this.log, '');
    return lines.sort();
  }
  async status(): Promise<{ r: RunResult; outdated: Map<string, number>; downstream: Map<string, number> }> {
    const r = await this.jug('status');
    assert.equal(r.code, 0, show(r));
    const { columns, rows } = parseTable(r.stdout);
    const col = (name: string): Map<string, number> => {
      const k = columns.indexOf(name);
      return new Map([...rows].filter(([n]) => n !== 'Total:').map(([n, v]) => [n, k < 0 ? 0 : v[k]!]));
    };
    return { r, outdated: col('Outdated'), downstream: col('Downstream') };
  }
}

const nonzero = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].filter(([, v]) => v > 0));

async function fresh(name: string, ...executeArgs: string[]): Promise<Project> {
  const p = new Project(name);
  const r = await p.jug('execute', '-q', ...executeArgs);
  assert.equal(r.code, 0, show(r));
  assert.equal(p.takeLog().length, 6);
  return p;
}

describe('outdated results', () => {
  it('no edit: nothing outdated, no Outdated column; comments, whitespace and a renamed local change nothing', async () => {
    const p = await fresh('same');
    let s = await p.status();
    assert.doesNotMatch(s.r.stdout, /Outdated/, show(s.r));
    p.edit('// square, then scale', '/* another comment */');
    p.edit('  const squared = n * n;', '\n    const squared =   n*n ;');
    s = await p.status();
    assert.doesNotMatch(s.r.stdout, /Outdated/, show(s.r));
    // Decided: a local's name cannot change what the code computes, so renaming it is no change.
    p.edit('const squared =   n*n ;\n  return squared * FACTOR;', 'const sq = n*n;\n  return sq * FACTOR;');
    s = await p.status();
    assert.doesNotMatch(s.r.stdout, /Outdated/, show(s.r));
    const listing = await p.jug('status', '--outdated');
    assert.equal(listing.stdout, 'No outdated results.\n', show(listing));
  });

  it("editing a task function's body: its results outdated, their dependants downstream; execute keeps them and says so", async () => {
    const p = await fresh('body');
    p.edit('return squared * FACTOR;', 'return squared * FACTOR + 1;');
    const s = await p.status();
    assert.deepEqual(nonzero(s.outdated), { 'body.work': 3 }, show(s.r));
    assert.deepEqual(nonzero(s.downstream), { 'body.total': 1 }, show(s.r));
    assert.match(s.r.stdout, /Outdated: 3 results, 1 result downstream \(counted in Finished\): the code of body\.work changed since\./, show(s.r));
    const listing = await p.jug('status', '--outdated');
    assert.match(listing.stdout, new RegExp(`^body\\.work: 3 outdated results\\n {4}work: changed \\(body\\.ts:${WORK_LINE}\\)\\n1 more result depends on outdated ones`), show(listing));
    const json = await p.jug('status', '--json');
    assert.equal(json.code, 0, show(json));
    assert.deepEqual((JSON.parse(json.stdout) as { outdated: unknown }).outdated, {
      outdated: 3,
      downstream: 1,
      unknown: 0,
      changed: [{ task: 'body.work', results: 3, where: `body.ts:${WORK_LINE}`, versionOnly: false, parts: [{ name: 'work', where: `body.ts:${WORK_LINE}`, change: 'changed' }] }],
    });
    const run = await p.jug('execute', '-q');
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(p.takeLog(), [], 'a stored result was recomputed');
    assert.match(run.stderr, /3 stored results \(and 1 result depending on them\) were computed by code that has changed since \(body\.work\); they are kept: `jug execute --rerun-outdated` recomputes them/, show(run));
  });

  it('execute --rerun-outdated recomputes exactly the outdated results and their dependants, then nothing is outdated', async () => {
    const p = await fresh('rerun');
    p.edit('return squared * FACTOR;', 'return squared * FACTOR + 1;');
    const run = await p.jug('execute', '-q', '--rerun-outdated');
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(p.takeLog(), ['total', 'work 1', 'work 2', 'work 3']);
    const s = await p.status();
    assert.doesNotMatch(s.r.stdout, /Outdated/, show(s.r));
    const again = await p.jug('execute', '-q', '--rerun-outdated');
    assert.equal(again.code, 0, show(again));
    assert.deepEqual(p.takeLog(), []);
  });

  it('--rerun-outdated with --target: only the outdated results among the targets (and what they need) are recomputed', async () => {
    const p = await fresh('target');
    p.edit('return squared * FACTOR;', 'return squared * FACTOR + 1;');
    p.edit('return n + 1;', 'return n + 2;');
    const run = await p.jug('execute', '-q', '--rerun-outdated', '--target', 'other');
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(p.takeLog(), ['other 1', 'other 2']);
    const s = await p.status();
    assert.deepEqual(nonzero(s.outdated), { 'target.work': 3 }, show(s.r));
  });

  it('a referenced helper changed: the functions using it are outdated (the helper named, with file:line)', async () => {
    const p = await fresh('helper');
    p.edit('return n + 1;', 'return n + 2;');
    const s = await p.status();
    assert.deepEqual(nonzero(s.outdated), { 'helper.other': 2 }, show(s.r));
    const listing = await p.jug('status', '--outdated');
    assert.match(listing.stdout, new RegExp(`helper\\.other: 2 outdated results\\n {4}helper: changed \\(helper\\.ts:${HELPER_LINE}\\)`), show(listing));
    const inv = await p.jug('invalidate', '--outdated');
    assert.equal(inv.code, 0, show(inv));
    assert.deepEqual(Object.fromEntries(parseTable(inv.stdout).rows), { 'helper.other': [2], 'helper.total': [1], 'Total:': [3] }, show(inv));
    const run = await p.jug('execute', '-q');
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(p.takeLog(), ['other 1', 'other 2', 'total']);
  });

  it('a { version } bump: outdated, said to be the version', async () => {
    const p = await fresh('version');
    p.edit('{ version: 1 }', '{ version: 2 }');
    const s = await p.status();
    assert.deepEqual(nonzero(s.outdated), { 'version.other': 2 }, show(s.r));
    const listing = await p.jug('status', '--outdated');
    assert.match(listing.stdout, /version\.other: 2 outdated results\n {4}its version changed/, show(listing));
  });

  it('results without a fingerprint (records of an older jug, or no record at all) are unknown, never outdated', async () => {
    const p = await fresh('unknown');
    // Records as an older jug wrote them: no code, no parts.
    const runs = join(p.jugdir, 'runs');
    for (const f of readdirSync(runs)) {
      const lines = readFileSync(join(runs, f), 'utf8').split('\n').filter((l) => l !== '');
      const old = lines.map((l) => {
        const { code: _c, parts: _p, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return JSON.stringify(rest);
      });
      writeFileSync(join(runs, f), old.join('\n') + '\n');
    }
    p.edit('return squared * FACTOR;', 'return squared * FACTOR + 1;');
    let s = await p.status();
    assert.doesNotMatch(s.r.stdout, /Outdated/, show(s.r));
    let listing = await p.jug('status', '--outdated');
    assert.match(listing.stdout, /^No outdated results\.\n6 stored results of unknown code/, show(listing));
    const why = await runJug(['why', 'work(1)', p.jugfile, '--jugdir', p.jugdir]);
    assert.match(why.stdout, /Stored: computed by .*\nIts code is not known: the run that stored it recorded no code fingerprint/, show(why));
    // No record at all (a result from before run records).
    rmSync(runs, { recursive: true });
    s = await p.status();
    assert.doesNotMatch(s.r.stdout, /Outdated/, show(s.r));
    listing = await p.jug('status', '--outdated');
    assert.match(listing.stdout, /6 stored results of unknown code/, show(listing));
    const inv = await p.jug('invalidate', '--outdated');
    assert.equal(inv.code, 0, show(inv));
    assert.match(inv.stdout, /No outdated results \(6 result\(s\) of unknown code are kept\)/, show(inv));
    const run = await p.jug('execute', '-q', '--rerun-outdated');
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(p.takeLog(), []);
  });

  it('--threads 2 records the same fingerprints as a serial run: nothing outdated without an edit; an edit seen the same', async () => {
    const p = await fresh('threads', '--threads', '2');
    let s = await p.status();
    assert.doesNotMatch(s.r.stdout, /Outdated/, show(s.r));
    p.edit('return squared * FACTOR;', 'return squared * FACTOR + 1;');
    s = await p.status();
    assert.deepEqual(nonzero(s.outdated), { 'threads.work': 3 }, show(s.r));
    const run = await p.jug('execute', '-q', '--threads', '2', '--rerun-outdated');
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(p.takeLog(), ['total', 'work 1', 'work 2', 'work 3']);
    s = await p.status();
    assert.doesNotMatch(s.r.stdout, /Outdated/, show(s.r));
  });

  it('rerun-outdated = yes in a jugrc [execute] section works like the flag', async () => {
    const p = await fresh('config');
    p.edit('return n + 1;', 'return n + 3;');
    writeFileSync(join(tmp, '.jugrc'), '[execute]\nrerun-outdated = yes\n');
    try {
      const run = await runJug(['execute', p.jugfile, '--jugdir', p.jugdir, '-q'], { cwd: tmp, env: { SIDE_LOG: p.log } });
      assert.equal(run.code, 0, show(run));
      assert.deepEqual(p.takeLog(), ['other 1', 'other 2', 'total']);
    } finally {
      writeFileSync(join(tmp, '.jugrc'), '');
    }
  });
});
