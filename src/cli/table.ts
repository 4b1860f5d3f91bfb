/**
 * The summary table shared by `status`, `execute`, `invalidate` and `count`: the seed
 * README's layout with the task name first and one 12-character column per count. Names are never
 * wrapped; the name column grows to fit the longest one.
 *
 *   Task name                  Waiting       Ready    Finished     Running      Failed
 *   ----------------------------------------------------------------------------------
 *   primes.isPrime                   0          99           0           0           0
 *   ..................................................................................
 *   Total:                           0          99           0           0           0
 */

const COLUMN = 12;
const MIN_NAME = 22;

/** Renders counts per task name (rows sorted by name) with a Total row. Ends with a newline. */
export function renderTable(columns: readonly string[], rows: ReadonlyMap<string, readonly number[]>): string {
  const names = [...rows.keys()].sort();
  const nameWidth = Math.max(MIN_NAME, ...names.map((n) => n.length + 2), 'Total:'.length + 2);
  const width = nameWidth + COLUMN * columns.length;
  const line = (name: string, cells: readonly (string | number)[]): string =>
    name.padEnd(nameWidth) + cells.map((c) => String(c).padStart(COLUMN)).join('');
  const totals = columns.map((_, k) => names.reduce((sum, n) => sum + (rows.get(n)![k] ?? 0), 0));
  return [
    line('Task name', columns),
    '-'.repeat(width),
    ...names.map((n) => line(n, columns.map((_, k) => rows.get(n)![k] ?? 0))),
    '.'.repeat(width),
    line('Total:', totals),
    '',
  ].join('\n');
}

/**
 * The `--short` form of a table: one line per column with its total, `Executed:  12 tasks`, then
 * `** Total: N tasks.` (their sum), as Python Jug prints.
 * Ends with a newline.
 */
export function renderShort(columns: readonly string[], rows: ReadonlyMap<string, readonly number[]>): string {
  const total = (k: number): number => [...rows.values()].reduce((sum, r) => sum + (r[k] ?? 0), 0);
  const totals = columns.map((_, k) => total(k));
  // Python Jug's --short: one line per column, then the sum of them.
  return columns.map((c, k) => `${c}:  ${totals[k]} tasks\n`).join('') + `** Total: ${totals.reduce((a, b) => a + b, 0)} tasks.\n`;
}

/** `1 lock`, `3 locks` (`many` for irregular plurals). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
