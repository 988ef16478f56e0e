// Randomised (seeded xorshift) calls of every native-dsp entry point that index.d.ts declares,
// with random sizes, rates, channel counts, parameters, block splits and hostile samples (NaN,
// ±Inf, denormals, 1e30): a bad argument is a JS Error with a LATHE_DSP_* code, never a crash or
// a panic; every output is finite (null where undefined, NaN only in the documented series);
// a renderer's state stays bounded (after hostile input, silence in gives silence out).
// LATHE_SOAK=1 runs ten times as many rounds; LATHE_FUZZ_SEED picks another seed.
import { describe, expect, it } from 'vitest';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import dsp from '#native-dsp';
import { defaultChain, validateChain, type ChainDocument } from '../../main/core/chain/document.js';
import { scratchDir } from '../helpers/cli.js';
import { XorShift } from './corpus.js';

const SOAK = process.env.LATHE_SOAK === '1';
const ROUNDS = SOAK ? 400 : 40;
const SEED = Number(process.env.LATHE_FUZZ_SEED ?? 0xf022);

const RATES = [8000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000];
const NAMES = ['FL', 'FR', 'FC', 'LFE', 'BL', 'BR', 'SL', 'SR', 'TFL', 'XX', ''];

/** A JS error from the addon: an Error with one of its codes (or a plain TypeError from V8). */
function expectDspError(call: () => unknown, what: string): void {
  let thrown: unknown;
  try {
    call();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) return; // accepted: the caller checks the result
  expect(thrown, what).toBeInstanceOf(Error);
  const code = (thrown as { code?: string }).code;
  expect(code, `${what}: ${(thrown as Error).message}`).toMatch(/^LATHE_DSP_(TYPE|RANGE|FINISHED|IO)$/);
  expect(code).not.toBe('LATHE_DSP_PANIC');
}

/** Calls and returns the result, or undefined when it threw a proper addon error. */
function attempt<T>(call: () => T, what: string): T | undefined {
  try {
    return call();
  } catch (e) {
    expect(e, what).toBeInstanceOf(Error);
    expect((e as { code?: string }).code, `${what}: ${(e as Error).message}`).toMatch(/^LATHE_DSP_(TYPE|RANGE|FINISHED|IO)$/);
    return undefined;
  }
}

function hostileSamples(rng: XorShift, n: number, kind: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 0:
        x[i] = 0.5 * Math.sin(i * 0.03 * (1 + rng.next())) + 0.1 * (rng.next() - 0.5);
        break;
      case 1:
        x[i] = rng.next() < 0.01 ? rng.pick([NaN, Infinity, -Infinity]) : rng.next() - 0.5;
        break;
      case 2:
        x[i] = (rng.next() < 0.5 ? 1 : -1) * 1e-42;
        break;
      case 3:
        x[i] = (rng.next() - 0.5) * 1e30;
        break;
      case 4:
        x[i] = i % 64 < 32 ? 1 : -1;
        break;
      default:
        x[i] = 0;
    }
  }
  return x;
}

/** Every number in a result: finite, or null; NaN allowed only inside `allowNaN` arrays. */
function expectFinite(value: unknown, path: string, allowNaN: RegExp = /^$/): void {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isNaN(value) && allowNaN.test(path)) return;
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    const arr = value as unknown as ArrayLike<number>;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      if (Number.isNaN(v) && allowNaN.test(path)) continue;
      if (!Number.isFinite(v)) expect.fail(`${path}[${i}] = ${v}`);
    }
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => expectFinite(v, `${path}[${i}]`, allowNaN));
  else for (const [k, v] of Object.entries(value as object)) expectFinite(v, `${path}.${k}`, allowNaN);
}

