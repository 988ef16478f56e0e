// How the assistant is scored on held-out data, shared by the training evaluation
// (models/training/evaluate.mjs) and the CI test that re-scores the committed evaluation rows:
// normalised MAE per parameter, the 1/3-octave error left against the clean original (degraded,
// heuristic baseline, model, oracle), the level error, interval coverage and style accuracy.
// EQ responses come from native-dsp's eqCurve: the same coefficients the render uses.
import dsp from '#native-dsp';
import type { MetricsRow } from './card.js';
import { THIRD_OCTAVE_HZ, relativeBands } from './features.js';
import { EQ_PARAMETERS, PARAMETERS, applyMoves, clamp, type ParameterId } from './parameters.js';
import { defaultChain, type ChainDocument } from '../chain/document.js';
import type { Prediction } from './model.js';

export interface EvalRow {
  track: string;
  style: string;
  sampleRate: number;
  features: number[];
  target: number[];
  cleanBandsDb: (number | null)[];
  degradedBandsDb: (number | null)[];
  cleanLufs: number;
  degradedLufs: number;
}

/** Bands scored: 31.5 Hz – 16 kHz (below, excerpts carry little energy; above, many sources are band-limited). */
export const SCORED_BANDS = THIRD_OCTAVE_HZ.map((hz, i) => [hz, i] as const).filter(([hz]) => hz >= 31.5 && hz <= 16_000).map(([, i]) => i);

function eqOnlyBase(): ChainDocument {
  const c = defaultChain();
  c.eq.highPass.enabled = false;
  return c;
}

/** The EQ part of the moves (dB at each third-octave centre), from the native coefficients. */
export function eqResponseDb(values: readonly number[], sampleRate: number): number[] {
  const chain = applyMoves([...values.slice(0, EQ_PARAMETERS.length), 0, 0], eqOnlyBase());
  return Array.from(dsp.eqCurve({ sampleRate, chain, frequencies: Float32Array.from(THIRD_OCTAVE_HZ) }));
}

/** RMS difference (dB) of two spectra's shapes over the scored bands, overall level removed. */
export function tonalErrorDb(bandsDb: (number | null)[], cleanDb: (number | null)[]): number {
  const idx = SCORED_BANDS.filter((i) => bandsDb[i] !== null && cleanDb[i] !== null);
  if (idx.length === 0) return 0;
  const d = idx.map((i) => bandsDb[i]! - cleanDb[i]!);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  return Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
}

const addCurve = (bands: (number | null)[], curve: number[]) => bands.map((b, i) => (b === null ? null : b + curve[i]!));

/** The corpus-average balance: mean relative band level of clean excerpts. */
export function averageBalance(rows: { cleanBandsDb: (number | null)[] }[]): number[] {
  const sum = new Array<number>(THIRD_OCTAVE_HZ.length).fill(0);
  for (const r of rows) relativeBands(r.cleanBandsDb).forEach((v, i) => (sum[i]! += v));
  return sum.map((s) => s / Math.max(1, rows.length));
}

/** Least-squares fit of the five EQ moves to a wanted change per band (level free), clamped to ±8 dB. */
export class HeuristicEq {
  private readonly basis = new Map<number, number[][]>();
  constructor(private readonly averageRelDb: number[]) {}

  private basisFor(sampleRate: number): number[][] {
    let b = this.basis.get(sampleRate);
    if (!b) {
      // The response of each move at +6 dB, per dB (close to linear in gain for these filters).
      b = EQ_PARAMETERS.map((_, k) => eqResponseDb(EQ_PARAMETERS.map((__, j) => (j === k ? 6 : 0)), sampleRate).map((x) => x / 6));
      this.basis.set(sampleRate, b);
    }
    return b;
  }

  /** EQ gains (dB) that move the degraded spectrum toward the average balance. */
  fit(degradedBandsDb: (number | null)[], sampleRate: number): number[] {
    const rel = relativeBands(degradedBandsDb);
    const idx = SCORED_BANDS.filter((i) => degradedBandsDb[i] !== null);
    const want = idx.map((i) => this.averageRelDb[i]! - rel[i]!);
    const basis = this.basisFor(sampleRate);
    // Columns: five moves and a constant (level is free); normal equations with a tiny ridge.
    const cols = [...basis.map((c) => idx.map((i) => c[i]!)), idx.map(() => 1)];
    const n = cols.length;
    const a = cols.map((ci) => cols.map((cj) => ci.reduce((s, x, t) => s + x * cj[t]!, 0)));
    const y = cols.map((ci) => ci.reduce((s, x, t) => s + x * want[t]!, 0));
    for (let i = 0; i < n - 1; i++) a[i]![i]! += 1e-3;
    const g = solve(a, y);
    return g.slice(0, EQ_PARAMETERS.length).map((x) => clamp(x, -8, 8));
  }
}

