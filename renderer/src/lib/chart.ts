// chart.js with only what the studio's plots use registered (keeps the bundle small), and the
// studio's dark styling as defaults.
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Filler);
Chart.defaults.color = '#8791a3';
Chart.defaults.borderColor = '#222833';
Chart.defaults.font.size = 11;
Chart.defaults.animation = false;

export { Chart };

export const FREQ_TICKS = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000];

export function freqLabel(v: number): string {
  return v >= 1000 ? `${v / 1000}k` : `${v}`;
}

/** Linear interpolation of y(x) on a log-x grid (for curves sampled at different frequencies). */
export function interpLog(xs: number[], ys: number[], x: number): number {
  if (!xs.length) return 0;
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[xs.length - 1]!) return ys[ys.length - 1]!;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const t = (Math.log(x) - Math.log(xs[lo]!)) / (Math.log(xs[hi]!) - Math.log(xs[lo]!));
  return ys[lo]! + t * (ys[hi]! - ys[lo]!);
}
