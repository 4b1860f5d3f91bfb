/**
 * The progress display's parts: the estimator (with a fake clock), the tallies read from the
 * status table, the line format, the in-place renderer's escape codes, the -v line; and the
 * plain-line display through the CLI (not a terminal: test/terminal-pty.test.ts drives a real one).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { progressMode } from '../src/cli/progress/index.js';
import { ProgressEstimator } from '../src/cli/progress/estimator.js';
import { fmtDuration, fmtEta, fmtRate, mainLine, nameLines, truncate } from '../src/cli/progress/format.js';
import { PassTally } from '../src/cli/progress/tally.js';
import { LiveArea } from '../src/cli/progress/terminal.js';
import { finishedLine } from '../src/cli/commands/execute/log.js';
import { describeBrief } from '../src/describe.js';
import { buildGraph, type TaskGraph } from '../src/graph.js';
import { beginLoad } from '../src/registry.js';
import { StatusTable, TaskState } from '../src/status-table.js';
import { TaskGenerator, type Task } from '../src/task.js';
import { existsSync, readFileSync } from 'node:fs';
import { FIXTURES, makeTempDir, removeTempDir, runJug, show, startJug, waitFor } from './helpers.js';

beginLoad();
const load = TaskGenerator((i: number): number => i, { name: 'pipe.load' });
const fit = TaskGenerator((x: number): number => x, { name: 'pipe.fit' });

/** A fake clock, advanced by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** `fast` load tasks, each feeding one slow fit task (a two-stage pipeline). */
function pipeline(n: number): { graph: TaskGraph; loads: Task[]; fits: Task[] } {
  const loads = Array.from({ length: n }, (_, i) => load(i)) as Task[];
  const fits = loads.map((l) => fit(l as Task<number>)) as Task[];
  return { graph: buildGraph([...loads, ...fits]), loads, fits };
}

describe('progress mode', () => {
  it('uses the spinner only on a terminal with a width, outside CI; --progress and -q choose otherwise', () => {
    assert.equal(progressMode({ isTTY: true, columns: 80 }, {}), 'spinner');
    assert.equal(progressMode({ isTTY: true, columns: 0 }, {}), 'lines', 'a 0-column terminal has no room to redraw a line');
    assert.equal(progressMode({ isTTY: true }, {}), 'lines');
    assert.equal(progressMode({ isTTY: false, columns: 80 }, {}), 'lines');
    assert.equal(progressMode({ isTTY: true, columns: 80 }, { CI: 'true' }), 'lines');
    assert.equal(progressMode({ isTTY: true, columns: 80 }, {}, true), 'none');
    assert.equal(progressMode({ isTTY: true, columns: 80 }, {}, false, 'none'), 'none');
    assert.equal(progressMode({ isTTY: true, columns: 80 }, {}, false, 'lines'), 'lines');
    assert.equal(progressMode({ isTTY: true, columns: 80 }, {}, false, 'names'), 'spinner');
    assert.equal(progressMode({ isTTY: false }, {}, false, 'names'), 'lines');
  });
});

