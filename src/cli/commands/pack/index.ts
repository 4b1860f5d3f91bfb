/**
 * `jug pack`: moves the jugdir's small result files into a pack (a few files and an index), for
 * filesystems where many small files are slow (NFS, Lustre). Safe while `jug execute` runs on the
 * same jugdir, from any host: packed results stay readable throughout, new results keep going to
 * loose files, and every command reads both (src/store/pack.ts, docs/store-format.md "Packs").
 */
import { StoreError } from '../../../errors.js';
import type { PackReport } from '../../../store/pack.js';
import { openProject, type CommonOptions } from '../../common.js';
import { plural } from '../../table.js';

/** Options of `jug pack`. */
export interface PackCommandOptions extends CommonOptions {
  /** Result files larger than this many bytes stay loose. @default 65536 */
  maxSize?: number;
}

export async function pack(jugfile: string | undefined, options: PackCommandOptions): Promise<number> {
  const { store } = await openProject(jugfile, options);
  try {
    if (store.pack === undefined) {
      throw new StoreError(`Cannot pack the store ${store.location}: only a file jugdir has packs (this store keeps its results elsewhere).`);
    }
    // Beat while packing, so that other hosts never take the pack lock for a dead process's.
    store.keepAlive?.();
    const report = await store.pack(options.maxSize === undefined ? {} : { maxBytes: options.maxSize });
    process.stdout.write(describeReport(report, store.location));
    return 0;
  } finally {
    await store.close();
  }
}

/** The lines `jug pack` prints. */
export function describeReport(r: PackReport, location: string): string {
  let text =
    `Packed ${plural(r.packed, 'result')}: ${location}/packs holds ${plural(r.total, 'result')} ` +
    `in ${plural(r.dataFiles, 'data file')} (${r.bytes} bytes) and its index.\n`;
  if (r.left > 0) text += `Left for the next run: ${plural(r.left, 'result')} (one run packs at most 256 MiB): run \`jug pack\` again.\n`;
  if (r.tooLarge > 0) text += `Left loose: ${plural(r.tooLarge, 'result')} larger than --max-size.\n`;
  if (r.corrupt > 0) {
    text += `Left loose: ${plural(r.corrupt, 'corrupt result')} (\`jug execute\` sets them aside and computes them again).\n`;
  }
  return text;
}
