/**
 * The Redis store: the file store's semantics on a Redis server (docs/store-format.md, "Redis
 * store"). Loaded only when a `redis://` jugdir is used (through lazy-store.ts), so that the
 * client (ioredis) costs file-store users nothing.
 *
 * - Results: one hash `P:results`, field = task hash, value = the framed bytes of encode.ts
 *   (prefix, length, CRC-32), so a damaged value is detected as in a result file. One HSET is
 *   atomic and is its own index: listing is one HKEYS.
 * - Locks: leases. `SET P:lock:<h> <owner> NX PX <lease>` (in a script that also indexes it); the
 *   owner text is Jug's `PID <pid> on HOSTNAME <host>` plus this process start's token. A heartbeat
 *   renews every lock of the process (all its threads) with one compare-and-renew script; release
 *   and fail are compare-and-set scripts. A killed process's locks expire after the lease; on its
 *   own host they are taken over at once (its pid is gone), as in the file store.
 * - A dropped connection is waited out (commands retried, every script idempotent) for up to
 *   the outage bound, then the command fails with a message naming the server.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { RedisOptions } from 'ioredis';
import { IOREDIS_PATH, Redis } from './redis-client.js';
import { CorruptResultError, NotComputedError, StoreError } from '../errors.js';
import type { RunningNote, RunRecord } from '../run-records-types.js';
import { decodeResult, encodeResult } from './encode.js';
import { parseFailureRecord, recordLine } from './failure-record.js';
import { checkHash } from './file-store.js';
import { DEFAULT_LEASE_MS, HEARTBEAT_MS, HOST, OWNER_TOKEN, isThisProcess, localOwnerGone, parseLockOwner } from './lock-owner.js';
import type { RedisConfig } from './redis-url.js';
import * as S from './redis-scripts.js';
import type { FailureRecord, Lock, LockInfo, RunLogCompaction, Store } from './store.js';
import { parseRunLines, parseRunRecord, recordsToKeep, runRecordLine } from '../run-record-lines.js';

/** The Redis keys (and key prefixes) of one store: docs/store-format.md, "Redis". */
export interface StoreKeys {
  readonly results: string;
  readonly corrupt: string;
  readonly locks: string;
  readonly lock: string;
  readonly owner: string;
  readonly runs: string;
  readonly runsGen: string;
  readonly running: string;
}

/** Options of the Redis store. */
export interface RedisStoreOptions {
  /** Lock lease in ms (0: locks never expire). @default 300000 */
  readonly leaseMs?: number | undefined;
  /**
   * How long a lost connection is waited out before commands fail, ms.
   * @default JUG_REDIS_OUTAGE_SECONDS × 1000, else 60000
   */
  readonly outageMs?: number | undefined;
  /** How long to try to reach the server at start, ms. @default 3000 */
  readonly connectMs?: number | undefined;
  /**
   * How long a result (dump()) or a lock release may wait to be sent with others, ms: the runners
   * of `jug execute` set it (like the file store's commitDelayMs) and call flush() when they run
   * out of tasks, so that the results of many short tasks go out in one command. Undefined: sent
   * at the end of the event-loop turn (script use, where nothing calls flush()).
   */
  readonly groupMs?: number | undefined;
}

/** The error for a server that cannot be reached or used (exit 1). */
export class RedisUnavailableError extends StoreError {
  override name = 'RedisUnavailableError';
}

/** Locks of announced tasks (`lockAhead()`) taken in one round trip. */
const LOCK_AHEAD = 32;
/** Lock releases sent together (see releaseSoon()). */
const RELEASE_BATCH = 32;
/** Most results written by one HSET (results of one event-loop turn are written together, see dump()). */
const DUMP_BATCH = 64;
/** Most results read by one HMGET (loads of one tick are read together, see load()). */
const LOAD_BATCH = 1000;
/** Run records buffered before a write (a crash loses at most these). */
const RUN_BATCH = 64;
/**
 * Run records younger than this are never compacted away: a live process records a task before
 * its result is stored, so its newest records may concern results the caller's listing missed.
 */
const COMPACT_KEEP_RECENT_MS = 10 * 60_000;
/** Longest a run record waits in the buffer, ms. */
const RUN_FLUSH_MS = 500;

/** Errors that mean "the connection is gone", after which a command is retried. */
function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  const m = e.message;
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|connect ETIMEDOUT|LOADING|enableOfflineQueue/i.test(m);
}

/** This process's owner text: the same in all its threads (see lock-owner.ts). */
export const OWNER = `PID ${process.pid} on HOSTNAME ${HOST}\nOwner ${OWNER_TOKEN}\n`;
const OWNER_ID = `${process.pid}:${OWNER_TOKEN}:${HOST}`;

type Reply = string | number | null | Reply[];