/** A random chain the document validator accepts: every leaf tried with random values. */
function randomChain(rng: XorShift): ChainDocument {
  const doc = defaultChain() as unknown as Record<string, unknown>;
  const numberCandidates = () => [rng.next() * 60 - 30, 10 * 2400 ** rng.next(), rng.next() * 2, rng.next(), rng.int(1, 20), rng.next() * 500, rng.next() * -80];
  const enums = ['single', 'three-band', 'rms', 'peak', 'max', 'sum', 'unlinked', 'warmth', 'presence', 16, 24, 2, 4, 'auto', null];
  const visit = (o: Record<string, unknown> | unknown[], path: string) => {
    for (const key of Object.keys(o)) {
      const v = (o as Record<string, unknown>)[key];
      if (key === 'schema' || key === 'version') continue;
      if (v && typeof v === 'object') {
        visit(v as Record<string, unknown>, `${path}.${key}`);
        continue;
      }
      const candidates = typeof v === 'boolean' ? [rng.next() < 0.6] : [...numberCandidates(), ...enums];
      for (let t = 0; t < 3; t++) {
        const candidate = rng.pick(candidates as unknown[]);
        (o as Record<string, unknown>)[key] = candidate;
        try {
          validateChain(doc);
          break;
        } catch {
          (o as Record<string, unknown>)[key] = v;
        }
      }
    }
  };
  visit(doc, 'chain');
  return validateChain(doc);
}

/** Random split of n frames into blocks (1 frame … 2 s). */
function blocks(rng: XorShift, n: number, rate: number): number[] {
  const out: number[] = [];
  let left = n;
  while (left > 0) {
    const b = Math.min(left, rng.pick([1, 2, 3, 63, 64, 65, 511, 4096, rng.int(1, rate * 2)]));
    out.push(b);
    left -= b;
  }
  return out;
}

