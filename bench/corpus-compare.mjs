// Compares `lathe analyze` with libebur128 (the anchors' harness) and ffmpeg's ebur128 filter on
// real music: `npm run bench:corpus -- DIR [--limit N]`, where DIR holds WAVs (for example the
// corpus that ../shared/corpus/install_dev.sh writes). Prints per-file values and the mean and
// largest absolute differences for integrated loudness, loudness range and true peak.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : Infinity;
if (!dir || !existsSync(dir)) {
  console.error('usage: npm run bench:corpus -- DIR [--limit N]   (DIR: a folder of WAV files)');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'lathe-corpus-'));
const meter = join(work, 'r128_meter');
const anchors = resolve(root, '..', 'shared', 'anchors', 'build.sh');
const built = existsSync(anchors) && spawnSync('sh', [anchors, meter]).status === 0;
if (!built) console.log('libebur128 harness not built (needs gcc, libebur128-dev, libsndfile1-dev): its column is skipped');
const ffmpeg = (await import('@ffmpeg-installer/ffmpeg')).default.path;

const files = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort().slice(0, limit);
const rows = [];
for (const f of files) {
  const file = join(dir, f);
  const l = spawnSync(process.execPath, [join(root, 'bin/lathe.js'), 'analyze', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (l.status !== 0) {
    console.log(`${f}: lathe failed: ${l.stderr.trim()}`);
    continue;
  }
  const ours = JSON.parse(l.stdout).loudness;
  const row = { file: f, lathe: [ours.integratedLufs, ours.loudnessRangeLu, ours.truePeakDbtp] };
  if (built) {
    const r = JSON.parse(spawnSync(meter, [file], { encoding: 'utf8' }).stdout);
    row.libebur128 = [r.integrated, r.lra, r.true_peak];
  }
  const log = spawnSync(ffmpeg, ['-nostats', '-hide_banner', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-'], { encoding: 'utf8' }).stderr;
  const s = log.slice(log.lastIndexOf('Summary:'));
  const grab = (re) => Number(s.match(re)?.[1]);
  row.ffmpeg = [grab(/I:\s+(-?[\d.]+)/), grab(/LRA:\s+(-?[\d.]+)/), grab(/Peak:\s+(-?[\d.]+)/)];
  rows.push(row);
  const fmt = (v) => (v ?? []).map((x) => (x === null || Number.isNaN(x) ? '—' : x.toFixed(2)).padStart(7)).join('');
  console.log(`${f.slice(0, 40).padEnd(40)} lathe${fmt(row.lathe)}   libebur128${fmt(row.libebur128)}   ffmpeg${fmt(row.ffmpeg)}`);
}
rmSync(work, { recursive: true, force: true });

console.log(`\n${rows.length} files; differences lathe − anchor (mean |Δ| / max |Δ|):`);
for (const anchor of ['libebur128', 'ffmpeg']) {
  const names = ['integrated LUFS', 'LRA LU', 'true peak dB'];
  const parts = names.map((name, k) => {
    const d = rows.filter((r) => r[anchor] && Number.isFinite(r[anchor][k]) && r.lathe[k] !== null).map((r) => Math.abs(r.lathe[k] - r[anchor][k]));
    if (d.length === 0) return `${name} —`;
    return `${name} ${(d.reduce((a, b) => a + b, 0) / d.length).toFixed(3)} / ${Math.max(...d).toFixed(3)}`;
  });
  console.log(`  vs ${anchor.padEnd(10)}: ${parts.join(';  ')}`);
}
