// The assistant learns its user's habits: when the engineer changes a proposed parameter and
// exports, the change (relative to the model's own value) is remembered per style profile in a
// small local JSON file, and later proposals lean toward it. The store is plain JSON the user can
// read, is written atomically (temporary file + rename), and can be reset per profile or entirely.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { LatheError } from '../errors.js';
import { PARAMETERS, type ParameterId } from './parameters.js';

export const ADJUSTMENTS_SCHEMA = 'lathe.assistant-adjustments';
/** How many remembered edits it takes for the lean to reach half the user's average change. */
const HALF_WEIGHT_AFTER = 3;
/** Profile key used when no style profile was chosen. */
export const NO_PROFILE = 'default';

export interface ParameterHabit {
  /** Running mean of (user's value − model's value), in model units. */
  meanDelta: number;
  count: number;
}

export interface AdjustmentsDocument {
  schema: typeof ADJUSTMENTS_SCHEMA;
  version: 1;
  profiles: Record<string, Partial<Record<ParameterId, ParameterHabit>>>;
}

export function adjustmentsPath(): string {
  const dir = process.env.LATHE_CONFIG_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'lathe');
  return join(dir, 'assistant-adjustments.json');
}

const empty = (): AdjustmentsDocument => ({ schema: ADJUSTMENTS_SCHEMA, version: 1, profiles: {} });

export function readAdjustments(path = adjustmentsPath()): AdjustmentsDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return empty();
  }
  try {
    const d = JSON.parse(text) as AdjustmentsDocument;
    if (d.schema !== ADJUSTMENTS_SCHEMA || typeof d.profiles !== 'object' || d.profiles === null) throw new Error('not an adjustments document');
    return d;
  } catch (e) {
    throw new LatheError('USAGE', `the assistant's remembered adjustments are unreadable (${(e as Error).message}); reset them with lathe assist --reset-adjustments`, { file: path });
  }
}

function write(doc: AdjustmentsDocument, path: string) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.partial`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The lean to add to each parameter (model units) for a profile. */
export function leanFor(doc: AdjustmentsDocument, profile: string): Partial<Record<ParameterId, { delta: number; count: number }>> {
  const habits = doc.profiles[profile] ?? {};
  const out: Partial<Record<ParameterId, { delta: number; count: number }>> = {};
  for (const [id, h] of Object.entries(habits) as [ParameterId, ParameterHabit][]) {
    if (!h || !(h.count > 0) || !Number.isFinite(h.meanDelta)) continue;
    out[id] = { delta: h.meanDelta * (h.count / (h.count + HALF_WEIGHT_AFTER)), count: h.count };
  }
  return out;
}

/** Remembers the user's final values against the model's; returns the updated document. */
export function recordAdjustments(profile: string, modelValues: Partial<Record<ParameterId, number>>, userValues: Partial<Record<ParameterId, number>>, path = adjustmentsPath()): AdjustmentsDocument {
  const doc = readAdjustments(path);
  const habits = (doc.profiles[profile] ??= {});
  for (const spec of PARAMETERS) {
    const m = modelValues[spec.id];
    const u = userValues[spec.id];
    if (m === undefined || u === undefined || !Number.isFinite(m) || !Number.isFinite(u)) continue;
    const h = habits[spec.id] ?? { meanDelta: 0, count: 0 };
    const count = h.count + 1;
    habits[spec.id] = { meanDelta: Number((h.meanDelta + (u - m - h.meanDelta) / count).toFixed(4)), count };
  }
  write(doc, path);
  return doc;
}

/** Forgets one profile's habits, or all of them. */
export function resetAdjustments(profile?: string, path = adjustmentsPath()): void {
  if (profile === undefined) {
    rmSync(path, { force: true });
    return;
  }
  const doc = readAdjustments(path);
  delete doc.profiles[profile];
  write(doc, path);
}
