// Reference matching: a target mix moved toward one or more reference tracks in tonal balance,
// loudness, dynamics and stereo width — as an ordinary, editable chain, never an opaque render.
//
// Tone: the level-free difference of the 1/3-octave spectra (reference blend minus target), scaled
// by the tone amount, bounded (±9 dB by default), its slope limited, boosts in the sub-sonic
// (below 20 Hz, where the subsonic high-pass works) and ultrasonic (above 18 kHz) regions capped at +3 dB, and bands above a lossy source's
// cutoff left alone — fitted by the chain's own parametric EQ (low shelf, four peaks, high shelf),
// evaluated with the render's own coefficients (native eqCurve), by weighted least squares.
// Loudness: the integrated loudness (BS.1770) moves toward the reference's, set later by the
// delivery search under a true-peak ceiling. Dynamics: where the target's loudness range is
// wider than the reference's, a slow RMS compressor with its threshold at the target's 10th
// short-term percentile and a ratio of LRA(target) / LRA(reference) (scaled by the amount) narrows
// it. Width: the side-to-mid ratio in three bands (below 200 Hz, 200 Hz–4 kHz, above) moves toward
// the reference's with the imager's per-band widths.
import { basename } from 'node:path';
import dsp from '#native-dsp';
import type { ChainDocument, GainBand } from '../chain/document.js';
import type { AudioProfile } from './profile.js';

export interface MatchAmounts {
  tone: number;
  loudness: number;
  dynamics: number;
  width: number;
}

export const FULL_MATCH: MatchAmounts = { tone: 1, loudness: 1, dynamics: 1, width: 1 };

export interface MatchReference {
  profile: AudioProfile;
  weight: number;
}

export interface MatchOptions {
  /** Largest EQ boost or cut (dB), default 9. */
  maxEqDb?: number;
  /** The limiter's ceiling for the matched master (dBTP), default −1. */
  ceilingDbtp?: number;
}

export interface MatchCurves {
  hz: number[];
  /** Level-free 1/3-octave spectra (dB, each relative to its own 100 Hz–8 kHz mean). */
  target: (number | null)[];
  reference: (number | null)[];
  /** What the tone match asks for (after amount, bounds and protection), and what the EQ does. */
  desired: number[];
  appliedEq: number[];
  /** The target's spectrum with the EQ applied. */
  predicted: (number | null)[];
}

export interface MatchPlan {
  chain: ChainDocument;
  /** The integrated loudness the delivery search aims at. */
  targetLufs: number;
  ceilingDbtp: number;
  curves: MatchCurves;
  width: { band: 'low' | 'mid' | 'high'; targetSideToMidDb: number | null; referenceSideToMidDb: number | null; width: number }[];
  dynamics: { targetLraLu: number | null; referenceLraLu: number | null; ratio: number | null; thresholdDbfs: number | null };
  warnings: string[];
}

const LEVEL_LOW_HZ = 100;
const LEVEL_HIGH_HZ = 8000;
const SUBSONIC_HZ = 20;
const ULTRASONIC_HZ = 18_000;
const PROTECTED_BOOST_DB = 3;
/** Largest change of the desired curve from one 1/3-octave band to the next. */
const MAX_STEP_DB = 4;
const WIDTH_BANDS = [
  { band: 'low' as const, lo: 0, hi: 200 },
  { band: 'mid' as const, lo: 200, hi: 4000 },
  { band: 'high' as const, lo: 4000, hi: 20_001 },
];

/** A spectrum relative to its own mean level over 100 Hz–8 kHz (power mean, in dB). */
function levelFree(bands: { hz: number; db: number | null }[]): (number | null)[] {
  const mid = bands.filter((b) => b.db !== null && b.hz >= LEVEL_LOW_HZ && b.hz <= LEVEL_HIGH_HZ);
  if (mid.length === 0) return bands.map(() => null);
  const level = mid.reduce((s, b) => s + b.db!, 0) / mid.length;
  return bands.map((b) => (b.db === null ? null : b.db - level));
}

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
const amountOf = (x: number) => clamp(x, 0, 1);

