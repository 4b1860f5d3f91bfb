/**
 * `jug pack` through the real CLI: results move into a pack (a few files) and every command still
 * sees them; packing while `jug execute --threads 2` runs loses nothing and never makes a result
 * unreadable; two packs at once; invalidate / cleanup of packed results; a corrupt packed entry is
 * detected and recomputed; a dead process's pack lock does not block. Plus the index format.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CorruptResultError, NotComputedError } from '../src/errors.js';
import { FileStore } from '../src/store/file-store.js';
import { PackIndex, PackReader, parseIndex, parseTombstones, serializeIndex } from '../src/store/pack.js';
import { FIXTURES, makeTempDir, parseTable, removeTempDir, runJug, runShell, show, startJug, storedHashes, type RunResult } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('pack');
});
after(() => removeTempDir(tmp));

const sumOfSquares = (n: number): number => ((n - 1) * n * (2 * n - 1)) / 6;

/** A fresh copy of the `many` fixture (work(i) = i², total = Σ) in its own directory. */
function project(name: string): { dir: string; jugfile: string; jugdir: string } {
  const dir = join(tmp, name);
  fs.mkdirSync(dir);
  const jugfile = join(dir, 'many.ts');
  fs.copyFileSync(join(FIXTURES, 'many.ts'), jugfile);
  return { dir, jugfile, jugdir: join(dir, 'many.jugdata') };
}

/** Every path under `dir` (files and directories, `dir` itself not counted), as `find` lists them. */
function findAll(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...findAll(p));
  }
  return out;
}

async function jug(args: string[], n: number, extraEnv: Record<string, string> = {}): Promise<string> {
  const r = await runJug(args, { env: { JUG_N: String(n), JUG_DELAY_MS: '0', ...extraEnv }, timeoutMs: 120_000 });
  assert.equal(r.code, 0, show(r));
  return r.stdout;
}

/** `jug shell` on the fixture with JUG_N = n (runShell passes this process's environment). */
async function shell(jugfile: string, dir: string, n: number, input: string): Promise<RunResult> {
  const saved = [process.env['JUG_N'], process.env['JUG_DELAY_MS']];
  process.env['JUG_N'] = String(n);
  process.env['JUG_DELAY_MS'] = '0';
  try {
    return await runShell([jugfile], input, dir);
  } finally {
    if (saved[0] === undefined) delete process.env['JUG_N'];
    else process.env['JUG_N'] = saved[0];
    if (saved[1] === undefined) delete process.env['JUG_DELAY_MS'];
    else process.env['JUG_DELAY_MS'] = saved[1];
  }
}

function statusTotal(stdout: string): number[] {
  return parseTable(stdout).rows.get('Total:')!;
}

/** Packed hashes as the pack index says (tombstones applied). */
function packedHashes(jugdir: string): Set<string> {
  const out = new Set<string>();
  const reader = new PackReader(jugdir);
  reader.addLive(out);
  reader.close();
  return out;
}

