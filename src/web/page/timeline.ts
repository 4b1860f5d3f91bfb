/**
 * The timeline of task runs (Dask's task stream): one lane per host / process / thread, one bar
 * per run, coloured by task name (failures red). Drawn on a canvas: text drawn there is never
 * parsed as markup.
 */
import type { Timeline } from '../snapshot-types.js';

const LANE_HEIGHT = 18;
const LABEL_WIDTH = 220;
const PALETTE = ['#4a7fd6', '#3c9a5f', '#e0a100', '#8e44ad', '#16a2b8', '#d35400', '#7f8c8d', '#2c3e50'];

/** The colour of a task name (the same name keeps its colour). */
function colourOf(name: string, colours: Map<string, string>): string {
  let c = colours.get(name);
  if (c === undefined) {
    c = PALETTE[colours.size % PALETTE.length]!;
    colours.set(name, c);
  }
  return c;
}

export function drawTimeline(canvas: HTMLCanvasElement, timeline: Timeline, now: number, colours: Map<string, string>): void {
  const width = canvas.clientWidth || 800;
  const lanes = Math.max(timeline.lanes.length, 1);
  const height = lanes * LANE_HEIGHT + 20;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext('2d');
  if (g === null) return;
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  g.font = '11px ui-monospace, monospace';
  g.textBaseline = 'middle';
  if (timeline.bars.length === 0) {
    g.fillStyle = '#666';
    g.fillText('No task runs recorded yet.', 4, 10);
    return;
  }
  const t0 = Math.min(...timeline.bars.map((b) => b.start));
  const t1 = Math.max(now, ...timeline.bars.map((b) => b.end));
  const span = Math.max(t1 - t0, 1);
  const plot = width - LABEL_WIDTH - 8;
  const x = (t: number): number => LABEL_WIDTH + ((t - t0) / span) * plot;
  timeline.lanes.forEach((lane, i) => {
    g.fillStyle = i % 2 === 0 ? '#fafafa' : '#f2f2f2';
    g.fillRect(0, i * LANE_HEIGHT, width, LANE_HEIGHT);
    g.fillStyle = '#333';
    g.fillText(lane.length > 32 ? `${lane.slice(0, 31)}…` : lane, 4, i * LANE_HEIGHT + LANE_HEIGHT / 2);
  });
  for (const b of timeline.bars) {
    g.fillStyle = b.failed ? '#c5221f' : colourOf(b.name, colours);
    const left = x(b.start);
    g.fillRect(left, b.lane * LANE_HEIGHT + 2, Math.max(x(b.end) - left, 1), LANE_HEIGHT - 4);
  }
  g.fillStyle = '#666';
  g.fillText(`${Math.round(span / 1000)} s shown; the right edge is now`, LABEL_WIDTH, lanes * LANE_HEIGHT + 10);
}