/** Warnings about a reference as a reference: lossy, clipped or crushed, another rate, mono. */
export function referenceWarnings(ref: AudioProfile, target: AudioProfile): string[] {
  const w: string[] = [];
  const name = basename(ref.file);
  if (ref.cutoffHz !== null) w.push(`${name}: a lossy source (its spectrum stops at ${(ref.cutoffHz / 1000).toFixed(1)} kHz); the tone match leaves the bands above that alone`);
  else if (ref.lossy) w.push(`${name}: a lossy file; its spectrum is used as it is`);
  if (ref.clippedRuns > 0) w.push(`${name}: clipped in ${ref.clippedRuns} place(s); its loudness and dynamics are those of a damaged master`);
  if (ref.plrDb !== null && ref.plrDb < 8) w.push(`${name}: heavily limited (peak-to-loudness ratio ${ref.plrDb.toFixed(1)} dB); matching its dynamics crushes the target too`);
  if (ref.sampleRate !== target.sampleRate) w.push(`${name}: ${ref.sampleRate} Hz where the target is ${target.sampleRate} Hz; spectra are compared in Hz and the target keeps its own rate`);
  if (ref.channels < 2 || ref.correlation === null || ref.correlation > 0.98) w.push(`${name}: mono (or nearly); its width is not matched`);
  return w;
}

/** The EQ stage with the given parameters (peaks as [freq, q, gain]). */
function eqWith(base: ChainDocument, p: number[]): ChainDocument {
  const gain = (freqHz: number, q: number, gainDb: number): GainBand => ({ enabled: Math.abs(gainDb) > 0.05, freqHz, q, gainDb });
  const peaks = [0, 1, 2, 3].map((k) => gain(2 ** p[4 + 3 * k]!, 2 ** p[5 + 3 * k]!, p[6 + 3 * k]!)) as ChainDocument['eq']['peaks'];
  return {
    ...base,
    eq: {
      ...base.eq,
      enabled: true,
      lowShelf: gain(2 ** p[0]!, 0.707, p[1]!),
      highShelf: gain(2 ** p[2]!, 0.707, p[3]!),
      peaks,
    },
  };
}

