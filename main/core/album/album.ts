// Album mastering: an ordered list of tracks, one chain per track (or a shared one), one set of
// targets.
//
// Loudness policy:
//  - anchor (default): the album keeps its tracks' relative loudness, as album normalisation on
//    the streaming services and AES's album guidance expect. The anchor track (the loudest, or the
//    one chosen) is mastered to the target; every other track is asked for the anchor's achieved
//    loudness plus its own difference from the anchor as it comes out of its chain before the
//    limiter — one album gain, with the limiter's own loudness loss made up per track, so the
//    relative loudness holds within ±0.1 LU wherever each track's true-peak ceiling and allowed
//    limiting permit (and the report says where they do not).
//  - per-track: every track mastered to the target on its own.
// Every track's report says what was requested and what was achieved.
//
// Consistency QC compares the masters (loudness, loudness range, 1/3-octave balance, width) and
// names the outliers. For the cd target the album becomes one disc image plus a CUE sheet: the
// tracks are mastered to undithered 24-bit at 44.1 kHz, laid out with their gaps on sector
// boundaries, and the whole disc is dithered to 16 bits once; each track is then measured from the
// image itself.
//
// An album resumes: every track's master is kept, keyed by its source's content and everything
// that decides it, in OUT/.lathe-album (resume.ts), so a run that was killed or cancelled and is
// started again with the same inputs and settings reuses what it finished (after checking the
// files' hashes) and masters only the rest; a changed source or setting masters again only what
// it changes. The album's own steps are always computed over all tracks. The track deliverables
// move into OUT only when the whole album is done.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import dsp from '#native-dsp';
import { analyzeFile, type AnalysisResult } from '../analysis/analyze.js';
import type { AudioProbe } from '../media/probe.js';
import type { ChainDocument } from '../chain/document.js';
import { prepareForLimiter, renderPrepared, type PreparedProgramme } from '../chain/render.js';
import { masterForTarget, sha256File, type MasterOptions, type TargetResult } from '../delivery/master.js';
import { resolveIntegratedLufs, type DeliveryTarget, type StyleProfile } from '../delivery/targets.js';
import { LatheError } from '../errors.js';
import { checkSourceFile, probeFile } from '../media/probe.js';
import { buildCdImage, checkCdText, cueTime, cutSegment, FRAMES_PER_SECOND, normaliseIsrc, writeCueText, type CdLayoutTrack } from './cd.js';
import { albumConsistency, type ConsistencyReport } from './consistency.js';
import { renderAlbumHtml } from './report-html.js';
import { albumTrackKey, deliverTrack, findFinishedTrack, knownPreLimiterLufs, openAlbumState, rememberPreLimiterLufs, stageFinishedTrack, targetResultOf, trackWorkFolder, type FoundTrack } from './resume.js';
import { writeFileAtomic as writeAtomic } from '../write-all.js';

export type AlbumPolicy = 'anchor' | 'per-track';

export interface AlbumTrack {
  file: string;
  /** This track's chain; the album's shared chain when absent. */
  chain?: ChainDocument;
  title?: string;
  performer?: string;
  songwriter?: string;
  isrc?: string;
  /** Silence before this track on the CD (seconds; the album's gap when absent). */
  pregapSeconds?: number;
}

export interface AlbumDocument {
  title?: string;
  performer?: string;
  songwriter?: string;
  /** UPC/EAN, 13 digits (the CUE sheet's CATALOG). */
  catalog?: string;
  /** Default silence between tracks on the CD (seconds; 2 when absent). */
  gapSeconds?: number;
  tracks: AlbumTrack[];
}

