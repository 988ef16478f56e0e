// Turns the model's outputs into a proposal an engineer can read and a chain the engine renders:
// per parameter a value, unit, confidence (the predicted probability that the move is right to
// within its tolerance), whether it is applied automatically, and a reason computed from the
// measured evidence. Also the style suggestion, a profile's loudness and chain tendencies, the
// user's remembered lean, and three variations (gentle, balanced, loud).
import type { NativeAnalysis } from '#native-dsp';
import { defaultChain, validateChain, type ChainDocument } from '../chain/document.js';
import type { StyleProfile } from '../delivery/targets.js';
import type { AssistantCard } from './card.js';
import { THIRD_OCTAVE_HZ, relativeBands } from './features.js';
import { eqResponseDb } from './metrics.js';
import type { Prediction } from './model.js';
import { PARAMETERS, applyMoves, clamp, round, toDisplayValue, type ParameterId, type ParameterSpec } from './parameters.js';

export interface ParameterProposal {
  id: ParameterId;
  path: string;
  /** In the chain's unit (dB, or the width factor). */
  value: number;
  unit: string;
  /** 0–1: predicted probability that the true correction lies within ± tolerance of the value. */
  confidence: number;
  autoApply: boolean;
  reason: string;
  /** The model's own output (model units) and its standard deviation, before the user's lean. */
  model: { value: number; sigma: number; unit: string };
  /** The remembered user lean included in `value` (model units), if any. */
  userLean?: { delta: number; count: number };
}

export interface Proposal {
  model: { name: string; version: string; architecture: string };
  chain: ChainDocument;
  parameters: ParameterProposal[];
  style: {
    suggested: string;
    probability: number;
    lowConfidence: boolean;
    testAccuracy: number;
    probabilities: Record<string, number>;
    /** The profile the proposal was combined with (chosen by the user), or null. */
    applied: string | null;
  };
  loudness: { measuredLufs: number; expectedAfterCorrectionLufs: number; targetLufs: number | null; limiterInputGainDb: number };
  variations: { gentle: ChainDocument; balanced: ChainDocument; loud: ChainDocument };
}

export interface ProposalOptions {
  profile?: StyleProfile;
  /** Overrides the profile's typical loudness. */
  targetLufs?: number;
  lean?: Partial<Record<ParameterId, { delta: number; count: number }>>;
}

const erf = (x: number) => {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): plenty for a confidence shown to two decimals.
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
};

/** P(|truth − mean| ≤ tolerance) under the predicted Gaussian. */
export function confidenceOf(sigma: number, tolerance: number): number {
  return sigma > 0 ? erf(tolerance / (sigma * Math.SQRT2)) : 1;
}

const signed = (x: number, digits = 1) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
const hzText = (hz: number) => (hz >= 1000 ? `${Number((hz / 1000).toFixed(1))} kHz` : `${Math.round(hz)} Hz`);

function regionMean(rel: number[], [lo, hi]: [number, number]): number {
  const idx = THIRD_OCTAVE_HZ.map((hz, i) => [hz, i] as const).filter(([hz]) => hz >= lo && hz <= hi).map(([, i]) => i);
  return idx.reduce((a, i) => a + rel[i]!, 0) / Math.max(1, idx.length);
}