/** Fits the chain's parametric EQ to `desired` (dB at `hz`, weights `w`): coordinate descent. */
function fitEq(base: ChainDocument, sampleRate: number, hz: number[], desired: number[], w: number[], maxEqDb: number): ChainDocument {
  const frequencies = Float32Array.from(hz);
  // The EQ stage's own high-pass is part of every evaluated response, so the fit allows for it.
  const cost = (p: number[]) => {
    const r = dsp.eqCurve({ sampleRate, chain: eqWith(base, p), frequencies });
    let c = 0;
    for (let i = 0; i < hz.length; i++) c += w[i]! * (r[i]! - desired[i]!) ** 2;
    // A small price on every dB moved: no band is used for nothing.
    for (const g of [p[1]!, p[3]!, p[6]!, p[9]!, p[12]!, p[15]!]) c += 1e-3 * g * g;
    return c;
  };
  const lo = Math.log2(Math.max(20, hz[0]!));
  const hi = Math.log2(Math.min(20_000, 0.45 * sampleRate));
  // Start: shelves from the ends, peaks where the residual is largest.
  const mean = (from: number, to: number) => {
    let s = 0;
    let n = 0;
    hz.forEach((f, i) => {
      if (f >= from && f <= to && w[i]! > 0) {
        s += desired[i]!;
        n++;
      }
    });
    return n ? s / n : 0;
  };
  const p = [Math.log2(120), clamp(mean(30, 80), -maxEqDb, maxEqDb), Math.log2(8000), clamp(mean(10_000, 16_000), -maxEqDb, maxEqDb)];
  const shelvesOnly = [...p, ...[250, 1000, 3000, 8000].flatMap((f) => [Math.log2(f), 0, 0])];
  let residual = Array.from(dsp.eqCurve({ sampleRate, chain: eqWith(base, shelvesOnly), frequencies }), (r, i) => desired[i]! - r);
  const used: number[] = [];
  for (let k = 0; k < 4; k++) {
    let best = -1;
    hz.forEach((f, i) => {
      if (w[i]! <= 0 || used.some((u) => Math.abs(Math.log2(f / u)) < 0.5)) return;
      if (best < 0 || Math.abs(residual[i]!) * w[i]! > Math.abs(residual[best]!) * w[best]!) best = i;
    });
    const f = best >= 0 ? hz[best]! : [250, 1000, 3000, 8000][k]!;
    const g = best >= 0 ? clamp(residual[best]!, -maxEqDb, maxEqDb) : 0;
    used.push(f);
    p.push(Math.log2(f), Math.log2(1.2), g);
    residual = residual.map((r, i) => r - g * Math.exp(-((Math.log2(hz[i]! / f) / 0.6) ** 2)));
  }
  // Bounds per parameter: frequency (log2 Hz), Q (log2), gain (dB).
  const bounds = (j: number): [number, number] => {
    if (j === 0) return [Math.log2(25), Math.log2(500)];
    if (j === 2) return [Math.log2(2000), Math.min(hi, Math.log2(16_000))];
    if (j === 1 || j === 3) return [-maxEqDb, maxEqDb];
    const k = (j - 4) % 3;
    if (k === 0) return [lo, hi];
    // Q up to 3 (about half an octave): a match is broad; narrower moves chase measurement detail.
    if (k === 1) return [Math.log2(0.3), Math.log2(3)];
    return [-maxEqDb, maxEqDb];
  };
  const step = p.map((_, j) => (j === 1 || j === 3 || (j >= 4 && (j - 4) % 3 === 2) ? 1 : 0.25));
  let c = cost(p);
  for (let sweep = 0; sweep < 80; sweep++) {
    let improved = false;
    for (let j = 0; j < p.length; j++) {
      const [a, b] = bounds(j);
      for (const dir of [1, -1]) {
        const q = [...p];
        q[j] = clamp(p[j]! + dir * step[j]!, a, b);
        if (q[j] === p[j]) continue;
        const cq = cost(q);
        if (cq < c) {
          p[j] = q[j]!;
          c = cq;
          improved = true;
          break;
        }
      }
    }
    if (!improved) {
      for (let j = 0; j < step.length; j++) step[j]! /= 2;
      if (Math.max(...step) < 0.01) break;
    }
  }
  return eqWith(base, p);
}