describe('native-dsp under random use', () => {
  it(`analyzer: ${ROUNDS} random rates, layouts, sizes, splits and samples`, () => {
    const rng = new XorShift(SEED);
    for (let round = 0; round < ROUNDS; round++) {
      const rate = rng.next() < 0.1 ? rng.pick([0, -1, 1000, 1e7, NaN, 3.5]) : rng.pick(RATES);
      const channels = rng.int(0, 9);
      const channelNames = Array.from({ length: channels }, () => rng.pick(NAMES));
      const options = { sampleRate: rate, channelNames, spectrogramColumns: rng.pick([undefined, 0, 1, 2, 7, 1024, 1e9]), spectrogramRows: rng.pick([undefined, 0, 1, 160, 1e9]), threads: rng.pick([undefined, 1, 2, 3]), meters: rng.pick([undefined, 'all', 'loudness', 'none']) };
      const h = attempt(() => dsp.analyzerCreate(options as never), `analyzerCreate ${JSON.stringify(options)}`);
      if (!h) continue;
      const frames = rng.pick([0, 1, 2, 17, rng.int(1, rate), rng.int(1, 3 * rate)]);
      const planes = Array.from({ length: channels }, () => hostileSamples(rng, frames, rng.int(0, 5)));
      let pos = 0;
      for (const b of blocks(rng, frames, rate)) {
        const slice = planes.map((p) => p.subarray(pos, pos + b));
        if (rng.next() < 0.5) dsp.analyzerProcess(h, slice);
        else {
          const inter = new Float32Array(b * channels);
          for (let i = 0; i < b; i++) for (let c = 0; c < channels; c++) inter[i * channels + c] = slice[c]![i]!;
          dsp.analyzerProcessInterleaved(h, new Uint8Array(inter.buffer));
        }
        pos += b;
      }
      // Hostile calls on a live handle: wrong channel counts, ragged planes, bytes of half a frame.
      expectDspError(() => dsp.analyzerProcess(h, planes.slice(1)), 'too few planes');
      if (channels > 1) expectDspError(() => dsp.analyzerProcess(h, planes.map((p, i) => p.subarray(0, Math.max(0, p.length - i)))), 'ragged planes');
      expectDspError(() => dsp.analyzerProcessInterleaved(h, new Uint8Array(4 * channels + 3)), 'half a frame');
      const r = dsp.analyzerFinish(h);
      expect(r.frames).toBe(frames);
      expect(r.channels).toBe(channels);
      expectFinite(r, 'analysis', /Series|series/);
      expectDspError(() => dsp.analyzerProcess(h, planes), 'after finish');
      expectDspError(() => dsp.analyzerFinish(h), 'finish twice');
    }
  });

  it(`chain: ${ROUNDS} random chains at random rates and channel counts, random splits, hostile samples`, () => {
    const rng = new XorShift(SEED ^ 0xc4a1);
    let rendered = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const chain = randomChain(rng);
      const sampleRate = rng.pick(RATES);
      const channels = rng.int(1, 8);
      const h = attempt(() => dsp.chainCreate({ sampleRate, channels, chain, seed: rng.int(0, 2 ** 31) }), `chainCreate at ${sampleRate} Hz`);
      if (!h) continue;
      rendered++;
      const info = dsp.chainInfo(h);
      expectFinite(info, 'chainInfo');
      const frames = rng.int(0, Math.floor(sampleRate * 1.5));
      const kind = rng.int(0, 5);
      const planes = Array.from({ length: channels }, () => hostileSamples(rng, frames, kind));
      let out = 0;
      let peak = 0;
      let pos = 0;
      const take = (o: Float32Array[]) => {
        expect(o).toHaveLength(channels);
        out += o[0]!.length;
        for (const p of o)
          for (let i = 0; i < p.length; i++) {
            const v = p[i]!;
            if (!Number.isFinite(v)) expect.fail(`round ${round}: output sample ${v} (input kind ${kind})`);
            peak = Math.max(peak, Math.abs(v));
          }
      };
      for (const b of blocks(rng, frames, sampleRate)) {
        take(dsp.chainRender(h, planes.map((p) => p.subarray(pos, pos + b))));
        pos += b;
      }
      take(dsp.chainFinish(h));
      expect(out, 'as many frames out as in').toBe(frames);
      if (chain.limiter.enabled) {
        // Never above the ceiling's sample value, dither's last bits aside.
        expect(peak, `round ${round}: peak ${peak} over the ${chain.limiter.ceilingDbtp} dBTP ceiling`).toBeLessThanOrEqual(10 ** (chain.limiter.ceilingDbtp / 20) + 1e-3);
      } else {
        // Without a limiter, gain stages may raise a +120 dBFS input (the clamp) by tens of dB:
        // large, still finite and far from f32's limit.
        expect(peak).toBeLessThan(1e12);
      }
      expectDspError(() => dsp.chainRender(h, planes), 'render after finish');
      expectFinite(dsp.chainInfo(h), 'chainInfo after');
    }
    expect(rendered, 'most random chains run').toBeGreaterThan(ROUNDS / 3);
  });

  it('chain state stays bounded: after NaN, Inf and 1e30 bursts, silence in gives silence out', () => {
    const rng = new XorShift(SEED ^ 0xb0b);
    for (let round = 0; round < Math.max(6, ROUNDS / 5); round++) {
      const chain = randomChain(rng);
      chain.reverb.enabled = false;
      chain.delay.enabled = false;
      chain.dither.enabled = false;
      const sampleRate = rng.pick([44_100, 48_000, 96_000]);
      const h = attempt(() => dsp.chainCreate({ sampleRate, channels: 2, chain }), 'chainCreate');
      if (!h) continue;
      const burst = rng.pick([1, 3]);
      dsp.chainRender(h, [hostileSamples(rng, 4800, burst), hostileSamples(rng, 4800, burst)]);
      // Ten seconds of silence: the output decays (a narrow low bell rings on for seconds after a
      // +120 dBFS burst, so "decays" rather than "is zero"), and after NaN and Inf it is silence.
      const peaks: number[] = [];
      for (let i = 0; i < 10; i++) {
        const out = dsp.chainRender(h, [new Float32Array(sampleRate), new Float32Array(sampleRate)]);
        let peak = 0;
        for (const p of out) for (const v of p) peak = Number.isFinite(v) ? Math.max(peak, Math.abs(v)) : Infinity;
        peaks.push(peak);
      }
      expect(peaks.every(Number.isFinite), `round ${round}: ${peaks}`).toBe(true);
      expect(peaks[9]!, `round ${round}: not decaying after burst kind ${burst}: ${peaks}`).toBeLessThanOrEqual(peaks[1]! + 1e-6);
      if (burst === 1) expect(peaks[9]!, `round ${round}: state stuck after NaN/Inf: ${peaks}`).toBeLessThan(1e-3);
    }
  });

  it('eqCurve, target model and deinterleave with random and hostile arguments', () => {
    const rng = new XorShift(SEED ^ 0xe9);
    for (let round = 0; round < ROUNDS; round++) {
      const chain = randomChain(rng);
      const sampleRate = rng.pick([...RATES, 0, NaN, -48_000]);
      const frequencies = Float32Array.from({ length: rng.int(0, 300) }, () => rng.pick([0, -10, NaN, Infinity, 1e9, 20 * 1000 ** rng.next()]));
      const curve = attempt(() => dsp.eqCurve({ sampleRate, chain, frequencies }), 'eqCurve');
      if (curve) {
        expect(curve).toHaveLength(frequencies.length);
        frequencies.forEach((f, i) => {
          if (Number.isFinite(f) && f > 0 && f < sampleRate / 2) expect(Number.isFinite(curve[i]!), `eqCurve at ${f} Hz`).toBe(true);
        });
      }
      const names = Array.from({ length: rng.int(0, 8) }, () => rng.pick(NAMES));
      const model = attempt(() => dsp.targetModelCreate({ sampleRate, channelNames: names }), 'targetModelCreate');
      if (model) {
        let pos = 0;
        const n = rng.int(0, 3 * 48_000);
        const planes = names.map(() => hostileSamples(rng, n, rng.int(0, 5)));
        for (const b of blocks(rng, n, 48_000)) {
          dsp.targetModelProcess(model, planes.map((p) => p.subarray(pos, pos + b)));
          pos += b;
        }
        const limiter = { ceilingDbtp: rng.pick([-1, -24, 0, 5, NaN]), lookaheadMs: rng.pick([3, 0, 100]), releaseMs: rng.pick([100, 0, 1e6]), autoRelease: rng.next() < 0.5, inputGainDb: rng.pick([0, 24, -24, 100, NaN]) };
        const estimate = attempt(() => dsp.targetModelEstimate(model, limiter), `targetModelEstimate ${JSON.stringify(limiter)}`);
        if (estimate) expectFinite(estimate, 'estimate');
      }
      const channels = rng.int(-1, 9);
      const bytes = new Uint8Array(rng.int(0, 4000));
      const planes = attempt(() => dsp.deinterleave(bytes, channels), `deinterleave ${bytes.length} bytes into ${channels}`);
      if (planes) expect(planes.reduce((n, p) => n + p.length, 0) * 4).toBe(bytes.length);
    }
  });

  it('every entry point refuses wrong types and foreign handles with a JS error', () => {
    const analyzer = dsp.analyzerCreate({ sampleRate: 48_000, channelNames: ['FL', 'FR'] });
    const chain = dsp.chainCreate({ sampleRate: 48_000, channels: 2, chain: defaultChain() });
    const model = dsp.targetModelCreate({ sampleRate: 48_000, channelNames: ['FL', 'FR'] });
    const junk: unknown[] = [undefined, null, 0, -1, 2 ** 53, NaN, 'x', {}, [], [null], new Float32Array(3), new Uint8Array(3), () => 0, Symbol('s'), 10n, analyzer, chain, model, { __proto__: { sampleRate: 48_000 } }, JSON.parse('{"__proto__": {"channels": 2}}')];
    const fns = Object.entries(dsp).filter(([, f]) => typeof f === 'function') as [string, (...a: unknown[]) => unknown][];
    expect(fns.map(([n]) => n)).toEqual(expect.arrayContaining(['analyzerCreate', 'analyzerProcess', 'analyzerProcessInterleaved', 'analyzerFinish', 'chainCreate', 'chainRender', 'chainFinish', 'chainInfo', 'eqCurve', 'targetModelCreate', 'targetModelProcess', 'targetModelEstimate', 'deinterleave']));
    const rng = new XorShift(SEED ^ 0x77);
    const safe = new Set(['version']);
    for (const [name, fn] of fns) {
      if (safe.has(name)) continue;
      for (let t = 0; t < 40; t++) {
        const args = Array.from({ length: rng.int(0, 6) }, () => rng.pick(junk));
        // Never hand a pipe function a real descriptor of this process (0–2 are its stdio).
        if (/Fd$|fdClose/.test(name)) for (let i = 0; i < args.length; i++) if (typeof args[i] === 'number' && (args[i] as number) >= 0 && (args[i] as number) < 1024) args[i] = 987_654;
        expectDspError(() => fn(...args), `${name}(${args.map((a) => (typeof a === 'symbol' || typeof a === 'bigint' ? String(a) : typeof a === 'function' ? 'fn' : JSON.stringify(a))).join(', ')})`);
      }
    }
  });

  it('pipe entry points: bad descriptors, half frames and a closed reader are JS errors', () => {
    const { pipeCreate, fdClose, analyzerProcessFd, chainRenderFd, chainFinishFd, demoWriteFd } = dsp;
    if (!pipeCreate || !fdClose || !analyzerProcessFd || !chainRenderFd || !chainFinishFd || !demoWriteFd) return; // Windows
    const scratch = scratchDir('fuzz-fd');
    try {
      const rng = new XorShift(SEED ^ 0xfd);
      for (let round = 0; round < Math.max(8, ROUNDS / 4); round++) {
        const channels = rng.int(1, 4);
        const names = Array.from({ length: channels }, (_, i) => ['FL', 'FR', 'FC', 'LFE'][i]!);
        const analyzer = dsp.analyzerCreate({ sampleRate: 48_000, channelNames: names });
        const chain = dsp.chainCreate({ sampleRate: 48_000, channels, chain: randomChain(rng) });
        // A file holding a random number of bytes: often not a whole frame.
        const file = join(scratch.dir, `in-${round}.f32`);
        const bytes = Buffer.alloc(rng.int(0, 48_000 * 4 * channels));
        for (let i = 0; i + 4 <= bytes.length; i += 4) bytes.writeFloatLE(rng.next() < 0.001 ? NaN : rng.next() - 0.5, i);
        const fd = openSync(file, 'w+');
        writeSync(fd, bytes);
        closeSync(fd);
        const rfd = openSync(file, 'r');
        const out = openSync(join(scratch.dir, `out-${round}.f32`), 'w');
        try {
          let ok = true;
          for (let i = 0; i < 1000 && ok; i++) {
            const n = attempt(() => chainRenderFd(chain, rfd, rng.next() < 0.5 ? out : null, rng.int(1, 70_000), rng.next() < 0.5 ? analyzer : null), 'chainRenderFd');
            if (n === undefined || n === 0) ok = false;
          }
          attempt(() => chainFinishFd(chain, out, null), 'chainFinishFd');
        } finally {
          closeSync(rfd);
          closeSync(out);
        }
        expectDspError(() => analyzerProcessFd(analyzer, 987_654, 4096), 'analyzerProcessFd on a bad descriptor');
        expectDspError(() => chainRenderFd(chain, -1, null, 4096, null), 'chainRenderFd on -1');
        expectDspError(() => analyzerProcessFd(analyzer, 987_654, -5), 'negative maxBytes');
        // Writing into a pipe whose reader has gone: EPIPE, as an error (SIGPIPE is ignored by Node).
        const p = pipeCreate();
        fdClose(p.readFd);
        expectDspError(() => demoWriteFd({ sampleRate: 48_000, seconds: 1, seed: 1 }, p.writeFd), 'demoWriteFd into a closed pipe');
        fdClose(p.writeFd);
        expectDspError(() => fdClose(p.writeFd), 'closing twice');
        expectFinite(dsp.analyzerFinish(analyzer), 'analysis', /Series|series/);
      }
    } finally {
      scratch.cleanup();
      rmSync(scratch.dir, { recursive: true, force: true });
    }
  });
});
