// Sources of 16 bits or fewer reach the analyser as 16-bit integers on ffmpeg's pipe (half the
// bytes; a 16-bit WAV is stream-copied without a decode step). The reader's x / 32768 must equal
// ffmpeg's own conversion to float: the analysis is compared, field for field, with the one
// measured from ffmpeg's float output through the JavaScript stream.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import dsp from '#native-dsp';
import { analyzeFile, shapeResult } from '../../main/core/analysis/analyze.js';
import { decodeInterleaved, exactPipeFormat } from '../../main/core/media/decode.js';
import { probeFile } from '../../main/core/media/probe.js';
import { scratchDir } from '../helpers/cli.js';
import { ffmpeg } from '../helpers/ffmpeg.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('pipe-format');
afterAll(() => scratch.cleanup());

/** Converts `source` with ffmpeg `args` into scratch file `name`; returns its path. */
function convert(source: string, args: string[], name: string): string {
  const out = join(scratch.dir, name);
  ffmpeg(['-i', source, ...args, out]);
  return out;
}

/** The analysis from ffmpeg's f32le output, fed through the JavaScript stream. */
async function viaFloatStream(file: string) {
  const probe = await probeFile(file);
  const handle = dsp.analyzerCreate({ sampleRate: probe.sampleRate, channelNames: probe.channelNames });
  for await (const chunk of decodeInterleaved(probe)) dsp.analyzerProcessInterleaved(handle, chunk);
  return shapeResult(probe, dsp.analyzerFinish(handle));
}

describe('pipe sample format', () => {
  // Loud enough to clip in places (full-scale runs and inter-sample overs in the QC), 3 s of
  // silence at the end, and longer than one analysis batch (131072 frames).
  const [l, r] = musicLike(44_100, 8, 21).map((x) => x.map((v, i) => (i > 44_100 * 5 ? 0 : Math.max(-1, Math.min(1, 2.5 * v)))));
  const wav16 = writeWav(join(scratch.dir, 'src16.wav'), [l!, r!], 44_100, 'pcm16');
  const cases: [string, string, () => string][] = [
    ['16-bit WAV (stream copy)', 's16le', () => wav16],
    ['16-bit FLAC', 's16le', () => convert(wav16, ['-c:a', 'flac'], 'a.flac')],
    ['16-bit AIFF (big-endian)', 's16le', () => convert(wav16, ['-c:a', 'pcm_s16be'], 'a.aiff')],
    ['8-bit unsigned mono WAV', 's16le', () => convert(wav16, ['-ac', '1', '-c:a', 'pcm_u8'], 'u8.wav')],
    ['24-bit WAV', 'f32le', () => writeWav(join(scratch.dir, 'a24.wav'), [l!, r!], 44_100, 'pcm24')],
    ['float WAV', 'f32le', () => writeWav(join(scratch.dir, 'f.wav'), [l!, r!], 44_100, 'float32')],
    ['MP3', 'f32le', () => convert(wav16, ['-c:a', 'libmp3lame', '-b:a', '192k'], 'a.mp3')],
  ];
  for (const [name, format, make] of cases) {
    it(`${name}: ${format} on the pipe, the same analysis as from ffmpeg's floats`, async () => {
      const file = make();
      expect(exactPipeFormat(await probeFile(file))).toBe(format);
      const viaPipe = await analyzeFile(file);
      expect(viaPipe.qc.length).toBeGreaterThan(0);
      expect(viaPipe).toEqual(await viaFloatStream(file));
    }, 60_000);
  }
});
