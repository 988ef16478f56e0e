// Every chain parameter the table shows: where it lives in the chain document, its label, unit
// and range (the chain validator's ranges), grouped by stage in signal order.
export type ParamKind = 'number' | 'toggle' | 'choice' | 'optional-number' | 'auto-number';

export interface ParamDef {
  path: string;
  label: string;
  stage: string;
  kind: ParamKind;
  unit?: string;
  min?: number;
  max?: number;
  step?: number;
  /** Frequencies: the fader moves on a log scale. */
  log?: boolean;
  choices?: readonly (string | number)[];
  /** The value used when an optional parameter is switched on. */
  onValue?: number;
}

export interface StageDef {
  id: string;
  label: string;
  /** The stage's on/off switch. */
  enabledPath: string;
}

export const STAGES: readonly StageDef[] = [
  { id: 'eq', label: 'Input and EQ', enabledPath: 'eq.enabled' },
  { id: 'compressor', label: 'Compressor', enabledPath: 'compressor.enabled' },
  { id: 'imager', label: 'Stereo imager', enabledPath: 'imager.enabled' },
  { id: 'saturation', label: 'Saturation', enabledPath: 'saturation.enabled' },
  { id: 'reverb', label: 'Reverb send', enabledPath: 'reverb.enabled' },
  { id: 'delay', label: 'Delay send', enabledPath: 'delay.enabled' },
  { id: 'limiter', label: 'Limiter', enabledPath: 'limiter.enabled' },
  { id: 'dither', label: 'Dither', enabledPath: 'dither.enabled' },
];

const FREQ = { kind: 'number', unit: 'Hz', min: 10, max: 24_000, step: 1, log: true } as const;
const GAIN = { kind: 'number', unit: 'dB', min: -24, max: 24, step: 0.1 } as const;
const Q = { kind: 'number', min: 0.1, max: 30, step: 0.01, log: true } as const;
const ON = { kind: 'toggle' } as const;
const MIX = { kind: 'number', min: 0, max: 1, step: 0.01 } as const;
const WIDTH = { kind: 'number', unit: '×', min: 0, max: 2, step: 0.01 } as const;

function gainBand(base: string, name: string): ParamDef[] {
  return [
    { path: `${base}.enabled`, label: `${name}: on`, stage: 'eq', ...ON },
    { path: `${base}.freqHz`, label: `${name}: frequency`, stage: 'eq', ...FREQ },
    { path: `${base}.q`, label: `${name}: Q`, stage: 'eq', ...Q },
    { path: `${base}.gainDb`, label: `${name}: gain`, stage: 'eq', ...GAIN },
  ];
}

function compBand(base: string, name: string): ParamDef[] {
  const s = 'compressor';
  return [
    { path: `${base}.thresholdDbfs`, label: `${name}threshold`, stage: s, kind: 'number', unit: 'dBFS', min: -80, max: 0, step: 0.1 },
    { path: `${base}.ratio`, label: `${name}ratio`, stage: s, kind: 'number', unit: ':1', min: 1, max: 20, step: 0.1 },
    { path: `${base}.attackMs`, label: `${name}attack`, stage: s, kind: 'number', unit: 'ms', min: 0, max: 500, step: 0.1 },
    { path: `${base}.releaseMs`, label: `${name}release`, stage: s, kind: 'number', unit: 'ms', min: 1, max: 5000, step: 1, log: true },
    { path: `${base}.makeupDb`, label: `${name}make-up`, stage: s, kind: 'auto-number', unit: 'dB', min: -24, max: 24, step: 0.1 },
  ];
}

