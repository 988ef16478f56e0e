#!/usr/bin/env node
// Assistant latency benchmark (part of `npm run bench`).
//
// What it measures: on a 4-minute stereo 44.1 kHz 24-bit WAV of synthetic, music-like content
// (main/core/assistant/reference-signal.ts, seeded, written to a temp dir), the time from file to
// proposal: decode + native analysis + feature vector ("features"), the ONNX model run
// ("inference"), and the proposal with reasons and variations ("proposal"). The model load
// (once per app session) is timed apart. Medians of --reps runs after one warm-up. The anchor, run
// alternately in the same process on the same file, is `lathe analyze`'s own in-process analysis
// (analyzeFile: the full meter, spectrum, spectrogram and QC); the ratio says what the assistant
// costs on top of opening a file in the studio.
// Usage: node bench/assist.bench.mjs [--reps N]   (after `npm run build:ts`)
import { mkdtempSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const imp = (p) => import(pathToFileURL(path.join(ROOT, 'dist', 'main', 'core', 'assistant', p)).href);
const { analyseFileForAssistant, featuresFromNative } = await imp('features.js');
const { AssistantModel } = await imp('model.js');
const { buildProposal } = await imp('propose.js');
const { referenceSignal } = await imp('reference-signal.js');
const { analyzeFile } = await import(pathToFileURL(path.join(ROOT, 'dist', 'main', 'core', 'analysis', 'analyze.js')).href);
const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' } } });
const reps = Number(values.reps);

const SR = 44100;
const SECONDS = 240;
const dir = mkdtempSync(path.join(os.tmpdir(), 'lathe-assist-bench-'));
const file = path.join(dir, 'four-minutes.wav');
try {
  const [l, r] = referenceSignal(SR, SECONDS, 5);
  const frames = l.length;
  const data = Buffer.alloc(frames * 6);
  for (let i = 0; i < frames; i++) {
    for (const [c, x] of [[0, l[i]], [1, r[i]]]) {
      const v = Math.max(-8388608, Math.min(8388607, Math.round(x * 0.5 * 8388607)));
      data.writeIntLE(v, i * 6 + c * 3, 3);
    }
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(SR, 24);
  header.writeUInt32LE(SR * 6, 28);
  header.writeUInt16LE(6, 32);
  header.writeUInt16LE(24, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  const fd = openSync(file, 'w');
  writeSync(fd, header);
  writeSync(fd, data);
  closeSync(fd);

  let t = performance.now();
  const model = await AssistantModel.load();
  const loadMs = performance.now() - t;
  const runs = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    const { analysis } = await analyseFileForAssistant(file);
    const features = featuresFromNative(analysis);
    const t1 = performance.now();
    const [prediction] = await model.predict([features]);
    const t2 = performance.now();
    buildProposal(prediction, analysis, model.card);
    const t3 = performance.now();
    await analyzeFile(file, { includeSpectrogram: true });
    const t4 = performance.now();
    if (i > 0) runs.push({ features: t1 - t0, inference: t2 - t1, proposal: t3 - t2, total: t3 - t0, anchor: t4 - t3 });
  }
  await model.release();
  const median = (k) => {
    const s = runs.map((x) => x[k]).sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  };
  console.log(`assistant latency, 4-minute stereo 44.1 kHz 24-bit WAV, median of ${reps} (${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'})`);
  console.log(`  model load (once per session)  ${loadMs.toFixed(1)} ms`);
  console.log(`  features (decode + analysis)   ${median('features').toFixed(1)} ms`);
  console.log(`  inference (onnxruntime-node)   ${median('inference').toFixed(2)} ms`);
  console.log(`  proposal (reasons, variations) ${median('proposal').toFixed(2)} ms`);
  console.log(`  total, file → proposal         ${median('total').toFixed(1)} ms  (${(SECONDS / (median('total') / 1000)).toFixed(0)}× real time)`);
  console.log(`  anchor: analyzeFile (lathe analyze, in process) ${median('anchor').toFixed(1)} ms`);
  console.log(`  ratio assistant / analyze: ${(median('total') / median('anchor')).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
