/**
 * The page of `jug webstatus`: listens to the server's event stream (/events) and redraws every
 * section from each snapshot. All text goes in as text (dom.ts), never as markup.
 */
import type { WebSnapshot } from '../snapshot-types.js';
import { drawProgress } from './chart.js';
import { byId, clock, duration, el, fill, row, stackedBar } from './dom.js';
import { drawTimeline } from './timeline.js';

const colours = new Map<string, string>();
let last: WebSnapshot | undefined;
/** Server clock minus this page's, so that "running for" does not depend on this machine's clock. */
let skew = 0;

function render(s: WebSnapshot): void {
  last = s;
  skew = s.at - Date.now();
  byId('jugfile').textContent = s.jugfile;
  document.title = `jug webstatus: ${pct(s)} finished`;
  renderSummary(s);
  renderStatus(s);
  drawProgress(byId('progress-chart'), s.progress, s.at);
  renderRunning(s);
  renderFailures(s);
  renderTimeline(s);
  renderRecent(s);
  renderDurations(s);
  renderGraph(s);
}

const total = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);
const col = (s: WebSnapshot, name: string): number => s.totals[s.columns.indexOf(name)] ?? 0;

function pct(s: WebSnapshot): string {
  const n = total(s.totals);
  return n === 0 ? '0%' : `${Math.floor((100 * col(s, 'Finished')) / n)}%`;
}

function renderSummary(s: WebSnapshot): void {
  fill(byId('overall-bar'), [...stackedBar(s.columns, s.totals).childNodes]);
  const parts = [`${col(s, 'Finished')} of ${total(s.totals)} tasks finished (${pct(s)})`];
  if (col(s, 'Running') > 0) parts.push(`${col(s, 'Running')} running`);
  if (col(s, 'Failed') > 0) parts.push(`${col(s, 'Failed')} failed`);
  if (s.rate !== undefined) parts.push(`${s.rate >= 10 ? s.rate.toFixed(0) : s.rate.toFixed(2)} tasks/s over the last minute`);
  if (s.etaSeconds !== undefined) parts.push(`about ${duration(s.etaSeconds * 1000)} left at that rate`);
  const text = byId('overall-text');
  text.textContent = parts.join(' · ');
  const notes: Node[] = [];
  if (s.barrier !== undefined) notes.push(el('span', 'notes', s.barrier));
  if (s.problem !== undefined) notes.push(el('span', 'problem', s.problem));
  if (!s.records) notes.push(el('span', 'hint', ' This store keeps no run records: no timeline, durations or completions.'));
  fill(byId('notes'), notes);
}

function renderStatus(s: WebSnapshot): void {
  const table = byId<HTMLTableElement>('status');
  // Stale only when some task has a stale lock, as `jug status`.
  const shown = s.columns.map((c, k) => (c === 'Stale' && (s.totals[k] ?? 0) === 0 ? -1 : k)).filter((k) => k >= 0);
  const head = el('tr');
  head.append(el('th', undefined, 'Task name'), ...shown.map((k) => el('th', 'num', s.columns[k])), el('th', undefined, 'Progress'));
  fill(table.tHead!, [head]);
  const line = (name: string, counts: readonly number[]): HTMLTableRowElement => {
    const tr = row([name, ...shown.map((k) => String(counts[k] ?? 0)), stackedBar(s.columns, counts)], [false, ...shown.map(() => true)]);
    tr.dataset['name'] = name;
    shown.forEach((k, i) => (tr.cells[i + 1]!.dataset['col'] = s.columns[k]!));
    return tr;
  };
  fill(table.tBodies[0]!, s.names.map((r) => line(r.name, r.counts)));
  const foot = line('Total', s.totals);
  foot.dataset['name'] = '';
  foot.id = 'totals';
  fill(table.tFoot!, [foot]);
}

/**
 * The running tasks. "≥ d": the task's process wrote no running note for it yet (notes are written at
 * most twice a second, so a short task never gets one), and d is how long ago this server first saw its
 * lock: a lower bound of how long it has held it. Never negative when the clocks' skew estimate is off.
 */
function renderRunning(s: WebSnapshot): void {
  byId('running-count').textContent = `(${col(s, 'Running')})`;
  const now = Date.now() + skew;
  fill(
    byId<HTMLTableElement>('running').tBodies[0]!,
    s.running.map((r) =>
      row([r.name, r.args, r.host ?? '?', r.pid === undefined ? '?' : `pid ${r.pid}${r.thread === undefined ? '' : ` thread ${r.thread}`}`, `${r.sinceSeen ? '≥ ' : ''}${duration(Math.max(0, now - r.since))}`], [false, false, false, false, true]),
    ),
  );
}

