// Types of the native-dsp addon (hand-written; the addon is plain Node-API without napi-rs).
// Every function validates its arguments and throws a TypeError/RangeError/Error with a `code`
// (LATHE_DSP_TYPE, LATHE_DSP_RANGE, LATHE_DSP_FINISHED, LATHE_DSP_PANIC) instead of crashing.

/** Opaque handle of a streaming analyser. */
export type AnalyzerHandle = { readonly __brand: 'AnalyzerHandle' };

export interface AnalyzerOptions {
  sampleRate: number;
  /** ffmpeg channel names in stream order: FL, FR, FC, LFE, BL, BR, SL, SR … (decides BS.1770 weights). */
  channelNames: string[];
  /** Spectrogram size for display; defaults 1024 columns (rounded down to even) × 160 rows. */
  spectrogramColumns?: number;
  spectrogramRows?: number;
  /** 1: measure on the calling thread only; 2 (default): use a second thread when there is a second core. */
  threads?: 1 | 2;
  /** "loudness": loudness and peaks only (spectrum, stereo and time-domain QC left empty). */
  meters?: 'all' | 'loudness';
}

export interface NativeFinding {
  kind: string;
  severity: 'info' | 'warning' | 'error';
  startSeconds: number;
  endSeconds: number;
  channel: number | null;
  message: string;
}

export interface NativeLoudness {
  integratedLufs: number | null;
  loudnessRangeLu: number | null;
  loudnessRangeLowLufs: number | null;
  loudnessRangeHighLufs: number | null;
  momentaryMaxLufs: number | null;
  shortTermMaxLufs: number | null;
  relativeGateLufs: number | null;
  /** Every 100 ms; NaN where undefined (silence). momentarySeries[i] ends at 0.4 + 0.1·i s. */
  momentarySeries: Float32Array;
  /** Every 100 ms; shortTermSeries[i] ends at 3.0 + 0.1·i s. */
  shortTermSeries: Float32Array;
  seriesIntervalSeconds: number;
  /** Grid on which momentary and short-term maxima are evaluated (≤ 10 ms). */
  evaluationIntervalSeconds: number;
  shortTermHistogram: Uint32Array;
  shortTermHistogramMinLufs: number;
  shortTermPercentilesLufs: { p10: number | null; p50: number | null; p95: number | null };
  truePeakDbtp: number | null;
  samplePeakDbfs: number | null;
  plrDb: number | null;
  channelTruePeakDbtp: (number | null)[];
  channelSamplePeakDbfs: (number | null)[];
  truePeakOversampling: number;
}

export interface NativeChannelStats {
  rmsDbfs: number | null;
  samplePeakDbfs: number | null;
  dcOffset: number;
  crestFactorDb: number | null;
  zeroCrossingRateHz: number;
}

export interface NativeStereo {
  /** Σ LR / √(Σ L² · Σ R²) over the file (phase-meter convention). */
  correlation: number | null;
  /** 10·log10(P_side / P_mid), M = (L+R)/2, S = (L−R)/2. */
  sideToMidDb: number | null;
  /** Level lost folding to mono: 0 dB for L = R, ≈3 dB for uncorrelated channels. */
  monoCompatibilityLossDb: number | null;
  /** Correlation over 400 ms windows every `correlationSeriesIntervalSeconds`. */
  correlationSeries: Float32Array;
  correlationSeriesIntervalSeconds: number;
}

export interface NativeTimeDomain {
  /** 20·log10(RMS) over the programme channels (a full-scale sine reads −3.01 dBFS). */
  rmsDbfs: number | null;
  crestFactorDb: number | null;
  zeroCrossingRateHz: number;
  leadingSilenceSeconds: number;
  trailingSilenceSeconds: number;
  channels: NativeChannelStats[];
  stereo: NativeStereo | null;
}

export interface NativeBand {
  /** Nominal centre (IEC 61260 / ISO 266): 20, 25, 31.5 … 20000 Hz. */
  hz: number;
  centreHz: number;
  lowHz: number;
  highHz: number;
  /** Band level in dB where a sine of peak amplitude A reads 20·log10(A); null above Nyquist or for silence. */
  db: number | null;
}

export interface NativeSpectral {
  thirdOctave: NativeBand[];
  /** 1/6-octave smoothed long-term spectrum on a log grid (about 256 points) for plots. */
  curve: { hz: Float32Array; db: Float32Array };
  /** Per third-octave band, 10·log10(P_side / P_mid); empty without a stereo pair. */
  sideToMidDb: (number | null)[];
  spectralCentroidHz: number | null;
  /** Frequency below which 85 % of the power lies. */
  rolloffHz: number | null;
  harmonicToNoiseDb: number | null;
  /** A brick-wall low-pass in the content (lossy source), if detected. */
  cutoffHz: number | null;
  spectrogram: {
    columns: number;
    rows: number;
    rowHz: Float32Array;
    secondsPerColumn: number;
    /** Column-major: db[column * rows + row]; −180 for silence. */
    db: Float32Array;
  };
}

export interface NativeAnalysis {
  sampleRate: number;
  channels: number;
  frames: number;
  durationSeconds: number;
  loudness: NativeLoudness;
  timeDomain: NativeTimeDomain;
  spectral: NativeSpectral;
  qc: NativeFinding[];
}

