// The closed loop's verification step (main/core/delivery/verify.ts): one decode of the
// deliverable feeds its own measurement and every platform codec's encoder. Checked against the
// plain way round — ffmpeg encoding the file itself — and against ffmpeg's own meter, and a codec
// that cannot encode is reported as such.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile } from '../../main/core/analysis/analyze.js';
import { verifyDeliverable } from '../../main/core/delivery/verify.js';
import { scratchDir } from '../helpers/cli.js';
import { ffmpeg, ffmpegEbur128 } from '../helpers/ffmpeg.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('verify');
const at = (n: string) => join(scratch.dir, n);
afterAll(() => scratch.cleanup());

let flac = '';
beforeAll(() => {
  // A loud mix (peaks near full scale), so the codecs' overshoot is in play.
  const [l, r] = musicLike(44_100, 12, 7);
  const wav = writeWav(at('mix.wav'), [l, r], 44_100, 'pcm24');
  flac = at('mix.flac');
  ffmpeg(['-v', 'error', '-i', wav, '-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24', flac]);
});

describe('verifying a deliverable', () => {
  it('measures the file and each codec as ffmpeg encoding the file itself would', async () => {
    const work = at('work');
    mkdirSync(work);
    const codecs = [
      { codec: 'libvorbis', bitrateKbps: 160, container: 'ogg' },
      { codec: 'aac', bitrateKbps: 256, container: 'm4a' },
    ];
    const got = await verifyDeliverable(flac, codecs, work);
    // The deliverable: as analysing the file on its own gives, and as ffmpeg's meter reads it
    // (as the master test allows: it prints one decimal and gates its own way, so within 0.15 LU;
    // its true-peak interpolation differs by up to 0.2 dB).
    const alone = await analyzeFile(flac, { includeSpectrogram: true });
    expect(got.deliverable.loudness.integratedLufs).toBe(alone.loudness.integratedLufs);
    expect(got.deliverable.loudness.truePeakDbtp).toBe(alone.loudness.truePeakDbtp);
    expect(got.deliverable.spectrogram?.columns).toBe(alone.spectrogram?.columns);
    const ff = ffmpegEbur128(flac);
    expect(Math.abs(got.deliverable.loudness.integratedLufs! - ff.integratedLufs)).toBeLessThanOrEqual(0.15);
    expect(Math.abs(got.deliverable.loudness.truePeakDbtp! - ff.truePeakDbtp)).toBeLessThanOrEqual(0.2);
    for (const [i, c] of codecs.entries()) {
      // ffmpeg reading the FLAC itself, with the same encoder and bit rate.
      const plain = at(`plain-${c.codec}.${c.container}`);
      ffmpeg(['-v', 'error', '-i', flac, '-c:a', c.codec, '-b:a', `${c.bitrateKbps}k`, plain]);
      const want = await analyzeFile(plain, { meters: 'loudness' });
      expect(got.codecs[i]!.loudness.truePeakDbtp, c.codec).toBeCloseTo(want.loudness.truePeakDbtp!, 2);
      expect(got.codecs[i]!.loudness.integratedLufs, c.codec).toBeCloseTo(want.loudness.integratedLufs!, 2);
      const ffc = ffmpegEbur128(plain);
      expect(Math.abs(got.codecs[i]!.loudness.truePeakDbtp! - ffc.truePeakDbtp), c.codec).toBeLessThanOrEqual(0.2);
    }
  });

  it('a codec that cannot encode is reported, naming the codec', async () => {
    const work = at('work-bad');
    mkdirSync(work);
    await expect(verifyDeliverable(flac, [{ codec: 'no_such_codec', bitrateKbps: 128, container: 'ogg' }], work)).rejects.toThrow(/no_such_codec 128k check could not encode/);
  });
});
