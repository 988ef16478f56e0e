// What `lathe analyze` says about the content, on signals whose answers are known analytically:
// spectrum levels, stereo image, seed metrics and the QC findings with their timestamps.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { analyzeJson, lathe, scratchDir } from '../helpers/cli.js';
import { ffmpeg } from '../helpers/ffmpeg.js';
import { Rng, toneSequence } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('content');
const at = (name: string) => join(scratch.dir, name);
afterAll(() => scratch.cleanup());

type Finding = { kind: string; severity: string; startSeconds: number; endSeconds: number; channel: string | null };
const findings = (r: { qc: Finding[] }, kind: string) => r.qc.filter((q) => q.kind === kind);

function noise(fs: number, seconds: number, amplitude: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: Math.round(fs * seconds) }, () => amplitude * rng.uniform());
}

describe('spectrum and seed metrics', () => {
  it('a −20 dBFS 1 kHz sine reads −20 dB in the 1 kHz third-octave band, its centroid at 1 kHz', () => {
    const x = toneSequence(48_000, [[-20, 10]]);
    const r = analyzeJson(writeWav(at('sine.wav'), [x, x], 48_000, 'float32'));
    const band = r.spectrum.thirdOctave.find((b: { hz: number }) => b.hz === 1000);
    expect(Math.abs(band.db - -20)).toBeLessThanOrEqual(0.1);
    const neighbour = r.spectrum.thirdOctave.find((b: { hz: number }) => b.hz === 1600);
    expect(neighbour.db).toBeLessThan(-60);
    expect(Math.abs(r.features.spectralCentroidHz - 1000)).toBeLessThan(5);
    // A sine: RMS 3.01 dB below its peak, crest factor 3.01 dB, two zero crossings a cycle.
    expect(Math.abs(r.features.rmsDbfs - -23.01)).toBeLessThan(0.01);
    expect(Math.abs(r.features.crestFactorDb - 3.01)).toBeLessThan(0.01);
    expect(Math.abs(r.features.zeroCrossingRateHz - 2000)).toBeLessThan(1);
    expect(r.spectrum.thirdOctave).toHaveLength(31);
    expect(r.spectrum.curve.length).toBeGreaterThan(100);
  });

  it('the spectrogram is there when asked for, with its size', () => {
    const x = toneSequence(44_100, [[-10, 3]], 440);
    const file = writeWav(at('short.wav'), [x, x], 44_100, 'pcm16');
    const plain = analyzeJson(file);
    expect(plain.spectrogram).toBeUndefined();
    const r = lathe(['analyze', file, '--json', '--spectrogram']);
    const sg = JSON.parse(r.stdout).spectrogram;
    expect(sg.rows).toBe(160);
    expect(sg.db).toHaveLength(sg.columns * sg.rows);
    // The 440 Hz row is the loudest of the first column's rows.
    const first = sg.db.slice(0, sg.rows) as number[];
    const loudest = first.indexOf(Math.max(...first));
    expect(Math.abs(Math.log2(sg.rowHz[loudest] / 440))).toBeLessThan(0.1);
  });

  it('a lossy source is recognised by its spectral cutoff', () => {
    const fs = 44_100;
    const wav = writeWav(at('noise.wav'), [noise(fs, 8, 0.3, 1), noise(fs, 8, 0.3, 2)], fs, 'pcm16');
    const clean = analyzeJson(wav);
    expect(findings(clean, 'lossy-cutoff')).toHaveLength(0);
    // LAME at 96 kbit/s low-passes around 15–17 kHz; decoded back to WAV it no longer says "mp3".
    ffmpeg(['-i', wav, '-c:a', 'libmp3lame', '-b:a', '96k', at('noise.mp3')]);
    ffmpeg(['-i', at('noise.mp3'), '-c:a', 'pcm_s16le', at('from-mp3.wav')]);
    const r = analyzeJson(at('from-mp3.wav'));
    expect(r.spectrum.cutoffHz).toBeGreaterThan(12_000);
    expect(r.spectrum.cutoffHz).toBeLessThan(19_000);
    expect(findings(r, 'lossy-cutoff')).toHaveLength(1);
  });
});

