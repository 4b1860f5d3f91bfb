/**
 * The HTTP server of `jug webstatus`: the page's files, the snapshot as JSON (/api/status), its
 * changes as Server-Sent Events (/events) and the graph as SVG (/graph.svg). Read-only (GET and
 * HEAD; anything else 405), the Host header checked (security.ts), every response with a strict
 * Content-Security-Policy.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JugError } from '../errors.js';
import type { Asset } from './assets.js';
import type { Monitor } from './monitor.js';
import { READ_METHODS, SECURITY_HEADERS, hostAllowed } from './security.js';
import { SSE_HEADERS, SSE_KEEPALIVE, SseStreams, sseFrame } from './sse.js';

/** How often an idle event stream gets a comment line. */
const KEEPALIVE_MS = 15_000;

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly monitor: Monitor;
  readonly assets: ReadonlyMap<string, Asset>;
}

/** A started server. */
export interface WebServer {
  /** The page's address, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  readonly address: string;
  readonly port: number;
  /** Ends every stream and stops listening. */
  close(): Promise<void>;
}

/** Starts listening; a port in use or an address that cannot be bound is a JugError naming it. */
export async function startServer(options: ServerOptions): Promise<WebServer> {
  const streams = new SseStreams();
  let bound = { address: options.host, port: options.port };
  const server = createServer((req, res) => {
    handle(req, res, { ...options, bound, streams }).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `Internal error: ${(e as Error).message}\n`);
      else res.end();
    });
  });
  await listen(server, options.host, options.port);
  const info = server.address() as AddressInfo;
  bound = { address: info.address, port: info.port };
  const shown = info.family === 'IPv6' ? `[${info.address}]` : info.address;
  return {
    url: `http://${shown}:${info.port}/`,
    address: info.address,
    port: info.port,
    close: () =>
      new Promise<void>((resolve) => {
        options.monitor.stop();
        streams.endAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const where = `${host}:${port}`;
      if (e.code === 'EADDRINUSE') {
        reject(new JugError(`Port ${port} is in use on ${host}: another program (or another jug webstatus) listens there. Choose another with --port (0: any free port).`));
      } else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
        reject(new JugError(`Cannot listen on ${where}: ${host} is not an address of this machine. Use --host 127.0.0.1 (the default) or one of its addresses.`));
      } else if (e.code === 'EACCES') {
        reject(new JugError(`Not allowed to listen on ${where} (ports below 1024 need privileges). Choose another with --port.`));
      } else {
        reject(new JugError(`Cannot listen on ${where}: ${e.message}`));
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

interface Context extends ServerOptions {
  readonly bound: { readonly address: string; readonly port: number };
  readonly streams: SseStreams;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const method = req.method ?? 'GET';
  if (!READ_METHODS.includes(method)) {
    res.setHeader('Allow', READ_METHODS.join(', '));
    return send(res, 405, 'text/plain; charset=utf-8', `${method} is not allowed: this page is read-only.\n`);
  }
  if (!hostAllowed(req.headers.host, ctx.bound)) {
    return send(res, 421, 'text/plain; charset=utf-8', 'Unexpected Host header: open the page by the address jug webstatus printed.\n');
  }
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const head = method === 'HEAD';
  if (path === '/events') return openStream(req, res, ctx, head);
  if (path === '/api/status') return send(res, 200, 'application/json; charset=utf-8', (await ctx.monitor.latest()).json, head);
  if (path === '/graph.svg') {
    await ctx.monitor.latest();
    return send(res, 200, 'image/svg+xml', ctx.monitor.svg, head);
  }
  const asset = ctx.assets.get(path);
  if (asset !== undefined) return send(res, 200, asset.type, asset.body, head);
  return send(res, 404, 'text/plain; charset=utf-8', 'Not found.\n', head);
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head = false): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': bytes.length });
  res.end(head ? undefined : bytes);
}

/** An event stream: the current snapshot at once, then each change; a comment line when idle. */
function openStream(req: IncomingMessage, res: ServerResponse, ctx: Context, head: boolean): void {
  res.writeHead(200, { ...SECURITY_HEADERS, ...SSE_HEADERS });
  if (head) {
    res.end();
    return;
  }
  req.socket.setNoDelay(true);
  const keepalive = setInterval(() => res.write(SSE_KEEPALIVE), KEEPALIVE_MS);
  let unsubscribe = (): void => {};
  ctx.streams.add(res, () => {
    clearInterval(keepalive);
    unsubscribe();
  });
  unsubscribe = ctx.monitor.subscribe((p) => res.write(sseFrame('snapshot', p.json)));
}
