// Loads every result of a jugfile's exported `doubled` (tiny.ts: 5,000 results) with value(), as a
// script using jug would; prints JSON { loaded, loadMs } (loadMs: the loads alone, after init()).
//   node benchmarks/pack-load.mjs <jugfile> <jugdir>
import { init, value } from 'jug';

const [jugfile, jugdir] = process.argv.slice(2);
const { exports } = await init(jugfile, { jugdir });
const start = performance.now();
const values = await value(exports.doubled);
const loadMs = performance.now() - start;
console.log(JSON.stringify({ loaded: values.length, loadMs }));
