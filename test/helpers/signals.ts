// Test signals, synthesised the way EBU Tech 3341/3342 describe theirs, and music-like material
// for cross-checks. Deterministic (xorshift PRNG with a fixed seed).

export const dbToAmp = (db: number) => 10 ** (db / 20);

export class Rng {
  private s: bigint;
  constructor(seed: number) {
    // Distinct seeds give distinct streams (an odd state is all xorshift needs).
    this.s = BigInt(seed) * 2n + 1n;
  }
  /** Uniform in [-1, 1). */
  uniform(): number {
    let x = this.s;
    x ^= x >> 12n;
    x ^= (x << 25n) & 0xffffffffffffffffn;
    x ^= x >> 27n;
    this.s = x;
    const r = (x * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn;
    return Number(r >> 11n) / 2 ** 52 - 1;
  }
}

/** A 1 kHz sine sequence of (dBFS peak or null for silence, seconds) segments. */
export function toneSequence(sampleRate: number, segments: [number | null, number][], hz = 1000): Float32Array {
  const total = segments.reduce((n, [, s]) => n + Math.round(s * sampleRate), 0);
  const out = new Float32Array(total);
  let i = 0;
  for (const [db, seconds] of segments) {
    const n = Math.round(seconds * sampleRate);
    const a = db === null ? 0 : dbToAmp(db);
    for (let k = 0; k < n; k++, i++) out[i] = a * Math.sin((2 * Math.PI * hz * i) / sampleRate);
  }
  return out;
}

/**
 * Music-like stereo material: pink-ish noise with a slow loudness envelope and transients, a
 * bass line and a few partials, partly correlated between channels. Level in dBFS RMS-ish.
 */
export function musicLike(sampleRate: number, seconds: number, seed = 1): [Float32Array, Float32Array] {
  const n = Math.round(seconds * sampleRate);
  const rng = new Rng(seed);
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  // Paul Kellet's economy pink filter state, per channel.
  const pink = [new Float64Array(3), new Float64Array(3)];
  const pinkStep = (s: Float64Array, w: number) => {
    s[0] = 0.99765 * s[0]! + w * 0.099046;
    s[1] = 0.963 * s[1]! + w * 0.2965164;
    s[2] = 0.57 * s[2]! + w * 1.0526913;
    return s[0]! + s[1]! + s[2]! + w * 0.1848;
  };
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const common = rng.uniform();
    const env = 0.08 * (1.2 + Math.sin(2 * Math.PI * 0.13 * t)) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 0.031 * t));
    const beat = t % 0.5;
    const kick = beat < 0.12 ? Math.exp(-beat * 30) * Math.sin(2 * Math.PI * (55 + 80 * Math.exp(-beat * 40)) * beat) : 0;
    const bass = 0.15 * Math.sin(2 * Math.PI * 55 * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 0.5 * t));
    const tones = 0.05 * (Math.sin(2 * Math.PI * 440 * t) + 0.5 * Math.sin(2 * Math.PI * 1320 * t + 1) + 0.3 * Math.sin(2 * Math.PI * 3520 * t));
    const nl = pinkStep(pink[0]!, 0.7 * common + 0.3 * rng.uniform());
    const nr = pinkStep(pink[1]!, 0.7 * common + 0.3 * rng.uniform());
    left[i] = env * nl + 0.5 * kick + bass + tones;
    right[i] = env * nr + 0.5 * kick + bass + 0.8 * tones;
  }
  return [left, right];
}
