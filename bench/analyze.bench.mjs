#!/usr/bin/env node
// Lathe analysis benchmark (`npm run bench`).
//
// What it measures
//   Speed, on a 4-minute stereo 44.1 kHz 16-bit WAV of synthetic, music-like content (written by this
//   script with a seeded PRNG, so every run measures the same file). Four contenders run interleaved,
//   in rotating order, over several repetitions after one untimed warm-up round; the table shows medians:
//     lathe CLI         `node bin/lathe.js analyze FILE --json` as a child process: Node start-up included.
//     lathe in-process  `analyzeFile(FILE)` imported from dist/ into this process: the engine alone.
//     ffmpeg ebur128    `ffmpeg -nostats -i FILE -af ebur128=peak=true -f null -` (same ffmpeg Lathe uses).
//     libebur128        the anchors' `r128_meter -f FILE` (integrated, LRA, true peak), built into the temp dir.
//   Wall = elapsed seconds. CPU = user+sys seconds of the whole process tree: ffmpeg/ffprobe run as
//   children of node, and /usr/bin/time (or the shell's `times`) counts waited-for children. For the
//   in-process run, CPU = this process's CPU delta + its children's (ffmpeg, ffprobe) from /proc/self/stat.
//   RTF (real-time factor) = audio seconds / wall seconds.
//
// How to read the ratios
//   ratio = anchor time / lathe time, by CPU and by wall. 2.00x means Lathe took half the time of that
//   anchor (twice as fast); 0.50x means Lathe was twice as slow. Absolute times drift on a shared machine,
//   which is why everything is compared inside one run.
//
// Memory
//   `lathe analyze` on a 2-hour 48 kHz stereo WAV (20 minutes with --quick). Node's own peak RSS comes from
//   process.resourceUsage().maxRSS written at exit by a preload module; ffmpeg's peak comes from sampling
//   /proc/PID/status VmHWM. Requirement: node's peak RSS < 500 MB (500,000,000 bytes).
//
// Usage: node bench/analyze.bench.mjs [--quick] [--reps N] [--json PATH]
// Exit status: 0 = all ran and memory passed; 1 = something failed to run, or node's RSS >= 500 MB.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LATHE_BIN = path.join(ROOT, 'bin', 'lathe.js');
const ANALYZE_JS = path.join(ROOT, 'dist', 'main', 'core', 'analysis', 'analyze.js');
const ANCHOR_BUILD = process.env.LATHE_ANCHORS_DIR
  ? path.join(process.env.LATHE_ANCHORS_DIR, 'build.sh')
  : path.resolve(ROOT, '..', 'shared', 'anchors', 'build.sh');
const RSS_LIMIT_BYTES = 500_000_000;

// ---------------------------------------------------------------- arguments
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const jsonIdx = argv.indexOf('--json');
const JSON_PATH = jsonIdx >= 0 ? argv[jsonIdx + 1] : null;
const repsIdx = argv.indexOf('--reps');
const REPS = repsIdx >= 0 ? Math.max(1, Number(argv[repsIdx + 1]) | 0) : QUICK ? 2 : 5;
if (jsonIdx >= 0 && !JSON_PATH) fail('--json needs a PATH');
const SPEED_SECONDS = 240;
const MEM_SECONDS = QUICK ? 20 * 60 : 2 * 3600;

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}

