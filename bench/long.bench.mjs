#!/usr/bin/env node
// Long files (`npm run bench`, last): a 2-hour 48 kHz stereo programme through `lathe analyze`,
// `lathe match` (against a 3-minute reference), `lathe render` with the full chain (EQ,
// compressor, imager, saturation, limiter, dither) and `lathe master` (the export), each as a
// user runs it, with peak memory; then a 10-hour file through `lathe analyze`.
//
// Memory: node's own peak RSS (process.resourceUsage().maxRSS, written at exit by a preload
// module) and every child's peak (VmHWM sampled from /proc while it runs: ffmpeg, ffprobe).
// Requirement: node's peak RSS < 500 MB (500,000,000 bytes) in every step; the 10-hour analysis
// must finish without error.
//
// The programmes are generated with ffmpeg's lavfi sources (pink noise and a sine, seeded), streamed
// to files in a temporary folder (LATHE_BENCH_DIR to choose it; 2 h of 24-bit WAV is 2.1 GB, 10 h of
// FLAC about 2 GB), removed afterwards.
//
// Usage: node bench/long.bench.mjs [--quick] [--json PATH]   (--quick: 20 minutes and 1 hour)
// Exit status: 0 all ran within the limit; 1 otherwise.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LATHE = path.join(ROOT, 'bin', 'lathe.js');
const RSS_LIMIT = 500_000_000;
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const jsonAt = argv.indexOf('--json');
const JSON_PATH = jsonAt >= 0 ? argv[jsonAt + 1] : null;
const LONG_SECONDS = QUICK ? 20 * 60 : 2 * 3600;
const VERY_LONG_SECONDS = QUICK ? 3600 : 10 * 3600;

const { resolveTool } = await import(pathToFileURL(path.join(ROOT, 'dist', 'main', 'core', 'media', 'tools.js')).href);
const { defaultChain } = await import(pathToFileURL(path.join(ROOT, 'dist', 'main', 'core', 'chain', 'document.js')).href);
const FFMPEG = resolveTool('ffmpeg').path;

const tmp = mkdtempSync(path.join(process.env.LATHE_BENCH_DIR ?? os.tmpdir(), 'lathe-long-'));
const preload = path.join(tmp, 'report-rss.mjs');
writeFileSync(preload, "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.LATHE_BENCH_RSS_OUT, String(process.resourceUsage().maxRSS * 1024)));\n");

const mb = (bytes) => (bytes / 1e6).toFixed(0);
const hms = (s) => `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;

function generate(file, seconds, extra) {
  const t0 = Date.now();
  const r = spawnSync(
    FFMPEG,
    ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `anoisesrc=color=pink:amplitude=0.25:sample_rate=48000:seed=11:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=110:sample_rate=48000:duration=${seconds}`, '-filter_complex', '[0][1]amix=inputs=2,aformat=channel_layouts=stereo', ...extra, file],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffmpeg could not generate ${file}: ${r.stderr}`);
  return (Date.now() - t0) / 1000;
}

/** The process tree under `pid`: pid → [ppid, name]. */
function descendants(pid) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      parent.set(Number(d), { ppid: Number(stat.slice(close + 2).split(' ')[1]), name: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone
    }
  }
  const out = [];
  const walk = (p) => {
    for (const [child, info] of parent) if (info.ppid === p) out.push({ pid: child, name: info.name }), walk(child);
  };
  walk(pid);
  return out;
}

/** Runs `lathe ARGS` with node's peak RSS reported and every descendant's peak sampled. */
function runLathe(args) {
  return new Promise((resolve) => {
    const rssOut = path.join(tmp, `rss-${Date.now()}.txt`);
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', pathToFileURL(preload).href, LATHE, ...args], { env: { ...process.env, LATHE_BENCH_RSS_OUT: rssOut }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
    const childPeaks = new Map();
    const sampler = setInterval(() => {
      for (const d of descendants(child.pid)) {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'));
          if (m) childPeaks.set(d.name, Math.max(childPeaks.get(d.name) ?? 0, Number(m[1]) * 1024));
        } catch {
          // gone
        }
      }
    }, 250);
    child.on('exit', (code) => {
      clearInterval(sampler);
      const nodeRss = existsSync(rssOut) ? Number(readFileSync(rssOut, 'utf8')) : NaN;
      resolve({ code, wall: (Date.now() - t0) / 1000, nodeRss, childPeaks: Object.fromEntries(childPeaks), stderr: stderr.trim().split('\n').pop() });
    });
  });
}

