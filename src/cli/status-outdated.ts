/**
 * What `jug status` says of outdated results (stored results computed by code that has changed
 * since): the Outdated and Downstream columns, the note under the table, the `--outdated` listing
 * and the `outdated` part of the `--json` document.
 */
import type { TaskGraph } from '../graph.js';
import { describeChanged, type OutdatedAnalysis } from '../outdated/analysis.js';
import { countByName } from './common.js';
import { RERUN_COMMAND } from './outdated-state.js';
import { plural } from './table.js';

/** Column titles added to the status table when some result is outdated. */
export const OUTDATED_COLUMNS = ['Outdated', 'Downstream'] as const;

/** Per task name: [outdated, downstream] counts. */
export function outdatedByName(graph: TaskGraph, a: OutdatedAnalysis): Map<string, number[]> {
  return countByName(graph, (i) => (a.states[i] === 'outdated' ? 0 : a.states[i] === 'downstream' ? 1 : undefined), 2);
}

/** The note under the table: which functions changed; '' when nothing is outdated. */
export function outdatedNote(a: OutdatedAnalysis): string {
  if (a.outdated === 0) return '';
  const names = a.changed.map((c) => c.task);
  const down = a.downstream === 0 ? '' : `, ${plural(a.downstream, 'result')} downstream`;
  return (
    `Outdated: ${plural(a.outdated, 'result')}${down} (counted in Finished): the code of ${names.join(', ')} changed since. ` +
    `\`jug status --outdated\` says where; \`${RERUN_COMMAND}\` recomputes them.\n`
  );
}

/** `jug status --outdated`: per changed function, how many results and where the change is. */
export function outdatedListing(a: OutdatedAnalysis): string {
  const unknown =
    a.unknown === 0
      ? ''
      : `${plural(a.unknown, 'stored result')} of unknown code (no code fingerprint recorded: computed before fingerprints, or by a store without run records) ${a.unknown === 1 ? 'is' : 'are'} not counted as outdated.\n`;
  if (a.outdated === 0) return `No outdated results.\n${unknown}`;
  const lines = a.changed.map((c) => {
    const parts = c.parts.map((p) => `    ${p.name}: ${p.change}${p.where === undefined ? '' : ` (${p.where})`}\n`).join('');
    const what = c.versionOnly ? `    its version changed${c.where === undefined ? '' : ` (${c.where})`}\n` : parts;
    return `${c.task}: ${plural(c.results, 'outdated result')}\n${what || `    ${describeChanged(c)}\n`}`;
  });
  const down = a.downstream === 0 ? '' : `${plural(a.downstream, 'more result')} depend${a.downstream === 1 ? 's' : ''} on outdated ones (downstream).\n`;
  return `${lines.join('')}${down}${unknown}\`${RERUN_COMMAND}\` recomputes them (or \`jug invalidate --outdated\` removes them).\n`;
}

/** The `outdated` part of `jug status --json`. */
export interface OutdatedJson {
  readonly outdated: number;
  readonly downstream: number;
  readonly unknown: number;
  readonly changed: readonly {
    readonly task: string;
    readonly results: number;
    readonly where?: string;
    readonly versionOnly: boolean;
    readonly parts: readonly { readonly name: string; readonly change: string; readonly where?: string }[];
  }[];
}

export function outdatedJson(a: OutdatedAnalysis): OutdatedJson {
  return {
    outdated: a.outdated,
    downstream: a.downstream,
    unknown: a.unknown,
    changed: a.changed.map((c) => ({ task: c.task, results: c.results, ...(c.where === undefined ? {} : { where: c.where }), versionOnly: c.versionOnly, parts: c.parts })),
  };
}
