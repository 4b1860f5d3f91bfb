/** `jug count`: how many tasks of each name the jugfile declares (no store access). */
import { barrierNote, countByName, openProject, type CommonOptions } from '../common.js';
import { renderShort, renderTable } from '../table.js';

/** Options of `jug count`. */
export interface CountOptions extends CommonOptions {
  /** One line instead of the table. @default false */
  short?: boolean;
}

export async function count(jugfile: string | undefined, options: CountOptions): Promise<number> {
  const { graph, store, barrier } = await openProject(jugfile, options);
  const rows = countByName(graph, () => 0, 1);
  process.stdout.write(options.short ? renderShort(['Count'], rows) : renderTable(['Count'], rows));
  if (barrier !== undefined) process.stdout.write(barrierNote(barrier));
  await store.close();
  return 0;
}