/** Plans the chain and loudness that move `target` toward the weighted `references`. */
export function planMatch(target: AudioProfile, references: MatchReference[], amounts: MatchAmounts, base: ChainDocument, options: MatchOptions = {}): MatchPlan {
  const maxEqDb = options.maxEqDb ?? 9;
  const ceilingDbtp = options.ceilingDbtp ?? -1;
  const warnings = references.flatMap((r) => referenceWarnings(r.profile, target));
  const total = references.reduce((s, r) => s + r.weight, 0);
  const weights = references.map((r) => r.weight / total);
  const hz = target.thirdOctave.map((b) => b.hz);
  const tgt = levelFree(target.thirdOctave);
  const refs = references.map((r) => levelFree(r.profile.thirdOctave));
  // Bands above any lossy cutoff, or above 45 % of either rate, are not matched.
  const cutoff = Math.min(target.cutoffHz ?? Infinity, ...references.map((r) => r.profile.cutoffHz ?? Infinity), 0.45 * target.sampleRate, ...references.map((r) => 0.45 * r.profile.sampleRate));
  const blend = hz.map((_, i) => {
    if (refs.some((r) => r[i] === null)) return null;
    return refs.reduce((s, r, k) => s + weights[k]! * r[i]!, 0);
  });
  const tone = amountOf(amounts.tone);
  const desired: number[] = [];
  const w: number[] = [];
  hz.forEach((f, i) => {
    const ok = blend[i] !== null && tgt[i] !== null && f <= cutoff * 0.9 && f >= 20;
    let d = ok ? tone * (blend[i]! - tgt[i]!) : 0;
    if (f < SUBSONIC_HZ || f > ULTRASONIC_HZ) d = Math.min(d, PROTECTED_BOOST_DB);
    desired.push(clamp(d, -maxEqDb, maxEqDb));
    w.push(ok ? (f < SUBSONIC_HZ || f > ULTRASONIC_HZ ? 0.5 : 1) : 0.1);
  });
  // Slope limit: from the middle outward, no band moves more than MAX_STEP_DB from its neighbour.
  const mid = hz.findIndex((f) => f >= 1000);
  for (let i = mid + 1; i < desired.length; i++) desired[i] = clamp(desired[i]!, desired[i - 1]! - MAX_STEP_DB, desired[i - 1]! + MAX_STEP_DB);
  for (let i = mid - 1; i >= 0; i--) desired[i] = clamp(desired[i]!, desired[i + 1]! - MAX_STEP_DB, desired[i + 1]! + MAX_STEP_DB);

  // The matched chain keeps a gentle subsonic filter low enough not to colour 20 Hz.
  let chain: ChainDocument = { ...base, eq: { ...base.eq, highPass: { ...base.eq.highPass, freqHz: Math.min(base.eq.highPass.freqHz, 10) } } };
  if (tone > 0) chain = fitEq(chain, target.sampleRate, hz, desired, w, maxEqDb);
  else chain = { ...chain, eq: { ...chain.eq, lowShelf: { ...chain.eq.lowShelf, enabled: false, gainDb: 0 }, highShelf: { ...chain.eq.highShelf, enabled: false, gainDb: 0 }, peaks: chain.eq.peaks.map((p) => ({ ...p, enabled: false, gainDb: 0 })) as ChainDocument['eq']['peaks'] } };
  const applied = Array.from(dsp.eqCurve({ sampleRate: target.sampleRate, chain, frequencies: Float32Array.from(hz) }));
  const predicted = levelFree(hz.map((f, i) => ({ hz: f, db: target.thirdOctave[i]!.db === null ? null : target.thirdOctave[i]!.db! + applied[i]! })));

  // Width, per band, in dB of side-to-mid.
  const bandMean = (p: AudioProfile, lo: number, hi: number) => {
    const v = p.sideToMid.filter((b) => b.hz >= lo && b.hz < hi && b.db !== null).map((b) => b.db!);
    return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
  };
  const widthAmount = amountOf(amounts.width);
  const stereoRefs = references.map((r, k) => ({ r, k })).filter(({ r }) => r.profile.channels >= 2 && r.profile.correlation !== null && r.profile.correlation <= 0.98);
  const width = WIDTH_BANDS.map(({ band, lo, hi }) => {
    const t = target.channels >= 2 ? bandMean(target, lo, hi) : null;
    const parts = stereoRefs.map(({ r, k }) => ({ v: bandMean(r.profile, lo, hi), w: weights[k]! })).filter((x) => x.v !== null);
    const wsum = parts.reduce((s, x) => s + x.w, 0);
    const ref = parts.length ? parts.reduce((s, x) => s + x.w * x.v!, 0) / wsum : null;
    let factor = 1;
    if (t !== null && ref !== null && t > -40 && widthAmount > 0) factor = clamp(10 ** ((widthAmount * (ref - t)) / 20), 0, 2);
    return { band, targetSideToMidDb: t, referenceSideToMidDb: ref, width: Number(factor.toFixed(3)) };
  });
  if (widthAmount > 0 && target.channels >= 2 && width.some((b) => b.targetSideToMidDb !== null && b.targetSideToMidDb <= -40 && b.referenceSideToMidDb !== null && b.referenceSideToMidDb > -40)) {
    warnings.push('the target is mono (or nearly) where the reference is wide: width cannot be created from nothing, so it is left as it is');
  }
  if (width.some((b) => Math.abs(b.width - 1) > 0.01)) {
    chain = { ...chain, imager: { ...chain.imager, enabled: true, multiband: true, lowCrossoverHz: 200, highCrossoverHz: 4000, lowWidth: width[0]!.width, midWidth: width[1]!.width, highWidth: width[2]!.width } };
  }

  // Dynamics: narrow a wider loudness range toward the reference's.
  const refLra = weightedMean(references.map((r, k) => ({ v: r.profile.loudnessRangeLu, w: weights[k]! })));
  const tLra = target.loudnessRangeLu;
  const dynAmount = amountOf(amounts.dynamics);
  let dynamics: MatchPlan['dynamics'] = { targetLraLu: tLra, referenceLraLu: refLra, ratio: null, thresholdDbfs: null };
  if (tLra !== null && refLra !== null && dynAmount > 0) {
    if (tLra > refLra + 0.5 && target.shortTermPercentilesLufs.p10 !== null) {
      const ratio = Number((1 + dynAmount * (clamp(tLra / Math.max(refLra, 1), 1, 6) - 1)).toFixed(2));
      const thresholdDbfs = Number(clamp(target.shortTermPercentilesLufs.p10, -60, -1).toFixed(1));
      dynamics = { targetLraLu: tLra, referenceLraLu: refLra, ratio, thresholdDbfs };
      chain = {
        ...chain,
        compressor: { ...chain.compressor, enabled: ratio > 1.01, mode: 'single', detection: 'rms', rmsWindowMs: 300, kneeDb: 6, band: { thresholdDbfs, ratio, attackMs: 80, releaseMs: 600, makeupDb: 0 } },
      };
    } else if (tLra < refLra - 1) {
      warnings.push(`the target's loudness range (${tLra.toFixed(1)} LU) is narrower than the reference's (${refLra.toFixed(1)} LU); Lathe compresses but never expands, so dynamics are left as they are`);
    }
  }

  // Loudness: toward the reference's integrated loudness.
  const refLufs = weightedMean(references.map((r, k) => ({ v: r.profile.integratedLufs, w: weights[k]! })));
  const tLufs = target.integratedLufs;
  const loud = amountOf(amounts.loudness);
  const targetLufs = tLufs === null ? (refLufs ?? -14) : refLufs === null ? tLufs : tLufs + loud * (refLufs - tLufs);
  return {
    chain,
    targetLufs: Number(targetLufs.toFixed(2)),
    ceilingDbtp,
    curves: { hz, target: tgt, reference: blend, desired, appliedEq: applied, predicted },
    width,
    dynamics,
    warnings,
  };
}

