// The chain document: a versioned JSON description of a mastering chain, shared by the UI, the
// CLI, the assistant and reference matching. `validateChain` accepts a document only when every
// field is the right type and in range, and otherwise names the field and the reason. Stages
// marked `enabled: false` stay in the document (so their settings survive) but are not rendered.

export const CHAIN_SCHEMA = 'lathe.chain';
export const CHAIN_VERSION = 1;

export interface PassBand {
  enabled: boolean;
  freqHz: number;
  /** 2 (12 dB/octave) or 4 (24 dB/octave), Butterworth. */
  order: 2 | 4;
}

export interface GainBand {
  enabled: boolean;
  freqHz: number;
  q: number;
  gainDb: number;
}

export interface CompressorBand {
  thresholdDbfs: number;
  ratio: number;
  attackMs: number;
  releaseMs: number;
  /** dB, or "auto" (a full-scale level comes out at full scale). */
  makeupDb: number | 'auto';
}

export interface ChainDocument {
  schema: typeof CHAIN_SCHEMA;
  version: typeof CHAIN_VERSION;
  /** Free text: where the chain came from (assistant, reference match, preset, the engineer). */
  name?: string;
  eq: {
    enabled: boolean;
    inputGainDb: number;
    highPass: PassBand;
    lowShelf: GainBand;
    peaks: [GainBand, GainBand, GainBand, GainBand];
    highShelf: GainBand;
    lowPass: PassBand;
  };
  compressor: {
    enabled: boolean;
    mode: 'single' | 'three-band';
    kneeDb: number;
    detection: 'rms' | 'peak';
    rmsWindowMs: number;
    /** Side-chain high-pass corner, or null for none. */
    sidechainHighPassHz: number | null;
    link: 'max' | 'sum' | 'unlinked';
    /** The single band (mode "single"). */
    band: CompressorBand;
    /** Low/mid and mid/high crossovers (mode "three-band"). */
    crossoversHz: [number, number];
    bands: [CompressorBand, CompressorBand, CompressorBand];
  };
  imager: {
    enabled: boolean;
    width: number;
    multiband: boolean;
    lowCrossoverHz: number;
    highCrossoverHz: number;
    lowWidth: number;
    midWidth: number;
    highWidth: number;
    /** Side removed below this frequency, or null. */
    monoBelowHz: number | null;
  };
  saturation: {
    enabled: boolean;
    character: 'warmth' | 'presence';
    driveDb: number;
    mix: number;
    presenceHz: number;
  };
  reverb: { enabled: boolean; mix: number; decaySeconds: number; dampingHz: number; preDelayMs: number };
  delay: { enabled: boolean; mix: number; timeMs: number; feedback: number; highCutHz: number; pingPong: boolean };
  limiter: {
    enabled: boolean;
    ceilingDbtp: number;
    lookaheadMs: number;
    releaseMs: number;
    autoRelease: boolean;
    /** Gain into the limiter; loudness targeting sets it. */
    inputGainDb: number;
  };
  dither: { enabled: boolean; bits: 16 | 24; noiseShaping: boolean };
}

const band = (freqHz: number, q = 0.707): GainBand => ({ enabled: false, freqHz, q, gainDb: 0 });
const compBand = (): CompressorBand => ({ thresholdDbfs: -18, ratio: 2, attackMs: 30, releaseMs: 150, makeupDb: 0 });

/** A neutral chain: subsonic high-pass and a true-peak limiter at −1 dBTP, everything else off. */
export function defaultChain(): ChainDocument {
  return {
    schema: CHAIN_SCHEMA,
    version: CHAIN_VERSION,
    eq: {
      enabled: true,
      inputGainDb: 0,
      highPass: { enabled: true, freqHz: 20, order: 2 },
      lowShelf: band(100),
      peaks: [band(250, 1), band(1000, 1), band(3000, 1), band(8000, 1)],
      highShelf: band(10_000),
      lowPass: { enabled: false, freqHz: 20_000, order: 2 },
    },
    compressor: {
      enabled: false,
      mode: 'single',
      kneeDb: 6,
      detection: 'rms',
      rmsWindowMs: 10,
      sidechainHighPassHz: 60,
      link: 'max',
      band: compBand(),
      crossoversHz: [150, 4000],
      bands: [compBand(), compBand(), compBand()],
    },
    imager: {
      enabled: false,
      width: 1,
      multiband: false,
      lowCrossoverHz: 200,
      highCrossoverHz: 4000,
      lowWidth: 1,
      midWidth: 1,
      highWidth: 1,
      monoBelowHz: null,
    },
    saturation: { enabled: false, character: 'warmth', driveDb: 0, mix: 0.5, presenceHz: 6000 },
    reverb: { enabled: false, mix: 0, decaySeconds: 1.5, dampingHz: 6000, preDelayMs: 10 },
    delay: { enabled: false, mix: 0, timeMs: 375, feedback: 0.3, highCutHz: 8000, pingPong: false },
    limiter: { enabled: true, ceilingDbtp: -1, lookaheadMs: 3, releaseMs: 100, autoRelease: true, inputGainDb: 0 },
    dither: { enabled: false, bits: 24, noiseShaping: false },
  };
}

