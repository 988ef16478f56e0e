// The batch's keys and records, and the CD sheet's small rules, checked against what they must
// be: a key changes with anything that changes the deliverable and not with key order; a record
// counts only while its file is intact; CUE times are mm:ss:ff at 75 frames a second; ISRCs and
// CD-Text are refused with the field and the reason.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { canonicalJson, deliverableKey, planBatch, recordsDir, verifiedRecord, type BatchSettings } from '../../main/core/batch/batch.js';
import { checkCdText, cueTime, normaliseIsrc } from '../../main/core/album/cd.js';
import { defaultChain } from '../../main/core/chain/document.js';
import { scratchDir } from '../helpers/cli.js';
import { albumConsistency } from '../../main/core/album/consistency.js';
import { masterAlbum } from '../../main/core/album/album.js';
import { getTarget } from '../../main/core/delivery/targets.js';
import type { AnalysisResult } from '../../main/core/analysis/analyze.js';

const scratch = scratchDir('batch-unit');
afterAll(() => scratch.cleanup());

const settings = (over: Partial<BatchSettings> = {}): BatchSettings => ({ targetIds: ['spotify'], chain: defaultChain(), profileId: null, maxLimitingDb: 6, codecChecks: 'full', outDir: scratch.dir, appVersion: 'test', ...over });

