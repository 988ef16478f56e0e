#!/usr/bin/env node
// Generates the assistant's training set (`npm run dataset`): excerpts of the real-music corpus,
// each pushed away from its mastered state by random, known degradations rendered in-process by
// native-dsp, measured by the native analyser, and written as JSON lines with the correction that
// undoes the degradation as the target. See models/training/README.md for the distributions.
//
// Usage: node models/training/dataset.mjs [--corpus DIR] [--out FILE] [--excerpts N] [--variants N]
//        [--seconds S] [--workers N] [--spectrogram]
// --spectrogram also writes each degraded excerpt's log-frequency spectrogram from the native analyser
// (SPECTROGRAM_ROWS rows x the columns a 20 s excerpt gets) to FILE.spectrogram.f32 (float32, dB, one
// example after another in the order of the JSON lines) with its layout in FILE.spectrogram.json, for
// the spectro-temporal experiment (models/training/spectro.py).
// Needs `npm run build:ts` first (it imports the engine from dist/).
import { readFileSync, writeFileSync, mkdirSync, renameSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { cpus } from 'node:os';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => pathToFileURL(join(ROOT, 'dist', 'main', 'core', p)).href;

export const SEED = 20250501;
/** Coarse style labels per corpus package (from the manifest's genre column), mapped onto profiles.json ids. */
export const PACKAGE_STYLE = {
  'wesnoth-1.16-music': 'classical',
  'ufoai-music': 'film-ambient',
  'colobot-common-sounds': 'film-ambient',
  'hedgewars-data': 'pop',
  'supertuxkart-data': 'pop',
  'fretsonfire-songs-muldjord': 'metal',
  'supertux-data': 'electronic',
  'trackballs-data': 'electronic',
  'starfighter-data': 'electronic',
  'davegnukem-data': 'electronic',
  'pushover-data': 'electronic',
};

/** xorshift64* → uniform [0, 1); one stream per (track, excerpt, variant) so workers do not matter. */
function rng(seed) {
  let s = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 0x632be59bd9b4e019n) || 1n;
  return () => {
    s ^= s >> 12n;
    s = BigInt.asUintN(64, s ^ (s << 25n));
    s ^= s >> 27n;
    return Number(BigInt.asUintN(64, s * 0x2545f4914f6cdd1dn) >> 11n) / 2 ** 53;
  };
}
const hash = (str) => [...str].reduce((h, c) => (Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0), 2166136261);
const U = (r, a, b) => a + (b - a) * r();
const r2 = (x) => Math.round(x * 100) / 100;
const r4 = (x) => Math.round(x * 1e4) / 1e4;

/** Splits tracks by track within each package (seeded): about 70 / 15 / 15 %, every package in test. */
export function splitTracks(rows) {
  const byPackage = new Map();
  for (const r of rows) byPackage.set(r.package, [...(byPackage.get(r.package) ?? []), r.file]);
  const split = {};
  for (const [pkg, files] of [...byPackage].sort()) {
    const r = rng(SEED ^ hash(pkg));
    const order = files.map((f) => [r(), f]).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
    const nTest = Math.max(1, Math.round(order.length * 0.17));
    const nVal = order.length >= 4 ? Math.max(1, Math.round(order.length * 0.15)) : 0;
    order.forEach((f, i) => (split[f] = i < nTest ? 'test' : i < nTest + nVal ? 'val' : 'train'));
  }
  return split;
}

/** A random degradation: EQ moves at the assistant's fixed centres (plus tilts), width, level, dynamics. */
function drawDegradation(r) {
  const eq = [0, 1, 2, 3, 4].map(() => (r() < 0.55 ? U(r, -8, 8) : 0));
  if (r() < 0.3) {
    const tilt = U(r, -4, 4);
    eq[0] += tilt;
    eq[4] -= tilt;
  }
  const gains = eq.map((g) => r2(Math.max(-8, Math.min(8, g))));
  const width = r() < 0.6 ? r4(Math.exp(U(r, Math.log(0.5), Math.log(1.5)))) : 1;
  const levelDb = r2(U(r, -10, 2));
  const compressor = r() < 0.3 ? { ratio: r2(U(r, 1.5, 4)), thresholdDbfs: r2(U(r, -26, -12)), attackMs: r2(U(r, 5, 30)), releaseMs: r2(U(r, 80, 250)) } : null;
  return { eqGainsDb: gains, width, levelDb, compressor };
}

/** The experiment's spectrogram: 48 log-spaced rows (20 Hz - 20 kHz); 64 columns asked, a 20 s excerpt gets 54. */
export const SPECTROGRAM_ROWS = 48;
export const SPECTROGRAM_COLUMNS = 64;

