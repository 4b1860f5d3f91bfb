/**
 * The normal form of a piece of code, so that a fingerprint ignores what does not change what the
 * code does: comments, whitespace, formatting, and the names of local variables and parameters.
 * esbuild prints the code minified (whitespace and comments removed); then every name the code
 * declares itself (parameters, locals, inner functions) is renamed by order of first appearance,
 * so the form does not depend on what they were called (esbuild's own short names depend on the
 * letters of the original names). Names the code takes from outside (module-level helpers,
 * globals, properties) are kept: referring to another helper is a change.
 */
import { parse, type Node } from 'acorn';
import { full } from 'acorn-walk';
import { transformSync } from 'esbuild';

/** What a snippet is, which decides how it is wrapped to be an expression esbuild can print. */
export type SnippetKind = 'function' | 'class' | 'declaration';

/**
 * The normal form of `source`: a function (declaration or expression, arrow included), a class,
 * or a variable declarator (`FACTOR = 3`, `{ a, b } = config`), all plain JavaScript.
 */
export function normalizeCode(source: string, kind: SnippetKind): string {
  // A declarator becomes a local of a function: its value's code is kept, its name renamed like
  // any local (what names it is the declaration's key, not its code).
  const wrapped = kind === 'declaration' ? `(function(){let ${source};})` : `(${source})`;
  const minified = transformSync(wrapped, {
    loader: 'js',
    minifyWhitespace: true,
    minifyIdentifiers: true,
    minifySyntax: false,
    legalComments: 'none',
    charset: 'utf8',
  }).code.trim();
  return renameDeclared(minified);
}

/** The node fields read here. */
interface IdNode extends Node {
  readonly name: string;
}

/**
 * `code` with every name it declares replaced by `$<n>`, numbered by first appearance. esbuild
 * gives two symbols one short name only when they share a slot (a structural fact), so this
 * renaming depends on the code's structure alone.
 */
function renameDeclared(code: string): string {
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'script' });
  const declared = new Set<string>();
  full(program, (node, _state, type) => {
    if (type === 'VariablePattern' && node.type === 'Identifier') declared.add((node as IdNode).name);
    const id = (node as Node & { id?: IdNode | null }).id;
    if ((node.type.startsWith('Function') || node.type.startsWith('Class')) && id) declared.add(id.name);
  });
  const spots: IdNode[] = [];
  full(program, (node) => {
    if (node.type === 'Identifier' && declared.has((node as IdNode).name)) spots.push(node as IdNode);
  });
  spots.sort((a, b) => a.start - b.start);
  const numbers = new Map<string, number>();
  let out = '';
  let at = 0;
  for (const spot of spots) {
    if (spot.start < at) continue; // a shorthand property's key and value: one spot
    let n = numbers.get(spot.name);
    if (n === undefined) numbers.set(spot.name, (n = numbers.size));
    out += code.slice(at, spot.start) + `$${n}`;
    at = spot.end;
  }
  return out + code.slice(at);
}
