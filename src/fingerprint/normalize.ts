/**
 * The normal form of a piece of code, so that a fingerprint ignores what does not change what the
 * code does: comments, whitespace, formatting, and the names of local variables and parameters.
 * acorn parses the code and gives its tokens (comments and whitespace are not tokens); the normal
 * form is the token sequence, one space apart, where
 * - semicolons inserted automatically (ASI) are written, and a trailing comma before `)`, `]`, `}`
 *   is dropped, so a formatter adding or removing them changes nothing;
 * - string literals are written in one quoting style (`'a'` and `"a"` are the same);
 * - every name the code declares itself (parameters, locals, inner functions and classes) is
 *   renamed by order of first appearance (`$0`, `$1`, …): the form does not depend on what they
 *   were called. Names the code takes from outside (module-level helpers, globals) and property
 *   names are kept: referring to another helper is a change. A shorthand property `{ total }`
 *   keeps its key (`total : $3`), which is part of the result.
 * No esbuild here (the file's types were stripped before, once per file: module-index.ts): a
 * definition costs a parse, well under a millisecond.
 */
import { parse, type Node, type Token } from 'acorn';
import { full } from 'acorn-walk';

/** What a snippet is, which decides how it is wrapped to be parsed. */
export type SnippetKind = 'function' | 'class' | 'declaration';

/**
 * The normal form of `source`: a function (declaration or expression, arrow included), a class,
 * or a variable declarator (`FACTOR = 3`, `{ a, b } = config`), all plain JavaScript.
 */
export function normalizeCode(source: string, kind: SnippetKind): string {
  // A declarator becomes a local of a function: its value's code is kept, its name renamed like
  // any local (what names it is the declaration's key, not its code). Parsed as a module, so
  // `import.meta` and top-level `await` in it parse.
  const wrapped = kind === 'declaration' ? `(function(){let ${source}\n;})` : `(${source}\n)`;
  const tokens: Token[] = [];
  const inserted = new Set<number>();
  const program = parse(wrapped, {
    ecmaVersion: 'latest',
    sourceType: 'module',
    onToken: tokens,
    onInsertedSemicolon: (lastTokEnd) => inserted.add(lastTokEnd),
  });
  const spots = renamedSpots(program);
  const out: string[] = [];
  tokens.forEach((tok, k) => {
    if (tok.type.label === 'eof') return;
    if (tok.type.label === ',' && /^[)\]}]$/.test(tokenText(wrapped, tokens[k + 1]))) return; // trailing comma
    const spot = spots.get(tok.start);
    if (spot !== undefined) out.push(spot);
    else if (tok.type.label === 'string') out.push(JSON.stringify((tok as Token & { value: unknown }).value));
    else out.push(wrapped.slice(tok.start, tok.end));
    if (inserted.has(tok.end)) out.push(';');
  });
  return out.join(' ');
}

function tokenText(code: string, tok: Token | undefined): string {
  return tok === undefined ? '' : code.slice(tok.start, tok.end);
}

/** The node fields read here. */
interface AnyNode extends Node {
  readonly name?: string;
  readonly id?: AnyNode | null;
  readonly key?: AnyNode;
  readonly value?: AnyNode;
  readonly property?: AnyNode;
  readonly computed?: boolean;
  readonly shorthand?: boolean;
}

/**
 * Start offset → replacement, for every identifier naming something the code declares itself:
 * `$<n>`, numbered by first appearance (a shorthand property's `key:$<n>`). Property names
 * (`a.b`, `{ b: 1 }`, methods) are not references and keep their text.
 */
function renamedSpots(program: Node): Map<number, string> {
  const declared = new Set<string>();
  const notReferences = new Set<Node>();
  const shorthand = new Set<number>();
  full(program, (node, _state, type) => {
    const n = node as AnyNode;
    if (type === 'VariablePattern' && n.type === 'Identifier') declared.add(n.name!);
    if ((n.type.startsWith('Function') || n.type.startsWith('Class')) && n.id) declared.add(n.id.name!);
    if (n.type === 'MemberExpression' && !n.computed && n.property !== undefined) notReferences.add(n.property);
    if ((n.type === 'Property' || n.type === 'MethodDefinition' || n.type === 'PropertyDefinition') && !n.computed && n.key !== undefined) {
      if (n.shorthand && n.value !== undefined) shorthand.add(n.value.start);
      else notReferences.add(n.key);
    }
  });
  const found: AnyNode[] = [];
  full(program, (node) => {
    const n = node as AnyNode;
    if (n.type === 'Identifier' && declared.has(n.name!) && !notReferences.has(n)) found.push(n);
  });
  found.sort((a, b) => a.start - b.start);
  const numbers = new Map<string, number>();
  const spots = new Map<number, string>();
  for (const id of found) {
    if (spots.has(id.start)) continue; // a shorthand property's key and value: one identifier
    let k = numbers.get(id.name!);
    if (k === undefined) numbers.set(id.name!, (k = numbers.size));
    spots.set(id.start, shorthand.has(id.start) ? `${id.name} : $${k}` : `$${k}`);
  }
  return spots;
}