describe('stereo image', () => {
  it('L = R is mono carried as stereo; L = −R is a phase problem with correlation −1', () => {
    const fs = 48_000;
    const x = noise(fs, 6, 0.25, 3);
    const same = analyzeJson(writeWav(at('same.wav'), [x, x], fs, 'float32'));
    expect(same.stereo.correlation).toBeCloseTo(1, 6);
    expect(same.stereo.monoCompatibilityLossDb).toBeCloseTo(0, 6);
    expect(findings(same, 'mono-as-stereo')).toHaveLength(1);
    const inverted = x.map((v) => -v);
    const anti = analyzeJson(writeWav(at('anti.wav'), [x, inverted], fs, 'float32'));
    expect(anti.stereo.correlation).toBeCloseTo(-1, 6);
    expect(anti.stereo.monoCompatibilityLossDb).toBeNull();
    const phase = findings(anti, 'phase');
    expect(phase.length).toBeGreaterThan(0);
    expect(phase[0]!.severity).toBe('error');
  });

  it('independent channels are uncorrelated and lose about 3 dB in mono', () => {
    const fs = 48_000;
    const r = analyzeJson(writeWav(at('wide.wav'), [noise(fs, 10, 0.25, 4), noise(fs, 10, 0.25, 5)], fs, 'float32'));
    expect(Math.abs(r.stereo.correlation)).toBeLessThan(0.01);
    expect(Math.abs(r.stereo.monoCompatibilityLossDb - 3.01)).toBeLessThan(0.05);
    expect(Math.abs(r.stereo.sideToMidDb)).toBeLessThan(0.1);
  });
});

describe('QC findings with timestamps', () => {
  it('finds a clipped passage, leading silence and a DC offset where they are', () => {
    const fs = 44_100;
    const x = toneSequence(fs, [[null, 3], [-12, 7]], 220);
    // Hard-clip 2.0 s into the tone (5.0–5.5 s in the file).
    for (let i = Math.round(5 * fs); i < Math.round(5.5 * fs); i++) x[i] = Math.max(-1, Math.min(1, x[i]! * 8));
    // A DC offset on the right channel while the tone plays (the silence stays silent).
    const y = x.map((v, i) => (i >= 3 * fs ? v + 0.01 : v));
    const r = analyzeJson(writeWav(at('faults.wav'), [x, y], fs, 'float32'));
    const clips = findings(r, 'clipping');
    expect(clips.length).toBeGreaterThan(0);
    expect(Math.abs(clips[0]!.startSeconds - 5)).toBeLessThan(0.01);
    expect(Math.abs(clips.at(-1)!.endSeconds - 5.5)).toBeLessThan(0.01);
    const lead = findings(r, 'leading-silence');
    expect(lead).toHaveLength(1);
    expect(lead[0]!.severity).toBe('warning');
    expect(Math.abs(lead[0]!.endSeconds - 3)).toBeLessThan(0.01);
    const dc = findings(r, 'dc-offset');
    expect(dc).toHaveLength(1);
    expect(dc[0]!.channel).toBe('FR');
  });

  it('a clean mix raises no warnings', () => {
    const fs = 48_000;
    const l = noise(fs, 6, 0.2, 6);
    const rr = noise(fs, 6, 0.2, 7);
    for (let i = 0; i < l.length; i++) rr[i] = 0.6 * l[i]! + 0.4 * rr[i]!;
    const r = analyzeJson(writeWav(at('clean.wav'), [l, rr], fs, 'pcm24'));
    expect(r.qc.filter((q: Finding) => q.severity !== 'info')).toEqual([]);
  });

  it('an unusual sample rate and a low bit depth are flagged', () => {
    const x = toneSequence(22_050, [[-20, 3]]);
    ffmpeg(['-i', writeWav(at('lowrate.wav'), [x, x], 22_050, 'pcm16'), '-c:a', 'pcm_u8', at('eight.wav')]);
    const r = analyzeJson(at('eight.wav'));
    expect(findings(r, 'unusual-sample-rate')).toHaveLength(1);
    expect(findings(r, 'unusual-bit-depth')).toHaveLength(1);
  });
});
