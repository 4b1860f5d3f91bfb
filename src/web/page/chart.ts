/** The progress chart: finished tasks over time, drawn by uPlot (bundled into app.js). */
import uPlot from 'uplot';

let plot: uPlot | undefined;

export function drawProgress(container: HTMLElement, progress: readonly (readonly [number, number])[], now: number): void {
  // A step line that reaches "now" at the last count.
  const xs = progress.map(([t]) => t / 1000);
  const ys = progress.map(([, n]) => n);
  if (progress.length > 0) {
    xs.push(now / 1000);
    ys.push(ys[ys.length - 1]!);
  }
  const data: uPlot.AlignedData = [xs, ys];
  const width = Math.max(container.clientWidth, 300);
  if (plot === undefined) {
    plot = new uPlot(
      {
        width,
        height: 180,
        legend: { show: false },
        cursor: { show: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(max, 1)] } },
        series: [{}, { label: 'finished', stroke: '#3c9a5f', fill: 'rgba(60,154,95,0.15)', width: 2, paths: uPlot.paths.stepped!({ align: 1 }) }],
        axes: [{}, { label: 'finished tasks' }],
      },
      data,
      container,
    );
  } else {
    if (plot.width !== width) plot.setSize({ width, height: 180 });
    plot.setData(data);
  }
}
