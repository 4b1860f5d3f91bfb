#!/usr/bin/env node
/**
 * The measurements behind the store's codec choice (docs/store-format.md, "How a result is
 * encoded"): compress and decompress times and sizes of zlib and brotli at low levels, with and
 * without the byte shuffle, on 2 MiB of numbers of two kinds (31-bit LCG fractions, 53-bit random
 * doubles) and on two kinds of V8 payloads (small objects, short strings). Best of 7 runs each.
 *
 *   node benchmarks/codec-choice.mjs
 *
 * Needs no build (it does not use jug's code, only node:zlib and node:v8).
 */
import v8 from 'node:v8';
import zlib from 'node:zlib';

const N = 262144;
let x = 2;
const lcg = Array.from({ length: N }, () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
const doubles = Array.from({ length: N }, () => Math.random());
const objs = Array.from({ length: 20000 }, (_, i) => ({ id: i, name: 'item-' + i, score: Math.round(Math.random() * 1000) / 10, tags: ['a', 'b' + (i % 7)], ok: i % 3 === 0 }));
const strs = Array.from({ length: 20000 }, (_, i) => `line ${i}: the quick brown fox ${(i * 7919) % 1000} jumps`);

function best(fn, reps = 7) {
  let ms = Infinity;
  let out;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    out = fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, out };
}
const brotli = (q) => (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: q, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length } });
/** Decompression into one output piece of the known size, as the store does. */
const exact = (fn) => (b, size) => fn(b, { chunkSize: Math.max(size, 64), maxOutputLength: size });
const CODECS = [
  ['zlib 6', (b) => zlib.deflateSync(b, { level: 6 }), exact(zlib.inflateSync)],
  ['zlib 1', (b) => zlib.deflateSync(b, { level: 1 }), exact(zlib.inflateSync)],
  ['raw deflate 1', (b) => zlib.deflateRawSync(b, { level: 1 }), exact(zlib.inflateRawSync)],
  ['brotli 0', brotli(0), exact(zlib.brotliDecompressSync)],
  ['brotli 1', brotli(1), exact(zlib.brotliDecompressSync)],
  ['brotli 2', brotli(2), exact(zlib.brotliDecompressSync)],
];
function shuffle(b) {
  const n = b.length / 8;
  const o = Buffer.allocUnsafe(b.length);
  for (let k = 0; k < 8; k++) for (let i = 0; i < n; i++) o[k * n + i] = b[i * 8 + k];
  return o;
}

const rows = [];
function measure(label, bytes) {
  for (const [name, enc, dec] of CODECS) {
    const c = best(() => enc(bytes));
    const d = best(() => dec(c.out, bytes.length));
    rows.push([label, name, c.ms.toFixed(1), d.ms.toFixed(1), `${(c.out.length / 1e6).toFixed(3)} MB (${((100 * c.out.length) / bytes.length).toFixed(0)} %)`]);
  }
}
measure('number[] LCG, V8 payload', v8.serialize(lcg));
for (const [label, values] of [['LCG', lcg], ['53-bit doubles', doubles]]) {
  const raw = Buffer.from(Float64Array.from(values).buffer);
  measure(`${label} as float64`, raw);
  const s = best(() => shuffle(raw));
  measure(`${label} as float64, shuffled (shuffle ${s.ms.toFixed(1)} ms)`, s.out);
}
const bits20 = Buffer.from(Float64Array.from(doubles, (d) => Math.floor(d * 2 ** 20) / 2 ** 20).buffer);
measure('doubles with 20 random bits as float64, shuffled', shuffle(bits20));
measure('20,000 small objects, V8 payload', v8.serialize(objs));
measure('20,000 short strings, V8 payload', v8.serialize(strs));

const head = ['data', 'codec', 'compress ms', 'decompress ms', 'size'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => (i >= 2 && i <= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
console.log([line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n'));
