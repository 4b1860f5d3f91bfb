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
import { transform, transformSync } from 'esbuild';
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
    const js = loader === 'js' ? source : (await transform(source, { loader, format: 'esm', target: 'esnext' })).code;
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
  const js = loader === 'js' ? source : transformSync(source, { loader, format: 'esm', target: 'esnext' }).code;
  return indexJs(js, source);
}

/** Indexes `js`, the module's code as JavaScript (`source`: as written, for line numbers). */
function indexJs(js: string, source: string): ModuleIndex {
  const program = parse(js, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true });
  const topLevel = new Map<string, Definition>();
  const functions = new Map<string, Definition>();
  const define = (node: Node, kind: SnippetKind, name: string): Definition => ({
    code: normalizeCode(js.slice(node.start, node.end), kind),
    uses: namesUsed(node),
    line: lineOf(source, name),
  });
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
    const name = functionName(node as AnyNode);
    if (name === undefined || functions.has(name)) return;
    const fn = (node as AnyNode).type === 'VariableDeclarator' ? (node as AnyNode).init! : (node as AnyNode);
    functions.set(name, define(fn, 'function', name));
  });
  return { topLevel, functions };
}

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

/** 1-based line of the first definition of `name` in the original source (1 if not found). */
function lineOf(source: string, name: string): number {
  if (name === '') return 1;
  const escaped = name.replace(/[$]/g, '\\$');
  const m = new RegExp(`(?:function\\s*\\*?\\s*${escaped}\\b|(?:const|let|var|class)\\s+${escaped}\\b)`).exec(source);
  if (m === null) return 1;
  return source.slice(0, m.index).split('\n').length;
}
