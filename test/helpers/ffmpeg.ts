// ffmpeg for tests: the same binary the engine resolves, used to encode fixtures and as the
// independent meter (its ebur128 filter) in cross-checks.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from './cli.js';
import { resolveTool } from '../../main/core/media/tools.js';

export function ffmpegPath(): string {
  return resolveTool('ffmpeg').path;
}

export function ffmpeg(args: string[]): string {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-nostdin', '-y', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
  return r.stderr;
}

/** ffmpeg's ebur128 summary: integrated loudness, LRA and true peak (peak=true). */
export function ffmpegEbur128(file: string): { integratedLufs: number; lraLu: number; truePeakDbtp: number } {
  const log = ffmpeg(['-nostats', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-']);
  const summary = log.slice(log.lastIndexOf('Summary:'));
  const grab = (re: RegExp) => {
    const m = summary.match(re);
    if (!m) throw new Error(`no ${re} in ffmpeg summary:\n${summary}`);
    return Number(m[1]);
  };
  return {
    integratedLufs: grab(/I:\s+(-?[\d.]+) LUFS/),
    lraLu: grab(/LRA:\s+(-?[\d.]+) LU/),
    truePeakDbtp: grab(/Peak:\s+(-?[\d.]+) dBFS/),
  };
}

/**
 * libebur128 behind the anchors' small harness (../shared/anchors), built into `dir`. Returns
 * null when the compiler or the library is missing (.ci/run installs them).
 */
export function buildLibebur128Meter(dir: string): string | null {
  const script = resolve(repoRoot, '..', 'shared', 'anchors', 'build.sh');
  if (!existsSync(script)) return null;
  const out = join(dir, 'r128_meter');
  const r = spawnSync('sh', [script, out], { encoding: 'utf8' });
  return r.status === 0 && existsSync(out) ? out : null;
}

export function libebur128(meter: string, file: string): { integratedLufs: number; lraLu: number; truePeakDbtp: number } {
  const r = spawnSync(meter, ['-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`r128_meter failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { integrated: number; lra: number; true_peak: number };
  return { integratedLufs: j.integrated, lraLu: j.lra, truePeakDbtp: j.true_peak };
}