function solve(a: number[][], y: number[]): number[] {
  const n = y.length;
  const m = a.map((r, i) => [...r, y[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c || m[c]![c] === 0) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((r, i) => (r[i] === 0 ? 0 : r[n]! / r[i]!));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Scores predictions against rows (same order). */
export function scoreRows(
  rows: EvalRow[],
  predictions: Prediction[],
  reference: { averageRelDb: number[]; medianCleanLufs: number; styles: string[] },
): MetricsRow {
  const heuristic = new HeuristicEq(reference.averageRelDb);
  const perParam = PARAMETERS.map(() => [] as number[]);
  const inside68 = PARAMETERS.map(() => [] as number[]);
  const inside95: number[] = [];
  const tonal = { degraded: [] as number[], heuristic: [] as number[], model: [] as number[], oracle: [] as number[] };
  const lufs = { model: [] as number[], heuristic: [] as number[] };
  const styleHits: number[] = [];
  const trackVotes = new Map<string, { style: string; logp: number[] }>();
  rows.forEach((row, n) => {
    const p = predictions[n]!;
    PARAMETERS.forEach((spec, k) => {
      const err = Math.abs(p.mean[k]! - row.target[k]!);
      perParam[k]!.push(err / (spec.max - spec.min));
      const sigma = Math.exp(p.logVariance[k]! / 2);
      inside68[k]!.push(err <= sigma ? 1 : 0);
      inside95.push(err <= 1.96 * sigma ? 1 : 0);
    });
    tonal.degraded.push(tonalErrorDb(row.degradedBandsDb, row.cleanBandsDb));
    tonal.model.push(tonalErrorDb(addCurve(row.degradedBandsDb, eqResponseDb(p.mean, row.sampleRate)), row.cleanBandsDb));
    tonal.oracle.push(tonalErrorDb(addCurve(row.degradedBandsDb, eqResponseDb(row.target, row.sampleRate)), row.cleanBandsDb));
    tonal.heuristic.push(tonalErrorDb(addCurve(row.degradedBandsDb, eqResponseDb(heuristic.fit(row.degradedBandsDb, row.sampleRate), row.sampleRate)), row.cleanBandsDb));
    const levelK = PARAMETERS.findIndex((s) => s.id === 'level');
    lufs.model.push(Math.abs(p.mean[levelK]! - row.target[levelK]!));
    lufs.heuristic.push(Math.abs(reference.medianCleanLufs - row.degradedLufs - row.target[levelK]!));
    const best = p.styleProbabilities.indexOf(Math.max(...p.styleProbabilities));
    styleHits.push(reference.styles[best] === row.style ? 1 : 0);
    const v = trackVotes.get(row.track) ?? { style: row.style, logp: reference.styles.map(() => 0) };
    p.styleProbabilities.forEach((q, i) => (v.logp[i]! += Math.log(Math.max(q, 1e-9))));
    trackVotes.set(row.track, v);
  });
  const byParam = <T>(f: (k: number) => T) => Object.fromEntries(PARAMETERS.map((s, k) => [s.id, f(k)])) as Record<ParameterId, T>;
  const r4 = (x: number) => Number(x.toFixed(4));
  const nmae = byParam((k) => r4(mean(perParam[k]!)));
  const tracks = [...trackVotes.values()];
  return {
    normalisedMae: nmae,
    normalisedMaeOverall: r4(mean(Object.values(nmae))),
    tonalErrorDb: { degraded: r4(mean(tonal.degraded)), heuristic: r4(mean(tonal.heuristic)), model: r4(mean(tonal.model)), oracle: r4(mean(tonal.oracle)) },
    lufsErrorLu: { model: r4(mean(lufs.model)), heuristic: r4(mean(lufs.heuristic)) },
    coverage68: r4(mean(inside68.flat())),
    coverage95: r4(mean(inside95)),
    coverage68ByParameter: byParam((k) => r4(mean(inside68[k]!))),
    styleAccuracy: {
      excerpt: r4(mean(styleHits)),
      track: r4(mean(tracks.map((t) => (reference.styles[t.logp.indexOf(Math.max(...t.logp))] === t.style ? 1 : 0)))),
    },
    rows: rows.length,
  };
}
