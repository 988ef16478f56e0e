// Closed-loop delivery: for each target, find the gain into the limiter that lands the integrated
// loudness on the target (±0.1 LU) with the true peak under the ceiling, render, resample (soxr)
// and dither as the target asks, encode the deliverable, decode what was written and measure it,
// encode it with every codec the platform transcodes to, decode and measure those too, and if any
// decoded true peak is over the ceiling, lower the limiter's ceiling by the overshoot and go again
// (bounded). Every target gets its file, a SHA-256, and a report (JSON and HTML) that says what was
// requested and what was achieved — honestly, including when a target could not be met.
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import dsp, { type AnalyzerHandle, type NativeLoudness } from '#native-dsp';
import { analyzeFile, type AnalysisResult } from '../analysis/analyze.js';
import type { ChainDocument } from '../chain/document.js';
import { prepareForLimiter, renderPrepared, renderToFile, type PreparedProgramme } from '../chain/render.js';
import { LatheError } from '../errors.js';
import { lossyCodecArgs, type EncodeFormat } from '../media/encode.js';
import { probeFile, type AudioProbe } from '../media/probe.js';
import { runTool, toolVersion } from '../media/spawn.js';
import { renderReportHtml } from './report-html.js';
import type { DeliveryReport, ReportCodecCheck, ReportIteration, ReportMeasurement, ReportPictures, ReportRule } from './report-types.js';
import { ceilingFor, resolveIntegratedLufs, type DeliveryTarget, type StyleProfile } from './targets.js';
import { writeFileAtomic as writeAtomic } from '../write-all.js';

export interface MasterOptions {
  outDir: string;
  chain: ChainDocument;
  profile?: StyleProfile;
  /** Most peak gain reduction the limiter may apply to reach a target (dB). */
  maxLimiterGainReductionDb?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Each target's stage and how far it is (0–1, never going back), as it is mastered. */
  onTargetProgress?: (progress: TargetProgress) => void;
  appVersion: string;
  /** 'none' skips the platform codec round trips (a quick master; the report says so). */
  codecChecks?: 'full' | 'none';
  /** The input's analysis (with its spectrogram) and SHA-256, when the caller has them. */
  inputKnown?: { analysis: AnalysisResult; sha256: string };
}

/** What a target is doing: rendering (the gain search and the render, which encodes the
 *  deliverable as it goes), encoding (a separate encode after resampling: dither and word length),
 *  verifying (decoding what was written and the platform codec round trips), done or failed. */
export type TargetStage = 'queued' | 'rendering' | 'encoding' | 'verifying' | 'done' | 'failed';
export interface TargetProgress {
  targetId: string;
  stage: TargetStage;
  fraction: number;
}

/** A target's fraction: each pass (render, encode, verify) fills its share of what is left when the
 *  pass begins, so another round (a lower ceiling, a corrected render) slows the bar rather than
 *  sending it back; only `done` reaches 1. */
class TargetMeter {
  private fraction = 0;
  private base = 0;
  constructor(
    private readonly targetId: string,
    private readonly report?: (p: TargetProgress) => void,
  ) {}
  /** A new round of render, (encode,) verify begins. */
  round(): void {
    this.base = this.fraction;
  }
  /** `within` (0–1) of the part of a round between `from` and `to` (0–1). */
  at(stage: TargetStage, from: number, to: number, within = 0): void {
    const f = this.base + (1 - this.base) * (from + (to - from) * Math.max(0, Math.min(1, within)));
    this.fraction = Math.max(this.fraction, Math.min(0.999, f));
    this.report?.({ targetId: this.targetId, stage, fraction: this.fraction });
  }
  end(stage: 'done' | 'failed'): void {
    if (stage === 'done') this.fraction = 1;
    this.report?.({ targetId: this.targetId, stage, fraction: this.fraction });
  }
}

export interface TargetResult {
  target: string;
  file: string;
  reportJson: string;
  reportHtml: string;
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  codecChecks: { codec: string; bitrateKbps: number; truePeakDbtp: number | null; integratedLufs: number | null }[];
  pass: boolean;
  summary: string;
  /** The decoded deliverable's analysis. */
  analysis: AnalysisResult;
}

const DEFAULT_MAX_GR_DB = 6;
/** Aim inside the tolerance so measurement of the encoded file still lands within it. */
const AIM_LU = 0.03;
/** Renders kept when within this of the target (or half the target's tolerance). */
const ACCEPT_LU = 0.05;
const MAX_RENDER_ATTEMPTS = 3;
const MAX_CEILING_ROUNDS = 4;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function withLimiter(chain: ChainDocument, ceilingDbtp: number, gainDb: number, dither: ChainDocument['dither']): ChainDocument {
  return { ...chain, limiter: { ...chain.limiter, enabled: true, ceilingDbtp, inputGainDb: gainDb }, dither };
}

interface Search {
  gainDb: number;
  /** The model's loudness at that gain, corrected by the last render's offset (null: silence). */
  modelLufs: number | null;
  modelMaxGrDb: number;
  reachable: boolean;
  note: string;
}

/** Searches stop within this much of the target on the model (which is smooth and cheap). */
const MODEL_TOLERANCE_LU = 0.002;
const MODEL_STEPS = 40;

