// Level matching and platform normalisation (pure maths, shared by playback and its tests).
export type Source = 'A' | 'B' | 'R';

/** Gains (dB) that play every measured source at the loudness of the quietest one, so that
 *  louder never wins by accident. Sources without a measurement get 0 dB. */
export function matchedGains(lufs: Partial<Record<Source, number | null>>): Record<Source, number> {
  const known = (Object.entries(lufs) as [Source, number | null | undefined][]).filter((e): e is [Source, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
  const out: Record<Source, number> = { A: 0, B: 0, R: 0 };
  if (known.length < 2) return out;
  const quietest = Math.min(...known.map(([, v]) => v));
  for (const [s, v] of known) out[s] = quietest - v;
  return out;
}

/** What a streaming platform does to playback level: it turns a track to its reference loudness
 *  (down only, up and down, or not at all, as the targets data says); where that means turning up,
 *  only as far as the headroom to its true-peak ceiling allows (no limiter on playback). Returns
 *  the gain in dB. */
export type Normalization = 'down-only' | 'up-and-down' | 'none';

export function platformGain(trackLufs: number | null, trackTruePeakDbtp: number | null, platformLufs: number | null, ceilingDbtp: number, normalization: Normalization = 'up-and-down'): number {
  if (trackLufs === null || platformLufs === null || normalization === 'none') return 0;
  const gain = platformLufs - trackLufs;
  if (gain <= 0) return gain;
  if (normalization === 'down-only') return 0;
  const headroom = trackTruePeakDbtp === null ? gain : ceilingDbtp - trackTruePeakDbtp;
  return Math.max(0, Math.min(gain, headroom));
}

export const dbToGain = (db: number) => 10 ** (db / 20);