// ---------------------------------------------------------------- small helpers
const median = (xs) => {
  const v = xs.filter((x) => x != null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmt = (x, d = 3) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
const fmtRatio = (x) => (x == null || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(2)}x`);
const mb = (bytes) => (bytes == null ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
/** CPU seconds of this process's waited-for children (cutime + cstime from /proc/self/stat). */
function childrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK; // fields 16 and 17
}

const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

let tmp; // temp dir, set in main()
let seq = 0;

/**
 * Runs a command to completion, measuring wall time (here) and the CPU of its process tree: with
 * /usr/bin/time when present, else with the shell's `times` builtin (children's user and sys).
 */
function runTimed(cmd, args, { env, onSpawn } = {}) {
  const timeFile = path.join(tmp, `time-${seq++}.txt`);
  const [exe, exeArgs] = TIME_BIN
    ? [TIME_BIN, ['-f', '%U %S %M', '-o', timeFile, cmd, ...args]]
    : ['sh', ['-c', '"$@"; s=$?; times > "$0"; exit $s', timeFile, cmd, ...args]];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(exe, exeArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const out = [];
    const err = [];
    onSpawn?.(child.pid);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => resolve({ code: -1, error: e.message, wall: null, cpu: null, maxrssKiB: null }));
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      let cpu = null;
      let maxrssKiB = null;
      try {
        const text = readFileSync(timeFile, 'utf8').trim();
        if (TIME_BIN) {
          const [u, s, m] = text.split('\n').pop().split(' ').map(Number);
          cpu = u + s;
          maxrssKiB = m;
        } else {
          const t = [...text.matchAll(/(\d+)m([\d.]+)s/g)].map((x) => Number(x[1]) * 60 + Number(x[2]));
          cpu = t[2] + t[3]; // second line: children's user and sys
        }
        rmSync(timeFile, { force: true });
      } catch {
        /* the timing file is missing only if the command could not start */
      }
      resolve({ code, wall, cpu, maxrssKiB, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// ---------------------------------------------------------------- test signal (4-minute, music-like)
/** mulberry32: small deterministic PRNG, uniform in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Paul Kellet's economy pink-noise filter fed by a white-noise source. */
function pinkNoise(white) {
  let b0 = 0, b1 = 0, b2 = 0;
  return () => {
    const w = white() * 2 - 1;
    b0 = 0.99765 * b0 + w * 0.099046;
    b1 = 0.963 * b1 + w * 0.2965164;
    b2 = 0.57 * b2 + w * 1.0526913;
    return (b0 + b1 + b2 + w * 0.1848) * 0.2;
  };
}

/**
 * Synthetic "song" at 120 bpm: sections of different level (so LRA is a few LU), a slow smooth envelope,
 * bass and detuned chord tones following a 4-chord progression, kick and snare transients, and partly
 * decorrelated pink-noise texture gated on eighth notes. Normalised to a -1 dBFS sample peak.
 */
function synthMusic(seconds, rate) {
  const n = seconds * rate;
  const L = new Float32Array(n);
  const R = new Float32Array(n);
  const rnd = prng(0x1a7e);
  const pinkC = pinkNoise(rnd), pinkL = pinkNoise(rnd), pinkR = pinkNoise(rnd);
  const TAU = 2 * Math.PI;
  const beat = 0.5; // seconds
  const bar = 4 * beat;
  const roots = [110, 87.31, 130.81, 98]; // A2 F2 C3 G2
  const sectionDb = [-9, -4, 0, -4, 0, -11, -2, 0]; // 32-s sections: intro, verse, chorus, ...
  const sectionLen = 16 * bar;
  let phBass = 0, ph1 = 0, ph2 = 0, ph3 = 0, ph1r = 0, ph2r = 0, ph3r = 0, phKick = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    // Smooth section envelope: linear-in-dB crossfade over 2 s at each section boundary.
    const s = t / sectionLen;
    const k = Math.floor(s);
    const into = (s - k) * sectionLen;
    const a = sectionDb[k % sectionDb.length];
    const b = sectionDb[(k + 1) % sectionDb.length];
    const db = into > sectionLen - 2 ? a + ((b - a) * (into - (sectionLen - 2))) / 2 : a;
    const env = 10 ** (db / 20) * (0.85 + 0.15 * Math.sin((TAU * t) / 11)); // plus a slow swell

    const root = roots[Math.floor(t / bar) % roots.length];
    const tb = t % beat; // time since the beat
    const beatNo = Math.floor(t / beat);
    const t8 = t % (beat / 2); // time since the eighth note

    phBass += (TAU * root) / rate;
    const bassEnv = Math.exp(-tb * 3);
    const bass = 0.35 * bassEnv * (Math.sin(phBass) + 0.25 * Math.sin(2 * phBass));

    const vib = 1 + 0.003 * Math.sin(TAU * 5 * t);
    ph1 += (TAU * root * 2 * vib) / rate;
    ph2 += (TAU * root * 2.52 * vib) / rate; // roughly a major third up
    ph3 += (TAU * root * 3 * vib) / rate; // a fifth up
    ph1r += (TAU * root * 2.003 * vib) / rate; // detuned copies on the right
    ph2r += (TAU * root * 2.525 * vib) / rate;
    ph3r += (TAU * root * 3.006 * vib) / rate;
    const padL = 0.09 * (Math.sin(ph1) + Math.sin(ph2) + Math.sin(ph3));
    const padR = 0.09 * (Math.sin(ph1r) + Math.sin(ph2r) + Math.sin(ph3r));

    // Kick on every beat: falling-pitch sine with a fast decay and a click at the onset.
    if (tb === 0 || i === 0) phKick = 0;
    phKick += (TAU * (50 + 90 * Math.exp(-tb * 30))) / rate;
    const kick = 0.7 * Math.exp(-tb * 9) * Math.sin(phKick) + (tb < 0.002 ? 0.3 * (rnd() * 2 - 1) : 0);
    // Snare on beats 2 and 4: noise burst.
    const snare = beatNo % 2 === 1 ? 0.45 * Math.exp(-tb * 22) * (rnd() * 2 - 1) : 0;
    // Hi-hat-ish pink texture gated on eighth notes, partly correlated between channels.
    const hat = 0.25 + 0.75 * Math.exp(-t8 * 25);
    const c = pinkC();
    const texL = 0.3 * hat * (0.7 * c + 0.5 * pinkL());
    const texR = 0.3 * hat * (0.7 * c + 0.5 * pinkR());

    const mono = bass + kick + snare;
    L[i] = env * (mono + padL + texL);
    R[i] = env * (mono + padR + texR);
  }
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(L[i]), Math.abs(R[i]));
  const gain = 10 ** (-1 / 20) / peak;
  for (let i = 0; i < n; i++) {
    L[i] *= gain;
    R[i] *= gain;
  }
  return [L, R];
}

/** Writes a 16-bit PCM stereo WAV. */
function writeWav16(file, [L, R], rate) {
  const n = L.length;
  const dataBytes = n * 4;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(2, 22); // channels
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 4, 28); // byte rate
  header.writeUInt16LE(4, 32); // block align
  header.writeUInt16LE(16, 34); // bits
  header.write('data', 36);
  header.writeUInt32LE(dataBytes, 40);
  const fd = openSync(file, 'w');
  writeSync(fd, header);
  const chunkFrames = 1 << 16;
  const buf = Buffer.alloc(chunkFrames * 4);
  const q = (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32767)));
  for (let start = 0; start < n; start += chunkFrames) {
    const end = Math.min(n, start + chunkFrames);
    for (let i = start, o = 0; i < end; i++, o += 4) {
      buf.writeInt16LE(q(L[i]), o);
      buf.writeInt16LE(q(R[i]), o + 2);
    }
    writeSync(fd, buf, 0, (end - start) * 4);
  }
  closeSync(fd);
}

/** The memory-test file: long stereo 48 kHz 16-bit noise with a slow envelope, made by ffmpeg lavfi. */
function makeLongWav(ffmpeg, file, seconds) {
  const src = (seed) =>
    `anoisesrc=d=${seconds}:c=pink:r=48000:a=0.5:seed=${seed},volume='0.35+0.3*sin(2*PI*t/47)':eval=frame,aformat=sample_fmts=flt:channel_layouts=mono`;
  const graph = `${src(7)}[l];${src(8)}[r];[l][r]amerge=inputs=2[out]`;
  const r = spawnSync(ffmpeg, ['-v', 'error', '-y', '-filter_complex', graph, '-map', '[out]', '-c:a', 'pcm_s16le', file], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`ffmpeg could not generate ${file}: ${r.stderr}`);
}

// ---------------------------------------------------------------- parsing each tool's numbers
function parseLathe(stdout) {
  const l = JSON.parse(stdout).loudness;
  return { integrated: l.integratedLufs, lra: l.loudnessRangeLu, truePeak: l.truePeakDbtp };
}
function parseFfmpegSummary(stderr) {
  const s = stderr.slice(stderr.lastIndexOf('Summary:'));
  const num = (re) => {
    const m = s.match(re);
    return m ? Number(m[1]) : null;
  };
  return { integrated: num(/I:\s+(-?[\d.]+|-inf) LUFS/), lra: num(/LRA:\s+(-?[\d.]+) LU/), truePeak: num(/Peak:\s+(-?[\d.]+|-inf) dBFS/) };
}
function parseR128(stdout) {
  const j = JSON.parse(stdout);
  return { integrated: j.integrated, lra: j.lra, truePeak: j.true_peak };
}

// ---------------------------------------------------------------- the libebur128 anchor
function buildAnchor() {
  if (!existsSync(ANCHOR_BUILD)) return { skipped: `anchor build script not found at ${ANCHOR_BUILD}` };
  if (!which('gcc')) return { skipped: 'gcc is not installed (apt-get install -y gcc libebur128-dev libsndfile1-dev)' };
  const out = path.join(tmp, 'r128_meter');
  const r = spawnSync('sh', [ANCHOR_BUILD, out], { encoding: 'utf8' });
  if (r.status === 0 && existsSync(out)) return { bin: out };
  if (/ebur128\.h|sndfile\.h|-lebur128|-lsndfile/.test(r.stderr)) {
    return { skipped: 'libebur128-dev / libsndfile1-dev are not installed (apt-get install -y libebur128-dev libsndfile1-dev)' };
  }
  return { error: `building r128_meter failed: ${r.stderr.trim()}` };
}

// ---------------------------------------------------------------- memory test
/** PIDs of all descendants of `root`, from /proc/PID/stat parent links. */
function descendants(root) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), { ppid: Number(rest[1]), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      /* process exited meanwhile */
    }
  }
  const out = [];
  const frontier = [root];
  while (frontier.length) {
    const p = frontier.pop();
    for (const [pid, info] of parent) if (info.ppid === p) (out.push({ pid, comm: info.comm }), frontier.push(pid));
  }
  return out;
}
function vmHwmBytes(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

async function memoryTest(file) {
  // Preload that makes node report its own peak RSS (RUSAGE_SELF, so ffmpeg is not included) at exit.
  const preload = path.join(tmp, 'report-rss.mjs');
  const rssOut = path.join(tmp, 'node-maxrss.txt');
  writeFileSync(
    preload,
    "import { writeFileSync } from 'node:fs';\n" +
      "process.on('exit', () => writeFileSync(process.env.LATHE_BENCH_RSS_OUT, String(process.resourceUsage().maxRSS * 1024)));\n",
  );
  const env = { ...process.env, LATHE_BENCH_RSS_OUT: rssOut };
  const peaks = new Map(); // comm -> max VmHWM seen (bytes)
  let sampler;
  // The timed child is /usr/bin/time (or sh); sample every descendant (node, ffprobe, ffmpeg) by name.
  const onSpawn = (rootPid) => {
    sampler = setInterval(() => {
      for (const { pid, comm } of descendants(rootPid)) {
        const hwm = vmHwmBytes(pid);
        if (hwm != null) peaks.set(comm, Math.max(peaks.get(comm) ?? 0, hwm));
      }
    }, 100);
  };
  const args = ['--import', pathToFileURL(preload).href, LATHE_BIN, 'analyze', file, '--json'];
  const r = await runTimed(process.execPath, args, { env, onSpawn });
  clearInterval(sampler);
  let nodeMaxRss = null;
  try {
    nodeMaxRss = Number(readFileSync(rssOut, 'utf8'));
  } catch {
    /* reported below as a failure */
  }
  let values = null;
  if (r.code === 0) values = parseLathe(r.stdout);
  return {
    ok: r.code === 0 && nodeMaxRss != null,
    error: r.code !== 0 ? r.stderr.trim() : nodeMaxRss == null ? 'node did not report its peak RSS' : null,
    wall: r.wall,
    cpu: r.cpu,
    nodeMaxRssBytes: nodeMaxRss,
    nodeSampledHwmBytes: peaks.get('node') ?? null,
    ffmpegSampledHwmBytes: peaks.get('ffmpeg') ?? null,
    treeMaxRssBytes: r.maxrssKiB != null ? r.maxrssKiB * 1024 : null,
    values,
  };
}

// ---------------------------------------------------------------- main
async function main() {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lathe-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  process.on('SIGINT', () => (cleanup(), process.exit(130)));
  const failed = [];
  try {
    if (!existsSync(ANALYZE_JS)) fail(`${ANALYZE_JS} not found: run \`npm run build\` first`);
    const ffmpeg = (await import('@ffmpeg-installer/ffmpeg')).default.path;
    const ffVersion = spawnSync(ffmpeg, ['-version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';

    console.log(`Lathe analysis benchmark${QUICK ? ' (--quick)' : ''}`);
    console.log(`machine: ${os.cpus().length} x ${cpuModel}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; node ${process.version}`);
    // Other work on the machine moves absolute times (the ratios less): the load shows how much.
    const loadBefore = os.loadavg();
    console.log(`load:    ${loadBefore.map((x) => x.toFixed(2)).join(' ')} (1, 5, 15 min) at the start`);
    console.log(`ffmpeg:  ${ffVersion}`);
    console.log(`temp:    ${tmp}`);
    if (!TIME_BIN) {
      console.log('note:    /usr/bin/time not found; CPU comes from the shell `times` builtin and the /usr/bin/time tree max RSS');
      console.log('         cross-check is missing. Install it with: apt-get install -y time');
    }

    // --- test files (generation is done before, and kept out of, every measurement)
    const speedFile = path.join(tmp, 'music-4min-44k1-s16.wav');
    const memFile = path.join(tmp, `noise-${MEM_SECONDS / 60}min-48k-s16.wav`);
    let t0 = performance.now();
    writeWav16(speedFile, synthMusic(SPEED_SECONDS, 44100), 44100);
    console.log(`generated ${path.basename(speedFile)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    makeLongWav(ffmpeg, memFile, MEM_SECONDS);
    console.log(`generated ${path.basename(memFile)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const anchor = buildAnchor();
    if (anchor.skipped) console.log(`libebur128 anchor SKIPPED: ${anchor.skipped}`);
    if (anchor.error) {
      console.log(`libebur128 anchor FAILED: ${anchor.error}`);
      failed.push('libebur128 build');
    }

    // --- contenders
    const { analyzeFile } = await import(pathToFileURL(ANALYZE_JS).href);
    const child = (name, cmd, args, parse, fromStderr = false) => ({
      name,
      async run() {
        const r = await runTimed(cmd, args);
        if (r.code !== 0) throw new Error(`${name} exited with ${r.code}: ${(r.error ?? r.stderr).trim().slice(-500)}`);
        return { wall: r.wall, cpu: r.cpu, values: parse(fromStderr ? r.stderr : r.stdout) };
      },
    });
    const contenders = [
      child('lathe CLI', process.execPath, [LATHE_BIN, 'analyze', speedFile, '--json'], parseLathe),
      {
        name: 'lathe in-process',
        async run() {
          const cpu0 = process.cpuUsage();
          const kids0 = childrenCpuSeconds();
          const w0 = process.hrtime.bigint();
          const res = await analyzeFile(speedFile);
          const wall = Number(process.hrtime.bigint() - w0) / 1e9;
          const c = process.cpuUsage(cpu0);
          const cpu = (c.user + c.system) / 1e6 + (childrenCpuSeconds() - kids0);
          const l = res.loudness;
          return { wall, cpu, values: { integrated: l.integratedLufs, lra: l.loudnessRangeLu, truePeak: l.truePeakDbtp } };
        },
      },
      child('ffmpeg ebur128', ffmpeg, ['-nostats', '-i', speedFile, '-af', 'ebur128=peak=true', '-f', 'null', '-'], parseFfmpegSummary, true),
    ];
    if (anchor.bin) contenders.push(child('libebur128', anchor.bin, ['-f', speedFile], parseR128));

    // --- speed: one warm-up round, then REPS interleaved rounds in rotating order
    const samples = new Map(contenders.map((c) => [c.name, { walls: [], cpus: [], values: null, error: null }]));
    console.log(`\nspeed: ${SPEED_SECONDS / 60}-minute stereo 44.1 kHz 16-bit file, 1 warm-up + ${REPS} interleaved repetitions`);
    for (let rep = 0; rep <= REPS; rep++) {
      const order = contenders.map((_, i) => contenders[(i + rep) % contenders.length]);
      for (const c of order) {
        const s = samples.get(c.name);
        if (s.error) continue;
        try {
          const r = await c.run();
          if (rep === 0) s.values = r.values;
          else (s.walls.push(r.wall), s.cpus.push(r.cpu));
        } catch (e) {
          s.error = e.message;
          failed.push(c.name);
          console.log(`  ${c.name} FAILED: ${e.message}`);
        }
      }
      process.stdout.write(rep === 0 ? '  warm-up done' : ` | rep ${rep}/${REPS}`);
    }
    process.stdout.write('\n');

    const rows = contenders.map((c) => {
      const s = samples.get(c.name);
      const wall = median(s.walls);
      const cpu = median(s.cpus);
      return { name: c.name, wall, cpu, rtf: wall ? SPEED_SECONDS / wall : null, walls: s.walls, cpus: s.cpus, values: s.values, error: s.error };
    });
    const row = (name) => rows.find((r) => r.name === name);

    console.log(`\n${pad('tool', 18)}${lpad('wall s', 9)}${lpad('CPU s', 9)}${lpad('RTF', 9)}   (medians)`);
    for (const r of rows) {
      console.log(`${pad(r.name, 18)}${lpad(fmt(r.wall), 9)}${lpad(fmt(r.cpu), 9)}${lpad(fmt(r.rtf, 0) + 'x', 9)}${r.error ? '   FAILED' : ''}`);
    }
    if (anchor.skipped) console.log(`${pad('libebur128', 18)}   skipped: ${anchor.skipped}`);

    const ratios = {};
    console.log('\nratios = anchor time / lathe time (>1: lathe is that many times faster)');
    console.log(`${pad('anchor', 18)}${lpad('vs CLI: CPU', 13)}${lpad('wall', 9)}${lpad('vs in-proc: CPU', 18)}${lpad('wall', 9)}`);
    for (const a of rows.filter((r) => !r.name.startsWith('lathe'))) {
      const ratio = (lathe, key) => (lathe?.[key] && a[key] ? a[key] / lathe[key] : null);
      const cli = row('lathe CLI');
      const inproc = row('lathe in-process');
      ratios[a.name] = {
        cli: { cpu: ratio(cli, 'cpu'), wall: ratio(cli, 'wall') },
        inProcess: { cpu: ratio(inproc, 'cpu'), wall: ratio(inproc, 'wall') },
      };
      const x = ratios[a.name];
      console.log(
        `${pad(a.name, 18)}${lpad(fmtRatio(x.cli.cpu), 13)}${lpad(fmtRatio(x.cli.wall), 9)}${lpad(fmtRatio(x.inProcess.cpu), 18)}${lpad(fmtRatio(x.inProcess.wall), 9)}`,
      );
    }

    console.log(`\nvalues for the ${SPEED_SECONDS / 60}-minute file (ffmpeg prints one decimal)`);
    console.log(`${pad('tool', 18)}${lpad('I LUFS', 10)}${lpad('LRA LU', 10)}${lpad('TP dBTP', 10)}`);
    for (const r of rows) {
      const v = r.values ?? {};
      console.log(`${pad(r.name, 18)}${lpad(fmt(v.integrated, 2), 10)}${lpad(fmt(v.lra, 2), 10)}${lpad(fmt(v.truePeak, 2), 10)}`);
    }

    // --- memory
    const memGB = (MEM_SECONDS * 48000 * 4) / 1e9;
    console.log(`\nmemory: lathe analyze on a ${MEM_SECONDS / 60}-minute stereo 48 kHz 16-bit WAV (${memGB.toFixed(2)} GB)`);
    const mem = await memoryTest(memFile);
    if (!mem.ok) {
      failed.push('memory test');
      console.log(`  FAILED: ${mem.error}`);
    }
    const rssPass = mem.nodeMaxRssBytes != null && mem.nodeMaxRssBytes < RSS_LIMIT_BYTES;
    console.log(`  node peak RSS (resourceUsage.maxRSS):   ${mb(mem.nodeMaxRssBytes)}`);
    console.log(`  node VmHWM (sampled /proc, 100 ms):     ${mb(mem.nodeSampledHwmBytes)}`);
    console.log(`  ffmpeg VmHWM (sampled /proc, 100 ms):   ${mb(mem.ffmpegSampledHwmBytes)}`);
    console.log(`  largest process in tree (time %M):     ${mb(mem.treeMaxRssBytes)}`);
    console.log(`  wall ${fmt(mem.wall, 1)} s, CPU ${fmt(mem.cpu, 1)} s, RTF ${fmt(MEM_SECONDS / mem.wall, 0)}x; I ${fmt(mem.values?.integrated, 2)} LUFS, LRA ${fmt(mem.values?.lra, 2)} LU, TP ${fmt(mem.values?.truePeak, 2)} dBTP`);
    console.log(`  node peak RSS < 500 MB: ${rssPass ? 'PASS' : 'FAIL'}`);

    // --- summary
    const cli = row('lathe CLI');
    const inproc = row('lathe in-process');
    console.log('\n==== summary ====');
    console.log(`lathe CLI         ${fmt(cli.wall)} s wall, ${fmt(cli.cpu)} s CPU, ${fmt(cli.rtf, 0)}x real time (4-min file)`);
    console.log(`lathe in-process  ${fmt(inproc.wall)} s wall, ${fmt(inproc.cpu)} s CPU, ${fmt(inproc.rtf, 0)}x real time`);
    for (const [name, x] of Object.entries(ratios)) {
      console.log(`vs ${pad(name, 15)}lathe CLI ${fmtRatio(x.cli.cpu)} CPU / ${fmtRatio(x.cli.wall)} wall; in-process ${fmtRatio(x.inProcess.cpu)} CPU / ${fmtRatio(x.inProcess.wall)} wall`);
    }
    if (anchor.skipped) console.log(`vs libebur128     skipped: ${anchor.skipped}`);
    console.log(`memory            node ${mb(mem.nodeMaxRssBytes)} peak RSS on ${MEM_SECONDS / 60} min 48 kHz stereo: ${rssPass ? 'PASS' : 'FAIL'} (< 500 MB); ffmpeg ${mb(mem.ffmpegSampledHwmBytes)}`);
    console.log(`load              ${loadBefore.map((x) => x.toFixed(2)).join(' ')} at the start, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end (1, 5, 15 min)`);
    console.log(`result            ${failed.length === 0 && rssPass ? 'OK' : `FAILED (${[...failed, ...(rssPass ? [] : ['RSS'])].join(', ')})`}`);

    if (JSON_PATH) {
      const report = {
        date: new Date().toISOString(),
        quick: QUICK,
        repetitions: REPS,
        machine: { cpus: os.cpus().length, cpuModel, totalMemBytes: os.totalmem(), node: process.version, ffmpeg: ffVersion },
        loadAverage: { start: loadBefore, end: os.loadavg() },
        cpuAccounting: TIME_BIN ? '/usr/bin/time' : 'sh times',
        speed: { audioSeconds: SPEED_SECONDS, sampleRate: 44100, channels: 2, bitDepth: 16, tools: rows, ratios, anchorSkipped: anchor.skipped ?? null },
        memory: { audioSeconds: MEM_SECONDS, sampleRate: 48000, channels: 2, bitDepth: 16, limitBytes: RSS_LIMIT_BYTES, pass: rssPass, ...mem },
        failed,
      };
      writeFileSync(JSON_PATH, JSON.stringify(report, null, 2) + '\n');
      console.log(`wrote ${JSON_PATH}`);
    }
    return failed.length === 0 && rssPass ? 0 : 1;
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
