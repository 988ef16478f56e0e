// Mixes with a known imbalance for the assistant's tests: the synthesised reference signal
// (main/core/assistant/reference-signal.ts) rendered through a chain by native-dsp, so the fault
// is exactly one of the assistant's own moves.
import dsp from '#native-dsp';
import { defaultChain, validateChain, type ChainDocument } from '../../main/core/chain/document.js';
import { referenceSignal } from '../../main/core/assistant/reference-signal.js';

/** Planar audio through a chain (the render plus its tail, trimmed to the input's length). */
export function renderThrough(planes: Float32Array[], sampleRate: number, chain: ChainDocument): Float32Array[] {
  const h = dsp.chainCreate({ sampleRate, channels: planes.length, chain });
  const parts = [dsp.chainRender(h, planes), dsp.chainFinish(h)];
  return planes.map((p, c) => {
    const out = new Float32Array(p.length);
    out.set(parts[0]![c]!.subarray(0, p.length), 0);
    if (parts[0]![c]!.length < p.length) out.set(parts[1]![c]!.subarray(0, p.length - parts[0]![c]!.length), parts[0]![c]!.length);
    return out;
  });
}

/** A neutral chain with the high-pass and limiter off, edited to hold the fault. */
export function faultChain(edit: (c: ChainDocument) => void): ChainDocument {
  const chain = defaultChain();
  chain.eq.highPass.enabled = false;
  chain.limiter.enabled = false;
  edit(chain);
  return validateChain(chain);
}

/** The reference signal with a +6 dB low shelf at 100 Hz (the assistant's own filter), 6 dB down. */
export function boomyMix(sampleRate: number, seconds = 10, seed = 3): Float32Array[] {
  const chain = faultChain((c) => {
    c.eq.lowShelf = { enabled: true, freqHz: 100, q: 0.707, gainDb: 6 };
    c.eq.inputGainDb = -6;
  });
  return renderThrough(referenceSignal(sampleRate, seconds, seed), sampleRate, chain);
}