async function worker({ tracks, corpus, excerpts, variants, seconds, spectrogram }) {
  const dsp = (await import(pathToFileURL(join(ROOT, 'native-dsp', 'index.js')).href)).default;
  const { defaultChain } = await import(dist('chain/document.js'));
  const { applyMoves } = await import(dist('assistant/parameters.js'));
  const { featuresFromNative, analysePlanes } = await import(dist('assistant/features.js'));
  const { probeFile } = await import(dist('media/probe.js'));
  const { decodeInterleaved } = await import(dist('media/decode.js'));

  const base = defaultChain();
  base.eq.highPass.enabled = false;
  base.limiter.enabled = false;

  const render = (planes, sampleRate, chain) => {
    const h = dsp.chainCreate({ sampleRate, channels: planes.length, chain });
    const parts = [dsp.chainRender(h, planes), dsp.chainFinish(h)];
    return planes.map((p, c) => {
      const out = new Float32Array(p.length);
      let at = 0;
      for (const part of parts) {
        out.set(part[c], at);
        at += part[c].length;
      }
      return out;
    });
  };
  const loudnessOnly = (planes, sampleRate) => {
    const h = dsp.analyzerCreate({ sampleRate, channelNames: ['FL', 'FR'], meters: 'loudness', threads: 1 });
    dsp.analyzerProcess(h, planes);
    return dsp.analyzerFinish(h).loudness.integratedLufs;
  };
  const spectrogramOf = (planes, sampleRate) => {
    const h = dsp.analyzerCreate({ sampleRate, channelNames: ['FL', 'FR'], spectrogramColumns: SPECTROGRAM_COLUMNS, spectrogramRows: SPECTROGRAM_ROWS, threads: 1 });
    dsp.analyzerProcess(h, planes);
    const s = dsp.analyzerFinish(h).spectral.spectrogram;
    return { columns: s.columns, rows: s.rows, secondsPerColumn: s.secondsPerColumn, rowHz: Array.from(s.rowHz), db: s.db };
  };

  for (const t of tracks) {
    const probe = await probeFile(join(corpus, t.file));
    if (probe.channels !== 2) throw new Error(`${t.file}: the dataset expects stereo`);
    const chunks = [];
    for await (const c of decodeInterleaved(probe)) chunks.push(c);
    const planes = dsp.deinterleave(Buffer.concat(chunks), 2);
    const sr = probe.sampleRate;
    const n = Math.round(seconds * sr);
    const usable = planes[0].length - n - 10 * sr;
    const rows = [];
    const spectrograms = [];
    for (let e = 0; e < excerpts; e++) {
      const re = rng(SEED ^ hash(`${t.file}#${e}`));
      // Spread over the track (skipping 5 s at each end), jittered within each slot.
      const start = Math.max(0, Math.floor(5 * sr + (usable / excerpts) * (e + re())));
      const clean = planes.map((p) => p.subarray(start, start + n));
      const cleanAnalysis = analysePlanes(clean, sr);
      const cleanLufs = cleanAnalysis.loudness.integratedLufs;
      if (cleanLufs === null || cleanLufs < -50) continue; // a near-silent excerpt teaches nothing
      for (let v = 0; v < variants; v++) {
        const r = rng(SEED ^ hash(`${t.file}#${e}#${v}`));
        const d = drawDegradation(r);
        const degradeChain = applyMoves([...d.eqGainsDb, Math.log2(d.width), d.levelDb], base);
        if (d.compressor) {
          degradeChain.compressor.enabled = true;
          Object.assign(degradeChain.compressor.band, d.compressor, { makeupDb: 0 });
        }
        const degraded = render(clean, sr, degradeChain);
        const a = analysePlanes(degraded, sr);
        const correction = [...d.eqGainsDb.map((g) => -g), -Math.log2(d.width)];
        // The level target: what brings the tonally corrected audio back to the clean loudness
        // (the compressor's loss included), measured, not assumed.
        const tonalOnly = render(degraded, sr, applyMoves([...correction, 0], base));
        const levelDb = cleanLufs - loudnessOnly(tonalOnly, sr);
        rows.push({
          track: t.file,
          package: t.package,
          style: t.style,
          split: t.split,
          excerpt: e,
          variant: v,
          startSeconds: r4(start / sr),
          sampleRate: sr,
          degradation: d,
          target: [...correction, levelDb].map(r4),
          features: Array.from(featuresFromNative(a), r4),
          cleanBandsDb: cleanAnalysis.spectral.thirdOctave.map((b) => (b.db === null ? null : r4(b.db))),
          degradedBandsDb: a.spectral.thirdOctave.map((b) => (b.db === null ? null : r4(b.db))),
          cleanLufs: r4(cleanLufs),
          degradedLufs: r4(a.loudness.integratedLufs),
        });
        if (spectrogram) spectrograms.push(spectrogramOf(degraded, sr));
      }
    }
    parentPort.postMessage({ track: t.file, rows, spectrograms });
  }
}