describe('jug pack', () => {
  it('round trip: execute, pack; status, check, shell and a re-run see every result; the jugdir holds a few files', async () => {
    const { dir, jugfile, jugdir } = project('roundtrip');
    const n = 300;
    await jug(['execute', jugfile], n);
    assert.equal(storedHashes(jugdir).length, n + 1);

    const out = await jug(['pack', jugfile], n);
    assert.match(out, new RegExp(`^Packed ${n + 1} results: .*packs holds ${n + 1} results in 1 data file`));
    assert.deepEqual(storedHashes(jugdir), [], 'no loose result left');
    const paths = findAll(jugdir);
    assert.ok(paths.length <= 10, `at most 10 entries in the jugdir after packing, found:\n${paths.join('\n')}`);

    const status = await jug(['status', jugfile], n);
    const cols = parseTable(status).columns;
    assert.equal(statusTotal(status)[cols.indexOf('Finished')], n + 1, status);
    await jug(['check', jugfile], n);
    const again = await jug(['execute', jugfile], n);
    assert.match(again, /Total:\s+0\s+301/, 'a no-op execute: everything already there');

    const sh = await shell(jugfile, dir, n, 'await value(sum)\nawait value(results[17])\n.exit\n');
    assert.equal(sh.code, 0, show(sh));
    assert.match(sh.stdout, new RegExp(`\\b${sumOfSquares(n)}\\b`));
    assert.match(sh.stdout, /\b289\b/);

    // A dependant re-run loads every packed result (also in worker threads).
    await jug(['invalidate', jugfile, '--target', 'total'], n);
    const rerun = await jug(['execute', jugfile, '--threads', '2'], n);
    assert.match(rerun, /Total:\s+1\s+300/, rerun);
    const sh2 = await shell(jugfile, dir, n, 'await value(sum)\n.exit\n');
    assert.match(sh2.stdout, new RegExp(`\\b${sumOfSquares(n)}\\b`));
  });

  it('packing while `jug execute --threads 2` runs (two pack loops): every listed result stays readable, nothing is lost', async () => {
    const { jugfile, jugdir } = project('concurrent');
    const n = 1500;
    const env = { JUG_N: String(n), JUG_DELAY_MS: '1' };
    const exec = startJug(['execute', jugfile, '--threads', '2'], { env, timeoutMs: 300_000 });
    let running = true;
    void exec.done.then(() => (running = false));

    let packedDuringRun = 0;
    const packLoop = async (): Promise<void> => {
      while (running) {
        const r = await runJug(['pack', jugfile], { env, timeoutMs: 120_000 });
        assert.equal(r.code, 0, show(r));
        const m = /^Packed (\d+) result/.exec(r.stdout);
        if (running && m !== null) packedDuringRun += Number(m[1]);
      }
    };
    let checks = 0;
    let loadsChecked = 0;
    const readerLoop = async (): Promise<void> => {
      const store = new FileStore(jugdir, { fsync: false });
      try {
        while (running) {
          const listed = await store.list();
          for (const h of listed) {
            // A result once stored is never removed here: it must load, loose or packed.
            try {
              await store.load(h);
            } catch (e) {
              if (e instanceof NotComputedError) assert.fail(`result ${h} was listed, then could not be found (check ${checks})`);
              throw e;
            }
            loadsChecked++;
          }
          checks++;
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await store.close();
      }
    };
    await Promise.all([packLoop(), packLoop(), readerLoop()]);
    const r = await exec.done;
    assert.equal(r.code, 0, show(r));
    assert.ok(packedDuringRun > 0, 'some results were packed while execute ran');
    assert.ok(checks > 1 && loadsChecked > 0, `the reader checked while it ran (${checks} listings, ${loadsChecked} loads)`);

    const out = await jug(['pack', jugfile], n);
    assert.match(out, new RegExp(`holds ${n + 1} results`), out);
    assert.deepEqual(storedHashes(jugdir), []);
    assert.equal(packedHashes(jugdir).size, n + 1, 'nothing lost');
    const status = await jug(['status', jugfile], n);
    assert.equal(statusTotal(status)[parseTable(status).columns.indexOf('Finished')], n + 1, status);
    const again = await jug(['execute', jugfile], n);
    assert.match(again, new RegExp(`Total:\\s+0\\s+${n + 1}`), 'nothing recomputed');
    const sh = await shell(jugfile, join(tmp, 'concurrent'), n, 'await value(sum)\n.exit\n');
    assert.match(sh.stdout, new RegExp(`\\b${sumOfSquares(n)}\\b`), show(sh));
  });

  it('two `jug pack` at once: both succeed, every result packed once', async () => {
    const { jugfile, jugdir } = project('twopacks');
    const n = 800;
    await jug(['execute', jugfile], n);
    const env = { JUG_N: String(n), JUG_DELAY_MS: '0' };
    const [a, b] = await Promise.all([startJug(['pack', jugfile], { env }).done, startJug(['pack', jugfile], { env }).done]);
    assert.equal(a.code, 0, show(a));
    assert.equal(b.code, 0, show(b));
    const moved = [a, b].map((r) => Number(/^Packed (\d+)/.exec(r.stdout)![1]));
    assert.equal(moved[0]! + moved[1]!, n + 1, `${a.stdout}${b.stdout}`);
    assert.deepEqual(storedHashes(jugdir), []);
    assert.equal(packedHashes(jugdir).size, n + 1);
    assert.ok(!fs.existsSync(join(jugdir, 'locks', 'pack.lock')), 'the pack lock is released');
  });

  it('invalidate and cleanup remove packed results: gone for status, recomputed by execute', async () => {
    const { dir, jugfile, jugdir } = project('invalidate');
    const n = 40;
    await jug(['execute', jugfile], n);
    await jug(['pack', jugfile], n);
    const inv = await jug(['invalidate', jugfile, '--target', 'work'], n);
    assert.match(inv, /Total:\s+41\b/, inv); // the 40 work tasks and total, which depends on them
    assert.equal(packedHashes(jugdir).size, 0);
    const status = await jug(['status', jugfile], n);
    assert.equal(statusTotal(status)[parseTable(status).columns.indexOf('Finished')], 0, status);
    const re = await jug(['execute', jugfile], n);
    assert.match(re, /Total:\s+41\s+0/, re);
    assert.equal(storedHashes(jugdir).length, n + 1, 'recomputed as loose files');

    // Pack again (the tombstones are folded in), then a jugfile with fewer tasks: cleanup removes the rest.
    await jug(['pack', jugfile], n);
    assert.equal(parseTombstones(fs.readFileSync(join(jugdir, 'packs', 'removed'), 'latin1')).hashes.size, 0, 'removals folded into the new index');
    const small = 10;
    const clean = await jug(['cleanup', jugfile], small);
    assert.match(clean, /Removed 31 results/, clean); // work(10..39) and the old total
    assert.equal(packedHashes(jugdir).size, small);
    const st = await jug(['status', jugfile], small);
    assert.equal(statusTotal(st)[parseTable(st).columns.indexOf('Finished')], small, st);
    await jug(['execute', jugfile], small);
    const sh = await shell(jugfile, dir, small, 'await value(sum)\n.exit\n');
    assert.match(sh.stdout, new RegExp(`\\b${sumOfSquares(small)}\\b`), show(sh));
  });

  it('a corrupt packed entry is detected (CRC), set aside and recomputed by execute', async () => {
    const { dir, jugfile, jugdir } = project('corrupt');
    const n = 20;
    await jug(['execute', jugfile], n);
    await jug(['pack', jugfile], n);
    const index = parseIndex(fs.readFileSync(join(jugdir, 'packs', 'index')), 'index');
    // The result of work(7) (= 49): find it by loading each entry until one decodes to 49.
    const store = new FileStore(jugdir, { fsync: false });
    let victim = -1;
    for (let i = 0; i < index.size && victim < 0; i++) if ((await store.load(index.hashAt(i))) === 49) victim = i;
    assert.ok(victim >= 0);
    const hash = index.hashAt(victim);
    const entry = index.entryAt(victim);
    const dataPath = join(jugdir, 'packs', entry.file);
    const data = fs.readFileSync(dataPath);
    data[entry.offset + entry.length - 1]! ^= 0xff; // the payload's last byte
    fs.writeFileSync(dataPath, data);
    await store.close();

    const fresh = new FileStore(jugdir, { fsync: false });
    await assert.rejects(fresh.load(hash), (e: unknown) => e instanceof CorruptResultError && /checksum mismatch/.test(e.message) && e.message.includes(entry.file));
    await fresh.close();

    await jug(['invalidate', jugfile, '--target', 'total'], n);
    const re = await jug(['execute', jugfile], n, {});
    assert.match(re, /Total:\s+2\s+19/, re); // work(7) again, and total
    assert.equal(fs.readdirSync(join(jugdir, 'corrupt')).length, 1, 'the corrupt bytes are kept aside');
    const sh = await shell(jugfile, dir, n, 'await value(sum)\n.exit\n');
    assert.match(sh.stdout, new RegExp(`\\b${sumOfSquares(n)}\\b`), show(sh));
    assert.ok(!packedHashes(jugdir).has(hash), 'the corrupt entry no longer counts');
  });

  it("a dead process's pack lock is reclaimed; a live one's is waited for", async () => {
    const { jugfile, jugdir } = project('deadlock');
    const n = 30;
    await jug(['execute', jugfile], n);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const lockPath = join(jugdir, 'locks', 'pack.lock');
    fs.mkdirSync(join(jugdir, 'locks'), { recursive: true });
    fs.writeFileSync(lockPath, `PID ${dead} on HOSTNAME ${os.hostname()}\nLock created on 2026-12-03 (04h00.00)\n`);
    const out = await jug(['pack', jugfile], n);
    assert.match(out, /^Packed 31 results/);
    assert.ok(!fs.existsSync(lockPath));

    // A live holder (this test process): pack waits until it is gone.
    await jug(['invalidate', jugfile, '--target', 'total'], n);
    await jug(['execute', jugfile], n);
    fs.writeFileSync(lockPath, `PID ${process.pid} on HOSTNAME ${os.hostname()}\nLock created on 2026-12-03 (04h00.00)\n`);
    const waiting = startJug(['pack', jugfile], { env: { JUG_N: String(n), JUG_DELAY_MS: '0' } });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(waiting.child.exitCode, null, 'still waiting for the live lock');
    assert.equal(storedHashes(jugdir).length, 1, 'nothing packed yet');
    fs.unlinkSync(lockPath);
    const r = await waiting.done;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Packed 1 result:/);
  });

  it('cannot pack a store without packs (:memory:): a clear error', async () => {
    const { jugfile } = project('memory');
    const r = await runJug(['pack', jugfile, '--jugdir', ':memory:'], { env: { JUG_N: '3' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Cannot pack the store/);
  });
});

describe('pack index format', () => {
  it('round-trips and finds every entry, also when hashes collide in the look-up table', () => {
    // Every hash here has the same first 8 hex digits; pairs also share the last 8 (the table's key).
    const hashes = Array.from({ length: 100 }, (_, i) => (i * 7919).toString(16).padStart(40, 'a'));
    hashes.push(...hashes.slice(0, 20).map((h) => `${h.slice(0, 20)}${'0'.repeat(12)}${h.slice(32)}`));
    const entries = hashes.map((hash, i) => ({ hash, file: i % 2 ? '1-aa.pack' : '2-bb.pack', offset: 8 + i * 16, length: 16 + i }));
    const saved = PackIndex.mapMaxEntries;
    try {
      // Both look-ups: the Map (small indexes) and the open-addressing table (large ones).
      for (const mapMax of [saved, 0]) {
        PackIndex.mapMaxEntries = mapMax;
        const index = parseIndex(serializeIndex(3, entries), 'x');
        assert.equal(index.generation, 3);
        assert.equal(index.size, 120);
        for (const e of entries) {
          const i = index.find(e.hash);
          assert.equal(index.hashAt(i), e.hash);
          assert.deepEqual(index.entryAt(i), { file: e.file, offset: e.offset, length: e.length });
        }
        for (const miss of ['f'.repeat(40), '0'.repeat(40), `${hashes[0]!.slice(0, 39)}g`, hashes[0]!.slice(1), `${hashes[0]}0`, '', hashes[5]!.toUpperCase()]) {
          assert.equal(index.find(miss), -1, miss);
        }
        assert.equal(parseIndex(serializeIndex(1, []), 'x').find(hashes[0]!), -1, 'an empty index');
      }
    } finally {
      PackIndex.mapMaxEntries = saved;
    }
  });

  it('a damaged index is reported, never read as entries', () => {
    const buf = serializeIndex(1, [{ hash: 'ab'.repeat(20), file: '1-aa.pack', offset: 8, length: 16 }]);
    buf[buf.length - 25]! ^= 1;
    assert.throws(() => parseIndex(buf, 'packs/index'), /packs\/index is damaged \(checksum mismatch\)/);
  });

  it('a reader whose cached index is fresh still finds a result packed (and unlinked) by another store just now', async () => {
    const dir = join(tmp, 'fresh');
    const reader = new FileStore(dir, { fsync: false });
    const writer = new FileStore(dir, { fsync: false });
    const x = '5'.repeat(40);
    const y = '6'.repeat(40);
    await writer.dump(x, 'X');
    await writer.pack();
    assert.equal(await reader.load(x), 'X'); // the reader now holds the index, just checked
    await writer.dump(y, 'Y');
    await writer.pack(); // y packed, its loose file unlinked
    assert.deepEqual(storedHashes(dir), []);
    assert.equal(await reader.load(y), 'Y'); // loose file missing: the index is read again
    assert.equal(await reader.has(y), true);
    await reader.close();
    await writer.close();
  });

  it('loadMany (value() of an array of tasks) gives what load() gives for packed, loose, removed, damaged and missing results', async () => {
    const dir = join(tmp, 'load-many');
    const store = new FileStore(dir, { fsync: false });
    const h = (c: string): string => c.repeat(40);
    const small = [h('a'), h('b'), h('c'), h('d')];
    for (const [k, x] of small.entries()) await store.dump(x, k === 3 ? { big: 'x'.repeat(300) } : k * 7);
    await store.pack();
    await store.dump(h('e'), 'loose after the pack');
    assert.equal(await store.remove(h('c')), true); // a tombstone
    assert.deepEqual(await store.loadMany([h('a'), h('e'), h('b'), h('d')]), [0, 'loose after the pack', 7, { big: 'x'.repeat(300) }]);
    await assert.rejects(store.loadMany([h('a'), h('c')], ['t.a', 't.c']), (e: unknown) => e instanceof NotComputedError && e.message.includes("task 't.c'"));
    await assert.rejects(store.loadMany([h('a'), h('f')]), NotComputedError);
    // A damaged packed entry: the batch reports it as load() does, naming the task.
    const index = parseIndex(fs.readFileSync(join(dir, 'packs', 'index')), 'index');
    const entry = index.entryAt(index.find(h('b')));
    const dataPath = join(dir, 'packs', entry.file);
    const data = fs.readFileSync(dataPath);
    data[entry.offset + entry.length - 1]! ^= 0xff;
    fs.writeFileSync(dataPath, data);
    const fresh = new FileStore(dir, { fsync: false });
    assert.deepEqual(await fresh.loadMany([h('a'), h('d')]), [0, { big: 'x'.repeat(300) }]);
    await assert.rejects(fresh.loadMany([h('a'), h('b')], ['t.a', 't.b']), (e: unknown) => e instanceof CorruptResultError && /checksum mismatch/.test(e.message) && e.message.includes("task 't.b'"));
    await fresh.close();
    await store.close();
  });

  it('a tombstone line cut short does not swallow the next removal', async () => {
    const dir = join(tmp, 'tombstone');
    const store = new FileStore(dir, { fsync: false });
    const a = '1'.repeat(40);
    const b = '2'.repeat(40);
    await store.dump(a, 'A');
    await store.dump(b, 'B');
    await store.pack();
    assert.deepEqual([...(await store.list())].sort(), [a, b]);
    const removedFile = join(dir, 'packs', 'removed');
    assert.equal(fs.readFileSync(removedFile, 'latin1'), 'jug pack removals for generation 1\n');
    fs.appendFileSync(removedFile, a.slice(0, 17)); // a crash mid-append
    assert.equal(await store.remove(b), true);
    assert.deepEqual([...(await store.list())], [a]);
    assert.equal(await store.load(a), 'A');
    assert.equal(await store.has(b), false);
    // A loose file wins over the packed entry; removing then removes both.
    // One run packs at most maxRunBytes: the rest waits for the next run.
    const c = '3'.repeat(40);
    const d = '4'.repeat(40);
    await store.dump(c, 'C');
    await store.dump(d, 'D');
    const first = await store.pack({ maxRunBytes: 1 });
    assert.equal(first.packed, 1);
    assert.equal(first.left, 1);
    const second = await store.pack({ maxRunBytes: 1 });
    assert.deepEqual([second.packed, second.left], [1, 0]);
    assert.deepEqual([await store.load(c), await store.load(d)], ['C', 'D']);
    assert.equal(await store.removeMany?.([c, d]).then((r) => r.size), 2);
    await store.dump(a, 'A2');
    assert.equal(await store.load(a), 'A2');
    assert.equal(await store.remove(a), true);
    assert.equal(await store.has(a), false);
    await store.close();
  });
});
