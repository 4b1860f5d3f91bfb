/**
 * `jug copy --from <store> --to <store>`: copies every result of one store into another (each a
 * jugdir path or a `redis://` URL), so that a run can move (a laptop's jugdir to Redis, or back)
 * and resume there. Each result is read through the source store, which verifies its framing and
 * checksum (a corrupt one is reported and not copied), and written whole to the target; results
 * the target already has are skipped. The source is only read. Locks and failure marks are not
 * copied: they belong to the processes of the source.
 */
import { existsSync } from 'node:fs';
import { CorruptResultError, JugError, UsageError } from '../../../errors.js';
import { openStore } from '../../../store/open.js';
import { isRedisUrl, isStoreUrl, maskSecrets, withDefaultPrefix } from '../../../store/redis-url.js';
import type { Store } from '../../../store/store.js';

/** Options of `jug copy`. */
export interface CopyOptions {
  readonly from: string;
  readonly to: string;
  /** Print nothing but errors. @default false */
  readonly quiet?: boolean;
}

/** Results copied at once (overlapping round trips to a network store). */
const PARALLEL = 16;

export async function copy(options: CopyOptions): Promise<number> {
  const { from, to } = options;
  if (from === to) throw new UsageError(`jug copy: --from and --to name the same store (${maskSecrets(from)}).`);
  if (!isStoreUrl(from) && from !== ':memory:' && !existsSync(from)) {
    throw new UsageError(`jug copy: the source jugdir ${from} does not exist.`);
  }
  const source = openStore(withPrefix(from, to));
  const target = openStore(withPrefix(to, from));
  try {
    return await copyAll(source, target, options.quiet === true);
  } finally {
    await Promise.allSettled([source.close(), target.close()]);
  }
}

/**
 * A Redis URL without `prefix=` gets the prefix `jug <jugfile>` would give it: the jugfile's name
 * is the other side's jugdir name without `.jugdata` (the default jugdir of a jugfile).
 */
function withPrefix(url: string, other: string): string {
  if (!isRedisUrl(url) || /[?&]prefix=/.test(url)) return url;
  const m = /([^/\\]+)\.jugdata\/?$/.exec(other);
  if (m === null) {
    throw new UsageError(
      `jug copy: ${maskSecrets(url)} has no prefix=NAME, and the other store does not tell the jugfile (it is not a <name>.jugdata ` +
        'directory). Add ?prefix=jug:<jugfile name> (the prefix `jug execute <jugfile> --jugdir <url>` uses).',
    );
  }
  return withDefaultPrefix(url, m[1]!);
}

async function copyAll(source: Store, target: Store, quiet: boolean): Promise<number> {
  const [have, present] = await Promise.all([source.list(), target.list()]);
  const todo = [...have].filter((h) => !present.has(h)).sort();
  const progress = new Progress(quiet, have.size, present.size);
  const corrupt: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const hash = todo[next++]!;
      let value: unknown;
      try {
        value = await source.load(hash); // decodes: checks length and CRC-32
      } catch (e) {
        if (e instanceof CorruptResultError) {
          corrupt.push(`${hash}: ${e.reason}`);
          progress.step('corrupt');
          continue;
        }
        if (e instanceof JugError && e.name === 'NotComputedError') {
          progress.step('gone'); // removed from the source meanwhile
          continue;
        }
        throw e;
      }
      await target.dump(hash, value);
      progress.step('copied');
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, worker));
  target.flush();
  progress.done(source.location, target.location);
  if (corrupt.length > 0) {
    process.stderr.write(
      `jug copy: ${corrupt.length} result(s) of ${source.location} are corrupt and were not copied (run \`jug execute\` on the target to recompute them):\n` +
        corrupt.map((c) => `  ${c}\n`).join(''),
    );
    return 1;
  }
  return 0;
}

/** The progress line (on a terminal: redrawn at most every 100 ms) and the summary. */
class Progress {
  readonly #tty = process.stderr.isTTY === true;
  #last = 0;
  readonly counts = { copied: 0, corrupt: 0, gone: 0 };
  constructor(
    readonly quiet: boolean,
    readonly total: number,
    readonly skipped: number,
  ) {}

  step(kind: 'copied' | 'corrupt' | 'gone'): void {
    this.counts[kind]++;
    if (this.quiet || !this.#tty) return;
    const now = Date.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    process.stderr.write(`\r\x1b[Kjug copy: ${this.#line()}`);
  }

  #line(): string {
    const done = this.counts.copied + this.counts.corrupt + this.counts.gone;
    const todo = this.total - Math.min(this.skipped, this.total);
    return `${done}/${todo} copied or checked, ${this.skipped} already there`;
  }

  done(from: string, to: string): void {
    if (this.#tty && !this.quiet) process.stderr.write('\r\x1b[K');
    if (this.quiet) return;
    process.stderr.write(
      `jug copy: ${this.counts.copied} result(s) copied from ${from} to ${to}; ` +
        `${this.skipped} already there${this.counts.corrupt > 0 ? `; ${this.counts.corrupt} corrupt, not copied` : ''}.\n`,
    );
  }
}
