/**
 * DOT → SVG without a system Graphviz: Graphviz compiled to WebAssembly (@viz-js/viz), loaded on
 * first use (about 90 ms) and kept for the process. `jug graph` uses it when `dot` is not on PATH;
 * `jug webstatus` draws its graph with it.
 */
import type { Viz } from '@viz-js/viz';

let viz: Promise<Viz> | undefined;

/** The SVG document Graphviz draws from `dot` (throws with Graphviz's messages if it does not parse). */
export async function renderSvg(dot: string): Promise<string> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  const result = (await viz).render(dot, { format: 'svg' });
  if (result.status !== 'success') {
    const errors = result.errors.map((e) => e.message).join('; ');
    throw new Error(`Graphviz (WebAssembly) could not draw the graph: ${errors || 'no output'}`);
  }
  return result.output;
}
