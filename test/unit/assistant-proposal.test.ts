// The assistant's proposal on synthesised audio: a strong, known imbalance is corrected in the
// right direction by roughly the right amount; the chain is valid and holds only confident moves;
// variations and a profile's loudness are applied; the user's remembered edits lean later proposals
// toward them, and can be seen and reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dsp from '#native-dsp';
import { defaultChain, validateChain, type ChainDocument } from '../../main/core/chain/document.js';
import { AssistantModel } from '../../main/core/assistant/model.js';
import { analysePlanes } from '../../main/core/assistant/features.js';
import { proposeFromAnalysis, rememberEdits } from '../../main/core/assistant/assist.js';
import { readAdjustments, resetAdjustments } from '../../main/core/assistant/adjustments.js';
import { referenceSignal } from '../../main/core/assistant/reference-signal.js';
import type { Proposal } from '../../main/core/assistant/propose.js';

const SR = 48_000;
const scratch = mkdtempSync(join(tmpdir(), 'lathe-assistant-proposal-'));
const store = join(scratch, 'adjustments.json');
let model: AssistantModel;
const clean = referenceSignal(SR, 12, 11);

function render(planes: Float32Array[], chain: ChainDocument): Float32Array[] {
  const h = dsp.chainCreate({ sampleRate: SR, channels: planes.length, chain });
  const parts = [dsp.chainRender(h, planes), dsp.chainFinish(h)];
  return planes.map((p, c) => {
    const out = new Float32Array(p.length);
    out.set(parts[0]![c]!, 0);
    out.set(parts[1]![c]!, parts[0]![c]!.length);
    return out;
  });
}

function degrade(edit: (c: ChainDocument) => void): Float32Array[] {
  const chain = defaultChain();
  chain.eq.highPass.enabled = false;
  chain.limiter.enabled = false;
  edit(chain);
  return render(clean, validateChain(chain));
}

const propose = (planes: Float32Array[], extra: Parameters<typeof proposeFromAnalysis>[1] = {}) =>
  proposeFromAnalysis(analysePlanes(planes, SR), { model, adjustmentsPath: store, ...extra });
const modelValue = (p: Proposal, id: string) => p.parameters.find((q) => q.id === id)!.model.value;

let base: Proposal;
beforeAll(async () => {
  model = await AssistantModel.load();
  base = await propose(clean);
});
afterAll(async () => {
  await model.release();
  rmSync(scratch, { recursive: true, force: true });
});

describe('assistant proposal', () => {
  it('answers a +6 dB low shelf with a cut of roughly 6 dB', async () => {
    const p = await propose(degrade((c) => (c.eq.lowShelf = { enabled: true, freqHz: 100, q: 0.707, gainDb: 6 })));
    const move = modelValue(p, 'lowShelf100') - modelValue(base, 'lowShelf100');
    expect(move).toBeLessThan(-3.5);
    expect(move).toBeGreaterThan(-9);
    expect(p.parameters.find((q) => q.id === 'lowShelf100')!.reason).toMatch(/low shelf at 100 Hz −\d+\.\d dB: 31\.5 Hz–125 Hz is \d+\.\d dB above the corpus-average balance/);
  });

  it('answers a −6 dB high shelf with a boost of roughly 6 dB', async () => {
    const p = await propose(degrade((c) => (c.eq.highShelf = { enabled: true, freqHz: 8000, q: 0.707, gainDb: -6 })));
    const move = modelValue(p, 'highShelf8k') - modelValue(base, 'highShelf8k');
    expect(move).toBeGreaterThan(3.5);
    expect(move).toBeLessThan(9);
  });

  it('answers a narrowed image by widening it', async () => {
    const p = await propose(degrade((c) => Object.assign(c.imager, { enabled: true, width: 0.5 })));
    expect(modelValue(p, 'width') - modelValue(base, 'width')).toBeGreaterThan(0.4);
  });

  it('answers a level drop of 8 dB with a gain of roughly 8 dB', async () => {
    const p = await propose(degrade((c) => (c.eq.inputGainDb = -8)));
    const move = modelValue(p, 'level') - modelValue(base, 'level');
    expect(move).toBeGreaterThan(6);
    expect(move).toBeLessThan(10);
  });

  it('gives a valid chain holding only the confident moves, with reasons and confidences', () => {
    expect(validateChain(JSON.parse(JSON.stringify(base.chain)))).toEqual(base.chain);
    for (const q of base.parameters) {
      expect(q.confidence).toBeGreaterThanOrEqual(0);
      expect(q.confidence).toBeLessThanOrEqual(1);
      expect(q.autoApply).toBe(q.confidence >= model.card.autoApplyConfidence);
      expect(q.reason.length).toBeGreaterThan(20);
    }
    const ls = base.parameters.find((q) => q.id === 'lowShelf100')!;
    expect(base.chain.eq.lowShelf.enabled ? base.chain.eq.lowShelf.gainDb : 0).toBeCloseTo(ls.autoApply ? ls.value : 0, 1);
    for (const v of Object.values(base.variations)) expect(() => validateChain(v)).not.toThrow();
    expect(base.variations.loud.compressor.enabled).toBe(true);
    expect(base.variations.gentle.limiter.inputGainDb).toBeCloseTo(base.chain.limiter.inputGainDb - 2, 5);
  });

  it("aims the limiter at a profile's loudness", async () => {
    const p = await propose(clean, { profile: 'classical' });
    expect(p.style.applied).toBe('classical');
    expect(p.loudness.targetLufs).toBe(-18);
    expect(p.loudness.expectedAfterCorrectionLufs + p.loudness.limiterInputGainDb).toBeCloseTo(-18, 1);
    expect(Object.values(p.style.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
  });

  it("leans toward the user's remembered edits, per profile, and forgets them on reset", async () => {
    const first = await propose(clean, { profile: 'pop' });
    const user = structuredClone(first.chain);
    user.eq.highShelf = { enabled: true, freqHz: 8000, q: 0.707, gainDb: modelValue(first, 'highShelf8k') + 3 };
    for (let i = 0; i < 3; i++) rememberEdits(first, user, store);
    const doc = readAdjustments(store);
    expect(doc.profiles.pop?.highShelf8k?.count).toBe(3);
    expect(doc.profiles.pop?.highShelf8k?.meanDelta).toBeCloseTo(3, 1);
    expect(readdirSync(scratch).filter((f) => f.endsWith('.partial'))).toEqual([]);
    const later = await propose(clean, { profile: 'pop' });
    const hs = later.parameters.find((q) => q.id === 'highShelf8k')!;
    expect(hs.userLean?.count).toBe(3);
    expect(hs.value - modelValue(later, 'highShelf8k')).toBeCloseTo(1.5, 1); // 3 dB × 3/(3+3)
    // Another profile is unaffected.
    const rock = await propose(clean, { profile: 'rock' });
    expect(rock.parameters.find((q) => q.id === 'highShelf8k')!.userLean).toBeUndefined();
    resetAdjustments('pop', store);
    expect(readAdjustments(store).profiles.pop).toBeUndefined();
    resetAdjustments(undefined, store);
    expect(existsSync(store)).toBe(false);
    expect(JSON.parse(JSON.stringify(readAdjustments(store)))).toEqual({ schema: 'lathe.assistant-adjustments', version: 1, profiles: {} });
    void readFileSync;
  });
});
