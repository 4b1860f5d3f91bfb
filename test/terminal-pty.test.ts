/**
 * `jug execute` in a real terminal: a pseudo-terminal made by tmux, driven as a person would
 * (Ctrl-C typed as a key, the screen read back). A subprocess with pipes cannot see this class
 * of bug: a progress display that put stdin in raw mode made Ctrl-C a byte nobody read, so the
 * run went on to the end (issue 14). Every test also checks that the terminal is left as it was
 * found: `stty -g` the same before and after, the cursor shown, no progress line left over.
 *
 * Needs tmux (.ci/run installs it); skipped, saying why, without it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, JUG_BIN, entries, makeTempDir, parseTable, removeTempDir, storedHashes } from './helpers.js';
import { TmuxServer, descendantWith, tmuxUnavailable, type Pane } from './tmux-pane.js';

const unavailable = tmuxUnavailable();
if (unavailable !== undefined) process.stderr.write(`terminal-pty.test.ts: skipped: ${unavailable}\n`);

/** A spinner line of the progress display. */
const SPINNER_LINE = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] .*$/gm;
const FIXTURE = join(FIXTURES, 'pty-naps.ts');
/** Generous: the test machine may be loaded. */
const LONG = 60_000;

/** A `jug execute` of pty-naps.ts running in a tmux pane. */
interface Session {
  readonly pane: Pane;
  readonly dir: string;
  readonly jugdir: string;
  readonly side: string;
  /** Waits for the run to end; its exit code. */
  exit(timeoutMs?: number): Promise<number>;
}

