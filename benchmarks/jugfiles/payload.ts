/**
 * Benchmark workload payload (the anchors' workload 5): 50 tasks each returning 262,144 numbers
 * (2 MiB as float64), then one task summing all of them (51 tasks).
 *
 *   PAYLOAD_FORM    'array' (a plain number[], default) or 'f64' (a Float64Array)
 *   PAYLOAD_VALUES  'double' (uniform doubles with all 53 bits, like Python's random.random(),
 *                   default) or 'lcg' (the 31-bit LCG fractions x / 2^31 of the first benchmark:
 *                   fewer significant bits, so the data compresses)
 *   PAYLOAD_TASKS, PAYLOAD_ITEMS  sizes (default 50 and 262144)
 */
import { TaskGenerator } from 'jug';

const FORM = process.env['PAYLOAD_FORM'] ?? 'array';
const VALUES = process.env['PAYLOAD_VALUES'] ?? 'double';
const N_TASKS = Number(process.env['PAYLOAD_TASKS'] ?? 50);
const N_ITEMS = Number(process.env['PAYLOAD_ITEMS'] ?? 262_144);

/** A deterministic generator of numbers in [0, 1) of the chosen kind. */
function generator(seed: number): () => number {
  if (VALUES === 'lcg') {
    let x = seed + 1;
    return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  }
  let a = (seed * 0x9e3779b1 + 1) >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return () => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
}

export const makePayload = TaskGenerator(function makePayload(seed: number, form: string, values: string): number[] | Float64Array {
  void values; // part of the task's identity: each variant has its own results
  const next = generator(seed);
  if (form === 'f64') {
    const out = new Float64Array(N_ITEMS);
    for (let i = 0; i < N_ITEMS; i++) out[i] = next();
    return out;
  }
  const out = new Array<number>(N_ITEMS);
  for (let i = 0; i < N_ITEMS; i++) out[i] = next();
  return out;
});

export const total = TaskGenerator(function total(payloads: ArrayLike<number>[]): number {
  let s = 0;
  for (const p of payloads) for (let i = 0; i < p.length; i++) s += p[i]!;
  return s;
});

export const payloads = Array.from({ length: N_TASKS }, (_, i) => makePayload(i, FORM, VALUES));
export const result = total(payloads);
