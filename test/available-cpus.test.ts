/**
 * `--threads auto`: the CPUs this process may use, the smallest of the affinity mask, Slurm's
 * SLURM_CPUS_PER_TASK and the cgroup CPU quota (v2 cpu.max, v1 cfs quota), read from injected
 * sources here; and through the CLI (-v says the number and which limit chose it).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { availableCpus } from '../src/executors/available-cpus.js';
import { ROOT, makeTempDir, removeTempDir, runJug, show } from './helpers.js';

const files = (map: Record<string, string>) => (path: string): string | undefined => map[path];

describe('availableCpus', () => {
  it('the affinity mask when nothing else limits', () => {
    assert.deepEqual(availableCpus({ env: {}, affinity: 8, read: files({}) }), { cpus: 8, limitedBy: 'CPU affinity' });
  });

  it('SLURM_CPUS_PER_TASK when smaller; ignored when not a positive integer', () => {
    assert.deepEqual(availableCpus({ env: { SLURM_CPUS_PER_TASK: '3' }, affinity: 8, read: files({}) }), {
      cpus: 3,
      limitedBy: 'SLURM_CPUS_PER_TASK=3',
    });
    assert.equal(availableCpus({ env: { SLURM_CPUS_PER_TASK: '16' }, affinity: 8, read: files({}) }).cpus, 8);
    for (const bad of ['0', 'x', '-2', '']) {
      assert.equal(availableCpus({ env: { SLURM_CPUS_PER_TASK: bad }, affinity: 8, read: files({}) }).cpus, 8, bad);
    }
  });

  it("cgroup v2: the process's own cpu.max, rounded up; 'max' is no limit", () => {
    const cgroup = { '/proc/self/cgroup': '0::/job/42\n' };
    const q = availableCpus({ env: {}, affinity: 8, read: files({ ...cgroup, '/sys/fs/cgroup/job/42/cpu.max': '150000 100000\n' }) });
    assert.deepEqual(q, { cpus: 2, limitedBy: 'cgroup cpu.max 150000 100000' });
    assert.equal(availableCpus({ env: {}, affinity: 8, read: files({ ...cgroup, '/sys/fs/cgroup/job/42/cpu.max': 'max 100000' }) }).cpus, 8);
    // The root's when the process's own has none.
    assert.equal(availableCpus({ env: {}, affinity: 8, read: files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '400000 100000' }) }).cpus, 4);
  });

  it('cgroup v1: cfs quota / period of the cpu controller (-1: none)', () => {
    const cg = { '/proc/self/cgroup': '4:cpu,cpuacct:/docker/abc\n' };
    const one = { ...cg, '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '50000', '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000' };
    assert.deepEqual(availableCpus({ env: {}, affinity: 8, read: files(one) }), { cpus: 1, limitedBy: 'cgroup cpu.cfs_quota_us 50000 / 100000' });
    const none = { ...cg, '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000' };
    assert.equal(availableCpus({ env: {}, affinity: 8, read: files(none) }).cpus, 8);
  });

  it('the smallest limit wins, and never fewer than 1', () => {
    const read = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '300000 100000' });
    assert.equal(availableCpus({ env: { SLURM_CPUS_PER_TASK: '2' }, affinity: 8, read }).cpus, 2);
    assert.equal(availableCpus({ env: { SLURM_CPUS_PER_TASK: '6' }, affinity: 8, read }).cpus, 3);
    assert.equal(availableCpus({ env: {}, affinity: 0, read: files({}) }).cpus, 1);
  });
});

describe('jug execute --threads auto', () => {
  let tmp = '';
  before(() => (tmp = makeTempDir('threads-auto')));
  after(() => removeTempDir(tmp));
  const primes = join(ROOT, 'examples', 'primes.ts');

  it('-j auto under SLURM_CPUS_PER_TASK=1 runs one worker thread and says why (-v)', async () => {
    const out = join(tmp, 'out.txt');
    const r = await runJug(['execute', primes, '--jugdir', join(tmp, 'a.jugdata'), '-j', 'auto', '-v', '-q'], {
      env: { SLURM_CPUS_PER_TASK: '1', PRIMES_SLEEP_MS: '0', PRIMES_OUTPUT: out },
    });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /jug: --threads auto: 1 thread \(limited by SLURM_CPUS_PER_TASK=1\)\./, show(r));
    const threads = new Set([...r.stderr.matchAll(/\(thread (\d+)\)/g)].map((m) => m[1]));
    // One worker thread ran tasks (the main thread may run first tasks of isPrime itself: probes).
    assert.equal(threads.size, 1, show(r));
  });

  it('threads = auto in a configuration file', async () => {
    const dir = join(tmp, 'rc');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.jugrc'), '[execute]\nthreads = auto\n');
    const r = await runJug(['execute', primes, '--jugdir', join(dir, 'c.jugdata'), '-v', '-q'], {
      cwd: dir,
      env: { SLURM_CPUS_PER_TASK: '1', PRIMES_SLEEP_MS: '0', PRIMES_OUTPUT: join(dir, 'out.txt') },
    });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /jug: --threads auto: 1 thread \(limited by SLURM_CPUS_PER_TASK=1\)\./, show(r));
  });

  it('a bad value is exit 2, naming auto among what is expected', async () => {
    const r = await runJug(['execute', primes, '--jugdir', join(tmp, 'b.jugdata'), '--threads', 'autox']);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /expected an integer from 1 to 1024, or auto, got 'autox'/, show(r));
  });
});
