// `lathe match` on synthesised material with known answers: a target made by filtering a
// reference with a known EQ is matched back (every 1/3-octave band 20 Hz–16 kHz within 0.5 dB);
// amount 0 changes nothing; a blend of two references lands between them; the EQ bounds hold;
// width moves to the reference's on mid/side material; the profile cache is used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultChain, type ChainDocument } from '../../main/core/chain/document.js';
import { lathe, scratchDir } from '../helpers/cli.js';
import { musicLike, Rng } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('match');
const at = (n: string) => join(scratch.dir, n);
afterAll(() => scratch.cleanup());
const env = { LATHE_CACHE_DIR: at('cache') };

type Bands = { hz: number; db: number | null }[];
interface Analysis {
  loudness: { integratedLufs: number; loudnessRangeLu: number; truePeakDbtp: number };
  spectrum: { thirdOctave: Bands };
  stereo: { bands: { hz: number; sideToMidDb: number | null }[] };
}
const analyse = (file: string): Analysis => {
  const r = lathe(['analyze', file, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};
/** Each band relative to the 100 Hz–8 kHz mean (the match is of shape; loudness is separate). */
const shape = (bands: Bands) => {
  const mid = bands.filter((b) => b.db !== null && b.hz >= 100 && b.hz <= 8000);
  const level = mid.reduce((s, b) => s + b.db!, 0) / mid.length;
  return new Map(bands.map((b) => [b.hz, b.db === null ? null : b.db - level]));
};
const render = (input: string, chain: ChainDocument, out: string) => {
  const file = `${out}.chain.json`;
  writeFileSync(file, JSON.stringify(chain));
  const r = lathe(['render', input, '--chain', file, '--out', out, '--bits', '24']);
  expect(r.status, r.stderr).toBe(0);
  return out;
};
const eqOnly = (edit: (c: ChainDocument) => void): ChainDocument => {
  const c = defaultChain();
  c.eq.highPass.enabled = false;
  c.limiter.enabled = false;
  edit(c);
  return c;
};

let reference = '';
beforeAll(() => {
  const [l, r] = musicLike(44_100, 20, 31);
  for (const p of [l, r]) for (let i = 0; i < p.length; i++) p[i]! *= 0.5;
  reference = writeWav(at('reference.wav'), [l, r], 44_100, 'pcm24');
});

describe('lathe match', () => {
  it('matches a target made with a known EQ back to its reference within 0.5 dB per band', () => {
    const known = eqOnly((c) => {
      c.eq.lowShelf = { enabled: true, freqHz: 150, q: 0.707, gainDb: -4 };
      c.eq.peaks[1] = { enabled: true, freqHz: 2500, q: 1.2, gainDb: 5 };
      c.eq.highShelf = { enabled: true, freqHz: 9000, q: 0.707, gainDb: -3 };
    });
    const target = render(reference, known, at('known-eq.wav'));
    const r = lathe(['match', target, '--reference', reference, '--amount', 'dynamics=0,width=0', '--out', at('matched.wav'), '--chain-out', at('matched.chain.json'), '--json'], env);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const ref = shape(analyse(reference).spectrum.thirdOctave);
    const got = shape(analyse(at('matched.wav')).spectrum.thirdOctave);
    const before = shape(analyse(target).spectrum.thirdOctave);
    let worstBefore = 0;
    for (const [hz, want] of ref) {
      if (hz < 20 || hz > 16_000 || want === null) continue;
      expect(Math.abs(got.get(hz)! - want), `${hz} Hz`).toBeLessThanOrEqual(0.5);
      worstBefore = Math.max(worstBefore, Math.abs(before.get(hz)! - want));
    }
    expect(worstBefore).toBeGreaterThan(4);
    // The loudness follows the reference's; the ceiling holds; the chain is an ordinary one.
    expect(Math.abs(out.output.integratedLufs - analyse(reference).loudness.integratedLufs)).toBeLessThanOrEqual(0.1);
    expect(out.output.truePeakDbtp).toBeLessThanOrEqual(-1);
    expect(JSON.parse(readFileSync(at('matched.chain.json'), 'utf8')).schema).toBe('lathe.chain');
    expect(existsSync(at('matched.report.html'))).toBe(true);
    expect(readdirSync(scratch.dir).filter((f) => f.includes('partial') || f.startsWith('.lathe-match-'))).toEqual([]);
    // The curves for the UI: the applied EQ close to the known EQ's inverse at 2.5 kHz.
    const i = out.curves.hz.indexOf(2500);
    expect(out.curves.appliedEq[i]).toBeLessThan(-4);
  });

  it('amount 0 is a no-op: no EQ, no compression, no width, the loudness kept', () => {
    const target = render(reference, eqOnly((c) => (c.eq.peaks[0] = { enabled: true, freqHz: 300, q: 1, gainDb: 6 })), at('boomy.wav'));
    const r = lathe(['match', target, '--reference', reference, '--amount', 'tone=0,loudness=0,dynamics=0,width=0', '--out', at('same.wav'), '--json'], env);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const eq = out.chain.eq;
    for (const b of [eq.lowShelf, ...eq.peaks, eq.highShelf]) expect(b.enabled).toBe(false);
    expect(out.chain.compressor.enabled).toBe(false);
    expect(out.chain.imager.enabled).toBe(false);
    expect(Math.abs(out.output.integratedLufs - out.target.integratedLufs)).toBeLessThanOrEqual(0.1);
    const a = shape(analyse(target).spectrum.thirdOctave);
    const b = shape(analyse(at('same.wav')).spectrum.thirdOctave);
    for (const [hz, v] of a) if (hz >= 31.5 && hz <= 16_000 && v !== null) expect(Math.abs(b.get(hz)! - v), `${hz} Hz`).toBeLessThanOrEqual(0.1);
  });

  it('a blend of a bright and a dark reference lands between them; the EQ bounds hold', () => {
    const bright = render(reference, eqOnly((c) => (c.eq.highShelf = { enabled: true, freqHz: 4000, q: 0.707, gainDb: 8 })), at('bright.wav'));
    const dark = render(reference, eqOnly((c) => (c.eq.highShelf = { enabled: true, freqHz: 4000, q: 0.707, gainDb: -8 })), at('dark.wav'));
    const plan = (refs: string[]) => {
      const r = lathe(['match', reference, ...refs.flatMap((f) => ['--reference', f]), '--max-eq', '6', '--json'], env);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const toBright = plan([bright]);
    const toDark = plan([dark]);
    const both = plan([`${bright}:1`, `${dark}:1`]);
    const i = toBright.curves.hz.indexOf(10_000);
    expect(toBright.curves.appliedEq[i]).toBeGreaterThan(4);
    expect(toDark.curves.appliedEq[i]).toBeLessThan(-4);
    expect(both.curves.appliedEq[i]).toBeGreaterThan(toDark.curves.appliedEq[i]);
    expect(both.curves.appliedEq[i]).toBeLessThan(toBright.curves.appliedEq[i]);
    expect(Math.abs(both.curves.appliedEq[i])).toBeLessThan(2);
    // ±6 dB asked for: no band's gain beyond it, and the curve within it (plus the shelves'
    // overlap of at most a dB).
    for (const p of [toBright, toDark]) {
      const eq = p.chain.eq;
      for (const b of [eq.lowShelf, ...eq.peaks, eq.highShelf]) expect(Math.abs(b.gainDb)).toBeLessThanOrEqual(6);
      for (const d of p.curves.desired) expect(Math.abs(d)).toBeLessThanOrEqual(6);
    }
    // The second and third runs found the references in the profile cache.
    expect(both.references.every((r: { cached: boolean }) => r.cached)).toBe(true);
  });

  it('moves a narrow mix to a wide reference’s side-to-mid ratio with the imager', () => {
    const fs = 44_100;
    const rng = new Rng(9);
    const mk = (sideGain: number) => {
      const l = new Float32Array(fs * 12);
      const r = new Float32Array(fs * 12);
      for (let i = 0; i < l.length; i++) {
        const m = 0.2 * rng.uniform();
        const s = sideGain * 0.2 * rng.uniform();
        l[i] = m + s;
        r[i] = m - s;
      }
      return [l, r];
    };
    const narrow = writeWav(at("narrow.wav"), mk(0.3), fs, "pcm24");
    const wide = writeWav(at('wide.wav'), mk(0.5), fs, 'pcm24');
    const r = lathe(['match', narrow, '--reference', wide, '--amount', 'tone=0,dynamics=0', '--out', at('widened.wav'), '--json'], env);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.chain.imager.enabled).toBe(true);
    const sm = (file: string) => {
      const b = analyse(file).stereo.bands.filter((x) => x.hz >= 250 && x.hz <= 3150 && x.sideToMidDb !== null);
      return b.reduce((s, x) => s + x.sideToMidDb!, 0) / b.length;
    };
    expect(sm(narrow)).toBeLessThan(sm(wide) - 4);
    expect(Math.abs(sm(at('widened.wav')) - sm(wide))).toBeLessThanOrEqual(1);
  });

  it('refuses bad usage with exit 2', () => {
    expect(lathe(['match', reference]).status).toBe(2);
    expect(lathe(['match', reference, '--reference', reference, '--amount', 'tone=2']).status).toBe(2);
    expect(lathe(['match', reference, '--reference', reference, '--out', at('x.mp3')]).status).toBe(2);
  });
});
