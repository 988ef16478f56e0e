// The assistant's correction set: the seven chain parameters the model predicts, with units,
// ranges and where each lands in a chain document. The dataset generator degrades audio with the
// inverse of exactly these moves, so a prediction is directly "the chain that undoes it".
import { defaultChain, validateChain, type ChainDocument } from '../chain/document.js';

export type ParameterId = 'lowShelf100' | 'peak250' | 'peak1k' | 'peak3k' | 'highShelf8k' | 'width' | 'level';

export interface ParameterSpec {
  id: ParameterId;
  /** Path in the chain document. */
  path: string;
  /** Unit of the value shown to the engineer (the model's own output unit is `modelUnit`). */
  unit: string;
  modelUnit: string;
  /** Range of the correction (model units); normalised MAE divides by max − min. */
  min: number;
  max: number;
  label: string;
  /** Filter centre for EQ moves. */
  freqHz?: number;
  q?: number;
  /** The band region (Hz) whose level is the evidence for the move. */
  regionHz?: [number, number];
  /** A prediction counts as "right" within ± this (model units): confidence is the predicted probability of that. */
  toleranceModelUnits: number;
}

export const PARAMETERS: readonly ParameterSpec[] = [
  { id: 'lowShelf100', path: 'eq.lowShelf.gainDb', unit: 'dB', modelUnit: 'dB', min: -8, max: 8, label: 'low shelf at 100 Hz', freqHz: 100, q: 0.707, regionHz: [31.5, 125], toleranceModelUnits: 1 },
  { id: 'peak250', path: 'eq.peaks[0].gainDb', unit: 'dB', modelUnit: 'dB', min: -8, max: 8, label: 'bell at 250 Hz', freqHz: 250, q: 1, regionHz: [160, 400], toleranceModelUnits: 1 },
  { id: 'peak1k', path: 'eq.peaks[1].gainDb', unit: 'dB', modelUnit: 'dB', min: -8, max: 8, label: 'bell at 1 kHz', freqHz: 1000, q: 1, regionHz: [630, 1600], toleranceModelUnits: 1 },
  { id: 'peak3k', path: 'eq.peaks[2].gainDb', unit: 'dB', modelUnit: 'dB', min: -8, max: 8, label: 'bell at 3 kHz', freqHz: 3000, q: 1, regionHz: [2000, 5000], toleranceModelUnits: 1 },
  { id: 'highShelf8k', path: 'eq.highShelf.gainDb', unit: 'dB', modelUnit: 'dB', min: -8, max: 8, label: 'high shelf at 8 kHz', freqHz: 8000, q: 0.707, regionHz: [8000, 16000], toleranceModelUnits: 1 },
  // Width is predicted as log2 of the imager's width factor (symmetric: ×2 and ×½ are ±1).
  { id: 'width', path: 'imager.width', unit: '×', modelUnit: 'log2 ×', min: Math.log2(1 / 1.5), max: 1, label: 'stereo width', toleranceModelUnits: 0.1 },
  { id: 'level', path: 'eq.inputGainDb', unit: 'dB', modelUnit: 'dB', min: -2, max: 13, label: 'level (gain into the chain)', toleranceModelUnits: 0.5 },
];

export const PARAMETER_COUNT = PARAMETERS.length;
export const EQ_PARAMETERS = PARAMETERS.slice(0, 5);

/** The engineer-facing value of a model output (width: the factor). */
export function toDisplayValue(spec: ParameterSpec, modelValue: number): number {
  return spec.id === 'width' ? 2 ** modelValue : modelValue;
}

export interface ChainMoves {
  /** Model units, in PARAMETERS order. */
  values: readonly number[];
}

/** Applies the seven moves to a chain (a copy; the base defaults to the neutral chain). */
export function applyMoves(values: readonly number[], base: ChainDocument = defaultChain()): ChainDocument {
  if (values.length !== PARAMETER_COUNT) throw new Error(`expected ${PARAMETER_COUNT} values, got ${values.length}`);
  const chain = structuredClone(base);
  const set = (band: { enabled: boolean; freqHz: number; q: number; gainDb: number }, spec: ParameterSpec, gainDb: number) => {
    band.enabled = Math.abs(gainDb) >= 0.05;
    band.freqHz = spec.freqHz!;
    band.q = spec.q!;
    band.gainDb = round(clamp(gainDb, -24, 24), 2);
  };
  const [ls, p250, p1k, p3k, hs, width, level] = values as [number, number, number, number, number, number, number];
  chain.eq.enabled = true;
  set(chain.eq.lowShelf, PARAMETERS[0]!, ls);
  set(chain.eq.peaks[0], PARAMETERS[1]!, p250);
  set(chain.eq.peaks[1], PARAMETERS[2]!, p1k);
  set(chain.eq.peaks[2], PARAMETERS[3]!, p3k);
  set(chain.eq.highShelf, PARAMETERS[4]!, hs);
  chain.eq.inputGainDb = round(clamp(level, -24, 24), 2);
  const factor = round(clamp(2 ** width, 0, 2), 3);
  chain.imager.enabled = Math.abs(factor - 1) >= 0.005 || chain.imager.enabled;
  chain.imager.width = factor;
  return validateChain(chain);
}

export const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
export const round = (x: number, digits: number) => Number(x.toFixed(digits));
