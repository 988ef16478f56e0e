#!/usr/bin/env node
// Reference matching benchmark (`npm run bench`, after the mastering benchmark).
//
// 1. Speed and memory: `lathe match TARGET --reference REF --out OUT.wav --json` on a 3-minute
//    stereo 44.1 kHz pair synthesised by this script from a seeded PRNG (the target darker, quieter
//    and wider-ranged than the reference), timed as wall and CPU seconds of the whole process tree,
//    with its peak resident memory (/usr/bin/time's maximum RSS). Twice: with the reference's
//    profile not yet cached, and cached. Medians over the repetitions (3, or 1 with --quick).
// 2. Accuracy on real music (when a corpus folder is given: --corpus DIR, default
//    ../shared/corpus's install folder if LATHE_CORPUS names it): pairs of tracks from different
//    soundtracks, each target matched to its reference at full amounts, then measured by
//    `lathe analyze`: the mean absolute 1/3-octave difference to the reference (each spectrum
//    relative to its own 100 Hz–8 kHz mean, bands 31.5 Hz–16 kHz) before and after, the
//    integrated-loudness difference, the loudness range (target, reference, output) and the
//    output's true peak.
//
// Matchering 2.0, measured by the issue on a machine like this: 5–9 s and 1.2 GB per 3-minute
// pair, mean 1/3-octave difference 1.9–3.6 dB after, loudness off by 0.7–2.3 LU, true peaks up to
// +0.3 dBTP.
//
// Usage: node bench/match.bench.mjs [--quick] [--corpus DIR] [--pairs N] [--json PATH]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LATHE = path.join(ROOT, 'bin', 'lathe.js');
const argv = process.argv.slice(2);
const opt = (name) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);
const QUICK = argv.includes('--quick');
const REPS = QUICK ? 1 : 3;
const CORPUS = opt('--corpus') ?? process.env.LATHE_CORPUS;
const PAIRS = Number(opt('--pairs') ?? 6);
const JSON_PATH = opt('--json');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : null;
};
const f = (x, d = 2) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

/** Runs a command under /usr/bin/time: wall, CPU (user+sys) and max RSS (MB). */
function timed(args, env = {}) {
  const t0 = performance.now();
  const cmd = TIME ? [TIME, '-f', '%U %S %M', process.execPath, ...args] : [process.execPath, ...args];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0 && r.status !== 3) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').at(-1)}`);
  let cpu = null;
  let rssMb = null;
  if (TIME) {
    const last = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    cpu = last[0] + last[1];
    rssMb = last[2] / 1024;
  }
  return { wall, cpu, rssMb, stdout: r.stdout };
}

