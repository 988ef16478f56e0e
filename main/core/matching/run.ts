// `lathe match`: profiles the target and the references (references from the cache when their
// content was analysed before), plans the matching chain, and optionally renders the matched
// master through the delivery engine (loudness search under the true-peak ceiling, decoded and
// measured after writing, with a report), written atomically to the requested file.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import type { ChainDocument } from '../chain/document.js';
import { analyzeFile } from '../analysis/analyze.js';
import { master, sha256File } from '../delivery/master.js';
import type { DeliveryTarget } from '../delivery/targets.js';
import { LatheError } from '../errors.js';
import { planMatch, type MatchAmounts, type MatchPlan } from './match.js';
import { profileFile, profileFromAnalysis, type AudioProfile } from './profile.js';

export interface MatchFileOptions {
  references: { file: string; weight: number }[];
  amounts: MatchAmounts;
  chain: ChainDocument;
  ceilingDbtp?: number;
  maxEqDb?: number;
  /** Render the matched master here (format from the extension: .wav or .flac). */
  out?: string;
  appVersion: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  cacheDir?: string | null;
}

export interface Measured {
  integratedLufs: number | null;
  loudnessRangeLu: number | null;
  truePeakDbtp: number | null;
  thirdOctave: { hz: number; db: number | null }[];
}

export interface MatchFileResult {
  target: Measured & { file: string };
  references: (Measured & { file: string; weight: number; cached: boolean })[];
  plan: MatchPlan;
  output: (Measured & { file: string; report: string; pass: boolean }) | null;
}

const measured = (p: AudioProfile): Measured => ({ integratedLufs: p.integratedLufs, loudnessRangeLu: p.loudnessRangeLu, truePeakDbtp: p.truePeakDbtp, thirdOctave: p.thirdOctave });

/** The delivery target a matched master is rendered to: the plan's loudness and ceiling. */
function matchTarget(plan: MatchPlan, out: string): DeliveryTarget {
  const flac = extname(out).toLowerCase() === '.flac';
  return {
    id: 'match',
    name: 'Reference match',
    integratedLufs: plan.targetLufs,
    toleranceLu: 0.1,
    truePeakCeilingDbtp: plan.ceilingDbtp,
    maxLoudnessRangeLu: null,
    measureLoudnessRange: true,
    sampleRateHz: null,
    bitDepth: 24,
    dither: false,
    deliverable: flac ? { container: 'flac', codec: 'flac', bitrateKbps: null } : { container: 'wav', codec: 'pcm_s24le', bitrateKbps: null },
    codecChecks: [],
    normalization: 'none',
    notes: 'The loudness and ceiling the reference match asked for.',
    sources: [],
  };
}

export async function matchFile(target: string, options: MatchFileOptions): Promise<MatchFileResult> {
  if (options.references.length === 0) throw new LatheError('USAGE', 'matching needs at least one --reference');
  const say = options.onProgress ?? (() => {});
  say(`analysing ${basename(target)}`);
  // The target's analysis (with the spectrogram its report draws) serves the plan and the render.
  const [targetAnalysis, targetSha] = await Promise.all([analyzeFile(target, { signal: options.signal, includeSpectrogram: true }), sha256File(target)]);
  const tp = profileFromAnalysis(targetAnalysis, targetSha);
  const refs = [];
  for (const r of options.references) {
    say(`analysing reference ${basename(r.file)}`);
    refs.push({ ...r, profile: await profileFile(r.file, { signal: options.signal, cacheDir: options.cacheDir }) });
  }
  const plan = planMatch(tp, refs.map((r) => ({ profile: r.profile, weight: r.weight })), options.amounts, options.chain, { ceilingDbtp: options.ceilingDbtp, maxEqDb: options.maxEqDb });
  let output: MatchFileResult['output'] = null;
  if (options.out) {
    const out = resolve(options.out);
    const ext = extname(out).toLowerCase();
    if (ext !== '.wav' && ext !== '.flac') throw new LatheError('USAGE', `--out must end in .wav or .flac (got "${ext || 'no extension'}")`, { file: out });
    // Rendered beside the destination, then renamed into place with its reports.
    const work = mkdtempSync(resolve(dirname(out), '.lathe-match-'));
    try {
      say(`rendering ${basename(out)}`);
      const r = await master(target, [matchTarget(plan, out)], { outDir: work, chain: plan.chain, appVersion: options.appVersion, signal: options.signal, onProgress: options.onProgress, maxLimiterGainReductionDb: 12, inputKnown: { analysis: targetAnalysis, sha256: targetSha } });
      const t = r.targets[0]!;
      const stem = out.slice(0, out.length - ext.length);
      renameSync(t.reportJson, `${stem}.report.json`);
      renameSync(t.reportHtml, `${stem}.report.html`);
      renameSync(t.file, out);
      const op = profileFromAnalysis(t.analysis, '');
      output = { ...measured(op), file: out, report: `${stem}.report.html`, pass: t.pass };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return {
    target: { ...measured(tp), file: resolve(target) },
    references: refs.map((r) => ({ ...measured(r.profile), file: resolve(r.file), weight: r.weight, cached: r.profile.cached })),
    plan,
    output,
  };
}
