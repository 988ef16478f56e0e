// Closed-loop delivery: for each target, find the gain into the limiter that lands the integrated
// loudness on the target (±0.1 LU) with the true peak under the ceiling, render, resample (soxr)
// and dither as the target asks, encode the deliverable, decode what was written and measure it,
// encode it with every codec the platform transcodes to, decode and measure those too, and if any
// decoded true peak is over the ceiling, lower the limiter's ceiling by the overshoot and go again
// (bounded). Every target gets its file, a SHA-256, and a report (JSON and HTML) that says what was
// requested and what was achieved — honestly, including when a target could not be met.
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import dsp, { type NativeAnalysis } from '#native-dsp';
import { analyzeFile, type AnalysisResult } from '../analysis/analyze.js';
import type { ChainDocument } from '../chain/document.js';
import { createChain, renderToFile } from '../chain/render.js';
import { LatheError } from '../errors.js';
import { decodeToFd } from '../media/decode.js';
import type { EncodeFormat } from '../media/encode.js';
import { probeFile, type AudioProbe } from '../media/probe.js';
import { runTool, toolVersion } from '../media/spawn.js';
import { renderReportHtml } from './report-html.js';
import type { DeliveryReport, ReportCodecCheck, ReportIteration, ReportMeasurement, ReportPictures, ReportRule } from './report-types.js';
import { ceilingFor, resolveIntegratedLufs, type DeliveryTarget, type StyleProfile } from './targets.js';

export interface MasterOptions {
  outDir: string;
  chain: ChainDocument;
  profile?: StyleProfile;
  /** Most peak gain reduction the limiter may apply to reach a target (dB). */
  maxLimiterGainReductionDb?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  appVersion: string;
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
}

const DEFAULT_MAX_GR_DB = 6;
/** Aim inside the tolerance so measurement of the encoded file still lands within it. */
const AIM_LU = 0.03;
const MAX_SEARCH_RENDERS = 8;
const MAX_CEILING_ROUNDS = 4;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Renders the chain and measures the result at the working rate without writing anything. */
async function measureRender(probe: AudioProbe, chain: ChainDocument, signal?: AbortSignal): Promise<{ analysis: NativeAnalysis; limiterMaxGrDb: number }> {
  const handle = createChain(probe, chain);
  const analyzer = dsp.analyzerCreate({ sampleRate: probe.sampleRate, channelNames: probe.channelNames, meters: 'loudness' });
  const { pipeCreate, fdClose, chainRenderFd, chainFinishFd } = dsp;
  if (!pipeCreate || !fdClose || !chainRenderFd || !chainFinishFd) {
    throw new LatheError('USAGE', 'mastering needs the native pipe functions, which this platform build lacks', { file: probe.file });
  }
  await decodeToFd(probe, { pipeCreate, fdClose }, (fd, max) => chainRenderFd(handle, fd, null, max, analyzer), { signal });
  chainFinishFd(handle, null, analyzer);
  const info = dsp.chainInfo(handle);
  return { analysis: dsp.analyzerFinish(analyzer), limiterMaxGrDb: info.limiterMaxGrDb };
}

function withLimiter(chain: ChainDocument, ceilingDbtp: number, gainDb: number, dither: ChainDocument['dither']): ChainDocument {
  return { ...chain, limiter: { ...chain.limiter, enabled: true, ceilingDbtp, inputGainDb: gainDb }, dither };
}

interface Search {
  gainDb: number;
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  limiterMaxGrDb: number;
  renders: number;
  reachable: boolean;
  note: string;
}

/**
 * Finds the limiter input gain that lands the integrated loudness on `targetLufs`: secant steps on
 * loudness(gain), which rises monotonically and bends as the limiter works harder. Stops when the
 * limiter would need more than `maxGrDb` of gain reduction, and says so.
 */
