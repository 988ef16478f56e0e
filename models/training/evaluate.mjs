#!/usr/bin/env node
// Scores the three candidates from train.py on the validation and test tracks through the app's
// own inference path (onnxruntime-node, main/core/assistant/model.ts), picks the champion on
// validation, and ships it: models/assistant.onnx, models/assistant.card.json, the metrics table in
// models/training/README.md, and the committed CI fixtures under test/fixtures/assistant/.
// Usage: node models/training/evaluate.mjs [--data FILE] [--out DIR]   (after `npm run build:ts`)
import { copyFileSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', 'main', 'core', 'assistant', p)).href);
const { AssistantModel } = await dist('model.js');
const { scoreRows, averageBalance } = await dist('metrics.js');
const { featureNames, FEATURE_COUNT, THIRD_OCTAVE_HZ, relativeBands, featuresFromNative, analysePlanes } = await dist('features.js');
const { PARAMETERS } = await dist('parameters.js');
const { referenceSignal } = await dist('reference-signal.js');
const { CARD_SCHEMA, CARD_VERSION } = await dist('card.js');

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: join(ROOT, 'models', 'training', 'data', 'dataset.jsonl') },
    out: { type: 'string', default: join(ROOT, 'models', 'training', 'out') },
  },
});
const MODEL_VERSION = '1.0.0';
const AUTO_APPLY_CONFIDENCE = 0.6;
const STYLE_LOW_CONFIDENCE_BELOW = 0.7;
const FIXTURE_ROWS = 300;

