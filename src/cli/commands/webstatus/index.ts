/**
 * `jug webstatus`: a live page of the run in a browser (src/web/ serves it). Loads the jugfile,
 * starts the server on 127.0.0.1 (or --host, with a warning), prints the address, optionally
 * opens it, and serves until Ctrl-C / SIGTERM, which stop it cleanly (exit 0).
 */
import { isIP } from 'node:net';
import { openProject, type CommonOptions } from '../../common.js';
import { loadAssets } from '../../../web/assets.js';
import { Monitor } from '../../../web/monitor.js';
import { startServer } from '../../../web/server.js';
import { openBrowser } from './open-browser.js';

/** Options of `jug webstatus`. */
export interface WebstatusOptions extends CommonOptions {
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port (0: any free one). @default 8080 */
  port?: number;
  /** Open the page in the default browser. @default false */
  open?: boolean;
  /** Seconds between looks at the store. @default 1 */
  interval?: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function webstatus(jugfile: string | undefined, options: WebstatusOptions): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const assets = loadAssets();
  const project = await openProject(jugfile, options);
  const monitor = new Monitor(project, options, Math.round((options.interval ?? 1) * 1000));
  let server;
  try {
    server = await startServer({ host, port: options.port ?? 8080, monitor, assets });
  } catch (e) {
    await project.store.close();
    throw e;
  }
  if (!LOOPBACK.has(host)) {
    process.stderr.write(
      `jug: warning: listening on ${host}${isIP(host) === 0 ? '' : ' (not only this machine)'}: the page shows task names, ` +
        'arguments, hosts and error messages (with stacks) to anyone who can reach this address. There is no login; ' +
        'use the default --host 127.0.0.1 with an SSH tunnel to share it safely.\n',
    );
  }
  process.stdout.write(`jug webstatus: ${server.url} (${project.store.location}); Ctrl-C stops it.\n`);
  if (options.open) {
    const why = openBrowser(server.url);
    if (why !== undefined) process.stderr.write(`jug: --open: cannot open a browser: ${why}. Open ${server.url} yourself.\n`);
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await server.close();
  await monitor.store.close();
  process.stdout.write(`jug webstatus: stopped (${signal}).\n`);
  return 0;
}