export const PARAMS: readonly ParamDef[] = [
  { path: 'eq.inputGainDb', label: 'Input gain', stage: 'eq', ...GAIN },
  { path: 'eq.highPass.enabled', label: 'High-pass: on', stage: 'eq', ...ON },
  { path: 'eq.highPass.freqHz', label: 'High-pass: frequency', stage: 'eq', ...FREQ },
  { path: 'eq.highPass.order', label: 'High-pass: slope (order)', stage: 'eq', kind: 'choice', choices: [2, 4] },
  ...gainBand('eq.lowShelf', 'Low shelf'),
  ...gainBand('eq.peaks[0]', 'Bell 1'),
  ...gainBand('eq.peaks[1]', 'Bell 2'),
  ...gainBand('eq.peaks[2]', 'Bell 3'),
  ...gainBand('eq.peaks[3]', 'Bell 4'),
  ...gainBand('eq.highShelf', 'High shelf'),
  { path: 'eq.lowPass.enabled', label: 'Low-pass: on', stage: 'eq', ...ON },
  { path: 'eq.lowPass.freqHz', label: 'Low-pass: frequency', stage: 'eq', ...FREQ },
  { path: 'eq.lowPass.order', label: 'Low-pass: slope (order)', stage: 'eq', kind: 'choice', choices: [2, 4] },

  { path: 'compressor.mode', label: 'Mode', stage: 'compressor', kind: 'choice', choices: ['single', 'three-band'] },
  { path: 'compressor.detection', label: 'Detection', stage: 'compressor', kind: 'choice', choices: ['rms', 'peak'] },
  { path: 'compressor.link', label: 'Channel link', stage: 'compressor', kind: 'choice', choices: ['max', 'sum', 'unlinked'] },
  { path: 'compressor.kneeDb', label: 'Knee', stage: 'compressor', kind: 'number', unit: 'dB', min: 0, max: 24, step: 0.1 },
  { path: 'compressor.rmsWindowMs', label: 'RMS window', stage: 'compressor', kind: 'number', unit: 'ms', min: 0.1, max: 300, step: 0.1, log: true },
  { path: 'compressor.sidechainHighPassHz', label: 'Side-chain high-pass', stage: 'compressor', kind: 'optional-number', unit: 'Hz', min: 10, max: 2000, step: 1, log: true, onValue: 60 },
  ...compBand('compressor.band', ''),
  { path: 'compressor.crossoversHz[0]', label: 'Crossover low/mid', stage: 'compressor', ...FREQ },
  { path: 'compressor.crossoversHz[1]', label: 'Crossover mid/high', stage: 'compressor', ...FREQ },
  ...compBand('compressor.bands[0]', 'Low band: '),
  ...compBand('compressor.bands[1]', 'Mid band: '),
  ...compBand('compressor.bands[2]', 'High band: '),

  { path: 'imager.width', label: 'Width', stage: 'imager', ...WIDTH },
  { path: 'imager.multiband', label: 'Per band', stage: 'imager', ...ON },
  { path: 'imager.lowCrossoverHz', label: 'Low crossover', stage: 'imager', ...FREQ },
  { path: 'imager.highCrossoverHz', label: 'High crossover', stage: 'imager', ...FREQ },
  { path: 'imager.lowWidth', label: 'Low width', stage: 'imager', ...WIDTH },
  { path: 'imager.midWidth', label: 'Mid width', stage: 'imager', ...WIDTH },
  { path: 'imager.highWidth', label: 'High width', stage: 'imager', ...WIDTH },
  { path: 'imager.monoBelowHz', label: 'Mono below', stage: 'imager', kind: 'optional-number', unit: 'Hz', min: 20, max: 500, step: 1, log: true, onValue: 120 },

  { path: 'saturation.character', label: 'Character', stage: 'saturation', kind: 'choice', choices: ['warmth', 'presence'] },
  { path: 'saturation.driveDb', label: 'Drive', stage: 'saturation', kind: 'number', unit: 'dB', min: 0, max: 24, step: 0.1 },
  { path: 'saturation.mix', label: 'Mix', stage: 'saturation', ...MIX },
  { path: 'saturation.presenceHz', label: 'Presence frequency', stage: 'saturation', kind: 'number', unit: 'Hz', min: 500, max: 20_000, step: 1, log: true },

  { path: 'reverb.mix', label: 'Mix', stage: 'reverb', ...MIX },
  { path: 'reverb.decaySeconds', label: 'Decay', stage: 'reverb', kind: 'number', unit: 's', min: 0.1, max: 20, step: 0.01, log: true },
  { path: 'reverb.dampingHz', label: 'Damping', stage: 'reverb', kind: 'number', unit: 'Hz', min: 500, max: 20_000, step: 1, log: true },
  { path: 'reverb.preDelayMs', label: 'Pre-delay', stage: 'reverb', kind: 'number', unit: 'ms', min: 0, max: 200, step: 0.1 },

  { path: 'delay.mix', label: 'Mix', stage: 'delay', ...MIX },
  { path: 'delay.timeMs', label: 'Time', stage: 'delay', kind: 'number', unit: 'ms', min: 1, max: 2000, step: 1, log: true },
  { path: 'delay.feedback', label: 'Feedback', stage: 'delay', kind: 'number', min: 0, max: 0.95, step: 0.01 },
  { path: 'delay.highCutHz', label: 'High cut', stage: 'delay', kind: 'number', unit: 'Hz', min: 500, max: 20_000, step: 1, log: true },
  { path: 'delay.pingPong', label: 'Ping-pong', stage: 'delay', ...ON },

  { path: 'limiter.inputGainDb', label: 'Gain into limiter', stage: 'limiter', ...GAIN },
  { path: 'limiter.ceilingDbtp', label: 'Ceiling', stage: 'limiter', kind: 'number', unit: 'dBTP', min: -24, max: 0, step: 0.1 },
  { path: 'limiter.lookaheadMs', label: 'Look-ahead', stage: 'limiter', kind: 'number', unit: 'ms', min: 0.5, max: 20, step: 0.1 },
  { path: 'limiter.releaseMs', label: 'Release', stage: 'limiter', kind: 'number', unit: 'ms', min: 1, max: 2000, step: 1, log: true },
  { path: 'limiter.autoRelease', label: 'Auto release', stage: 'limiter', ...ON },

  { path: 'dither.bits', label: 'Bits', stage: 'dither', kind: 'choice', choices: [16, 24] },
  { path: 'dither.noiseShaping', label: 'Noise shaping', stage: 'dither', ...ON },
];

export const paramByPath = new Map(PARAMS.map((p) => [p.path, p]));

/** The fader position (0…1) of a value, and back: linear, or logarithmic for frequencies. */
export function toFader(def: ParamDef, value: number): number {
  const lo = def.min ?? 0;
  const hi = def.max ?? 1;
  if (def.log && lo > 0) return (Math.log(value) - Math.log(lo)) / (Math.log(hi) - Math.log(lo));
  return (value - lo) / (hi - lo);
}

export function fromFader(def: ParamDef, position: number): number {
  const lo = def.min ?? 0;
  const hi = def.max ?? 1;
  const p = Math.min(1, Math.max(0, position));
  const raw = def.log && lo > 0 ? Math.exp(Math.log(lo) + p * (Math.log(hi) - Math.log(lo))) : lo + p * (hi - lo);
  return roundToStep(def, raw);
}

export function roundToStep(def: ParamDef, value: number): number {
  const step = def.step ?? 0.01;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const clamped = Math.min(def.max ?? Infinity, Math.max(def.min ?? -Infinity, value));
  return Number((Math.round(clamped / step) * step).toFixed(decimals));
}
