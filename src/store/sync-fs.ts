/**
 * Group commit for the file store. Flushing each result with its own fsync costs ~0.5–1 ms on
 * common disks (that bounds Python Jug at ~900 tasks/s); `syncfs(2)` flushes a whole filesystem in
 * one call, so a group of results costs two flushes: one before the renames (data durable before
 * it becomes visible, as with fsync-before-rename) and one after (the renames durable before any
 * task is reported done).
 *
 * Node has no syncfs binding; coreutils' `sync -f PATH` is that call. Spawning it from Node blocks
 * the event loop for the fork (~3 ms), which would stall the tasks that make groups grow, so one
 * long-lived `sh` per thread runs `sync -f` for us: requests go down its stdin, one line back per
 * flush. It exits when its stdin closes (with us). Where it cannot start, syncFsAvailable() is
 * false and the store fsyncs each file instead.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

const SCRIPT = 'while IFS= read -r d; do if sync -f "$d" 2>/dev/null; then echo ok; else echo err; fi; done';

interface Syncer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly waiting: { resolve: () => void; reject: (e: Error) => void }[];
  dead: boolean;
}

let syncer: Syncer | undefined;
let available: Promise<boolean> | undefined;

function start(): Syncer {
  const child = spawn('sh', ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'] }) as unknown as ChildProcessWithoutNullStreams;
  const s: Syncer = { child, waiting: [], dead: false };
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const w = s.waiting.shift();
      if (s.waiting.length === 0) idle(s);
      if (line === 'ok') w?.resolve();
      else w?.reject(new Error('sync -f failed'));
    }
  });
  const die = (): void => {
    s.dead = true;
    for (const w of s.waiting.splice(0)) w.reject(new Error('the sync helper process exited'));
    if (syncer === s) syncer = undefined;
  };
  child.on('error', die);
  child.on('exit', die);
  child.stdin.on('error', die);
  idle(s);
  return s;
}

type Refable = { ref?: () => void; unref?: () => void };

/** The helper keeps the process alive only while a flush is pending. */
function idle(s: Syncer): void {
  s.child.unref();
  (s.child.stdout as unknown as Refable).unref?.();
}

function busy(s: Syncer): void {
  s.child.ref();
  (s.child.stdout as unknown as Refable).ref?.();
}

/** Flushes the filesystem holding `path` (syncfs). */
export function syncFs(path: string): Promise<void> {
  if (syncer === undefined || syncer.dead) syncer = start();
  const s = syncer;
  return new Promise((resolve, reject) => {
    if (s.waiting.length === 0) busy(s);
    s.waiting.push({ resolve, reject });
    s.child.stdin.write(`${path}\n`);
  });
}

/** Whether syncfs works here (checked once per thread, on `path` or its nearest existing parent). */
export function syncFsAvailable(path: string): Promise<boolean> {
  if (available !== undefined) return available;
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  available ??= syncFs(dir).then(
    () => true,
    () => false,
  );
  return available;
}

/**
 * Flushes a directory's entries (a rename or unlink in it) to disk. Best effort: some filesystems
 * refuse fsync on directories; the rename itself is still atomic.
 */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // refused: see above
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** fsyncDir() in libuv's pool (the calling thread does not wait on the disk). */
export async function fsyncDirInPool(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // refused: see fsyncDir
  } finally {
    await handle?.close().catch(() => {});
  }
}