export class ChainError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'ChainError';
  }
}

type Json = unknown;

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ChainError(path, 'must be an object');
  return v as Record<string, Json>;
}

function num(o: Record<string, Json>, key: string, path: string, min: number, max: number, unit = ''): number {
  const v = o[key];
  const at = `${path}.${key}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ChainError(at, `must be a number, got ${JSON.stringify(v) ?? 'nothing'}`);
  if (v < min || v > max) throw new ChainError(at, `${v}${unit} is outside ${min}…${max}${unit}`);
  return v;
}

function bool(o: Record<string, Json>, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new ChainError(`${path}.${key}`, `must be true or false, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

function oneOf<T extends string | number>(o: Record<string, Json>, key: string, path: string, options: readonly T[]): T {
  const v = o[key];
  if (!options.includes(v as T)) throw new ChainError(`${path}.${key}`, `must be one of ${options.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v as T;
}

function nullableNum(o: Record<string, Json>, key: string, path: string, min: number, max: number, unit = ''): number | null {
  return o[key] === null ? null : num(o, key, path, min, max, unit);
}

// Frequencies: the processors refuse corners above 0.49 fs; the document allows up to 24 kHz and
// the render checks the rate it runs at.
const FREQ: [number, number] = [10, 24_000];

function passBand(v: Json, path: string): PassBand {
  const o = obj(v, path);
  return { enabled: bool(o, 'enabled', path), freqHz: num(o, 'freqHz', path, ...FREQ, ' Hz'), order: oneOf(o, 'order', path, [2, 4] as const) };
}

function gainBand(v: Json, path: string): GainBand {
  const o = obj(v, path);
  return {
    enabled: bool(o, 'enabled', path),
    freqHz: num(o, 'freqHz', path, ...FREQ, ' Hz'),
    q: num(o, 'q', path, 0.1, 30),
    gainDb: num(o, 'gainDb', path, -24, 24, ' dB'),
  };
}

function compressorBand(v: Json, path: string): CompressorBand {
  const o = obj(v, path);
  const makeup = o.makeupDb === 'auto' ? 'auto' : num(o, 'makeupDb', path, -24, 24, ' dB');
  return {
    thresholdDbfs: num(o, 'thresholdDbfs', path, -80, 0, ' dBFS'),
    ratio: num(o, 'ratio', path, 1, 20),
    attackMs: num(o, 'attackMs', path, 0, 500, ' ms'),
    releaseMs: num(o, 'releaseMs', path, 1, 5000, ' ms'),
    makeupDb: makeup,
  };
}

function tuple<T>(v: Json, path: string, n: number, item: (x: Json, p: string) => T): T[] {
  if (!Array.isArray(v) || v.length !== n) throw new ChainError(path, `must be a list of ${n}`);
  return v.map((x, i) => item(x, `${path}[${i}]`));
}

/** Checks a parsed JSON value and returns it typed, or throws ChainError naming the field. */
export function validateChain(value: Json): ChainDocument {
  const d = obj(value, 'chain');
  if (d.schema !== CHAIN_SCHEMA) throw new ChainError('schema', `must be "${CHAIN_SCHEMA}", got ${JSON.stringify(d.schema) ?? 'nothing'}`);
  if (d.version !== CHAIN_VERSION) {
    throw new ChainError('version', `${JSON.stringify(d.version)} is not supported (this Lathe reads version ${CHAIN_VERSION})`);
  }
  const eq = obj(d.eq, 'eq');
  const comp = obj(d.compressor, 'compressor');
  const img = obj(d.imager, 'imager');
  const sat = obj(d.saturation, 'saturation');
  const rev = obj(d.reverb, 'reverb');
  const del = obj(d.delay, 'delay');
  const lim = obj(d.limiter, 'limiter');
  const dit = obj(d.dither, 'dither');
  const crossovers = tuple(comp.crossoversHz, 'compressor.crossoversHz', 2, (x, p) => {
    if (typeof x !== 'number' || x < FREQ[0] || x > FREQ[1]) throw new ChainError(p, `must be a frequency from ${FREQ[0]} to ${FREQ[1]} Hz`);
    return x;
  }) as [number, number];
  if (crossovers[0] >= crossovers[1]) throw new ChainError('compressor.crossoversHz', 'must be ascending');
  const doc: ChainDocument = {
    schema: CHAIN_SCHEMA,
    version: CHAIN_VERSION,
    ...(typeof d.name === 'string' ? { name: d.name } : {}),
    eq: {
      enabled: bool(eq, 'enabled', 'eq'),
      inputGainDb: num(eq, 'inputGainDb', 'eq', -24, 24, ' dB'),
      highPass: passBand(eq.highPass, 'eq.highPass'),
      lowShelf: gainBand(eq.lowShelf, 'eq.lowShelf'),
      peaks: tuple(eq.peaks, 'eq.peaks', 4, gainBand) as ChainDocument['eq']['peaks'],
      highShelf: gainBand(eq.highShelf, 'eq.highShelf'),
      lowPass: passBand(eq.lowPass, 'eq.lowPass'),
    },
    compressor: {
      enabled: bool(comp, 'enabled', 'compressor'),
      mode: oneOf(comp, 'mode', 'compressor', ['single', 'three-band'] as const),
      kneeDb: num(comp, 'kneeDb', 'compressor', 0, 24, ' dB'),
      detection: oneOf(comp, 'detection', 'compressor', ['rms', 'peak'] as const),
      rmsWindowMs: num(comp, 'rmsWindowMs', 'compressor', 0.1, 300, ' ms'),
      sidechainHighPassHz: nullableNum(comp, 'sidechainHighPassHz', 'compressor', 10, 2000, ' Hz'),
      link: oneOf(comp, 'link', 'compressor', ['max', 'sum', 'unlinked'] as const),
      band: compressorBand(comp.band, 'compressor.band'),
      crossoversHz: crossovers,
      bands: tuple(comp.bands, 'compressor.bands', 3, compressorBand) as ChainDocument['compressor']['bands'],
    },
    imager: {
      enabled: bool(img, 'enabled', 'imager'),
      width: num(img, 'width', 'imager', 0, 2),
      multiband: bool(img, 'multiband', 'imager'),
      lowCrossoverHz: num(img, 'lowCrossoverHz', 'imager', ...FREQ, ' Hz'),
      highCrossoverHz: num(img, 'highCrossoverHz', 'imager', ...FREQ, ' Hz'),
      lowWidth: num(img, 'lowWidth', 'imager', 0, 2),
      midWidth: num(img, 'midWidth', 'imager', 0, 2),
      highWidth: num(img, 'highWidth', 'imager', 0, 2),
      monoBelowHz: nullableNum(img, 'monoBelowHz', 'imager', 20, 500, ' Hz'),
    },
    saturation: {
      enabled: bool(sat, 'enabled', 'saturation'),
      character: oneOf(sat, 'character', 'saturation', ['warmth', 'presence'] as const),
      driveDb: num(sat, 'driveDb', 'saturation', 0, 24, ' dB'),
      mix: num(sat, 'mix', 'saturation', 0, 1),
      presenceHz: num(sat, 'presenceHz', 'saturation', 500, 20_000, ' Hz'),
    },
    reverb: {
      enabled: bool(rev, 'enabled', 'reverb'),
      mix: num(rev, 'mix', 'reverb', 0, 1),
      decaySeconds: num(rev, 'decaySeconds', 'reverb', 0.1, 20, ' s'),
      dampingHz: num(rev, 'dampingHz', 'reverb', 500, 20_000, ' Hz'),
      preDelayMs: num(rev, 'preDelayMs', 'reverb', 0, 200, ' ms'),
    },
    delay: {
      enabled: bool(del, 'enabled', 'delay'),
      mix: num(del, 'mix', 'delay', 0, 1),
      timeMs: num(del, 'timeMs', 'delay', 1, 2000, ' ms'),
      feedback: num(del, 'feedback', 'delay', 0, 0.95),
      highCutHz: num(del, 'highCutHz', 'delay', 500, 20_000, ' Hz'),
      pingPong: bool(del, 'pingPong', 'delay'),
    },
    limiter: {
      enabled: bool(lim, 'enabled', 'limiter'),
      ceilingDbtp: num(lim, 'ceilingDbtp', 'limiter', -24, 0, ' dBTP'),
      lookaheadMs: num(lim, 'lookaheadMs', 'limiter', 0.5, 20, ' ms'),
      releaseMs: num(lim, 'releaseMs', 'limiter', 1, 2000, ' ms'),
      autoRelease: bool(lim, 'autoRelease', 'limiter'),
      inputGainDb: num(lim, 'inputGainDb', 'limiter', -24, 24, ' dB'),
    },
    dither: {
      enabled: bool(dit, 'enabled', 'dither'),
      bits: oneOf(dit, 'bits', 'dither', [16, 24] as const),
      noiseShaping: bool(dit, 'noiseShaping', 'dither'),
    },
  };
  if (doc.imager.lowCrossoverHz >= doc.imager.highCrossoverHz) throw new ChainError('imager.lowCrossoverHz', 'must be below imager.highCrossoverHz');
  return doc;
}

/** Parses and validates chain JSON text; `source` names the file in errors. */
export function parseChain(text: string, source: string): ChainDocument {
  let value: Json;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ChainError(source, `not valid JSON (${(e as Error).message})`);
  }
  return validateChain(value);
}
