/** `jug status`'s table (or `--short` line) and the notes under it: outdated results, hosts, silent holders, stale locks, failures, barrier. */
import { barrierNote, type Project } from '../../common.js';
import { FAILED, RUNNING, STALE, STATUS_COLUMNS, classify, locksOf, shortStatus, statusByName, statusTotals } from '../../status-counts.js';
import { renderTable } from '../../table.js';
import { codeState, mayHaveOutdated } from '../../outdated-state.js';
import { OUTDATED_COLUMNS, outdatedByName, outdatedNote } from '../../status-outdated.js';
import { runningHostsLine, silentHolderLines, silentHolders } from '../../lock-holders.js';

/** The table (or the `short` line) with its notes, as `jug status` prints it. */
export async function statusTable({ graph, store, barrier, stored }: Project, short: boolean): Promise<string> {
  const locks = await store.listLocks();
  const cls = await classify(graph, store, stored, locks);
  const totals = statusTotals(cls);
  const stale = totals[STALE]!;
  let out = '';
  if (short) {
    out += shortStatus(totals) + '\n';
  } else {
    // The Stale column only when some lock is stale: otherwise the table is Jug's.
    const rows = statusByName(graph, cls);
    if (stale === 0) for (const [k, r] of rows) rows.set(k, r.slice(0, STALE));
    const columns: string[] = stale === 0 ? STATUS_COLUMNS.slice(0, STALE) : [...STATUS_COLUMNS];
    // Outdated and Downstream only when some result is outdated (then a note names the functions).
    // (The run records are read and parsed only when a cheap scan of them says some may be.)
    const analysis = (await mayHaveOutdated(graph, store, stored)) ? (await codeState(graph, store, stored)).analysis : undefined;
    if (analysis !== undefined && analysis.outdated > 0) {
      const extra = outdatedByName(graph, analysis);
      for (const [k, r] of rows) rows.set(k, [...r, ...extra.get(k)!]);
      columns.push(...OUTDATED_COLUMNS);
    }
    out += renderTable(columns, rows);
    if (analysis !== undefined) out += outdatedNote(analysis);
    out += runningHostsLine(locksOf(graph, cls, locks, RUNNING));
  }
  out += silentHolderLines(silentHolders(locksOf(graph, cls, locks, RUNNING)));
  if (stale > 0) {
    out +=
      `${stale} task(s) have a stale lock (its holder is gone: a dead process on this host, or another host ` +
      'past --lock-lease): the next `jug execute` takes them over; `jug cleanup --stale` removes them now.\n';
  }
  if (totals[FAILED]! > 0 && !short) {
    out += '`jug status --failed` shows why tasks failed; `jug execute --retry-failed` runs them again (stored results are kept).\n';
  }
  if (barrier !== undefined) out += barrierNote(barrier);
  return out;
}
