// The studio channels the views use, through browser mode: the demo opens as the track and is
// analysed; its original is served for playback; the EQ curve of a chain reads the bell's gain at
// its centre (by the definition of a peaking filter) and nothing far from it; the analysis of a
// full preview measures the processed sound (a chain that only lowers the level by 6 dB reads
// 6 LU quieter than the original: loudness is linear in gain); a replaced preview is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile } from '../../main/core/analysis/analyze.js';
import { defaultChain } from '../../main/core/chain/document.js';
import { scratchDir } from '../helpers/cli.js';
import { musicLike } from '../helpers/signals.js';
import { nextEvent, startTestStudio, upload, type TestStudio } from '../helpers/studio.js';
import { wavBytes } from '../helpers/wav.js';

const scratch = scratchDir('studio-views');
let t: TestStudio;

beforeAll(async () => {
  t = await startTestStudio(join(scratch.dir, 's'));
});
afterAll(async () => {
  await t?.close();
  scratch.cleanup();
});

describe('studio channels for the views', () => {
  let fileId = '';
  let lastGeneration = 0;
  let processedLufs = 0;

  it('opens the demo mix as the track and analyses it', async () => {
    const ready = nextEvent(t.api, 'analysis:ready');
    const { track } = await t.api['demo:open']({});
    fileId = track.fileId;
    expect(track).toMatchObject({ sampleRate: 48_000, channels: 2 });
    expect(track.durationSeconds).toBeGreaterThan(20);
    const { analysis } = await ready;
    expect(analysis.loudness.integratedLufs).toBeLessThan(-6);
    expect((await t.api['file:list']({})).find((f) => f.fileId === fileId)?.origin).toBe('demo');
    // A second call opens the same file again rather than writing another.
    expect((await t.api['demo:open']({})).track.fileId).toBe(fileId);
  });

  it('serves the original for playback', async () => {
    const media = await t.api['file:media']({ fileId });
    const r = await fetch(`http://127.0.0.1:${t.server.port}${media.url}?token=${t.server.token}`, { headers: { range: 'bytes=0-11' } });
    expect(r.status).toBe(206);
    const head = Buffer.from(await r.arrayBuffer());
    expect(head.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(head.subarray(8, 12).toString('latin1')).toBe('WAVE');
    await expect(t.api['file:media']({ fileId: 'file-nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('gives the EQ curve from the DSP: the bell gain at its centre, flat far away', async () => {
    const chain = defaultChain();
    chain.eq.highPass.enabled = false;
    chain.eq.peaks[1] = { enabled: true, freqHz: 1000, q: 2, gainDb: 6 };
    const { hz, db } = await t.api['eq:curve']({ chain, sampleRate: 48_000, points: 301 });
    expect(hz[0]).toBeCloseTo(20, 6);
    expect(hz[300]).toBeCloseTo(20_000, 3);
    // 301 points over three decades: every 1/100 decade, so 200 Hz is on the grid.
    const at = (f: number) => db[hz.findIndex((h) => Math.abs(Math.log10(h / f)) < 1e-9)]!;
    const grid = (i: number) => 20 * 1000 ** (i / 300);
    expect(grid(100)).toBeCloseTo(200, 6);
    // The analog peaking prototype (RBJ's cookbook): H(s) = (s² + s·A/Q + 1) / (s² + s/(A·Q) + 1), A = 10^(g/40);
    // at 200 Hz (w = 0.2, far below 24 kHz, so the bilinear warp is negligible) it reads ≈ +0.07 dB.
    const A = 10 ** (6 / 40);
    const w = 0.2;
    const analog = 10 * Math.log10(((1 - w * w) ** 2 + (w * A / 2) ** 2) / ((1 - w * w) ** 2 + (w / (A * 2)) ** 2));
    expect(at(200)).toBeCloseTo(analog, 2);
    const iPeak = db.indexOf(Math.max(...db));
    expect(hz[iPeak]! / 1000).toBeGreaterThan(0.97);
    expect(hz[iPeak]! / 1000).toBeLessThan(1.03);
    expect(Math.max(...db)).toBeGreaterThan(5.9);
    expect(Math.max(...db)).toBeLessThanOrEqual(6.0001);
    expect(Math.abs(db[0]!)).toBeLessThan(0.05);
    const flat = await t.api['eq:curve']({ chain: { ...chain, eq: { ...chain.eq, enabled: false } }, sampleRate: 48_000, points: 16 });
    expect(flat.db.every((d) => Math.abs(d) < 1e-6)).toBe(true);
  });

  it('measures a full preview: 6 dB down reads 6 LU quieter', async () => {
    const original = (await t.api['analysis:get']({ fileId }))!;
    const chain = defaultChain();
    chain.eq.highPass.enabled = false;
    chain.eq.inputGainDb = -6;
    chain.limiter.enabled = false;
    const full = nextEvent(t.api, 'preview:ready', (p) => p.region === 'full', 120_000);
    await t.api['chain:set']({ chain });
    const { generation } = await full;
    const processed = await t.api['preview:analysis']({ generation });
    expect(processed.loudness.integratedLufs! - original.loudness.integratedLufs!).toBeCloseTo(-6, 1);
    expect(processed.spectrogram?.columns).toBeGreaterThan(0);
    await expect(t.api['preview:analysis']({ generation: generation + 5 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    lastGeneration = generation;
    processedLufs = processed.loudness.integratedLufs!;
  });

  it('matches to a weighted blend of references: a weight of 0 leaves a reference out', async () => {
    // Two references of different tone: one brighter (first difference added), one darker (smoothed).
    const [l, r] = musicLike(44_100, 8, 5);
    const bright = [l!, r!].map((x) => x.map((v, i) => 1.2 * v + 0.8 * (v - (x[i - 1] ?? 0))));
    const dark = [l!, r!].map((x) => x.map((v, i) => 0.5 * v + 0.5 * (x[i - 1] ?? 0)));
    const a = await upload(t.server, 'bright.wav', 'bright.wav', wavBytes(bright, 44_100, 'pcm24'));
    const b = await upload(t.server, 'dark.wav', 'dark.wav', wavBytes(dark, 44_100, 'pcm24'));
    await t.api['reference:add']({ fileId: a.fileId });
    await t.api['reference:add']({ fileId: b.fileId });
    const onlyA = await t.api['match:reference']({ referenceFileId: a.fileId });
    const onlyB = await t.api['match:reference']({ referenceFileId: b.fileId });
    expect(onlyA.chain).not.toEqual(onlyB.chain);
    const aWithoutB = await t.api['match:reference']({ referenceFileId: a.fileId, blend: [{ fileId: a.fileId, weight: 1 }, { fileId: b.fileId, weight: 0 }] });
    expect(aWithoutB.chain).toEqual(onlyA.chain);
    // Weights are relative: the same reference twice at any weights is that reference.
    const aTwice = await t.api['match:reference']({ referenceFileId: a.fileId, blend: [{ fileId: a.fileId, weight: 0.2 }, { fileId: a.fileId, weight: 0.9 }] });
    expect(aTwice.chain).toEqual(onlyA.chain);
    const both = await t.api['match:reference']({ referenceFileId: a.fileId, blend: [{ fileId: a.fileId, weight: 0.5 }, { fileId: b.fileId, weight: 0.5 }] });
    expect(both.chain).not.toEqual(onlyA.chain);
    expect(both.chain).not.toEqual(onlyB.chain);
    await expect(t.api['match:reference']({ referenceFileId: a.fileId, blend: [{ fileId: a.fileId, weight: 0 }] })).rejects.toMatchObject({ code: 'BAD_PAYLOAD' });
  });

  it('plays a preview through a platform codec: as long as the preview, at its loudness', async () => {
    const codec = await t.api['preview:codec']({ generation: lastGeneration, targetId: 'spotify' });
    expect(codec).toMatchObject({ codec: 'libvorbis', bitrateKbps: 320 });
    const bytes = Buffer.from(await (await fetch(`http://127.0.0.1:${t.server.port}${codec.url}?token=${t.server.token}`)).arrayBuffer());
    const file = join(scratch.dir, 'codec.wav');
    writeFileSync(file, bytes);
    const a = await analyzeFile(file);
    expect(Math.abs(a.format.durationSeconds - 30)).toBeLessThan(0.05);
    // A 320 kbps Vorbis stream keeps the programme loudness to within a few tenths of an LU.
    expect(Math.abs(a.loudness.integratedLufs! - processedLufs)).toBeLessThan(0.3);
    expect(a.format.codec).toBe('pcm_f32le');
    await expect(t.api['preview:codec']({ generation: lastGeneration, targetId: 'cd' })).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    await expect(t.api['preview:codec']({ generation: lastGeneration, targetId: 'no-such-platform' })).rejects.toMatchObject({ code: 'BAD_PAYLOAD' });
    await expect(t.api['preview:codec']({ generation: lastGeneration + 1, targetId: 'spotify' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Only the platform's own file is left beside the previews: the encoded stream was removed.
    expect(readdirSync(join(scratch.dir, 's', 'work', 'previews')).filter((f) => f.includes('.codec.'))).toEqual([`${lastGeneration}-spotify.codec.wav`]);
  });
});
