/**
 * `jug why <task>` through the real CLI: each state in plain words (ready, waiting on which
 * dependencies, running on which host since when, a stale lock of a dead process, failed with
 * which error, stored with when/where/how long, outdated with the function and file:line,
 * downstream of outdated results, behind a barrier), and how a task is named (name(args), a name
 * one task has, a hash or a prefix; ambiguous: exit 2 listing the candidates).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, makeTempDir, removeTempDir, runJug, show, startJug, waitFor } from './helpers.js';

const JUGFILE = `import { TaskGenerator, barrier } from 'jug';
import { existsSync } from 'node:fs';

const GATE = process.env['WHY_GATE'] ?? '';

export const leaf = TaskGenerator(function leaf(n: number): number {
  return n * 2;
});

export const slow = TaskGenerator(async function slow(n: number): Promise<number> {
  while (GATE !== '' && !existsSync(GATE)) await new Promise((r) => setTimeout(r, 50));
  return n;
});

export const risky = TaskGenerator(function risky(n: number): number {
  if (process.env['WHY_FAIL'] === '1') throw new Error(\`boom \${n}\`);
  return n;
});

export const sum = TaskGenerator(function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
});

export const s = sum([leaf(1), leaf(2)]);
export const sl = slow(5);
export const r = risky(3);
if (process.env['WHY_BARRIER'] === '1') barrier();
export const late = leaf(99);
`;

let tmp = '';
let jugfile = '';
let jugdir = '';
before(() => {
  tmp = makeTempDir('why');
  jugfile = join(tmp, 'why.ts');
  jugdir = join(tmp, 'why.jugdata');
  writeFileSync(jugfile, JUGFILE);
});
after(() => removeTempDir(tmp));

const why = (task: string, env: Record<string, string> = {}) => runJug(['why', task, jugfile, '--jugdir', jugdir], { env });
const HOST = hostname();

describe('jug why', () => {
  it('ready, and waiting on which dependencies (each with its own state)', async () => {
    const ready = await why('leaf(1)');
    assert.equal(ready.code, 0, show(ready));
    assert.match(ready.stdout, /^why\.leaf\(1\) {2}\[[0-9a-f]{12}\]\nReady: every dependency is stored/, show(ready));
    const waiting = await why('why.sum');
    assert.equal(waiting.code, 0, show(waiting));
    assert.match(waiting.stdout, /Waiting on 2 dependencies not stored yet:\n {2}[0-9a-f]{12} {2}why\.leaf\(1\): ready\n {2}[0-9a-f]{12} {2}why\.leaf\(2\): ready/, show(waiting));
  });

  it('a name several tasks have, or a hash prefix several share: exit 2 listing them; a unique prefix or name(args) works', async () => {
    const several = await why('leaf');
    assert.equal(several.code, 2, show(several));
    assert.match(several.stderr, /'leaf' matches 3 tasks:\n {2}[0-9a-f]{12} {2}why\.leaf\(1\)\n/, show(several));
    const prefix = join(FIXTURES, 'prefix.ts');
    const twins = await runJug(['why', 'a51b3d', prefix, '--jugdir', join(tmp, 'prefix.jugdata')]);
    assert.equal(twins.code, 2, show(twins));
    assert.match(twins.stderr, /'a51b3d' is the start of 2 tasks:\n {2}a51b3d[0-9a-f]{6} {2}prefix\.pick\(1388\)\n {2}a51b3d[0-9a-f]{6} {2}prefix\.pick\(1932\)/, show(twins));
    const hash = /\[([0-9a-f]{12})\]/.exec((await why('leaf(2)')).stdout)![1]!;
    const byHash = await why(hash.slice(0, 8));
    assert.equal(byHash.code, 0, show(byHash));
    assert.match(byHash.stdout, /^why\.leaf\(2\) /, show(byHash));
    const none = await why('nosuch(1)');
    assert.equal(none.code, 2, show(none));
    assert.match(none.stderr, /no task is 'nosuch\(1\)' \(task names: why\.leaf, why\.risky, why\.slow, why\.sum\)/, show(none));
  });

  it('behind a barrier: the task is not known until the tasks before it are computed', async () => {
    const r = await why('leaf(99)', { WHY_BARRIER: '1' });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /'leaf\(99\)' is not among the 5 task\(s\) declared before the barrier at why\.ts:\d+: behind the barrier/, show(r));
  });

  it('failed: with which error, where and when (a --keep-failed mark)', async () => {
    const run = await runJug(['execute', jugfile, '--jugdir', jugdir, '--target', 'risky', '--keep-failed', '-q'], { env: { WHY_FAIL: '1' } });
    assert.equal(run.code, 1, show(run));
    const r = await why('risky(3)');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`Failed on host ${HOST} \\(pid \\d+\\) at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC after .*: Error: boom 3\\n`), show(r));
    assert.match(r.stdout, /jug execute --retry-failed/, show(r));
  });

  it('running on which host since when, then a stale lock once that process is killed', async () => {
    const gate = join(tmp, 'gate');
    const hash = /\[([0-9a-f]{12})\]/.exec((await why('slow(5)')).stdout)![1]!;
    const run = startJug(['execute', jugfile, '--jugdir', jugdir, '--target', 'slow', '-q'], { env: { WHY_GATE: gate } });
    const locks = join(jugdir, 'locks');
    assert.ok(await waitFor(() => existsSync(locks) && readdirSync(locks).some((f) => f.startsWith(hash) && f.endsWith('.lock')), 30_000, 20), 'no lock taken');
    const r = await why('slow(5)');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`Running: pid ${run.child.pid} on ${HOST} holds its lock since \\d{4}-\\d\\d-\\d\\d [\\d:]+ UTC \\([^)]*ago\\); last heartbeat`), show(r));
    run.child.kill('SIGKILL');
    await run.done;
    const stale = await why('slow(5)');
    assert.match(stale.stdout, new RegExp(`Stale lock: it is locked by pid ${run.child.pid} on ${HOST}, which is gone`), show(stale));
    assert.match(stale.stdout, /jug cleanup --stale/, show(stale));
    writeFileSync(gate, '');
  });

  it('stored: when, on which host, how long; then outdated (which function, file:line) and downstream after an edit', async () => {
    const run = await runJug(['execute', jugfile, '--jugdir', jugdir, '--retry-failed', '-q'], { env: { WHY_GATE: join(tmp, 'gate') } });
    assert.equal(run.code, 0, show(run));
    const stored = await why('sum');
    assert.equal(stored.code, 0, show(stored));
    assert.match(stored.stdout, new RegExp(`Stored: computed by host ${HOST} \\(pid \\d+\\) at \\d{4}-\\d\\d-\\d\\d [\\d:]+ UTC, in [^\\n]+\\.\\nUp to date`), show(stored));
    writeFileSync(jugfile, JUGFILE.replace('return n * 2;', 'return n * 3;'));
    const outdated = await why('leaf(1)');
    assert.match(outdated.stdout, /Stored: computed by /, show(outdated));
    const line = JUGFILE.split('\n').findIndex((l) => l.includes('function leaf')) + 1;
    assert.match(outdated.stdout, new RegExp(`Outdated: the code of why\\.leaf \\(leaf at why\\.ts:${line}\\) changed since it was computed`), show(outdated));
    const down = await why('sum');
    assert.match(down.stdout, /Downstream of outdated results: it depends on 2 outdated results \(why\.leaf\(1\) \[[0-9a-f]{12}\], why\.leaf\(2\)/, show(down));
    const other = await why('risky(3)');
    assert.match(other.stdout, /Up to date/, show(other));
    writeFileSync(jugfile, JUGFILE);
  });
});

