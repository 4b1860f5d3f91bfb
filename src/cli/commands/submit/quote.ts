/** Words for a POSIX shell (the job script, the commands printed to copy). */

/** A word as it is when plain, else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[\w./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