export function version(): string;
/** Splits interleaved little-endian float32 frames into one Float32Array per channel. */
export function deinterleave(bytes: Uint8Array, channels: number): Float32Array[];
/** Joins equal-length planes into interleaved little-endian float32 frames (a float WAV's data). */
export function interleave(planes: Float32Array[]): Uint8Array;
export function analyzerCreate(options: AnalyzerOptions): AnalyzerHandle;
export function analyzerProcess(handle: AnalyzerHandle, planes: Float32Array[]): void;
export function analyzerProcessInterleaved(handle: AnalyzerHandle, bytes: Uint8Array): void;
export function analyzerFinish(handle: AnalyzerHandle): NativeAnalysis;

/** Opaque handle of a chain renderer. */
export type ChainHandle = { readonly __brand: 'ChainHandle' };

export interface ChainOptions {
  sampleRate: number;
  channels: number;
  /** A validated chain document (main/core/chain/document.ts). */
  chain: unknown;
  /** Dither seed (equal seeds give bit-identical renders). */
  seed?: number;
}

/** A renderer whose output lines up with its input, frame for frame. */
export function chainCreate(options: ChainOptions): ChainHandle;
/** The EQ stage's magnitude (dB) at each frequency, from the coefficients the render uses. */
export function eqCurve(options: { sampleRate: number; chain: unknown; frequencies: Float32Array }): Float32Array;
/** Latency, and the peak gain reduction of the compressor and limiter since the last call. */
export function chainInfo(handle: ChainHandle): { latencyFrames: number; compressorMaxGrDb: number; limiterMaxGrDb: number };
/** Renders planes; returns the output frames that are ready (fewer than given at first). */
export function chainRender(handle: ChainHandle, planes: Float32Array[]): Float32Array[];
/** Flushes the remaining frames, so the output is as long as the input. */
export function chainFinish(handle: ChainHandle): Float32Array[];

// Unix only (undefined on Windows): decoded audio straight from a child process's pipe into the
// analyser, without JavaScript streams in between.
/** A close-on-exec pipe; hand `writeFd` to the child as its stdout, then close both ends. */
export function pipeCreate(): { readFd: number; writeFd: number };
export function fdClose(fd: number): void;
/** Reads up to maxBytes (blocking) of interleaved samples, "f32le" (the default) or "s16le"
 *  (x / 32768, exact), measures them; returns the bytes read, 0 at end of stream. One stream
 *  keeps one format. */
export function analyzerProcessFd(handle: AnalyzerHandle, fd: number, maxBytes: number, format?: 'f32le' | 's16le'): number;
/** Reads up to maxBytes of f32le frames from inFd, renders them, writes f32le to outFd and/or
 *  feeds them to an analyser; returns the bytes read, 0 at the end of the input. */
export function chainRenderFd(handle: ChainHandle, inFd: number, outFd: number | null, maxBytes: number, analyzer: AnalyzerHandle | null, model?: TargetModelHandle | null): number;
/** Synthesises the demo mix (stereo) and writes it to fd as f32le frames; returns the frame count. */
export function demoWriteFd(options: { sampleRate: number; seconds: number; seed: number }, fd: number): number;
export function chainFinishFd(handle: ChainHandle, outFd: number | null, analyzer: AnalyzerHandle | null, model?: TargetModelHandle | null): void;

/** What the loudness search needs of a limiter's input (peaks and K-weighted energy on a
 *  ~0.2 ms grid), for predicting the loudness after the limiter at any input gain. */
export type TargetModelHandle = { readonly __brand: 'TargetModelHandle' };
export interface LimiterSettings {
  ceilingDbtp: number;
  lookaheadMs: number;
  releaseMs: number;
  autoRelease: boolean;
  inputGainDb: number;
}
export function targetModelCreate(options: { sampleRate: number; channelNames: string[] }): TargetModelHandle;
export function targetModelProcess(handle: TargetModelHandle, planes: Float32Array[]): void;
/** The integrated loudness and largest stage-1 gain reduction the limiter would give (a model:
 *  within a few hundredths of an LU of a real render on programme material). */
export function targetModelEstimate(handle: TargetModelHandle, limiter: LimiterSettings): { integratedLufs: number | null; maxGainReductionDb: number };

declare const addon: {
  version: typeof version;
  deinterleave: typeof deinterleave;
  interleave: typeof interleave;
  analyzerCreate: typeof analyzerCreate;
  analyzerProcess: typeof analyzerProcess;
  analyzerProcessInterleaved: typeof analyzerProcessInterleaved;
  analyzerFinish: typeof analyzerFinish;
  chainCreate: typeof chainCreate;
  targetModelCreate: typeof targetModelCreate;
  targetModelProcess: typeof targetModelProcess;
  targetModelEstimate: typeof targetModelEstimate;
  chainInfo: typeof chainInfo;
  eqCurve: typeof eqCurve;
  chainRender: typeof chainRender;
  chainFinish: typeof chainFinish;
  chainRenderFd?: typeof chainRenderFd;
  chainFinishFd?: typeof chainFinishFd;
  demoWriteFd?: typeof demoWriteFd;
  pipeCreate?: typeof pipeCreate;
  fdClose?: typeof fdClose;
  analyzerProcessFd?: typeof analyzerProcessFd;
};
export default addon;
