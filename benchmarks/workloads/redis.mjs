/**
 * Workload redis: the Redis store side by side with the file store, interleaved in one run, on a
 * redis-server of the benchmark's own (free loopback port, scratch directory, no persistence,
 * stopped by pid at the end). Configurations: tiny (5,001 tasks) serial and `--threads 2` from an
 * empty store, the payload (50 × 2 MiB results and a sum), `status` of tiny with every result
 * stored, and `status` of graph50k (50,000 tasks) on an empty store. Each Redis configuration's
 * ratio is its median over the file store's. Aborts, saying so, where redis-server is missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { join } from 'node:path';
import {
  BenchError,
  JUGFILES,
  assertComplete,
  executeArgs,
  fmtRate,
  fmtS,
  fmtX,
  freshDir,
  live,
  log,
  measureAll,
  timeGroup,
} from '../lib/harness.mjs';

const TINY_JUGFILE = join(JUGFILES, 'tiny.ts');
const PAYLOAD_JUGFILE = join(JUGFILES, 'payload.ts');
const REDIS_SERVER_PATHS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

// ---------------------------------------------------------------------------------------------
// The benchmark's own redis-server

/** A free TCP port on the loopback interface. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:port. */
function accepts(port) {
  return new Promise((res) => {
    const c = netConnect(port, '127.0.0.1', () => (c.end(), res(true)));
    c.on('error', () => res(false));
  });
}

/** Sends one command to the benchmark's server (RESP, no client needed); resolves on its reply. */
function redisCommand(port, args) {
  return new Promise((res, rej) => {
    const c = netConnect(port, '127.0.0.1', () => c.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    c.once('data', (d) => (c.end(), res(String(d))));
    c.on('error', rej);
  });
}

/**
 * Starts a redis-server of the benchmark's own: free loopback port, scratch directory, no
 * persistence (`--save '' --appendonly no`). It is registered in the harness's `live` set, so a
 * timeout or Ctrl-C ends it with the jug processes; `stop()` ends it by pid and waits for its exit.
 */
async function startRedisServer() {
  const bin = REDIS_SERVER_PATHS.find((p) => existsSync(p));
  if (bin === undefined) {
    throw new BenchError(`redis: redis-server is not installed (looked for ${REDIS_SERVER_PATHS.join(', ')}); install the Debian package redis-server (apt-get install -y redis-server)`);
  }
  const port = await freePort();
  const dir = freshDir('redis-server');
  mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  const child = spawn(bin, args, { stdio: 'ignore', detached: true });
  live.add(child);
  const exited = new Promise((res) => child.on('exit', res));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await exited;
    }
    live.delete(child);
  };
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) break;
    if (await accepts(port)) {
      log(`[redis] redis-server (pid ${child.pid}) on 127.0.0.1:${port}, no persistence`);
      return { port, stop, flush: () => redisCommand(port, ['FLUSHALL']) };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  await stop();
  throw new BenchError(`redis: ${bin} did not accept connections on 127.0.0.1:${port} within 10 s (exit code ${child.exitCode ?? 'none'})`);
}

// ---------------------------------------------------------------------------------------------
// The workload

/** The sizes: the full workload, or the --quick smoke version. */
function sizes(quick) {
  const n = quick ? 1000 : 5000;
  const payloadTasks = quick ? 10 : 50;
  return {
    n,
    nTasks: n + 1,
    nBig: quick ? 10_000 : 50_000,
    payloadTasks,
    env: { TINY_N: String(n) },
    envBig: { TINY_N: String(quick ? 10_000 : 50_000) },
    // The same data as the original redis benchmark: a number[] of 31-bit LCG fractions.
    envPayload: { PAYLOAD_FORM: 'array', PAYLOAD_VALUES: 'lcg', PAYLOAD_TASKS: String(payloadTasks) },
  };
}

/** Execute configurations from an empty store: each repetition gets a new jugdir or Redis prefix. */
function executeConfigs(s, server, redisStore) {
  const cfg = (key, jugfile, env, store, extra, count) => ({
    key,
    count,
    run: async () => {
      const jugdir = store === 'file' ? freshDir(`redis-${key.replace(/\W+/g, '_')}`) : redisStore();
      const { ms } = await timeGroup([executeArgs(jugfile, jugdir, extra)], env, `redis ${key}`);
      await assertComplete(jugfile, jugdir, env, `redis ${key}`);
      if (store === 'redis' && key.startsWith('payload')) await server.flush(); // up to 100 MiB: not kept
      return ms;
    },
  });
  const threads = ['--threads', '2'];
  return [
    cfg('tiny serial, file store', TINY_JUGFILE, s.env, 'file', [], s.nTasks),
    cfg('tiny serial, Redis', TINY_JUGFILE, s.env, 'redis', [], s.nTasks),
    cfg('tiny --threads 2, file store', TINY_JUGFILE, s.env, 'file', threads, s.nTasks),
    cfg('tiny --threads 2, Redis', TINY_JUGFILE, s.env, 'redis', threads, s.nTasks),
    cfg('payload, file store', PAYLOAD_JUGFILE, s.envPayload, 'file', [], s.payloadTasks + 1),
    cfg('payload, Redis', PAYLOAD_JUGFILE, s.envPayload, 'redis', [], s.payloadTasks + 1),
  ];
}

