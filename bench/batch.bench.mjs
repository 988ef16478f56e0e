#!/usr/bin/env node
// Lathe batch throughput benchmark (`npm run bench`).
//
// What it measures
//   Eight generated 3-minute stereo tracks (the demo synthesiser, native-dsp: drums, bass, chords,
//   lead, 48 kHz 24-bit, a different seed each) mastered by `lathe batch` for one target, first with
//   one worker (`--jobs 1`) and then with two (`--jobs 2`), each into a fresh output folder (so
//   nothing is resumed), in the same run. Reported per run: wall seconds, CPU seconds of the whole
//   process tree (node, its worker threads and the ffmpeg children; /usr/bin/time or the shell's
//   `times`), throughput (minutes of audio per wall minute), and whether every deliverable passed.
//   The headline is the speed-up ratio: wall(1 worker) / wall(2 workers). On a machine with two or
//   more free cores the ideal is 2.00x; less means the mastering of one file is already partly
//   parallel (ffmpeg's encoders and decoders run beside the DSP) or the cores are shared. The CPU
//   ratio (2 workers vs 1) is printed too: it barely depends on other load, and says what running
//   side by side costs in extra work.
//
// Usage: node bench/batch.bench.mjs [--quick] [--target ID] [--codec-checks full|none] [--reps N]
//   --quick: four 1-minute tracks instead of eight 3-minute ones.
//   Default target spotify with codec checks none (the batch machinery, not the codec round trips,
//   is what this measures; `--codec-checks full` adds them).
// Exit status: 0 = everything ran (whatever the ratio); 1 = something failed to run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LATHE_BIN = path.join(ROOT, 'bin', 'lathe.js');
const DEMO_JS = path.join(ROOT, 'dist', 'main', 'core', 'demo.js');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const TARGET = opt('--target', 'spotify');
const CODEC_CHECKS = opt('--codec-checks', 'none');
const REPS = Math.max(1, Number(opt('--reps', '1')) | 0);
const TRACKS = QUICK ? 4 : 8;
const SECONDS = QUICK ? 60 : 180;

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}
if (!existsSync(DEMO_JS)) fail('dist/ is missing: run `npm run build:ts` first');

const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
let seq = 0;

/** Runs a command; wall seconds measured here, CPU seconds of its process tree. */
function runTimed(tmp, cmd, args) {
  const timeFile = path.join(tmp, `time-${seq++}.txt`);
  const [exe, exeArgs] = TIME_BIN ? [TIME_BIN, ['-f', '%U %S', '-o', timeFile, cmd, ...args]] : ['sh', ['-c', '"$@"; s=$?; times > "$0"; exit $s', timeFile, cmd, ...args]];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(exe, exeArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
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
          cpu = t[2] + t[3];
        }
      } catch {
        /* no timing file */
      }
      resolve({ code, wall, cpu, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lathe-bench-batch-'));
  try {
    const { writeDemoMix } = await import(pathToFileURL(DEMO_JS).href);
    const inputs = [];
    process.stderr.write(`bench: writing ${TRACKS} × ${SECONDS / 60}-minute tracks …\n`);
    for (let i = 1; i <= TRACKS; i++) {
      const file = path.join(tmp, `track${i}.wav`);
      await writeDemoMix(file, { seconds: SECONDS, seed: i });
      inputs.push(file);
    }
    const runs = { 1: [], 2: [] };
    for (let rep = 0; rep < REPS; rep++) {
      for (const jobs of [1, 2]) {
        const out = path.join(tmp, `out-${jobs}-${rep}`);
        process.stderr.write(`bench: lathe batch --jobs ${jobs} (rep ${rep + 1}/${REPS}) …\n`);
        const r = await runTimed(tmp, process.execPath, [LATHE_BIN, 'batch', ...inputs, '--targets', TARGET, '--codec-checks', CODEC_CHECKS, '--out', out, '--jobs', String(jobs), '--json']);
        if (r.code !== 0 && r.code !== 3) fail(`lathe batch --jobs ${jobs} exited ${r.code}: ${r.stderr.trim().slice(-600)}`);
        const result = JSON.parse(r.stdout);
        runs[jobs].push({ wall: r.wall, cpu: r.cpu, pass: result.counts.pass, made: result.counts.done });
        rmSync(out, { recursive: true, force: true });
      }
    }
    const audioMinutes = (TRACKS * SECONDS) / 60;
    const row = (jobs) => {
      const wall = median(runs[jobs].map((r) => r.wall));
      const cpus = runs[jobs].map((r) => r.cpu).filter((x) => x !== null);
      const cpu = cpus.length ? median(cpus) : null;
      return { jobs, wall, cpu, throughput: audioMinutes / (wall / 60), pass: runs[jobs].every((r) => r.pass === TRACKS && r.made === TRACKS) };
    };
    const one = row(1);
    const two = row(2);
    const ratio = one.wall / two.wall;
    console.log(`\nLathe batch throughput — ${TRACKS} tracks × ${SECONDS / 60} min (48 kHz stereo), target ${TARGET}, codec checks ${CODEC_CHECKS}, ${os.availableParallelism()} cores, median of ${REPS}`);
    console.log('workers   wall (s)   CPU (s)   audio min / wall min   all pass');
    for (const r of [one, two]) console.log(`${String(r.jobs).padEnd(9)} ${r.wall.toFixed(1).padStart(8)}   ${r.cpu === null ? '    n/a' : r.cpu.toFixed(1).padStart(7)}   ${r.throughput.toFixed(1).padStart(20)}   ${r.pass ? 'yes' : 'NO'}`);
    console.log(`speed-up, 2 workers vs 1: ${ratio.toFixed(2)}x (ideal on two free cores: 2.00x)`);
    // CPU time hardly depends on what else the machine runs: the cost of running in parallel.
    if (one.cpu !== null && two.cpu !== null) console.log(`CPU, 2 workers vs 1: ${(two.cpu / one.cpu).toFixed(2)}x (1.00x: running side by side costs no extra work; the wall-clock ratio needs idle cores to show)`);
    const busy = os.loadavg()[0];
    if (busy > os.availableParallelism() * 0.75) console.log(`note: the load average was ${busy.toFixed(1)} on ${os.availableParallelism()} cores at the end: the second worker had no idle core, so the speed-up above understates it`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => fail(e.stack ?? String(e)));
