// The model card (models/assistant.card.json): what the shipped ONNX model takes and gives, with
// units and ranges, where its training data came from, and how it scored on held-out tracks. The
// app reads it to check the model at load and to explain its proposals.
import type { ParameterId } from './parameters.js';

export const CARD_SCHEMA = 'lathe.assistant-card';
export const CARD_VERSION = 1;

export interface TensorSpec {
  name: string;
  dtype: 'float32';
  /** 'batch' for the dynamic first axis. */
  shape: (number | 'batch')[];
  unit?: string;
  description: string;
}

export interface MetricsRow {
  normalisedMae: Record<ParameterId, number>;
  normalisedMaeOverall: number;
  /** RMS 1/3-octave error (dB) against the clean original, level removed, 31.5 Hz – 16 kHz. */
  tonalErrorDb: { degraded: number; heuristic: number; model: number; oracle: number };
  /** Mean |level correction − the one that restores the clean loudness| (LU). */
  lufsErrorLu: { model: number; heuristic: number };
  coverage68: number;
  coverage95: number;
  coverage68ByParameter: Record<ParameterId, number>;
  styleAccuracy: { excerpt: number; track: number };
  rows: number;
}

export interface AssistantCard {
  schema: typeof CARD_SCHEMA;
  version: typeof CARD_VERSION;
  model: { name: string; version: string; architecture: string; file: string; sha256: string; bytes: number; opset: number; created: string };
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  featureNames: string[];
  parameters: { id: ParameterId; path: string; unit: string; modelUnit: string; min: number; max: number; label: string; freqHz?: number; q?: number }[];
  styles: string[];
  /** Test-split accuracy of the style suggestion; below `lowConfidenceBelow` it is shown as a hint only. */
  styleSuggestion: { testAccuracyExcerpt: number; testAccuracyTrack: number; lowConfidence: boolean; lowConfidenceBelow: number; labels: string };
  /** Corpus-average balance of the clean training excerpts (relative third-octave levels), overall and per style. */
  tonalReference: { bandsHz: number[]; averageRelDb: number[]; byStyle: Record<string, number[]>; medianCleanLufs: number };
  autoApplyConfidence: number;
  training: Record<string, unknown>;
  metrics: {
    test: Record<string, MetricsRow>;
    validation: Record<string, MetricsRow>;
    champion: string;
    /** The committed evaluation rows (test/fixtures/assistant/eval.jsonl) scored by the shipped model. */
    fixture: MetricsRow;
  };
}

/** Structural check of a parsed card; returns a reason string, or null when it is usable. */
export function cardProblem(value: unknown): string | null {
  const c = value as Partial<AssistantCard> | null;
  if (typeof c !== 'object' || c === null) return 'not a JSON object';
  if (c.schema !== CARD_SCHEMA) return `schema is ${JSON.stringify(c.schema)}, expected "${CARD_SCHEMA}"`;
  if (c.version !== CARD_VERSION) return `version ${JSON.stringify(c.version)} is not supported (this Lathe reads ${CARD_VERSION})`;
  if (!c.model || typeof c.model.sha256 !== 'string' || typeof c.model.name !== 'string') return 'model section missing';
  if (!Array.isArray(c.inputs) || !Array.isArray(c.outputs)) return 'inputs/outputs missing';
  if (!Array.isArray(c.parameters) || !Array.isArray(c.styles) || !Array.isArray(c.featureNames)) return 'parameters/styles/featureNames missing';
  if (!c.tonalReference || !Array.isArray(c.tonalReference.averageRelDb)) return 'tonalReference missing';
  if (typeof c.autoApplyConfidence !== 'number') return 'autoApplyConfidence missing';
  return null;
}