export interface AlbumOptions {
  outDir: string;
  /** The shared chain (tracks without a chain of their own use it). */
  chain: ChainDocument;
  policy: AlbumPolicy;
  /** The anchor track's file (anchor policy); the loudest track when absent. */
  anchor?: string;
  profile?: StyleProfile;
  maxLimiterGainReductionDb?: number;
  codecChecks?: 'full' | 'none';
  /** The stem of the album's own files (album.json report, CD image and CUE); "album" by default. */
  name?: string;
  /** Read every finished track's files again to check their SHA-256 before reusing them, even
   *  when their size and time are unchanged (as a batch's --verify). */
  verify?: boolean;
  /** Tracks mastered at once (default 2). */
  concurrency?: number;
  appVersion: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface AlbumTrackResult {
  input: string;
  target: string;
  /** The deliverable (for cd: the disc image). */
  file: string;
  /** What was asked of this track: the target, or the anchor's level plus the track's offset. */
  requestedLufs: number;
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  /** Achieved minus requested. */
  errorLu: number | null;
  pass: boolean;
  summary: string;
  /** The track's delivery report (for cd: the report of its 24-bit master before the image). */
  report: string | null;
  /** Whether this track's master was reused from an earlier, interrupted run (for cd: its
   *  24-bit master; the image is always built anew). */
  reused: boolean;
  /** cd only: where the track sits on the disc. */
  cd?: { number: number; index00: string | null; index01: string; isrc: string | null };
}

export interface AlbumResult {
  policy: AlbumPolicy;
  /** The anchor track (anchor policy). */
  anchor: string | null;
  /** Each track's loudness as it leaves its chain before the limiter (what the album gain keeps). */
  preLimiterLufs: { input: string; integratedLufs: number | null }[];
  tracks: AlbumTrackResult[];
  /** Consistency of the first target's masters; every target's in `consistencyByTarget`. */
  consistency: ConsistencyReport;
  consistencyByTarget: ConsistencyReport[];
  cd: { image: string; cue: string; totalSamples: number; layout: CdLayoutTrack[] } | null;
  report: string;
  reportHtml: string;
  pass: boolean;
}

/** Tolerance of the relative loudness the anchor policy keeps. */
export const ALBUM_RELATIVE_TOLERANCE_LU = 0.1;
const DEFAULT_GAP_SECONDS = 2;

/** The cd target as the image's tracks need it: 24-bit, undithered (the image is dithered once). */
function cdTrackTarget(cd: DeliveryTarget): DeliveryTarget {
  return { ...cd, bitDepth: 24, dither: false, deliverable: { ...cd.deliverable, container: 'wav', codec: 'pcm_s24le', bitrateKbps: null } };
}

/** The target with this track's own loudness (the anchor's level plus the track's offset). */
function withLoudness(target: DeliveryTarget, lufs: number): DeliveryTarget {
  const t: DeliveryTarget = { ...target, integratedLufs: Math.round(lufs * 100) / 100, toleranceLu: Math.min(target.toleranceLu, ALBUM_RELATIVE_TOLERANCE_LU) };
  delete t.monoIntegratedLufs;
  return t;
}

interface PreparedTrack {
  spec: AlbumTrack;
  input: string;
  chain: ChainDocument;
  probe: AudioProbe;
  sha256: string;
  /** Integrated loudness after the chain's stages before the limiter. */
  preLimiterLufs: number | null;
  /** The input's analysis and its programme before the limiter, made once, when a master of it
   *  is needed (a resumed album's finished tracks never need them). */
  ready: () => Promise<{ analysis: AnalysisResult; prepared: PreparedProgramme }>;
}

function validateAlbum(album: AlbumDocument): void {
  if (!album.tracks.length) throw new LatheError('USAGE', 'an album needs at least one track');
  const names = new Map<string, string>();
  for (const [i, t] of album.tracks.entries()) {
    const where = `track ${i + 1} (${t.file})`;
    const name = basename(t.file, extname(t.file));
    if (names.has(name)) throw new LatheError('USAGE', `tracks ${names.get(name)} and ${i + 1} are both named "${name}"; their deliverables would collide: rename one`, { file: t.file });
    names.set(name, String(i + 1));
    if (t.isrc !== undefined) normaliseIsrc(t.isrc, where);
    for (const k of ['title', 'performer', 'songwriter'] as const) if (t[k] !== undefined) checkCdText(t[k]!, `${where} ${k}`);
    if (t.pregapSeconds !== undefined && !(t.pregapSeconds >= 0 && t.pregapSeconds <= 60)) throw new LatheError('USAGE', `${where}: pregapSeconds must be from 0 to 60`);
  }
  for (const k of ['title', 'performer', 'songwriter'] as const) if (album[k] !== undefined) checkCdText(album[k]!, `album ${k}`);
  if (album.catalog !== undefined && !/^\d{13}$/.test(album.catalog)) throw new LatheError('USAGE', `album catalog "${album.catalog}" must be 13 digits (UPC/EAN)`);
  if (album.gapSeconds !== undefined && !(album.gapSeconds >= 0 && album.gapSeconds <= 60)) throw new LatheError('USAGE', 'gapSeconds must be from 0 to 60');
}

/** Runs `fn` over `items`, at most `limit` at a time; the first failure stops new starts. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  // Every lane ends before this returns (a failure is cleaned up only once nothing still writes).
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

export async function masterAlbum(album: AlbumDocument, targets: DeliveryTarget[], options: AlbumOptions): Promise<AlbumResult> {
  validateAlbum(album);
  if (!targets.length) throw new LatheError('USAGE', 'an album needs at least one target');
  // Two tracks are prepared and mastered side by side (the anchor first): much of a master's
  // time is ffmpeg (the deliverable's encode, its decode and measurement, the platform codecs),
  // which runs in processes of its own beside the DSP.
  const asked = options.concurrency ?? Number(process.env.LATHE_ALBUM_CONCURRENCY ?? 2);
  const concurrency = Number.isInteger(asked) && asked >= 1 ? asked : 2;
  const say = (m: string) => options.onProgress?.(m);
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const name = options.name ?? 'album';
  const work = mkdtempSync(join(tmpdir(), 'lathe-album-'));
  const startedAt = Date.now();
  try {
    // Every file checked before any work starts, so a typo in track 12 does not cost eleven tracks;
    // then every track hashed and measured through its chain's stages before the limiter (unless
    // an earlier run of the same source and chain remembered that loudness).
    for (const spec of album.tracks) await checkSourceFile(resolve(spec.file));
    const state = openAlbumState(outDir);
    const tracks: PreparedTrack[] = new Array<PreparedTrack>(album.tracks.length);
    await inParallel([...album.tracks.keys()], concurrency, async (i) => {
      const spec = album.tracks[i]!;
      const input = resolve(spec.file);
      const probe = await probeFile(input, options.signal);
      const chain = spec.chain ?? options.chain;
      const sha256 = await sha256File(input);
      let made: Promise<{ analysis: AnalysisResult; prepared: PreparedProgramme }> | null = null;
      const ready = () =>
        (made ??= (async () => {
          const dir = join(work, `prepared-${i + 1}`);
          mkdirSync(dir, { recursive: true });
          const [analysis, prepared] = await Promise.all([analyzeFile(input, { signal: options.signal, includeSpectrogram: true }), prepareForLimiter(probe, chain, dir, { signal: options.signal })]);
          return { analysis, prepared };
        })());
      const known = knownPreLimiterLufs(state, sha256, chain);
      let preLimiterLufs: number | null;
      if (known) {
        say(`track ${i + 1}/${album.tracks.length}: ${basename(input)}: its loudness before the limiter is known from an earlier run`);
        preLimiterLufs = known.lufs;
      } else {
        say(`preparing track ${i + 1}/${album.tracks.length}: ${basename(input)}`);
        const { prepared } = await ready();
        const meter = dsp.analyzerCreate({ sampleRate: probe.sampleRate, channelNames: probe.channelNames, meters: 'loudness' });
        await renderPrepared(prepared, { ...chain, limiter: { ...chain.limiter, enabled: false }, dither: { ...chain.dither, enabled: false } }, null, { signal: options.signal, analyzer: meter });
        preLimiterLufs = dsp.analyzerFinish(meter).loudness.integratedLufs;
        rememberPreLimiterLufs(state, sha256, chain, preLimiterLufs);
      }
      tracks[i] = { spec, input, chain, probe, sha256, preLimiterLufs, ready };
    });
    let anchorIndex = -1;
    if (options.policy === 'anchor') {
      if (options.anchor !== undefined) {
        const want = resolve(options.anchor);
        anchorIndex = tracks.findIndex((t) => t.input === want);
        if (anchorIndex < 0) anchorIndex = tracks.findIndex((t) => basename(t.input) === basename(options.anchor!));
        if (anchorIndex < 0) throw new LatheError('USAGE', `--anchor ${options.anchor} is not one of the album's tracks`);
      } else {
        for (const [i, t] of tracks.entries()) if (t.preLimiterLufs !== null && (anchorIndex < 0 || t.preLimiterLufs > tracks[anchorIndex]!.preLimiterLufs!)) anchorIndex = i;
        if (anchorIndex < 0) throw new LatheError('USAGE', 'every track of the album is silent: there is no loudness to anchor on');
      }
      if (tracks[anchorIndex]!.preLimiterLufs === null) throw new LatheError('USAGE', 'the anchor track is silent: choose another --anchor', { file: tracks[anchorIndex]!.input });
    }

    const results: AlbumTrackResult[] = [];
    /** Track deliverables to move into the output folder once the album is done. */
    const toDeliver: FoundTrack[] = [];
    const consistencyByTarget: ConsistencyReport[] = [];
    let cd: AlbumResult['cd'] = null;
    for (const target of targets) {
      const isCd = target.id === 'cd';
      const base = isCd ? cdTrackTarget(target) : target;
      const masterOptions = (t: PreparedTrack, dir: string, analysis: AnalysisResult): MasterOptions => ({
        outDir: dir,
        chain: t.chain,
        ...(options.profile ? { profile: options.profile } : {}),
        ...(options.maxLimiterGainReductionDb !== undefined ? { maxLimiterGainReductionDb: options.maxLimiterGainReductionDb } : {}),
        codecChecks: options.codecChecks ?? 'full',
        appVersion: options.appVersion,
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (m) => say(`${basename(t.input)}: ${m}`),
        inputKnown: { analysis, sha256: t.sha256 },
      });
      // A track's master: reused when an earlier run finished it (its record and files verify),
      // otherwise made in a private work folder and staged with its record.
      const run = async (t: PreparedTrack, tgt: DeliveryTarget, requested: number): Promise<{ result: TargetResult; requested: number; reused: boolean; found: FoundTrack }> => {
        const key = albumTrackKey({ inputName: basename(t.input, extname(t.input)), inputSha256: t.sha256, chain: t.chain, target: tgt, profile: options.profile ?? null, maxLimitingDb: options.maxLimiterGainReductionDb ?? null, codecChecks: options.codecChecks ?? 'full' });
        const earlier = await findFinishedTrack(state, outDir, key, options.verify ?? false);
        if (earlier) {
          say(`${basename(t.input)}: ${target.id}: reused (finished by an earlier run; its files verify)`);
          return { result: targetResultOf(earlier), requested, reused: true, found: earlier };
        }
        options.signal?.throwIfAborted();
        const { analysis, prepared } = await t.ready();
        const dir = trackWorkFolder(state, key);
        try {
          const made = await masterForTarget(t.input, tgt, masterOptions(t, dir, analysis), analysis, t.sha256, prepared);
          options.signal?.throwIfAborted();
          const found = await stageFinishedTrack(state, key, dir, made, { input: t.input, inputSha256: t.sha256, requestedLufs: requested, deliveredDir: isCd ? null : outDir });
          return { result: targetResultOf(found), requested, reused: false, found };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      };
      const done = new Map<number, { result: TargetResult; requested: number; reused: boolean; found: FoundTrack }>();
      if (options.policy === 'anchor') {
        const anchor = tracks[anchorIndex]!;
        say(`${target.id}: mastering the anchor, ${basename(anchor.input)}`);
        const anchorRequested = resolveIntegratedLufs(base, { profile: options.profile, mono: anchor.probe.channels === 1 });
        const firstRun = await run(anchor, base, anchorRequested);
        const first = firstRun.result;
        done.set(anchorIndex, firstRun);
        // The album's level is where the anchor actually landed (it may fall short of the target
        // when its limiting allowance runs out); every other track keeps its distance from it.
        const albumLevel = first.integratedLufs ?? anchorRequested;
        await inParallel([...tracks.keys()].filter((i) => i !== anchorIndex), concurrency, async (i) => {
          const t = tracks[i]!;
          if (t.preLimiterLufs === null) {
            done.set(i, await run(t, base, anchorRequested));
            return;
          }
          const requested = albumLevel + (t.preLimiterLufs - anchor.preLimiterLufs!);
          done.set(i, await run(t, withLoudness(base, requested), requested));
        });
      } else {
        await inParallel([...tracks.keys()], concurrency, async (i) => {
          const t = tracks[i]!;
          done.set(i, await run(t, base, resolveIntegratedLufs(base, { profile: options.profile, mono: t.probe.channels === 1 })));
        });
      }
      if (!isCd) for (const i of tracks.keys()) toDeliver.push(done.get(i)!.found);
      let analyses: { input: string; analysis: AnalysisResult }[] = tracks.map((t, i) => ({ input: t.input, analysis: done.get(i)!.result.analysis }));
      if (isCd) {
        say('cd: building the disc image (dithered to 16 bits once) and the CUE sheet');
        const gap = album.gapSeconds ?? DEFAULT_GAP_SECONDS;
        const image = join(outDir, `${name}.cd.wav`);
        const cue = join(outDir, `${name}.cue`);
        const cdTracks = tracks.map((t, i) => ({
          file: done.get(i)!.result.file,
          pregapFrames: Math.round((t.spec.pregapSeconds ?? gap) * FRAMES_PER_SECOND),
          ...(t.spec.title !== undefined ? { title: t.spec.title } : {}),
          ...(t.spec.performer !== undefined ? { performer: t.spec.performer } : {}),
          ...(t.spec.songwriter !== undefined ? { songwriter: t.spec.songwriter } : {}),
          ...(t.spec.isrc !== undefined ? { isrc: normaliseIsrc(t.spec.isrc, `track ${i + 1}`) } : {}),
        }));
        const built = await buildCdImage(cdTracks, image, join(work, 'cd-image'), options.signal);
        writeAtomic(cue, writeCueText({ title: album.title, performer: album.performer, songwriter: album.songwriter, catalog: album.catalog, comment: `Lathe ${options.appVersion}` }, basename(image), cdTracks.map((t, i) => ({ ...t, ...built.layout[i]! }))));
        cd = { image, cue, totalSamples: built.totalSamples, layout: built.layout };
        // Each track measured from the disc image itself.
        analyses = [];
        for (const [i, t] of tracks.entries()) {
          const l = built.layout[i]!;
          const seg = await cutSegment(image, l.startSample, l.endSample, join(work, `cd-track${i + 1}.wav`), options.signal);
          const a = await analyzeFile(seg, { signal: options.signal });
          analyses.push({ input: t.input, analysis: a });
        }
      }
      for (const [i, t] of tracks.entries()) {
        const { result, requested, reused } = done.get(i)!;
        const a = analyses[i]!.analysis;
        const lufs = a.loudness.integratedLufs;
        const tp = a.loudness.truePeakDbtp;
        const error = lufs === null ? null : lufs - requested;
        let pass = result.pass;
        let summary = result.summary;
        if (isCd) {
          const tpOk = tp === null || tp <= target.truePeakCeilingDbtp;
          // The image must hold each master faithfully: the track measures on the disc as it did
          // before (dither adds noise 90 dB down), and its own rules (loudness requested vs
          // achieved, true peak) passed.
          const faithful = lufs !== null && result.integratedLufs !== null && Math.abs(lufs - result.integratedLufs) <= 0.05;
          pass = result.pass && tpOk && faithful;
          summary = `On the disc image: ${lufs?.toFixed(2) ?? '—'} LUFS (requested ${requested.toFixed(2)}), true peak ${tp?.toFixed(2) ?? '—'} dBTP (ceiling ${target.truePeakCeilingDbtp}). ${result.summary}`;
        }
        const l = cd && isCd ? cd.layout[i]! : null;
        results.push({
          input: t.input,
          target: target.id,
          // Where the deliverable lives once the album is done (it is moved there below).
          file: isCd ? cd!.image : join(outDir, basename(result.file)),
          requestedLufs: Math.round(requested * 100) / 100,
          integratedLufs: lufs,
          truePeakDbtp: tp,
          errorLu: error,
          pass,
          summary,
          report: isCd ? null : join(outDir, basename(result.reportJson)),
          reused,
          ...(l ? { cd: { number: l.number, index00: l.index00 === null ? null : cueTime(l.index00), index01: cueTime(l.index01), isrc: t.spec.isrc ? normaliseIsrc(t.spec.isrc, '') : null } } : {}),
        });
      }
      consistencyByTarget.push(albumConsistency(target.id, analyses, { judgeLoudness: options.policy === 'per-track' }));
    }
    // The album is done: its track deliverables move into the output folder, then its report.
    options.signal?.throwIfAborted();
    for (const f of toDeliver) deliverTrack(state, outDir, f);
    const report = join(outDir, `${name}.album.json`);
    const out: AlbumResult = {
      policy: options.policy,
      anchor: anchorIndex >= 0 ? tracks[anchorIndex]!.input : null,
      preLimiterLufs: tracks.map((t) => ({ input: t.input, integratedLufs: t.preLimiterLufs })),
      tracks: results,
      consistency: consistencyByTarget[0]!,
      consistencyByTarget,
      cd,
      report,
      reportHtml: join(outDir, `${name}.album.html`),
      pass: results.every((r) => r.pass),
    };
    const createdAt = new Date().toISOString();
    writeAtomic(report, `${JSON.stringify({ schema: 'lathe.album-report', version: 1, createdAt, lathe: options.appVersion, title: album.title ?? null, performer: album.performer ?? null, ...out }, null, 2)}\n`);
    writeAtomic(out.reportHtml, renderAlbumHtml(out, { title: album.title ?? null, performer: album.performer ?? null, appVersion: options.appVersion, createdAt }));
    return out;
  } catch (e) {
    // A failed or cancelled album delivers nothing of this run: half an album is not a delivery.
    // (The tracks it finished stay staged in OUT/.lathe-album for the next run to reuse.) What this
    // run put in the output folder: the names it writes (each track's NAME.TARGET.*, the album's
    // own files), modified since it started. (Every file appeared atomically: none is torn.)
    const stems = [...album.tracks.map((t) => basename(t.file, extname(t.file))).flatMap((stem) => targets.filter((t) => t.id !== 'cd').map((t) => `${stem}.${t.id}.`)), `${name}.cd.wav`, `${name}.cue`, `${name}.album.`];
    for (const f of readdirSync(outDir)) {
      if (!stems.some((p) => f.startsWith(p))) continue;
      try {
        if (statSync(join(outDir, f)).mtimeMs >= startedAt - 50) rmSync(join(outDir, f), { force: true });
      } catch {
        // Gone already.
      }
    }
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

