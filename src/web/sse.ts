/**
 * Server-Sent Events: the framing (text/event-stream) and the set of open streams one snapshot is
 * written to.
 */
import type { ServerResponse } from 'node:http';

/**
 * One event: `event: <name>` and one `data:` line per line of `data`, ended by an empty line
 * (a line break inside `data` would otherwise end the event early).
 */
export function sseFrame(event: string, data: string, id?: string): string {
  if (/[\r\n]/.test(event) || (id !== undefined && /[\r\n]/.test(id))) throw new Error('SSE event names and ids are one line');
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`);
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${lines.join('')}\n`;
}

/** A comment line: keeps an idle stream open through proxies. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';

/** The headers that open a stream; `retry` tells the browser how soon to reconnect. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** Open event streams. */
export class SseStreams {
  readonly #open = new Set<ServerResponse>();

  get size(): number {
    return this.#open.size;
  }

  /** Starts a stream on `res` (headers already set by the caller); `onClose` when the page goes. */
  add(res: ServerResponse, onClose: () => void): void {
    this.#open.add(res);
    res.write('retry: 2000\n\n');
    res.on('close', () => {
      this.#open.delete(res);
      onClose();
    });
  }

  /** Ends every stream (server stopping). */
  endAll(): void {
    for (const res of this.#open) res.end();
    this.#open.clear();
  }
}