/**
 * Finds the limiter input gain whose predicted loudness (the target model of the prepared
 * programme, plus `offset`: what the last real render measured above the model) is
 * `targetLufs`. Loudness rises monotonically with gain and bends as the limiter works harder:
 * secant steps, bracketed. Stops short when the limiter would need more than `maxGrDb` of gain
 * reduction, or more than +24 dB of gain, and says so.
 */
function searchGain(prepared: PreparedProgramme, chain: ChainDocument, ceilingDbtp: number, targetLufs: number, maxGrDb: number, offset: number, startGainDb: number, shownLufs = targetLufs): Search {
  const at = (gainDb: number) => {
    const e = dsp.targetModelEstimate(prepared.model, { ceilingDbtp, lookaheadMs: chain.limiter.lookaheadMs, releaseMs: chain.limiter.releaseMs, autoRelease: chain.limiter.autoRelease, inputGainDb: gainDb });
    return { gainDb, lufs: e.integratedLufs === null ? null : e.integratedLufs + offset, gr: e.maxGainReductionDb };
  };
  let p0 = at(clampGain(startGainDb));
  if (p0.lufs === null) {
    return { gainDb: p0.gainDb, modelLufs: null, modelMaxGrDb: 0, reachable: false, note: 'the programme is silent: there is no loudness to set' };
  }
  // A bracket [lo, hi] around the target once both sides are seen; secant steps inside it.
  let lo = p0.lufs <= targetLufs ? p0 : null;
  let hi = p0.lufs >= targetLufs ? p0 : null;
  let best = p0;
  let g1 = clampGain(p0.gainDb + (targetLufs - p0.lufs));
  for (let i = 0; i < MODEL_STEPS && Math.abs(best.lufs! - targetLufs) > MODEL_TOLERANCE_LU; i++) {
    const p1 = at(g1);
    if (p1.lufs === null) break;
    if (Math.abs(p1.lufs - targetLufs) < Math.abs(best.lufs! - targetLufs)) best = p1;
    if (p1.lufs <= targetLufs && (!lo || p1.gainDb > lo.gainDb)) lo = p1;
    if (p1.lufs >= targetLufs && (!hi || p1.gainDb < hi.gainDb)) hi = p1;
    const slope = p1.gainDb !== p0.gainDb ? (p1.lufs - p0.lufs!) / (p1.gainDb - p0.gainDb) : 1;
    let next = p1.gainDb + (targetLufs - p1.lufs) / Math.max(0.05, Math.min(1.5, slope));
    // Never step outside a known bracket: bisect instead.
    if (lo && hi && (next <= lo.gainDb || next >= hi.gainDb)) next = (lo.gainDb + hi.gainDb) / 2;
    next = clampGain(next);
    if (next === p1.gainDb) break;
    p0 = p1;
    g1 = next;
  }
  if (best.gr > maxGrDb && best.lufs! <= targetLufs + AIM_LU) {
    // The honest best stays within the limiting the engineer allowed: the highest gain whose
    // predicted gain reduction is within it (reduction rises monotonically with gain).
    let [a, b] = [clampGain(best.gainDb - (best.gr - maxGrDb) - 3), best.gainDb];
    if (at(a).gr > maxGrDb) a = -24;
    for (let i = 0; i < 30 && b - a > 1e-3; i++) {
      const m = (a + b) / 2;
      if (at(m).gr > maxGrDb) b = m;
      else a = m;
    }
    const allowed = at(a);
    const note = `reaching ${shownLufs} LUFS would need more than ${maxGrDb} dB of limiting (${best.gr.toFixed(1)} dB at ${(best.lufs! + shownLufs - targetLufs).toFixed(2)} LUFS); delivered at the loudness ${maxGrDb} dB of limiting allows`;
    return { gainDb: allowed.gainDb, modelLufs: allowed.lufs, modelMaxGrDb: allowed.gr, reachable: false, note };
  }
  if (best.gainDb >= 24 && best.lufs! < targetLufs - AIM_LU) {
    return { gainDb: best.gainDb, modelLufs: best.lufs, modelMaxGrDb: best.gr, reachable: false, note: `reaching ${shownLufs} LUFS would need more than +24 dB of gain, which would mostly raise the noise floor` };
  }
  return { gainDb: best.gainDb, modelLufs: best.lufs, modelMaxGrDb: best.gr, reachable: true, note: '' };
}

function measurement(a: AnalysisResult | null): ReportMeasurement {
  return {
    integratedLufs: a?.loudness.integratedLufs ?? null,
    truePeakDbtp: a?.loudness.truePeakDbtp ?? null,
    samplePeakDbfs: a?.loudness.samplePeakDbfs ?? null,
    loudnessRangeLu: a?.loudness.loudnessRangeLu ?? null,
    shortTermMaxLufs: a?.loudness.shortTermMaxLufs ?? null,
  };
}

