// The batch's keys and records, and the CD sheet's small rules, checked against what they must
// be: a key changes with anything that changes the deliverable and not with key order; a record
// counts only while its file is intact; CUE times are mm:ss:ff at 75 frames a second; ISRCs and
// CD-Text are refused with the field and the reason.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { canonicalJson, deliverableKey, planBatch, recordsDir, verifiedRecord, type BatchSettings } from '../../main/core/batch/batch.js';
import { checkCdText, cueTime, normaliseIsrc } from '../../main/core/album/cd.js';
import { defaultChain } from '../../main/core/chain/document.js';
import { scratchDir } from '../helpers/cli.js';

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