const rows = readFileSync(values.data, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const bySplit = (s) => rows.filter((r) => r.split === s);
const train = bySplit('train');
const val = bySplit('val');
const test = bySplit('test');
const training = JSON.parse(readFileSync(join(values.out, 'training.json'), 'utf8'));
const split = JSON.parse(readFileSync(join(ROOT, 'models', 'training', 'split.json'), 'utf8'));
const styles = training.styles;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r3 = (x) => Number(x.toFixed(3));
const tonalReference = {
  bandsHz: [...THIRD_OCTAVE_HZ],
  averageRelDb: averageBalance(train).map(r3),
  byStyle: Object.fromEntries(styles.map((s) => [s, averageBalance(train.filter((r) => r.style === s)).map(r3)])),
  medianCleanLufs: r3(median(train.map((r) => r.cleanLufs))),
};
const reference = { averageRelDb: tonalReference.averageRelDb, medianCleanLufs: tonalReference.medianCleanLufs, styles };

function cardFor(name, file, metrics, styleAcc) {
  const bytes = readFileSync(file);
  return {
    schema: CARD_SCHEMA,
    version: CARD_VERSION,
    model: {
      name: 'lathe-assistant',
      version: MODEL_VERSION,
      architecture: name,
      file: 'assistant.onnx',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      opset: 17,
      created: 'npm run train (models/training/train.py, then models/training/evaluate.mjs)',
    },
    inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', FEATURE_COUNT], description: 'raw feature vector from main/core/assistant/features.ts (featureNames lists the entries; standardisation is inside the graph)' }],
    outputs: [
      { name: 'mean', dtype: 'float32', shape: ['batch', PARAMETERS.length], unit: 'per parameter: modelUnit', description: 'predicted correction per parameter (parameters lists order, units and ranges)' },
      { name: 'logVariance', dtype: 'float32', shape: ['batch', PARAMETERS.length], unit: 'ln(modelUnit²)', description: 'log of the predicted variance per parameter (Gaussian NLL, recalibrated on validation tracks)' },
      { name: 'styleLogits', dtype: 'float32', shape: ['batch', styles.length], description: 'unnormalised log-probabilities of the style labels (styles)' },
    ],
    featureNames: featureNames(),
    parameters: PARAMETERS.map((p) => ({ id: p.id, path: p.path, unit: p.unit, modelUnit: p.modelUnit, min: r3(p.min), max: r3(p.max), label: p.label, ...(p.freqHz ? { freqHz: p.freqHz, q: p.q } : {}) })),
    styles,
    styleSuggestion: {
      testAccuracyExcerpt: styleAcc?.excerpt ?? 0,
      testAccuracyTrack: styleAcc?.track ?? 0,
      lowConfidence: (styleAcc?.excerpt ?? 0) < STYLE_LOW_CONFIDENCE_BELOW,
      lowConfidenceBelow: STYLE_LOW_CONFIDENCE_BELOW,
      labels: 'coarse, per corpus package, from the manifest genre column (see training.packageStyle)',
    },
    tonalReference,
    autoApplyConfidence: AUTO_APPLY_CONFIDENCE,
    training: {
      command: 'npm run dataset && npm run train',
      seed: training.seed,
      dataset: {
        format: 'JSON lines (models/training/README.md describes the fields)',
        examples: { train: train.length, validation: val.length, test: test.length },
        tracks: { train: new Set(train.map((r) => r.track)).size, validation: new Set(val.map((r) => r.track)).size, test: new Set(test.map((r) => r.track)).size },
        excerptSeconds: 20,
        split: split.rule,
      },
      degradations: {
        eq: 'each of the five EQ moves non-zero with p = 0.55, gain U(-8, 8) dB; with p = 0.3 a tilt U(-4, 4) dB added to the low shelf and subtracted from the high shelf; clamped to ±8 dB',
        width: 'with p = 0.6, width log-uniform in 0.5 … 1.5 (imager), else 1',
        level: 'gain U(-10, +2) dB before the EQ',
        dynamics: 'with p = 0.3 a single-band RMS compressor: ratio U(1.5, 4), threshold U(-26, -12) dBFS, attack U(5, 30) ms, release U(80, 250) ms, no make-up (a nuisance: no parameter undoes it; the level target absorbs its loss)',
        target: 'the inverse EQ gains, log2(1/width), and the gain that brings the tonally corrected audio back to the clean excerpt\'s integrated loudness (measured)',
      },
      packageStyle: split.packageStyle,
      sources: split.tracks.map((t) => ({ file: t.file, package: t.package, license: t.license, credit: t.credit, split: t.split, style: t.style })),
      candidates: training.candidates,
    },
    metrics,
  };
}

async function predictAll(model, rs) {
  const out = [];
  for (let i = 0; i < rs.length; i += 256) out.push(...(await model.predict(rs.slice(i, i + 256).map((r) => Float32Array.from(r.features)))));
  return out;
}

const metrics = { test: {}, validation: {}, champion: '', fixture: null };
for (const name of Object.keys(training.candidates)) {
  const file = join(values.out, `${name}.onnx`);
  const cardPath = join(values.out, `${name}.card.json`);
  writeFileSync(cardPath, JSON.stringify(cardFor(name, file, metrics, null)));
  const model = await AssistantModel.load(file, cardPath);
  metrics.validation[name] = scoreRows(val, await predictAll(model, val), reference);
  metrics.test[name] = scoreRows(test, await predictAll(model, test), reference);
  await model.release();
  console.log(`${name}: validation normalised MAE ${metrics.validation[name].normalisedMaeOverall}, test ${metrics.test[name].normalisedMaeOverall}`);
}
const champion = Object.keys(metrics.validation).sort((a, b) => metrics.validation[a].normalisedMaeOverall - metrics.validation[b].normalisedMaeOverall)[0];
metrics.champion = champion;

// The committed evaluation rows: an even spread of the test rows, features rounded as stored.
const step = Math.max(1, Math.floor(test.length / FIXTURE_ROWS));
const fixtureRows = test.filter((_, i) => i % step === 0).slice(0, FIXTURE_ROWS).map((r) => ({
  track: r.track,
  style: r.style,
  sampleRate: r.sampleRate,
  features: r.features.map((x) => Number(x.toFixed(3))),
  target: r.target,
  cleanBandsDb: r.cleanBandsDb.map((x) => (x === null ? null : Number(x.toFixed(2)))),
  degradedBandsDb: r.degradedBandsDb.map((x) => (x === null ? null : Number(x.toFixed(2)))),
  cleanLufs: r.cleanLufs,
  degradedLufs: r.degradedLufs,
}));
const fixtureDir = join(ROOT, 'test', 'fixtures', 'assistant');
mkdirSync(fixtureDir, { recursive: true });
writeFileSync(join(fixtureDir, 'eval.jsonl'), fixtureRows.map((r) => JSON.stringify(r)).join('\n') + '\n');

// Ship the champion.
const modelsDir = join(ROOT, 'models');
const champFile = join(values.out, `${champion}.onnx`);
const tmpModel = join(modelsDir, `assistant.onnx.${process.pid}.partial`);
copyFileSync(champFile, tmpModel);
renameSync(tmpModel, join(modelsDir, 'assistant.onnx'));
const provisional = cardFor(champion, champFile, metrics, metrics.test[champion].styleAccuracy);
const cardPath = join(modelsDir, 'assistant.card.json');
writeFileSync(cardPath, JSON.stringify(provisional, null, 1) + '\n');
const shipped = await AssistantModel.load(join(modelsDir, 'assistant.onnx'), cardPath);
metrics.fixture = scoreRows(fixtureRows, await predictAll(shipped, fixtureRows), reference);

// The feature-regression fixture: a synthesised signal's features and the shipped model's outputs.
const sr = 48000;
const planes = referenceSignal(sr, 8, 7);
const feats = featuresFromNative(analysePlanes(planes, sr));
const [pred] = await shipped.predict([feats]);
writeFileSync(
  join(fixtureDir, 'reference.json'),
  JSON.stringify({ signal: { sampleRate: sr, seconds: 8, seed: 7 }, features: Array.from(feats, (x) => Number(x.toFixed(4))), mean: pred.mean.map((x) => Number(x.toFixed(5))), logVariance: pred.logVariance.map((x) => Number(x.toFixed(5))) }) + '\n',
);
await shipped.release();
const card = cardFor(champion, champFile, metrics, metrics.test[champion].styleAccuracy);
writeFileSync(cardPath, JSON.stringify(card, null, 1) + '\n');

// The table (card, README, stdout).
const f = (x, d = 3) => x.toFixed(d);
const names = Object.keys(metrics.test);
const ids = PARAMETERS.map((p) => p.id);
const lines = [];
lines.push(`Held-out test tracks: ${new Set(test.map((r) => r.track)).size} tracks, ${test.length} degraded 20 s excerpts. Champion (lowest validation normalised MAE): **${champion}**.`);
lines.push('');
lines.push(`| metric | ${names.join(' | ')} |`);
lines.push(`|---|${names.map(() => '---').join('|')}|`);
lines.push(`| normalised MAE, overall | ${names.map((n) => f(metrics.test[n].normalisedMaeOverall, 4)).join(' | ')} |`);
for (const id of ids) lines.push(`| normalised MAE, ${id} | ${names.map((n) => f(metrics.test[n].normalisedMae[id], 4)).join(' | ')} |`);
lines.push(`| 1/3-octave error, model-corrected (dB RMS) | ${names.map((n) => f(metrics.test[n].tonalErrorDb.model, 2)).join(' | ')} |`);
lines.push(`| level (LUFS) error (LU) | ${names.map((n) => f(metrics.test[n].lufsErrorLu.model, 2)).join(' | ')} |`);
lines.push(`| 68 % interval coverage | ${names.map((n) => f(metrics.test[n].coverage68, 3)).join(' | ')} |`);
lines.push(`| 95 % interval coverage | ${names.map((n) => f(metrics.test[n].coverage95, 3)).join(' | ')} |`);
lines.push(`| style accuracy (excerpt / track) | ${names.map((n) => `${f(metrics.test[n].styleAccuracy.excerpt, 2)} / ${f(metrics.test[n].styleAccuracy.track, 2)}`).join(' | ')} |`);
const t = metrics.test[champion];
lines.push('');
lines.push(`1/3-octave error against the clean original (dB RMS over 31.5 Hz – 16 kHz, level removed), test tracks:`);
lines.push('');
lines.push('| input | error (dB) |');
lines.push('|---|---|');
lines.push(`| (a) degraded, uncorrected | ${f(t.tonalErrorDb.degraded, 2)} |`);
lines.push(`| (b) heuristic baseline (5-band EQ fitted toward the corpus-average balance) | ${f(t.tonalErrorDb.heuristic, 2)} |`);
for (const n of names) lines.push(`| (c) corrected by ${n} | ${f(metrics.test[n].tonalErrorDb.model, 2)} |`);
lines.push(`| oracle (the true inverse EQ; residual from width and compression) | ${f(t.tonalErrorDb.oracle, 2)} |`);
lines.push('');
lines.push(`Level: champion ${f(t.lufsErrorLu.model, 2)} LU mean absolute error vs heuristic (corpus median loudness) ${f(t.lufsErrorLu.heuristic, 2)} LU.`);
lines.push(`Goals: model/heuristic 1/3-octave error ratio ${f(t.tonalErrorDb.model / t.tonalErrorDb.heuristic, 3)} (goal ≤ 0.5); normalised MAE ${f(t.normalisedMaeOverall, 4)} (goal < 0.05); LUFS error ${f(t.lufsErrorLu.model, 2)} LU (goal < 0.5); 68 % coverage ${f(t.coverage68, 3)} (goal 0.60–0.76).`);
lines.push(`Committed fixture (${metrics.fixture.rows} test rows): normalised MAE ${f(metrics.fixture.normalisedMaeOverall, 4)}, 1/3-octave error ${f(metrics.fixture.tonalErrorDb.model, 2)} dB (heuristic ${f(metrics.fixture.tonalErrorDb.heuristic, 2)}), LUFS error ${f(metrics.fixture.lufsErrorLu.model, 2)} LU, 68 % coverage ${f(metrics.fixture.coverage68, 3)}.`);
const table = lines.join('\n');
console.log(`\n${table}\n`);
const readme = join(ROOT, 'models', 'training', 'README.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- metrics:start -->';
const end = '<!-- metrics:end -->';
if (text.includes(start) && text.includes(end)) {
  writeFileSync(readme, text.slice(0, text.indexOf(start) + start.length) + '\n' + table + '\n' + text.slice(text.indexOf(end)));
}
console.log(`shipped ${champion} → models/assistant.onnx (${card.model.bytes} bytes), card → models/assistant.card.json`);