async function searchGain(probe: AudioProbe, chain: ChainDocument, ceilingDbtp: number, targetLufs: number, maxGrDb: number, startGainDb: number, signal?: AbortSignal): Promise<Search> {
  const none = { ...chain.dither, enabled: false };
  const first = await measureRender(probe, withLimiter(chain, ceilingDbtp, startGainDb, none), signal);
  let g0 = startGainDb;
  let l0 = first.analysis.loudness.integratedLufs;
  if (l0 === null) {
    return { gainDb: g0, integratedLufs: null, truePeakDbtp: first.analysis.loudness.truePeakDbtp, limiterMaxGrDb: 0, renders: 1, reachable: false, note: 'the programme is silent: there is no loudness to set' };
  }
  let best: Search = { gainDb: g0, integratedLufs: l0, truePeakDbtp: first.analysis.loudness.truePeakDbtp, limiterMaxGrDb: first.limiterMaxGrDb, renders: 1, reachable: true, note: '' };
  let g1 = Math.max(-24, Math.min(24, g0 + (targetLufs - l0)));
  for (let renders = 2; renders <= MAX_SEARCH_RENDERS; renders++) {
    if (Math.abs(best.integratedLufs! - targetLufs) <= AIM_LU) break;
    const r = await measureRender(probe, withLimiter(chain, ceilingDbtp, g1, none), signal);
    const l1 = r.analysis.loudness.integratedLufs!;
    const candidate: Search = { gainDb: g1, integratedLufs: l1, truePeakDbtp: r.analysis.loudness.truePeakDbtp, limiterMaxGrDb: r.limiterMaxGrDb, renders, reachable: true, note: '' };
    if (Math.abs(l1 - targetLufs) < Math.abs(best.integratedLufs! - targetLufs)) best = candidate;
    if (r.limiterMaxGrDb > maxGrDb && l1 < targetLufs) {
      // The honest best stays within the limiting the engineer allowed: back the gain off by
      // the excess (peak gain reduction follows input gain about dB for dB once limiting).
      const allowed = clampGain(g1 - (r.limiterMaxGrDb - maxGrDb));
      const note = `reaching ${targetLufs} LUFS would need more than ${maxGrDb} dB of limiting (${r.limiterMaxGrDb.toFixed(1)} dB at ${l1.toFixed(2)} LUFS); delivered at the loudness ${maxGrDb} dB of limiting allows`;
      return { gainDb: allowed, integratedLufs: null, truePeakDbtp: null, limiterMaxGrDb: maxGrDb, renders, reachable: false, note };
    }
    if (g1 >= 24 && l1 < targetLufs - AIM_LU) {
      return { ...best, ...candidate, renders, reachable: false, note: `reaching ${targetLufs} LUFS would need more than +24 dB of gain, which would mostly raise the noise floor` };
    }
    const slope = Math.abs(g1 - g0) > 1e-6 ? (l1 - l0) / (g1 - g0) : 1;
    // Loudness gains less than a dB per dB once the limiter bites; never step on a flat estimate.
    const step = (targetLufs - l1) / Math.max(0.2, Math.min(1.2, slope));
    [g0, l0] = [g1, l1];
    g1 = Math.max(-24, Math.min(24, g1 + step));
    if (g1 === g0) break;
  }
  best.renders = Math.max(best.renders, 1);
  return best;
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
async function codecCheck(file: string, codec: string, bitrateKbps: number, container: string, work: string, signal?: AbortSignal): Promise<AnalysisResult> {
  const out = join(work, `check-${codec}-${bitrateKbps}.${container}`);
  const r = await runTool('ffmpeg', ['-nostdin', '-v', 'error', '-i', `file:${file}`, '-c:a', codec, '-b:a', `${bitrateKbps}k`, '-f', MUXERS[container] ?? container, '-y', `file:${out}`], signal);
  if (r.code !== 0) throw new LatheError('FFMPEG_FAILED', `the ${codec} ${bitrateKbps}k check could not encode (${r.stderr.trim().split('\n')[0]})`, { file });
  return analyzeFile(out, { signal, meters: 'loudness' });
}

const clampGain = (g: number) => Math.max(-24, Math.min(24, g));

const fmt = (x: number | null, unit: string, digits = 2) => (x === null ? '—' : `${x.toFixed(digits)} ${unit}`);

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.partial`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export async function masterForTarget(input: string, target: DeliveryTarget, options: MasterOptions, inputAnalysis: AnalysisResult, inputSha: string): Promise<TargetResult> {
  const probe = await probeFile(input, options.signal);
  const say = (m: string) => options.onProgress?.(`${target.id}: ${m}`);
  const mono = probe.channels === 1;
  const targetLufs = resolveIntegratedLufs(target, { profile: options.profile, mono });
  const maxGr = options.maxLimiterGainReductionDb ?? DEFAULT_MAX_GR_DB;
  const outRate = target.sampleRateHz ?? probe.sampleRate;
  // A master that lands on the target within its tolerance is "at" the target, not louder than it
  // (Spotify's stricter ceiling is for masters louder than −14 LUFS, not for −13.98).
  const levelFor = (lufs: number) => (Math.abs(lufs - targetLufs) <= target.toleranceLu ? targetLufs : lufs);
  const ext = EXTENSIONS[target.deliverable.container] ?? '.wav';
  const outFile = resolve(options.outDir, `${basename(input, extname(input))}.${target.id}${ext}`);
  const work = mkdtempSync(join(tmpdir(), 'lathe-master-'));
  const iterations: ReportIteration[] = [];
  try {
    let ceiling = target.truePeakCeilingDbtp;
    let search: Search | undefined;
    let deliverable: AnalysisResult | undefined;
    let checks: { check: DeliveryTarget['codecChecks'][number]; result: AnalysisResult }[] = [];
    let chainUsed = options.chain;
    for (let round = 1; round <= MAX_CEILING_ROUNDS; round++) {
      say(`finding the gain for ${targetLufs} LUFS under ${ceiling.toFixed(2)} dBTP`);
      // Start where the input's loudness says the gain should be (or where the last round ended).
      const start = search?.reachable === false ? clampGain(search.gainDb) : search?.gainDb ?? clampGain(options.chain.limiter.inputGainDb + targetLufs - (inputAnalysis.loudness.integratedLufs ?? targetLufs));
      search = await searchGain(probe, options.chain, ceiling, targetLufs, maxGr, start, options.signal);
      // A master louder than a platform's threshold gets its stricter ceiling (Spotify).
      const ruleCeiling = search.integratedLufs === null ? ceiling : Math.min(ceiling, ceilingFor(target, levelFor(search.integratedLufs)) - (target.truePeakCeilingDbtp - ceiling));
      if (ruleCeiling < ceiling - 1e-9) {
        ceiling = ruleCeiling;
        iterations.push({ ceilingDbtp: ceiling, gainDb: search.gainDb, integratedLufs: search.integratedLufs, worstTruePeakDbtp: search.truePeakDbtp, note: `louder than ${target.louderThanLufs} LUFS: the platform's stricter ceiling applies` });
        continue;
      }
      const dither: ChainDocument['dither'] = target.dither && target.bitDepth ? { enabled: true, bits: target.bitDepth, noiseShaping: false } : { ...options.chain.dither, enabled: false };
      chainUsed = withLimiter(options.chain, ceiling, search.gainDb, outRate === probe.sampleRate ? dither : { ...dither, enabled: false });
      say(`rendering ${basename(outFile)}`);
      await renderDeliverable(probe, chainUsed, dither, outRate, target, outFile, work, options.signal);
      deliverable = await analyzeFile(outFile, { signal: options.signal, includeSpectrogram: true });
      // The platform encodes run side by side: each is one ffmpeg process and a light measurement.
      say(`checking through ${target.codecChecks.map((c) => `${c.codec} ${c.bitrateKbps}k`).join(', ') || 'no codecs'}`);
      const results = await Promise.all(target.codecChecks.map((c) => codecCheck(outFile, c.codec, c.bitrateKbps, c.container, work, options.signal)));
      checks = target.codecChecks.map((check, i) => ({ check, result: results[i]! }));
      const peaks = [deliverable.loudness.truePeakDbtp, ...checks.map((c) => c.result.loudness.truePeakDbtp)].filter((x): x is number => x !== null);
      const worst = peaks.length ? Math.max(...peaks) : null;
      const limit = ceilingFor(target, levelFor(deliverable.loudness.integratedLufs ?? targetLufs));
      const over = worst === null ? 0 : worst - limit;
      // Even when the loudness cannot be reached, the ceiling after the codecs is still honoured.
      const last = round === MAX_CEILING_ROUNDS;
      iterations.push({
        ceilingDbtp: ceiling,
        gainDb: search.gainDb,
        integratedLufs: deliverable.loudness.integratedLufs,
        worstTruePeakDbtp: worst,
        note: over > 0 ? (last ? `${over.toFixed(2)} dB over after the codecs; no rounds left` : `${over.toFixed(2)} dB over after the codecs: lowering the ceiling`) : 'every decoded true peak is under the ceiling',
      });
      if (over <= 0 || last) break;
      // Lowering the ceiling at the same loudness means more limiting, which makes the codecs
      // overshoot a little more: step a little past the measured overshoot (a bigger step can
      // spiral into more limiting than a loud target allows).
      ceiling -= over + 0.1;
    }
    const achieved = deliverable!;
    const finalLimit = ceilingFor(target, levelFor(achieved.loudness.integratedLufs ?? targetLufs));
    const rules: ReportRule[] = [];
    const lufs = achieved.loudness.integratedLufs;
    const lufsPass = lufs !== null && Math.abs(lufs - targetLufs) <= target.toleranceLu + 1e-9;
    rules.push({ rule: 'integrated loudness', requested: `${targetLufs.toFixed(1)} LUFS ± ${target.toleranceLu} LU`, achieved: fmt(lufs, 'LUFS'), pass: lufsPass, message: lufsPass ? `within ${Math.abs(lufs! - targetLufs).toFixed(2)} LU of the target` : search!.note || 'outside the tolerance' });
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
    const pass = rules.every((r) => r.pass);
    const gain = search!.gainDb;
    const summary = pass
      ? `${gain >= 0 ? 'Raised' : 'Lowered'} the master by ${Math.abs(gain).toFixed(1)} dB into a limiter at ${iterations.at(-1)!.ceilingDbtp.toFixed(2)} dBTP and reached ${fmt(lufs, 'LUFS')} with a true peak of ${fmt(tp, 'dBTP')}; every codec check stays under ${finalLimit} dBTP.`
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
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Writes the deliverable: render at the working rate; when the target wants another rate,
 * resample with soxr into a float WAV first and dither afterwards, so dither is the last thing
 * that touches the samples before the word length shrinks.
 */
