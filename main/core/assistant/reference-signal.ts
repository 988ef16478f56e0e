// A deterministic, music-like stereo test signal (pink-ish noise with a loudness envelope, a kick,
// a bass line and partials). The feature-regression fixture is computed from it by
// models/training/evaluate.mjs, and the tests recompute it, so a change in the native analyser or in
// feature extraction shows up as a changed feature vector. Not on any hot path: it runs only in
// training tools and tests.

/** xorshift32 → uniform [-1, 1). */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

export function referenceSignal(sampleRate: number, seconds: number, seed = 7): [Float32Array, Float32Array] {
  const n = Math.round(seconds * sampleRate);
  const rnd = xorshift(seed);
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  const pink = [new Float64Array(3), new Float64Array(3)];
  const pinkStep = (s: Float64Array, w: number) => {
    s[0] = 0.99765 * s[0]! + w * 0.099046;
    s[1] = 0.963 * s[1]! + w * 0.2965164;
    s[2] = 0.57 * s[2]! + w * 1.0526913;
    return s[0]! + s[1]! + s[2]! + w * 0.1848;
  };
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const common = rnd();
    const env = 0.09 * (1.2 + Math.sin(2 * Math.PI * 0.13 * t)) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 0.031 * t));
    const beat = t % 0.5;
    const kick = beat < 0.12 ? Math.exp(-beat * 30) * Math.sin(2 * Math.PI * (55 + 80 * Math.exp(-beat * 40)) * beat) : 0;
    const bass = 0.12 * Math.sin(2 * Math.PI * 55 * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 0.5 * t));
    const tones = 0.05 * (Math.sin(2 * Math.PI * 440 * t) + 0.5 * Math.sin(2 * Math.PI * 1320 * t + 1) + 0.3 * Math.sin(2 * Math.PI * 3520 * t));
    const nl = pinkStep(pink[0]!, 0.7 * common + 0.3 * rnd());
    const nr = pinkStep(pink[1]!, 0.7 * common + 0.3 * rnd());
    left[i] = env * nl + 0.45 * kick + bass + tones;
    right[i] = env * nr + 0.45 * kick + bass + 0.8 * tones;
  }
  return [left, right];
}
