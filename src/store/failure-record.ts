/**
 * Failure records as stores keep them (see FailureRecord in store.ts): bounded in size, checked
 * field by field when read back, and — in the file store — carried by the failure mark's lock
 * file itself, on one line after Jug's owner text:
 *
 *   PID 4927 on HOSTNAME vm
 *   Lock created on 2026-11-21 (17h16.26)
 *   jug failure record v1: {"task":"errs.risky","hash":"36a9…",…}
 *
 * Python Jug never reads a lock's text (only whether it exists and its mtime), and jug reads only
 * the first line for the owner, so both read such a lock as before. The whole file is written
 * under a temporary name and renamed into place, so the record appears whole or not at all; a
 * record that does not parse (cut short, damaged, a newer version) is ignored, never an error.
 */
import type { FailureRecord } from './store.js';

/** Start of the line that carries the record (the version is part of it). */
export const RECORD_PREFIX = 'jug failure record v1: ';

/** Longest error message kept, in characters (the rest is cut, marked with …). */
const MAX_MESSAGE = 4000;
/** Longest stack kept, in characters. */
const MAX_STACK = 16_000;
/** Longest arguments description kept, in characters. */
const MAX_ARGS = 1000;
/** Longest name or host kept. */
const MAX_NAME = 500;

const cut = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** `record` with its free-text fields cut to bounded lengths, and only the known fields. */
export function boundRecord(record: FailureRecord): FailureRecord {
  return {
    task: cut(record.task, MAX_NAME),
    hash: record.hash,
    args: cut(record.args, MAX_ARGS),
    error: {
      name: cut(record.error.name, MAX_NAME),
      message: cut(record.error.message, MAX_MESSAGE),
      stack: cut(record.error.stack, MAX_STACK),
    },
    host: cut(record.host, MAX_NAME),
    pid: record.pid,
    ...(record.thread === undefined ? {} : { thread: record.thread }),
    time: record.time,
    ...(record.durationMs === undefined ? {} : { durationMs: record.durationMs }),
    ...(record.attempts === undefined ? {} : { attempts: record.attempts }),
  };
}

/** The line to append to a failure mark's lock text (ends with a newline). */
export function recordLine(record: FailureRecord): string {
  return `${RECORD_PREFIX}${JSON.stringify(boundRecord(record))}\n`;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A FailureRecord if `v` has the shape of one (optional fields may be absent), else undefined. */
export function asFailureRecord(v: unknown): FailureRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const e = r['error'] as Record<string, unknown> | null | undefined;
  if (typeof e !== 'object' || e === null) return undefined;
  if (![r['task'], r['hash'], r['args'], r['host'], r['time'], e['name'], e['message'], e['stack']].every(isString)) return undefined;
  if (!isNumber(r['pid'])) return undefined;
  for (const k of ['thread', 'durationMs', 'attempts']) if (r[k] !== undefined && !isNumber(r[k])) return undefined;
  return boundRecord(r as unknown as FailureRecord);
}

/**
 * The record carried by a failure mark's lock text, or undefined: none (Python Jug's mark, an
 * older jug's), or one that is cut short or does not parse.
 */
export function parseFailureRecord(text: string): FailureRecord | undefined {
  const start = text.indexOf(`\n${RECORD_PREFIX}`);
  if (start < 0) return undefined;
  const from = start + 1 + RECORD_PREFIX.length;
  const end = text.indexOf('\n', from);
  if (end < 0) return undefined; // no final newline: cut short
  try {
    return asFailureRecord(JSON.parse(text.slice(from, end)));
  } catch {
    return undefined;
  }
}

/** Jug's owner text of a lock, without any failure record line. */
export function ownerText(text: string): string {
  const start = text.indexOf(`\n${RECORD_PREFIX}`);
  return start < 0 ? text : text.slice(0, start + 1);
}
