// The album's resume state: a track master's key changes with everything that decides it (and
// with nothing else); a staged master counts as finished only while its record exists and its
// files are there with the recorded SHA-256, staged or delivered; delivering moves the very file
// (same inode); the report is made to name the deliverable where it ends up; the remembered
// loudness before the limiter belongs to one source and one chain. Verifying rereads every file.
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { albumTrackKey, deliverTrack, findFinishedTrack, knownPreLimiterLufs, openAlbumState, rememberPreLimiterLufs, stageFinishedTrack, trackWorkFolder, type TrackKeyParts } from '../../main/core/album/resume.js';
import { defaultChain } from '../../main/core/chain/document.js';
import type { TargetResult } from '../../main/core/delivery/master.js';
import { getProfile, getTarget } from '../../main/core/delivery/targets.js';
import type { AnalysisResult } from '../../main/core/analysis/analyze.js';
import { scratchDir } from '../helpers/cli.js';

const scratch = scratchDir('album-resume-unit');
afterAll(() => scratch.cleanup());

const parts = (over: Partial<TrackKeyParts> = {}): TrackKeyParts => ({ inputName: 'song', inputSha256: 'a'.repeat(64), chain: defaultChain(), target: getTarget('spotify'), profile: null, maxLimitingDb: null, codecChecks: 'full', ...over });
const MADE_AT = new Date(1_700_000_000_000);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('album track keys', () => {
  it('follow the source, its name, the chain, the target as asked of the track, and the options', () => {
    const base = albumTrackKey(parts());
    expect(albumTrackKey(parts())).toBe(base);
    const chain = defaultChain();
    chain.eq.enabled = !chain.eq.enabled;
    const quieter = { ...getTarget('spotify'), integratedLufs: -17.25 };
    for (const other of [parts({ inputSha256: 'b'.repeat(64) }), parts({ inputName: 'other' }), parts({ chain }), parts({ target: getTarget('apple-music') }), parts({ target: quieter }), parts({ profile: getProfile('jazz-acoustic') }), parts({ maxLimitingDb: 12 }), parts({ codecChecks: 'none' })]) {
      expect(albumTrackKey(other)).not.toBe(base);
    }
    // Key order in the documents does not matter.
    const reordered = Object.fromEntries(Object.entries(getTarget('spotify')).reverse()) as ReturnType<typeof getTarget>;
    expect(albumTrackKey(parts({ target: reordered }))).toBe(base);
  });
});

