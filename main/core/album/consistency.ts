// Consistency QC across an album's masters: do the tracks sit together? For each track, its
// integrated loudness, loudness range (EBU Tech 3342), tonal balance as its 1/3-octave spectrum
// with its own level taken out, compared with the album's mean spectrum (the RMS of the dB
// differences, 31.5 Hz – 16 kHz), and stereo width (side-to-mid power ratio). The spreads are
// reported, and a track is named an outlier in an aspect when it sits farther from the album's
// median than both an absolute limit (what an engineer would notice) and a multiple of the album's
// own typical deviation (so a varied album is not all outliers).
import { basename } from 'node:path';
import type { AnalysisResult } from '../analysis/analyze.js';

export type Aspect = 'loudness' | 'loudness range' | 'tone' | 'width';

export interface ConsistencyTrack {
  input: string;
  integratedLufs: number | null;
  loudnessRangeLu: number | null;
  /** RMS distance of the level-free 1/3-octave spectrum to the album mean, dB. */
  toneDistanceDb: number | null;
  sideToMidDb: number | null;
  correlation: number | null;
}

export interface Outlier {
  input: string;
  aspect: Aspect;
  value: number;
  albumMedian: number;
  message: string;
}

export interface ConsistencyReport {
  /** Which masters were compared (the target's id). */
  target: string;
  tracks: ConsistencyTrack[];
  spread: { integratedLu: number | null; loudnessRangeLu: number | null; toneDistanceMaxDb: number | null; sideToMidDb: number | null };
  /** The album's mean level-free 1/3-octave spectrum (dB relative to each track's own mean). */
  albumMeanThirdOctave: { hz: number; db: number }[];
  outliers: Outlier[];
  /** Whether loudness differences were judged (not under the anchor policy: there they are kept on purpose). */
  loudnessJudged: boolean;
}

/** Absolute limits and the multiple of the album's median deviation a track must also exceed. */
const LIMITS: Record<Aspect, { absolute: number; unit: string }> = {
  loudness: { absolute: 2, unit: 'LU' },
  'loudness range': { absolute: 4, unit: 'LU' },
  tone: { absolute: 2, unit: 'dB' },
  width: { absolute: 4, unit: 'dB' },
};
const ROBUST_MULTIPLE = 2.5;
const TONE_LOW_HZ = 31.5;
const TONE_HIGH_HZ = 16_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const spreadOf = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) - Math.min(...v) : null;
};

/** Each track's level-free 1/3-octave curve over the bands every track has. */
function toneCurves(analyses: AnalysisResult[]): { hz: number[]; curves: number[][] } {
  const first = analyses[0]!.spectrum.thirdOctave;
  const bands = first.map((b, i) => ({ hz: b.hz, i })).filter(({ hz, i }) => hz >= TONE_LOW_HZ * 0.99 && hz <= TONE_HIGH_HZ * 1.01 && analyses.every((a) => a.spectrum.thirdOctave[i]?.db != null));
  const curves = analyses.map((a) => {
    const db = bands.map(({ i }) => a.spectrum.thirdOctave[i]!.db!);
    const mean = db.reduce((s, x) => s + x, 0) / (db.length || 1);
    return db.map((x) => x - mean);
  });
  return { hz: bands.map((b) => b.hz), curves };
}

export function albumConsistency(target: string, tracks: { input: string; analysis: AnalysisResult }[], options: { judgeLoudness: boolean }): ConsistencyReport {
  const { hz, curves } = toneCurves(tracks.map((t) => t.analysis));
  const meanCurve = hz.map((_, b) => curves.reduce((s, c) => s + c[b]!, 0) / curves.length);
  const rows: ConsistencyTrack[] = tracks.map((t, i) => {
    const c = curves[i]!;
    const distance = hz.length ? Math.sqrt(c.reduce((s, x, b) => s + (x - meanCurve[b]!) ** 2, 0) / hz.length) : null;
    return {
      input: t.input,
      integratedLufs: t.analysis.loudness.integratedLufs,
      loudnessRangeLu: t.analysis.loudness.loudnessRangeLu,
      toneDistanceDb: distance,
      sideToMidDb: t.analysis.stereo.sideToMidDb,
      correlation: t.analysis.stereo.correlation,
    };
  });
  const outliers: Outlier[] = [];
  const judge = (aspect: Aspect, get: (r: ConsistencyTrack) => number | null, describe: (r: ConsistencyTrack, v: number, med: number) => string, oneSided = false) => {
    const have = rows.filter((r) => get(r) !== null);
    if (have.length < 3) return; // two tracks cannot tell which one is the odd one out
    const values = have.map((r) => get(r)!);
    const med = median(values);
    const typical = median(values.map((v) => Math.abs(v - med)));
    for (const r of have) {
      const v = get(r)!;
      const dev = oneSided ? v - med : Math.abs(v - med);
      if (dev > LIMITS[aspect].absolute && dev > ROBUST_MULTIPLE * typical) outliers.push({ input: r.input, aspect, value: v, albumMedian: med, message: describe(r, v, med) });
    }
  };
  const name = (r: ConsistencyTrack) => basename(r.input);
  if (options.judgeLoudness) judge('loudness', (r) => r.integratedLufs, (r, v, m) => `${name(r)} is ${Math.abs(v - m).toFixed(1)} LU ${v > m ? 'louder' : 'quieter'} than the album's median (${m.toFixed(1)} LUFS)`);
  judge('loudness range', (r) => r.loudnessRangeLu, (r, v, m) => `${name(r)} has a loudness range of ${v.toFixed(1)} LU against the album's ${m.toFixed(1)} LU: ${v > m ? 'far more dynamic' : 'far more compressed'} than the rest`);
  // Tone: a distance to the mean, so only "far" counts (one-sided).
  judge('tone', (r) => r.toneDistanceDb, (r, v) => {
    const i = rows.indexOf(r);
    const c = curves[i]!;
    // Where it differs most: the band with the largest deviation from the album mean.
    let worst = 0;
    for (let b = 1; b < hz.length; b++) if (Math.abs(c[b]! - meanCurve[b]!) > Math.abs(c[worst]! - meanCurve[worst]!)) worst = b;
    const d = c[worst]! - meanCurve[worst]!;
    return `${name(r)}'s tonal balance is ${v.toFixed(1)} dB (RMS over 1/3 octaves) from the album's mean, most at ${hz[worst]! >= 1000 ? `${(hz[worst]! / 1000).toFixed(1)} kHz` : `${Math.round(hz[worst]!)} Hz`} (${d > 0 ? '+' : ''}${d.toFixed(1)} dB)`;
  }, true);
  judge('width', (r) => r.sideToMidDb, (r, v, m) => `${name(r)} is ${v > m ? 'wider' : 'narrower'} than the rest: side-to-mid ${v.toFixed(1)} dB against the album's ${m.toFixed(1)} dB`);
  return {
    target,
    tracks: rows,
    spread: {
      integratedLu: spreadOf(rows.map((r) => r.integratedLufs)),
      loudnessRangeLu: spreadOf(rows.map((r) => r.loudnessRangeLu)),
      toneDistanceMaxDb: rows.some((r) => r.toneDistanceDb !== null) ? Math.max(...rows.map((r) => r.toneDistanceDb ?? 0)) : null,
      sideToMidDb: spreadOf(rows.map((r) => r.sideToMidDb)),
    },
    albumMeanThirdOctave: hz.map((h, b) => ({ hz: h, db: meanCurve[b]! })),
    outliers,
    loudnessJudged: options.judgeLoudness,
  };
}
