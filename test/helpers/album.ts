// An album's --json result, and the check that two runs of the same album agree: the anchor, each
// track's loudness before the limiter, requested and achieved loudness, true peak and verdict, its
// place on the CD, and the consistency QC (spreads, tone distances, outliers).
import { basename } from 'node:path';
import { expect } from 'vitest';

export interface AlbumJson {
  anchor: string;
  preLimiterLufs: { input: string; integratedLufs: number }[];
  tracks: { input: string; target: string; file: string; requestedLufs: number; integratedLufs: number; truePeakDbtp: number; pass: boolean; reused: boolean; report: string | null; cd?: { number: number; index00: string | null; index01: string } }[];
  consistencyByTarget: { target: string; spread: Record<string, number | null>; tracks: { input: string; integratedLufs: number; loudnessRangeLu: number; toneDistanceDb: number; sideToMidDb: number }[]; outliers: { input: string; aspect: string }[] }[];
  cd: { image: string; cue: string } | null;
}

/** The album's results as they must agree between two runs of the same album. */
export function expectSameAlbum(got: AlbumJson, want: AlbumJson): void {
  expect(basename(got.anchor)).toBe(basename(want.anchor));
  for (const [i, p] of want.preLimiterLufs.entries()) expect(Math.abs(got.preLimiterLufs[i]!.integratedLufs - p.integratedLufs)).toBeLessThanOrEqual(0.01);
  expect(got.tracks).toHaveLength(want.tracks.length);
  for (const w of want.tracks) {
    const g = got.tracks.find((t) => t.input === w.input && t.target === w.target)!;
    const what = `${basename(w.input)} ${w.target}`;
    expect(g, what).toBeDefined();
    expect(Math.abs(g.requestedLufs - w.requestedLufs), `${what} requested`).toBeLessThanOrEqual(0.02);
    expect(Math.abs(g.integratedLufs - w.integratedLufs), `${what} integrated`).toBeLessThanOrEqual(0.02);
    expect(Math.abs(g.truePeakDbtp - w.truePeakDbtp), `${what} true peak`).toBeLessThanOrEqual(0.05);
    expect(g.pass, what).toBe(w.pass);
    expect(g.cd?.index01, what).toBe(w.cd?.index01);
    expect(g.cd?.index00, what).toBe(w.cd?.index00);
  }
  for (const w of want.consistencyByTarget) {
    const g = got.consistencyByTarget.find((c) => c.target === w.target)!;
    for (const [k, v] of Object.entries(w.spread)) if (v !== null) expect(Math.abs(g.spread[k]! - v), `${w.target} spread ${k}`).toBeLessThanOrEqual(0.05);
    for (const [i, t] of w.tracks.entries()) expect(Math.abs(g.tracks[i]!.toneDistanceDb - t.toneDistanceDb), `${w.target} tone ${i}`).toBeLessThanOrEqual(0.05);
    expect(g.outliers.map((o) => `${basename(o.input)} ${o.aspect}`).sort()).toEqual(w.outliers.map((o) => `${basename(o.input)} ${o.aspect}`).sort());
  }
}
