// The shipped assistant model: it loads and matches its card, is deterministic, reproduces the
// card's metrics on the committed evaluation rows (so a model regression fails CI), its features of
// a synthesised signal are unchanged (so a feature-extraction regression fails CI), and a corrupt or
// mismatched model file gives a clear MODEL_INVALID error while the rest keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssistantModel, cardPathFor, defaultModelPath } from '../../main/core/assistant/model.js';
import { FEATURE_COUNT, analysePlanes, featureNames, featuresFromNative } from '../../main/core/assistant/features.js';
import { PARAMETERS } from '../../main/core/assistant/parameters.js';
import { scoreRows, type EvalRow } from '../../main/core/assistant/metrics.js';
import { referenceSignal } from '../../main/core/assistant/reference-signal.js';
import type { AssistantCard } from '../../main/core/assistant/card.js';
import { isLatheError } from '../../main/core/errors.js';

const fixtures = join(import.meta.dirname, '../fixtures/assistant');
const rows: EvalRow[] = readFileSync(join(fixtures, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const modelPath = defaultModelPath();
const card = JSON.parse(readFileSync(cardPathFor(modelPath), 'utf8')) as AssistantCard;
const scratch = mkdtempSync(join(tmpdir(), 'lathe-assistant-model-'));
let model: AssistantModel;

beforeAll(async () => {
  model = await AssistantModel.load();
});
afterAll(async () => {
  await model.release();
  rmSync(scratch, { recursive: true, force: true });
});

async function expectModelInvalid(p: Promise<unknown>, message: RegExp) {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e, 'expected a MODEL_INVALID error').not.toBeNull();
  expect(isLatheError(e) && e.code).toBe('MODEL_INVALID');
  expect((e as Error).message).toMatch(message);
}

describe('assistant model', () => {
  it('loads, matches its card, and is small', () => {
    expect(model.card.inputs.map((t) => [t.name, t.shape])).toEqual([['features', ['batch', FEATURE_COUNT]]]);
    expect(model.card.outputs.map((t) => t.name)).toEqual(['mean', 'logVariance', 'styleLogits']);
    expect(model.card.featureNames).toEqual(featureNames());
    expect(model.card.parameters.map((p) => p.id)).toEqual(PARAMETERS.map((p) => p.id));
    const bytes = readFileSync(modelPath);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(card.model.sha256);
    expect(statSync(modelPath).size).toBeLessThan(5 * 1024 * 1024);
    expect(card.training.sources).toHaveLength(60);
  });

  it('is deterministic, whatever the batch', async () => {
    const some = rows.slice(0, 16).map((r) => Float32Array.from(r.features));
    const a = await model.predict(some);
    const b = await model.predict([...some].reverse());
    const c = await model.predict([some[3]!]);
    expect(b.reverse()).toEqual(a);
    expect(c[0]!.mean.map((x) => Number(x.toFixed(5)))).toEqual(a[3]!.mean.map((x) => Number(x.toFixed(5))));
  });

  it("reproduces the card's metrics on the committed evaluation rows", async () => {
    expect(rows.length).toBeGreaterThanOrEqual(200);
    const predictions = await model.predict(rows.map((r) => Float32Array.from(r.features)));
    const m = scoreRows(rows, predictions, { averageRelDb: card.tonalReference.averageRelDb, medianCleanLufs: card.tonalReference.medianCleanLufs, styles: card.styles });
    const want = card.metrics.fixture;
    expect(m.rows).toBe(want.rows);
    expect(m.normalisedMaeOverall).toBeCloseTo(want.normalisedMaeOverall, 3);
    for (const p of PARAMETERS) expect(m.normalisedMae[p.id]).toBeCloseTo(want.normalisedMae[p.id], 3);
    expect(m.tonalErrorDb.model).toBeCloseTo(want.tonalErrorDb.model, 2);
    expect(m.tonalErrorDb.heuristic).toBeCloseTo(want.tonalErrorDb.heuristic, 2);
    expect(m.lufsErrorLu.model).toBeCloseTo(want.lufsErrorLu.model, 2);
    expect(Math.abs(m.coverage68 - want.coverage68)).toBeLessThan(0.01);
    expect(Math.abs(m.styleAccuracy.excerpt - want.styleAccuracy.excerpt)).toBeLessThan(0.01);
    // And the model still beats the heuristic baseline on these rows.
    expect(m.tonalErrorDb.model).toBeLessThan(m.tonalErrorDb.heuristic);
  });

  it('computes the same features and outputs for the synthesised reference signal', async () => {
    const ref = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8'));
    const planes = referenceSignal(ref.signal.sampleRate, ref.signal.seconds, ref.signal.seed);
    const f = featuresFromNative(analysePlanes(planes, ref.signal.sampleRate));
    const worst = Math.max(...Array.from(f, (x, i) => Math.abs(x - ref.features[i])));
    expect(worst).toBeLessThan(0.01);
    const [p] = await model.predict([Float32Array.from(ref.features)]);
    p!.mean.forEach((x, i) => expect(x).toBeCloseTo(ref.mean[i], 3));
  });

  it('refuses a corrupt file with a clear error', async () => {
    const bad = join(scratch, 'corrupt.onnx');
    writeFileSync(bad, readFileSync(modelPath).subarray(0, 2000));
    copyFileSync(cardPathFor(modelPath), cardPathFor(bad));
    await expectModelInvalid(AssistantModel.load(bad), /SHA-256 .* is not the card's/);
    // Even when the card is edited to match the broken bytes, onnxruntime's refusal is reported.
    const c = structuredClone(card);
    c.model.sha256 = createHash('sha256').update(readFileSync(bad)).digest('hex');
    writeFileSync(cardPathFor(bad), JSON.stringify(c));
    await expectModelInvalid(AssistantModel.load(bad), /onnxruntime cannot open it/);
  });

  it('refuses a model whose card does not match it, or a missing one', async () => {
    const other = join(scratch, 'renamed.onnx');
    copyFileSync(modelPath, other);
    const c = structuredClone(card);
    c.outputs[1]!.name = 'variance';
    writeFileSync(cardPathFor(other), JSON.stringify(c));
    await expectModelInvalid(AssistantModel.load(other), /its outputs are \[mean, logVariance, styleLogits\], the card says \[mean, variance, styleLogits\]/);
    const c2 = structuredClone(card);
    c2.featureNames = c2.featureNames.slice(1);
    writeFileSync(cardPathFor(other), JSON.stringify(c2));
    await expectModelInvalid(AssistantModel.load(other), /input features are not the/);
    await expectModelInvalid(AssistantModel.load(join(scratch, 'missing.onnx')), /model card cannot be read/);
    writeFileSync(cardPathFor(other), '{ not json');
    await expectModelInvalid(AssistantModel.load(other), /not valid JSON/);
    // The engine itself is untouched: the good model still loads and analysis still runs.
    const again = await AssistantModel.load();
    expect((await again.predict([Float32Array.from(rows[0]!.features)]))[0]!.mean).toHaveLength(PARAMETERS.length);
    await again.release();
    expect(again.released).toBe(true);
    await expect(again.predict([Float32Array.from(rows[0]!.features)])).rejects.toThrow(/released/);
  });
});