describe('staged track masters', () => {
  const out = join(scratch.dir, 'out');
  mkdirSync(out, { recursive: true });
  const state = openAlbumState(out);
  const key = albumTrackKey(parts());

  /** A finished master in a work folder, as masterForTarget leaves one (no HTML report here). */
  function made(): { work: string; result: TargetResult; bytes: Buffer } {
    const work = trackWorkFolder(state, key);
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 251));
    writeFileSync(join(work, 'song.spotify.flac'), bytes);
    // A whole-millisecond time (set again exactly below; Date has no finer steps).
    utimesSync(join(work, 'song.spotify.flac'), MADE_AT, MADE_AT);
    writeFileSync(join(work, 'song.spotify.report.json'), JSON.stringify({ deliverable: { file: join(work, 'song.spotify.flac'), sha256: sha(bytes) } }));
    const analysis = { loudness: { integratedLufs: -14 }, spectrogram: { columns: 1 } } as unknown as AnalysisResult;
    return { work, bytes, result: { target: 'spotify', file: join(work, 'song.spotify.flac'), reportJson: join(work, 'song.spotify.report.json'), reportHtml: join(work, 'song.spotify.report.html'), integratedLufs: -14, truePeakDbtp: -1.2, codecChecks: [], pass: true, summary: 'ok', analysis } };
  }

  it('count only with a record and intact files; delivering moves the same file', async () => {
    expect(await findFinishedTrack(state, out, key)).toBeNull();
    const { work, result, bytes } = made();
    const staged = await stageFinishedTrack(state, key, work, result, { input: '/music/song.wav', inputSha256: 'a'.repeat(64), requestedLufs: -14, deliveredDir: out });
    rmSync(work, { recursive: true, force: true });
    expect(staged.paths).toEqual([join(state.tracks, key, 'song.spotify.flac'), join(state.tracks, key, 'song.spotify.report.json')]);
    expect(readFileSync(staged.paths[0]!)).toEqual(bytes);
    // The report names the deliverable where it will be delivered, not the work folder.
    expect(JSON.parse(readFileSync(staged.paths[1]!, 'utf8')).deliverable.file).toBe(join(out, 'song.spotify.flac'));
    // The record keeps the analysis without its spectrogram.
    expect(staged.record.analysis.spectrogram).toBeUndefined();
    const found = await findFinishedTrack(state, out, key);
    expect(found?.paths).toEqual(staged.paths);
    const ino = statSync(staged.paths[0]!).ino;
    const delivered = deliverTrack(state, out, found!);
    expect(delivered).toEqual([join(out, 'song.spotify.flac'), join(out, 'song.spotify.report.json')]);
    expect(statSync(delivered[0]!).ino).toBe(ino);
    expect(existsSync(join(state.tracks, key))).toBe(false);
    // Still finished once delivered.
    expect((await findFinishedTrack(state, out, key))?.paths).toEqual(delivered);
    // Damaged in place (same size, new content): not finished any more.
    const damaged = Buffer.from(bytes);
    damaged[100] = damaged[100]! ^ 0xff;
    writeFileSync(delivered[0]!, damaged);
    // (On a file system with coarse times the write could keep the time: a rewrite always moves it.)
    utimesSync(delivered[0]!, new Date(), new Date(Date.now() + 10_000));
    expect(await findFinishedTrack(state, out, key)).toBeNull();
    // Put back (new time, same bytes): the hash decides, so it counts again.
    writeFileSync(delivered[0]!, bytes);
    expect(await findFinishedTrack(state, out, key)).not.toBeNull();
    // Damaged in place with its time put back: trusted on size and time, unless verifying.
    expect((await findFinishedTrack(state, out, key))!.record.files[0]!.mtimeMs).toBe(MADE_AT.getTime());
    writeFileSync(delivered[0]!, damaged);
    utimesSync(delivered[0]!, new Date(), MADE_AT);
    expect(await findFinishedTrack(state, out, key)).not.toBeNull();
    expect(await findFinishedTrack(state, out, key, true)).toBeNull();
    // Truncated: not finished.
    writeFileSync(delivered[0]!, bytes.subarray(0, 2500));
    expect(await findFinishedTrack(state, out, key)).toBeNull();
    // A record whose file is intact but that is itself torn does not count.
    writeFileSync(delivered[0]!, bytes);
    writeFileSync(join(state.done, `${key}.json`), '{"schema":"lathe.album-track-rec');
    expect(await findFinishedTrack(state, out, key)).toBeNull();
  });

  it('a new attempt at a key discards what an earlier attempt left in its work folder', () => {
    const first = trackWorkFolder(state, key);
    writeFileSync(join(first, 'song.spotify.flac'), 'half a file');
    const second = trackWorkFolder(state, key);
    expect(existsSync(first)).toBe(false);
    expect(existsSync(second)).toBe(true);
  });

  it('remembers the loudness before the limiter per source and chain', () => {
    const chain = defaultChain();
    expect(knownPreLimiterLufs(state, 'c'.repeat(64), chain)).toBeNull();
    rememberPreLimiterLufs(state, 'c'.repeat(64), chain, -17.123456789);
    expect(knownPreLimiterLufs(state, 'c'.repeat(64), chain)).toEqual({ lufs: -17.123456789 });
    const other = defaultChain();
    other.compressor.enabled = !other.compressor.enabled;
    expect(knownPreLimiterLufs(state, 'c'.repeat(64), other)).toBeNull();
    expect(knownPreLimiterLufs(state, 'd'.repeat(64), chain)).toBeNull();
    rememberPreLimiterLufs(state, 'e'.repeat(64), chain, null);
    expect(knownPreLimiterLufs(state, 'e'.repeat(64), chain)).toEqual({ lufs: null });
  });
});