describe('batch keys and records', () => {
  it('a deliverable key follows the input, the chain, the target and the options', () => {
    const base = deliverableKey('song', 'a'.repeat(64), settings(), 'spotify');
    expect(deliverableKey('song', 'a'.repeat(64), settings(), 'spotify')).toBe(base);
    const louder = defaultChain();
    louder.limiter.ceilingDbtp = -2;
    expect(deliverableKey('song', 'a'.repeat(64), settings({ chain: louder }), 'spotify')).not.toBe(base);
    expect(deliverableKey('song', 'b'.repeat(64), settings(), 'spotify')).not.toBe(base);
    expect(deliverableKey('song', 'a'.repeat(64), settings(), 'cd')).not.toBe(base);
    expect(deliverableKey('other', 'a'.repeat(64), settings(), 'spotify')).not.toBe(base);
    expect(deliverableKey('song', 'a'.repeat(64), settings({ codecChecks: 'none' }), 'spotify')).not.toBe(base);
    // Key order does not matter, values do.
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe(canonicalJson({ a: [2, { c: 4, d: 3 }], b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });

  it('a record counts only while the file it names is there with its size and SHA-256', async () => {
    const out = join(scratch.dir, 'records');
    mkdirSync(recordsDir(out), { recursive: true });
    const body = Buffer.from('the finished deliverable');
    writeFileSync(join(out, 'x.spotify.flac'), body);
    const sha = createHash('sha256').update(body).digest('hex');
    const record = { schema: 'lathe.batch-record', version: 1, key: 'k1', input: '/x.wav', inputSha256: '0', chainSha256: '0', target: 'spotify', files: [{ path: 'x.spotify.flac', size: body.length, sha256: sha }], pass: true, integratedLufs: -14, truePeakDbtp: -1.2, summary: '', finishedAt: '', producedBy: '' };
    writeFileSync(join(recordsDir(out), 'k1.json'), JSON.stringify(record));
    expect((await verifiedRecord(out, 'k1'))?.key).toBe('k1');
    // The same size, other bytes (a torn write over the finished file): not done.
    writeFileSync(join(out, 'x.spotify.flac'), Buffer.from('the finished deliverablX'));
    expect(await verifiedRecord(out, 'k1')).toBeNull();
    // Truncated: not done.
    writeFileSync(join(out, 'x.spotify.flac'), body.subarray(0, 5));
    expect(await verifiedRecord(out, 'k1')).toBeNull();
    // A record that is itself half-written: not done.
    writeFileSync(join(out, 'x.spotify.flac'), body);
    writeFileSync(join(recordsDir(out), 'k1.json'), JSON.stringify(record).slice(0, 40));
    expect(await verifiedRecord(out, 'k1')).toBeNull();
    expect(await verifiedRecord(out, 'missing')).toBeNull();
  });

  it('trusts an unchanged size and time without rereading, unless asked to verify', async () => {
    const out = join(scratch.dir, 'records-mtime');
    mkdirSync(recordsDir(out), { recursive: true });
    const file = join(out, 'y.cd.wav');
    const body = Buffer.from('sixteen-bit audio');
    writeFileSync(file, body);
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const sha = createHash('sha256').update(body).digest('hex');
    const record = { schema: 'lathe.batch-record', version: 1, key: 'k2', input: '/y.wav', inputSha256: '0', chainSha256: '0', target: 'cd', files: [{ path: 'y.cd.wav', size: body.length, sha256: sha, mtimeMs: statSync(file).mtimeMs }], pass: true, integratedLufs: -10, truePeakDbtp: -0.4, summary: '', finishedAt: '', producedBy: '' };
    writeFileSync(join(recordsDir(out), 'k2.json'), JSON.stringify(record));
    expect((await verifiedRecord(out, 'k2'))?.key).toBe('k2');
    // Rewritten with other bytes of the same size: the time moved, so the bytes are read: not done.
    writeFileSync(file, Buffer.from('sixteen-bit audiO'));
    utimesSync(file, 1_700_000_100, 1_700_000_100);
    expect(await verifiedRecord(out, 'k2')).toBeNull();
    // Even with the old time put back, --verify reads the bytes and refuses them.
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    expect(await verifiedRecord(out, 'k2', { verify: true })).toBeNull();
    writeFileSync(file, body);
    expect((await verifiedRecord(out, 'k2', { verify: true }))?.key).toBe('k2');
  });

  it('refuses two inputs whose deliverables would share a name, naming both', async () => {
    const a = join(scratch.dir, 'a');
    const b = join(scratch.dir, 'b');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'song.wav'), 'x');
    writeFileSync(join(b, 'song.wav'), 'y');
    await expect(planBatch([join(a, 'song.wav'), join(b, 'song.wav')], settings())).rejects.toThrow(/both named "song".*a\/song\.wav.*b\/song\.wav/);
  });
});

describe('CD sheet rules', () => {
  it('writes CUE times as minutes, seconds and 1/75 s frames', () => {
    expect(cueTime(0)).toBe('00:00:00');
    expect(cueTime(74)).toBe('00:00:74');
    expect(cueTime(75)).toBe('00:01:00');
    expect(cueTime(61 * 75 + 3)).toBe('01:01:03');
    // 79:59:74, the last frame of an 80-minute disc.
    expect(cueTime(80 * 60 * 75 - 1)).toBe('79:59:74');
  });

  it('takes ISRCs with or without dashes and refuses malformed ones', () => {
    expect(normaliseIsrc('US-RC1-76-07839', 'track 1')).toBe('USRC17607839');
    expect(normaliseIsrc('gbaaa2600001', 'track 1')).toBe('GBAAA2600001');
    expect(() => normaliseIsrc('USRC1760783', 'track 2')).toThrow(/track 2: "USRC1760783" is not an ISRC/);
    expect(() => normaliseIsrc('1SRC17607839', 'track 2')).toThrow(/not an ISRC/);
  });

  it('refuses CD-Text a CUE sheet cannot hold', () => {
    expect(checkCdText('Blue in Green', 'title')).toBe('Blue in Green');
    expect(() => checkCdText('The "Best" Of', 'album title')).toThrow(/album title: .*double quote/);
    expect(() => checkCdText('x'.repeat(81), 'track 3 title')).toThrow(/at most 80 characters/);
  });
});

describe('album consistency', () => {
  // Minimal analyses: what the QC reads (loudness, LRA, 1/3-octave spectrum, stereo).
  const HZ = [31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000];
  const analysis = (lufs: number, lra: number, sideToMidDb: number, tilt = 0) =>
    ({
      loudness: { integratedLufs: lufs, loudnessRangeLu: lra },
      spectrum: { thirdOctave: HZ.map((hz, i) => ({ hz, db: -20 - 3 * i + tilt * (i - 4.5) })) },
      stereo: { sideToMidDb, correlation: 0.8 },
    }) as unknown as AnalysisResult;

  it('names each planted outlier in its aspect, and nothing else', () => {
    const tracks = [
      { input: '/a/one.wav', analysis: analysis(-14, 6, -12) },
      { input: '/a/two.wav', analysis: analysis(-14.1, 6.5, -11.5) },
      { input: '/a/dynamic.wav', analysis: analysis(-13.9, 15, -12.2) },
      { input: '/a/wide.wav', analysis: analysis(-14, 5.8, -3) },
      { input: '/a/dark.wav', analysis: analysis(-14, 6.2, -12.1, -2) },
      { input: '/a/loud.wav', analysis: analysis(-9, 6.1, -11.8) },
    ];
    const perTrack = albumConsistency('spotify', tracks, { judgeLoudness: true });
    const named = perTrack.outliers.map((o) => `${o.aspect}:${o.input}`).sort();
    expect(named).toEqual(['loudness range:/a/dynamic.wav', 'loudness:/a/loud.wav', 'tone:/a/dark.wav', 'width:/a/wide.wav']);
    // The tone distance of a tilted track: the other five are identical, so the album mean is 1/6
    // of the tilt away from them and 5/6 from it; RMS of (i − 4.5)·2 dB over ten bands.
    const rmsTilt = Math.sqrt(HZ.reduce((s, _, i) => s + (2 * (i - 4.5)) ** 2, 0) / HZ.length);
    const dark = perTrack.tracks.find((t) => t.input === '/a/dark.wav')!;
    expect(dark.toneDistanceDb).toBeCloseTo((rmsTilt * 5) / 6, 9);
    expect(perTrack.tracks.find((t) => t.input === '/a/one.wav')!.toneDistanceDb).toBeCloseTo(rmsTilt / 6, 9);
    expect(perTrack.spread.integratedLu).toBeCloseTo(5.1, 9);
    expect(perTrack.spread.loudnessRangeLu).toBeCloseTo(9.2, 9);
    // Under the anchor policy loudness differences are the point: not judged.
    const anchored = albumConsistency('spotify', tracks, { judgeLoudness: false });
    expect(anchored.outliers.some((o) => o.aspect === 'loudness')).toBe(false);
  });

  it('an album of alike tracks has no outliers, and two tracks cannot name one', () => {
    const alike = [0, 1, 2, 3].map((i) => ({ input: `/b/${i}.wav`, analysis: analysis(-14 + 0.3 * i, 6 + 0.5 * i, -12 + 0.4 * i, 0.1 * i) }));
    expect(albumConsistency('cd', alike, { judgeLoudness: true }).outliers).toEqual([]);
    const two = [{ input: '/c/1.wav', analysis: analysis(-14, 5, -12) }, { input: '/c/2.wav', analysis: analysis(-8, 15, -2, 3) }];
    expect(albumConsistency('cd', two, { judgeLoudness: true }).outliers).toEqual([]);
  });

  it('refuses a malformed album before mastering anything, naming the track and the field', async () => {
    const base = { outDir: join(scratch.dir, 'album-out'), chain: defaultChain(), policy: 'anchor' as const, appVersion: 'test' };
    const targets = [getTarget('cd')];
    await expect(masterAlbum({ tracks: [{ file: '/x/one.wav', isrc: 'NOPE' }] }, targets, base)).rejects.toThrow(/track 1 \(\/x\/one\.wav\): "NOPE" is not an ISRC/);
    await expect(masterAlbum({ tracks: [{ file: '/x/one.wav' }, { file: '/y/one.flac' }] }, targets, base)).rejects.toThrow(/both named "one"/);
    await expect(masterAlbum({ catalog: '12345', tracks: [{ file: '/x/one.wav' }] }, targets, base)).rejects.toThrow(/catalog "12345" must be 13 digits/);
    await expect(masterAlbum({ tracks: [] }, targets, base)).rejects.toThrow(/at least one track/);
  });
});
