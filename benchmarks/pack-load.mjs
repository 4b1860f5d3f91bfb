// Loads every result of a jugfile's exported `doubled` (tiny.ts: 5,000 results) with value(), as a
// script using jug would; prints JSON { loaded, loadMs, loadCpuMs } (loadMs: the loads alone, after init() and hashing).
//   node benchmarks/pack-load.mjs <jugfile> <jugdir>
import { init, value } from 'jug';

const [jugfile, jugdir] = process.argv.slice(2);
const { exports } = await init(jugfile, { jugdir });
for (const t of exports.doubled) t.hash(); // hashing is not loading: done before the clock starts
const start = performance.now();
const cpu = process.cpuUsage();
const values = await value(exports.doubled);
const used = process.cpuUsage(cpu);
const loadMs = performance.now() - start;
console.log(JSON.stringify({ loaded: values.length, loadMs, loadCpuMs: (used.user + used.system) / 1000 }));
