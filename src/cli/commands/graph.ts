/**
 * `jug graph`: the jugfile's task graph by task NAME (one node per name, an edge where tasks of
 * one name use results of another), with status counts per node, as Graphviz DOT and Mermaid
 * text, and rendered to SVG / PNG by Graphviz `dot` when it is installed; without it, SVG is
 * drawn by Graphviz compiled to WebAssembly (src/render-svg.ts), and only PNG needs `dot`.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { extname, isAbsolute, relative } from 'node:path';
import type { TaskGraph } from '../../graph.js';
import { barrierNote, openProject, type CommonOptions } from '../common.js';
import { JugError, describeError } from '../../errors.js';
import { renderSvg } from '../../render-svg.js';
import { FAILED, FINISHED, READY, RUNNING, STATUS_COLUMNS, classify, statusByName } from '../status-counts.js';

/** Output formats of `jug graph` (validated by `--format`'s parser in main.ts). */
export const GRAPH_FORMATS = ['dot', 'mermaid', 'svg', 'png'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

const EXTENSION: Record<GraphFormat, string> = { dot: '.dot', mermaid: '.mmd', svg: '.svg', png: '.png' };

/** Options of `jug graph`. */
export interface GraphOptions extends CommonOptions {
  /**
   * Formats to write. @default dot, mermaid and svg (svg by Graphviz `dot` when installed, else by
   * the built-in WebAssembly Graphviz; png needs `dot`: without it, asking for png is an error)
   */
  format?: GraphFormat[];
  /** Path of the output files without extension. @default the jugfile's path without extension */
  output?: string;
  /** Status counts in the nodes (commander sets false for `--no-status`). @default true */
  status?: boolean;
}

/** One node per task name, in order of first appearance in the graph (dependencies first). */
export interface NameGraph {
  readonly names: readonly string[];
  /** `[from, to]` indices into `names`: tasks of `to` use results of tasks of `from`. Sorted, distinct. */
  readonly edges: readonly (readonly [number, number])[];
  /** Status counts per name (STATUS_COLUMNS order), or undefined without status. */
  readonly counts?: ReadonlyMap<string, readonly number[]>;
}

/** Collapses the task graph to task names. */
export function nameGraph(graph: TaskGraph, counts?: ReadonlyMap<string, readonly number[]>): NameGraph {
  const index = new Map<string, number>();
  for (const t of graph.tasks) if (!index.has(t.name)) index.set(t.name, index.size);
  const edges = new Set<string>();
  graph.deps.forEach((ds, i) => {
    const to = index.get(graph.tasks[i]!.name)!;
    for (const d of ds) edges.add(`${index.get(graph.tasks[d]!.name)!},${to}`);
  });
  const pairs = [...edges]
    .map((e) => e.split(',').map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { names: [...index.keys()], edges: pairs, ...(counts === undefined ? {} : { counts }) };
}

type NodeState = 'failed' | 'running' | 'finished' | 'ready' | 'waiting';

const FILL: Record<NodeState, string> = {
  failed: '#f4c7c3',
  running: '#fce8b2',
  finished: '#b7e1cd',
  ready: '#c6dafc',
  waiting: '#eeeeee',
};

/** The colour-deciding state of a node: any failed, else any running, all finished, any ready, waiting. */
function nodeState(c: readonly number[]): NodeState {
  const total = c.reduce((a, b) => a + b, 0);
  if (c[FAILED]! > 0) return 'failed';
  if (c[RUNNING]! > 0) return 'running';
  if (c[FINISHED] === total) return 'finished';
  if (c[READY]! > 0) return 'ready';
  return 'waiting';
}

/** `99 tasks: 3 finished, 96 ready` (zero counts left out). */
function countsLine(c: readonly number[]): string {
  const total = c.reduce((a, b) => a + b, 0);
  const parts = STATUS_COLUMNS.map((col, k) => [col.toLowerCase(), c[k]!] as const)
    .filter(([, n]) => n > 0)
    .map(([col, n]) => `${n} ${col}`);
  return `${total} ${total === 1 ? 'task' : 'tasks'}: ${parts.join(', ')}`;
}

const dotString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Graphviz DOT text. */
export function toDot(g: NameGraph): string {
  const lines = [
    'digraph jug {',
    '  rankdir=LR;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
  ];
  for (const name of g.names) {
    const c = g.counts?.get(name);
    if (c === undefined) {
      lines.push(`  ${dotString(name)};`);
    } else {
      const label = `${dotString(name).slice(0, -1)}\\n${countsLine(c)}"`;
      lines.push(`  ${dotString(name)} [label=${label}, fillcolor="${FILL[nodeState(c)]}"];`);
    }
  }
  for (const [a, b] of g.edges) lines.push(`  ${dotString(g.names[a]!)} -> ${dotString(g.names[b]!)};`);
  lines.push('}', '');
  return lines.join('\n');
}

const mermaidText = (s: string): string =>
  s.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');

/** Mermaid flowchart text. */
export function toMermaid(g: NameGraph): string {
  const lines = ['flowchart LR'];
  g.names.forEach((name, i) => {
    const c = g.counts?.get(name);
    const label = c === undefined ? mermaidText(name) : `${mermaidText(name)}<br/>${mermaidText(countsLine(c))}`;
    lines.push(`  n${i}["${label}"]`);
  });
  for (const [a, b] of g.edges) lines.push(`  n${a} --> n${b}`);
  if (g.counts !== undefined) {
    const used = new Map<NodeState, number[]>();
    g.names.forEach((name, i) => {
      const s = nodeState(g.counts!.get(name)!);
      used.set(s, [...(used.get(s) ?? []), i]);
    });
    for (const [s, ids] of used) {
      lines.push(`  classDef ${s} fill:${FILL[s]},stroke:#666`);
      lines.push(`  class ${ids.map((i) => `n${i}`).join(',')} ${s}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

const INSTALL_HINT =
  'Install Graphviz to render it (Debian/Ubuntu: `apt-get install graphviz`; Fedora: `dnf install graphviz`; ' +
  'macOS: `brew install graphviz`; others: https://graphviz.org/download/)';

export async function graph(jugfile: string | undefined, options: GraphOptions): Promise<number> {
  const project = await openProject(jugfile, options);
  const { store } = project;
  let counts: Map<string, number[]> | undefined;
  if (options.status !== false) counts = statusByName(project.graph, await classify(project.graph, store, project.stored));
  await store.close();
  const g = nameGraph(project.graph, counts);
  // Tasks after an unpassed barrier are not known: say that the graph stops there, as status does.
  if (project.barrier !== undefined) process.stderr.write(barrierNote(project.barrier));

  const explicit = options.format !== undefined && options.format.length > 0;
  const formats = new Set<GraphFormat>(explicit ? options.format : ['dot', 'mermaid', 'svg']);
  const renders = (['svg', 'png'] as const).filter((f) => formats.has(f));
  const base = options.output ?? stripExtension(project.jugfile);
  // As given when -o is absolute; else relative to the current directory.
  const shown = (f: GraphFormat): string =>
    isAbsolute(base) && options.output !== undefined ? base + EXTENSION[f] : relative(process.cwd(), base + EXTENSION[f]) || base + EXTENSION[f];
  const write = (f: GraphFormat, text: string): void => {
    try {
      writeFileSync(base + EXTENSION[f], text);
    } catch (e) {
      throw new JugError(`Could not write ${base + EXTENSION[f]}: ${describeError(e)}. Check that its directory exists and is writable, or choose another with -o.`);
    }
    process.stdout.write(`Wrote ${shown(f)}\n`);
  };

  const dot = toDot(g);
  // The DOT source is written whenever something is rendered from it, so that it can be rendered
  // elsewhere if that fails.
  if (formats.has('dot') || renders.length > 0) write('dot', dot);
  if (formats.has('mermaid')) write('mermaid', toMermaid(g));
  for (const f of renders) {
    const r = spawnSync('dot', [`-T${f}`, '-o', base + EXTENSION[f]], { input: dot, encoding: 'utf8' });
    if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (f === 'svg') {
        // No system Graphviz: the same layout engine, compiled to WebAssembly, draws the SVG.
        write('svg', await renderSvg(dot));
        continue;
      }
      process.stderr.write(
        `jug: Graphviz \`dot\` is not on PATH, so no PNG was rendered; ${shown('dot')} is written` +
          `${formats.has('svg') ? ` and ${shown('svg')} too` : ' (SVG needs no Graphviz: --format svg)'}. ${INSTALL_HINT}.\n`,
      );
      return 1;
    }
    if (r.error !== undefined || r.status !== 0) {
      process.stderr.write(
        `jug: Graphviz \`dot -T${f}\` failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr ?? ''}`.trimEnd() +
          `\n${shown('dot')} is written; render it with \`dot -T${f} ${shown('dot')} -o ${shown(f)}\`.\n`,
      );
      return 1;
    }
    process.stdout.write(`Wrote ${shown(f)}\n`);
  }
  return 0;
}

function stripExtension(path: string): string {
  const ext = extname(path);
  return ext ? path.slice(0, -ext.length) : path;
}
