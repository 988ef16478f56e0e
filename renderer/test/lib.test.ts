// Chain paths (the assistant's naming), fader mappings and the number formats of the meters.
import { describe, expect, it } from 'vitest';
import { defaultChain, validateChain } from '../../main/core/chain/document.js';
import { getAt, setAt, splitPath } from '../src/lib/paths.js';
import { PARAMS, fromFader, paramByPath, roundToStep, toFader } from '../src/lib/parameters.js';
import { num, signed, time } from '../src/lib/format.js';

describe('chain paths', () => {
  it('reads and writes by path without touching the original', () => {
    const chain = defaultChain();
    expect(splitPath('eq.peaks[2].gainDb')).toEqual(['eq', 'peaks', 2, 'gainDb']);
    expect(getAt(chain, 'compressor.crossoversHz[1]')).toBe(4000);
    const next = setAt(chain, 'eq.peaks[2].gainDb', -3);
    expect(next.eq.peaks[2].gainDb).toBe(-3);
    expect(chain.eq.peaks[2].gainDb).toBe(0);
    expect(() => setAt(chain, 'eq.nothing', 1)).toThrow(/no eq\.nothing/);
  });

  it('names every table row after a real chain field, within the validator’s range', () => {
    const chain = defaultChain();
    for (const def of PARAMS) {
      const value = getAt(chain, def.path);
      expect(value, def.path).not.toBeUndefined();
      if (def.kind === 'number') {
        // Both ends of every fader are accepted by the chain validator.
        for (const end of [def.min!, def.max!]) {
          // Crossover pairs must also stay in order, which a single fader end cannot promise.
          if (/crossover/i.test(def.path)) continue;
          expect(() => validateChain(setAt(chain, def.path, end)), `${def.path} = ${end}`).not.toThrow();
        }
      }
    }
    expect(paramByPath.get('eq.peaks[1].gainDb')?.unit).toBe('dB');
  });
});

describe('faders', () => {
  it('moves frequencies on a log scale: the middle is the geometric mean', () => {
    const f = paramByPath.get('eq.highPass.freqHz')!;
    expect(toFader(f, 10)).toBe(0);
    expect(toFader(f, 24_000)).toBeCloseTo(1, 12);
    expect(fromFader(f, 0.5)).toBe(Math.round(Math.sqrt(10 * 24_000)));
  });
  it('moves gains linearly, rounded to the step and clamped', () => {
    const g = paramByPath.get('eq.inputGainDb')!;
    expect(fromFader(g, 0.5)).toBe(0);
    expect(fromFader(g, 0.75)).toBe(12);
    expect(roundToStep(g, 3.14159)).toBe(3.1);
    expect(roundToStep(g, 99)).toBe(24);
  });
});

describe('formats', () => {
  it('writes a real minus sign, a sign for gains, and — for nothing', () => {
    expect(num(-14.04)).toBe('−14.0');
    expect(num(null)).toBe('—');
    expect(signed(2.25, 1, 'dB')).toBe('+2.3\u2009dB');
    expect(signed(-0.01)).toBe('±0.0');
    expect(time(75.25)).toBe('1:15.3');
  });
});
