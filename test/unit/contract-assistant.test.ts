// The assistant's channels: a proposal as the engine answers it passes; a confidence outside 0–1,
// a move without its reason, a variation that is not a valid chain, or the model's raw outputs
// leaking onto the wire are refused by field; the request's profile and target are bounded.
import { describe, expect, it } from 'vitest';
import { invoke } from '../../preload/contract.js';
import { defaultChain } from '../../main/core/chain/document.js';
import { refusal } from '../helpers/contract.js';

const chain = defaultChain();
const proposal = () => ({
  chain,
  summary: 'lathe-assistant 1.0.0 (ridge): 0 moves applied, 1 suggested only',
  model: { name: 'lathe-assistant', version: '1.0.0', architecture: 'ridge' },
  parameters: [{ id: 'lowShelf100', path: 'eq.lowShelf.gainDb', value: -0.3, unit: 'dB', confidence: 0.23, autoApply: false, reason: 'low shelf at 100 Hz −0.3 dB: …', userLean: { delta: 0.5, count: 2 } }],
  style: { suggested: 'pop', probability: 0.88, lowConfidence: true, testAccuracy: 0.5, applied: null },
  loudness: { measuredLufs: -8.3, expectedAfterCorrectionLufs: -8.3, targetLufs: null, limiterInputGainDb: 0 },
  variations: { gentle: chain, balanced: chain, loud: chain },
});

describe('contract: the assistant', () => {
  it('accepts a proposal and bounded requests', () => {
    expect(invoke['assistant:propose'].response.parse(proposal())).toEqual(proposal());
    expect(invoke['assistant:propose'].request.parse({ profile: 'pop', targetLufs: -14 })).toEqual({ profile: 'pop', targetLufs: -14 });
    expect(invoke['assistant:resetHabits'].request.parse({})).toEqual({});
  });

  it('refuses bad proposals and requests by field', () => {
    const conf = proposal();
    conf.parameters[0]!.confidence = 1.2;
    expect(refusal(() => invoke['assistant:propose'].response.parse(conf)).path).toBe('payload.parameters[0].confidence');
    const { reason: _reason, ...noReason } = proposal().parameters[0]!;
    expect(refusal(() => invoke['assistant:propose'].response.parse({ ...proposal(), parameters: [noReason] })).path).toBe('payload.parameters[0].reason');
    const raw = { ...proposal(), parameters: [{ ...proposal().parameters[0]!, model: { value: -0.3, sigma: 3.4 } }] };
    expect(refusal(() => invoke['assistant:propose'].response.parse(raw)).path).toBe('payload.parameters[0].model');
    const badVariation = { ...proposal(), variations: { ...proposal().variations, loud: { ...chain, limiter: { ...chain.limiter, ceilingDbtp: 5 } } } };
    expect(refusal(() => invoke['assistant:propose'].response.parse(badVariation)).path).toMatch(/^payload\.variations\.loud\.limiter/);
    expect(refusal(() => invoke['assistant:propose'].request.parse({ targetLufs: 3 })).path).toBe('payload.targetLufs');
    expect(refusal(() => invoke['assistant:resetHabits'].request.parse({ profile: 'x'.repeat(65) })).path).toBe('payload.profile');
  });
});