function pictures(a: AnalysisResult): ReportPictures {
  const sg = a.spectrogram!;
  return {
    spectrum: { hz: a.spectrum.curve.map((p) => p.hz), db: a.spectrum.curve.map((p) => p.db) },
    spectrogram: { columns: sg.columns, rows: sg.rows, rowHz: sg.rowHz, secondsPerColumn: sg.secondsPerColumn, db: sg.db },
    loudness: { intervalSeconds: a.loudness.series.intervalSeconds, shortTermLufs: a.loudness.series.shortTermLufs, momentaryLufs: a.loudness.series.momentaryLufs },
  };
}

const EXTENSIONS: Record<string, string> = { wav: '.wav', flac: '.flac', mp3: '.mp3', m4a: '.m4a', ogg: '.ogg' };
const MUXERS: Record<string, string> = { wav: 'wav', flac: 'flac', mp3: 'mp3', m4a: 'ipod', ogg: 'ogg', opus: 'opus' };

/** Encodes `file` with a platform codec and returns the decoded measurement. */
async function codecCheck(file: string, channels: number, codec: string, bitrateKbps: number, container: string, work: string, signal?: AbortSignal): Promise<AnalysisResult> {
  const out = join(work, `check-${codec}-${bitrateKbps}.${container}`);
  const r = await runTool('ffmpeg', ['-nostdin', '-v', 'error', '-i', `file:${file}`, ...lossyCodecArgs(codec, bitrateKbps, channels), '-f', MUXERS[container] ?? container, '-y', `file:${out}`], signal);
  if (r.code !== 0) throw new LatheError('FFMPEG_FAILED', `the ${codec} ${bitrateKbps}k check could not encode (${r.stderr.trim().split('\n')[0]})`, { file });
  return analyzeFile(out, { signal, meters: 'loudness' });
}

/** The codec preview: this many excerpts of this length (s), taken where the render is loudest. */
const PREVIEW_WINDOWS = 8;
const PREVIEW_WINDOW_SECONDS = 3;
/** How much further the ceiling goes down after a preview that overshot than after a full check. */
const PREVIEW_MARGIN_DB = 0.3;
/** Each excerpt fades in and out, so the joins add no transient of their own. */
const PREVIEW_FADE_SECONDS = 0.05;

/** How many excerpts a programme this long is previewed on (fewer than 2: not previewed). */
const previewCount = (durationSeconds: number) => Math.min(PREVIEW_WINDOWS, Math.floor(durationSeconds / (4 * PREVIEW_WINDOW_SECONDS)));
const previewPossible = (durationSeconds: number) => previewCount(durationSeconds) >= 2;

/**
 * Where to preview the codecs: the loudest non-overlapping 3-s windows of the render (by its
 * short-term loudness, whose value i covers the 3 s ending at 3 + i·interval s), where the limiter
 * works hardest and the codecs overshoot most; in time order. Null when the programme is too short
 * for excerpts to cost much less than the whole (they cover at most a quarter of it).
 */
export function previewWindows(shortTerm: ArrayLike<number>, intervalSeconds: number, durationSeconds: number): [number, number][] | null {
  const count = previewCount(durationSeconds);
  if (count < 2 || !(intervalSeconds > 0)) return null;
  const order = Array.from({ length: shortTerm.length }, (_, i) => i)
    .filter((i) => Number.isFinite(shortTerm[i]!))
    .sort((a, b) => shortTerm[b]! - shortTerm[a]!);
  const windows: [number, number][] = [];
  for (const i of order) {
    const end = Math.min(durationSeconds, PREVIEW_WINDOW_SECONDS + i * intervalSeconds);
    const start = Math.max(0, end - PREVIEW_WINDOW_SECONDS);
    if (windows.every(([s, e]) => end <= s || start >= e)) windows.push([start, end]);
    if (windows.length === count) break;
  }
  return windows.length >= 2 ? windows.sort((a, b) => a[0] - b[0]) : null;
}

/**
 * Encodes only `windows` of `file` (raw frames in the `raw` format; joined, each faded in and out) with a platform codec and
 * returns the decoded measurement: a cheap estimate of what the whole file's encode does, used to
 * choose the ceiling before the full check (which still encodes and measures the whole file).
 */
async function codecPreview(file: string, raw: EncodeFormat, windows: [number, number][], codec: string, bitrateKbps: number, container: string, work: string, signal?: AbortSignal): Promise<AnalysisResult> {
  const out = join(work, `preview-${codec}-${bitrateKbps}.${container}`);
  const format = ['-f', 'f32le', '-ar', String(raw.sampleRate), '-ac', String(raw.channels), '-channel_layout', raw.channelLayout];
  const inputs = windows.flatMap(([s, e]) => [...format, '-ss', s.toFixed(3), '-t', (e - s).toFixed(3), '-i', `file:${file}`]);
  const fades = windows.map(([s, e], i) => `[${i}:a]afade=t=in:d=${PREVIEW_FADE_SECONDS},afade=t=out:st=${(e - s - PREVIEW_FADE_SECONDS).toFixed(3)}:d=${PREVIEW_FADE_SECONDS}[p${i}]`);
  const graph = `${fades.join(';')};${windows.map((_, i) => `[p${i}]`).join('')}concat=n=${windows.length}:v=0:a=1[out]`;
  const r = await runTool('ffmpeg', ['-nostdin', '-v', 'error', ...inputs, '-filter_complex', graph, '-map', '[out]', ...lossyCodecArgs(codec, bitrateKbps, raw.channels), '-f', MUXERS[container] ?? container, '-y', `file:${out}`], signal);
  if (r.code !== 0) throw new LatheError('FFMPEG_FAILED', `the ${codec} ${bitrateKbps}k preview could not encode (${r.stderr.trim().split('\n')[0]})`, { file });
  return analyzeFile(out, { signal, meters: 'loudness' });
}

