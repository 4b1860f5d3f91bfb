/**
 * Building the page's elements. Text always goes in through textContent (never innerHTML), so a
 * task name, an argument, a host or an error message holding markup shows as text.
 */

/** A new element with optional class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A table row of text cells (`num` marks numeric columns). */
export function row(cells: readonly (string | Node)[], numeric: readonly boolean[] = []): HTMLTableRowElement {
  const tr = el('tr');
  cells.forEach((c, i) => {
    const td = el('td', numeric[i] ? 'num' : undefined);
    if (typeof c === 'string') td.textContent = c;
    else td.append(c);
    tr.append(td);
  });
  return tr;
}

/** Replaces the children of `parent`. */
export function fill(parent: Element, children: readonly Node[]): void {
  parent.replaceChildren(...children);
}

/** The element with this id (the page's HTML has them all). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`page: no #${id}`);
  return e as T;
}

/** `1.2 s`, `3 min 4 s`, `2 h 5 min`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Local time of day, `14:03:07`. */
export function clock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString([], { hour12: false });
}

/** A stacked bar of counts, one segment per column with a count. */
export function stackedBar(columns: readonly string[], counts: readonly number[], className = 'bar'): HTMLDivElement {
  const total = counts.reduce((a, b) => a + b, 0);
  const bar = el('div', className);
  // Finished first, then running, failed, stale, ready, waiting: done work from the left.
  for (const col of ['Finished', 'Running', 'Failed', 'Stale', 'Ready', 'Waiting']) {
    const k = columns.indexOf(col);
    const n = k < 0 ? 0 : counts[k]!;
    if (n === 0 || total === 0) continue;
    const seg = el('span', `seg-${col}`);
    seg.style.width = `${(100 * n) / total}%`;
    seg.title = `${n} ${col.toLowerCase()}`;
    bar.append(seg);
  }
  bar.setAttribute('role', 'img');
  bar.setAttribute('aria-label', columns.map((c, k) => `${counts[k]} ${c.toLowerCase()}`).join(', '));
  return bar;
}