function reasonFor(spec: ParameterSpec, value: number, sigma: number, a: NativeAnalysis, reference: number[], referenceName: string, medianLufs: number): string {
  if (spec.regionHz) {
    const rel = relativeBands(a.spectral.thirdOctave.map((b) => b.db));
    // Compare shapes, not levels: both curves are taken relative to their own mean over 31.5 Hz – 16 kHz.
    const scored = THIRD_OCTAVE_HZ.map((hz, i) => [hz, i] as const).filter(([hz]) => hz >= 31.5 && hz <= 16000).map(([, i]) => i);
    const centre = (v: number[]) => scored.reduce((s, i) => s + v[i]!, 0) / scored.length;
    const mRel = rel.map((x) => x - centre(rel));
    const rRel = reference.map((x) => x - centre(reference));
    const diff = regionMean(mRel, spec.regionHz) - regionMean(rRel, spec.regionHz);
    const where = `${hzText(spec.regionHz[0])}–${hzText(spec.regionHz[1])}`;
    const cmp = Math.abs(diff) < 0.25 ? `is level with ${referenceName}` : `is ${Math.abs(diff).toFixed(1)} dB ${diff > 0 ? 'above' : 'below'} ${referenceName}`;
    return `${spec.label} ${signed(value)} dB: ${where} ${cmp}; the model reads the spectrum's shape there as needing ${signed(value)} ± ${sigma.toFixed(1)} dB`;
  }
  if (spec.id === 'width') {
    const st = a.timeDomain.stereo;
    const factor = 2 ** value;
    const side = st?.sideToMidDb;
    const evidence = st ? `side is ${side === null || side === undefined ? '—' : `${Math.abs(side).toFixed(1)} dB ${side < 0 ? 'below' : 'above'}`} mid, correlation ${st.correlation?.toFixed(2) ?? '—'}` : 'no stereo pair';
    const move = Math.abs(factor - 1) < 0.02 ? 'leave the width as it is' : factor > 1 ? `widen ×${factor.toFixed(2)}` : `narrow ×${factor.toFixed(2)}`;
    return `${move}: ${evidence}; predicted ×${factor.toFixed(2)} (×${(2 ** (value - sigma)).toFixed(2)}–×${(2 ** (value + sigma)).toFixed(2)})`;
  }
  const l = a.loudness;
  return `level ${signed(value)} dB: integrated ${l.integratedLufs?.toFixed(1) ?? '—'} LUFS, true peak ${l.truePeakDbtp?.toFixed(1) ?? '—'} dBTP, PLR ${l.plrDb?.toFixed(1) ?? '—'} dB (the corpus's masters sit around ${medianLufs.toFixed(1)} LUFS with peaks near full scale); predicted ${signed(value)} ± ${sigma.toFixed(1)} dB`;
}

/** The loudness change of the EQ moves on this spectrum: native EQ response applied to the measured
 *  band powers (unweighted, so an estimate of the LUFS change). */
function eqLoudnessChangeDb(a: NativeAnalysis, values: number[]): number {
  const bands = a.spectral.thirdOctave;
  const response = eqResponseDb(values, a.sampleRate);
  let before = 0;
  let after = 0;
  bands.forEach((b, i) => {
    if (b.db === null) return;
    before += 10 ** (b.db / 10);
    after += 10 ** ((b.db + response[i]!) / 10);
  });
  return before > 0 && after > 0 ? 10 * Math.log10(after / before) : 0;
}