/** A store on a Redis server. Open one with {@link RedisStore.open}. */
export class RedisStore implements Store {
  readonly location: string;
  readonly #config: RedisConfig;
  readonly #redis: Redis;
  readonly #leaseMs: number;
  readonly #outageMs: number;
  readonly #groupMs: number | undefined;
  readonly #k: StoreKeys;
  /** Whether this process's running notes are in the store. */
  #notesWritten = false;
  #opened = false;
  /** Set when a command got no answer within the outage bound: later commands fail at once. */
  #frozen: RedisUnavailableError | undefined;
  #lastError: Error | undefined;
  #closed = false;
  #heartbeat: { stop(): Promise<void> } | undefined;
  #runs: string[] = [];
  #runTimer: NodeJS.Timeout | undefined;
  #runWrite: Promise<void> = Promise.resolve();
  /** Locks this store instance holds, by hash (for release / fail / adopt). */
  readonly #held = new Set<string>();
  /** Whether the result was stored when this store took the lock of a hash (read once by has()). */
  readonly #knownAtLock = new Map<string, boolean>();
  /** Lock releases under way (not awaited by release(): they go out in order on the connection). */
  readonly #releases = new Set<Promise<unknown>>();
  /** Hashes announced by lockAhead() whose locks were not tried yet, in the order announced. */
  readonly #ahead = new Set<string>();
  /** Lock attempts sent ahead of their get(): hash → the GET_LOCK reply (undefined: the attempt failed). */
  readonly #tried = new Map<string, Promise<Reply | undefined>>();
  /** Locks taken ahead that no get() has asked for yet (released at close()). */
  readonly #unclaimed = new Set<string>();
  /** Lock releases not sent yet (releaseSoon()), and the timer that sends them. */
  #toRelease: string[] = [];
  #releaseTimer: (() => void) | undefined;
  /** Loads of this tick, read together in one HMGET (load()). */
  #loads: PendingLoad[] = [];
  /** Results of this event-loop turn, written together in one HSET (dump()). */
  #dumps: PendingDump[] = [];
  #dumpTimer: (() => void) | undefined;