/** One paragraph saying what the plan does and why (for the UI and logs). */
export function matchSummary(plan: MatchPlan): string {
  const eq = plan.chain.eq;
  const moves = [eq.lowShelf, ...eq.peaks, eq.highShelf].filter((b) => b.enabled).map((b) => `${b.gainDb >= 0 ? '+' : ''}${b.gainDb.toFixed(1)} dB at ${Math.round(b.freqHz)} Hz`);
  const parts = [moves.length ? `EQ ${moves.join(', ')}` : 'no EQ', `loudness to ${plan.targetLufs.toFixed(1)} LUFS under ${plan.ceilingDbtp} dBTP`];
  if (plan.dynamics.ratio) parts.push(`compression ${plan.dynamics.ratio}:1 from ${plan.dynamics.thresholdDbfs} dBFS (loudness range ${plan.dynamics.targetLraLu?.toFixed(1)} → ${plan.dynamics.referenceLraLu?.toFixed(1)} LU)`);
  if (plan.chain.imager.enabled) parts.push(`width ${plan.width.map((b) => `${b.band} ×${b.width.toFixed(2)}`).join(', ')}`);
  return `${parts.join('; ')}.${plan.warnings.length ? ` ${plan.warnings.join(' ')}` : ''}`;
}

function weightedMean(xs: { v: number | null; w: number }[]): number | null {
  const ok = xs.filter((x) => x.v !== null);
  const w = ok.reduce((s, x) => s + x.w, 0);
  return ok.length && w > 0 ? ok.reduce((s, x) => s + x.w * x.v!, 0) / w : null;
}

/** Parses `tone=0.8,dynamics=0.5` (values 0–1 or percentages) over the full match. */
export function parseAmounts(text: string | undefined): MatchAmounts {
  const out = { ...FULL_MATCH };
  if (!text) return out;
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^(tone|loudness|dynamics|width)=([\d.]+)(%?)$/);
    if (!m) throw new Error(`"${part}" is not aspect=amount (aspects: tone, loudness, dynamics, width; amounts 0–1 or 0–100%)`);
    const v = Number(m[2]) / (m[3] ? 100 : 1);
    if (!(v >= 0 && v <= 1)) throw new Error(`${m[1]}'s amount must be from 0 to 1 (or 0–100%)`);
    out[m[1] as keyof MatchAmounts] = v;
  }
  return out;
}
