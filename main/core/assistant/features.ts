// The assistant's input: one feature vector per piece of audio, computed from the native
// analyser's report. The dataset generator (models/training/dataset.mjs) and the app call the same
// function on the same native measurements, so training and inference see identical features.
// Everything is relative where it can be (band levels against the whole, short-term percentiles
// against the integrated loudness) so that a level change moves only the level features.
import dsp, { type NativeAnalysis } from '#native-dsp';
import { LatheError } from '../errors.js';
import { decodeInterleaved, decodeToFd } from '../media/decode.js';
import { probeFile, type AudioProbe } from '../media/probe.js';

/** IEC 61260 nominal centres of the analyser's 31 third-octave bands (20 Hz – 20 kHz). */
export const THIRD_OCTAVE_HZ = [
  20, 25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000,
  6300, 8000, 10000, 12500, 16000, 20000,
] as const;

/** The fine tonal curve is resampled onto this fixed log grid (the analyser's own grid follows the rate). */
export const CURVE_POINTS = 96;
export const CURVE_LOW_HZ = 25;
export const CURVE_HIGH_HZ = 16_000;
export const curveGridHz = (): number[] =>
  Array.from({ length: CURVE_POINTS }, (_, i) => CURVE_LOW_HZ * (CURVE_HIGH_HZ / CURVE_LOW_HZ) ** (i / (CURVE_POINTS - 1)));

const BAND_FLOOR_DB = -80;
const SIDE_FLOOR_DB = -40;
const SIDE_CEIL_DB = 10;

export const SCALAR_FEATURES = [
  'integratedLufs',
  'truePeakDbtp',
  'samplePeakDbfs',
  'plrDb',
  'crestFactorDb',
  'loudnessRangeLu',
  'shortTermP10RelLu',
  'shortTermP50RelLu',
  'shortTermP95RelLu',
  'momentaryMaxRelLu',
  'correlation',
  'sideToMidDb',
  'centroidLog2kHz',
  'rolloffLog2kHz',
] as const;

/** Names of the feature vector's entries, in order (the model card lists the same). */
export function featureNames(): string[] {
  return [
    ...THIRD_OCTAVE_HZ.map((hz) => `bandRelDb@${hz}`),
    ...THIRD_OCTAVE_HZ.map((hz) => `sideToMidDb@${hz}`),
    ...curveGridHz().map((hz) => `curveRelDb@${hz.toFixed(1)}`),
    ...SCALAR_FEATURES,
  ];
}

export const FEATURE_COUNT = THIRD_OCTAVE_HZ.length * 2 + CURVE_POINTS + SCALAR_FEATURES.length;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const orElse = (x: number | null | undefined, fallback: number) => (x === null || x === undefined || !Number.isFinite(x) ? fallback : x);

/** Band levels (dB) of the third-octave bands, relative to the power sum of all bands. */
export function relativeBands(bandsDb: (number | null)[]): number[] {
  let power = 0;
  for (const db of bandsDb) if (db !== null && Number.isFinite(db)) power += 10 ** (db / 10);
  const whole = power > 0 ? 10 * Math.log10(power) : 0;
  return bandsDb.map((db) => clamp(orElse(db, whole + BAND_FLOOR_DB) - whole, BAND_FLOOR_DB, 0));
}

/** The analyser's 1/6-octave curve on the fixed grid, relative to its mean. */
function relativeCurve(hz: Float32Array, db: Float32Array): number[] {
  const grid = curveGridHz();
  const out: number[] = [];
  let j = 0;
  for (const f of grid) {
    while (j + 1 < hz.length - 1 && hz[j + 1]! < f) j++;
    const f0 = hz[j]!;
    const f1 = hz[Math.min(j + 1, hz.length - 1)]!;
    const d0 = orElse(db[j], -120);
    const d1 = orElse(db[Math.min(j + 1, db.length - 1)], -120);
    const t = f1 > f0 ? clamp(Math.log(f / f0) / Math.log(f1 / f0), 0, 1) : 0;
    out.push(Math.max(-120, d0 + t * (d1 - d0)));
  }
  const mean = out.reduce((a, b) => a + b, 0) / out.length;
  return out.map((v) => clamp(v - mean, -60, 30));
}