/** Failures the reader opened (by hash): they stay open when the list is drawn again. */
const openFailures = new Set<string>();
let failuresDrawn = '';

function renderFailures(s: WebSnapshot): void {
  byId('failures-count').textContent = `(${col(s, 'Failed')})`;
  // Drawn again only when they changed, so a reader's selection and scroll position stay.
  const key = JSON.stringify(s.failures);
  if (key === failuresDrawn) return;
  failuresDrawn = key;
  const blocks: HTMLElement[] = s.failures.map((f) => {
    const d = el('details', 'failure');
    d.dataset['hash'] = f.hash;
    d.open = openFailures.has(f.hash);
    d.addEventListener('toggle', () => (d.open ? openFailures.add(f.hash) : openFailures.delete(f.hash)));
    const summary = el('summary');
    const message = f.error === undefined ? 'no failure record (left by an older jug or Python Jug)' : `${f.error.name}: ${f.error.message.split('\n')[0]}`;
    summary.append(el('strong', undefined, f.name), document.createTextNode(' — '), el('span', 'error', message));
    d.append(summary);
    const facts = [`hash ${f.hash}`];
    if (f.args !== undefined) facts.push(`arguments: ${f.args}`);
    if (f.host !== undefined) facts.push(`on ${f.host} pid ${f.pid}${f.thread === undefined ? '' : ` thread ${f.thread}`}`);
    if (f.time !== undefined) facts.push(`at ${new Date(f.time).toLocaleString()}`);
    d.append(el('p', 'mono', facts.join(' · ')));
    if (f.error !== undefined) d.append(el('pre', 'stack', f.error.stack || `${f.error.name}: ${f.error.message}`));
    return d;
  });
  if (blocks.length === 0) blocks.push(el('p', 'hint', 'No failed tasks.'));
  fill(byId('failures'), blocks);
}

function renderTimeline(s: WebSnapshot): void {
  drawTimeline(byId<HTMLCanvasElement>('timeline'), s.timeline, s.at, colours);
  const legend = [...new Set(s.timeline.bars.map((b) => b.name))].map((name) => {
    const item = el('span', 'legend');
    const swatch = el('span', 'swatch');
    swatch.style.background = colours.get(name) ?? '#999';
    item.append(swatch, document.createTextNode(` ${name}  `));
    return item;
  });
  fill(byId('timeline-hint'), legend.length === 0 ? [document.createTextNode('One lane per host, process and thread; red: failed.')] : legend);
}

function renderRecent(s: WebSnapshot): void {
  fill(
    byId<HTMLTableElement>('recent').tBodies[0]!,
    s.recent.map((r) => {
      const tr = row([r.name + (r.failed ? ' (failed)' : ''), r.args ?? '', `${r.host} pid ${r.pid}${r.thread === undefined ? '' : ` thread ${r.thread}`}`, duration(r.ms), clock(r.end)], [false, false, false, true, false]);
      if (r.failed) tr.className = 'failed';
      return tr;
    }),
  );
}

function renderDurations(s: WebSnapshot): void {
  const longest = Math.max(1, ...s.durations.map((d) => d.maxMs));
  fill(
    byId<HTMLTableElement>('durations').tBodies[0]!,
    s.durations.map((d) => {
      const bars = el('div');
      const median = el('div', 'dur');
      median.style.width = `${(100 * d.medianMs) / longest}%`;
      const max = el('div', 'dur max');
      max.style.width = `${(100 * d.maxMs) / longest}%`;
      bars.append(median, max);
      return row([d.name, String(d.count), duration(d.medianMs), duration(d.maxMs), bars], [false, true, true, true, false]);
    }),
  );
}

function renderGraph(s: WebSnapshot): void {
  const img = byId<HTMLImageElement>('graph-img');
  const src = `/graph.svg?v=${encodeURIComponent(s.graphVersion)}`;
  if (img.getAttribute('src') !== src) img.setAttribute('src', src);
}

function connect(): void {
  const status = byId('connection');
  const events = new EventSource('/events');
  events.addEventListener('snapshot', (e) => {
    status.dataset['state'] = 'live';
    status.textContent = `live · updated ${clock(Date.now())}`;
    render(JSON.parse((e as MessageEvent<string>).data) as WebSnapshot);
  });
  events.addEventListener('open', () => {
    status.dataset['state'] = 'live';
    status.textContent = 'live';
  });
  events.addEventListener('error', () => {
    // EventSource reconnects by itself; say so until it does.
    status.dataset['state'] = 'lost';
    status.textContent = 'connection lost: reconnecting… (is jug webstatus still running?)';
  });
}

// "Running for" keeps counting between snapshots.
setInterval(() => {
  if (last !== undefined) renderRunning(last);
}, 1000);
connect();
