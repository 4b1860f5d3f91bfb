/**
 * A real redis-server for tests: started on a free loopback port in a temporary directory,
 * stopped by its pid. Tests never touch a server they did not start. `REDIS_SERVER` is the
 * binary (Debian package redis-server; `.ci/run` installs it); when it is missing the tests skip,
 * saying so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { makeTempDir, removeTempDir } from './helpers.js';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
const REDIS_CLI = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find((p) => existsSync(p));

/** Why the Redis tests skip, or false when they can run. */
export const SKIP_REDIS: string | false =
  REDIS_SERVER === undefined || REDIS_CLI === undefined
    ? 'redis-server / redis-cli not installed (Debian package redis-server; .ci/run installs it)'
    : false;

/** A free TCP port on 127.0.0.1 (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server this test started. */
export class TestRedis {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly args: readonly string[],
  ) {}

  /** Starts a server; `args` are extra redis-server options (e.g. ['--requirepass', 'pw']). */
  static async start(args: readonly string[] = [], persist = false): Promise<TestRedis> {
    const dir = makeTempDir('redis');
    const base = persist ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''] : ['--save', '', '--appendonly', 'no'];
    const r = new TestRedis(await freePort(), dir, [...base, ...args]);
    await r.startAgain();
    return r;
  }

  /** (Re)starts the server on the same port and directory (its data kept if it persists). */
  async startAgain(): Promise<void> {
    const child = spawn(REDIS_SERVER!, ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    this.#exited = new Promise((r) => child.once('exit', () => r()));
    for (let i = 0; i < 200; i++) {
      if (this.cli('PING').stdout.trim() === 'PONG' || /NOAUTH/.test(this.cli('PING').stdout)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** `redis-cli -p <port> <args>` against this server (auth from `REDISCLI_AUTH` when given). */
  cli(...args: string[]): { stdout: string; status: number | null } {
    const r = spawnSync(REDIS_CLI!, ['-p', String(this.port), ...args], { encoding: 'utf8', env: { ...process.env, ...this.cliEnv } });
    return { stdout: r.stdout + r.stderr, status: r.status };
  }

  /** Environment for redis-cli (e.g. REDISCLI_AUTH). */
  cliEnv: Record<string, string> = {};

  url(db = 0, auth = ''): string {
    return `redis://${auth}127.0.0.1:${this.port}/${db}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Stops the server: SIGKILL (a crash) or SIGTERM; resolves when it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    await this.#exited;
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    removeTempDir(this.dir);
  }
}