export function buildProposal(prediction: Prediction, analysis: NativeAnalysis, card: AssistantCard, options: ProposalOptions = {}): Proposal {
  const probs = prediction.styleProbabilities;
  const best = probs.indexOf(Math.max(...probs));
  const suggested = card.styles[best]!;
  const profileId = options.profile?.id ?? null;
  const refStyle = profileId && card.tonalReference.byStyle[profileId] ? profileId : null;
  const reference = refStyle ? card.tonalReference.byStyle[refStyle]! : card.tonalReference.averageRelDb;
  const referenceName = refStyle ? `the ${refStyle} average` : 'the corpus-average balance';

  const parameters: ParameterProposal[] = PARAMETERS.map((spec, k) => {
    const raw = prediction.mean[k]!;
    const sigma = Math.exp(prediction.logVariance[k]! / 2);
    const lean = options.lean?.[spec.id];
    const modelValue = clamp(raw + (lean?.delta ?? 0), spec.min, spec.max);
    const confidence = confidenceOf(sigma, spec.toleranceModelUnits);
    return {
      id: spec.id,
      path: spec.path,
      value: round(toDisplayValue(spec, modelValue), spec.id === 'width' ? 3 : 2),
      unit: spec.unit,
      confidence: round(confidence, 3),
      autoApply: confidence >= card.autoApplyConfidence,
      reason: reasonFor(spec, modelValue, sigma, analysis, reference, referenceName, card.tonalReference.medianCleanLufs),
      model: { value: round(raw, 4), sigma: round(sigma, 4), unit: spec.modelUnit },
      ...(lean ? { userLean: { delta: round(lean.delta, 4), count: lean.count } } : {}),
    };
  });
  // Only confident moves go into the chain; the rest stay neutral ("suggest only").
  const applied = PARAMETERS.map((spec, k) => {
    const p = parameters[k]!;
    if (!p.autoApply) return 0;
    return spec.id === 'width' ? Math.log2(p.value) : p.value;
  });
  const base = defaultChain();
  base.name = `assistant ${card.model.name} ${card.model.version}`;
  const tendencies = options.profile?.chainTendencies;
  if (tendencies?.lowEndMonoBelowHz) base.imager.monoBelowHz = tendencies.lowEndMonoBelowHz;
  if (tendencies?.limiterReleaseMs) {
    base.limiter.releaseMs = tendencies.limiterReleaseMs;
    base.limiter.autoRelease = false;
  }
  if (base.imager.monoBelowHz !== null) base.imager.enabled = true;

  const measuredLufs = analysis.loudness.integratedLufs ?? -70;
  const levelK = PARAMETERS.findIndex((s) => s.id === 'level');
  const expected = measuredLufs + applied[levelK]! + eqLoudnessChangeDb(analysis, applied);
  const targetLufs = options.targetLufs ?? options.profile?.integratedLufs.typical ?? null;
  const maxGr = tendencies?.limiterMaxGainReductionDb ?? 6;
  const limiterGain = targetLufs === null ? 0 : clamp(targetLufs - expected, -24, maxGr + 6);
  base.limiter.inputGainDb = round(limiterGain, 2);

  const balanced = applyMoves(applied, base);
  const gentle = applyMoves(applied.map((v, k) => (PARAMETERS[k]!.id === 'level' ? v : v * 0.5)), { ...base, limiter: { ...base.limiter, inputGainDb: round(limiterGain - 2, 2) } });
  gentle.name = `${base.name} (gentle)`;
  const loudBase = structuredClone(base);
  loudBase.limiter.inputGainDb = round(clamp(limiterGain + 3, -24, 24), 2);
  loudBase.compressor.enabled = true;
  loudBase.compressor.band = { thresholdDbfs: -20, ratio: Math.max(1.5, tendencies?.compressorRatio ?? 2), attackMs: tendencies?.compressorAttackMs ?? 30, releaseMs: tendencies?.compressorReleaseMs ?? 150, makeupDb: 0 };
  const loud = applyMoves(applied, loudBase);
  loud.name = `${base.name} (loud)`;

  return {
    model: { name: card.model.name, version: card.model.version, architecture: card.model.architecture },
    chain: validateChain(balanced),
    parameters,
    style: {
      suggested,
      probability: round(probs[best]!, 3),
      lowConfidence: card.styleSuggestion.lowConfidence || probs[best]! < 0.5,
      testAccuracy: card.styleSuggestion.testAccuracyExcerpt,
      probabilities: Object.fromEntries(card.styles.map((s, i) => [s, round(probs[i]!, 3)])),
      applied: profileId,
    },
    loudness: { measuredLufs: round(measuredLufs, 2), expectedAfterCorrectionLufs: round(expected, 2), targetLufs, limiterInputGainDb: round(limiterGain, 2) },
    variations: { gentle: validateChain(gentle), balanced, loud: validateChain(loud) },
  };
}

/** Reads the seven parameters back out of a chain (model units), e.g. the one a user exported. */
export function movesFromChain(chain: ChainDocument): Record<ParameterId, number> {
  const eq = chain.eq;
  const g = (b: { enabled: boolean; gainDb: number }) => (eq.enabled && b.enabled ? b.gainDb : 0);
  return {
    lowShelf100: g(eq.lowShelf),
    peak250: g(eq.peaks[0]),
    peak1k: g(eq.peaks[1]),
    peak3k: g(eq.peaks[2]),
    highShelf8k: g(eq.highShelf),
    width: chain.imager.enabled && chain.imager.width > 0 ? Math.log2(chain.imager.width) : 0,
    level: eq.enabled ? eq.inputGainDb : 0,
  };
}