/** The prepared programme's length in frames (it is interleaved f32 at the input's rate). */
const frameCount = (prepared: PreparedProgramme) => statSync(prepared.file).size / (4 * prepared.probe.channels);

const clampGain = (g: number) => Math.max(-24, Math.min(24, g));

const fmt = (x: number | null, unit: string, digits = 2) => (x === null ? '—' : `${x.toFixed(digits)} ${unit}`);

export async function masterForTarget(input: string, target: DeliveryTarget, options: MasterOptions, inputAnalysis: AnalysisResult, inputSha: string, prepared: PreparedProgramme): Promise<TargetResult> {
  const probe = prepared.probe;
  const say = (m: string) => options.onProgress?.(`${target.id}: ${m}`);
  const mono = probe.channels === 1;
  const targetLufs = resolveIntegratedLufs(target, { profile: options.profile, mono });
  const maxGr = options.maxLimiterGainReductionDb ?? DEFAULT_MAX_GR_DB;
  const outRate = target.sampleRateHz ?? probe.sampleRate;
  // A master that lands on the target within its tolerance is "at" the target, not louder than it
  // (Spotify's stricter ceiling is for masters louder than −14 LUFS, not for −13.98).
  const levelFor = (lufs: number) => (Math.abs(lufs - targetLufs) <= target.toleranceLu ? targetLufs : lufs);
  // A render within this of the target is kept; the file measured after encoding must then
  // still be within the tolerance (resampling and dither move it by thousandths).
  const acceptLu = Math.min(ACCEPT_LU, target.toleranceLu / 2);
  const ext = EXTENSIONS[target.deliverable.container] ?? '.wav';
  const outFile = resolve(options.outDir, `${basename(input, extname(input))}.${target.id}${ext}`);
  const work = mkdtempSync(join(tmpdir(), 'lathe-master-'));
  const iterations: ReportIteration[] = [];
  const codecList = options.codecChecks === 'none' ? [] : target.codecChecks;
  const meter = new TargetMeter(target.id, options.onTargetProgress);
  // The share of a round each pass fills: a target at another rate with dither is rendered
  // (and resampled), then dithered and encoded in a second pass.
  const twoPass = outRate !== probe.sampleRate && !!target.dither && !!target.bitDepth;
  const share = twoPass ? { rendering: [0, 0.45], encoding: [0.45, 0.7], verifying: [0.7, 0.97] } : { rendering: [0, 0.7], encoding: [0.7, 0.7], verifying: [0.7, 0.97] };
  const step = (stage: 'rendering' | 'encoding' | 'verifying', within = 0) => meter.at(stage, share[stage][0]!, share[stage][1]!, within);
  let rendered = false;
  // The float render the codec preview reads (raw frames at the working rate).
  const previewFile = join(work, 'preview.f32');
  const previewFormat: EncodeFormat = { muxer: 'f32le', codec: 'pcm_f32le', sampleRate: probe.sampleRate, channels: probe.channels, channelLayout: probe.channelLayout };
  try {
    let ceiling = target.truePeakCeilingDbtp;
    let search: Search | undefined;
    let deliverable: AnalysisResult | undefined;
    let checks: { check: DeliveryTarget['codecChecks'][number]; result: AnalysisResult }[] = [];
    let chainUsed = options.chain;
    // What real renders measured above the model's prediction (the model is an estimate), and
    // what the decoded deliverable measured above the render (a lossy deliverable's encoder
    // can move the loudness: MP3's low-pass takes K-weighted treble away).
    let offset = 0;
    let encodeShift = 0;
    let renderedLufs: number | null = null;
    let rendering: NativeLoudness | undefined;
    // The codecs are previewed on excerpts once, before the first full check (see below).
    let previewed = false;
    const dither: ChainDocument['dither'] = target.dither && target.bitDepth ? { enabled: true, bits: target.bitDepth, noiseShaping: false } : { ...options.chain.dither, enabled: false };
    for (let round = 1; round <= MAX_CEILING_ROUNDS; round++) {
      say(`finding the gain for ${targetLufs} LUFS under ${ceiling.toFixed(2)} dBTP`);
      if (rendered) meter.round();
      step('rendering');
      // Start where the input's loudness says the gain should be (or where the last round ended).
      const start = search?.gainDb ?? clampGain(options.chain.limiter.inputGainDb + targetLufs - (inputAnalysis.loudness.integratedLufs ?? targetLufs));
      search = searchGain(prepared, options.chain, ceiling, targetLufs - encodeShift, maxGr, offset, start, targetLufs);
      // A master louder than a platform's threshold gets its stricter ceiling (Spotify).
      const ruleCeiling = search.modelLufs === null ? ceiling : Math.min(ceiling, ceilingFor(target, levelFor(search.modelLufs)) - (target.truePeakCeilingDbtp - ceiling));
      if (ruleCeiling < ceiling - 1e-9) {
        ceiling = ruleCeiling;
        iterations.push({ ceilingDbtp: ceiling, gainDb: search.gainDb, integratedLufs: search.modelLufs, worstTruePeakDbtp: null, note: `louder than ${target.louderThanLufs} LUFS: the platform's stricter ceiling applies` });
        continue;
      }
      // Before the first full check the codecs are previewed on excerpts of the render (below):
      // that render goes into a float file in the work folder, and the deliverable is written
      // only once the preview has not sent the ceiling down.
      const previewNow = !previewed && codecList.length > 0 && previewPossible(frameCount(prepared) / probe.sampleRate);
      // Renders (the deliverable, or the float file to preview), measuring the limiter's output.
      const renderOnce = async (toPreview: boolean) => {
        chainUsed = withLimiter(options.chain, ceiling, search!.gainDb, outRate === probe.sampleRate ? dither : { ...dither, enabled: false });
        say(`rendering ${toPreview ? 'a preview' : basename(outFile)}`);
        if (rendered) meter.round();
        rendered = true;
        step('rendering');
        const loudness = dsp.analyzerCreate({ sampleRate: probe.sampleRate, channelNames: probe.channelNames, meters: 'loudness' });
        if (toPreview) {
          const frames = frameCount(prepared);
          await renderPrepared(prepared, chainUsed, { file: previewFile, format: previewFormat }, { signal: options.signal, analyzer: loudness, onProgress: (done) => step('rendering', frames > 0 ? done / frames : 0) });
        } else {
          await renderDeliverable(prepared, chainUsed, dither, outRate, target, outFile, work, loudness, options.signal, (stage, within) => {
            if (stage === 'encoding' && within === 0) say(`dithering to ${target.bitDepth} bits and encoding ${basename(outFile)}`);
            step(stage, within);
          });
        }
        rendering = dsp.analyzerFinish(loudness).loudness;
        renderedLufs = rendering.integratedLufs;
        return renderedLufs;
      };
      // Render, and where the model missed, correct it by what was measured and render again.
      for (let attempt = 1; ; attempt++) {
        const real = await renderOnce(previewNow);
        if (real === null || search.modelLufs === null || !search.reachable || Math.abs(real + encodeShift - targetLufs) <= acceptLu || attempt === MAX_RENDER_ATTEMPTS) break;
        offset += real - search.modelLufs;
        iterations.push({ ceilingDbtp: ceiling, gainDb: search.gainDb, integratedLufs: real, worstTruePeakDbtp: null, note: `rendered ${real.toFixed(2)} LUFS where the model predicted ${search.modelLufs.toFixed(2)}: corrected` });
        search = searchGain(prepared, options.chain, ceiling, targetLufs - encodeShift, maxGr, offset, search.gainDb, targetLufs);
      }
      // Before the first full check, preview the codecs on excerpts of the render (the loudest
      // few seconds, a fraction of the cost of whole-file encodes): where they already overshoot,
      // lower the ceiling now rather than after a full round that could only fail. The full check
      // below still encodes, decodes and measures the whole deliverable with every codec.
      if (previewNow && rendering) {
        previewed = true;
        const windows = previewWindows(rendering.shortTermSeries, rendering.seriesIntervalSeconds, frameCount(prepared) / probe.sampleRate);
        if (windows) {
          const seconds = windows.reduce((sum, [s, e]) => sum + e - s, 0);
          say(`previewing ${codecList.map((c) => `${c.codec} ${c.bitrateKbps}k`).join(', ')} on ${windows.length} excerpts (${seconds.toFixed(0)} s)`);
          step('verifying');
          // Only an estimate: a codec that cannot encode the excerpts is left to the full check,
          // whose error names the deliverable.
          const previews = await Promise.all(
            codecList.map((c) =>
              codecPreview(previewFile, previewFormat, windows, c.codec, c.bitrateKbps, c.container, work, options.signal).catch((e: unknown) => {
                if (options.signal?.aborted) throw e;
                return null;
              }),
            ),
          );
          const peaks = previews.map((p) => p?.loudness.truePeakDbtp ?? null).filter((x): x is number => x !== null);
          const worst = peaks.length ? Math.max(...peaks) : null;
          const over = worst === null ? 0 : worst - ceilingFor(target, levelFor(renderedLufs ?? targetLufs));
          if (over > 0) {
            iterations.push({ ceilingDbtp: ceiling, gainDb: search.gainDb, integratedLufs: renderedLufs, worstTruePeakDbtp: worst, note: `previewed on ${windows.length} excerpts (${seconds.toFixed(0)} s, the loudest) of the render: ${over.toFixed(2)} dB over after the codecs; lowering the ceiling before the full check` });
            // As after a full check (below), from the lower of the ceiling and the render's peak,
            // and a little further: excerpts see only part of the song, so the whole file's
            // encode can peak higher (up to half a dB on the benchmark's songs).
            const base = Math.min(ceiling, rendering.truePeakDbtp ?? ceiling);
            ceiling = base - over * 1.25 - 0.2 - PREVIEW_MARGIN_DB;
            round--;
            continue;
          }
        }
        // No overshoot seen: write the deliverable itself (the same chain, gain and ceiling).
        await renderOnce(false);
      }
      // Decode what was written and measure it, and put it through every platform codec: side
      // by side (each is one ffmpeg process and a light measurement).
      say(`measuring it and checking through ${codecList.map((c) => `${c.codec} ${c.bitrateKbps}k`).join(', ') || 'no codecs'}`);
      step('verifying');
      const [written, ...results] = await Promise.all([analyzeFile(outFile, { signal: options.signal, includeSpectrogram: true, onProgress: (f) => step('verifying', f) }), ...codecList.map((c) => codecCheck(outFile, probe.channels, c.codec, c.bitrateKbps, c.container, work, options.signal))]);
      deliverable = written!;
      checks = codecList.map((check, i) => ({ check, result: results[i]! }));
      const peaks = [deliverable.loudness.truePeakDbtp, ...checks.map((c) => c.result.loudness.truePeakDbtp)].filter((x): x is number => x !== null);
      const worst = peaks.length ? Math.max(...peaks) : null;
      const limit = ceilingFor(target, levelFor(deliverable.loudness.integratedLufs ?? targetLufs));
      const over = worst === null ? 0 : worst - limit;
      // Even when the loudness cannot be reached, the ceiling after the codecs is still honoured.
      const last = round === MAX_CEILING_ROUNDS;
      const decoded = deliverable.loudness.integratedLufs;
      const shifted = search.reachable && decoded !== null && renderedLufs !== null && Math.abs(decoded - targetLufs) > acceptLu;
      const notes = [over > 0 ? `${over.toFixed(2)} dB over after the codecs` : 'every decoded true peak is under the ceiling'];
      if (shifted) notes.push(`the encoded file measures ${(decoded - renderedLufs!).toFixed(2)} LU from the render`);
      if (!last && over > 0) notes.push('lowering the ceiling');
      if (!last && shifted) notes.push('aiming the render to make up the difference');
      if (last && (over > 0 || shifted)) notes.push('no rounds left');
      iterations.push({ ceilingDbtp: ceiling, gainDb: search.gainDb, integratedLufs: decoded, worstTruePeakDbtp: worst, note: notes.join('; ') });
      if ((over <= 0 && !shifted) || last) break;
      if (shifted) encodeShift = decoded - renderedLufs!;
      if (over > 0) {
        // Lowering the ceiling means more limiting, which makes the codecs overshoot more (on
        // the benchmark's mix, 1.5 dB over at −1 dBTP became 1.9 dB at −2.6); and a codec can
        // overshoot where the master is below its ceiling (AAC 128k on a master peaking at
        // −1.9 dBTP), where only a ceiling below the master's own peak helps. So step from the
        // lower of the ceiling and the master's true peak, a quarter past the overshoot.
        const base = Math.min(ceiling, deliverable.loudness.truePeakDbtp ?? ceiling);
        ceiling = base - over * 1.25 - 0.2;
      }
    }
    const achieved = deliverable!;
    const finalLimit = ceilingFor(target, levelFor(achieved.loudness.integratedLufs ?? targetLufs));
    const rules: ReportRule[] = [];
    const lufs = achieved.loudness.integratedLufs;
    const onTarget = lufs !== null && Math.abs(lufs - targetLufs) <= target.toleranceLu + 1e-9;
    // A platform that sets no loudness (CD, Bandcamp, SoundCloud) with no style profile chosen has
    // only Lathe's fallback level: an aim, not a spec. Where reaching it would take more limiting
    // than allowed, the quieter master is what was asked for, and the report says so.
    const aimOnly = target.integratedLufs === null && !options.profile && lufs !== null && search!.reachable === false && lufs < targetLufs;
    const lufsPass = onTarget || aimOnly;
    const lufsMessage = onTarget
      ? `within ${Math.abs(lufs! - targetLufs).toFixed(2)} LU of the target`
      : aimOnly
        ? `${target.name} sets no loudness, so ${targetLufs} LUFS was only Lathe's default aim; ${search!.note} (choose --profile, or allow more limiting, for a louder master)`
        : search!.note || 'outside the tolerance';
    rules.push({ rule: 'integrated loudness', requested: aimOnly ? `about ${targetLufs.toFixed(1)} LUFS (no platform level; default aim)` : `${targetLufs.toFixed(1)} LUFS ± ${target.toleranceLu} LU`, achieved: fmt(lufs, 'LUFS'), pass: lufsPass, message: lufsMessage });
    const tp = achieved.loudness.truePeakDbtp;
    rules.push({ rule: 'true peak', requested: `≤ ${finalLimit.toFixed(1)} dBTP`, achieved: fmt(tp, 'dBTP'), pass: tp === null || tp <= finalLimit, message: tp === null || tp <= finalLimit ? `${(finalLimit - (tp ?? finalLimit)).toFixed(2)} dB under the ceiling` : `${(tp - finalLimit).toFixed(2)} dB over the ceiling` });
    for (const { check, result } of checks) {
      const ctp = result.loudness.truePeakDbtp;
      const ok = ctp === null || ctp <= finalLimit;
      rules.push({ rule: `true peak after ${check.codec} ${check.bitrateKbps}k`, requested: `≤ ${finalLimit.toFixed(1)} dBTP`, achieved: fmt(ctp, 'dBTP'), pass: ok, message: ok ? check.why : `the platform's encode overshoots by ${(ctp! - finalLimit).toFixed(2)} dB` });
    }
    if (target.maxLoudnessRangeLu !== null) {
      const lra = achieved.loudness.loudnessRangeLu;
      const ok = lra === null || lra <= target.maxLoudnessRangeLu;
      rules.push({ rule: 'loudness range', requested: `≤ ${target.maxLoudnessRangeLu} LU`, achieved: fmt(lra, 'LU', 1), pass: ok, message: ok ? 'within the range' : 'wider than the spec allows' });
    }
    const formatOk = achieved.format.sampleRate === outRate && (target.bitDepth === null || achieved.format.bitDepth === target.bitDepth);
    rules.push({ rule: 'format', requested: `${target.deliverable.container}, ${outRate} Hz${target.bitDepth ? `, ${target.bitDepth}-bit` : ''}`, achieved: `${achieved.format.container}, ${achieved.format.sampleRate} Hz${achieved.format.bitDepth ? `, ${achieved.format.bitDepth}-bit` : ''}`, pass: formatOk, message: target.dither && target.bitDepth ? `dithered to ${target.bitDepth} bits (TPDF)` : 'as delivered' });
    if (codecList.length < target.codecChecks.length) {
      rules.push({ rule: 'codec checks', requested: target.codecChecks.map((c) => `${c.codec} ${c.bitrateKbps}k`).join(', '), achieved: 'not run', pass: true, message: 'skipped on request (--codec-checks none): the platform encodes were not verified' });
    }
    const pass = rules.every((r) => r.pass);
    const gain = search!.gainDb;
    const summary = pass
      ? `${gain >= 0 ? 'Raised' : 'Lowered'} the master by ${Math.abs(gain).toFixed(1)} dB into a limiter at ${iterations.at(-1)!.ceilingDbtp.toFixed(2)} dBTP and reached ${fmt(lufs, 'LUFS')} with a true peak of ${fmt(tp, 'dBTP')}; ${codecList.length < target.codecChecks.length ? 'the platform codecs were not checked (skipped on request).' : `every codec check stays under ${finalLimit} dBTP.`}${aimOnly ? ` ${target.name} sets no loudness: Lathe's default aim of ${targetLufs} LUFS would need more limiting than allowed, so the master stays at ${fmt(lufs, 'LUFS')}.` : ''}`
      : `Delivered the honest best: ${fmt(lufs, 'LUFS')} (target ${targetLufs}), true peak ${fmt(tp, 'dBTP')}. ${rules.filter((r) => !r.pass).map((r) => `${r.rule}: ${r.message}`).join('; ')}.`;
    const report: DeliveryReport = {
      schema: 'lathe.delivery-report',
      version: 1,
      createdAt: new Date().toISOString(),
      lathe: { version: options.appVersion, nativeDspVersion: dsp.version(), ffmpeg: (await toolVersion('ffmpeg')).replace(/^ffmpeg version (\S+).*$/, '$1') },
      input: { file: resolve(input), sha256: inputSha, codec: probe.codec, sampleRate: probe.sampleRate, channels: probe.channels, bitDepth: probe.bitDepth, durationSeconds: inputAnalysis.format.durationSeconds, measured: measurement(inputAnalysis) },
      target: {
        id: target.id,
        name: target.name,
        spec: {
          integratedLufs: targetLufs,
          toleranceLu: target.toleranceLu,
          truePeakCeilingDbtp: target.truePeakCeilingDbtp,
          ...(target.truePeakCeilingWhenLouderDbtp !== undefined ? { truePeakCeilingWhenLouderDbtp: target.truePeakCeilingWhenLouderDbtp, louderThanLufs: target.louderThanLufs ?? null } : {}),
          sampleRate: outRate,
          bitDepth: target.bitDepth,
          container: target.deliverable.container,
          codec: target.deliverable.codec,
          normalization: target.normalization,
          codecChecks: target.codecChecks.map((c) => `${c.codec} ${c.bitrateKbps}k`).join(', ') || 'none',
        },
        sources: target.sources,
      },
      chain: chainUsed,
      deliverable: {
        file: outFile,
        sha256: await sha256File(outFile),
        container: achieved.format.container,
        codec: achieved.format.codec,
        sampleRate: achieved.format.sampleRate,
        bitDepth: achieved.format.bitDepth,
        bitrateKbps: target.deliverable.bitrateKbps,
        measured: measurement(achieved),
      },
      requested: { integratedLufs: targetLufs, toleranceLu: target.toleranceLu, truePeakCeilingDbtp: finalLimit, maxLoudnessRangeLu: target.maxLoudnessRangeLu },
      codecChecks: checks.map(({ check, result }): ReportCodecCheck => ({ codec: check.codec, bitrateKbps: check.bitrateKbps, integratedLufs: result.loudness.integratedLufs, truePeakDbtp: result.loudness.truePeakDbtp, pass: (result.loudness.truePeakDbtp ?? -Infinity) <= finalLimit })),
      iterations,
      rules,
      pass,
      summary,
      pictures: { input: pictures(inputAnalysis), master: pictures(achieved) },
    };
    const reportJson = outFile.replace(/\.[^.]+$/, '.report.json');
    const reportHtml = outFile.replace(/\.[^.]+$/, '.report.html');
    writeAtomic(reportJson, `${JSON.stringify(report, null, 2)}\n`);
    writeAtomic(reportHtml, renderReportHtml(report));
    meter.end('done');
    return {
      target: target.id,
      file: outFile,
      reportJson,
      reportHtml,
      integratedLufs: lufs,
      truePeakDbtp: tp,
      codecChecks: report.codecChecks.map((c) => ({ codec: c.codec, bitrateKbps: c.bitrateKbps, truePeakDbtp: c.truePeakDbtp, integratedLufs: c.integratedLufs })),
      pass,
      summary,
      analysis: achieved,
    };
  } catch (e) {
    // A cancelled export is the job's to report; anything else failed this target.
    if (!options.signal?.aborted) meter.end('failed');
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Writes the deliverable from the prepared programme: the limiter (and dither) at the working
 * rate, measured by `meter` as it goes; when the target wants another rate, resample with soxr
 * into a float WAV first and dither afterwards, so dither is the last thing that touches the
 * samples before the word length shrinks.
 */
async function renderDeliverable(prepared: PreparedProgramme, chain: ChainDocument, dither: ChainDocument['dither'], outRate: number, target: DeliveryTarget, outFile: string, work: string, meter: AnalyzerHandle, signal?: AbortSignal, progress?: (stage: 'rendering' | 'encoding', within: number) => void): Promise<void> {
  const probe = prepared.probe;
  // The prepared programme is interleaved f32 at the input's rate: its length in frames.
  const frames = statSync(prepared.file).size / (4 * probe.channels);
  const rendering = (done: number) => progress?.('rendering', frames > 0 ? done / frames : 0);
  const codec = target.deliverable.codec;
  const final: EncodeFormat = {
    muxer: MUXERS[target.deliverable.container] ?? 'wav',
    codec,
    sampleRate: outRate,
    channels: probe.channels,
    channelLayout: probe.channelLayout,
    bitrateKbps: target.deliverable.bitrateKbps,
    ...(codec === 'flac' ? { flacBits: target.bitDepth ?? 24 } : {}),
  };
  if (outRate === probe.sampleRate || !dither.enabled) {
    await renderPrepared(prepared, chain, { file: outFile, format: { ...final, inputSampleRate: probe.sampleRate } }, { signal, analyzer: meter, onProgress: rendering });
    return;
  }
  const resampled = join(work, 'resampled.wav');
  await renderPrepared(prepared, { ...chain, dither: { ...dither, enabled: false } }, { file: resampled, format: { muxer: 'wav', codec: 'pcm_f32le', sampleRate: outRate, inputSampleRate: probe.sampleRate, channels: probe.channels, channelLayout: probe.channelLayout } }, { signal, analyzer: meter, onProgress: rendering });
  const second = await probeFile(resampled, signal);
  const resampledFrames = frames * (outRate / probe.sampleRate);
  progress?.('encoding', 0);
  const ditherOnly: ChainDocument = { ...chain, eq: { ...chain.eq, enabled: false }, compressor: { ...chain.compressor, enabled: false }, imager: { ...chain.imager, enabled: false }, saturation: { ...chain.saturation, enabled: false }, reverb: { ...chain.reverb, enabled: false }, delay: { ...chain.delay, enabled: false }, limiter: { ...chain.limiter, enabled: false }, dither };
  await renderToFile(second, ditherOnly, outFile, final, { signal, onProgress: (done) => progress?.('encoding', resampledFrames > 0 ? done / resampledFrames : 0) });
}

/** Masters `input` for every target; returns one result per target. */
export async function master(input: string, targets: DeliveryTarget[], options: MasterOptions): Promise<{ input: string; inputSha256: string; targets: TargetResult[] }> {
  options.onProgress?.(`analysing ${basename(input)}`);
  const probe = await probeFile(input, options.signal);
  // Only once the input is known to be audio: a refused input leaves no empty folder behind.
  mkdirSync(options.outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'lathe-prepared-'));
  try {
    // The input is measured for the reports while the chain's stages before the limiter run
    // once for every target (the targets share the working rate and the chain).
    const [inputAnalysis, inputSha, prepared] = await Promise.all([
      options.inputKnown?.analysis ?? analyzeFile(input, { signal: options.signal, includeSpectrogram: true }),
      options.inputKnown?.sha256 ?? sha256File(input),
      prepareForLimiter(probe, options.chain, work, { signal: options.signal }),
    ]);
    const results: TargetResult[] = [];
    for (const target of targets) results.push(await masterForTarget(input, target, options, inputAnalysis, inputSha, prepared));
    return { input: resolve(input), inputSha256: inputSha, targets: results };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
