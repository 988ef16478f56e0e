// `lathe analyze` end to end (WAV written here → ffmpeg decode → native meter → JSON) on the
// synthetic EBU Tech 3341/3342 cases, at 44.1, 48 and 96 kHz, mono and 5.1. Tolerances are the
// Techs' (±0.1 LU for loudness, ±1 LU for LRA, +0.2/−0.4 dB for true peak).
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { analyzeJson, scratchDir } from '../helpers/cli.js';
import { dbToAmp, toneSequence } from '../helpers/signals.js';
import { CHANNEL_MASKS, writeWav } from '../helpers/wav.js';

const scratch = scratchDir('standards');
afterAll(() => scratch.cleanup());

const stereoFile = (name: string, fs: number, segments: [number | null, number][], format: 'pcm24' | 'float32' = 'pcm24') => {
  const x = toneSequence(fs, segments);
  return writeWav(join(scratch.dir, name), [x, x], fs, format);
};

describe('EBU Tech 3341 through lathe analyze', () => {
  for (const fs of [44_100, 48_000, 96_000]) {
    it(`cases 1 and 2 (steady −23 and −33 dBFS tones) at ${fs} Hz`, () => {
      for (const level of [-23, -33]) {
        const r = analyzeJson(stereoFile(`tone${level}-${fs}.wav`, fs, [[level, 20]]));
        expect(r.format.sampleRate).toBe(fs);
        expect(r.loudness.integratedLufs).toBeCloseTo(level, 1);
        expect(Math.abs(r.loudness.integratedLufs - level)).toBeLessThanOrEqual(0.1);
        expect(Math.abs(r.loudness.momentaryMaxLufs - level)).toBeLessThanOrEqual(0.1);
        expect(Math.abs(r.loudness.shortTermMaxLufs - level)).toBeLessThanOrEqual(0.1);
      }
    });
  }

  it('cases 3–5 (gating) at 48 kHz', () => {
    const cases: [number | null, number][][] = [
      [[-36, 10], [-23, 60], [-36, 10]],
      [[-72, 10], [-36, 10], [-23, 60], [-36, 10], [-72, 10]],
      [[-26, 20], [-20, 20.1], [-26, 20]],
    ];
    cases.forEach((c, i) => {
      const r = analyzeJson(stereoFile(`gating${i}.wav`, 48_000, c));
      expect(Math.abs(r.loudness.integratedLufs - -23)).toBeLessThanOrEqual(0.1);
    });
  });

  it('case 6 as a 5.0 file and as a 5.1 file whose loud LFE is excluded', () => {
    const fs = 48_000;
    const front = toneSequence(fs, [[-28, 20]]);
    const centre = toneSequence(fs, [[-24, 20]]);
    const surround = toneSequence(fs, [[-30, 20]]);
    const lfe = toneSequence(fs, [[-1, 20]], 50);
    const five = writeWav(join(scratch.dir, 'five.wav'), [front, front, centre, surround, surround], fs, 'pcm24', CHANNEL_MASKS['5.0']);
    const r5 = analyzeJson(five);
    expect(r5.format.channelNames).toEqual(['FL', 'FR', 'FC', 'BL', 'BR']);
    expect(Math.abs(r5.loudness.integratedLufs - -23)).toBeLessThanOrEqual(0.1);
    const six = writeWav(join(scratch.dir, 'six.wav'), [front, front, centre, lfe, surround, surround], fs, 'pcm24', CHANNEL_MASKS['5.1']);
    const r6 = analyzeJson(six);
    expect(r6.format.channels).toBe(6);
    expect(r6.format.channelNames).toContain('LFE');
    expect(Math.abs(r6.loudness.integratedLufs - -23)).toBeLessThanOrEqual(0.1);
  });

  it('a mono file is one channel of weight 1.0 (3.01 dB below the same signal in stereo)', () => {
    const fs = 44_100;
    const x = toneSequence(fs, [[-20, 10]]);
    const r = analyzeJson(writeWav(join(scratch.dir, 'mono.wav'), [x], fs, 'pcm24', CHANNEL_MASKS.mono));
    expect(r.format.channels).toBe(1);
    expect(Math.abs(r.loudness.integratedLufs - -23.01)).toBeLessThanOrEqual(0.1);
    // A mono file has no stereo image: the fields are there, and null.
    expect(r.stereo).toMatchObject({ pair: null, correlation: null, sideToMidDb: null });
  });

  it('case 13 (400 ms burst at an offset between grid points) reads its maximum momentary loudness', () => {
    for (const fs of [44_100, 48_000]) {
      const r = analyzeJson(stereoFile(`burst-${fs}.wav`, fs, [[null, 1.2137], [-23, 0.4], [null, 1]]));
      expect(Math.abs(r.loudness.momentaryMaxLufs - -23)).toBeLessThanOrEqual(0.1);
      expect(r.meter.evaluationIntervalSeconds).toBeLessThanOrEqual(0.01);
    }
  });

  it('true peak: a +3.01 dBTP tone at fs/4 whose samples sit at full scale', () => {
    for (const fs of [44_100, 48_000, 96_000]) {
      const n = fs;
      const x = new Float32Array(n);
      const a = dbToAmp(3.0103);
      for (let i = 0; i < n; i++) {
        const fade = Math.min(1, i / (0.02 * fs), (n - 1 - i) / (0.02 * fs));
        x[i] = fade * a * Math.sin((Math.PI / 2) * i + Math.PI / 4);
      }
      const r = analyzeJson(writeWav(join(scratch.dir, `tp-${fs}.wav`), [x, x], fs, 'float32'));
      expect(r.loudness.truePeakDbtp).toBeGreaterThanOrEqual(3.01 - 0.4);
      expect(r.loudness.truePeakDbtp).toBeLessThanOrEqual(3.01 + 0.2);
      expect(Math.abs(r.loudness.samplePeakDbfs)).toBeLessThan(0.01);
      expect(r.qc.some((q: { kind: string }) => q.kind === 'intersample-over')).toBe(true);
    }
  });
});

