// Where `lathe master` previews the platform codecs before its full check: the loudest
// non-overlapping 3-s windows of the render, chosen from its short-term loudness series (value i
// covers the 3 s ending at 3 + i·interval s), in time order, covering at most a quarter of the
// programme; none for a programme too short for excerpts to save anything.
import { describe, expect, it } from 'vitest';
import { previewWindows } from '../../main/core/delivery/master.js';

const INTERVAL = 0.1;
/** A short-term series for `seconds` of programme at `floor` LUFS (silence where NaN). */
function series(seconds: number, floor: number): Float32Array {
  return new Float32Array(Math.round((seconds - 3) / INTERVAL) + 1).fill(floor);
}
const endOf = (i: number) => 3 + i * INTERVAL;

describe('codec preview windows', () => {
  it('takes the loudest windows, never overlapping, in time order', () => {
    const s = series(240, -20);
    // Ten loud moments, louder the later they are listed; windows ending there are what is wanted.
    const loud = [2000, 150, 900, 1500, 40, 1200, 600, 2300, 300, 1800];
    loud.forEach((i, k) => (s[i] = -5 + k * 0.5));
    const w = previewWindows(s, INTERVAL, 240)!;
    expect(w).toHaveLength(8);
    // The eight loudest are the last eight listed.
    const expected = loud.slice(2).map((i) => [endOf(i) - 3, endOf(i)]).sort((a, b) => a[0]! - b[0]!);
    w.forEach(([a, b], k) => {
      expect(a).toBeCloseTo(expected[k]![0]!, 6);
      expect(b).toBeCloseTo(expected[k]![1]!, 6);
    });
  });

  it('skips windows that would overlap a louder one', () => {
    const s = series(240, -30);
    // A loud second: every value in it ends a window overlapping the loudest one.
    for (let i = 1000; i < 1010; i++) s[i] = -6 - (i - 1000) * 0.01;
    s[500] = -12;
    const w = previewWindows(s, INTERVAL, 240)!;
    const ends = w.map(([, b]) => b);
    // The loudest (ending at 1000) and the next one that does not overlap it (500) are taken;
    // the values just after 1000, louder than 500, are not.
    expect(ends).toContainEqual(expect.closeTo(endOf(1000), 6));
    expect(ends).toContainEqual(expect.closeTo(endOf(500), 6));
    for (let i = 1001; i < 1010; i++) expect(ends).not.toContainEqual(expect.closeTo(endOf(i), 6));
    for (let k = 1; k < w.length; k++) expect(w[k]![0]).toBeGreaterThanOrEqual(w[k - 1]![1]! - 1e-9);
    const total = w.reduce((sum, [a, b]) => sum + b - a, 0);
    expect(total).toBeLessThanOrEqual(240 / 4);
  });

  it('covers at most a quarter of a short programme, and none below 24 s; silence is never chosen', () => {
    const s = series(30, Number.NaN);
    s[10] = -14;
    s[200] = -15;
    s[100] = -16;
    const w = previewWindows(s, INTERVAL, 30)!;
    expect(w).toHaveLength(2);
    expect(w.map(([, b]) => b)).toEqual([endOf(10), endOf(200)].map((x) => expect.closeTo(x, 6)));
    expect(previewWindows(series(23, -14), INTERVAL, 23)).toBeNull();
    expect(previewWindows(series(120, Number.NaN), INTERVAL, 120)).toBeNull();
  });
});
