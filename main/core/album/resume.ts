// Album resume: the state an album keeps in OUT/.lathe-album so that a run that was killed or
// cancelled part-way, run again with the same inputs and settings, reuses every track it finished
// and redoes only the rest.
//
// Like a batch's deliverables, each track's master for a target is keyed by what decides it: the
// source's content (SHA-256) and name, the track's chain, the target as this track was asked for
// it (under the anchor policy that includes the loudness it was given), the style profile, the
// limiting allowance and the codec checks. A track is mastered in a private work folder, its files
// are moved into a staging folder of its own (tracks/KEY/), and only then is its record written
// (done/KEY.json, atomically). The album's own steps (the anchor's level, the consistency QC, the
// CD image and CUE sheet) are computed afresh on every run over all tracks; when they are done the
// staged deliverables are moved into the output folder beside the album's report, so an album that
// stops early delivers nothing half-done, while what it finished is kept for the next run.
//
// A track counts as finished only when its record exists and every file it names is there (in the
// staging folder or, once delivered, in the output folder) with the recorded size and SHA-256.
// Each track's loudness before the limiter (what the anchor policy keeps) is also remembered
// (prep/KEY.json, keyed by the source's content and the chain), so a resumed album does not run
// finished tracks through their chains again.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { AnalysisResult } from '../analysis/analyze.js';
import { canonicalJson, chainSha256, sweepDeadWork, workOwner } from '../batch/batch.js';
import type { ChainDocument } from '../chain/document.js';
import { sha256File, type TargetResult } from '../delivery/master.js';
import type { DeliveryTarget, StyleProfile } from '../delivery/targets.js';
import { writeFileAtomic as writeAtomic } from '../write-all.js';
import { relocateReports } from '../delivery/relocate.js';

export const ALBUM_STATE_DIR = '.lathe-album';

export interface AlbumState {
  root: string;
  done: string;
  prep: string;
  tracks: string;
  work: string;
}

export function albumState(outDir: string): AlbumState {
  const root = join(outDir, ALBUM_STATE_DIR);
  return { root, done: join(root, 'done'), prep: join(root, 'prep'), tracks: join(root, 'tracks'), work: join(root, 'work') };
}

/** Creates the state folders and removes the work folders that dead processes on this host left. */
export function openAlbumState(outDir: string): AlbumState {
  const s = albumState(outDir);
  for (const d of [s.done, s.prep, s.tracks, s.work]) mkdirSync(d, { recursive: true });
  sweepDeadWork(outDir, s.work);
  return s;
}

/** A finished track master's record (done/KEY.json). */
export interface AlbumTrackRecord {
  schema: 'lathe.album-track-record';
  version: 1;
  key: string;
  input: string;
  inputSha256: string;
  target: string;
  requestedLufs: number;
  /** File names: the deliverable first, then its reports; each in tracks/KEY/ or, once the album
   *  delivered it, in the output folder. mtimeMs is its time once staged (a rename keeps it). */
  files: { name: string; size: number; sha256: string; mtimeMs: number }[];
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  codecChecks: TargetResult['codecChecks'];
  pass: boolean;
  summary: string;
  /** The decoded deliverable's analysis (without its spectrogram): what the consistency QC reads. */
  analysis: AnalysisResult;
  finishedAt: string;
  producedBy: string;
}