/** The feature vector of one analysis (see featureNames). Throws when the audio is silent. */
export function featuresFromNative(r: NativeAnalysis): Float32Array {
  const l = r.loudness;
  const t = r.timeDomain;
  const sp = r.spectral;
  if (l.integratedLufs === null || !Number.isFinite(l.integratedLufs)) {
    throw new LatheError('NO_SAMPLES', 'the audio is silent (no gated loudness), so the assistant has nothing to listen to');
  }
  if (sp.thirdOctave.length !== THIRD_OCTAVE_HZ.length) {
    throw new LatheError('NATIVE_DSP', `the analyser reported ${sp.thirdOctave.length} third-octave bands, the assistant expects ${THIRD_OCTAVE_HZ.length}`);
  }
  const integrated = l.integratedLufs;
  const bands = relativeBands(sp.thirdOctave.map((b) => b.db));
  const side = THIRD_OCTAVE_HZ.map((_, i) => clamp(orElse(sp.sideToMidDb[i], SIDE_FLOOR_DB), SIDE_FLOOR_DB, SIDE_CEIL_DB));
  const curve = sp.curve.hz.length > 1 ? relativeCurve(sp.curve.hz, sp.curve.db) : new Array<number>(CURVE_POINTS).fill(0);
  const rel = (x: number | null, fallback: number) => clamp(orElse(x, integrated + fallback) - integrated, -40, 20);
  const truePeak = orElse(l.truePeakDbtp, integrated);
  const scalars = [
    integrated,
    truePeak,
    orElse(l.samplePeakDbfs, truePeak),
    orElse(l.plrDb, truePeak - integrated),
    orElse(t.crestFactorDb, 10),
    orElse(l.loudnessRangeLu, 0),
    rel(l.shortTermPercentilesLufs.p10, 0),
    rel(l.shortTermPercentilesLufs.p50, 0),
    rel(l.shortTermPercentilesLufs.p95, 0),
    rel(l.momentaryMaxLufs, 0),
    orElse(t.stereo?.correlation, 1),
    clamp(orElse(t.stereo?.sideToMidDb, SIDE_FLOOR_DB), SIDE_FLOOR_DB, SIDE_CEIL_DB),
    Math.log2(Math.max(20, orElse(sp.spectralCentroidHz, 1000)) / 1000),
    Math.log2(Math.max(20, orElse(sp.rolloffHz, 5000)) / 1000),
  ];
  const v = Float32Array.from([...bands, ...side, ...curve, ...scalars]);
  if (v.length !== FEATURE_COUNT) throw new Error(`feature vector has ${v.length} entries, expected ${FEATURE_COUNT}`);
  return v;
}

/** Analyser settings shared by training and inference (a tiny spectrogram: the model does not use it). */
export function assistantAnalyzerOptions(sampleRate: number, channelNames: string[], threads: 1 | 2 = 2) {
  return { sampleRate, channelNames, spectrogramColumns: 8, spectrogramRows: 8, threads, meters: 'all' as const };
}

/** Measures planar audio in memory (training excerpts, tests). */
export function analysePlanes(planes: Float32Array[], sampleRate: number, channelNames?: string[]): NativeAnalysis {
  const names = channelNames ?? (planes.length === 2 ? ['FL', 'FR'] : planes.length === 1 ? ['FC'] : planes.map((_, i) => `c${i}`));
  const h = dsp.analyzerCreate(assistantAnalyzerOptions(sampleRate, names, 1));
  dsp.analyzerProcess(h, planes);
  return dsp.analyzerFinish(h);
}

/** Decodes and measures a whole file for the assistant (streaming; memory stays bounded). */
export async function analyseFileForAssistant(file: string, options: { signal?: AbortSignal } = {}): Promise<{ probe: AudioProbe; analysis: NativeAnalysis }> {
  const probe = await probeFile(file, options.signal);
  let handle;
  try {
    handle = dsp.analyzerCreate(assistantAnalyzerOptions(probe.sampleRate, probe.channelNames));
  } catch (e) {
    throw new LatheError('UNSUPPORTED_FORMAT', `cannot be analysed: ${(e as Error).message}`, { file, cause: e });
  }
  const { pipeCreate, fdClose, analyzerProcessFd } = dsp;
  if (pipeCreate && fdClose && analyzerProcessFd) {
    await decodeToFd(probe, { pipeCreate, fdClose }, (fd, max) => analyzerProcessFd(handle, fd, max), { signal: options.signal });
  } else {
    for await (const chunk of decodeInterleaved(probe, { signal: options.signal })) dsp.analyzerProcessInterleaved(handle, chunk);
  }
  return { probe, analysis: dsp.analyzerFinish(handle) };
}