describe('progress estimator (fake clock)', () => {
  it('a two-stage pipeline of fast then slow tasks: the ETA counts the slow tasks left at their own duration', () => {
    const c = clock();
    const est = new ProgressEstimator({ slots: 1, now: c.now });
    const { graph } = pipeline(10);
    const tally = new PassTally(graph, new Set());
    const table = StatusTable.create(graph.tasks.length);
    // All 10 loads (10 ms each), then one fit (2 s): 2.1 s elapsed, 11 of 20 executed.
    for (let i = 0; i < 10; i++) {
      c.advance(10);
      est.executed('pipe.load', 10);
      table.set(i, TaskState.Executed);
    }
    c.advance(2000);
    est.executed('pipe.fit', 2000);
    table.set(10, TaskState.Executed);
    for (let i = 11; i < 20; i++) table.set(i, TaskState.Ready);
    const tallies = tally.read(table);
    const eta = est.eta(tallies.byName);
    // 9 fits left × 2 s. A global average (11 tasks in 2.1 s) would say under 2 s.
    assert.deepEqual(eta, { seconds: 18, lowerBound: false });
    assert.match(mainLine(tallies, est), /^11\/20 finished \(11 executed\) · 0 running · 9 ready · 0 waiting · 5\.2 tasks\/s · ETA 18s$/);
    // Two threads share the work left.
    const two = new ProgressEstimator({ slots: 2, now: c.now });
    two.executed('pipe.fit', 2000);
    assert.equal(two.eta(tallies.byName)?.seconds, 9);
    // A running task counts half its typical duration.
    table.set(11, TaskState.Running);
    assert.equal(est.eta(tally.read(table).byName)?.seconds, 17);
  });

  it('a resumed run: stored results are shown as stored from the first frame and do not inflate the rate', () => {
    const c = clock();
    const est = new ProgressEstimator({ slots: 1, now: c.now });
    const { graph, loads } = pipeline(100);
    // Every load and 40 fits were stored by an earlier run.
    const stored = new Set([...loads.map((t) => t.hash()), ...graph.tasks.slice(100, 140).map((t) => t.hash())]);
    const tally = new PassTally(graph, stored);
    const table = StatusTable.create(graph.tasks.length); // the first frame: the scheduler has not looked yet
    const first = tally.read(table);
    assert.equal(first.total.stored, 140);
    assert.equal(first.total.waiting, 60);
    assert.match(mainLine(first, est), /^140\/200 finished \(140 stored, 0 executed\) · 0 running · 0 ready · 60 waiting · ETA \?$/);
    // The scheduler marks them loaded; this run then executes 8 fits of 500 ms in 4 s.
    graph.tasks.forEach((t, i) => table.set(i, stored.has(t.hash()) ? TaskState.Loaded : TaskState.Ready));
    for (let k = 0; k < 8; k++) {
      c.advance(500);
      est.executed('pipe.fit', 500);
      table.set(140 + k, TaskState.Executed);
    }
    const later = tally.read(table);
    assert.equal(est.rate(), 2, 'this run executed 8 tasks in 4 s: 2 tasks/s, not (140 + 8) / 4');
    assert.deepEqual(est.eta(later.byName), { seconds: 26, lowerBound: false }); // 52 × 0.5 s
    assert.match(mainLine(later, est), /^148\/200 finished \(140 stored, 8 executed\) · 0 running · 52 ready · 0 waiting · 2\.0 tasks\/s · ETA 26s$/);
  });

  it('results other processes store meanwhile are counted apart ("+k by others"), not in the rate', () => {
    const c = clock();
    const est = new ProgressEstimator({ slots: 1, now: c.now });
    const { graph, loads } = pipeline(5);
    const tally = new PassTally(graph, new Set([loads[0]!.hash()]));
    const table = StatusTable.create(graph.tasks.length);
    table.set(0, TaskState.Loaded); // stored at the start
    table.set(1, TaskState.Loaded); // stored by another process since
    table.set(2, TaskState.LockedElsewhere);
    c.advance(1000);
    est.executed('pipe.load', 1000);
    table.set(3, TaskState.Executed);
    const t = tally.read(table);
    assert.deepEqual([t.total.stored, t.total.executed, t.total.byOthers, t.total.elsewhere], [1, 1, 1, 1]);
    assert.match(mainLine(t, est), /^3\/10 finished \(1 stored, 1 executed, \+1 by others\) · 0 running · 1 running elsewhere · /);
    assert.equal(est.rate(), 1);
  });

  it('before any task of a name finished: a lower bound (ETA >…), and no number at all before any task finished', () => {
    const c = clock();
    const est = new ProgressEstimator({ slots: 1, now: c.now });
    const { graph } = pipeline(4);
    const tally = new PassTally(graph, new Set());
    const table = StatusTable.create(graph.tasks.length);
    assert.equal(est.eta(tally.read(table).byName), undefined);
    assert.equal(fmtEta(undefined), 'ETA ?');
    c.advance(3000);
    est.executed('pipe.load', 3000);
    table.set(0, TaskState.Executed);
    const eta = est.eta(tally.read(table).byName);
    assert.deepEqual(eta, { seconds: 9, lowerBound: true }, '3 loads of 3 s known; the 4 fits are not measured yet');
    assert.equal(fmtEta(eta), 'ETA >9s');
    assert.match(nameLines(tally.read(table).byName, est).join('\n'), /^ {2}pipe\.load {2}1\/4 · 0 running · 20 tasks\/min · ETA 9s\n {2}pipe\.fit {3}0\/4 · 0 running · ETA \?$/);
  });

  it('takes the median of recent durations: one slow outlier does not move the ETA', () => {
    const est = new ProgressEstimator({ slots: 1, now: clock().now, window: 5 });
    for (const ms of [100, 100, 100, 100, 60_000]) est.executed('x', ms);
    assert.equal(est.typicalMs('x'), 100);
    for (const ms of [200, 200, 200]) est.executed('x', ms); // the window keeps the last 5
    assert.equal(est.typicalMs('x'), 200);
    assert.equal(est.executedCount, 8);
  });
});

