/**
 * Parsing run records (src/run-records-types.ts) from their JSON-lines form, as the stores keep
 * them. No dependencies, so that any store can use it.
 */
import type { RunRecord } from './run-records-types.js';

const HEX40 = /^[0-9a-f]{40}$/;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isOptNum = (x: unknown): boolean => x === undefined || isNum(x);
const isOptStr = (x: unknown): boolean => x === undefined || typeof x === 'string';

/**
 * `value` as a run record of version 1, or undefined: another version, or the wrong shape (a
 * field missing or of the wrong type). Readers skip what this rejects, never fail on it.
 */
export function parseRunRecord(value: unknown): RunRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (r['v'] !== 1) return undefined;
  if (typeof r['hash'] !== 'string' || !HEX40.test(r['hash'])) return undefined;
  if (typeof r['task'] !== 'string' || typeof r['host'] !== 'string' || typeof r['jug'] !== 'string') return undefined;
  if (r['outcome'] !== 'done' && r['outcome'] !== 'failed') return undefined;
  if (!isNum(r['start']) || !isNum(r['end']) || !isNum(r['pid'])) return undefined;
  if (!isOptNum(r['thread']) || !isOptNum(r['bytes']) || !isOptNum(r['attempt'])) return undefined;
  if (!isOptStr(r['args']) || !isOptStr(r['error']) || !isOptStr(r['code'])) return undefined;
  const parts = r['parts'];
  if (parts !== undefined && (typeof parts !== 'object' || parts === null || Object.values(parts).some((p) => typeof p !== 'string'))) {
    return undefined;
  }
  return value as RunRecord;
}

/**
 * The records in `text`, one JSON object per line: a last line without its newline (a write cut
 * short) and lines that do not parse as records are skipped.
 */
export function parseRunLines(text: string): RunRecord[] {
  const end = text.lastIndexOf('\n');
  if (end <= 0) return [];
  // Fast path: the whole file as one JSON array (one parse instead of one per line: ~3× faster on
  // thousands of records); any damaged or empty line sends it to the line-by-line path.
  let all: unknown;
  try {
    all = JSON.parse(`[${text.slice(0, end).replaceAll('\n', ',')}]`);
  } catch {
    return parseLineByLine(text, end);
  }
  const out: RunRecord[] = [];
  for (const value of all as unknown[]) {
    const r = parseRunRecord(value);
    if (r !== undefined) out.push(r);
  }
  return out;
}

function parseLineByLine(text: string, end: number): RunRecord[] {
  const out: RunRecord[] = [];
  let from = 0;
  while (from < end) {
    const nl = text.indexOf('\n', from);
    const line = text.slice(from, nl);
    from = nl + 1;
    if (line.length === 0) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const r = parseRunRecord(parsed);
    if (r !== undefined) out.push(r);
  }
  return out;
}
