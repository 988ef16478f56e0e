// Jobs in worker threads: progress, results, cancellation. The preview window is what a full
// render gives for that region; a newer preview cancels the older; a cancelled export leaves no
// file, and the main thread is free while jobs run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultChain } from '../../main/core/chain/document.js';
import { JobPool } from '../../main/core/jobs/pool.js';
import { probeFile } from '../../main/core/media/probe.js';
import { scratchDir } from '../helpers/cli.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('jobs');
const at = (n: string) => join(scratch.dir, n);
const fs = 48_000;
let pool: JobPool;
let input: string;

beforeAll(async () => {
  pool = new JobPool(2);
  input = writeWav(at('mix.wav'), musicLike(fs, 20, 7), fs, 'float32');
  await pool.ready();
});
afterAll(async () => {
  await pool.close();
  scratch.cleanup();
});

const samples = (wav: Buffer) => new Float32Array(new Uint8Array(wav.subarray(58)).buffer);

describe('job pool', () => {
  it('runs an analysis in a worker with progress', async () => {
    const progress: number[] = [];
    const job = pool.run('analysis', { file: input, includeSpectrogram: false }, { onProgress: (f) => progress.push(f) });
    const r = await job.result;
    expect(r.format.frames).toBe(20 * fs);
    expect(progress.length).toBeGreaterThan(0);
    expect(Math.max(...progress)).toBeLessThanOrEqual(1);
  });

  it('renders the window around the playhead as the full render has it, then the whole track', async () => {
    const probe = await probeFile(input);
    const { cacheFile, frames } = await pool.run('decode', { probe, cacheFile: at('cache.f32') }).result;
    expect(frames).toBe(20 * fs);
    const chain = defaultChain();
    chain.compressor.enabled = true;
    chain.limiter.inputGainDb = 6;
    let window: any;
    const full = await pool.run('preview', { cacheFile, sampleRate: fs, channels: 2, frames, chain, playheadSeconds: 12, windowSeconds: 6, windowFile: at('w.wav'), fullFile: at('f.wav') }, { onPartial: (v) => (window = v) }).result;
    expect(window).toMatchObject({ region: 'window', startSeconds: 9, endSeconds: 15 });
    expect(full).toMatchObject({ region: 'full', startSeconds: 0, endSeconds: 20 });
    const w = samples(readFileSync(at('w.wav')));
    const f = samples(readFileSync(at('f.wav')));
    expect(f.length).toBe(frames * 2);
    expect(w.length).toBe(6 * fs * 2);
    // After the pre-roll the chain has settled: the window matches the full render closely
    // (the compressor's and limiter's envelopes converge; allow −60 dB of residual difference).
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < w.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(w[i]! - f[9 * fs * 2 + i]!));
      maxAbs = Math.max(maxAbs, Math.abs(w[i]!));
    }
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(maxDiff).toBeLessThan(1e-3);
  });

  it('a newer preview cancels the older one', async () => {
    const probe = await probeFile(input);
    const { cacheFile, frames } = await pool.run('decode', { probe, cacheFile: at('cache2.f32') }).result;
    const params = (n: number) => ({ cacheFile, sampleRate: fs, channels: 2, frames, chain: defaultChain(), playheadSeconds: 5, windowSeconds: 10, windowFile: at(`w${n}.wav`), fullFile: at(`f${n}.wav`) });
    const older = pool.run('preview', params(1));
    let first = false;
    const newer = pool.run('preview', params(2), { onPartial: () => (first = true) });
    older.cancel();
    await expect(older.result).rejects.toMatchObject({ code: 'CANCELLED' });
    await newer.result;
    expect(first).toBe(true);
    expect(readdirSync(scratch.dir).filter((f) => f.startsWith('f1.wav'))).toEqual([]);
  });

  it('a cancelled export leaves no file behind', async () => {
    const out = at('export');
    const job = pool.run('export', { input, targetIds: ['spotify', 'ebu-r128'], profileId: null, chain: defaultChain(), codecChecks: 'full', maxLimitingDb: 6, outDir: out, appVersion: 'test' }, {});
    await new Promise((r) => setTimeout(r, 400));
    expect(job.cancel()).toBe(true);
    await expect(job.result).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(readdirSync(out)).toEqual([]);
  });

  it('a failing job says why, with the engine\'s code', async () => {
    await expect(pool.run('analysis', { file: at('missing.wav'), includeSpectrogram: false }).result).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: expect.stringMatching(/missing\.wav: file not found/) });
  });

  it('cancelling a queued job never starts it', async () => {
    const small = new JobPool(1);
    try {
      const busy = small.run('analysis', { file: input, includeSpectrogram: false });
      const queued = small.run('analysis', { file: input, includeSpectrogram: false });
      let started = false;
      const third = small.run('analysis', { file: input, includeSpectrogram: false }, { onStart: () => (started = true) });
      expect(third.cancel()).toBe(true);
      await expect(third.result).rejects.toMatchObject({ code: 'CANCELLED' });
      await Promise.all([busy.result, queued.result]);
      expect(started).toBe(false);
    } finally {
      await small.close();
    }
  });
});
