/**
 * The page's files, built by scripts/build.mjs into dist/web (the page's TypeScript bundled with
 * uPlot, its CSS, index.html): read once at start and served from memory. Nothing comes from
 * another site, so the page works offline.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { JugError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';

/** One file to serve. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** Where the built page is. */
export const WEB_DIR = join(PACKAGE_ROOT, 'dist', 'web');

/** URL path → file, `/` being index.html. Source maps are left out. */
export function loadAssets(dir = WEB_DIR): Map<string, Asset> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new JugError(`The web page's files are missing (${dir}): build jug first (\`npm run build\`).`);
  }
  const out = new Map<string, Asset>();
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue;
    const asset = { type, body: readFileSync(join(dir, name)) };
    out.set(`/${name}`, asset);
    if (name === 'index.html') out.set('/', asset);
  }
  return out;
}
