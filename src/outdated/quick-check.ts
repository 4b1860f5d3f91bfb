/**
 * The cheap question before the full outdated analysis (analysis.ts): could any run record say
 * that a result was computed by other code than its function's now? Answered from the records'
 * raw JSON-lines text, without parsing them into objects: each line's `"task"` and `"code"`
 * values are found with string searches and compared with the code of that task name now.
 *
 * Conservative: "no" only when every line with a code fingerprint carries the current code of its
 * task (or names a task the jugfile has no fingerprint for, which the analysis counts as unknown,
 * never outdated). Anything it cannot read with certainty (a key twice in a line, an escaped
 * task name, a name whose tasks have different codes) answers "maybe", and the caller does the
 * full analysis. An old record superseded by a newer one also answers "maybe": only the full
 * analysis knows which record of a hash is the latest.
 */

const TASK_KEY = '"task":"';
const CODE_KEY = '"code":"';

/**
 * Whether some record in `texts` (run-log files, one JSON record per line) may carry a code
 * fingerprint other than the current one of its task. `current`: task name → its code now, or
 * `null` when tasks of that name do not all have the same code (then any record naming it
 * answers true). Names absent from `current` have no fingerprint now: their results are unknown.
 *
 * In a JSON line, `"code":"` can only be a key (inside a string every `"` is escaped), but a
 * nested object (a fingerprint part named `code`) may hold the same key: a second occurrence in
 * one line answers true.
 */
export function recordsMayBeOutdated(texts: Iterable<string>, current: ReadonlyMap<string, string | null>): boolean {
  for (const text of texts) {
    let at = text.indexOf(CODE_KEY);
    while (at >= 0) {
      const lineStart = text.lastIndexOf('\n', at) + 1;
      let lineEnd = text.indexOf('\n', at);
      if (lineEnd < 0) lineEnd = text.length;
      if (lineMayBeOutdated(text, lineStart, lineEnd, at, current)) return true;
      at = text.indexOf(CODE_KEY, lineEnd);
    }
  }
  return false;
}

/** One line holding a code key at `codeAt`: true unless its code is its task's code now (or its task has none). */
function lineMayBeOutdated(text: string, start: number, end: number, codeAt: number, current: ReadonlyMap<string, string | null>): boolean {
  const second = text.indexOf(CODE_KEY, codeAt + 1);
  if (second >= 0 && second < end) return true;
  const taskAt = text.indexOf(TASK_KEY, start);
  if (taskAt < 0 || taskAt >= end) return true;
  const again = text.indexOf(TASK_KEY, taskAt + 1);
  if (again >= 0 && again < end) return true;
  const task = stringAt(text, taskAt + TASK_KEY.length, end);
  const code = stringAt(text, codeAt + CODE_KEY.length, end);
  if (task === undefined || code === undefined) return true;
  if (!current.has(task)) return false;
  return current.get(task) !== code;
}

/** The JSON string value starting at `from` (after its opening quote), or undefined if it has escapes or no end in the line. */
function stringAt(text: string, from: number, end: number): string | undefined {
  const close = text.indexOf('"', from);
  if (close < 0 || close >= end) return undefined;
  const value = text.slice(from, close);
  return value.includes('\\') ? undefined : value;
}
