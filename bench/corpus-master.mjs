#!/usr/bin/env node
// Masters real music for every delivery target and checks each deliverable independently:
// `npm run bench:corpus-master -- DIR [--limit N] [--targets LIST] [--json PATH]`, where DIR holds
// WAVs (for example the corpus that ../shared/corpus/install_dev.sh writes). For each file,
// `lathe master FILE --targets … --json` runs once; every deliverable is then measured by ffmpeg's
// own ebur128 meter (integrated loudness, true peak), and compared with the target's spec:
// loudness within the target's tolerance, true peak under its ceiling, and every codec check
// Lathe reported under the ceiling. Lathe's own verdict (pass, or an honest fail with a reason)
// is printed beside it. Exit 0 when every deliverable that Lathe called a pass is confirmed by
// ffmpeg's meter, 1 otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dir = args.find((a, i) => !a.startsWith('--') && !['--limit', '--targets', '--json'].includes(args[i - 1]));
const opt = (name) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const limit = Number(opt('--limit') ?? Infinity);
const jsonPath = opt('--json');
if (!dir || !existsSync(dir)) {
  console.error('usage: npm run bench:corpus-master -- DIR [--limit N] [--targets LIST] [--json PATH]');
  process.exit(2);
}
const { listTargets } = await import(join(root, 'dist/main/core/delivery/targets.js'));
const targets = opt('--targets') ?? listTargets().map((t) => t.id).join(',');
const specs = new Map(listTargets().map((t) => [t.id, t]));
const ffmpeg = (await import('@ffmpeg-installer/ffmpeg')).default.path;

function ebur128(file) {
  const r = spawnSync(ffmpeg, ['-nostats', '-hide_banner', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-'], { encoding: 'utf8' });
  const s = r.stderr.slice(r.stderr.lastIndexOf('Summary:'));
  const grab = (re) => Number(s.match(re)?.[1]);
  return { i: grab(/I:\s+(-?[\d.]+) LUFS/), tp: grab(/Peak:\s+(-?[\d.]+) dBFS/) };
}

// Spread over the collection: every k-th file, so loud, quiet and dynamic material all appear.
const all = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort();
const step = Number.isFinite(limit) ? Math.max(1, Math.floor(all.length / limit)) : 1;
const files = all.filter((_, i) => i % step === 0).slice(0, limit);
const work = mkdtempSync(join(tmpdir(), 'lathe-corpus-master-'));
const rows = [];
let disagreements = 0;
try {
  for (const f of files) {
    const out = join(work, f.replace(/\.wav$/, ''));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'bin/lathe.js'), 'master', join(dir, f), '--targets', targets, '--out', out, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0 && r.status !== 3) {
      console.log(`${f}: lathe master failed (exit ${r.status}): ${r.stderr.trim().split('\n').at(-1)}`);
      disagreements++;
      continue;
    }
    const result = JSON.parse(r.stdout);
    console.log(`\n${f}  (${seconds.toFixed(1)} s for ${result.targets.length} targets)`);
    for (const t of result.targets) {
      const spec = specs.get(t.target);
      const report = JSON.parse(readFileSync(t.file.replace(/\.[^.]+$/, '.report.json'), 'utf8'));
      const wanted = report.requested.integratedLufs;
      const ceiling = report.requested.truePeakCeilingDbtp;
      const m = ebur128(t.file);
      // ffmpeg prints one decimal: allow its rounding on top of the spec.
      const loudOk = Math.abs(m.i - wanted) <= spec.toleranceLu + 0.05;
      const peakOk = m.tp <= ceiling + 0.05;
      const codecOk = t.codecChecks.every((c) => c.truePeakDbtp === null || c.truePeakDbtp <= ceiling);
      const confirmed = loudOk && peakOk && codecOk;
      if (t.pass && !confirmed) disagreements++;
      const why = t.pass ? '' : `  (${report.rules.filter((x) => !x.pass).map((x) => `${x.rule}: ${x.message}`).join('; ')})`;
      console.log(
        `  ${t.target.padEnd(13)} lathe ${t.pass ? 'PASS' : 'FAIL'}  I ${String(t.integratedLufs?.toFixed(2)).padStart(7)} (want ${wanted})  TP ${String(t.truePeakDbtp?.toFixed(2)).padStart(6)} (≤ ${ceiling})` +
          `  ffmpeg I ${m.i.toFixed(1)} TP ${m.tp.toFixed(1)}  codecs ≤ ceiling: ${codecOk ? 'yes' : 'NO'}  confirmed: ${confirmed ? 'yes' : 'NO'}${why}`,
      );
      rows.push({ file: f, target: t.target, pass: t.pass, integratedLufs: t.integratedLufs, truePeakDbtp: t.truePeakDbtp, wanted, ceiling, ffmpeg: m, codecChecks: t.codecChecks, confirmed, seconds });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const passes = rows.filter((r) => r.pass);
console.log(`\n${rows.length} deliverables from ${files.length} files: ${passes.length} passed by Lathe, ${passes.filter((r) => r.confirmed).length} of them confirmed by ffmpeg's meter; ${rows.length - passes.length} honest fails; ${disagreements} disagreement(s)`);
if (jsonPath) writeFileSync(jsonPath, `${JSON.stringify(rows, null, 2)}\n`);
process.exit(disagreements === 0 ? 0 : 1);