describe('progress line format', () => {
  it('formats durations, rates and ETAs for people', () => {
    assert.equal(fmtDuration(0.2), '1s');
    assert.equal(fmtDuration(59.5), '60s');
    assert.equal(fmtDuration(185), '3m05s');
    assert.equal(fmtDuration(7800), '2h10m');
    assert.equal(fmtDuration(Infinity), '?');
    assert.equal(fmtRate(9.14), '9.1 tasks/s');
    assert.equal(fmtRate(74), '74 tasks/s');
    assert.equal(fmtRate(0.05), '3.0 tasks/min');
    assert.equal(fmtRate(1 / 7200), '0.5 tasks/h');
    assert.equal(fmtEta({ seconds: 24, lowerBound: false }), 'ETA 24s');
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abc', 4), 'abc');
  });

  it('fits a narrow terminal by leaving out the least useful parts first, keeping the ETA', () => {
    const c = clock();
    const est = new ProgressEstimator({ slots: 1, now: c.now });
    const { graph, loads } = pipeline(100);
    const tally = new PassTally(graph, new Set(loads.slice(0, 50).map((t) => t.hash())));
    const table = StatusTable.create(graph.tasks.length);
    c.advance(1000);
    est.executed('pipe.load', 1000);
    table.set(60, TaskState.Executed);
    table.set(61, TaskState.Failed);
    const t = tally.read(table);
    const full = mainLine(t, est);
    assert.match(full, /^51\/200 finished \(50 stored, 1 executed\) · 0 running · 0 ready · 148 waiting · 1 failed · 1\.0 tasks\/s · ETA >48s$/);
    for (const width of [70, 50, 40, 30]) {
      const line = mainLine(t, est, width);
      assert.ok([...line].length <= width, `${line} is wider than ${width}`);
      if (width >= 40) assert.match(line, /ETA >48s$/, line);
      if (width >= 40) assert.match(line, /1 failed/, line);
    }
    assert.equal(mainLine(t, est, 30), '51/200 finished · 1 failed');
  });
});

describe('the in-place renderer (LiveArea)', () => {
  /** A stream of a terminal `columns` wide, recording what is written to it. */
  function terminal(columns: number): { stream: NodeJS.WriteStream; written: () => string } {
    const s = new PassThrough() as unknown as NodeJS.WriteStream & { columns: number; rows: number };
    s.columns = columns;
    s.rows = 24;
    let out = '';
    s.on('data', (b: Buffer) => (out += b.toString()));
    return { stream: s, written: () => out };
  }

  it('redraws its lines in place, cut to the width, and erases them and shows the cursor when closed', async () => {
    const { stream, written } = terminal(20);
    const area = new LiveArea(stream);
    area.draw(['first line', 'a line much longer than twenty columns']);
    area.draw(['second']);
    area.close();
    area.close(); // idempotent
    await new Promise((r) => setImmediate(r));
    assert.equal(
      written(),
      '\x1b[?25l' + 'first line\na line much longer…' + '\r\x1b[K\x1b[1A\x1b[K' + 'second' + '\r\x1b[K' + '\x1b[?25h',
    );
  });

  it('puts other writes to the stream above the area and draws it again below them; restores the stream on close', async () => {
    const { stream, written } = terminal(40);
    const ownWrite = stream.write;
    const area = new LiveArea(stream, { hideCursor: false });
    area.draw(['progress']);
    stream.write('a warning\n');
    await new Promise((r) => setImmediate(r));
    stream.write('half a line');
    await new Promise((r) => setImmediate(r));
    area.draw(['progress 2']); // waits for the end of that line
    stream.write(' ended\n');
    await new Promise((r) => setImmediate(r));
    area.close();
    assert.equal(stream.write, ownWrite);
    await new Promise((r) => setImmediate(r));
    assert.equal(written(), 'progress\r\x1b[Ka warning\nprogress\r\x1b[Khalf a line ended\nprogress 2\r\x1b[K');
  });

  it("shows the cursor from a process 'exit' listener while it is open, and removes that listener on close", () => {
    const { stream } = terminal(40);
    const before = process.listenerCount('exit');
    const area = new LiveArea(stream);
    assert.equal(process.listenerCount('exit'), before + 1);
    area.close();
    assert.equal(process.listenerCount('exit'), before);
  });
});

