/**
 * Stack traces as the user should see them: frames in the user's own files (the jugfile, the
 * modules it imports, its packages), mapped to their TypeScript lines, without the frames of jug
 * itself (its `dist/` or `src/` files, the piscina thread pool) nor Node's internals.
 *
 * Jugfiles run from an esbuild bundle with an inline source map (bundle.ts), imported after
 * `process.setSourceMapsEnabled(true)` (jugfile.ts, worker.ts): V8 then reports the original
 * files and lines itself. A frame that still names a bundle (a stack formatted without source
 * maps enabled) is mapped here through the bundle's source map, when Node has it.
 */
import { findSourceMap } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from './package-root.js';

/** Options of {@link userStack}. */
export interface UserStackOptions {
  /** Root of the jug installation whose frames are removed. @default this package's root */
  readonly root?: string;
}

/** One `    at …` line, split into its parts. */
interface Frame {
  /** Text before the location: `    at fn (` or `    at `. */
  readonly head: string;
  /** The location as written: a path, a file URL, `node:…`, `REPL3`, `<anonymous>`, `native`. */
  readonly where: string;
  readonly line?: number;
  readonly column?: number;
  /** Text after the location: `)` or ``. */
  readonly tail: string;
}

const FRAME_LINE = /^(\s*at (?:.*? \()?)(.+?)(?::(\d+))?(?::(\d+))?(\)?)$/;

function parseFrame(text: string): Frame | undefined {
  if (!/^\s*at /.test(text)) return undefined;
  const m = FRAME_LINE.exec(text);
  if (m === null) return undefined;
  return {
    head: m[1]!,
    where: m[2]!,
    line: m[3] === undefined ? undefined : Number(m[3]),
    column: m[4] === undefined ? undefined : Number(m[4]),
    tail: m[5]!,
  };
}

/** The file path of a frame location (a file URL's query, `?jug-load=2`, dropped). */
function fileOf(where: string): string {
  if (!where.startsWith('file://')) return where;
  try {
    return fileURLToPath(where.replace(/\?.*$/, ''));
  } catch {
    return where;
  }
}

/** A frame with no file of its own (`<anonymous>`, `native`): it belongs where its caller is. */
function isNative(frame: Frame): boolean {
  return frame.line === undefined && (frame.where === '<anonymous>' || frame.where === 'native');
}

/** Whether a frame's location is jug's own code, the thread pool's, or Node's internals. */
function isInternal(where: string, root: string): boolean {
  if (where.startsWith('node:internal/') || where.startsWith('internal/')) return true;
  const file = fileOf(where);
  if (file.includes(`${sep}node_modules${sep}piscina${sep}`)) return true;
  return file.startsWith(`${root}${sep}dist${sep}`) || file.startsWith(`${root}${sep}src${sep}`);
}

/** A frame naming a jugfile bundle (bundle.ts's cache or temporary directory). */
function isBundle(where: string): boolean {
  return /[\\/]jug-bundles?-[^\\/]+[\\/][^\\/]+\.mjs(\?.*)?$/.test(where);
}

/** `frame` mapped through its bundle's source map to the original file and line, if Node has the map. */
function mapBundleFrame(frame: Frame): Frame {
  if (frame.line === undefined || !isBundle(frame.where)) return frame;
  const map = findSourceMap(frame.where) ?? findSourceMap(frame.where.replace(/\?.*$/, ''));
  const entry = map?.findEntry(frame.line - 1, (frame.column ?? 1) - 1) as
    | { originalSource?: string; originalLine?: number; originalColumn?: number }
    | undefined;
  if (entry?.originalSource === undefined || entry.originalLine === undefined) return frame;
  return {
    ...frame,
    where: fileOf(entry.originalSource),
    line: entry.originalLine + 1,
    column: (entry.originalColumn ?? 0) + 1,
  };
}

function formatFrame(f: Frame): string {
  const position = f.line === undefined ? '' : `:${f.line}${f.column === undefined ? '' : `:${f.column}`}`;
  return `${f.head}${f.where}${position}${f.tail}`;
}

/**
 * The user's view of a stack trace (`error.stack`): the message lines as they are, frames in
 * bundles mapped to the user's files and lines, and jug's internal frames removed — jug's
 * `dist/` and `src/` files, the thread pool (piscina), Node's `node:internal/…` — as are native
 * frames (`Array.map (<anonymous>)`) called from them. The first frame is always kept, so a stack
 * made only of jug's frames still says where it was raised. Plain text in, plain text out, so it
 * chains with other rewrites; applying it twice changes nothing more.
 *
 * @example
 * process.stderr.write(userStack(error.stack ?? String(error)) + '\n');
 */
export function userStack(stack: string, options: UserStackOptions = {}): string {
  const root = options.root ?? PACKAGE_ROOT;
  const lines = stack.split('\n');
  const frames = lines.map((l) => {
    const f = parseFrame(l);
    return f === undefined ? undefined : mapBundleFrame(f);
  });
  // Whether each frame is internal; a native frame is as its caller (the next frame down).
  const internal: boolean[] = new Array<boolean>(lines.length).fill(false);
  let below = false;
  for (let i = lines.length - 1; i >= 0; i--) {
    const f = frames[i];
    if (f === undefined) continue;
    internal[i] = isNative(f) ? below : isInternal(f.where, root);
    below = internal[i]!;
  }
  // Only jug's frames: the first stays, to say where the error was raised.
  const first = internal.some((x, i) => !x && frames[i] !== undefined) ? -1 : frames.findIndex((f) => f !== undefined);
  return lines
    .flatMap((text, i) => {
      const f = frames[i];
      if (f === undefined) return [text];
      if (internal[i] && i !== first) return [];
      return [formatFrame(f)];
    })
    .join('\n');
}

/** {@link userStack} of any thrown value: its stack, or `name: message`, or the value as text. */
export function userStackOf(e: unknown, options: UserStackOptions = {}): string {
  if (e instanceof Error) return userStack(e.stack ?? `${e.name}: ${e.message}`, options);
  return String(e);
}
