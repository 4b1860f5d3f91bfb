import { init, value, FileStore } from 'jug';
const [jugfile, jugdir, mode] = process.argv.slice(2);
const { exports } = await init(jugfile, { jugdir });
const tasks = exports.doubled;
const hashes = tasks.map(t => t.hash());
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const store = new FileStore(jugdir);
await store.load(hashes[0]);
let c = cpu();
const m = new Map(hashes.map((h, i) => [h, i]));
async function f(h) { return m.get(h); }
if (mode === 'floor') await Promise.all(hashes.map(f));
else if (mode === 'has') await Promise.all(hashes.map(h => store.has(h)));
else if (mode === 'load') await Promise.all(hashes.map(h => store.load(h)));
console.log((cpu() - c).toFixed(1));
