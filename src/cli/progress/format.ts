/**
 * The text of the progress display: one main line (counts, rate, ETA) and, with
 * `--progress names`, one line per task name. Lines are fitted to a width by leaving out the
 * least useful parts first, so the ETA survives on a narrow terminal.
 */
import { tasksLeft, type Eta, type NameTally, type ProgressEstimator } from './estimator.js';
import type { PassTallies } from './tally.js';

/** A duration for people: `42s`, `3m05s`, `2h10m`; `?` when not finite. */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, seconds);
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return `${m}m${String(Math.min(59, Math.round(s - 60 * m))).padStart(2, '0')}s`;
  }
  const h = Math.floor(s / 3600);
  return `${h}h${String(Math.min(59, Math.round((s - 3600 * h) / 60))).padStart(2, '0')}m`;
}

/** `ETA 24s`, `ETA >3m05s` (some task names not measured yet), `ETA ?` (nothing measured yet). */
export function fmtEta(eta: Eta | undefined): string {
  if (eta === undefined) return 'ETA ?';
  return `ETA ${eta.lowerBound ? '>' : ''}${fmtDuration(eta.seconds)}`;
}

/** `9.1 tasks/s`, `12 tasks/s`, `3.5 tasks/min`, `2.0 tasks/h`. */
export function fmtRate(perSecond: number): string {
  const [value, unit] = perSecond >= 1 ? [perSecond, 's'] : perSecond * 60 >= 1 ? [perSecond * 60, 'min'] : [perSecond * 3600, 'h'];
  return `${value.toFixed(value < 10 ? 1 : 0)} tasks/${unit}`;
}

/** A part of a line, left out before parts of higher `keep` when the line is too wide. */
interface Part {
  readonly text: string;
  readonly keep: number;
}

/** The main line's parts: finished (stored / executed / by others), running, queued, failed, rate, ETA. */
function mainParts(tallies: PassTallies, estimator: ProgressEstimator): { head: string; detail: Part[]; tail: Part[] } {
  const t = tallies.total;
  const finished = t.stored + t.executed + t.byOthers;
  const detail: Part[] = [];
  if (t.stored > 0) detail.push({ text: `${t.stored} stored`, keep: 5 });
  detail.push({ text: `${t.executed} executed`, keep: 4 });
  if (t.byOthers > 0) detail.push({ text: `+${t.byOthers} by others`, keep: 3 });
  const tail: Part[] = [{ text: `${t.running} running`, keep: 7 }];
  if (t.elsewhere > 0) tail.push({ text: `${t.elsewhere} running elsewhere`, keep: 2 });
  tail.push({ text: `${t.ready} ready`, keep: 0 }, { text: `${t.waiting} waiting`, keep: 1 });
  if (t.failed > 0) tail.push({ text: `${t.failed} failed`, keep: 9 });
  const rate = estimator.rate();
  if (rate !== undefined) tail.push({ text: fmtRate(rate), keep: 6 });
  tail.push({ text: fmtEta(estimator.eta(tallies.byName)), keep: 8 });
  return { head: `${finished}/${t.total} finished`, detail, tail };
}

/** Joins what is kept: `head (detail, …) · tail · …`. */
function render(head: string, detail: readonly Part[], tail: readonly Part[], min: number): string {
  const d = detail.filter((p) => p.keep >= min).map((p) => p.text);
  const t = tail.filter((p) => p.keep >= min).map((p) => p.text);
  return [head + (d.length > 0 ? ` (${d.join(', ')})` : ''), ...t].join(' · ');
}

/** Cuts `s` to `width` characters, ending in `…` when cut. */
export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...s];
  return chars.length <= width ? s : `${chars.slice(0, width - 1).join('')}…`;
}

/** Renders parts within `width`, leaving out the least useful first. */
function fit(head: string, detail: readonly Part[], tail: readonly Part[], width: number): string {
  const levels = [...new Set([...detail, ...tail].map((p) => p.keep))].sort((a, b) => a - b);
  for (const min of [-Infinity, ...levels.map((l) => l + 1)]) {
    const line = render(head, detail, tail, min);
    if ([...line].length <= width) return line;
  }
  return truncate(render(head, detail, tail, Infinity), width);
}

/**
 * The main line, e.g. `223/408 finished (201 stored, 20 executed, +2 by others) · 3 running ·
 * 12 ready · 170 waiting · 9.1 tasks/s · ETA 24s`, fitted to `width` characters.
 */
export function mainLine(tallies: PassTallies, estimator: ProgressEstimator, width = Infinity): string {
  const { head, detail, tail } = mainParts(tallies, estimator);
  return fit(head, detail, tail, width);
}

/**
 * One line per task name: `  primes.isPrime  150/200 · 3 running · 9.1 tasks/s · ETA 12s`, names
 * padded to one column (up to 40 characters), each fitted to `width`.
 */
export function nameLines(byName: readonly NameTally[], estimator: ProgressEstimator, width = Infinity): string[] {
  const column = Math.min(40, Math.max(0, ...byName.map((t) => t.name.length)));
  return byName.map((t) => {
    const finished = t.stored + t.executed + t.byOthers;
    const head = `  ${truncate(t.name, column).padEnd(column)}  ${finished}/${t.total}`;
    const tail: Part[] = [{ text: `${t.running} running`, keep: 3 }];
    if (t.failed > 0) tail.push({ text: `${t.failed} failed`, keep: 4 });
    const rate = estimator.rate(t.name);
    if (rate !== undefined) tail.push({ text: fmtRate(rate), keep: 1 });
    tail.push({ text: tasksLeft(t) === 0 ? 'done' : fmtEta(estimator.eta([t])), keep: 2 });
    return fit(head, [], tail, width);
  });
}