function writeSpectrograms(out, list, count) {
  if (list.length !== count) throw new Error(`${list.length} spectrograms for ${count} examples`);
  const { columns, rows, secondsPerColumn, rowHz } = list[0];
  const bad = list.findIndex((s) => s.columns !== columns || s.rows !== rows);
  if (bad >= 0) throw new Error(`example ${bad}: spectrogram ${list[bad].columns}x${list[bad].rows}, expected ${columns}x${rows}`);
  const data = new Float32Array(count * columns * rows);
  list.forEach((s, i) => data.set(s.db, i * columns * rows));
  const bin = `${out}.spectrogram.f32`;
  writeFileSync(`${bin}.partial`, Buffer.from(data.buffer));
  renameSync(`${bin}.partial`, bin);
  const layout = { count, columns, rows, secondsPerColumn, rowHz, order: 'example, column, row (db[example][column][row]); dB, -180 for silence' };
  writeFileSync(`${out}.spectrogram.json`, `${JSON.stringify(layout)}\n`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string', default: '/work/corpus' },
      out: { type: 'string', default: join(ROOT, 'models', 'training', 'data', 'dataset.jsonl') },
      excerpts: { type: 'string', default: '8' },
      variants: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '20' },
      workers: { type: 'string', default: String(Math.max(1, Math.min(4, cpus().length))) },
      spectrogram: { type: 'boolean', default: false },
    },
  });
  const corpus = resolve(values.corpus);
  const manifestPath = join(corpus, 'manifest.tsv');
  if (!existsSync(manifestPath)) throw new Error(`no corpus at ${corpus} (sh ../shared/corpus/install_dev.sh ${corpus} recreates it)`);
  const [header, ...lines] = readFileSync(manifestPath, 'utf8').trim().split('\n');
  const cols = header.split('\t');
  const manifest = lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])));
  const split = splitTracks(manifest);
  const tracks = manifest.map((m) => {
    const style = PACKAGE_STYLE[m.package];
    if (!style) throw new Error(`${m.file}: package ${m.package} has no style label`);
    return { file: m.file, package: m.package, style, split: split[m.file] };
  });
  // The split and the sources' provenance are recorded next to the training code (committed).
  const splitFile = join(ROOT, 'models', 'training', 'split.json');
  writeFileSync(
    splitFile,
    `${JSON.stringify({ seed: SEED, rule: 'by track, within each package: ~17 % test (at least one), ~15 % validation (packages of 4 or more), rest train', packageStyle: PACKAGE_STYLE, tracks: manifest.map((m) => ({ file: m.file, package: m.package, split: split[m.file], style: PACKAGE_STYLE[m.package], license: m.license, credit: m.credit, genre: m.genre })) }, null, 1)}\n`,
  );
  const nWorkers = Number(values.workers);
  const opts = { corpus, excerpts: Number(values.excerpts), variants: Number(values.variants), seconds: Number(values.seconds), spectrogram: values.spectrogram };
  const started = Date.now();
  const results = new Map();
  const spectrograms = new Map();
  await Promise.all(
    Array.from({ length: nWorkers }, (_, w) =>
      new Promise((ok, fail) => {
        const mine = tracks.filter((_, i) => i % nWorkers === w);
        const wk = new Worker(fileURLToPath(import.meta.url), { workerData: { ...opts, tracks: mine } });
        wk.on('message', (m) => {
          results.set(m.track, m.rows);
          spectrograms.set(m.track, m.spectrograms);
          process.stderr.write(`  ${results.size}/${tracks.length} ${m.track}: ${m.rows.length} examples (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
        });
        wk.on('error', fail);
        wk.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`worker exited ${code}`))));
      }),
    ),
  );
  // Rows in manifest order, so the file is identical whatever the worker count.
  const rows = tracks.flatMap((t) => results.get(t.file) ?? []);
  mkdirSync(dirname(values.out), { recursive: true });
  const tmp = `${values.out}.${process.pid}.partial`;
  writeFileSync(tmp, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  renameSync(tmp, values.out);
  if (values.spectrogram) writeSpectrograms(values.out, tracks.flatMap((t) => spectrograms.get(t.file) ?? []), rows.length);
  const count = (s) => rows.filter((r) => r.split === s).length;
  console.log(`wrote ${rows.length} examples (train ${count('train')}, val ${count('val')}, test ${count('test')}) from ${tracks.length} tracks to ${values.out} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (isMainThread) {
  main().catch((e) => {
    console.error(`dataset: ${e.stack ?? e}`);
    process.exit(1);
  });
} else {
  worker(workerData).catch((e) => {
    console.error(`dataset worker: ${e.stack ?? e}`);
    process.exit(1);
  });
}
