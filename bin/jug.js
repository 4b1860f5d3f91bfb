#!/usr/bin/env node
// Thin shim: all logic lives in dist/cli/main.js (built by `npm install` / `npm run build`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
