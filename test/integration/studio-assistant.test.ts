// The assistant in the studio (browser mode, through the contract): a proposal for a mix with a
// known +6 dB low-shelf boom runs as a job in a worker and answers every move with a value,
// confidence and reason; the engineer applies it, changes a move, exports, and the assistant
// remembers that change for later proposals; a broken model fails the proposal with a clear
// MODEL_INVALID error and the rest of the studio keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { cardPathFor, defaultModelPath } from '../../main/core/assistant/model.js';
import { scratchDir } from '../helpers/cli.js';
import { nextEvent, startTestStudio, upload, type TestStudio } from '../helpers/studio.js';
import { wavBytes } from '../helpers/wav.js';
import { boomyMix } from '../helpers/assistant-mix.js';

const scratch = scratchDir('studio-assistant');
const habits = join(scratch.dir, 'habits.json');
const SR = 44_100;

const boomyWav = () => wavBytes(boomyMix(SR), SR, 'pcm24');

let t: TestStudio;
beforeAll(async () => {
  t = await startTestStudio(join(scratch.dir, 'a'), { assistantAdjustmentsPath: habits });
  const { fileId } = await upload(t.server, 'boomy.wav', 'boomy.wav', boomyWav());
  const { analysisJobId } = await t.api['track:open']({ fileId });
  await nextEvent(t.api, 'job:done', (p) => p.jobId === analysisJobId);
});
afterAll(async () => {
  await t?.close();
  scratch.cleanup();
});

describe('studio: the assistant', () => {
  it('proposes in a worker job: every move with value, confidence and reason; the boom is cut', async () => {
    const kinds: string[] = [];
    const off = t.api.on('job:progress', (p) => kinds.push(p.kind));
    const p = await t.api['assistant:propose']({});
    off();
    expect(kinds).toContain('assist');
    expect(p.model.name).toBe('lathe-assistant');
    expect(p.parameters.map((q) => q.path)).toEqual(['eq.lowShelf.gainDb', 'eq.peaks[0].gainDb', 'eq.peaks[1].gainDb', 'eq.peaks[2].gainDb', 'eq.highShelf.gainDb', 'imager.width', 'eq.inputGainDb']);
    const low = p.parameters[0]!;
    expect(low.value).toBeLessThan(0);
    expect(low.reason).toMatch(/low shelf at 100 Hz −\d+\.\d dB/);
    for (const q of p.parameters) {
      expect(q.confidence).toBeGreaterThanOrEqual(0);
      expect(q.confidence).toBeLessThanOrEqual(1);
    }
    // Only confident moves are in the chain; the others are suggestions.
    expect(p.chain.eq.lowShelf.enabled ? p.chain.eq.lowShelf.gainDb : 0).toBeCloseTo(low.autoApply ? low.value : 0, 1);
    expect(p.summary).toMatch(/applied/);
    expect(p.variations.balanced).toEqual(p.chain);
    const summary = await t.api['session:get']({});
    expect(summary.dirty).toBe(true);
  });

  it("remembers the engineer's change to an applied proposal once the export succeeds", async () => {
    const p = await t.api['assistant:propose']({ profile: 'pop' });
    expect(p.style.applied).toBe('pop');
    await t.api['chain:set']({ chain: p.chain });
    const edited = structuredClone(p.chain);
    edited.eq.enabled = true;
    edited.eq.highShelf = { enabled: true, freqHz: 8000, q: 0.707, gainDb: (p.chain.eq.highShelf.enabled ? p.chain.eq.highShelf.gainDb : 0) + 3 };
    await t.api['chain:set']({ chain: edited });
    expect(existsSync(habits)).toBe(false);
    const { jobId } = await t.api['export:start']({ settings: { targets: ['spotify'], profile: 'pop', codecChecks: 'none', maxLimitingDb: 6 } });
    await nextEvent(t.api, 'job:done', (e) => e.jobId === jobId, 120_000);
    // The habit is written right after the export's job settles.
    for (let i = 0; i < 50 && !existsSync(habits); i++) await new Promise((r) => setTimeout(r, 100));
    const doc = JSON.parse(readFileSync(habits, 'utf8'));
    expect(doc.profiles.pop.highShelf8k.count).toBe(1);
    const next = await t.api['assistant:propose']({ profile: 'pop' });
    expect(next.parameters.find((q) => q.id === 'highShelf8k')!.userLean?.count).toBe(1);
    expect((await t.api['assistant:resetHabits']({ profile: 'pop' })).reset).toBe(true);
    expect(JSON.parse(readFileSync(habits, 'utf8')).profiles.pop).toBeUndefined();
  });

  it('a broken model fails the proposal with MODEL_INVALID; the studio keeps working', async () => {
    const bad = join(scratch.dir, 'broken.onnx');
    writeFileSync(bad, 'not a model');
    copyFileSync(cardPathFor(defaultModelPath()), cardPathFor(bad));
    const previous = process.env.LATHE_ASSISTANT_MODEL;
    process.env.LATHE_ASSISTANT_MODEL = bad;
    // Worker threads copy the environment when they start: a fresh studio sees the broken model.
    const broken = await startTestStudio(join(scratch.dir, 'b'), { workers: 1 });
    if (previous === undefined) delete process.env.LATHE_ASSISTANT_MODEL;
    else process.env.LATHE_ASSISTANT_MODEL = previous;
    try {
      const { fileId } = await upload(broken.server, 'boomy.wav', 'boomy.wav', boomyWav());
      await broken.api['track:open']({ fileId });
      await expect(broken.api['assistant:propose']({})).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/SHA-256/) });
      expect((await broken.api['chain:get']({})).chain.schema).toBe('lathe.chain');
      const { jobId } = await broken.api['render:start']({ container: 'flac', bits: 16 });
      await nextEvent(broken.api, 'job:done', (e) => e.jobId === jobId);
    } finally {
      await broken.close();
    }
  });
});