/** `status` configurations: tiny with every result stored, graph50k on an empty store (prepared untimed). */
async function statusConfigs(s, redisStore) {
  log('[redis] preparing all-done stores (untimed)');
  const doneFile = freshDir('redis-done-file');
  const doneRedis = redisStore();
  for (const d of [doneFile, doneRedis]) {
    await timeGroup([executeArgs(TINY_JUGFILE, d)], s.env, 'redis prepare all-done');
    await assertComplete(TINY_JUGFILE, d, s.env, 'redis prepare all-done');
  }
  const emptyFile = freshDir('redis-graph-empty');
  const emptyRedis = redisStore();
  const status = (key, jugdir, env) => ({ key, run: async () => (await timeGroup([['status', TINY_JUGFILE, '--jugdir', jugdir]], env, `redis ${key}`)).ms });
  const big = `graph${s.nBig / 1000}k status`;
  return [
    status('tiny status all done, file store', doneFile, s.env),
    status('tiny status all done, Redis', doneRedis, s.env),
    status(`${big}, file store`, emptyFile, s.envBig),
    status(`${big}, Redis`, emptyRedis, s.envBig),
  ];
}

/** Rows (file store then Redis, per pair) and each pair's ratio Redis / file store of the medians. */
function pairRows(configs, all) {
  const rows = [];
  const pairs = [];
  for (const c of configs) {
    if (!c.key.endsWith('Redis')) continue;
    const fileKey = c.key.replace(/Redis$/, 'file store');
    const redis = all.get(c.key);
    const file = all.get(fileKey);
    const ratio = redis.median / file.median;
    pairs.push({ key: c.key.replace(/, Redis$/, ''), ratio });
    const rate = c.count === undefined ? '' : `${fmtRate(c.count / (redis.median / 1000))} vs ${fmtRate(c.count / (file.median / 1000))} tasks/s; `;
    rows.push({ config: fileKey, ...file, ratio: '1.00× (reference)', anchor: '—' });
    rows.push({ config: c.key, ...redis, ratio: `${rate}${fmtX(ratio)} the file store's time`, anchor: '—' });
  }
  return { rows, pairs };
}

function redisGoals(s, all, pairs) {
  const ratioOf = (k) => pairs.find((p) => p.key === k).ratio;
  const worst = pairs.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  const bigStatus = all.get(`graph${s.nBig / 1000}k status, Redis`).median;
  return [
    {
      text: 'tiny on Redis ≥ the file store\'s tasks/s (serial and --threads 2)',
      measured: `time ratio Redis/file: serial ${fmtX(ratioOf('tiny serial'))}, --threads 2 ${fmtX(ratioOf('tiny --threads 2'))}`,
      met: ratioOf('tiny serial') <= 1 && ratioOf('tiny --threads 2') <= 1,
    },
    { text: `status on ${s.nBig.toLocaleString('en-US')} tasks on Redis ≤ 1 s`, measured: fmtS(bigStatus), met: bigStatus <= 1000 },
    { text: 'no workload more than 1.5× slower on Redis than on the file store', measured: `worst: ${worst.key} ${fmtX(worst.ratio)}`, met: worst.ratio <= 1.5 },
  ];
}

async function benchRedis({ reps, quick }) {
  const s = sizes(quick);
  const server = await startRedisServer();
  let prefixes = 0;
  const redisStore = () => `redis://127.0.0.1:${server.port}/0?prefix=bench${++prefixes}`;
  try {
    const execs = executeConfigs(s, server, redisStore);
    const m1 = await measureAll('redis', execs, reps);
    const reads = await statusConfigs(s, redisStore);
    const m2 = await measureAll('redis', reads, reps);
    const all = new Map([...m1, ...m2]);
    const { rows, pairs } = pairRows([...execs, ...reads], all);
    const notes = [
      'One local redis-server started by the benchmark (loopback, no persistence: `--save \'\' --appendonly no`), against the file store (results fsynced) on the same machine; configurations interleaved, medians; ratio = Redis median / file store median.',
      `tiny: ${s.n.toLocaleString('en-US')} trivial tasks plus one total (${s.nTasks} tasks), from an empty store. payload: benchmarks/jugfiles/payload.ts, ${s.payloadTasks} tasks each returning a number[] of 262,144 31-bit LCG fractions (2 MiB as float64) plus a sum (PAYLOAD_VALUES=lcg).`,
      `"status all done": status of tiny on a store holding every result. graph${s.nBig / 1000}k status: ${s.nBig.toLocaleString('en-US')} tasks on an empty store.`,
      'The Redis figures include loading the client in the main thread and, with --threads, in each worker thread (each thread has its own connection).',
    ];
    return { title: 'redis — the Redis store vs the file store', rows, goals: redisGoals(s, all, pairs), notes };
  } finally {
    await server.stop();
  }
}

export default { name: 'redis', run: benchRedis };
