/**
 * What a jugfile module defines, found statically: its top-level declarations (functions,
 * classes, variables) and its named functions anywhere (`TaskGenerator(function isPrime(n) {…})`
 * names one inside a call), each with its code in normal form and the names it uses. Parsed from
 * the file itself, not from the running functions' `toString()`, which differs between the
 * loaders (tsx in the main thread, an esbuild bundle in worker threads).
 */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse, type Node } from 'acorn';
import { full } from 'acorn-walk';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { cacheDir, cacheWrite } from '../bundle.js';
import { normalizeCode, type SnippetKind } from './normalize.js';

/** One definition: its code in normal form, the names it uses, and where it starts in the file. */
export interface Definition {
  readonly code: string;
  readonly uses: ReadonlySet<string>;
  readonly line: number;
}

/** The definitions of one module. */
export interface ModuleIndex {
  /** Top-level declarations by name (a destructuring declarator under each name it declares). */
  readonly topLevel: ReadonlyMap<string, Definition>;
  /** Named functions anywhere in the module, by name (the first of a name wins). */
  readonly functions: ReadonlyMap<string, Definition>;
}

const cache = new Map<string, { readonly mtimeMs: number; readonly index: ModuleIndex }>();

/** The index of the module at `file` (cached while the file is unchanged); undefined if it cannot be read or parsed. */
export function moduleIndex(file: string): ModuleIndex | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const hit = cache.get(file);
  if (hit !== undefined && hit.mtimeMs === mtimeMs) return hit.index;
  let index: ModuleIndex | undefined;
  try {
    index = indexSource(readFileSync(file, 'utf8'), extname(file));
  } catch {
    return undefined; // not parsable here: the caller falls back
  }
  cache.set(file, { mtimeMs, index });
  return index;
}

/**
 * As {@link moduleIndex}, with esbuild's asynchronous API, which reuses the esbuild service the
 * jugfile's bundling started (a few ms) where the first synchronous call starts one of its own
 * (~100–150 ms measured here). Fills the same cache.
 */
