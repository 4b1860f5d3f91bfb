/**
 * The webstatus server without a browser: the Host check and the SSE framing as functions; the
 * real server (started in this process on a free port, over a real jugfile and file store) for
 * methods (405), Host headers (421), security headers, HEAD, the event stream, one look at the
 * store per interval however many pages; the run-record statistics; and the real CLI for a port
 * in use (exit 1), the warning of --host and --open without a display.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openProject } from '../src/cli/common.js';
import type { RunRecord } from '../src/run-records-types.js';
import { loadAssets } from '../src/web/assets.js';
import { Monitor } from '../src/web/monitor.js';
import { durationsOf, laneOf, liveRecords, rateOf, recentOf, timelineOf } from '../src/web/run-stats.js';
import { rateFromProgress } from '../src/web/snapshot.js';
import { CONTENT_SECURITY_POLICY, hostAllowed, parseHostHeader } from '../src/web/security.js';
import { startServer, type WebServer } from '../src/web/server.js';
import { sseFrame } from '../src/web/sse.js';
import type { WebSnapshot } from '../src/web/snapshot-types.js';
import { FIXTURES, makeTempDir, removeTempDir, runJug, show, startJug } from './helpers.js';

describe('Host header check', () => {
  const loop = { address: '127.0.0.1', port: 8080 };
  test('loopback: the address or localhost, with the port', () => {
    assert.equal(hostAllowed('127.0.0.1:8080', loop), true);
    assert.equal(hostAllowed('localhost:8080', loop), true);
    assert.equal(hostAllowed('LOCALHOST:8080', loop), true);
    assert.equal(hostAllowed('127.0.0.1:8081', loop), false, 'another port');
    assert.equal(hostAllowed('127.0.0.1', loop), false, 'no port');
    assert.equal(hostAllowed('evil.example:8080', loop), false, 'a rebound DNS name');
    assert.equal(hostAllowed('localhost.evil.example:8080', loop), false);
    assert.equal(hostAllowed(undefined, loop), false);
    assert.equal(hostAllowed('', loop), false);
  });
  test('IPv6 loopback and a specific address', () => {
    assert.equal(hostAllowed('[::1]:9000', { address: '::1', port: 9000 }), true);
    assert.equal(hostAllowed('localhost:9000', { address: '::1', port: 9000 }), true);
    assert.equal(hostAllowed('10.0.0.5:80', { address: '10.0.0.5', port: 80 }), true);
    assert.equal(hostAllowed('localhost:80', { address: '10.0.0.5', port: 80 }), false);
    assert.equal(hostAllowed('node01:80', { address: '10.0.0.5', port: 80 }, 'node01'), false);
  });
  test('wildcard: any IP address, localhost and the machine name; no other name', () => {
    const any = { address: '0.0.0.0', port: 8080 };
    assert.equal(hostAllowed('192.168.1.7:8080', any, 'node01'), true);
    assert.equal(hostAllowed('[fe80::1]:8080', any, 'node01'), true);
    assert.equal(hostAllowed('node01:8080', any, 'node01'), true);
    assert.equal(hostAllowed('node01.cluster.example:8080', any, 'node01'), true);
    assert.equal(hostAllowed('evil.example:8080', any, 'node01'), false);
    assert.equal(hostAllowed('node011:8080', any, 'node01'), false);
  });
  test('parseHostHeader', () => {
    assert.deepEqual(parseHostHeader('[::1]:80'), { host: '::1', port: 80 });
    assert.deepEqual(parseHostHeader('Example.com'), { host: 'example.com', port: undefined });
    assert.equal(parseHostHeader('a:b:c'), undefined);
    assert.equal(parseHostHeader('x y:80'), undefined);
  });
});

describe('SSE framing', () => {
  test('one data line per line, an empty line ends the event', () => {
    assert.equal(sseFrame('snapshot', '{"a":1}'), 'event: snapshot\ndata: {"a":1}\n\n');
    assert.equal(sseFrame('x', 'one\ntwo\r\nthree\rfour'), 'event: x\ndata: one\ndata: two\ndata: three\ndata: four\n\n');
    assert.equal(sseFrame('x', ''), 'event: x\ndata: \n\n');
    assert.equal(sseFrame('x', 'a', '7'), 'id: 7\nevent: x\ndata: a\n\n');
    assert.throws(() => sseFrame('a\nb', 'x'), /one line/);
  });
  test('a snapshot holding line breaks (an error stack) stays one event', () => {
    const json = JSON.stringify({ stack: 'Error: x\n    at f (a.ts:1:2)' });
    const frame = sseFrame('snapshot', json);
    assert.equal(frame.split('\n\n').length, 2, 'JSON escapes line breaks: one event');
    assert.equal(frame, `event: snapshot\ndata: ${json}\n\n`);
  });
});

describe('run-record statistics', () => {
  const rec = (hash: string, task: string, start: number, end: number, extra: Partial<RunRecord> = {}): RunRecord => ({
    v: 1, hash, task, outcome: 'done', start, end, host: 'h', pid: 1, jug: '0.1.0', ...extra,
  });
  const now = 1_000_000;
  const records = [
    rec('a', 'n.one', now - 5000, now - 4000),
    rec('b', 'n.one', now - 4000, now - 1000, { thread: 2 }),
    rec('c', 'n.two', now - 3000, now - 2000, { outcome: 'failed', error: 'boom' }),
    rec('d', 'n.two', now - 200_000, now - 199_000, { host: 'other' }),
  ];
  test('rate over the last minute, from the first run in it', () => {
    assert.equal(rateOf(records, now), 2 / 5);
    assert.equal(rateOf([], now), undefined);
    assert.equal(rateOf([rec('x', 'n', now - 100, now - 50)], now), 1, 'at least a second of span');
  });
  test('timeline lanes per host, process and thread; durations; recent; live records', () => {
    assert.equal(laneOf({ host: 'h', pid: 3 }), 'h pid 3');
    assert.equal(laneOf({ host: 'h', pid: 3, thread: 1 }), 'h pid 3 thread 1');
    const t = timelineOf(records, now);
    assert.deepEqual(t.lanes, ['h pid 1', 'h pid 1 thread 2', 'other pid 1']);
    assert.deepEqual(t.bars.map((b) => [b.lane, b.name, b.failed]), [[2, 'n.two', false], [0, 'n.one', false], [0, 'n.two', true], [1, 'n.one', false]]);
    assert.deepEqual(durationsOf(records, ['n.two', 'n.one']), [
      { name: 'n.two', count: 1, medianMs: 1000, maxMs: 1000 },
      { name: 'n.one', count: 2, medianMs: 2000, maxMs: 3000 },
    ]);
    assert.deepEqual(recentOf(records).map((r) => [r.hash, r.ms, r.failed]), [['b', 3000, false], ['c', 1000, true], ['a', 1000, false], ['d', 1000, false]]);
    // a's result removed since (invalidate), c retried since (no failure mark now).
    assert.deepEqual(liveRecords(records, new Set(['b', 'd']), new Set()).map((r) => r.hash), ['b', 'd']);
  });
  test('without records: the rate from the finished counts the server saw', () => {
    assert.equal(rateFromProgress([[now - 10_000, 0]], now), undefined);
    assert.equal(rateFromProgress([[now - 10_000, 0], [now - 5_000, 50]], now), 5);
    assert.equal(rateFromProgress([[now - 120_000, 0], [now - 90_000, 60], [now - 1_000, 120]], now), 1, 'from 60 s ago, holding the count then');
  });
});

/** A GET (or other method) with any Host header; resolves with status, headers and body. */
function fetchRaw(url: string, options: { method?: string; host?: string; abortAfterMs?: number } = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: options.method ?? 'GET', headers: options.host === undefined ? {} : { Host: options.host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      const done = (): void => resolve({ status: res.statusCode!, headers: res.headers, body });
      res.on('end', done);
      if (options.abortAfterMs !== undefined) setTimeout(() => (res.destroy(), done()), options.abortAfterMs);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the server', () => {
  let tmp: string;
  let server: WebServer;
  let monitor: Monitor;
  before(async () => {
    tmp = makeTempDir('webstatus-server');
    copyFileSync(join(FIXTURES, 'chain.ts'), join(tmp, 'chain.ts'));
    const project = await openProject(join(tmp, 'chain.ts'), {});
    monitor = new Monitor(project, {}, 200);
    server = await startServer({ host: '127.0.0.1', port: 0, monitor, assets: loadAssets() });
  });
  after(async () => {
    await server.close();
    await monitor.store.close();
    removeTempDir(tmp);
  });

  test('GET: the page with a strict CSP and no inline script; HEAD: headers only', async () => {
    const r = await fetchRaw(server.url);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'.*script-src 'self'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.match(r.body, /<script type="module" src="\/app\.js"><\/script>/);
    assert.equal(r.body.match(/<script/g)?.length, 1, 'one script, from the server, none inline');
    assert.doesNotMatch(r.body, /\son[a-z]+=/i, 'no inline event handlers');
    assert.doesNotMatch(r.body, /https?:\/\//, 'nothing from another site');
    const head = await fetchRaw(server.url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], r.headers['content-length']);
    for (const path of ['app.js', 'app.css', 'uplot.css', 'favicon.svg']) assert.equal((await fetchRaw(server.url + path)).status, 200, path);
    assert.equal((await fetchRaw(`${server.url}nope`)).status, 404);
    assert.equal((await fetchRaw(`${server.url}app.js.map`)).status, 404);
  });

  test('anything but GET and HEAD: 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await fetchRaw(`${server.url}api/status`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers['allow'], 'GET, HEAD');
      assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    }
  });

  test('a Host header naming another site (DNS rebinding) or port: 421, nothing of the run', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`]) {
      const r = await fetchRaw(`${server.url}api/status`, { host });
      assert.equal(r.status, 421, host);
      assert.doesNotMatch(r.body, /chain/);
    }
    assert.equal((await fetchRaw(`${server.url}api/status`, { host: `localhost:${server.port}` })).status, 200);
  });

  test('/api/status and /graph.svg: the snapshot as JSON, the graph as SVG', async () => {
    const r = await fetchRaw(`${server.url}api/status`);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    const s = JSON.parse(r.body) as { names: { name: string; counts: number[] }[]; totals: number[]; columns: string[] };
    assert.deepEqual(s.columns, ['Waiting', 'Ready', 'Finished', 'Running', 'Failed', 'Stale']);
    assert.deepEqual(s.names.map((n) => n.name), ['chain.makeSeed', 'chain.makePair', 'chain.double', 'chain.addOne']);
    assert.deepEqual(s.totals, [3, 2, 0, 0, 0, 0]);
    const svg = await fetchRaw(`${server.url}graph.svg`);
    assert.equal(svg.headers['content-type'], 'image/svg+xml');
    assert.match(svg.body, /<svg[^]*chain\.makeSeed[^]*<\/svg>/);
  });

  test('/events: SSE frames of the snapshot; several streams share one look at the store per interval', async () => {
    const before = monitor.looks;
    const streams = await Promise.all([0, 1, 2, 3].map(() => fetchRaw(`${server.url}events`, { abortAfterMs: 1_100 })));
    const looks = monitor.looks - before;
    for (const s of streams) {
      assert.equal(s.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.match(s.body, /^retry: 2000\n\nevent: snapshot\ndata: \{"v":1,[^\n]*\}\n\n/);
    }
    // 4 streams over ~1.1 s at a 200 ms interval: ~6 looks if shared, ~24 if one per stream.
    assert.ok(looks <= 10, `${looks} looks at the store for 4 streams`);
  });
});

describe('jug webstatus (CLI)', () => {
  let tmp: string;
  before(() => {
    tmp = makeTempDir('webstatus-cli');
    copyFileSync(join(FIXTURES, 'chain.ts'), join(tmp, 'chain.ts'));
  });
  after(() => removeTempDir(tmp));

  test('a port in use: a clear error, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await runJug(['webstatus', join(tmp, 'chain.ts'), '--port', String(port)]);
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, new RegExp(`^jug: Port ${port} is in use on 127\\.0\\.0\\.1: .*--port`, 'm'));
    } finally {
      blocker.close();
    }
  });

  test('--host other than loopback warns; --open without a display says so; SIGTERM stops it', async () => {
    const s = startJug(['webstatus', join(tmp, 'chain.ts'), '--host', '0.0.0.0', '--port', '0', '--open'], { env: { DISPLAY: undefined, WAYLAND_DISPLAY: undefined } });
    let err = '';
    s.child.stderr!.on('data', (d: Buffer) => (err += String(d)));
    let out = '';
    s.child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    for (let i = 0; i < 300 && !out.includes('Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 100));
    s.child.kill('SIGTERM');
    const r = await s.done;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^jug webstatus: http:\/\/0\.0\.0\.0:\d+\/ .*Ctrl-C stops it\.$/m);
    assert.match(r.stderr, /warning: listening on 0\.0\.0\.0 \(not only this machine\): the page shows task names, arguments, hosts and error messages/);
    assert.match(r.stderr, /--open: cannot open a browser: there is no graphical display here.*Open http:\/\/0\.0\.0\.0:\d+\/ yourself/);
    assert.match(r.stdout, /stopped \(SIGTERM\)/);
  });

  test('--open hands the address to the default browser (xdg-open)', { skip: process.platform !== 'linux' ? 'xdg-open is the opener on Linux only' : false }, async () => {
    // A stand-in xdg-open on PATH that writes down what it was asked to open.
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    const opened = join(tmp, 'opened.txt');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$@" > '${opened}'\n`, { mode: 0o755 });
    const s = startJug(['webstatus', join(tmp, 'chain.ts'), '--port', '0', '--open'], { env: { DISPLAY: ':99', PATH: `${bin}:${process.env['PATH']}` } });
    let out = '';
    s.child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    for (let i = 0; i < 300 && !existsSync(opened); i++) await new Promise((r) => setTimeout(r, 100));
    s.child.kill('SIGINT');
    const r = await s.done;
    assert.equal(r.code, 0, show(r));
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
    assert.ok(url !== undefined, out);
    assert.equal(readFileSync(opened, 'utf8').trim(), url);
    assert.doesNotMatch(r.stderr, /cannot open/);
  });

  test('--port out of range is a usage error', async () => {
    const r = await runJug(['webstatus', join(tmp, 'chain.ts'), '--port', '70000']);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--port.*expected an integer from 0 to 65535/);
  });
});

