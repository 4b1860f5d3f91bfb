/**
 * `jug submit` without a cluster: the script --dry-run prints, and bad input (usage errors exit 2,
 * no sbatch on PATH exits 1) caught before anything is written or submitted. The runs against a
 * real Slurm are in slurm.test.ts. Through the real CLI (needs `npm run build`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, JUG_BIN, ROOT, makeTempDir, removeTempDir, runJug, show } from './helpers.js';

const MANY = join(FIXTURES, 'many.ts');

let tmp: string;
before(() => {
  tmp = makeTempDir('submit');
});
after(() => removeTempDir(tmp));

/** The script lines after the header comments. */
function scriptLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '' && (!l.startsWith('#') || l.startsWith('#SBATCH') || l.startsWith('#!')));
}

describe('jug submit --dry-run', () => {
  it('prints the job-array script: options, USR1 margin, absolute paths, exec of jug execute; writes nothing', async () => {
    const jugdir = join(tmp, 'dry', 'many.jugdata');
    const r = await runJug(
      [
        ...['submit', MANY, '--jugdir', jugdir, '--workers', '4', '--threads', '3', '--time', '2:00:00', '--mem', '4G'],
        ...['--partition', 'short', '--account', 'proj1', '--sbatch-arg=--qos=high', '--sbatch-arg', '--constraint=avx2', '--dry-run'],
      ],
      { env: { JUG_N: '5' } },
    );
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(scriptLines(r.stdout), [
      '#!/bin/bash',
      '#SBATCH --job-name=jug-many',
      '#SBATCH --array=0-3',
      '#SBATCH --cpus-per-task=3',
      '#SBATCH --time=2:00:00',
      '#SBATCH --signal=B:USR1@120',
      '#SBATCH --mem=4G',
      '#SBATCH --partition=short',
      '#SBATCH --account=proj1',
      `#SBATCH --output=${jugdir}/jobs/%A_%a.out`,
      `#SBATCH --chdir=${ROOT}`,
      '#SBATCH --qos=high',
      '#SBATCH --constraint=avx2',
      `exec ${process.execPath} ${JUG_BIN} execute ${MANY} --jugdir ${jugdir} --threads "\${SLURM_CPUS_PER_TASK:-1}"`,
    ]);
    assert.match(r.stderr, /--dry-run: nothing written or submitted/);
    assert.equal(existsSync(jugdir), false, 'a dry run wrote to the jugdir');
  });

  it('the drain margin: a third of --time up to 120 s, 120 s without --time, --drain-margin wins; --threads auto leaves the CPUs to Slurm', async () => {
    const margin = async (args: string[]): Promise<string> => {
      const r = await runJug(['submit', MANY, '--jugdir', join(tmp, 'm.jugdata'), '--workers', '1', '--dry-run', ...args], { env: { JUG_N: '2' } });
      assert.equal(r.code, 0, show(r));
      return /^#SBATCH --signal=B:USR1@(\d+)$/m.exec(r.stdout)?.[1] ?? 'none';
    };
    assert.equal(await margin(['--time', '1']), '20');
    assert.equal(await margin(['--time', '0:05:00']), '100');
    assert.equal(await margin(['--time', '1-00:00:00']), '120');
    assert.equal(await margin([]), '120');
    assert.equal(await margin(['--time', '4:00:00', '--drain-margin', '900']), '900');
    const auto = await runJug(['submit', MANY, '--jugdir', join(tmp, 'a.jugdata'), '--workers', '2', '--threads', 'auto', '--dry-run', '--', 'x y'], { env: { JUG_N: '2' } });
    assert.equal(auto.code, 0, show(auto));
    assert.doesNotMatch(auto.stdout, /--cpus-per-task/);
    assert.match(auto.stdout, /^exec .* execute .*many\.ts --jugdir .*a\.jugdata --threads auto -- 'x y'$/m, 'jugfile arguments after --, quoted');
  });

  it('passes a --lock-lease other than the default on to the workers', async () => {
    const r = await runJug(['submit', MANY, '--workers', '1', '--lock-lease', '600', '--dry-run'], { env: { JUG_N: '2' }, cwd: tmp });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /--jugdir \S+many\.jugdata --lock-lease 600 --threads/);
    assert.match(r.stdout, new RegExp(`^#SBATCH --chdir=${tmp}$`, 'm'), 'the workers run where jug submit ran');
  });
});

describe('jug submit: bad input', () => {
  const usage: [string, string[], RegExp][] = [
    ['--workers 0', ['--workers', '0'], /option '--workers <n>' argument '0' is invalid\. expected an integer from 1/],
    ['no --workers', [], /--workers <n> is required/],
    ['--time 1:99:00', ['--workers', '2', '--time', '1:99:00'], /--time '1:99:00': minutes must be below 60/],
    ['--time soon', ['--workers', '2', '--time', 'soon'], /--time 'soon': expected HH:MM:SS/],
    ['--time 0:00:30', ['--workers', '2', '--time', '0:00:30'], /whole minutes: at least 0:01:00/],
    ['--mem lots', ['--workers', '2', '--mem', 'lots'], /--mem 'lots': expected a size/],
    ['--partition "a b"', ['--workers', '2', '--partition', 'a b'], /--partition 'a b': expected a name/],
    ['--sbatch-arg qos', ['--workers', '2', '--sbatch-arg', 'qos'], /--sbatch-arg 'qos': expected one option of sbatch/],
    ['--drain-margin ≥ --time', ['--workers', '2', '--time', '1', '--drain-margin', '60'], /--drain-margin 60: must be shorter than the time limit/],
    ['--scheduler pbs', ['--workers', '2', '--scheduler', 'pbs'], /argument 'pbs' is invalid\. Allowed choices are slurm/],
  ];
  for (const [label, args, message] of usage) {
    it(`${label}: exit 2, says what is expected, writes nothing`, async () => {
      const jugdir = join(tmp, 'bad', 'many.jugdata');
      const r = await runJug(['submit', MANY, '--jugdir', jugdir, ...args], { env: { JUG_N: '2' } });
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, message, show(r));
      assert.equal(existsSync(jugdir), false);
    });
  }

  it('no sbatch on PATH: exit 1, names what to install, writes nothing', async () => {
    const jugdir = join(tmp, 'nopath', 'many.jugdata');
    const emptyBin = join(tmp, 'nopath', 'bin');
    mkdirSync(emptyBin, { recursive: true });
    // jug itself runs from node's absolute path; its PATH has no sbatch or squeue.
    const r = await runJug(['submit', MANY, '--jugdir', jugdir, '--workers', '2'], { env: { JUG_N: '2', PATH: emptyBin } });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^jug: sbatch and squeue not found on PATH: jug submit needs Slurm's client commands .*apt-get install slurm-client/m);
    assert.equal(existsSync(jugdir), false);
  });

  it('a :memory: jugdir: exit 2, the workers need one on disk', async () => {
    const r = await runJug(['submit', MANY, '--jugdir', ':memory:', '--workers', '2', '--dry-run'], { env: { JUG_N: '2' } });
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /jug submit needs a jugdir on disk that the workers share/);
  });
});
