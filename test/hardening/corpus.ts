// The hostile-input corpus, generated at test time into a scratch folder (deterministic: a seeded
// xorshift; nothing large is committed). Each entry says what it is and what Lathe must do with
// it: accept it (a valid file, however odd) or refuse it with one line naming the file and the
// problem. Byte layouts follow the RIFF/WAVE specification (fmt chunk, WAVE_FORMAT_PCM = 1,
// WAVE_FORMAT_IEEE_FLOAT = 3, 8-bit samples unsigned with 128 as zero).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { resolveTool } from '../../main/core/media/tools.js';

/** xorshift32, seeded: the same corpus every run. */
export class XorShift {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 2 ** 32;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

export type SampleFormat = 'u8' | 's16' | 's24' | 's32' | 'f32' | 'f64';
export const SAMPLE_FORMATS: SampleFormat[] = ['u8', 's16', 's24', 's32', 'f32', 'f64'];

export interface WavSpec {
  sampleRate: number;
  channels: number;
  format: SampleFormat;
  frames: number;
  /** Sample value in [-1, 1] (anything for float formats: NaN and ±Inf are written as they are). */
  sample: (frame: number, channel: number) => number;
  /** Overrides the data chunk's declared size (a header that lies). */
  declaredDataBytes?: number;
}

const bitsOf = (f: SampleFormat) => ({ u8: 8, s16: 16, s24: 24, s32: 32, f32: 32, f64: 64 })[f];

/** A canonical 44-byte-header WAV. */
export function wav(spec: WavSpec): Buffer {
  const { sampleRate, channels, format, frames } = spec;
  const bytes = bitsOf(format) / 8;
  const dataBytes = frames * channels * bytes;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVEfmt ', 8, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(format.startsWith('f') ? 3 : 1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * bytes, 28);
  buf.writeUInt16LE(channels * bytes, 32);
  buf.writeUInt16LE(bitsOf(format), 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(spec.declaredDataBytes ?? dataBytes, 40);
  let o = 44;
  const int = (x: number, bits: number) => {
    const full = 2 ** (bits - 1);
    return Math.max(-full, Math.min(full - 1, Math.round(x * full)));
  };
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const x = spec.sample(i, c);
      switch (format) {
        case 'u8':
          buf.writeUInt8(int(x, 8) + 128, o);
          break;
        case 's16':
          buf.writeInt16LE(int(x, 16), o);
          break;
        case 's24':
          buf.writeIntLE(int(x, 24), o, 3);
          break;
        case 's32':
          buf.writeInt32LE(int(x, 32), o);
          break;
        case 'f32':
          buf.writeFloatLE(x, o);
          break;
        case 'f64':
          buf.writeDoubleLE(x, o);
          break;
      }
      o += bytes;
    }
  }
  return buf;
}