interface PrepRecord {
  schema: 'lathe.album-prep-record';
  version: 1;
  key: string;
  preLimiterLufs: number | null;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface TrackKeyParts {
  inputName: string;
  inputSha256: string;
  chain: ChainDocument;
  /** The target as this track is mastered for it (its own loudness under the anchor policy). */
  target: DeliveryTarget;
  profile: StyleProfile | null;
  maxLimitingDb: number | null;
  codecChecks: 'full' | 'none';
}

/** The key of one track's master for one target: everything that decides its bytes and name. */
export function albumTrackKey(p: TrackKeyParts): string {
  return sha256(canonicalJson({ kind: 'album-track', inputName: p.inputName, inputSha256: p.inputSha256, chain: chainSha256(p.chain), target: p.target, profile: p.profile, maxLimitingDb: p.maxLimitingDb, codecChecks: p.codecChecks })).slice(0, 32);
}

const prepKey = (inputSha256: string, chain: ChainDocument) => sha256(canonicalJson({ kind: 'album-prep', inputSha256, chain: chainSha256(chain) })).slice(0, 32);

/** The remembered loudness before the limiter of this source through this chain, if any. */
export function knownPreLimiterLufs(state: AlbumState, inputSha256: string, chain: ChainDocument): { lufs: number | null } | null {
  const key = prepKey(inputSha256, chain);
  try {
    const r = JSON.parse(readFileSync(join(state.prep, `${key}.json`), 'utf8')) as PrepRecord;
    if (r.schema !== 'lathe.album-prep-record' || r.key !== key || !(r.preLimiterLufs === null || Number.isFinite(r.preLimiterLufs))) return null;
    return { lufs: r.preLimiterLufs };
  } catch {
    return null;
  }
}

export function rememberPreLimiterLufs(state: AlbumState, inputSha256: string, chain: ChainDocument, lufs: number | null): void {
  const key = prepKey(inputSha256, chain);
  writeAtomic(join(state.prep, `${key}.json`), `${JSON.stringify({ schema: 'lathe.album-prep-record', version: 1, key, preLimiterLufs: lufs } satisfies PrepRecord)}\n`);
}

/** Where a recorded file is now, intact (staged or delivered); null when neither copy verifies. */
async function locate(state: AlbumState, outDir: string, key: string, f: AlbumTrackRecord['files'][number], verify: boolean): Promise<string | null> {
  for (const path of [join(state.tracks, key, f.name), join(outDir, f.name)]) {
    let info;
    try {
      info = statSync(path);
    } catch {
      continue;
    }
    if (!info.isFile() || info.size !== f.size) continue;
    // Anything that rewrote the file changed its time; then (or with verify) read it all.
    if (!verify && info.mtimeMs === f.mtimeMs) return path;
    if ((await sha256File(path)) === f.sha256) return path;
  }
  return null;
}

export interface FoundTrack {
  record: AlbumTrackRecord;
  /** Where each of the record's files is now, in the record's order. */
  paths: string[];
}

/** The finished master of `key` when its record and all its files are intact; null otherwise. */
export async function findFinishedTrack(state: AlbumState, outDir: string, key: string, verify = false): Promise<FoundTrack | null> {
  let record: AlbumTrackRecord;
  try {
    record = JSON.parse(readFileSync(join(state.done, `${key}.json`), 'utf8')) as AlbumTrackRecord;
  } catch {
    return null;
  }
  if (record.schema !== 'lathe.album-track-record' || record.key !== key || !Array.isArray(record.files) || record.files.length === 0 || !record.analysis) return null;
  const paths: string[] = [];
  for (const f of record.files) {
    const at = await locate(state, outDir, key, f, verify);
    if (at === null) return null;
    paths.push(at);
  }
  return { record, paths };
}

/** A finished track as the album's steps use it (the same shape a fresh master gives). */
export function targetResultOf(found: FoundTrack): TargetResult {
  const { record, paths } = found;
  const report = (suffix: string) => paths.find((p) => p.endsWith(suffix)) ?? paths[0]!;
  return { target: record.target, file: paths[0]!, reportJson: report('.report.json'), reportHtml: report('.report.html'), integratedLufs: record.integratedLufs, truePeakDbtp: record.truePeakDbtp, codecChecks: record.codecChecks, pass: record.pass, summary: record.summary, analysis: record.analysis };
}

/** A private folder to master `key` in; what an earlier attempt at the same key left is removed. */
export function trackWorkFolder(state: AlbumState, key: string): string {
  for (const d of readdirSync(state.work)) if (d.startsWith(`${key}-`)) rmSync(join(state.work, d), { recursive: true, force: true });
  const dir = join(state.work, `${key}-${workOwner()}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Moves a track master made in `work` into its staging folder and records it. `deliveredDir` is
 * where its deliverable will finally live (the output folder; for the CD's 24-bit masters, their
 * staging folder): the report is rewritten to name that path instead of the work folder.
 */
export async function stageFinishedTrack(state: AlbumState, key: string, work: string, result: TargetResult, info: { input: string; inputSha256: string; requestedLufs: number; deliveredDir: string | null }): Promise<FoundTrack> {
  const staged = join(state.tracks, key);
  const deliverable = basename(result.file);
  const names = [deliverable, basename(result.reportJson), basename(result.reportHtml)].filter((n) => existsSync(join(work, n)));
  // The report names the deliverable where it will be, not the work folder that goes away.
  const html = basename(result.reportHtml);
  const report = relocateReports(work, basename(result.reportJson), names.includes(html) ? html : null, join(info.deliveredDir ?? staged, deliverable));
  const files: AlbumTrackRecord['files'] = [];
  for (const n of names) files.push({ name: n, size: statSync(join(work, n)).size, sha256: n === deliverable ? report.deliverable.sha256 : await sha256File(join(work, n)), mtimeMs: 0 });
  // Files first (each rename is atomic), the record last: a crash in between leaves no record,
  // so the track is mastered again.
  rmSync(staged, { recursive: true, force: true });
  mkdirSync(staged, { recursive: true });
  for (const f of files) {
    renameSync(join(work, f.name), join(staged, f.name));
    f.mtimeMs = statSync(join(staged, f.name)).mtimeMs;
  }
  const { spectrogram: _drop, ...analysis } = result.analysis;
  const record: AlbumTrackRecord = {
    schema: 'lathe.album-track-record',
    version: 1,
    key,
    input: info.input,
    inputSha256: info.inputSha256,
    target: result.target,
    requestedLufs: info.requestedLufs,
    files,
    integratedLufs: result.integratedLufs,
    truePeakDbtp: result.truePeakDbtp,
    codecChecks: result.codecChecks,
    pass: result.pass,
    summary: result.summary,
    analysis,
    finishedAt: new Date().toISOString(),
    producedBy: `${hostname()}:${process.pid}`,
  };
  writeAtomic(join(state.done, `${key}.json`), `${JSON.stringify(record)}\n`);
  return { record, paths: files.map((f) => join(staged, f.name)) };
}

/**
 * Delivers a finished track: its staged files are moved into the output folder (a rename keeps
 * the file and its time, so the record still verifies it there). Returns the delivered paths.
 */
export function deliverTrack(state: AlbumState, outDir: string, found: FoundTrack): string[] {
  const delivered = found.paths.map((p, i) => {
    const to = join(outDir, found.record.files[i]!.name);
    if (p !== to) renameSync(p, to);
    return to;
  });
  try {
    rmdirSync(join(state.tracks, found.record.key)); // only when empty
  } catch {
    // Not there, or not empty.
  }
  return delivered;
}
