// What matching needs to know about a track (target or reference): loudness, loudness range and
// its short-term distribution, crest factor, true peak, the 1/3-octave spectrum and the
// side-to-mid ratio per band — all from the native analyser over the whole track. A reference
// library is analysed once: profiles are cached by the file's SHA-256 (content, not name).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, type AnalysisResult } from '../analysis/analyze.js';
import { sha256File } from '../delivery/master.js';

export const PROFILE_VERSION = 1;

export interface AudioProfile {
  version: number;
  file: string;
  sha256: string;
  sampleRate: number;
  channels: number;
  durationSeconds: number;
  lossy: boolean;
  /** A lossy codec's brick-wall low-pass, when the spectrum shows one. */
  cutoffHz: number | null;
  integratedLufs: number | null;
  loudnessRangeLu: number | null;
  truePeakDbtp: number | null;
  samplePeakDbfs: number | null;
  plrDb: number | null;
  crestFactorDb: number | null;
  shortTermPercentilesLufs: { p10: number | null; p50: number | null; p95: number | null };
  /** Long-term power spectrum in 1/3-octave bands (IEC 61260 centres, 20 Hz – 20 kHz). */
  thirdOctave: { hz: number; db: number | null }[];
  /** Side-to-mid power ratio per 1/3-octave band (null where the file has no stereo pair). */
  sideToMid: { hz: number; db: number | null }[];
  correlation: number | null;
  /** Sample clipping found by QC (runs of samples at full scale). */
  clippedRuns: number;
}

export function profileFromAnalysis(a: AnalysisResult, sha256: string): AudioProfile {
  return {
    version: PROFILE_VERSION,
    file: a.file,
    sha256,
    sampleRate: a.format.sampleRate,
    channels: a.format.channels,
    durationSeconds: a.format.durationSeconds,
    lossy: a.format.lossy,
    cutoffHz: a.spectrum.cutoffHz,
    integratedLufs: a.loudness.integratedLufs,
    loudnessRangeLu: a.loudness.loudnessRangeLu,
    truePeakDbtp: a.loudness.truePeakDbtp,
    samplePeakDbfs: a.loudness.samplePeakDbfs,
    plrDb: a.loudness.plrDb,
    crestFactorDb: a.dynamics.crestFactorDb,
    shortTermPercentilesLufs: a.dynamics.shortTermPercentilesLufs,
    thirdOctave: a.spectrum.thirdOctave,
    sideToMid: a.stereo.bands.map((b) => ({ hz: b.hz, db: b.sideToMidDb })),
    correlation: a.stereo.correlation,
    clippedRuns: a.qc.filter((f) => /clip/i.test(f.kind)).length,
  };
}

/** Where profiles are cached: LATHE_CACHE_DIR, else the user's cache folder. */
export function profileCacheDir(): string {
  return process.env.LATHE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lathe', 'profiles');
}

export interface ProfileOptions {
  signal?: AbortSignal;
  /** null: no cache. */
  cacheDir?: string | null;
  onProgress?: (fraction: number) => void;
}

/** The file's profile, from the cache when its content was analysed before. */
export async function profileFile(file: string, options: ProfileOptions = {}): Promise<AudioProfile & { cached: boolean }> {
  const sha = await sha256File(file);
  const dir = options.cacheDir === undefined ? profileCacheDir() : options.cacheDir;
  const cached = dir ? join(dir, `${sha}.json`) : null;
  if (cached) {
    try {
      const p = JSON.parse(readFileSync(cached, 'utf8')) as AudioProfile;
      if (p.version === PROFILE_VERSION && p.sha256 === sha) return { ...p, file, cached: true };
    } catch {
      // Not cached yet (or unreadable): analyse.
    }
  }
  const analysis = await analyzeFile(file, { signal: options.signal, onProgress: options.onProgress });
  const profile = profileFromAnalysis(analysis, sha);
  if (dir && cached) {
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${cached}.${process.pid}.partial`;
      writeFileSync(tmp, `${JSON.stringify(profile)}\n`);
      renameSync(tmp, cached);
    } catch {
      // A cache that cannot be written only costs time next run.
    }
  }
  return { ...profile, cached: false };
}