describe('the monitor follows the run', () => {
  let tmp: string;
  before(() => {
    tmp = makeTempDir('webstatus-follow');
  });
  after(() => removeTempDir(tmp));

  /** The snapshot `jug webstatus` serves now (a look at the store when the last is an interval old). */
  async function snapshotOf(url: string): Promise<WebSnapshot> {
    return JSON.parse((await fetchRaw(`${url}api/status`)).body) as WebSnapshot;
  }

  test('past a barrier once the store passes it, and after the jugfile changes (the real CLI)', async () => {
    const jugfile = join(tmp, 'stages.ts');
    const source = (extra: string): string =>
      "import { TaskGenerator, barrier } from 'jug';\n" +
      'const one = TaskGenerator(function one(): number { return 1; });\n' +
      'const two = TaskGenerator(function two(x: number): number { return x + 1; });\n' +
      'export const a = one();\n' +
      'barrier();\n' +
      `export const b = two(a);\n${extra}`;
    writeFileSync(jugfile, source(''));
    const server = startJug(['webstatus', jugfile, '--port', '0', '--interval', '0.2']);
    let out = '';
    server.child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    try {
      for (let i = 0; i < 300 && !/http:\/\/\S+\//.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      const url = /http:\/\/\S+\//.exec(out)![0];
      const before = await snapshotOf(url);
      assert.deepEqual(before.names.map((n) => n.name), ['stages.one']);
      assert.match(before.barrier ?? '', /stops at a barrier \(stages\.ts:5\)/);

      const run = await runJug(['execute', jugfile, '-q']);
      assert.equal(run.code, 0, show(run));
      await new Promise((r) => setTimeout(r, 250));
      const passed = await snapshotOf(url);
      assert.deepEqual(passed.names.map((n) => [n.name, n.counts[2]]), [['stages.one', 1], ['stages.two', 1]]);
      assert.equal(passed.barrier, undefined);
      assert.equal(passed.records, true);
      assert.deepEqual(passed.durations.map((d) => d.name), ['stages.one', 'stages.two']);

      writeFileSync(jugfile, source('export const c = TaskGenerator(function three(): number { return 3; })();\n'));
      const later = new Date(Date.now() + 5_000);
      utimesSync(jugfile, later, later);
      await new Promise((r) => setTimeout(r, 250));
      const changed = await snapshotOf(url);
      assert.deepEqual(changed.names.map((n) => [n.name, n.counts]), [
        ['stages.one', [0, 0, 1, 0, 0, 0]],
        ['stages.two', [0, 0, 1, 0, 0, 0]],
        ['stages.three', [0, 1, 0, 0, 0, 0]],
      ]);

      // A jugfile that no longer loads: the last state stays, with the reason.
      writeFileSync(jugfile, 'this is not TypeScript (\n');
      const later2 = new Date(Date.now() + 10_000);
      utimesSync(jugfile, later2, later2);
      await new Promise((r) => setTimeout(r, 250));
      const broken = await snapshotOf(url);
      assert.equal(broken.names.length, 3);
      assert.match(broken.problem ?? '', /^Could not load the jugfile again: /);
    } finally {
      server.child.kill('SIGTERM');
      const r = await server.done;
      assert.equal(r.code, 0, show(r));
    }
  });
});
