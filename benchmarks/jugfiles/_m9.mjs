import { init, value, FileStore } from 'jug';
const [jugfile, jugdir, mode] = process.argv.slice(2);
const { exports } = await init(jugfile, { jugdir });
const tasks = exports.doubled;
const hashes = tasks.map(t => t.hash());
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
let c = cpu();
const store = new FileStore(jugdir);
await store.load(hashes[0]);
const first = cpu() - c; c = cpu();
if (mode === 'value') await value(tasks); else if (mode === 'loop') { for (const h of hashes) await store.load(h); } else { await Promise.all(hashes.map(h => store.load(h))); }
const rest = cpu() - c;
console.log(first.toFixed(1), rest.toFixed(1));
