#!/usr/bin/env node
// Lathe mastering benchmark (`npm run bench`, after the analysis benchmark).
//
// What it measures
//   On a 4-minute stereo 44.1 kHz 24-bit WAV of synthetic, music-like content at an unmastered level
//   (about -20 LUFS integrated, sample peaks at -3 dBFS), written by this script from a seeded PRNG so
//   every run measures the same file:
//
//   1. Full-chain render: `lathe render FILE --chain full.json --out OUT.wav --bits 24`, where full.json
//      is defaultChain() with two EQ bands, the compressor, the imager (width 1.1, mono below 120 Hz),
//      warmth saturation (drive 3 dB, mix 0.3) and the limiter at -1 dBTP enabled (reverb, delay off).
//      Reported: wall and CPU medians and the real-time factor (RTF = audio seconds / wall seconds).
//
//   2. Master vs loudnorm, side by side, interleaved in rotating order in the same run:
//        lathe master   `lathe master FILE --targets spotify --out DIR --json`: a closed-loop search
//                       for -14 LUFS under -1 dBTP, a 24-bit FLAC deliverable, and codec checks
//                       (Vorbis 320k and 160k, AAC 256k: encode, decode, re-measure, fix) plus reports.
//        ffmpeg loudnorm two passes: pass 1 measures (`loudnorm=I=-14:TP=-1:LRA=11:print_format=json`),
//                       pass 2 applies with the measured values and linear=true and writes a 24-bit WAV
//                       with `-ar 44100` (loudnorm upsamples to 192 kHz internally and would otherwise
//                       write 192 kHz). The time is both passes together.
//      Then both outputs are measured by `lathe analyze` as files and after an AAC 256k encode+decode
//      (ffmpeg's native `aac` encoder to .m4a, then `lathe analyze` of the .m4a). loudnorm's pass-2
//      `normalization_type` says whether it kept linear gain or fell back to its dynamic mode (which
//      it does when the linear gain would push the true peak over TP, or the LRA is over its target).
//
//   Wall = elapsed seconds. CPU = user+sys seconds of the whole process tree (node and the ffmpeg /
//   ffprobe children it waits for), from /usr/bin/time or, without it, the shell's `times` builtin.
//   Times are medians over the repetitions (3 by default, 1 with --quick).
//
// How to read it
//   ratio = loudnorm time / lathe master time: 2.00x means Lathe took half as long; 0.50x twice as long.
//   Note lathe master does more work than loudnorm (three codec round trips, a FLAC encode and reports).
//   Quality columns: "TP<-1 AAC" = the true peak after the AAC round trip is under -1 dBTP;
//   "±0.1 LU" = integrated loudness within ±0.1 LU of -14 LUFS (file / after AAC).
//   Absolute times drift on a shared machine; compare within one run.
//
// Usage: node bench/master.bench.mjs [--quick] [--reps N] [--json PATH] [--source-out WAV (write the source and stop)]
// Exit status: 0 = everything ran (whatever the quality verdicts); 1 = something failed to run.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LATHE_BIN = path.join(ROOT, 'bin', 'lathe.js');
const DOCUMENT_JS = path.join(ROOT, 'dist', 'main', 'core', 'chain', 'document.js');

const TARGET_LUFS = -14;
const TARGET_TP = -1;
const TARGET_LRA = 11;
const TOLERANCE_LU = 0.1;
const AAC_KBPS = 256;
const SECONDS = 240;
const RATE = 44100;

// ---------------------------------------------------------------- arguments
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const jsonIdx = argv.indexOf('--json');
const JSON_PATH = jsonIdx >= 0 ? argv[jsonIdx + 1] : null;
const sourceIdx = argv.indexOf('--source-out');
const SOURCE_OUT = sourceIdx >= 0 ? argv[sourceIdx + 1] : null;
const repsIdx = argv.indexOf('--reps');
const REPS = repsIdx >= 0 ? Math.max(1, Number(argv[repsIdx + 1]) | 0) : QUICK ? 1 : 3;
if (jsonIdx >= 0 && !JSON_PATH) fail('--json needs a PATH');

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}