export async function moduleIndexAsync(file: string): Promise<ModuleIndex | undefined> {
  let mtimeMs: number;
  let source: string;
  try {
    mtimeMs = statSync(file).mtimeMs;
    const hit = cache.get(file);
    if (hit !== undefined && hit.mtimeMs === mtimeMs) return hit.index;
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let index: ModuleIndex;
  try {
    const loader = loaderFor(extname(file));
    const js = loader === 'js' ? source : (strippedCached(source, loader) ?? (await strippedAsync(source, loader)));
    index = indexJs(js, source);
  } catch {
    return undefined; // not parsable here: moduleIndex() will say the same
  }
  cache.set(file, { mtimeMs, index });
  return index;
}

type Loader = 'ts' | 'tsx' | 'js' | 'jsx';

function loaderFor(ext: string): Loader {
  if (ext === '.ts' || ext === '.mts' || ext === '.cts') return 'ts';
  if (ext === '.tsx') return 'tsx';
  if (ext === '.jsx') return 'jsx';
  return 'js';
}

/** Indexes module source (TypeScript or JavaScript, by the file's extension). */
export function indexSource(source: string, ext: string): ModuleIndex {
  const loader = loaderFor(ext);
  const js = loader === 'js' ? source : strippedTypes(source, loader);
  return indexJs(js, source);
}

/** Indexes `js`, the module's code as JavaScript (`source`: as written, for line numbers). */
function indexJs(js: string, source: string): ModuleIndex {
  const program = parse(js, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true });
  const topLevel = new Map<string, Definition>();
  const functions = new Map<string, Definition>();
  // Normal forms and lines are computed when asked for: a fingerprint reads a few definitions.
  const define = (node: Node, kind: SnippetKind, name: string): Definition => {
    let code: string | undefined;
    let uses: Set<string> | undefined;
    let line: number | undefined;
    return {
      get code() {
        return (code ??= normalizeCode(js.slice(node.start, node.end), kind));
      },
      get uses() {
        return (uses ??= namesUsed(node));
      },
      get line() {
        return (line ??= lineOf(source, name, kind === 'function'));
      },
    };
  };
  for (const statement of (program as unknown as { body: AnyNode[] }).body) {
    const decl = unwrapExport(statement);
    if (decl === undefined) continue;
    if ((decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') && decl.id?.name !== undefined) {
      topLevel.set(decl.id.name, define(decl, decl.type === 'ClassDeclaration' ? 'class' : 'function', decl.id.name));
    } else if (decl.type === 'VariableDeclaration') {
      for (const d of decl.declarations ?? []) {
        const names = patternNames(d.id);
        const def = define(d, 'declaration', names[0] ?? '');
        for (const n of names) topLevel.set(n, def);
      }
    }
  }
  full(program, (node) => {
    const found = functionName(node as AnyNode);
    const name = found === undefined ? undefined : nameAsWritten(found, source);
    if (name === undefined || functions.has(name)) return;
    const fn = (node as AnyNode).type === 'VariableDeclarator' ? (node as AnyNode).init! : (node as AnyNode);
    functions.set(name, define(fn, 'function', name));
  });
  return { topLevel, functions };
}

/**
 * TypeScript (or JSX) source as plain JavaScript, by esbuild, cached on disk by the source's hash
 * (in the bundle cache, bundle.ts): esbuild's first call in a process costs ~0.1 s (it starts its
 * service), so a jugfile unchanged since a previous command costs a file read instead.
 */
function strippedTypes(source: string, loader: Exclude<Loader, 'js'>): string {
  const cached = strippedCached(source, loader);
  if (cached !== undefined) return cached;
  const js = esbuild().transformSync(source, { loader, format: 'esm', target: 'esnext' }).code;
  storeStripped(source, loader, js);
  return js;
}

/** As strippedTypes(), with esbuild's asynchronous API (which reuses a service already started). */
async function strippedAsync(source: string, loader: Exclude<Loader, 'js'>): Promise<string> {
  const js = (await esbuild().transform(source, { loader, format: 'esm', target: 'esnext' })).code;
  storeStripped(source, loader, js);
  return js;
}

/** Loaded only when a source is not in the cache: importing esbuild costs ~35 ms. */
function esbuild(): typeof import('esbuild') {
  return createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
}

function strippedPath(source: string, loader: string): { dir: string; path: string } | undefined {
  const dir = cacheDir();
  if (dir === undefined) return undefined;
  const key = createHash('sha1').update(`${STRIP_FORMAT}\0${loader}\0${source}`).digest('hex').slice(0, 32);
  return { dir, path: join(dir, `stripped-${key}.js`) };
}

function strippedCached(source: string, loader: string): string | undefined {
  const at = strippedPath(source, loader);
  try {
    return at === undefined ? undefined : readFileSync(at.path, 'utf8');
  } catch {
    return undefined; // not cached yet
  }
}

function storeStripped(source: string, loader: string, js: string): void {
  const at = strippedPath(source, loader);
  if (at !== undefined) cacheWrite(at.dir, at.path, js);
}

/** Changes when what strippedTypes() writes changes. */
const STRIP_FORMAT = '1';

/** The acorn (ESTree) node fields this module reads. */
interface AnyNode extends Node {
  readonly id?: AnyNode | null;
  readonly name?: string;
  readonly declaration?: AnyNode | null;
  readonly declarations?: AnyNode[];
  readonly init?: AnyNode | null;
  readonly properties?: AnyNode[];
  readonly elements?: (AnyNode | null)[];
  readonly value?: AnyNode;
  readonly left?: AnyNode;
  readonly argument?: AnyNode;
}

function unwrapExport(statement: AnyNode): AnyNode | undefined {
  if (statement.type === 'ExportNamedDeclaration' || statement.type === 'ExportDefaultDeclaration') {
    return statement.declaration ?? undefined;
  }
  return statement;
}

/** The name a node gives a function: a named function, or a variable initialised with one. */
function functionName(node: AnyNode): string | undefined {
  if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression') return node.id?.name;
  if (node.type !== 'VariableDeclarator' || node.id?.type !== 'Identifier') return undefined;
  const init = node.init?.type;
  return init === 'ArrowFunctionExpression' || init === 'FunctionExpression' ? node.id.name : undefined;
}

/** Names a binding pattern declares (`a`, `{ a, b: c }`, `[x, ...rest]`). */
function patternNames(p: AnyNode | null | undefined): string[] {
  if (p === null || p === undefined) return [];
  switch (p.type) {
    case 'Identifier':
      return [p.name!];
    case 'ObjectPattern':
      return (p.properties ?? []).flatMap((prop) => patternNames(prop.type === 'RestElement' ? prop.argument : prop.value));
    case 'ArrayPattern':
      return (p.elements ?? []).flatMap((e) => patternNames(e));
    case 'AssignmentPattern':
      return patternNames(p.left);
    case 'RestElement':
      return patternNames(p.argument);
    default:
      return [];
  }
}

/** Every identifier a node mentions (references and its own bindings: a superset of what it uses). */
function namesUsed(node: Node): Set<string> {
  const out = new Set<string>();
  full(node, (n) => {
    if (n.type === 'Identifier') out.add((n as AnyNode).name!);
  });
  return out;
}

/**
 * The name a function has in the source as written: esbuild renames a function expression that
 * has the name of a binding in scope (`const other = TaskGenerator(function other…)` becomes
 * `function other2`), so `<name><digits>` that the source never declares is `<name>`.
 */
function nameAsWritten(name: string, source: string): string {
  const m = /^(.*\D)\d+$/.exec(name);
  if (m === null || declaresFunction(source, name)) return name;
  return declaresFunction(source, m[1]!) ? m[1]! : name;
}

function declaresFunction(source: string, name: string): boolean {
  return new RegExp(`function\\s*\\*?\\s*${name.replace(/[$]/g, '\\$')}\\b`).test(source);
}

/** 1-based line of the first definition of `name` in the original source (1 if not found). */
function lineOf(source: string, name: string, fn = false): number {
  if (name === '') return 1;
  const escaped = name.replace(/[$]/g, '\\$');
  // A function: its `function name` first (`const name = TaskGenerator(function name…` may span lines).
  const m =
    (fn ? new RegExp(`function\\s*\\*?\\s*${escaped}\\b`).exec(source) : null) ??
    new RegExp(`(?:function\\s*\\*?\\s*${escaped}\\b|(?:const|let|var|class)\\s+${escaped}\\b)`).exec(source);
  if (m === null) return 1;
  return source.slice(0, m.index).split('\n').length;
}
