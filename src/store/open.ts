/**
 * Chooses a store for a jugdir string. Today: `:memory:` for an in-memory store, anything else
 * is a file store path. (A `redis://` scheme will be added here.)
 */
import { FileStore, type FileStoreOptions } from './file-store.js';
import { MemoryStore } from './memory-store.js';
import type { Store } from './store.js';

/** Opens the store a jugdir string names. */
export function openStore(jugdir: string, options: FileStoreOptions = {}): Store {
  if (jugdir === ':memory:') return new MemoryStore();
  return new FileStore(jugdir, options);
}
