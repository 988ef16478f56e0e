// Bad input gets one clear line naming the file and the problem, exit status 1 (2 for usage
// mistakes), and never a stack trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lathe, scratchDir } from '../helpers/cli.js';
import { ffmpeg } from '../helpers/ffmpeg.js';
import { musicLike } from '../helpers/signals.js';
import { wavBytes, writeWav } from '../helpers/wav.js';

const scratch = scratchDir('bad');
const at = (name: string) => join(scratch.dir, name);
afterAll(() => scratch.cleanup());

beforeAll(() => {
  const [l, r] = musicLike(44_100, 6, 9);
  writeWav(at('good.wav'), [l, r], 44_100, 'pcm16');
});

function expectFailure(args: string[], pattern: RegExp, status = 1, env: Record<string, string> = {}) {
  const r = lathe(args, env);
  expect(r.status, r.stderr).toBe(status);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^lathe: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('lathe analyze refuses bad input clearly', () => {
  it('a missing file', () => {
    expectFailure(['analyze', at('missing.wav')], /missing\.wav: file not found$/);
  });

  it('a directory', () => {
    mkdirSync(at('folder.wav'));
    expectFailure(['analyze', at('folder.wav')], /folder\.wav: is a directory, not an audio file$/);
  });

  it('an empty file', () => {
    writeFileSync(at('empty.wav'), '');
    expectFailure(['analyze', at('empty.wav')], /empty\.wav: file is empty \(0 bytes\)$/);
  });

  it('a text file named .wav', () => {
    writeFileSync(at('notes.wav'), 'these are not the samples you are looking for\n'.repeat(50));
    expectFailure(['analyze', at('notes.wav')], /notes\.wav: not an audio file ffmpeg can read \(.+\)$/);
  });

  it('a file with no audio stream (an image)', () => {
    ffmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=16x16', '-frames:v', '1', at('picture.png')]);
    expectFailure(['analyze', at('picture.png')], /picture\.png: has no audio stream \(only video streams\)$/);
  });

  it('a WAV whose header promises more audio than the file holds (cut on a frame boundary)', () => {
    copyFileSync(at('good.wav'), at('cut.wav'));
    truncateSync(at('cut.wav'), 44 + 4 * 44_100 * 2); // header + 2 s of 16-bit stereo
    expectFailure(['analyze', at('cut.wav')], /cut\.wav: file is truncated: its header promises 6\.00 s of audio, the file holds 2\.00 s$/);
  });

  it('a truncated FLAC', () => {
    ffmpeg(['-i', at('good.wav'), at('whole.flac')]);
    const bytes = readFileSync(at('whole.flac'));
    writeFileSync(at('cut.flac'), bytes.subarray(0, Math.floor(bytes.length / 3)));
    expectFailure(['analyze', at('cut.flac')], /cut\.flac: file is truncated: its header promises 6\.00 s of audio, only [0-9.]+ s could be decoded$/);
  });

  it('corrupt compressed data in the middle of a FLAC', () => {
    const bytes = Buffer.from(readFileSync(at('whole.flac')));
    let seed = 12345;
    for (let i = bytes.length / 2; i < bytes.length / 2 + 4000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[Math.floor(i)] = seed >>> 24;
    }
    writeFileSync(at('corrupt.flac'), bytes);
    expectFailure(['analyze', at('corrupt.flac')], /corrupt\.flac: corrupt audio data \(ffmpeg: .+\)$/);
  });

  it('a WAV with zero samples', () => {
    writeFileSync(at('zero.wav'), wavBytes([new Float32Array(0), new Float32Array(0)], 48_000, 'pcm24'));
    expectFailure(['analyze', at('zero.wav')], /zero\.wav: (contains no audio samples|not an audio file ffmpeg can read .*)$/);
  });

  it('ffmpeg not found', () => {
    expectFailure(['analyze', at('good.wav')], /ffprobe not found: LATHE_FFPROBE=\/nonexistent\/ffprobe is not an executable file$/, 1, {
      LATHE_FFPROBE: '/nonexistent/ffprobe',
    });
    expectFailure(['analyze', at('good.wav')], /ffmpeg not found: LATHE_FFMPEG=\/nonexistent\/ffmpeg is not an executable file$/, 1, {
      LATHE_FFMPEG: '/nonexistent/ffmpeg',
    });
  });

  it('usage mistakes exit 2', () => {
    expectFailure(['analyze'], /analyze takes exactly one FILE/, 2);
    expectFailure(['frobnicate'], /unknown command "frobnicate"/, 2);
    expectFailure(['analyze', at('good.wav'), '--bogus'], /Unknown option '--bogus'/, 2);
  });

  it('the good file next to them all analyses fine', () => {
    const r = lathe(['analyze', at('good.wav')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Integrated\s+-?\d+\.\d LUFS/);
  });
});