describe('jug execute in a real terminal (tmux pty)', { skip: unavailable }, () => {
  let server: TmuxServer;
  let root: string;
  const dirs: string[] = [];
  before(() => {
    server = new TmuxServer();
    root = makeTempDir('pty');
  });
  after(async () => {
    await server.close();
    removeTempDir(root);
  });

  /** Starts `jug execute pty-naps.ts <args>` in a new pane, between two `stty -g`. */
  async function start(label: string, args: readonly string[], env: Record<string, string>, width = 100): Promise<Session> {
    const dir = join(root, label);
    dirs.push(dir);
    const jugdir = join(dir, 'naps.jugdata');
    const side = join(dir, 'side.txt');
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const script = join(root, `${label}.sh`);
    writeFileSync(
      script,
      [
        // The shell survives the Ctrl-C it shares with jug (a handler, not SIG_IGN: jug inherits default handling).
        'trap : INT TERM',
        'unset CI NODE_OPTIONS NODE_TEST_CONTEXT JUG_DEBUG FORCE_COLOR',
        ...Object.entries({ NO_COLOR: '1', NAP_SIDE: side, ...env }).map(([k, v]) => `export ${k}=${q(v)}`),
        `mkdir -p ${q(dir)} && cd ${q(dir)}`,
        'stty -g > stty.before',
        [process.execPath, JUG_BIN, 'execute', FIXTURE, '--jugdir', jugdir, ...args].map(q).join(' '),
        'code=$?',
        'stty -g > stty.after',
        'echo "JUG_EXIT=$code"',
        'exec sleep 600',
        '',
      ].join('\n'),
    );
    const pane = await server.start(script, width, 30);
    return {
      pane,
      dir,
      jugdir,
      side,
      async exit(timeoutMs = LONG) {
        return Number((await pane.waitFor(/JUG_EXIT=(\d+)$/m, timeoutMs))[1]);
      },
    };
  }

  /** The terminal is as jug found it: same stty settings, cursor shown, no progress line left over. */
  async function assertTerminalRestored(s: Session): Promise<string> {
    const text = await s.pane.everything();
    assert.equal(readFileSync(join(s.dir, 'stty.after'), 'utf8'), readFileSync(join(s.dir, 'stty.before'), 'utf8'), 'stty settings changed');
    assert.ok(await s.pane.cursorVisible(), 'the cursor was left hidden');
    assert.deepEqual(text.match(SPINNER_LINE) ?? [], [], `a progress line was left on the terminal:\n${text}`);
    return text;
  }

  const sideLines = (s: Session, prefix: string): string[] =>
    existsSync(s.side) ? readFileSync(s.side, 'utf8').split('\n').filter((l) => l.startsWith(prefix)) : [];

  it('the spinner redraws one line in place, cut to the width, under what tasks print; at the end only the summary remains', async () => {
    const s = await start('spinner', [], { NAP_N: '8', NAP_MS: '300', NAP_LOG: '1' }, 60);
    try {
      const frames = new Set<string>();
      const shown = new Set<string>();
      await s.pane.waitFor(/JUG_EXIT=\d+$/m, LONG, (text) => {
        const lines = text.match(SPINNER_LINE) ?? [];
        assert.ok(lines.length <= 1, `more than one progress line on the terminal (not redrawn in place):\n${text}`);
        for (const l of lines) {
          assert.ok([...l].length < 60, `a progress line wider than the terminal: ${l}`);
          frames.add(l[0]!);
          shown.add(l);
        }
      });
      assert.equal(await s.exit(), 0);
      assert.ok(frames.size >= 2 && shown.size >= 3, `the spinner did not move: ${[...shown].join('\n')}`);
      assert.ok([...shown].some((l) => / \d+\/9 finished/.test(l)), [...shown].join('\n'));
      const text = await assertTerminalRestored(s);
      assert.match(text, /^Task name {2,}Executed {2,}Loaded$/m);
      assert.deepEqual(parseTable(text).rows.get('Total:'), [9, 0]);
      assert.deepEqual((text.match(/^nap \d says hello$/gm) ?? []).sort(), [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `nap ${i} says hello`));
    } finally {
      await s.pane.kill();
    }
  });

  it('--progress names (--threads 2): a line per task name under the main line, redrawn in place under what tasks print, erased at the end', async () => {
    const s = await start('names', ['--progress', 'names', '--threads', '2'], { NAP_N: '6', NAP_MS: '300', NAP_LOG: '1' });
    try {
      let seen = false;
      await s.pane.waitFor(/JUG_EXIT=\d+$/m, LONG, (text) => {
        const naps = text.match(/^ {2}pty-naps\.nap {4}\d+\/6 · .*$/gm) ?? [];
        const totals = text.match(/^ {2}pty-naps\.total {2}\d\/1 · .*$/gm) ?? [];
        assert.ok(naps.length <= 1 && totals.length <= 1, `name lines not redrawn in place:\n${text}`);
        if (naps.length === 1 && totals.length === 1) {
          assert.match(text, /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] .*\n {2}pty-naps\.nap .*\n {2}pty-naps\.total .*$/m);
          seen = true;
        }
      });
      assert.equal(await s.exit(), 0);
      assert.ok(seen, 'the per-name lines never showed');
      const text = await assertTerminalRestored(s);
      assert.doesNotMatch(text, /^ {2}pty-naps\.nap /m);
      assert.equal((text.match(/^nap \d says hello$/gm) ?? []).length, 6, text);
    } finally {
      await s.pane.kill();
    }
  });

  for (const [mode, args] of [
    ['serial', []],
    ['--threads 2', ['--threads', '2']],
  ] as const) {
    it(`Ctrl-C once (${mode}): running tasks finish, "stopped", the summary, exit 130, no locks left`, async () => {
      const s = await start(`ctrl-c-${args.length}`, args, { NAP_N: '12', NAP_MS: '400' });
      try {
        await s.pane.waitFor(/\((?:\d+ stored, )?[1-9]\d* executed/, LONG);
        await s.pane.keys('C-c');
        assert.equal(await s.exit(), 130, await s.pane.everything());
        const text = await assertTerminalRestored(s);
        assert.match(text, /jug: SIGINT received: finishing running tasks, then stopping/);
        assert.match(text, /^jug: stopped by SIGINT; run `jug execute` again to resume\.$/m);
        const ended = sideLines(s, 'end ').length;
        assert.deepEqual(sideLines(s, 'start ').length, ended, 'a task started was not let finish');
        assert.deepEqual(parseTable(text).rows.get('Total:'), [ended, 0]);
        assert.ok(ended < 12, `the run went on to the end (${ended} naps ran)`);
        assert.equal(storedHashes(s.jugdir).length, ended);
        assert.deepEqual(entries(join(s.jugdir, 'locks')), []);
      } finally {
        await s.pane.kill();
      }
    });

    it(`Ctrl-C twice (${mode}): aborts running tasks at once, exit 130, no locks, no partial results`, async () => {
      const s = await start(`ctrl-c-twice-${args.length}`, args, { NAP_N: '6', NAP_MS: '30000' });
      try {
        await s.pane.waitFor(/ [1-9] running/, LONG);
        await s.pane.keys('C-c');
        await s.pane.waitFor(/SIGINT received/, LONG);
        const t0 = Date.now();
        await s.pane.keys('C-c');
        assert.equal(await s.exit(25_000), 130, await s.pane.everything());
        const elapsed = Date.now() - t0;
        assert.ok(elapsed < 20_000, `took ${elapsed} ms after the second Ctrl-C: the 30 s naps were not aborted`);
        const text = await assertTerminalRestored(s);
        assert.match(text, /jug: second SIGINT: aborting running tasks now\./);
        assert.match(text, /jug: aborted by SIGINT; run `jug execute` again to resume\./);
        assert.ok(sideLines(s, 'start ').length > 0);
        assert.deepEqual(sideLines(s, 'end '), []);
        assert.deepEqual(storedHashes(s.jugdir), [], 'results of aborted tasks were stored');
        assert.deepEqual(entries(join(s.jugdir, 'locks')), []);
        assert.deepEqual(entries(join(s.jugdir, 'tempfiles')), []);
      } finally {
        await s.pane.kill();
      }
    });
  }

  it('SIGTERM: running tasks finish, exit 143, terminal as before', async () => {
    const s = await start('sigterm', [], { NAP_N: '12', NAP_MS: '400' });
    try {
      await s.pane.waitFor(/\([1-9]\d* executed/, LONG);
      const jug = descendantWith(await s.pane.shellPid(), JUG_BIN);
      assert.ok(jug !== undefined, 'jug process not found');
      process.kill(jug, 'SIGTERM');
      assert.equal(await s.exit(), 143, await s.pane.everything());
      const text = await assertTerminalRestored(s);
      assert.match(text, /^jug: stopped by SIGTERM; run `jug execute` again to resume\.$/m);
      assert.deepEqual(entries(join(s.jugdir, 'locks')), []);
    } finally {
      await s.pane.kill();
    }
  });

  it('a failing task: exit 1, the failure shown, terminal as before', async () => {
    const s = await start('failure', [], { NAP_N: '6', NAP_MS: '200', NAP_FAIL: '2' });
    try {
      assert.equal(await s.exit(), 1, await s.pane.everything());
      const text = await assertTerminalRestored(s);
      assert.match(text, /nap 2 failed on purpose/);
      assert.match(text, /^jug: 1 task\(s\) failed; /m);
    } finally {
      await s.pane.kill();
    }
  });

  it('an error thrown outside any task: the run stops, exit 1, terminal as before', async () => {
    const s = await start('stray', [], { NAP_N: '6', NAP_MS: '300', NAP_STRAY: '1' });
    try {
      assert.equal(await s.exit(), 1, await s.pane.everything());
      const text = await assertTerminalRestored(s);
      assert.match(text, /stray error of nap 1/);
      assert.deepEqual(entries(join(s.jugdir, 'locks')), []);
    } finally {
      await s.pane.kill();
    }
  });

  it("a task calling process.exit() mid-run: the 'exit' listener erases the line and shows the cursor", async () => {
    const s = await start('process-exit', [], { NAP_N: '6', NAP_MS: '300', NAP_EXIT: '2' });
    try {
      assert.equal(await s.exit(), 3, await s.pane.everything());
      await assertTerminalRestored(s);
    } finally {
      await s.pane.kill();
    }
  });
});
