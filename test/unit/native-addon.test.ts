// The native-dsp addon as JavaScript sees it: argument validation with typed errors, results
// independent of how the stream is split into blocks, and loading in worker threads.
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import dsp from '#native-dsp';
import { musicLike, toneSequence } from '../helpers/signals.js';

const stereo = ['FL', 'FR'];

function analyse(planes: Float32Array[], block: number, sampleRate = 48_000) {
  const h = dsp.analyzerCreate({ sampleRate, channelNames: stereo });
  for (let i = 0; i < planes[0]!.length; i += block) {
    dsp.analyzerProcess(h, planes.map((p) => p.subarray(i, i + block)));
  }
  return dsp.analyzerFinish(h);
}

describe('native-dsp addon', () => {
  it('reports its version', () => {
    expect(dsp.version()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects bad arguments with typed errors instead of crashing', () => {
    const cases: [() => unknown, string, RegExp][] = [
      [() => dsp.analyzerCreate(undefined as never), 'LATHE_DSP_TYPE', /options must be an object/],
      [() => dsp.analyzerCreate({ sampleRate: 'fast' as never, channelNames: stereo }), 'LATHE_DSP_TYPE', /sampleRate must be a number/],
      [() => dsp.analyzerCreate({ sampleRate: 1000, channelNames: stereo }), 'LATHE_DSP_RANGE', /sample rate 1000 Hz is outside/],
      [() => dsp.analyzerCreate({ sampleRate: 48_000, channelNames: [] }), 'LATHE_DSP_RANGE', /channel count 0/],
      [() => dsp.analyzerCreate({ sampleRate: NaN, channelNames: stereo }), 'LATHE_DSP_RANGE', /must be finite/],
      [() => dsp.analyzerProcess({} as never, []), 'LATHE_DSP_TYPE', /handle must be a handle created by this addon/],
      [() => dsp.deinterleave(new Uint8Array(6), 2), 'LATHE_DSP_RANGE', /not a whole number of 2-channel float frames/],
      [() => dsp.deinterleave(new Float32Array(4) as never, 2), 'LATHE_DSP_TYPE', /Uint8Array or Buffer/],
      [() => dsp.interleave([]), 'LATHE_DSP_RANGE', /1 to \d+ channels, got 0/],
      [() => dsp.interleave([new Float32Array(3), new Float32Array(2)]), 'LATHE_DSP_RANGE', /same length/],
      [() => dsp.interleave([new Uint8Array(4) as never]), 'LATHE_DSP_TYPE', /Float32Array/],
    ];
    for (const [call, code, message] of cases) {
      let error: (Error & { code?: string }) | undefined;
      try {
        call();
      } catch (e) {
        error = e as Error & { code?: string };
      }
      expect(error, String(message)).toBeInstanceOf(Error);
      expect(error!.code).toBe(code);
      expect(error!.message).toMatch(message);
    }
  });

  it('rejects planes of unequal length or the wrong channel count, and use after finish', () => {
    const h = dsp.analyzerCreate({ sampleRate: 48_000, channelNames: stereo });
    expect(() => dsp.analyzerProcess(h, [new Float32Array(10)])).toThrow(/expected 2 channel planes, got 1/);
    expect(() => dsp.analyzerProcess(h, [new Float32Array(10), new Float32Array(9)])).toThrow(/planes must have equal lengths/);
    dsp.analyzerFinish(h);
    expect(() => dsp.analyzerProcess(h, [new Float32Array(1), new Float32Array(1)])).toThrow(/already been finished/);
  });

  it('gives identical results whatever the block size', () => {
    const planes = musicLike(48_000, 8, 5);
    const reference = analyse(planes, 4096);
    for (const block of [1, 7, 64, 48_000]) {
      const r = analyse(planes, block);
      expect(r).toEqual(reference);
    }
  });

  it('measures the same on one thread as on two', () => {
    const planes = musicLike(44_100, 10, 8);
    const one = dsp.analyzerCreate({ sampleRate: 44_100, channelNames: stereo, threads: 1 });
    dsp.analyzerProcess(one, planes);
    expect(dsp.analyzerFinish(one)).toEqual(analyse(planes, 4096, 44_100));
  });

  it('deinterleaves f32le bytes into planes, and the interleaved path measures the same', () => {
    const [l, r] = musicLike(44_100, 3, 2);
    const inter = new Float32Array(l.length * 2);
    for (let i = 0; i < l.length; i++) {
      inter[2 * i] = l[i]!;
      inter[2 * i + 1] = r[i]!;
    }
    const bytes = new Uint8Array(inter.buffer);
    const planes = dsp.deinterleave(bytes, 2);
    expect(planes[0]).toEqual(l);
    expect(planes[1]).toEqual(r);
    const a = dsp.analyzerCreate({ sampleRate: 44_100, channelNames: stereo });
    // An odd split: Buffer slices need not be 4-byte aligned in memory.
    const buf = Buffer.concat([Buffer.alloc(1), Buffer.from(bytes)]).subarray(1);
    dsp.analyzerProcessInterleaved(a, buf.subarray(0, 8 * 1001));
    dsp.analyzerProcessInterleaved(a, buf.subarray(8 * 1001));
    expect(dsp.analyzerFinish(a)).toEqual(analyse([l, r], 999, 44_100));
  });

  it('interleaves planes into f32le frames, the exact inverse of deinterleave', () => {
    const planes = [...musicLike(44_100, 1, 3), musicLike(44_100, 1, 4)[0]];
    const bytes = dsp.interleave(planes);
    // A slow reference: frame by frame, channel by channel, little-endian.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(bytes.length).toBe(planes[0]!.length * 3 * 4);
    for (let i = 0; i < planes[0]!.length; i += 97) for (let c = 0; c < 3; c++) expect(view.getFloat32((i * 3 + c) * 4, true)).toBe(planes[c]![i]);
    expect(dsp.deinterleave(bytes, 3)).toEqual(planes);
    expect(dsp.interleave([new Float32Array(0)])).toHaveLength(0);
  });

  it('loads and measures inside worker threads', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(({ default: dsp }) => {
        const x = new Float32Array(48000 * 5);
        for (let i = 0; i < x.length; i++) x[i] = 10 ** (-23 / 20) * Math.sin(2 * Math.PI * 1000 * i / 48000);
        const h = dsp.analyzerCreate({ sampleRate: 48000, channelNames: ['FL', 'FR'] });
        dsp.analyzerProcess(h, [x, x]);
        parentPort.postMessage(dsp.analyzerFinish(h).loudness.integratedLufs);
      });`;
    const url = new URL('../../native-dsp/index.js', import.meta.url).href;
    const results = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<number>((resolve, reject) => {
            const w = new Worker(code, { eval: true, workerData: { url } });
            w.once('message', (m: number) => {
              resolve(m);
              void w.terminate();
            });
            w.once('error', reject);
          }),
      ),
    );
    for (const lufs of results) expect(Math.abs(lufs - -23)).toBeLessThanOrEqual(0.1);
  });

  it('measures the 1 kHz reference tone in the main thread too', () => {
    const x = toneSequence(48_000, [[-23, 10]]);
    expect(Math.abs(analyse([x, x], 4096).loudness.integratedLufs! - -23)).toBeLessThanOrEqual(0.1);
  });
});