const results = [];
let ok = true;
async function step(name, args, audioSeconds) {
  process.stderr.write(`bench: ${name} …\n`);
  const r = await runLathe(args);
  const within = r.code === 0 || (r.code === 3 && name.startsWith('master'));
  const memoryOk = r.nodeRss < RSS_LIMIT;
  if (!within || !memoryOk) ok = false;
  results.push({ step: name, exit: r.code, wallSeconds: r.wall, realTime: audioSeconds / r.wall, nodePeakRssBytes: r.nodeRss, childPeakRssBytes: r.childPeaks, error: within ? null : r.stderr });
  const kids = Object.entries(r.childPeaks)
    .filter(([n]) => n !== 'node')
    .map(([n, b]) => `${n} ${mb(b)} MB`)
    .join(', ');
  console.log(`${name.padEnd(34)} exit ${r.code}  ${r.wall.toFixed(1).padStart(7)} s  ${(audioSeconds / r.wall).toFixed(0).padStart(5)}× real time  node peak ${mb(r.nodeRss).padStart(4)} MB${memoryOk ? '' : ' (OVER 500 MB)'}  ${kids}${within ? '' : `\n    ${r.stderr}`}`);
}

try {
  const long = path.join(tmp, 'two-hours.wav');
  const reference = path.join(tmp, 'reference.wav');
  const chain = path.join(tmp, 'full-chain.json');
  const c = defaultChain();
  c.eq.lowShelf = { enabled: true, freqHz: 90, q: 0.7, gainDb: 1.5 };
  c.eq.peaks[1] = { enabled: true, freqHz: 1000, q: 1, gainDb: -1 };
  c.eq.highShelf = { enabled: true, freqHz: 10_000, q: 0.7, gainDb: 1 };
  c.compressor.enabled = true;
  c.imager = { ...c.imager, enabled: true, width: 1.1 };
  c.saturation = { ...c.saturation, enabled: true, driveDb: 3 };
  c.limiter.inputGainDb = 4;
  c.dither.enabled = true;
  writeFileSync(chain, JSON.stringify(c));
  console.log(`Long files: ${hms(LONG_SECONDS)} and ${hms(VERY_LONG_SECONDS)} at 48 kHz stereo; node's peak RSS must stay under 500 MB\n`);
  const g1 = generate(long, LONG_SECONDS, ['-c:a', 'pcm_s24le']);
  generate(reference, 180, ['-c:a', 'pcm_s24le']);
  console.log(`generated ${hms(LONG_SECONDS)} of 24-bit WAV in ${g1.toFixed(0)} s\n`);
  await step(`analyze (${hms(LONG_SECONDS)})`, ['analyze', long, '--json'], LONG_SECONDS);
  await step('match against a 3-min reference', ['match', long, '--reference', reference, '--chain-out', path.join(tmp, 'matched.json'), '--json'], LONG_SECONDS);
  await step('render, full chain → FLAC', ['render', long, '--chain', chain, '--out', path.join(tmp, 'rendered.flac')], LONG_SECONDS);
  await step('master (export) spotify, cd', ['master', long, '--chain', chain, '--targets', 'spotify,cd', '--codec-checks', 'none', '--out', path.join(tmp, 'masters'), '--json'], LONG_SECONDS);
  rmSync(long, { force: true });
  rmSync(path.join(tmp, 'rendered.flac'), { force: true });
  rmSync(path.join(tmp, 'masters'), { recursive: true, force: true });

  const veryLong = path.join(tmp, 'ten-hours.flac');
  const g2 = generate(veryLong, VERY_LONG_SECONDS, ['-c:a', 'flac', '-sample_fmt', 's16']);
  console.log(`\ngenerated ${hms(VERY_LONG_SECONDS)} of FLAC in ${g2.toFixed(0)} s\n`);
  await step(`analyze (${hms(VERY_LONG_SECONDS)})`, ['analyze', veryLong, '--json'], VERY_LONG_SECONDS);
} catch (e) {
  ok = false;
  console.error(`bench: ${e.message}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (JSON_PATH) writeFileSync(JSON_PATH, JSON.stringify({ longSeconds: LONG_SECONDS, veryLongSeconds: VERY_LONG_SECONDS, rssLimitBytes: RSS_LIMIT, results }, null, 2));
console.log(ok ? '\nlong files: every step ran, node stayed under 500 MB' : '\nlong files: FAILED (see above)');
process.exit(ok ? 0 : 1);
