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

/**
 * Every field of a run record, in the order a line writes them. Typed so that a field added to
 * RunRecord without being added here fails to compile (runRecordLine writes only these).
 */
const FIELD_ORDER: { readonly [K in keyof Required<RunRecord>]: number } = {
  v: 0,
  hash: 1,
  task: 2,
  args: 3,
  outcome: 4,
  start: 5,
  end: 6,
  host: 7,
  pid: 8,
  thread: 9,
  bytes: 10,
  attempt: 11,
  jug: 12,
  error: 13,
  code: 14,
  parts: 15,
};
const FIELDS = (Object.keys(FIELD_ORDER) as (keyof RunRecord)[]).sort((a, b) => FIELD_ORDER[a] - FIELD_ORDER[b]);
/** The `"key":` prefix of each field. */
const KEYS = FIELDS.map((k) => `${JSON.stringify(k)}:`);
/** Characters JSON.stringify escapes in a string (and lone surrogates, which it escapes too). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** Serialized `parts` objects (one per task function, shared by its records). */
const partsText = new WeakMap<object, string>();

/** `s` as a JSON string: as JSON.stringify, without its cost for the common plain string. */
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'object' && value !== null) {
    let text = partsText.get(value);
    if (text === undefined) partsText.set(value, (text = JSON.stringify(value)));
    return text;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A record as one line of the JSON-lines form (with its `\n`): the same JSON as
 * `JSON.stringify(r)` for a record built in field order (src/run-records.ts's makeRunRecord), at
 * a fraction of its cost (a record is written for every task a process runs).
 * Fields are written in FIELD_ORDER; undefined ones are left out.
 */
export function runRecordLine(r: RunRecord): string {
  let line = '{';
  for (let i = 0; i < FIELDS.length; i++) {
    const value = r[FIELDS[i]!];
    if (value === undefined) continue;
    line += (line.length === 1 ? KEYS[i]! : `,${KEYS[i]!}`) + fieldText(value);
  }
  return `${line}}\n`;
}

/**
 * What compacting a run log keeps of `records` (in their order), given the hashes stored now:
 * per hash, its latest record if that is a failure (`jug why` says the last run failed) or its
 * result is stored, and the latest 'done' record of each result stored (`jug status --timing`,
 * outdated results, `jug why`). Records of results no longer stored, and older runs, go.
 */
export function recordsToKeep(records: readonly RunRecord[], stored: ReadonlySet<string>): RunRecord[] {
  const latest = new Map<string, RunRecord>();
  const done = new Map<string, RunRecord>();
  for (const r of records) {
    const l = latest.get(r.hash);
    if (l === undefined || r.end >= l.end) latest.set(r.hash, r);
    if (r.outcome !== 'done' || !stored.has(r.hash)) continue;
    const d = done.get(r.hash);
    if (d === undefined || r.end >= d.end) done.set(r.hash, r);
  }
  const keep = new Set<RunRecord>(done.values());
  for (const [hash, r] of latest) if (r.outcome === 'failed' || stored.has(hash)) keep.add(r);
  return records.filter((r) => keep.has(r));
}
