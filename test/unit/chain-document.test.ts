// The chain document: the default validates, every kind of mistake is refused with the field's
// path and the reason.
import { describe, expect, it } from 'vitest';
import { ChainError, defaultChain, parseChain, validateChain } from '../../main/core/chain/document.js';

function expectRefused(mutate: (d: any) => void, field: string, reason: RegExp) {
  const d = JSON.parse(JSON.stringify(defaultChain()));
  mutate(d);
  let error: unknown;
  try {
    validateChain(d);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ChainError);
  expect((error as ChainError).field).toBe(field);
  expect((error as ChainError).reason).toMatch(reason);
}

describe('chain document', () => {
  it('the default chain validates and round-trips through JSON', () => {
    const d = defaultChain();
    expect(validateChain(JSON.parse(JSON.stringify(d)))).toEqual(d);
  });

  it('refuses out-of-range values, wrong types, unknown options and other versions, naming the field', () => {
    expectRefused((d) => (d.eq.peaks[2].gainDb = 40), 'eq.peaks[2].gainDb', /40 dB is outside -24…24 dB/);
    expectRefused((d) => (d.limiter.ceilingDbtp = '−1'), 'limiter.ceilingDbtp', /must be a number/);
    expectRefused((d) => (d.compressor.mode = 'five-band'), 'compressor.mode', /must be one of "single", "three-band"/);
    expectRefused((d) => (d.dither.bits = 20), 'dither.bits', /must be one of 16, 24/);
    expectRefused((d) => (d.compressor.crossoversHz = [4000, 150]), 'compressor.crossoversHz', /ascending/);
    expectRefused((d) => delete d.reverb, 'reverb', /must be an object/);
    expectRefused((d) => (d.eq.peaks = d.eq.peaks.slice(0, 3)), 'eq.peaks', /list of 4/);
    expectRefused((d) => (d.version = 2), 'version', /not supported/);
    expectRefused((d) => (d.schema = 'something.else'), 'schema', /lathe\.chain/);
    expectRefused((d) => (d.imager.lowCrossoverHz = 5000), 'imager.lowCrossoverHz', /below imager\.highCrossoverHz/);
  });

  it('says where JSON text is broken', () => {
    expect(() => parseChain('{ "schema": ', 'mine.json')).toThrow(/mine\.json: not valid JSON/);
  });
});
