/**
 * Group commit for the file store. Flushing each result with its own fsync costs ~1 ms on common
 * disks (that bounds Python Jug at ~900 tasks/s); `syncfs(2)` flushes a whole filesystem in one
 * call, so a batch of results costs two flushes: one before the renames (data durable before it
 * becomes visible, as with fsync-before-rename) and one after (the renames durable before any
 * task is reported done). Node has no syncfs binding; coreutils' `sync -f PATH` is that call.
 * Where it is missing (non-Linux), the store falls back to fsync per file.
 */
import { execFile } from 'node:child_process';

let available: Promise<boolean> | undefined;

/** Flushes the filesystem holding `path`. */
export function syncFs(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('sync', ['-f', path], (err) => (err ? reject(err) : resolve()));
  });
}

/** Whether `sync -f` works here (checked once per process). */
export function syncFsAvailable(path: string): Promise<boolean> {
  available ??= syncFs(path).then(
    () => true,
    () => false,
  );
  return available;
}
