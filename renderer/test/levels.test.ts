// Level matching and platform normalisation: gains in dB from loudness differences (loudness is
// linear in gain: a source 6 LU louder needs −6 dB to match).
import { describe, expect, it } from 'vitest';
import { dbToGain, matchedGains, platformGain } from '../src/state/levels.js';

describe('level matching', () => {
  it('turns every source down to the quietest one', () => {
    expect(matchedGains({ A: -20, B: -14, R: -9 })).toEqual({ A: 0, B: -6, R: -11 });
    expect(matchedGains({ A: -12.5, B: -18.25 })).toEqual({ A: -5.75, B: 0, R: 0 });
  });

  it('leaves sources alone when fewer than two are measured, and ignores unmeasured ones', () => {
    expect(matchedGains({ A: -20 })).toEqual({ A: 0, B: 0, R: 0 });
    expect(matchedGains({ A: -20, B: null, R: -10 })).toEqual({ A: 0, B: 0, R: -10 });
  });

  it('converts dB to amplitude', () => {
    expect(dbToGain(-6.0206)).toBeCloseTo(0.5, 4);
    expect(dbToGain(0)).toBe(1);
  });
});

describe('hearing a platform', () => {
  it('turns a loud master down to the platform reference', () => {
    expect(platformGain(-8, -0.5, -14, -1)).toBeCloseTo(-6, 10);
  });
  it('turns a quiet master up only as far as its true-peak headroom allows', () => {
    // −20 LUFS to −14 wants +6 dB, but a −3 dBTP peak may rise only 2 dB to a −1 dBTP ceiling.
    expect(platformGain(-20, -3, -14, -1)).toBeCloseTo(2, 10);
    expect(platformGain(-20, -10, -14, -1)).toBeCloseTo(6, 10);
    // Already over the ceiling: no gain up at all.
    expect(platformGain(-20, 0.5, -14, -1)).toBe(0);
  });
  it('follows the platform’s rule: down only never turns up, none never touches the level', () => {
    expect(platformGain(-20, -10, -14, -1, 'down-only')).toBe(0);
    expect(platformGain(-8, -1, -14, -1, 'down-only')).toBeCloseTo(-6, 10);
    expect(platformGain(-8, -1, -14, -1, 'none')).toBe(0);
  });
  it('does nothing without a measurement or a platform loudness', () => {
    expect(platformGain(null, -1, -14, -1)).toBe(0);
    expect(platformGain(-10, -1, null, -1)).toBe(0);
  });
});