// ---------------------------------------------------------------- small helpers
const median = (xs) => {
  const v = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const ok = (x) => x != null && Number.isFinite(x);
const fmt = (x, d = 2) => (ok(x) ? x.toFixed(d) : 'n/a');
const fmtRatio = (x) => (ok(x) ? `${x.toFixed(2)}x` : 'n/a');
const yesNo = (b) => (b == null ? 'n/a' : b ? 'yes' : 'no');
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
let tmp; // the temp dir, set in main()
let seq = 0;

/**
 * Runs a command to completion; returns its exit code, output, wall seconds (measured here) and the
 * CPU seconds of its process tree (/usr/bin/time, or the shell's `times` for waited-for children).
 */
function runTimed(cmd, args) {
  const timeFile = path.join(tmp, `time-${seq++}.txt`);
  const [exe, exeArgs] = TIME_BIN
    ? [TIME_BIN, ['-f', '%U %S', '-o', timeFile, cmd, ...args]]
    : ['sh', ['-c', '"$@"; s=$?; times > "$0"; exit $s', timeFile, cmd, ...args]];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(exe, exeArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => resolve({ code: -1, wall: null, cpu: null, stdout: '', stderr: e.message }));
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      let cpu = null;
      try {
        const text = readFileSync(timeFile, 'utf8').trim();
        if (TIME_BIN) {
          const [u, s] = text.split('\n').pop().split(' ').map(Number);
          cpu = u + s;
        } else {
          const t = [...text.matchAll(/(\d+)m([\d.]+)s/g)].map((x) => Number(x[1]) * 60 + Number(x[2]));
          cpu = t[2] + t[3]; // second line of `times`: the children's user and sys
        }
        rmSync(timeFile, { force: true });
      } catch {
        /* no timing file: the command could not start */
      }
      resolve({ code, wall, cpu, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** runTimed that throws with the tail of stderr unless the exit code is one of `okCodes`. */
async function mustRun(what, cmd, args, okCodes = [0]) {
  const r = await runTimed(cmd, args);
  if (!okCodes.includes(r.code)) throw new Error(`${what} exited with ${r.code}: ${r.stderr.trim().slice(-600)}`);
  return r;
}

// ---------------------------------------------------------------- test signal
/** xorshift32: a small deterministic PRNG, uniform in [0, 1). */
function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** A one-pole low-passed white noise (a soft, darker noise for pads and room). */
function darkNoise(rnd, coeff) {
  let y = 0;
  return () => (y += coeff * (rnd() * 2 - 1 - y));
}

/**
 * A synthetic unmastered "song" at 96 bpm: eight 30-s sections at different levels (quiet intro and
 * breakdown, louder choruses), drums (kick with a pitch drop, snare, closed hats with an accent
 * pattern), a plucked bass line, a four-chord pad of detuned saw-like tones spread in stereo, and a
 * lead melody panned slightly right in the choruses. Scaled to a -3 dBFS sample peak; the drums'
 * transients over a moderate sustained bed give an unmastered peak-to-loudness ratio (about 17 dB),
 * so the integrated loudness lands near -20 LUFS.
 */
function synthSong(seconds, rate) {
  const n = seconds * rate;
  const L = new Float32Array(n);
  const R = new Float32Array(n);
  const rnd = xorshift(0x5eed1a7e);
  const room = darkNoise(rnd, 0.05);
  const TAU = 2 * Math.PI;
  const beat = 60 / 96;
  const bar = 4 * beat;
  // Chord roots (Hz) per bar: Am - F - C - G, and the chord's third/fifth as ratios.
  const chords = [
    [110.0, 1.1892, 1.4983], // A minor
    [87.31, 1.2599, 1.4983], // F major
    [130.81, 1.2599, 1.4983], // C major
    [98.0, 1.2599, 1.4983], // G major
  ];
  const sectionDb = [-7, -3, 0, -3, -8, 0, 1, -5]; // 30-s sections
  const sectionLen = seconds / sectionDb.length;
  const leadNotes = [0, 3, 7, 10, 12, 10, 7, 5]; // semitones over the chord root, one per beat
  const hatAccent = [1, 0.4, 0.7, 0.4, 1, 0.4, 0.7, 0.55];

  const padPh = new Float64Array(6);
  let bassPh = 0;
  let leadPh = 0;
  let kickPh = 0;
  let lastBeat = -1;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    // Section level, crossfaded in dB over the last 1.5 s of each section.
    const k = Math.min(sectionDb.length - 1, Math.floor(t / sectionLen));
    const into = t - k * sectionLen;
    const a = sectionDb[k];
    const b = sectionDb[Math.min(sectionDb.length - 1, k + 1)];
    const db = into > sectionLen - 1.5 ? a + ((b - a) * (into - (sectionLen - 1.5))) / 1.5 : a;
    const env = 10 ** (db / 20);
    const chorus = db >= -1;

    const [root, third, fifth] = chords[Math.floor(t / bar) % chords.length];
    const beatNo = Math.floor(t / beat);
    const tb = t - beatNo * beat; // seconds since the beat
    const t8 = tb % (beat / 2); // seconds since the eighth note
    const eighth = Math.floor(t / (beat / 2)) % 8;
    if (beatNo !== lastBeat) (kickPh = 0), (lastBeat = beatNo);

    // Drums: kick on 1 and 3 (and the "and" of 4), snare on 2 and 4, hats on eighths.
    const beatInBar = beatNo % 4;
    let kick = 0;
    if (beatInBar === 0 || beatInBar === 2) {
      kickPh += (TAU * (48 + 110 * Math.exp(-tb * 35))) / rate;
      kick = 0.7 * Math.exp(-tb * 7) * Math.sin(kickPh);
    }
    const snare = beatInBar === 1 || beatInBar === 3 ? Math.exp(-tb * 18) * (0.5 * (rnd() * 2 - 1) + 0.3 * Math.sin(TAU * 190 * tb)) : 0;
    const hatNoise = rnd() * 2 - 1 - room(); // roughly high-passed noise
    const hat = 0.12 * hatAccent[eighth] * Math.exp(-t8 * 60) * hatNoise;

    // Bass: plucked root with a second harmonic, retriggered every eighth note.
    bassPh += (TAU * root) / rate;
    const bass = 0.3 * Math.exp(-t8 * 4) * (Math.sin(bassPh) + 0.3 * Math.sin(2 * bassPh) + 0.1 * Math.sin(3 * bassPh));

    // Pad: root, third and fifth an octave up, each a slightly detuned pair (left/right), 3 partials.
    let padL = 0;
    let padR = 0;
    const freqs = [root * 2, root * 2 * third, root * 2 * fifth];
    for (let v = 0; v < 3; v++) {
      padPh[2 * v] += (TAU * freqs[v] * 0.998) / rate;
      padPh[2 * v + 1] += (TAU * freqs[v] * 1.002) / rate;
      const pl = padPh[2 * v];
      const pr = padPh[2 * v + 1];
      padL += Math.sin(pl) + 0.5 * Math.sin(2 * pl) + 0.33 * Math.sin(3 * pl);
      padR += Math.sin(pr) + 0.5 * Math.sin(2 * pr) + 0.33 * Math.sin(3 * pr);
    }
    const padGain = 0.035 * (0.8 + 0.2 * Math.sin((TAU * t) / 7.3));

    // Lead: one note per beat, choruses only, with a soft attack and vibrato.
    let lead = 0;
    if (chorus) {
      const semis = leadNotes[beatNo % leadNotes.length];
      leadPh += (TAU * root * 4 * 2 ** (semis / 12) * (1 + 0.004 * Math.sin(TAU * 5.5 * t))) / rate;
      lead = 0.12 * Math.min(1, tb * 40) * Math.exp(-tb * 1.5) * (Math.sin(leadPh) + 0.2 * Math.sin(2 * leadPh));
    }

    const centre = kick + snare + bass;
    L[i] = env * (centre + padGain * padL + 0.9 * hat + 0.8 * lead + 0.02 * room());
    R[i] = env * (centre + padGain * padR + 1.1 * hat + 1.2 * lead + 0.02 * room());
  }
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(L[i]), Math.abs(R[i]));
  const gain = 10 ** (-3 / 20) / peak;
  for (let i = 0; i < n; i++) (L[i] *= gain), (R[i] *= gain);
  return [L, R];
}

/** Writes a 24-bit PCM stereo WAV. */
function writeWav24(file, [L, R], rate) {
  const frames = L.length;
  const dataBytes = frames * 6;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(2, 22); // channels
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 6, 28); // byte rate
  header.writeUInt16LE(6, 32); // block align
  header.writeUInt16LE(24, 34); // bits per sample
  header.write('data', 36);
  header.writeUInt32LE(dataBytes, 40);
  const fd = openSync(file, 'w');
  writeSync(fd, header);
  const FULL = 8388607;
  const q = (x) => Math.max(-FULL - 1, Math.min(FULL, Math.round(x * FULL)));
  const chunk = 1 << 16;
  const buf = Buffer.alloc(chunk * 6);
  for (let start = 0; start < frames; start += chunk) {
    const end = Math.min(frames, start + chunk);
    for (let i = start, o = 0; i < end; i++, o += 6) {
      buf.writeIntLE(q(L[i]), o, 3);
      buf.writeIntLE(q(R[i]), o + 3, 3);
    }
    writeSync(fd, buf, 0, (end - start) * 6);
  }
  closeSync(fd);
}

// ---------------------------------------------------------------- the full chain
async function fullChain() {
  const { defaultChain } = await import(pathToFileURL(DOCUMENT_JS).href);
  const c = defaultChain();
  c.name = 'bench: full chain';
  c.eq.enabled = true;
  c.eq.peaks[0] = { enabled: true, freqHz: 250, q: 1, gainDb: -1.5 }; // a little less mud
  c.eq.highShelf = { ...c.eq.highShelf, enabled: true, gainDb: 1.5 }; // a little more air (10 kHz)
  c.compressor.enabled = true;
  c.compressor.band = { thresholdDbfs: -24, ratio: 2, attackMs: 30, releaseMs: 150, makeupDb: 2 };
  c.imager = { ...c.imager, enabled: true, width: 1.1, monoBelowHz: 120 };
  c.saturation = { ...c.saturation, enabled: true, character: 'warmth', driveDb: 3, mix: 0.3 };
  c.reverb.enabled = false;
  c.delay.enabled = false;
  c.limiter = { ...c.limiter, enabled: true, ceilingDbtp: -1, inputGainDb: 3 };
  return c;
}

// ---------------------------------------------------------------- measurements
/** `lathe analyze FILE --json` -> { integrated, truePeak, lra }. */
async function analyze(file) {
  const r = await mustRun(`lathe analyze ${path.basename(file)}`, process.execPath, [LATHE_BIN, 'analyze', file, '--json']);
  const l = JSON.parse(r.stdout).loudness;
  return { integrated: l.integratedLufs, truePeak: l.truePeakDbtp, lra: l.loudnessRangeLu };
}

/** Encodes `file` with ffmpeg's native AAC at 256 kbps to .m4a, then measures the .m4a. */
async function analyzeAfterAac(ffmpeg, file) {
  const m4a = file.replace(/\.[^.]+$/, '') + `.aac${AAC_KBPS}.m4a`;
  await mustRun('ffmpeg aac encode', ffmpeg, ['-nostdin', '-v', 'error', '-y', '-i', file, '-map', '0:a', '-c:a', 'aac', '-b:a', `${AAC_KBPS}k`, m4a]);
  return analyze(m4a);
}

/** The last JSON object loudnorm printed on stderr (its print_format=json block). */
function parseLoudnormJson(stderr) {
  const start = stderr.lastIndexOf('{');
  const end = stderr.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error(`loudnorm printed no JSON: ${stderr.trim().slice(-400)}`);
  return JSON.parse(stderr.slice(start, end + 1));
}

// ---------------------------------------------------------------- contenders
/** lathe master for Spotify; returns timing, the deliverable and Lathe's own verdict. */
async function runLatheMaster(src, outDir, extra = []) {
  // Exit 3 means "delivered, but a target missed its spec": it ran; the verdict goes in the table.
  const r = await mustRun('lathe master', process.execPath, [LATHE_BIN, 'master', src, '--targets', 'spotify', '--out', outDir, '--json', ...extra], [0, 3]);
  const t = JSON.parse(r.stdout).targets[0];
  return { wall: r.wall, cpu: r.cpu, file: t.file, self: t };
}

/** ffmpeg loudnorm, two passes; timing is the sum of both. */
async function runLoudnorm(ffmpeg, src, out) {
  const base = `I=${TARGET_LUFS}:TP=${TARGET_TP}:LRA=${TARGET_LRA}`;
  const p1 = await mustRun('loudnorm pass 1', ffmpeg, ['-nostdin', '-hide_banner', '-nostats', '-i', src, '-af', `loudnorm=${base}:print_format=json`, '-f', 'null', '-']);
  const m = parseLoudnormJson(p1.stderr);
  const applied =
    `loudnorm=${base}:measured_I=${m.input_i}:measured_TP=${m.input_tp}:measured_LRA=${m.input_lra}` +
    `:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true:print_format=json`;
  const p2 = await mustRun('loudnorm pass 2', ffmpeg, ['-nostdin', '-hide_banner', '-nostats', '-y', '-i', src, '-af', applied, '-ar', String(RATE), '-c:a', 'pcm_s24le', out]);
  const j = parseLoudnormJson(p2.stderr);
  return {
    wall: p1.wall + p2.wall,
    cpu: ok(p1.cpu) && ok(p2.cpu) ? p1.cpu + p2.cpu : null,
    file: out,
    pass1: m,
    normalizationType: j.normalization_type ?? 'unknown (no normalization_type in pass-2 JSON)',
    pass2: j,
  };
}

// ---------------------------------------------------------------- main
async function main() {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lathe-master-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  process.on('SIGINT', () => (cleanup(), process.exit(130)));
  const failed = [];
  try {
    if (!existsSync(DOCUMENT_JS)) fail(`${DOCUMENT_JS} not found: run \`npm run build\` first`);
    const ffmpeg = (await import('@ffmpeg-installer/ffmpeg')).default.path;
    const ffVersion = spawnSync(ffmpeg, ['-version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(`Lathe mastering benchmark${QUICK ? ' (--quick)' : ''}`);
    console.log(`machine: ${os.cpus().length} x ${cpuModel}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; node ${process.version}`);
    console.log(`ffmpeg:  ${ffVersion}`);
    console.log(`temp:    ${tmp}`);
    console.log(`CPU:     ${TIME_BIN ? '/usr/bin/time' : "the shell's `times` (install `time` for /usr/bin/time)"}; ${REPS} repetition(s), medians`);

    // --- the source file (generated before, and outside, every measurement)
    const src = path.join(tmp, 'song-4min-44k1-s24.wav');
    const t0 = performance.now();
    writeWav24(src, synthSong(SECONDS, RATE), RATE);
    if (SOURCE_OUT) {
      writeFileSync(SOURCE_OUT, readFileSync(src));
      console.log(`wrote the benchmark's source to ${SOURCE_OUT}`);
      return;
    }
    // Measuring the source also warms the file cache, node and the DSP addon before any timing.
    const source = await analyze(src);
    console.log(
      `source:  ${path.basename(src)} (${SECONDS / 60} min, stereo, ${RATE} Hz, 24-bit), made in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
        `I ${fmt(source.integrated)} LUFS, TP ${fmt(source.truePeak)} dBTP, LRA ${fmt(source.lra, 1)} LU`,
    );

    // --- 1. full-chain render
    const chainFile = path.join(tmp, 'full-chain.json');
    writeFileSync(chainFile, JSON.stringify(await fullChain(), null, 2));
    const renderOut = path.join(tmp, 'render-full.wav');
    console.log(`\n1. full-chain render (EQ 2 bands, compressor, imager, saturation, limiter -1 dBTP), 24-bit WAV, ${REPS} rep(s)`);
    const render = { walls: [], cpus: [], error: null, output: null };
    for (let rep = 0; rep < REPS; rep++) {
      try {
        const r = await mustRun('lathe render', process.execPath, [LATHE_BIN, 'render', src, '--chain', chainFile, '--out', renderOut, '--bits', '24']);
        render.walls.push(r.wall);
        render.cpus.push(r.cpu);
        process.stdout.write(`  rep ${rep + 1}/${REPS}: ${fmt(r.wall)} s wall, ${fmt(r.cpu)} s CPU\n`);
      } catch (e) {
        render.error = e.message;
        failed.push('lathe render');
        console.log(`  lathe render FAILED: ${e.message}`);
        break;
      }
    }
    if (!render.error) {
      try {
        render.output = await analyze(renderOut);
      } catch (e) {
        render.error = e.message;
        failed.push('analyze render output');
      }
    }
    render.wall = median(render.walls);
    render.cpu = median(render.cpus);
    render.rtf = ok(render.wall) ? SECONDS / render.wall : null;
    console.log(`${pad('', 2)}${pad('', 16)}${lpad('wall s', 9)}${lpad('CPU s', 9)}${lpad('RTF', 9)}`);
    console.log(`  ${pad('lathe render', 16)}${lpad(fmt(render.wall), 9)}${lpad(fmt(render.cpu), 9)}${lpad(fmt(render.rtf, 1) + 'x', 9)}   (medians)`);
    if (render.output) console.log(`  output: I ${fmt(render.output.integrated)} LUFS, TP ${fmt(render.output.truePeak)} dBTP`);

    // --- 2. master vs loudnorm, interleaved, rotating which goes first
    console.log(`\n2. master for Spotify (${TARGET_LUFS} LUFS, ${TARGET_TP} dBTP): lathe master vs ffmpeg loudnorm two-pass, ${REPS} interleaved rep(s)`);
    const contenders = [
      { name: 'lathe master', run: (rep) => runLatheMaster(src, path.join(tmp, `master-${rep}`)) },
      { name: 'ffmpeg loudnorm', run: (rep) => runLoudnorm(ffmpeg, src, path.join(tmp, `loudnorm-${rep}.wav`)) },
      { name: 'lathe, no codecs', run: (rep) => runLatheMaster(src, path.join(tmp, `master-nocodec-${rep}`), ['--codec-checks', 'none']) },
    ];
    const runs = new Map(contenders.map((c) => [c.name, { walls: [], cpus: [], first: null, error: null }]));
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? contenders : [...contenders].reverse();
      for (const c of order) {
        const s = runs.get(c.name);
        if (s.error) continue;
        try {
          const r = await c.run(rep);
          s.walls.push(r.wall);
          s.cpus.push(r.cpu);
          s.first ??= r; // outputs are deterministic; the first repetition's are the ones measured
          process.stdout.write(`  rep ${rep + 1}/${REPS} ${pad(c.name, 16)} ${fmt(r.wall)} s wall, ${fmt(r.cpu)} s CPU\n`);
        } catch (e) {
          s.error = e.message;
          failed.push(c.name);
          console.log(`  ${c.name} FAILED: ${e.message}`);
        }
      }
    }

    // Quality: each tool's output as a file, and after an AAC 256k round trip.
    const rows = [];
    for (const c of contenders) {
      const s = runs.get(c.name);
      const row = { name: c.name, wall: median(s.walls), cpu: median(s.cpus), walls: s.walls, cpus: s.cpus, error: s.error, file: null, aac: null };
      if (s.first) {
        try {
          row.outputFile = path.basename(s.first.file);
          row.file = await analyze(s.first.file);
          row.aac = await analyzeAfterAac(ffmpeg, s.first.file);
        } catch (e) {
          row.error = e.message;
          failed.push(`${c.name} measurement`);
          console.log(`  measuring ${c.name}'s output FAILED: ${e.message}`);
        }
      }
      const within = (v) => (ok(v) ? Math.abs(v - TARGET_LUFS) <= TOLERANCE_LU + 1e-9 : null);
      row.aacUnderCeiling = ok(row.aac?.truePeak) ? row.aac.truePeak < TARGET_TP : null;
      row.fileWithinTolerance = within(row.file?.integrated);
      row.aacWithinTolerance = within(row.aac?.integrated);
      if (c.name.startsWith('lathe') && s.first) {
        const { pass, integratedLufs, truePeakDbtp, codecChecks } = s.first.self;
        row.latheVerdict = { pass, integratedLufs, truePeakDbtp, codecChecks };
      }
      if (c.name === 'ffmpeg loudnorm') {
        row.normalizationType = s.first?.normalizationType ?? null;
        row.loudnormPass1 = s.first?.pass1 ?? null;
        row.loudnormPass2 = s.first?.pass2 ?? null;
      }
      rows.push(row);
    }
    const lathe = rows[0];
    const loudnorm = rows[1];
    const quickLathe = rows[2];
    const ratioOf = (r) => ({
      wall: ok(r.wall) && ok(loudnorm.wall) ? loudnorm.wall / r.wall : null,
      cpu: ok(r.cpu) && ok(loudnorm.cpu) ? loudnorm.cpu / r.cpu : null,
    });
    const ratio = ratioOf(lathe);
    const quickRatio = ratioOf(quickLathe);

    const head =
      `${pad('tool', 17)}${lpad('wall s', 8)}${lpad('CPU s', 8)}${lpad('ratio w/CPU', 13)}` +
      `${lpad('I file', 9)}${lpad('TP file', 9)}${lpad('I AAC', 9)}${lpad('TP AAC', 9)}${lpad('TP<-1 AAC', 11)}${lpad('±0.1 LU file/AAC', 18)}`;
    console.log(`\n${head}`);
    console.log('-'.repeat(head.length));
    for (const r of rows) {
      const ratioCell = r === loudnorm ? '1.00x' : `${fmtRatio(ratioOf(r).wall)}/${fmtRatio(ratioOf(r).cpu)}`;
      console.log(
        `${pad(r.name, 17)}${lpad(fmt(r.wall), 8)}${lpad(fmt(r.cpu), 8)}${lpad(ratioCell, 13)}` +
          `${lpad(fmt(r.file?.integrated), 9)}${lpad(fmt(r.file?.truePeak), 9)}${lpad(fmt(r.aac?.integrated), 9)}${lpad(fmt(r.aac?.truePeak), 9)}` +
          `${lpad(yesNo(r.aacUnderCeiling), 11)}${lpad(`${yesNo(r.fileWithinTolerance)}/${yesNo(r.aacWithinTolerance)}`, 18)}${r.error ? '   FAILED' : ''}`,
      );
    }
    console.log(`times: medians; ratio = loudnorm time / this tool's time (wall/CPU; >1: faster than loudnorm). LUFS, dBTP by \`lathe analyze\`.`);
    console.log(`AAC: ffmpeg native aac ${AAC_KBPS} kbps .m4a, decoded and measured. ±0.1 LU: of ${TARGET_LUFS} LUFS.`);
    console.log(`lathe master: FLAC 24-bit deliverable; its time includes its own codec checks (Vorbis 320k/160k, AAC 256k) and reports.`);
    console.log(`lathe, no codecs: the same with --codec-checks none (search, render, FLAC, decode-and-measure, reports; no platform round trips).`);
    if (lathe.latheVerdict) {
      const checks = lathe.latheVerdict.codecChecks.map((c) => `${c.codec} ${c.bitrateKbps}k ${fmt(c.truePeakDbtp)} dBTP`).join(', ');
      const v = lathe.latheVerdict;
      console.log(`              its own verdict: ${v.pass ? 'PASS' : 'FAIL (exit 3: delivered, but missed the spec)'}; it reports I ${fmt(v.integratedLufs)} LUFS, TP ${fmt(v.truePeakDbtp)} dBTP`);
      console.log(`              its codec checks: ${checks}`);
    }
    console.log(`loudnorm:     24-bit WAV written with -ar ${RATE} (loudnorm upsamples to 192 kHz internally; without -ar it writes 192 kHz).`);
    if (loudnorm.loudnormPass1) {
      const m = loudnorm.loudnormPass1;
      console.log(`              pass 1 measured I ${m.input_i} LUFS, TP ${m.input_tp} dBTP, LRA ${m.input_lra} LU, thresh ${m.input_thresh}, offset ${m.target_offset}`);
    }
    const dynamic = loudnorm.normalizationType != null ? /dynamic/i.test(loudnorm.normalizationType) : null;
    console.log(`              pass 2 normalization_type: ${loudnorm.normalizationType ?? 'n/a'}${dynamic ? ' (fell back from linear=true to dynamic mode)' : ''}`);

    // --- summary
    console.log('\n==== summary ====');
    console.log(`source            I ${fmt(source.integrated)} LUFS, TP ${fmt(source.truePeak)} dBTP (${SECONDS / 60} min, 44.1 kHz 24-bit stereo)`);
    console.log(`full-chain render ${fmt(render.wall)} s wall, ${fmt(render.cpu)} s CPU, ${fmt(render.rtf, 1)}x real time${render.error ? ' (FAILED)' : ''}`);
    const verdict = lathe.latheVerdict ? `; its own verdict: ${lathe.latheVerdict.pass ? 'PASS' : 'FAIL'}` : '';
    console.log(`lathe master      ${fmt(lathe.wall)} s wall, ${fmt(lathe.cpu)} s CPU, ${fmt(ok(lathe.wall) ? SECONDS / lathe.wall : null, 1)}x real time${verdict}`);
    console.log(`ffmpeg loudnorm   ${fmt(loudnorm.wall)} s wall, ${fmt(loudnorm.cpu)} s CPU (2 passes), ${fmt(ok(loudnorm.wall) ? SECONDS / loudnorm.wall : null, 1)}x real time; mode: ${loudnorm.normalizationType ?? 'n/a'}`);
    console.log(`lathe, no codecs  ${fmt(quickLathe.wall)} s wall, ${fmt(quickLathe.cpu)} s CPU`);
    console.log(`speed ratio       loudnorm/lathe ${fmtRatio(ratio.wall)} wall, ${fmtRatio(ratio.cpu)} CPU; without the codec round trips ${fmtRatio(quickRatio.wall)} wall, ${fmtRatio(quickRatio.cpu)} CPU`);
    for (const r of rows) {
      console.log(
        `${pad(r.name, 18)}file ${fmt(r.file?.integrated)} LUFS / ${fmt(r.file?.truePeak)} dBTP; after AAC ${fmt(r.aac?.integrated)} LUFS / ${fmt(r.aac?.truePeak)} dBTP; ` +
          `under ${TARGET_TP} dBTP after AAC: ${yesNo(r.aacUnderCeiling)}; within ±${TOLERANCE_LU} LU: file ${yesNo(r.fileWithinTolerance)}, AAC ${yesNo(r.aacWithinTolerance)}`,
      );
    }
    console.log(`result            ${failed.length === 0 ? 'OK (everything ran)' : `FAILED to run: ${failed.join(', ')}`}`);

    if (JSON_PATH) {
      const report = {
        date: new Date().toISOString(),
        quick: QUICK,
        repetitions: REPS,
        machine: { cpus: os.cpus().length, cpuModel, totalMemBytes: os.totalmem(), node: process.version, ffmpeg: ffVersion },
        cpuAccounting: TIME_BIN ? '/usr/bin/time' : 'sh times',
        source: { audioSeconds: SECONDS, sampleRate: RATE, channels: 2, bitDepth: 24, ...source },
        render: { chain: JSON.parse(readFileSync(chainFile, 'utf8')), ...render, audioSeconds: SECONDS },
        master: {
          target: { integratedLufs: TARGET_LUFS, truePeakDbtp: TARGET_TP, lraLu: TARGET_LRA, toleranceLu: TOLERANCE_LU, aacKbps: AAC_KBPS },
          tools: rows,
          ratioLoudnormOverLathe: ratio,
          ratioLoudnormOverLatheWithoutCodecChecks: quickRatio,
          loudnormFellBackToDynamic: dynamic,
        },
        failed,
      };
      mkdirSync(path.dirname(path.resolve(JSON_PATH)), { recursive: true });
      writeFileSync(JSON_PATH, JSON.stringify(report, null, 2) + '\n');
      console.log(`wrote ${JSON_PATH}`);
    }
    return failed.length === 0 ? 0 : 1;
  } finally {
    cleanup();
  }
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`bench: FAILED: ${e.stack ?? e}`);
  process.exitCode = 1;
}