async function renderDeliverable(probe: AudioProbe, chain: ChainDocument, dither: ChainDocument['dither'], outRate: number, target: DeliveryTarget, outFile: string, work: string, signal?: AbortSignal): Promise<void> {
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
    await renderToFile(probe, chain, outFile, { ...final, inputSampleRate: probe.sampleRate }, { signal });
    return;
  }
  const resampled = join(work, 'resampled.wav');
  await renderToFile(probe, { ...chain, dither: { ...dither, enabled: false } }, resampled, { muxer: 'wav', codec: 'pcm_f32le', sampleRate: outRate, inputSampleRate: probe.sampleRate, channels: probe.channels, channelLayout: probe.channelLayout }, { signal });
  const second = await probeFile(resampled, signal);
  const ditherOnly: ChainDocument = { ...chain, eq: { ...chain.eq, enabled: false }, compressor: { ...chain.compressor, enabled: false }, imager: { ...chain.imager, enabled: false }, saturation: { ...chain.saturation, enabled: false }, reverb: { ...chain.reverb, enabled: false }, delay: { ...chain.delay, enabled: false }, limiter: { ...chain.limiter, enabled: false }, dither };
  await renderToFile(second, ditherOnly, outFile, final, { signal });
}

/** Masters `input` for every target; returns one result per target. */
export async function master(input: string, targets: DeliveryTarget[], options: MasterOptions): Promise<{ input: string; inputSha256: string; targets: TargetResult[] }> {
  mkdirSync(options.outDir, { recursive: true });
  options.onProgress?.(`analysing ${basename(input)}`);
  const inputAnalysis = await analyzeFile(input, { signal: options.signal, includeSpectrogram: true });
  const inputSha = await sha256File(input);
  const results: TargetResult[] = [];
  for (const target of targets) results.push(await masterForTarget(input, target, options, inputAnalysis, inputSha));
  return { input: resolve(input), inputSha256: inputSha, targets: results };
}

