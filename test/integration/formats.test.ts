// Every format the product promises to read: WAV, AIFF, FLAC, MP3, AAC/M4A, Ogg Vorbis, Opus —
// encoded here by ffmpeg from one synthesised source, then probed, decoded and measured.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { analyzeJson, scratchDir } from '../helpers/cli.js';
import { ffmpeg } from '../helpers/ffmpeg.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('formats');
let source = '';
let reference: any;

beforeAll(() => {
  const [l, r] = musicLike(44_100, 12, 3);
  source = writeWav(join(scratch.dir, 'source.wav'), [l, r], 44_100, 'pcm24');
  reference = analyzeJson(source);
});
afterAll(() => scratch.cleanup());

// [file name, ffmpeg encoder args, codec ffprobe reports, sample rate after decoding, lossy,
//  how far the integrated loudness may move (lossless: bit-exact decode, 24→16 bit at most
//  0.01 LU; lossy codecs change the spectrum slightly)].
const FORMATS: [string, string[], string, number, boolean, number][] = [
  ['aiff.aiff', ['-c:a', 'pcm_s24be'], 'pcm_s24be', 44_100, false, 0.01],
  ['flac.flac', ['-c:a', 'flac'], 'flac', 44_100, false, 0.01],
  ['pcm16.wav', ['-c:a', 'pcm_s16le'], 'pcm_s16le', 44_100, false, 0.01],
  ['mp3.mp3', ['-c:a', 'libmp3lame', '-b:a', '256k'], 'mp3', 44_100, true, 0.3],
  ['aac.m4a', ['-c:a', 'aac', '-b:a', '256k'], 'aac', 44_100, true, 0.3],
  ['vorbis.ogg', ['-c:a', 'libvorbis', '-q:a', '6'], 'vorbis', 44_100, true, 0.3],
  ['opus.opus', ['-c:a', 'libopus', '-b:a', '192k'], 'opus', 48_000, true, 0.3],
];

describe('decoding every supported format', () => {
  for (const [name, args, codec, rate, lossy, tolerance] of FORMATS) {
    it(`${name}: probed and measured like its source`, () => {
      const file = join(scratch.dir, name);
      ffmpeg(['-i', source, ...args, file]);
      const r = analyzeJson(file);
      expect(r.format.codec).toBe(codec);
      expect(r.format.sampleRate).toBe(rate);
      expect(r.format.channels).toBe(2);
      expect(r.format.lossy).toBe(lossy);
      if (!lossy) expect(r.format.bitDepth).toBe(name === 'pcm16.wav' ? 16 : 24);
      // Encoders add priming/padding samples; the programme itself is 12 s.
      expect(Math.abs(r.format.durationSeconds - 12)).toBeLessThan(0.1);
      expect(Math.abs(r.loudness.integratedLufs - reference.loudness.integratedLufs)).toBeLessThanOrEqual(tolerance);
      expect(r.qc.some((q: { kind: string }) => q.kind === 'lossy-source')).toBe(lossy);
    });
  }
});