  private constructor(config: RedisConfig, options: RedisStoreOptions) {
    this.#config = config;
    this.location = config.location;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#groupMs = options.groupMs;
    const envOutage = Number(process.env['JUG_REDIS_OUTAGE_SECONDS']);
    this.#outageMs = options.outageMs ?? (Number.isFinite(envOutage) && envOutage > 0 ? envOutage * 1000 : 60_000);
    const p = config.prefix;
    this.#k = {
      results: `${p}:results`,
      corrupt: `${p}:corrupt`,
      locks: `${p}:locks`,
      lock: `${p}:lock:`,
      owner: `${p}:owner:${OWNER_ID}`,
      runs: `${p}:runs`,
      runsGen: `${p}:runs:gen`,
      running: `${p}:running`,
    };
    this.#redis = new Redis({
      ...clientOptions(config, options.connectMs ?? 3000, () => this.#opened && !this.#closed),
      // A server that keeps the connection but does not answer (stopped, hung): the same bound.
      commandTimeout: this.#outageMs,
    });
    // Errors are handled where commands fail (the last one explains a failed connect); an
    // unhandled 'error' event would only print noise.
    this.#redis.on('error', (e: Error) => (this.#lastError = e));
  }

  /** Connects to the server named by `config`; throws RedisUnavailableError naming it if it cannot. */
  static async open(config: RedisConfig, options: RedisStoreOptions = {}): Promise<RedisStore> {
    const store = new RedisStore(config, options);
    await store.#connect(options.connectMs ?? 3000);
    return store;
  }

  async #connect(connectMs: number): Promise<void> {
    const deadline = Date.now() + connectMs;
    let last: unknown;
    for (;;) {
      try {
        this.#lastError = undefined;
        await this.#redis.connect();
        // ioredis does not report a database index the server lacks: select it ourselves.
        await this.#redis.select(this.#config.db);
        // A first command: a user the ACL denies our keys fails here, not in the middle of a run.
        await this.#redis.exists(this.#k.results);
        await Promise.all(SCRIPTS.map((source) => this.#redis.script('LOAD', source)));
        this.#opened = true;
        return;
      } catch (e) {
        // "Connection is closed" says less than the error that closed it (refused, WRONGPASS, …).
        last = this.#lastError ?? e;
        // (disconnect() on a closed client would hold the process for its disconnectTimeout)
        if (this.#redis.status !== 'end') this.#redis.disconnect();
        // Refused, unknown host, bad credentials: say so at once. A server still loading its data: wait.
        if (!/LOADING/.test(String(last)) || Date.now() >= deadline) break;
        await sleep(200);
      }
    }
    throw this.#openError(last);
  }

  #openError(e: unknown): RedisUnavailableError {
    const m = e instanceof Error ? e.message : String(e);
    const at = `Redis at ${this.#config.address} (jugdir ${this.location})`;
    if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(m)) {
      return new RedisUnavailableError(
        `${at} refused the credentials: ${m.replace(/\.$/, '')}. Check the user and password in the URL or JUG_REDIS_PASSWORD.`,
      );
    }
    if (/NOPERM/i.test(m)) {
      return new RedisUnavailableError(`${at} denied access to the store's keys (${this.#config.prefix}:*): ${m}. Check the user's ACL.`);
    }
    if (/DB index is out of range|invalid DB index/i.test(m)) {
      return new RedisUnavailableError(
        `${at}: database ${this.#config.db} does not exist on that server (${m}). Use a database index the server has (see its \`databases\` setting).`,
      );
    }
    return new RedisUnavailableError(
      `Cannot reach Redis at ${this.#config.address} (jugdir ${this.location}): ${m.replace(/\.$/, '') || 'no answer'}. ` +
        'Is redis-server running there, and is the host and port right?',
    );
  }

  /**
   * Runs a command, waiting out a lost connection (the command is retried: every write here is
   * idempotent) for up to the outage bound.
   */
  async #run<T>(what: string, f: (r: Redis) => Promise<T>): Promise<T> {
    let since: number | undefined;
    for (;;) {
      if (this.#frozen !== undefined) throw this.#frozen;
      try {
        return await f(this.#redis);
      } catch (e) {
        if (e instanceof Error && e.message === 'Command timed out') throw this.#froze(what);
        if (this.#closed || !isConnectionError(e)) throw this.#commandError(what, e);
        since ??= Date.now();
        if (Date.now() - since > this.#outageMs) {
          throw new RedisUnavailableError(
            `Lost the connection to Redis at ${this.#config.address} (jugdir ${this.location}) for more than ` +
              `${Math.round(this.#outageMs / 1000)} s while it ${what}; stopping. Nothing half-written is left: ` +
              'results are written whole or not at all, and run again later (JUG_REDIS_OUTAGE_SECONDS sets how long to wait).',
          );
        }
        await sleep(100);
      }
    }
  }

  /** The server holds the connection but answered nothing for the outage bound (stopped with SIGSTOP, hung). */
  #froze(what: string): RedisUnavailableError {
    this.#frozen ??= new RedisUnavailableError(
      `Redis at ${this.#config.address} (jugdir ${this.location}) did not answer for more than ` +
        `${Math.round(this.#outageMs / 1000)} s while it ${what}; stopping. Is the server stopped, hung or overloaded? ` +
        'Nothing half-written is left: results are written whole or not at all, and run again later ' +
        '(JUG_REDIS_OUTAGE_SECONDS sets how long to wait).',
    );
    return this.#frozen;
  }

  #commandError(what: string, e: unknown): Error {
    if (e instanceof StoreError) return e;
    const m = e instanceof Error ? e.message : String(e);
    if (/NOPERM|WRONGPASS|NOAUTH/.test(m)) return this.#openError(e);
    return new StoreError(`Redis at ${this.#config.address} (jugdir ${this.location}) refused a write or read while it ${what}: ${m}`);
  }

  /**
   * Runs one of the Lua scripts by its SHA-1 (all are loaded when the store opens, so that the
   * first command a call sends is the script itself: calls keep their order on the connection);
   * after a server restart (NOSCRIPT) by its source, which loads it again.
   */
  async #script(what: string, source: string, keys: string[], args: (string | number | Buffer)[]): Promise<Reply> {
    return this.#run(what, async (r) => {
      try {
        return (await r.evalsha(scriptSha(source), keys.length, ...keys, ...args)) as Reply;
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
        return (await r.eval(source, keys.length, ...keys, ...args)) as Reply;
      }
    });
  }

  async has(hash: string): Promise<boolean> {
    // Right after taking the lock: the answer the lock script gave, atomically with the lock.
    const known = this.#knownAtLock.get(hash);
    if (known !== undefined) {
      this.#knownAtLock.delete(hash);
      if (this.#held.has(hash)) return known;
    }
    return (await this.#run('checked a result', (r) => r.hexists(this.#k.results, hash))) === 1;
  }

  /**
   * Reads a result. The loads asked for in one tick (a task's arguments: `Promise.all` of one
   * load each) go out as one HMGET, not one command each.
   */
  load(hash: string, taskName?: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#loads.push({ hash, taskName, resolve, reject }) === 1) process.nextTick(() => this.#sendLoads());
    });
  }

  #sendLoads(): void {
    const all = this.#loads;
    this.#loads = [];
    for (let i = 0; i < all.length; i += LOAD_BATCH) {
      const batch = all.slice(i, i + LOAD_BATCH);
      const what = batch.length === 1 ? 'read a result' : 'read results';
      this.#run(what, (r) => r.hmgetBuffer(this.#k.results, ...batch.map((l) => l.hash))).then(
        (values) => {
          batch.forEach((l, j) => {
            try {
              l.resolve(this.#decode(values[j] ?? null, l.hash, l.taskName));
            } catch (e) {
              l.reject(e);
            }
          });
        },
        (e: unknown) => batch.forEach((l) => l.reject(e)),
      );
    }
  }

  #decode(bytes: Buffer | null, hash: string, taskName: string | undefined): unknown {
    const who = taskName === undefined ? `hash ${hash}` : `task '${taskName}' (hash ${hash})`;
    if (bytes === null) throw new NotComputedError(`The result of ${who} is not in the store ${this.location}: run it first.`, hash);
    try {
      return decodeResult(bytes, `of ${who} in ${this.location}`, `${this.location} ${this.#k.results}[${hash}]`);
    } catch (e) {
      if (!(e instanceof CorruptResultError)) throw e;
      throw new CorruptResultError(e.message, e.path, e.reason, hash, taskName);
    }
  }

  /**
   * Stores a result. The results dumped in one event-loop turn (short tasks finish several per
   * turn) go out as one HSET of several fields, written at the turn's end (setImmediate), at
   * DUMP_BATCH results or at flush(): one command and one socket write for the group, not one
   * each. One HSET is atomic, so each result is still whole or absent; a refused write (a full
   * server) fails every dump() of its group with Redis's message.
   */
  async dump(hash: string, value: unknown, taskName?: string): Promise<void> {
    checkHash(hash);
    const bytes = encodeResult(value, taskName);
    await new Promise<void>((resolve, reject) => {
      if (this.#dumps.push({ hash, bytes, taskName, resolve, reject }) >= DUMP_BATCH) this.#sendDumps();
      else this.#dumpTimer ??= this.#later(() => this.#sendDumps());
    });
  }

  /** Calls `f` after groupMs, or at the end of this event-loop turn; returns the canceller. */
  #later(f: () => void): () => void {
    if (this.#groupMs === undefined) {
      const t = setImmediate(f);
      return () => clearImmediate(t);
    }
    const t = setTimeout(f, this.#groupMs);
    return () => clearTimeout(t);
  }

  #sendDumps(): void {
    this.#dumpTimer?.();
    this.#dumpTimer = undefined;
    if (this.#dumps.length === 0) return;
    const batch = this.#dumps;
    this.#dumps = [];
    const names = batch.map((d) => d.taskName ?? d.hash);
    const what = batch.length === 1 ? `stored the result of ${names[0]}` : `stored the results of ${batch.length} tasks (${names.slice(0, 3).join(', ')}${batch.length > 3 ? ', …' : ''})`;
    const args: (string | Buffer)[] = [];
    for (const d of batch) args.push(d.hash, d.bytes);
    this.#run(what, (r) => r.hset(this.#k.results, ...args)).then(
      () => batch.forEach((d) => d.resolve()),
      (e: unknown) => batch.forEach((d) => d.reject(e)),
    );
  }

  /** Writes framed bytes as they are (`jug copy`, which verified them). */
  async dumpEncoded(hash: string, bytes: Buffer): Promise<void> {
    checkHash(hash);
    await this.#run('stored a result', (r) => r.hset(this.#k.results, hash, bytes));
  }

  /** The framed bytes of a result, undefined if absent (`jug copy`). */
  async loadEncoded(hash: string): Promise<Buffer | undefined> {
    return (await this.#run('read a result', (r) => r.hgetBuffer(this.#k.results, hash))) ?? undefined;
  }

  async setAsideCorrupt(hash: string): Promise<string | undefined> {
    const bytes = await this.loadEncoded(hash);
    if (bytes === undefined) return undefined;
    try {
      decodeResult(bytes, 'check');
      return undefined;
    } catch {
      const moved = await this.#script('set a corrupt result aside', S.SET_ASIDE, [this.#k.results, this.#k.corrupt], [hash, bytes]);
      return moved === 1 ? `${this.location} (key ${this.#k.corrupt}, field ${hash})` : undefined;
    }
  }

  async remove(hash: string): Promise<boolean> {
    return (await this.#run('removed a result', (r) => r.hdel(this.#k.results, hash))) === 1;
  }

  async list(): Promise<Set<string>> {
    return new Set(await this.#run('listed results', (r) => r.hkeys(this.#k.results)));
  }

  /** Every lock: hash → [value, ms left of its lease (-1: none)]. */
  async #rawLocks(): Promise<Map<string, [string, number]>> {
    this.#sendReleases();
    const flat = (await this.#script('listed locks', S.LIST_LOCKS, [this.#k.locks], [this.#k.lock])) as (string | number)[];
    const out = new Map<string, [string, number]>();
    for (let i = 0; i + 2 < flat.length; i += 3) out.set(String(flat[i]), [String(flat[i + 1]), Number(flat[i + 2])]);
    return out;
  }

  async listLocks(): Promise<Map<string, LockInfo>> {
    const now = Date.now();
    const out = new Map<string, LockInfo>();
    for (const [hash, [value, ttl]] of await this.#rawLocks()) out.set(hash, this.#lockInfo(value, ttl, now));
    return out;
  }

  #lockInfo(value: string, ttl: number, now: number): LockInfo {
    const failed = value.startsWith(S.FAILED_MARK);
    const owner = parseLockOwner(failed ? value.slice(S.FAILED_MARK.length) : value);
    const stale = !failed && owner !== undefined && owner.host === HOST && localOwnerGone(owner);
    const timing = !failed && ttl >= 0 && this.#leaseMs > 0 ? { staleAt: now + ttl, heartbeatAt: now + ttl - this.#leaseMs } : {};
    return { failed, stale, ...(owner === undefined ? {} : { holder: { host: owner.host, pid: owner.pid } }), ...timing };
  }

  lock(hash: string): Lock {
    checkHash(hash);
    return new RedisLock(this, hash);
  }

  /** Lock keys of `hash`: the lock, the index, this process's owner set. */
  lockKeys(hash: string): [string, string, string] {
    return [this.#k.lock + hash, this.#k.locks, this.#k.owner];
  }

  /** Notes that this store took the lock of `hash` (a GET_LOCK / TAKE_OVER reply of 1 or 2). */
  tookLock(hash: string, reply: Reply): void {
    this.#held.add(hash);
    this.#knownAtLock.set(hash, reply === 2);
  }

  /**
   * Releases a lock without waiting for the reply, grouped with others: the releases go out in
   * one script (RELEASE_MANY) once RELEASE_BATCH are waiting, after groupMs (or at the end of the
   * event-loop turn), at flush()
   * and close(), and before any command of this store that takes or reads a lock (so that, as
   * commands on one connection run in order, this store never sees its own released lock as held
   * or takes a lock that a late release would then drop). Retried across a lost connection like
   * any command; close() waits for the ones under way. A task's result is stored before its
   * release is asked for, so a release held back a few ms only delays when others see it free.
   */
  releaseSoon(hash: string): void {
    this.#knownAtLock.delete(hash);
    if (this.#toRelease.push(hash) >= RELEASE_BATCH) this.#sendReleases();
    else this.#releaseTimer ??= this.#later(() => this.#sendReleases());
  }

  /** Sends the releases waiting (releaseSoon()). */
  #sendReleases(): void {
    this.#releaseTimer?.();
    this.#releaseTimer = undefined;
    if (this.#toRelease.length === 0) return;
    const batch = this.#toRelease;
    this.#toRelease = [];
    const what = batch.length === 1 ? 'released a lock' : 'released locks';
    const p = this.#script(what, S.RELEASE_MANY, [this.#k.locks, this.#k.owner], [OWNER, this.#k.lock, ...batch]).catch(() => {
      // The lease ends them: a release that cannot reach the server leaves nothing to undo.
    });
    this.#releases.add(p);
    void p.finally(() => this.#releases.delete(p));
  }

  lockAhead(hash: string): void {
    if (!this.#closed) this.#ahead.add(hash);
  }

  /**
   * The reply of the lock attempt for `hash` made ahead of its get(), if it was announced
   * (lockAhead): the first get() of an announced hash tries its lock and those of the next
   * LOCK_AHEAD - 1 announced ones, pipelined in one round trip.
   */
  triedAhead(hash: string): Promise<Reply | undefined> | undefined {
    if (!this.#tried.has(hash) && this.#ahead.has(hash)) {
      const batch: string[] = [];
      for (const h of [hash, ...this.#ahead]) {
        if (batch.length === LOCK_AHEAD) break;
        if (this.#ahead.delete(h)) batch.push(h);
      }
      this.#tryAhead(batch);
    }
    const tried = this.#tried.get(hash);
    this.#tried.delete(hash);
    this.#unclaimed.delete(hash);
    return tried;
  }

  /** Tries the locks of `batch` in one script run (GET_LOCKS); each one's reply goes to #tried. */
  #tryAhead(batch: string[]): void {
    this.#sendReleases();
    const keys = [this.#k.locks, this.#k.owner, this.#k.results];
    const replies = this.#script('took locks', S.GET_LOCKS, keys, [OWNER, this.#leaseMs, this.#k.lock, ...batch]).then(
      (r) => (Array.isArray(r) && r.length === batch.length ? r : undefined),
      () => undefined, // each get() tries again and reports the error
    );
    batch.forEach((hash, i) => {
      const tried = replies.then((r) => {
        const reply = r?.[i];
        // Taken, and its get() has not come yet: held (renewed by the heartbeat) until it does.
        if ((reply === 1 || reply === 2) && this.#tried.get(hash) === tried) {
          this.#held.add(hash);
          this.#unclaimed.add(hash);
        }
        return reply;
      });
      this.#tried.set(hash, tried);
    });
  }

  /** Releases the locks taken ahead that no get() asked for (the run stopped before their turn). */
  async #releaseUnclaimed(): Promise<void> {
    this.#ahead.clear();
    await Promise.all(this.#tried.values());
    this.#tried.clear();
    for (const hash of this.#unclaimed) if (this.#held.delete(hash)) this.releaseSoon(hash);
    this.#unclaimed.clear();
    this.#sendReleases();
  }

  get leaseMs(): number {
    return this.#leaseMs;
  }

  get held(): Set<string> {
    return this.#held;
  }

  /** Runs a lock script (for RedisLock), after the releases waiting. */
  lockScript(what: string, source: string, keys: string[], args: (string | number)[]): Promise<Reply> {
    this.#sendReleases();
    return this.#script(what, source, keys, args);
  }

  /** The value of a lock key, or null. */
  async lockValue(hash: string): Promise<string | null> {
    this.#sendReleases();
    return this.#run('read a lock', (r) => r.get(this.#k.lock + hash));
  }

  flush(): void {
    this.#sendDumps();
    this.#sendReleases();
    if (this.#runs.length > 0) void this.#writeRuns().catch(() => {});
  }

  async clearStaleLocks(): Promise<number> {
    await this.#removeDeadNotes();
    let n = 0;
    const now = Date.now();
    for (const [hash, [value, ttl]] of await this.#rawLocks()) {
      if (!this.#lockInfo(value, ttl, now).stale) continue;
      const [lock, locks] = this.lockKeys(hash);
      if ((await this.#script('cleared a stale lock', S.DELETE_IF, [lock, locks], [value, hash])) === 1) n++;
    }
    return n;
  }

  async clearDeadWrites(): Promise<number> {
    return 0; // writes are single commands: nothing is ever left half-written
  }

  async abandonWrites(): Promise<void> {}

  keepAlive(options: { readonly mainThread?: boolean } = {}): void {
    if (this.#heartbeat !== undefined || this.#leaseMs === 0) return;
    const args = [OWNER, this.#k.lock, String(this.#leaseMs)];
    if (options.mainThread === true) {
      const beat = (): void => {
        this.#script('renewed its locks', S.RENEW, [this.#k.owner], args).catch(() => {}); // a missed beat only shortens the lease
      };
      const timer = setInterval(beat, HEARTBEAT_MS);
      timer.unref();
      this.#heartbeat = { stop: async () => clearInterval(timer) };
      return;
    }
    this.#heartbeat = startRedisHeartbeat(this.#config, [this.#k.owner], args);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#frozen !== undefined) return this.#closeFrozen();
    this.#sendDumps();
    await this.#releaseUnclaimed();
    await Promise.all(this.#releases);
    await this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    try {
      await this.#writeRuns();
      await this.noteRunning([]);
    } catch {
      // run records and notes are best effort: a store that went away loses the buffered ones
    }
    this.#closed = true;
    if (this.#runTimer !== undefined) clearTimeout(this.#runTimer);
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }

  /** Closes without a word to a server that stopped answering (its locks end with their lease). */
  #closeFrozen(): void {
    this.#closed = true;
    if (this.#runTimer !== undefined) clearTimeout(this.#runTimer);
    this.#releaseTimer?.();
    this.#sendDumps(); // they fail at once: the server is frozen
    void this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    this.#redis.disconnect();
  }

  async removeFailedLock(hash: string): Promise<boolean> {
    this.#sendReleases();
    const [lock, locks] = this.lockKeys(hash);
    return (await this.#script('removed a failure mark', S.REMOVE_FAILED, [lock, locks], [S.FAILED_MARK, hash])) === 1;
  }

  async failures(): Promise<Map<string, FailureRecord | undefined>> {
    const out = new Map<string, FailureRecord | undefined>();
    for (const [hash, [value]] of await this.#rawLocks()) if (value.startsWith(S.FAILED_MARK)) out.set(hash, parseFailureRecord(value));
    return out;
  }

  async failureRecord(hash: string): Promise<FailureRecord | undefined> {
    const value = await this.lockValue(hash);
    return value !== null && value.startsWith(S.FAILED_MARK) ? parseFailureRecord(value) : undefined;
  }

  async recordRun(entry: RunRecord, urgent = false): Promise<void> {
    this.#runs.push(runRecordLine(entry).slice(0, -1)); // one list element per record, no newline
    if (urgent || this.#runs.length >= RUN_BATCH) return this.#writeRuns();
    this.#runTimer ??= setTimeout(() => void this.#writeRuns().catch(() => {}), RUN_FLUSH_MS).unref();
  }

  async #writeRuns(): Promise<void> {
    if (this.#runTimer !== undefined) clearTimeout(this.#runTimer);
    this.#runTimer = undefined;
    const batch = this.#runs;
    this.#runs = [];
    if (batch.length > 0) {
      this.#runWrite = this.#runWrite.then(() => this.#run('wrote run records', (r) => r.rpush(this.#k.runs, ...batch)).then(() => {}));
    }
    await this.#runWrite;
  }

  async runLog(): Promise<RunRecord[]> {
    return parseRunLines((await this.runLogTexts())[0] ?? '');
  }

  /**
   * The run records as JSON lines, in one text (for cheap scans, src/outdated/quick-check.ts, and
   * one JSON.parse for all of them in parseRunLines()). A damaged element only loses its own line.
   */
  async runLogTexts(): Promise<string[]> {
    await this.#writeRuns();
    const lines = await this.#run('read run records', (r) => r.lrange(this.#k.runs, 0, -1));
    return lines.length === 0 ? [] : [`${lines.join('\n')}\n`];
  }

  /**
   * Compacts the run records (`jug cleanup`, `jug invalidate`): keeps what recordsToKeep() keeps
   * given `stored`, plus every record younger than COMPACT_KEEP_RECENT_MS (a live process's may
   * concern results stored after the listing); damaged records go. Safe while other processes
   * record: COMPACT_RUNS replaces only the records read and keeps those appended since, and does
   * nothing if another compaction ran meanwhile.
   */
  async compactRunLog(stored: ReadonlySet<string>): Promise<RunLogCompaction> {
    await this.#writeRuns();
    const keys = [this.#k.runs, this.#k.runsGen];
    const [gen, lines] = (await this.#script('read run records', S.READ_RUNS, keys, [])) as [string, string[]];
    const parsed = parseRecords(lines);
    const recent = Date.now() - COMPACT_KEEP_RECENT_MS;
    const keep = new Set(recordsToKeep(parsed.map(([r]) => r), stored));
    const kept = parsed.filter(([r]) => keep.has(r) || r.end >= recent).map(([, line]) => line);
    if (kept.length === lines.length) return { read: lines.length, kept: lines.length };
    const done = await this.#script('compacted run records', S.COMPACT_RUNS, keys, [gen, lines.length, ...kept]);
    return { read: lines.length, kept: done === 1 ? kept.length : lines.length };
  }

  /**
   * Replaces this process's running notes: one field (this process's owner id) of the hash
   * `P:running`, its value the notes as JSON; an empty list removes the field. Best-effort.
   */
  async noteRunning(running: readonly RunningNote[]): Promise<void> {
    if (running.length === 0 && !this.#notesWritten) return;
    this.#notesWritten = running.length > 0;
    await this.#run('noted its running tasks', (r) =>
      running.length === 0 ? r.hdel(this.#k.running, OWNER_ID) : r.hset(this.#k.running, OWNER_ID, JSON.stringify(running)),
    );
  }

  /** Every process's running notes (bad entries skipped). */
  async runningNotes(): Promise<RunningNote[]> {
    const all = await this.#run('read the running notes', (r) => r.hgetall(this.#k.running));
    const out: RunningNote[] = [];
    for (const text of Object.values(all)) {
      try {
        const list = JSON.parse(text) as unknown;
        if (Array.isArray(list)) for (const n of list as unknown[]) if (isRunningNote(n)) out.push(n);
      } catch {
        // a damaged entry is skipped
      }
    }
    return out;
  }

  /** Removes the running notes of processes of this host that are gone (killed before they could); returns how many. */
  async #removeDeadNotes(): Promise<number> {
    const dead = (await this.#run('read the running notes', (r) => r.hkeys(this.#k.running))).filter((id) => {
      const m = /^(\d+):([^:]+):(.*)$/.exec(id);
      return m !== null && id !== OWNER_ID && m[3] === HOST && localOwnerGone({ pid: Number(m[1]), token: m[2]! });
    });
    if (dead.length === 0) return 0;
    return this.#run('removed dead processes\' running notes', (r) => r.hdel(this.#k.running, ...dead));
  }

  /** The store's keys (`jug copy`, tests, docs). */
  get keys(): Readonly<StoreKeys> {
    return this.#k;
  }
}

/** A lock of the Redis store: a lease whose owner is this process (every thread alike). */
class RedisLock implements Lock {
  constructor(
    readonly store: RedisStore,
    readonly hash: string,
  ) {}

  async get(): Promise<boolean> {
    const { store, hash } = this;
    const keys = [...store.lockKeys(hash), store.keys.results];
    const got = (await store.triedAhead(hash)) ?? (await store.lockScript('took a lock', S.GET_LOCK, keys, [OWNER, store.leaseMs, hash]));
    if (got === 1 || got === 2) return this.#took(got);
    const value = String(got);
    if (value.startsWith(S.FAILED_MARK)) return false;
    const owner = parseLockOwner(value);
    if (owner === undefined || owner.host !== HOST || isThisProcess(owner) || !localOwnerGone(owner)) return false;
    // Left by a dead process of this host: take it over, unless someone else did meanwhile.
    const took = await store.lockScript('took over a dead process\'s lock', S.TAKE_OVER, keys, [value, OWNER, store.leaseMs, hash]);
    return took === 1 || took === 2 ? this.#took(took) : false;
  }

  #took(reply: Reply): true {
    this.store.tookLock(this.hash, reply);
    return true;
  }

  async release(): Promise<void> {
    if (!this.store.held.delete(this.hash)) return;
    this.store.releaseSoon(this.hash);
  }

  async fail(record?: FailureRecord): Promise<boolean> {
    if (!this.store.held.has(this.hash)) return false;
    const [lock, , owner] = this.store.lockKeys(this.hash);
    const mark = S.FAILED_MARK + OWNER + (record === undefined ? '' : recordLine(record));
    const done = await this.store.lockScript('marked a task failed', S.FAIL, [lock, owner], [OWNER, mark, this.hash]);
    this.store.held.delete(this.hash);
    return done === 1;
  }

  async adopt(): Promise<boolean> {
    if ((await this.store.lockValue(this.hash)) !== OWNER) return false;
    this.store.held.add(this.hash);
    return true;
  }

  async isLocked(): Promise<boolean> {
    const value = await this.store.lockValue(this.hash);
    if (value === null) return false;
    if (value.startsWith(S.FAILED_MARK)) return true;
    const owner = parseLockOwner(value);
    return !(owner !== undefined && owner.host === HOST && !isThisProcess(owner) && localOwnerGone(owner));
  }

  async isFailed(): Promise<boolean> {
    return (await this.store.lockValue(this.hash))?.startsWith(S.FAILED_MARK) === true;
  }
}

/** Every script of redis-scripts.ts (loaded when a store opens). */
const SCRIPTS: string[] = Object.values(S as Record<string, string>).filter((v) => v.includes('redis.call'));
const shas = new Map<string, string>();
/** A script's SHA-1, as Redis names it. */
function scriptSha(source: string): string {
  let sha = shas.get(source);
  if (sha === undefined) shas.set(source, (sha = createHash('sha1').update(source).digest('hex')));
  return sha;
}

/** The run records that parse (checked as every reader checks them: parseRunRecord), each with its line. */
function parseRecords(lines: readonly string[]): [RunRecord, string][] {
  const out: [RunRecord, string][] = [];
  for (const line of lines) {
    let r: RunRecord | undefined;
    try {
      r = parseRunRecord(JSON.parse(line));
    } catch {
      // a damaged record is skipped
    }
    if (r !== undefined) out.push([r, line]);
  }
  return out;
}

/** A dump() waiting for its turn's HSET. */
interface PendingDump {
  readonly hash: string;
  readonly bytes: Buffer;
  readonly taskName: string | undefined;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** A load() waiting for its tick's HMGET. */
interface PendingLoad {
  readonly hash: string;
  readonly taskName: string | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (e: unknown) => void;
}

function isRunningNote(n: unknown): n is RunningNote {
  if (typeof n !== 'object' || n === null) return false;
  const o = n as Record<string, unknown>;
  return typeof o['hash'] === 'string' && typeof o['start'] === 'number' && typeof o['host'] === 'string' && typeof o['pid'] === 'number' &&
    (o['thread'] === undefined || typeof o['thread'] === 'number');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * ioredis options: connect on demand; no offline queue and no per-command retries (the store
 * retries itself, with idempotent commands, so it knows how long the server has been away);
 * reconnect forever once opened (the outage bound ends a run), never while opening (so that an
 * unreachable server is reported at once).
 */
function clientOptions(config: RedisConfig, connectMs: number, reconnect: () => boolean): RedisOptions {
  return {
    host: config.host,
    port: config.port,
    db: config.db,
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.tls ? { tls: { servername: config.host } } : {}),
    lazyConnect: true,
    disconnectTimeout: 500,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    connectTimeout: connectMs,
    retryStrategy: (times) => (reconnect() ? Math.min(50 * times, 500) : null),
  };
}

/**
 * The heartbeat in a thread of its own (with its own connection), so that it keeps beating
 * while task code blocks this thread: it runs the renew script every HEARTBEAT_MS.
 */
function startRedisHeartbeat(config: RedisConfig, keys: string[], args: string[]): { stop(): Promise<void> } {
  const ioredisPath = IOREDIS_PATH;
  const source = `
const { workerData: d } = require('node:worker_threads');
const { Redis } = require(d.ioredisPath);
const r = new Redis({ ...d.options, retryStrategy: (t) => Math.min(50 * t, 500) });
r.on('error', () => {});
r.defineCommand('jugRenew', { numberOfKeys: d.keys.length, lua: d.lua });
const beat = () => { r.jugRenew(...d.keys, ...d.args).catch(() => {}); };
beat(); // at once: a lease as short as a few beats is renewed before the first interval ends
setInterval(beat, d.intervalMs);
`;
  const options = clientOptions(config, 3000, () => true);
  delete (options as { retryStrategy?: unknown }).retryStrategy;
  const worker = new Worker(source, {
    eval: true,
    execArgv: [],
    workerData: { ioredisPath, options: { ...options, lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: 1 }, keys, args, lua: S.RENEW, intervalMs: HEARTBEAT_MS },
  });
  worker.unref();
  worker.on('error', () => {}); // a heartbeat that cannot beat only makes the lease expire
  return { stop: async () => void (await worker.terminate()) };
}
