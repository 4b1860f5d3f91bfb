/**
 * `jug graph` through the real CLI: the task-name graph as DOT and Mermaid with status counts;
 * SVG without Graphviz on PATH (the WebAssembly Graphviz jug ships), PNG only with it (hint, DOT
 * still written) and, when Graphviz is installed, rendered by `dot`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURES, makeTempDir, removeTempDir, runJug, show, type RunResult } from './helpers.js';

let tmp: string;
before(() => {
  tmp = makeTempDir('graph');
});
after(() => removeTempDir(tmp));

function expectCode(r: RunResult, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${show(r)}`);
}

function chain(dir: string): string {
  mkdirSync(join(tmp, dir));
  const jugfile = join(tmp, dir, 'chain.ts');
  copyFileSync(join(FIXTURES, 'chain.ts'), jugfile);
  return jugfile;
}

/** An environment whose PATH has no Graphviz (an empty directory). */
const NO_DOT = (): { env: Record<string, string> } => {
  const empty = join(tmp, 'empty-path');
  mkdirSync(empty, { recursive: true });
  return { env: { PATH: empty } };
};

const HAVE_DOT = spawnSync('dot', ['-V']).error === undefined;

describe('jug graph', { concurrency: 2 }, () => {
  test('without Graphviz: DOT and Mermaid with status counts, SVG drawn by the built-in Graphviz, exit 0', async () => {
    const jugfile = chain('nodot');
    const r = await runJug(['graph', jugfile], NO_DOT());
    expectCode(r, 0);
    const base = jugfile.replace(/\.ts$/, '');
    assert.match(r.stdout, /^Wrote .*chain\.dot\nWrote .*chain\.mmd\nWrote .*chain\.svg\n$/);
    assert.equal(r.stderr, '');
    const svg = readFileSync(`${base}.svg`, 'utf8');
    assert.match(svg, /^<\?xml[^]*<svg [^]*<\/svg>\s*$/);
    // Every node, with its counts line and its state's colour; every edge.
    assert.equal(svg.match(/<g id="node\d+" class="node">/g)?.length, 4);
    assert.equal(svg.match(/<g id="edge\d+" class="edge">/g)?.length, 3);
    assert.match(svg, />chain\.double<\/text>[^]*>2 tasks: 1 waiting, 1 ready<\/text>/);
    assert.match(svg, /fill="#c6dafc"/);
    assert.match(svg, /fill="#eeeeee"/);
    assert.equal(
      readFileSync(`${base}.dot`, 'utf8'),
      [
        'digraph jug {',
        '  rankdir=LR;',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
        '  "chain.makeSeed" [label="chain.makeSeed\\n1 task: 1 ready", fillcolor="#c6dafc"];',
        '  "chain.makePair" [label="chain.makePair\\n1 task: 1 waiting", fillcolor="#eeeeee"];',
        '  "chain.double" [label="chain.double\\n2 tasks: 1 waiting, 1 ready", fillcolor="#c6dafc"];',
        '  "chain.addOne" [label="chain.addOne\\n1 task: 1 waiting", fillcolor="#eeeeee"];',
        '  "chain.makeSeed" -> "chain.makePair";',
        '  "chain.makePair" -> "chain.double";',
        '  "chain.double" -> "chain.addOne";',
        '}',
        '',
      ].join('\n'),
    );
    assert.equal(
      readFileSync(`${base}.mmd`, 'utf8'),
      [
        'flowchart LR',
        '  n0["chain.makeSeed<br/>1 task: 1 ready"]',
        '  n1["chain.makePair<br/>1 task: 1 waiting"]',
        '  n2["chain.double<br/>2 tasks: 1 waiting, 1 ready"]',
        '  n3["chain.addOne<br/>1 task: 1 waiting"]',
        '  n0 --> n1',
        '  n1 --> n2',
        '  n2 --> n3',
        '  classDef ready fill:#c6dafc,stroke:#666',
        '  class n0,n2 ready',
        '  classDef waiting fill:#eeeeee,stroke:#666',
        '  class n1,n3 waiting',
        '',
      ].join('\n'),
    );
  });

  test('an explicitly requested picture without Graphviz: DOT still written, exit 1', async () => {
    const jugfile = chain('nodot-png');
    const r = await runJug(['graph', jugfile, '--format', 'png'], NO_DOT());
    expectCode(r, 1);
    const base = jugfile.replace(/\.ts$/, '');
    assert.equal(existsSync(`${base}.dot`), true);
    assert.equal(existsSync(`${base}.png`), false);
    assert.equal(existsSync(`${base}.mmd`), false, 'only what was asked for (and the DOT source)');
    assert.match(r.stderr, /no PNG was rendered.*\(SVG needs no Graphviz: --format svg\).*apt-get install graphviz/s);
  });

  test('a jugfile stopped at a barrier: the graph of the tasks before it, and a note saying so', async () => {
    mkdirSync(join(tmp, 'barrier'));
    const jugfile = join(tmp, 'barrier', 'stages.ts');
    writeFileSync(
      jugfile,
      "import { TaskGenerator, barrier } from 'jug';\n" +
        'export const one = TaskGenerator(function one(): number { return 1; })();\n' +
        'barrier();\n' +
        'export const two = TaskGenerator(function two(): number { return 2; })();\n',
    );
    const r = await runJug(['graph', jugfile, '--format', 'dot'], NO_DOT());
    expectCode(r, 0);
    assert.match(r.stderr, /stops at a barrier \(stages\.ts:3\): 1 task\(s\) before it are not computed yet/, show(r));
    assert.doesNotMatch(readFileSync(join(tmp, 'barrier', 'stages.dot'), 'utf8'), /stages\.two/);
  });

  test('after execute, --no-status, --format, -o; unknown formats are a usage error', async () => {
    const jugfile = chain('status');
    expectCode(await runJug(['execute', '-q', jugfile]), 0);
    const out = join(tmp, 'status', 'out', 'g');
    mkdirSync(join(tmp, 'status', 'out'));
    const r = await runJug(['graph', jugfile, '--format', 'dot', '--format', 'mmd', '-o', out], NO_DOT());
    expectCode(r, 0);
    assert.equal(r.stderr, '');
    assert.match(readFileSync(`${out}.dot`, 'utf8'), /"chain\.double" \[label="chain\.double\\n2 tasks: 2 finished", fillcolor="#b7e1cd"\];/);
    assert.match(readFileSync(`${out}.mmd`, 'utf8'), /class n0,n1,n2,n3 finished/);

    const plain = await runJug(['graph', jugfile, '--no-status', '--format', 'dot,mermaid', '-o', out], NO_DOT());
    expectCode(plain, 0);
    const dot = readFileSync(`${out}.dot`, 'utf8');
    assert.match(dot, /^ {2}"chain\.double";$/m);
    assert.doesNotMatch(dot, /label=|task/);
    assert.match(readFileSync(`${out}.mmd`, 'utf8'), /^ {2}n2\["chain\.double"\]$/m);
    assert.doesNotMatch(readFileSync(`${out}.mmd`, 'utf8'), /classDef/);

    const abs = await runJug(['graph', jugfile, '--format', 'dot', '-o', out], NO_DOT());
    assert.equal(abs.stdout, `Wrote ${out}.dot\n`, 'an absolute -o is shown as given');

    const missing = await runJug(['graph', jugfile, '--format', 'dot', '-o', join(tmp, 'no', 'such', 'dir', 'g')], NO_DOT());
    expectCode(missing, 1);
    assert.match(missing.stderr, /^jug: Could not write .*no\/such\/dir\/g\.dot: .*ENOENT.*Check that its directory exists/m, show(missing));

    const bad = await runJug(['graph', jugfile, '--format', 'gif']);
    expectCode(bad, 2);
    assert.match(bad.stderr, /unknown format 'gif'; expected dot, mermaid, svg, png/);
  });

  test('a task name with markup is escaped in the SVG the built-in Graphviz draws', async () => {
    mkdirSync(join(tmp, 'markup'));
    const jugfile = join(tmp, 'markup', 'markup.ts');
    writeFileSync(
      jugfile,
      "import { TaskGenerator } from 'jug';\n" +
        "export const t = TaskGenerator((): number => 1, { name: '<img src=x onerror=alert(1)>' })();\n",
    );
    const r = await runJug(['graph', jugfile, '--format', 'svg'], NO_DOT());
    expectCode(r, 0);
    const svg = readFileSync(join(tmp, 'markup', 'markup.svg'), 'utf8');
    assert.doesNotMatch(svg, /<img/);
    assert.match(svg, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  test('with Graphviz: renders SVG by default and PNG on request', { skip: HAVE_DOT ? false : 'Graphviz `dot` is not installed (apt-get install graphviz)' }, async () => {
    const jugfile = chain('render');
    const base = jugfile.replace(/\.ts$/, '');
    const r = await runJug(['graph', jugfile]);
    expectCode(r, 0);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /Wrote .*chain\.svg\n$/);
    const svg = readFileSync(`${base}.svg`, 'utf8');
    assert.match(svg, /<svg/);
    assert.match(svg, /chain\.makeSeed/);
    const png = await runJug(['graph', jugfile, '--format', 'png']);
    expectCode(png, 0);
    assert.deepEqual([...readFileSync(`${base}.png`).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});
