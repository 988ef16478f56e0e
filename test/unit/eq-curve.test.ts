// The EQ curve the UI draws comes from the coefficients the render uses: a single bell's curve
// matches the RBJ peaking filter's analytic magnitude.
import { describe, expect, it } from 'vitest';
import dsp from '#native-dsp';
import { defaultChain } from '../../main/core/chain/document.js';

/** |H(e^jw)| in dB of the RBJ cookbook peaking EQ, computed here independently. */
function rbjPeakingDb(fs: number, f0: number, q: number, gainDb: number, f: number): number {
  const A = 10 ** (gainDb / 40);
  const w0 = (2 * Math.PI * f0) / fs;
  const alpha = Math.sin(w0) / (2 * q);
  const [b0, b1, b2] = [1 + alpha * A, -2 * Math.cos(w0), 1 - alpha * A];
  const [a0, a1, a2] = [1 + alpha / A, -2 * Math.cos(w0), 1 - alpha / A];
  const w = (2 * Math.PI * f) / fs;
  const mag = (c0: number, c1: number, c2: number) => Math.hypot(c0 + c1 * Math.cos(w) + c2 * Math.cos(2 * w), c1 * Math.sin(w) + c2 * Math.sin(2 * w));
  return 20 * Math.log10(mag(b0, b1, b2) / mag(a0, a1, a2));
}

describe('eqCurve', () => {
  it('draws a bell exactly as the RBJ formula says', () => {
    const chain = defaultChain();
    chain.eq.highPass.enabled = false;
    chain.eq.peaks[2] = { enabled: true, freqHz: 2500, q: 1.4, gainDb: -4.5 };
    const frequencies = Float32Array.from([20, 100, 1000, 2000, 2500, 3000, 8000, 16000]);
    const curve = dsp.eqCurve({ sampleRate: 48_000, chain, frequencies });
    frequencies.forEach((f, i) => {
      expect(curve[i]!).toBeCloseTo(rbjPeakingDb(48_000, 2500, 1.4, -4.5, f), 4);
    });
  });
});
