#!/usr/bin/env node
// Thin shim: all logic lives in dist/cli/main.js (built by `npm install` / `npm run build`).
import module from 'node:module';

// Node ≥ 22.1 keeps V8's compiled code of the modules it loads on disk between runs (the OS temp
// directory; NODE_DISABLE_COMPILE_CACHE=1 turns it off). Node 20 has no such call: nothing happens.
module.enableCompileCache?.();

const { main, endsAtOnce, endProcess } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
// Read-only commands end here, without waiting for the event loop (see ENDS_AT_ONCE in src/cli/main.ts).
if (endsAtOnce()) await endProcess(process.exitCode);