describe('EBU Tech 3342 through lathe analyze', () => {
  it('cases 1–4 at 48 kHz', () => {
    const cases: [[number | null, number][], number][] = [
      [[[-20, 20], [-30, 20]], 10],
      [[[-20, 20], [-15, 20]], 5],
      [[[-40, 20], [-20, 20]], 20],
      [[[-50, 20], [-35, 20], [-20, 20], [-35, 20], [-50, 20]], 15],
    ];
    cases.forEach(([segments, lra], i) => {
      const r = analyzeJson(stereoFile(`lra${i}.wav`, 48_000, segments));
      expect(Math.abs(r.loudness.loudnessRangeLu - lra)).toBeLessThanOrEqual(1);
    });
  });
});

describe('lathe analyze on edge material', () => {
  it('keeps float samples above full scale (+6 dBFS) instead of clipping them', () => {
    const fs = 48_000;
    const x = toneSequence(fs, [[6.02, 5]]);
    const r = analyzeJson(writeWav(join(scratch.dir, 'hot.wav'), [x, x], fs, 'float32'));
    expect(r.loudness.samplePeakDbfs).toBeGreaterThan(5.9);
    expect(r.loudness.samplePeakDbfs).toBeLessThan(6.1);
    expect(Math.abs(r.loudness.integratedLufs - 6.02)).toBeLessThanOrEqual(0.1);
  });

  it('silence is valid: integrated loudness is null, not −Infinity and not an error', () => {
    const fs = 44_100;
    const x = new Float32Array(fs * 5);
    const r = analyzeJson(writeWav(join(scratch.dir, 'silence.wav'), [x, x], fs, 'pcm16'));
    expect(r.loudness.integratedLufs).toBeNull();
    expect(r.loudness.loudnessRangeLu).toBeNull();
    expect(r.loudness.truePeakDbtp).toBeNull();
    expect(r.format.durationSeconds).toBeCloseTo(5, 6);
  });
});
