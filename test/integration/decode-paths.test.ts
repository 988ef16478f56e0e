// The two ways decoded audio reaches the analyser (native reads of ffmpeg's pipe on Unix, and
// JavaScript streams elsewhere) measure exactly the same; progress is reported and a cancelled
// analysis stops its ffmpeg and leaves nothing behind.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dsp from '#native-dsp';
import { analyzeFile, shapeResult } from '../../main/core/analysis/analyze.js';
import { decodeInterleaved } from '../../main/core/media/decode.js';
import { probeFile } from '../../main/core/media/probe.js';
import { scratchDir } from '../helpers/cli.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('paths');
afterAll(() => scratch.cleanup());
const decodeLogs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('lathe-ffmpeg-'));

describe('decode paths', () => {
  it('the pipe read natively and the JavaScript stream give identical analyses', async () => {
    const [l, r] = musicLike(48_000, 20, 11);
    const file = writeWav(join(scratch.dir, 'paths.wav'), [l, r], 48_000, 'pcm24');
    const viaPipe = await analyzeFile(file);
    const probe = await probeFile(file);
    const handle = dsp.analyzerCreate({ sampleRate: probe.sampleRate, channelNames: probe.channelNames });
    for await (const chunk of decodeInterleaved(probe)) dsp.analyzerProcessInterleaved(handle, chunk);
    const viaStream = shapeResult(probe, dsp.analyzerFinish(handle));
    expect(viaPipe).toEqual(viaStream);
  });

  it('reports progress up to the end', async () => {
    const [l, r] = musicLike(44_100, 30, 12);
    const file = writeWav(join(scratch.dir, 'progress.wav'), [l, r], 44_100, 'pcm16');
    const seen: number[] = [];
    await analyzeFile(file, { onProgress: (f) => seen.push(f) });
    expect(seen.length).toBeGreaterThan(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBeCloseTo(1, 3);
  });

  it('a cancelled analysis rejects with CANCELLED and leaves no decoder log behind', async () => {
    const [l, r] = musicLike(44_100, 60, 13);
    const file = writeWav(join(scratch.dir, 'cancel.wav'), [l, r], 44_100, 'pcm16');
    // A private temporary directory for this run (os.tmpdir() reads TMPDIR on every call), so
    // that other test files creating and removing their own logs meanwhile cannot disturb it.
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = join(scratch.dir, 'tmp');
    mkdirSync(process.env.TMPDIR);
    const controller = new AbortController();
    let logsWhileRunning = 0;
    const run = analyzeFile(file, {
      signal: controller.signal,
      onProgress: (f) => {
        logsWhileRunning = Math.max(logsWhileRunning, decodeLogs().length);
        if (f > 0.2) controller.abort();
      },
    });
    try {
      await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(logsWhileRunning).toBe(1);
      expect(decodeLogs()).toEqual([]);
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
  });
});