/** A sine at `hz` and `amplitude`, channel c detuned a little so channels differ. */
export const sine =
  (sampleRate: number, hz = 997, amplitude = 0.5) =>
  (i: number, c: number) =>
    amplitude * Math.sin((2 * Math.PI * hz * (1 + 0.01 * c) * i) / sampleRate);

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function ffmpeg(args: string[]): void {
  const r = spawnSync(resolveTool('ffmpeg').path, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
}

export interface CorpusEntry {
  name: string;
  file: string;
  /** What the file is, in words (for the README's table). */
  what: string;
  /** null: Lathe must accept it; otherwise the refusal line must match this (after "FILE: "). */
  refusal: RegExp | null;
  /** A QC finding the analysis of an accepted file must report. */
  qc?: string;
}

/**
 * Writes the corpus into `dir` and lists it. Valid files are short (≤ 1.5 s) so every one can
 * be analysed and rendered in a test run.
 */
export function generateCorpus(dir: string, seed = 0x1a7e): CorpusEntry[] {
  mkdirSync(dir, { recursive: true });
  const rng = new XorShift(seed);
  const out: CorpusEntry[] = [];
  const put = (name: string, data: Buffer | string, what: string, refusal: RegExp | null) => {
    const file = join(dir, name);
    writeFileSync(file, data);
    out.push({ name, file, what, refusal });
    return file;
  };
  const music = (i: number, c: number) => 0.3 * Math.sin((2 * Math.PI * 220 * (1 + c * 0.003) * i) / 48_000) + 0.05 * (rng.next() * 2 - 1);

  // -- valid but extreme
  for (const format of SAMPLE_FORMATS) {
    put(`format-${format}.wav`, wav({ sampleRate: 48_000, channels: 2, format, frames: 24_000, sample: sine(48_000) }), `${format} WAV`, null);
  }
  for (const sampleRate of [8_000, 11_025, 22_050, 44_100, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000]) {
    put(`rate-${sampleRate}.wav`, wav({ sampleRate, channels: 2, format: 's24', frames: Math.round(sampleRate * 0.75), sample: sine(sampleRate, 440) }), `${sampleRate} Hz`, null);
  }
  for (let channels = 1; channels <= 8; channels++) {
    put(`channels-${channels}.wav`, wav({ sampleRate: 48_000, channels, format: 's16', frames: 36_000, sample: sine(48_000) }), `${channels} channel(s)`, null);
  }
  put('one-sample.wav', wav({ sampleRate: 48_000, channels: 1, format: 's16', frames: 1, sample: () => 0.5 }), 'a single sample', null);
  put('denormal.wav', wav({ sampleRate: 48_000, channels: 2, format: 'f32', frames: 48_000, sample: (i) => (i % 2 ? 1e-41 : -3e-39) }), 'denormal floats only', null);
  put('dc.wav', wav({ sampleRate: 48_000, channels: 2, format: 's24', frames: 48_000, sample: () => 0.5 }), 'DC only (half scale)', null);
  put('square.wav', wav({ sampleRate: 44_100, channels: 2, format: 's16', frames: 44_100, sample: (i) => (Math.floor(i / 50) % 2 ? 1 : -1) }), 'full-scale square wave', null);
  // Non-finite samples are measured around and reported as a QC finding (the render replaces them).
  put('nan-inf.wav', wav({ sampleRate: 48_000, channels: 2, format: 'f32', frames: 48_000, sample: (i, c) => (i === 1000 + c ? NaN : i === 2000 ? Infinity : i === 3000 ? -Infinity : 0.25 * Math.sin(i / 20)) }), 'float WAV with NaN, +Inf, -Inf samples', null);
  out[out.length - 1]!.qc = 'non-finite';
  put('silence.wav', wav({ sampleRate: 48_000, channels: 2, format: 's16', frames: 48_000, sample: () => 0 }), 'digital silence', null);
  put('over-full-scale.wav', wav({ sampleRate: 48_000, channels: 2, format: 'f32', frames: 48_000, sample: (i) => 4 * Math.sin(i / 10) }), 'float at +12 dBFS', null);
  put('short-header-lie.wav', wav({ sampleRate: 48_000, channels: 2, format: 's16', frames: 48_000, sample: music, declaredDataBytes: 4 * 12_000 }), 'header declares less data than present', null);
  put('streamed-size.wav', wav({ sampleRate: 48_000, channels: 2, format: 's16', frames: 48_000, sample: music, declaredDataBytes: 0xffffffff }), 'data size 0xFFFFFFFF (streamed)', null);

  // -- extension lies about the format (ffmpeg reads the content, so these are accepted)
  const base = put('base.wav', wav({ sampleRate: 44_100, channels: 2, format: 's16', frames: 66_150, sample: sine(44_100) }), 'reference for encodes', null);
  ffmpeg(['-i', base, '-c:a', 'flac', '-f', 'flac', join(dir, 'flac-named.wav')]);
  out.push({ name: 'flac-named.wav', file: join(dir, 'flac-named.wav'), what: 'FLAC named .wav', refusal: null });
  ffmpeg(['-i', base, '-c:a', 'pcm_s16le', '-f', 'wav', join(dir, 'wav-named.mp3')]);
  out.push({ name: 'wav-named.mp3', file: join(dir, 'wav-named.mp3'), what: 'WAV named .mp3', refusal: null });

  // -- broken: each must be refused, naming the problem
  put('zero-length.wav', Buffer.alloc(0), 'zero bytes', /file is empty \(0 bytes\)$/);
  put('not-audio.wav', 'Dear client, the master is attached.\n'.repeat(40), 'text named .wav', /not an audio file ffmpeg can read/);
  put('random-bytes.wav', Buffer.from(Array.from({ length: 8192 }, () => rng.int(0, 255))), 'random bytes named .wav', /not an audio file ffmpeg can read/);
  put('header-only.wav', wav({ sampleRate: 48_000, channels: 2, format: 's16', frames: 0, sample: () => 0 }), 'header, no data', /contains no audio samples|not an audio file ffmpeg can read/);
  const full = wav({ sampleRate: 48_000, channels: 2, format: 's24', frames: 48_000, sample: music });
  put('truncated-mid-frame.wav', full.subarray(0, 44 + 6 * 20_000 + 4), 'WAV cut mid-frame', /file is truncated/);
  put('header-lies-long.wav', wav({ sampleRate: 48_000, channels: 2, format: 's16', frames: 12_000, sample: music, declaredDataBytes: 4 * 480_000 }), 'header promises 10 s, holds 0.25 s', /file is truncated: its header promises 10\.00 s of audio, the file holds 0\.25 s$/);
  const zeroChannels = Buffer.from(full.subarray(0, 44 + 6000));
  zeroChannels.writeUInt16LE(0, 22);
  put('zero-channels.wav', zeroChannels, 'header says 0 channels', /not an audio file ffmpeg can read|no valid sample rate or channel count/);
  const zeroRate = Buffer.from(full.subarray(0, 44 + 6000));
  zeroRate.writeUInt32LE(0, 24);
  put('zero-rate.wav', zeroRate, 'header says 0 Hz', /not an audio file ffmpeg can read|no valid sample rate or channel count/);

  // Compressed files cut short.
  const flac = join(dir, 'whole.flac');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4:sample_rate=44100', '-ac', '2', flac]);
  const flacBytes = readFileSync(flac);
  put('truncated.flac', flacBytes.subarray(0, Math.floor(flacBytes.length / 3)), 'FLAC cut to a third', /file is truncated/);
  const mp3 = join(dir, 'whole.mp3');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4:sample_rate=44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', mp3]);
  const mp3Bytes = readFileSync(mp3);
  put('truncated.mp3', mp3Bytes.subarray(0, Math.floor(mp3Bytes.length / 3)), 'MP3 cut to a third', /file is truncated/);
  put('mp3-header-only.mp3', mp3Bytes.subarray(0, 600), 'MP3 cut to its first frame', /file is truncated|contains no audio samples|not an audio file ffmpeg can read|corrupt audio data/);
  return out;
}

/** Chain documents that must be refused, each with the field the message must name. */
export function hostileChains(valid: () => Record<string, any>): { name: string; text: string; field: RegExp }[] {
  const edit = (f: (c: Record<string, any>) => void) => {
    const c = valid();
    f(c);
    return JSON.stringify(c);
  };
  return [
    { name: 'ceiling above 0 dBTP', text: edit((c) => (c.limiter.ceilingDbtp = 3)), field: /limiter\.ceilingDbtp: 3 dBTP is outside -24…0 dBTP/ },
    { name: 'ratio as text', text: edit((c) => (c.compressor.band.ratio = '4')), field: /compressor\.band\.ratio: must be a number, got "4"/ },
    { name: 'gain NaN via null', text: edit((c) => (c.eq.inputGainDb = null)), field: /eq\.inputGainDb: must be a number/ },
    { name: 'huge exponent', text: edit((c) => (c.eq.peaks[2].gainDb = 1e308)), field: /eq\.peaks\[2\]\.gainDb: .* is outside/ },
    { name: 'Infinity as a string', text: edit((c) => (c.limiter.releaseMs = 'Infinity')), field: /limiter\.releaseMs: must be a number/ },
    { name: 'negative frequency', text: edit((c) => (c.eq.highPass.freqHz = -20)), field: /eq\.highPass\.freqHz: -20 Hz is outside/ },
    { name: 'enabled as 1', text: edit((c) => (c.eq.enabled = 1)), field: /eq\.enabled: must be true or false/ },
    { name: 'five peaks', text: edit((c) => c.eq.peaks.push(c.eq.peaks[0])), field: /eq\.peaks: must be a list of 4/ },
    { name: 'peaks as an object', text: edit((c) => (c.eq.peaks = { 0: c.eq.peaks[0] })), field: /eq\.peaks: must be a list of 4/ },
    { name: 'dither 12 bits', text: edit((c) => (c.dither.bits = 12)), field: /dither\.bits: must be one of 16, 24, got 12/ },
    { name: 'crossovers descending', text: edit((c) => (c.compressor.crossoversHz = [4000, 150])), field: /compressor\.crossoversHz: must be ascending/ },
    { name: 'crossover as text', text: edit((c) => (c.compressor.crossoversHz = ['150', 4000])), field: /compressor\.crossoversHz\[0\]: must be a frequency/ },
    { name: 'future version', text: edit((c) => (c.version = 99)), field: /version: 99 is not supported/ },
    { name: 'another schema', text: edit((c) => (c.schema = 'evil.chain')), field: /schema: must be "lathe\.chain"/ },
    { name: 'a stage missing', text: edit((c) => delete c.limiter), field: /limiter: must be an object/ },
    { name: 'a list, not a chain', text: '[1,2,3]', field: /chain: must be an object/ },
    { name: 'not JSON', text: '{"schema": "lathe.chain", ', field: /not valid JSON/ },
    { name: 'empty file', text: '', field: /not valid JSON/ },
    { name: '__proto__ smuggling a stage', text: `{"__proto__": ${JSON.stringify(valid())}}`, field: /schema: must be "lathe\.chain"/ },
    { name: 'constructor key with a bad stage', text: edit((c) => ((c.constructor = { prototype: { polluted: true } } as never), (c.delay.feedback = 2))), field: /delay\.feedback: 2 is outside 0…0\.95/ },
  ];
}