function analyse(file) {
  const r = spawnSync(process.execPath, [LATHE, 'analyze', file, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`analyze ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const shape = (bands) => {
  const mid = bands.filter((b) => b.db !== null && b.hz >= 100 && b.hz <= 8000);
  const level = mid.reduce((s, b) => s + b.db, 0) / mid.length;
  return new Map(bands.map((b) => [b.hz, b.db === null ? null : b.db - level]));
};
function toneDiff(a, b) {
  const x = shape(a.spectrum.thirdOctave);
  const y = shape(b.spectrum.thirdOctave);
  let s = 0;
  let n = 0;
  for (const [hz, v] of x) {
    if (hz < 31.5 || hz > 16_000 || v === null || y.get(hz) == null) continue;
    s += Math.abs(v - y.get(hz));
    n++;
  }
  return n ? s / n : null;
}

/** A 3-minute stereo mix: pink-ish noise bed, kick and bass, a chord pad; seeded. */
function synth(seconds, rate, seed, { tilt, level, width, swell }) {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const n = seconds * rate;
  const L = new Float32Array(n);
  const R = new Float32Array(n);
  let b0 = 0;
  let b1 = 0;
  let lp = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const beat = (t * 2) % 1;
    const kick = Math.exp(-beat * 25) * Math.sin(2 * Math.PI * 55 * beat * (1 + 2 * Math.exp(-beat * 30)));
    const bass = 0.3 * Math.sin(2 * Math.PI * 55 * t) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 0.25 * t));
    const w = rnd();
    b0 = 0.99 * b0 + 0.1 * w;
    b1 = 0.9 * b1 + 0.3 * w;
    const bright = w - b1; // the treble part
    lp += 0.05 * (b0 - lp);
    const pad = 0.15 * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * 277 * t) + Math.sin(2 * Math.PI * 330 * t));
    const env = 1 + swell * Math.sin(2 * Math.PI * t / 30);
    const mid = env * (0.5 * kick + bass + pad + 0.4 * lp + tilt * 0.15 * bright);
    const side = env * width * 0.2 * (rnd() * 0.5 + 0.5 * (b0 - lp));
    L[i] = level * (mid + side);
    R[i] = level * (mid - side);
  }
  return [L, R];
}

function writeWav24(file, [L, R], rate) {
  const n = L.length;
  const buf = Buffer.alloc(44 + n * 6);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 6, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(2, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 6, 28);
  buf.writeUInt16LE(6, 32);
  buf.writeUInt16LE(24, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 6, 40);
  let o = 44;
  for (let i = 0; i < n; i++) {
    for (const v of [L[i], R[i]]) {
      const q = Math.max(-8388608, Math.min(8388607, Math.round(v * 8388607)));
      buf.writeIntLE(q, o, 3);
      o += 3;
    }
  }
  writeFileSync(file, buf);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lathe-match-bench-'));
const report = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model }, speed: null, accuracy: [] };
try {
  console.log(`Lathe matching benchmark${QUICK ? ' (--quick)' : ''}: ${os.cpus().length} x ${os.cpus()[0]?.model}`);
  const target = path.join(tmp, 'target-3min.wav');
  const reference = path.join(tmp, 'reference-3min.wav');
  writeWav24(target, synth(180, 44100, 1, { tilt: 0.3, level: 0.35, width: 0.5, swell: 0.5 }), 44100);
  writeWav24(reference, synth(180, 44100, 2, { tilt: 1.2, level: 0.8, width: 1.2, swell: 0.1 }), 44100);
  const cache = path.join(tmp, 'cache');
  const run = (cached) => {
    const out = path.join(tmp, `matched-${cached ? 'cached' : 'cold'}.wav`);
    if (!cached) rmSync(cache, { recursive: true, force: true });
    return timed([LATHE, 'match', target, '--reference', reference, '--out', out, '--json'], { LATHE_CACHE_DIR: cache });
  };
  const rows = { cold: [], cached: [] };
  for (let rep = 0; rep < REPS; rep++) {
    rows.cold.push(run(false));
    rows.cached.push(run(true));
  }
  const first = JSON.parse(rows.cold[0].stdout);
  console.log('\n1. match + full render of a 3-minute stereo 44.1 kHz pair (medians)');
  console.log(`   ${'reference'.padEnd(20)}${'wall s'.padStart(8)}${'CPU s'.padStart(8)}${'peak MB'.padStart(9)}${'vs Matchering 5-9 s'.padStart(22)}`);
  const speed = {};
  for (const k of ['cold', 'cached']) {
    const wall = median(rows[k].map((r) => r.wall));
    const cpu = median(rows[k].map((r) => r.cpu));
    const rss = Math.max(...rows[k].map((r) => r.rssMb ?? 0));
    speed[k] = { wall, cpu, peakRssMb: rss };
    console.log(`   ${(k === 'cold' ? 'analysed' : 'from the cache').padEnd(20)}${f(wall).padStart(8)}${f(cpu).padStart(8)}${f(rss, 0).padStart(9)}${`${f(5 / wall, 1)}-${f(9 / wall, 1)}x faster`.padStart(22)}`);
  }
  console.log(`   output: ${f(first.output.integratedLufs)} LUFS (reference ${f(first.references[0].integratedLufs)}), TP ${f(first.output.truePeakDbtp)} dBTP, LRA ${f(first.output.loudnessRangeLu, 1)} LU (target ${f(first.target.loudnessRangeLu, 1)}, reference ${f(first.references[0].loudnessRangeLu, 1)})`);
  report.speed = speed;

  if (CORPUS && existsSync(CORPUS)) {
    const files = readdirSync(CORPUS).filter((x) => x.endsWith('.wav')).sort();
    const pkg = (x) => x.split('__')[0];
    const pairs = [];
    // Pairs across soundtracks, spread over the collection.
    for (let i = 0; pairs.length < PAIRS && i < files.length; i += Math.max(1, Math.floor(files.length / PAIRS))) {
      const t = files[i];
      const r = files.find((x, j) => j > (i + files.length / 2) % files.length && pkg(x) !== pkg(t)) ?? files.find((x) => pkg(x) !== pkg(t));
      if (r) pairs.push([t, r]);
    }
    console.log(`\n2. accuracy on ${pairs.length} real pairs from ${CORPUS} (full amounts, ceiling -1 dBTP)`);
    console.log(`   ${'target → reference'.padEnd(58)}${'1/3-oct before'.padStart(15)}${'after'.padStart(7)}${'ΔI LU'.padStart(7)}${'LRA t/r/out'.padStart(17)}${'TP out'.padStart(8)}${'s'.padStart(6)}`);
    for (const [t, r] of pairs) {
      const out = path.join(tmp, `pair-${pairs.indexOf(pairs.find((p) => p[0] === t))}.wav`);
      const res = timed([LATHE, 'match', path.join(CORPUS, t), '--reference', path.join(CORPUS, r), '--out', out, '--json'], { LATHE_CACHE_DIR: cache });
      const j = JSON.parse(res.stdout);
      const [at, ar, ao] = [analyse(path.join(CORPUS, t)), analyse(path.join(CORPUS, r)), analyse(out)];
      const row = {
        target: t,
        reference: r,
        toneBefore: toneDiff(at, ar),
        toneAfter: toneDiff(ao, ar),
        loudnessDiff: ao.loudness.integratedLufs - ar.loudness.integratedLufs,
        lra: [at.loudness.loudnessRangeLu, ar.loudness.loudnessRangeLu, ao.loudness.loudnessRangeLu],
        truePeak: ao.loudness.truePeakDbtp,
        seconds: res.wall,
        warnings: j.warnings,
      };
      report.accuracy.push(row);
      const name = `${t.replace('.wav', '')} → ${r.replace('.wav', '')}`.slice(0, 56);
      console.log(`   ${name.padEnd(58)}${f(row.toneBefore).padStart(15)}${f(row.toneAfter).padStart(7)}${f(row.loudnessDiff).padStart(7)}${row.lra.map((x) => f(x, 1)).join('/').padStart(17)}${f(row.truePeak).padStart(8)}${f(row.seconds, 1).padStart(6)}`);
    }
    const mean = (k) => report.accuracy.reduce((s, x) => s + x[k], 0) / report.accuracy.length;
    const closer = report.accuracy.filter((x) => Math.abs(x.lra[2] - x.lra[1]) < Math.abs(x.lra[0] - x.lra[1])).length;
    console.log(`   mean 1/3-octave difference ${f(mean('toneBefore'))} → ${f(mean('toneAfter'))} dB; largest |ΔI| ${f(Math.max(...report.accuracy.map((x) => Math.abs(x.loudnessDiff))))} LU; LRA closer to the reference in ${closer}/${report.accuracy.length}; highest TP ${f(Math.max(...report.accuracy.map((x) => x.truePeak)))} dBTP`);
  } else {
    console.log('\n2. accuracy on real pairs: skipped (give --corpus DIR or LATHE_CORPUS; ../shared/corpus/install_dev.sh DIR makes one)');
  }
  if (JSON_PATH) {
    mkdirSync(path.dirname(path.resolve(JSON_PATH)), { recursive: true });
    writeFileSync(JSON_PATH, `${JSON.stringify(report, null, 2)}\n`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