describe('-v: one line per finished task', () => {
  it('names the task, a short description of its arguments, its duration and where it ran', () => {
    const t = fit(load(3));
    assert.equal(finishedLine(t, { kind: 'executed', ms: 1234.5 }), 'Executed pipe.fit(pipe.load(3)) in 1.23 s (main thread)');
    assert.equal(finishedLine(t, { kind: 'executed', ms: 12.4, thread: 3 }), 'Executed pipe.fit(pipe.load(3)) in 12 ms (thread 3)');
    const failed = { kind: 'failed', keptFailed: false, thread: 2, error: { name: 'Error', message: 'x', stack: 'x', internal: false } } as const;
    assert.equal(finishedLine(t, failed), 'Failed pipe.fit(pipe.load(3)) (thread 2)');
    assert.equal(finishedLine(t, { kind: 'loaded' }), undefined);
    // A thread that died under its task: no thread id comes back.
    const died = { kind: 'failed', keptFailed: false, error: { name: 'Error', message: 'x', stack: 'x', internal: true } } as const;
    assert.equal(finishedLine(t, died, true), 'Failed pipe.fit(pipe.load(3)) (a worker thread)');
    // Under --threads, a task the main thread ran itself (tiny ones, probes) says so.
    assert.equal(finishedLine(t, { kind: 'executed', ms: 0.2 }, true), 'Executed pipe.fit(pipe.load(3)) in 0 ms (main thread)');
  });

  it('describes arguments in one line of at most 80 characters, without walking more than that', () => {
    assert.equal(describeBrief(load(7)), 'pipe.load(7)');
    assert.equal(describeBrief({ a: [1, 'two', null], 'b c': new Map([[1, 2n]]), d: new Float64Array(3) }), '{a: [1, "two", null], "b c": Map(1) {1 => 2n}, d: Float64Array(3)}');
    const long = describeBrief(Array.from({ length: 100_000 }, (_, i) => i));
    assert.equal([...long].length, 80);
    assert.match(long, /^\[0, 1, 2, .*…$/);
    // A deep chain of tasks: only what fits is described.
    let deep = load(0);
    for (let i = 0; i < 2000; i++) deep = fit(deep);
    assert.match(describeBrief(deep, 40), /^pipe\.fit\(pipe\.fit\(.*…$/);
  });
});

describe('progress through the CLI (not a terminal)', () => {
  it('prints periodic plain lines to stderr, per name with --progress names, none with --quiet or --progress none; stdout keeps the table', async () => {
    const dir = makeTempDir('progress');
    try {
      const env = { JUG_N: '40', JUG_DELAY_MS: '25', JUG_PROGRESS_INTERVAL: '0.2' };
      const args = ['execute', join(FIXTURES, 'many.ts')];
      const shown = await runJug([...args, '--jugdir', join(dir, 'a.jugdata')], { env });
      assert.equal(shown.code, 0, show(shown));
      assert.match(shown.stderr, /^\[jug\] \d+\/41 finished \(\d+ executed\) · \d+ running · \d+ ready · \d+ waiting · /m);
      assert.doesNotMatch(shown.stdout, /\[jug\]/);
      assert.doesNotMatch(shown.stderr, /\x1b\[/, 'no terminal codes when stderr is not a terminal');
      const names = await runJug([...args, '--jugdir', join(dir, 'n.jugdata'), '--progress', 'names'], { env });
      assert.equal(names.code, 0, show(names));
      assert.match(names.stderr, /^\[jug\] \d+\/41 finished .*\n\[jug\] {3}many\.work {3}\d+\/40 · \d+ running · .*\n\[jug\] {3}many\.total {2}0\/1 · 0 running · ETA \?\n/m);
      for (const quiet of [['--quiet'], ['--progress', 'none']]) {
        const r = await runJug([...args, '--jugdir', join(dir, `q${quiet.length}.jugdata`), ...quiet], { env });
        assert.equal(r.code, 0, show(r));
        assert.doesNotMatch(r.stderr, /\[jug\]/);
      }
      // A bad interval: a warning and the 10 s default (it used to print a line every millisecond).
      const bad = await runJug([...args, '--jugdir', join(dir, 'c.jugdata')], { env: { ...env, JUG_PROGRESS_INTERVAL: 'abc' } });
      assert.equal(bad.code, 0, show(bad));
      assert.match(bad.stderr, /warning: JUG_PROGRESS_INTERVAL='abc' is not a positive number of seconds; using 10/);
      assert.ok(bad.stderr.split('\n').filter((l) => l.startsWith('[jug]')).length <= 1, bad.stderr);
      const wrong = await runJug([...args, '--jugdir', join(dir, 'w.jugdata'), '--progress', 'fancy'], { env });
      assert.equal(wrong.code, 2, show(wrong));
      assert.match(wrong.stderr, /--progress <mode>' argument 'fancy' is invalid. Allowed choices are auto, names, lines, none/);
    } finally {
      removeTempDir(dir);
    }
  });

  it('a resumed run: the first line already counts the stored results as stored', async () => {
    const dir = makeTempDir('progress-resume');
    try {
      const jugdir = join(dir, 'r.jugdata');
      const args = ['execute', join(FIXTURES, 'many.ts'), '--jugdir', jugdir];
      const first = await runJug([...args, '--target', 'work', '--quiet'], { env: { JUG_N: '30', JUG_DELAY_MS: '0' } });
      assert.equal(first.code, 0, show(first));
      const r = await runJug([...args, '--progress', 'lines'], { env: { JUG_N: '40', JUG_DELAY_MS: '60', JUG_PROGRESS_INTERVAL: '0.15' } });
      assert.equal(r.code, 0, show(r));
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('[jug]'));
      assert.ok(lines.length > 0, show(r));
      for (const l of lines) assert.match(l, /^\[jug\] (\d+)\/41 finished \(30 stored, \d+ executed\)/, l);
    } finally {
      removeTempDir(dir);
    }
  });

  it('another process working on the same jugdir: its results count as "+k by others", apart from stored ones', async () => {
    const dir = makeTempDir('progress-others');
    try {
      const jugdir = join(dir, 'o.jugdata');
      const side = join(dir, 'side.txt');
      const args = ['execute', join(FIXTURES, 'many.ts'), '--jugdir', jugdir];
      const env = { JUG_N: '40', JUG_DELAY_MS: '100', JUG_SIDE_FILE: side, JUG_PROGRESS_INTERVAL: '0.1' };
      const first = startJug([...args, '--quiet'], { env });
      const ran = (): number => (existsSync(side) ? readFileSync(side, 'utf8').split('\n').length - 1 : 0);
      assert.ok(await waitFor(() => ran() >= 3, 30_000), 'the first process should start');
      const second = await runJug([...args, '--progress', 'lines'], { env });
      const r1 = await first.done;
      assert.equal(r1.code, 0, show(r1));
      assert.equal(second.code, 0, show(second));
      const lines = second.stderr.split('\n').filter((l) => l.startsWith('[jug]'));
      const stored = Number(/\((\d+) stored/.exec(lines[0] ?? '')?.[1]);
      assert.ok(stored >= 3, `the first line should count the results stored before: ${lines[0]}`);
      const others = new RegExp(`^\\[jug\\] \\d+/41 finished \\(${stored} stored, \\d+ executed, \\+[1-9]\\d* by others\\)`);
      assert.ok(lines.some((l) => others.test(l)), `no line counts results of the other process apart:\n${second.stderr}`);
    } finally {
      removeTempDir(dir);
    }
  });

  it('-v logs each finished task with its arguments, duration and thread', async () => {
    const dir = makeTempDir('progress-verbose');
    try {
      const env = { JUG_N: '3', JUG_DELAY_MS: '5' };
      const serial = await runJug(['execute', join(FIXTURES, 'many.ts'), '--jugdir', join(dir, 's.jugdata'), '-v'], { env });
      assert.equal(serial.code, 0, show(serial));
      assert.match(serial.stderr, /^Executed many\.work\(2\) in \d+ ms \(main thread\)$/m);
      assert.match(serial.stderr, /^Executed many\.total\(\[many\.work\(0\), many\.work\(1\), many\.work\(2\)\]\) in \d+ ms \(main thread\)$/m);
      const threads = await runJug(['execute', join(FIXTURES, 'many.ts'), '--jugdir', join(dir, 't.jugdata'), '-v', '--threads', '2'], { env });
      assert.equal(threads.code, 0, show(threads));
      assert.match(threads.stderr, /^Executed many\.work\(1\) in \d+ ms \(thread \d+\)$/m);
    } finally {
      removeTempDir(dir);
    }
  });
});
