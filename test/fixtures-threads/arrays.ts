/**
 * Results of every encoding path, made in worker threads (`--threads`): numeric arrays stored as
 * their elements (compressible or not, plain or typed), the fallbacks (a hole, a string element,
 * an extra property) and brotli-compressed other data. `check` runs in a worker too and reports
 * what it received, so the test sees both sides: the bytes written and the values read back.
 */
import { threadId } from 'node:worker_threads';
import { TaskGenerator } from 'jug';

const N = 20_000;

export const make = TaskGenerator(function make(kind: string): unknown {
  let x = 7;
  const lcg = (): number => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  const dbl = (): number => Math.random(); // all 52 mantissa bits: incompressible
  switch (kind) {
    case 'plain-lcg':
      return Array.from({ length: N }, lcg);
    case 'plain-double':
      return Array.from({ length: N }, dbl);
    case 'f64-lcg':
      return Float64Array.from({ length: N }, lcg);
    case 'f64-double':
      return Float64Array.from({ length: N }, dbl);
    case 'holey': {
      const a: number[] = Array.from({ length: N }, lcg);
      delete a[10];
      return a;
    }
    case 'string-inside':
      return Array.from({ length: N }, (_, i) => (i === 5 ? 'five' : i * 0.5));
    case 'extra-property':
      return Object.assign(Array.from({ length: N }, lcg), { unit: 'm' });
    default:
      return Array.from({ length: 2000 }, (_, i) => ({ row: i, label: `row-${i % 10}` }));
  }
});

export const check = TaskGenerator(function check(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { threadId };
  for (const [k, v] of Object.entries(values)) {
    const a = v as ArrayLike<unknown> & { unit?: string };
    out[k] = {
      type: Array.isArray(v) ? 'Array' : (v as object).constructor.name,
      length: a.length,
      first: a[0],
      hasHole10: Array.isArray(v) ? !(10 in v) : false,
      at5: a[5],
      unit: a.unit,
    };
  }
  return out;
});

const kinds = ['plain-lcg', 'plain-double', 'f64-lcg', 'f64-double', 'holey', 'string-inside', 'extra-property', 'objects'];
export const made = Object.fromEntries(kinds.map((k) => [k, make(k)]));
export const summary = check(made);
