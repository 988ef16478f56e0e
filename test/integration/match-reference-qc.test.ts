// Reference QC through `lathe match --json`: a reference that is lossy (an MP3 whose encoder
// low-passed it at 16 kHz), clipped (driven 12 dB into full scale), sampled at another rate, or
// mono gets a warning naming it (by file name, not the full path) and saying what the match does
// about it; a clean reference gets none; the target keeps its own sample rate.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { lathe, scratchDir } from '../helpers/cli.js';
import { ffmpeg } from '../helpers/ffmpeg.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('match-qc');
const at = (n: string) => join(scratch.dir, n);
afterAll(() => scratch.cleanup());
const env = { LATHE_CACHE_DIR: at('cache') };
const SR = 44_100;

const target = writeWav(at('target.wav'), musicLike(SR, 12, 1), SR, 'pcm24');
const warningsFor = (reference: string): string[] => {
  const r = lathe(['match', target, '--reference', reference, '--json'], env);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).warnings as string[];
};

describe('reference QC', () => {
  it('a clean reference gets no warning', () => {
    expect(warningsFor(writeWav(at('clean.wav'), musicLike(SR, 12, 2), SR, 'pcm24'))).toEqual([]);
  });

  it('names a lossy reference by its spectral cutoff', () => {
    const wav = writeWav(at('source.wav'), musicLike(SR, 12, 3), SR, 'pcm24');
    ffmpeg(['-i', wav, '-af', 'lowpass=f=16000:p=2,lowpass=f=16000:p=2', '-c:a', 'libmp3lame', '-b:a', '128k', '-y', at('lossy ref.mp3')]);
    const w = warningsFor(at('lossy ref.mp3'));
    expect(w.some((x) => /^lossy ref\.mp3: a lossy (source|file)/.test(x))).toBe(true);
    expect(w.join(' ')).not.toContain(scratch.dir);
  });

  it('names a clipped reference, and one sampled at another rate (the target keeps its rate)', () => {
    const [l, r] = musicLike(48_000, 12, 4);
    for (const ch of [l, r]) for (let i = 0; i < ch.length; i++) ch[i] = Math.max(-1, Math.min(1, ch[i]! * 4));
    const w = warningsFor(writeWav(at('hot48k.wav'), [l, r], 48_000, 'pcm24'));
    expect(w.some((x) => /^hot48k\.wav: clipped in \d+ place/.test(x))).toBe(true);
    expect(w.some((x) => /^hot48k\.wav: 48000 Hz where the target is 44100 Hz/.test(x))).toBe(true);
    const out = lathe(['match', target, '--reference', at('hot48k.wav'), '--out', at('matched.wav'), '--json'], env);
    // 3: delivered, but the crushed reference's loudness is out of reach within the allowed limiting.
    expect([0, 3], out.stderr).toContain(out.status);
    const analysed = JSON.parse(lathe(['analyze', at('matched.wav'), '--json']).stdout);
    expect(analysed.format.sampleRate).toBe(SR);
  });

  it('names a mono reference: its width is not matched', () => {
    const [m] = musicLike(SR, 12, 5);
    expect(warningsFor(writeWav(at('mono.wav'), [m], SR, 'pcm24')).some((x) => /^mono\.wav: mono/.test(x))).toBe(true);
  });
});
