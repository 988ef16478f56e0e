// Analyses a file in one streaming pass: ffmpeg decodes, native-dsp measures, and this module
// shapes the result into the stable interface that `lathe analyze --json`, the UI and the rest of
// the engine read. Field names are part of that interface: keep them stable.
import dsp, { type NativeAnalysis, type NativeFinding } from '#native-dsp';
import { LatheError } from '../errors.js';
import { decodeInterleaved, decodeToFd, exactPipeFormat } from '../media/decode.js';
import { probeFile, type AudioProbe } from '../media/probe.js';
import { formatFindings } from './format-qc.js';

export interface QcFinding {
  kind: string;
  severity: 'info' | 'warning' | 'error';
  startSeconds: number;
  endSeconds: number;
  channel: string | null;
  message: string;
}

export interface AnalysisResult {
  file: string;
  /** What the file is, as probed; the duration is what was decoded. */
  format: Pick<
    AudioProbe,
    'codec' | 'codecLongName' | 'container' | 'sampleRate' | 'channels' | 'channelLayout' | 'channelNames' | 'bitDepth' | 'sampleFormat' | 'lossy'
  > & { durationSeconds: number; frames: number };
  loudness: {
    integratedLufs: number | null;
    loudnessRangeLu: number | null;
    momentaryMaxLufs: number | null;
    shortTermMaxLufs: number | null;
    truePeakDbtp: number | null;
    samplePeakDbfs: number | null;
    plrDb: number | null;
    relativeGateLufs: number | null;
    loudnessRangeLowLufs: number | null;
    loudnessRangeHighLufs: number | null;
    channels: { name: string; truePeakDbtp: number | null; samplePeakDbfs: number | null }[];
    series: { intervalSeconds: number; momentaryLufs: (number | null)[]; shortTermLufs: (number | null)[] };
  };
  dynamics: {
    crestFactorDb: number | null;
    shortTermDistribution: { minLufs: number; binLu: number; counts: number[] };
    shortTermPercentilesLufs: { p10: number | null; p50: number | null; p95: number | null };
  };
  spectrum: {
    thirdOctave: { hz: number; db: number | null }[];
    curve: { hz: number; db: number }[];
    spectralCentroidHz: number | null;
    rolloffHz: number | null;
    cutoffHz: number | null;
  };
  /** For the UI; `lathe analyze --json` leaves it out unless asked (--spectrogram). */
  spectrogram?: { columns: number; rows: number; rowHz: number[]; secondsPerColumn: number; db: number[] };
  /** The front pair's image; every value null (and `pair` null) when the file has no L/R pair. */
  stereo: {
    pair: [string, string] | null;
    correlation: number | null;
    sideToMidDb: number | null;
    monoCompatibilityLossDb: number | null;
    bands: { hz: number; sideToMidDb: number | null }[];
    correlationSeries: { intervalSeconds: number; values: number[] };
  };
  levels: {
    rmsDbfs: number | null;
    leadingSilenceSeconds: number;
    trailingSilenceSeconds: number;
    channels: {
      name: string;
      rmsDbfs: number | null;
      samplePeakDbfs: number | null;
      truePeakDbtp: number | null;
      dcOffset: number;
      crestFactorDb: number | null;
      zeroCrossingRateHz: number;
    }[];
  };
  /** The seed metrics engineers quote. */
  features: {
    rmsDbfs: number | null;
    crestFactorDb: number | null;
    zeroCrossingRateHz: number;
    spectralCentroidHz: number | null;
    spectralRolloffHz: number | null;
    harmonicToNoiseDb: number | null;
  };
  qc: QcFinding[];
  meter: {
    standard: string;
    truePeakOversampling: number;
    evaluationIntervalSeconds: number;
    ffmpegDecoded: true;
  };
}

export interface AnalyzeOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  spectrogramColumns?: number;
  spectrogramRows?: number;
  /** Include the spectrogram (about 160 k values) in the result. */
  includeSpectrogram?: boolean;
  /** "loudness" measures loudness and peaks only (spectrum, stereo and QC come back empty). */
  meters?: 'all' | 'loudness';
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const round = (x: number | null, digits = 4): number | null => (x === null ? null : Number(x.toFixed(digits)));

function seriesToJson(series: Float32Array): (number | null)[] {
  return Array.from(series, (v) => round(finite(v), 3));
}

function finding(f: NativeFinding, names: string[]): QcFinding {
  return {
    kind: f.kind,
    severity: f.severity,
    startSeconds: round(f.startSeconds, 3)!,
    endSeconds: round(f.endSeconds, 3)!,
    channel: f.channel === null ? null : (names[f.channel] ?? `channel ${f.channel + 1}`),
    message: f.message,
  };
}

/** The pair native-dsp treats as the stereo image (front left/right, or a downmix pair). */
function stereoPair(names: string[]): [string, string] | null {
  if (names.includes('FL') && names.includes('FR')) return ['FL', 'FR'];
  if (names.includes('DL') && names.includes('DR')) return ['DL', 'DR'];
  return null;
}

/** Shapes the native report and the probe into the analysis interface. */
export function shapeResult(probe: AudioProbe, r: NativeAnalysis, options: { includeSpectrogram?: boolean } = {}): AnalysisResult {
  const l = r.loudness;
  const t = r.timeDomain;
  const sp = r.spectral;
  const names = probe.channelNames;
  const qc = [...r.qc.map((f) => finding(f, names)), ...formatFindings(probe, r.durationSeconds)].sort(
    (a, b) => a.startSeconds - b.startSeconds,
  );
  return {
    file: probe.file,
    format: {
      codec: probe.codec,
      codecLongName: probe.codecLongName,
      container: probe.container,
      sampleRate: probe.sampleRate,
      channels: probe.channels,
      channelLayout: probe.channelLayout,
      channelNames: names,
      bitDepth: probe.bitDepth,
      sampleFormat: probe.sampleFormat,
      lossy: probe.lossy,
      durationSeconds: round(r.durationSeconds, 6)!,
      frames: r.frames,
    },
    loudness: {
      integratedLufs: round(l.integratedLufs),
      loudnessRangeLu: round(l.loudnessRangeLu),
      momentaryMaxLufs: round(l.momentaryMaxLufs),
      shortTermMaxLufs: round(l.shortTermMaxLufs),
      truePeakDbtp: round(l.truePeakDbtp),
      samplePeakDbfs: round(l.samplePeakDbfs),
      plrDb: round(l.plrDb),
      relativeGateLufs: round(l.relativeGateLufs),
      loudnessRangeLowLufs: round(l.loudnessRangeLowLufs),
      loudnessRangeHighLufs: round(l.loudnessRangeHighLufs),
      channels: names.map((name, i) => ({
        name,
        truePeakDbtp: round(l.channelTruePeakDbtp[i] ?? null),
        samplePeakDbfs: round(l.channelSamplePeakDbfs[i] ?? null),
      })),
      series: {
        intervalSeconds: l.seriesIntervalSeconds,
        momentaryLufs: seriesToJson(l.momentarySeries),
        shortTermLufs: seriesToJson(l.shortTermSeries),
      },
    },
    dynamics: {
      crestFactorDb: round(t.crestFactorDb),
      shortTermDistribution: {
        minLufs: l.shortTermHistogramMinLufs,
        binLu: 1,
        counts: Array.from(l.shortTermHistogram),
      },
      shortTermPercentilesLufs: {
        p10: round(l.shortTermPercentilesLufs.p10),
        p50: round(l.shortTermPercentilesLufs.p50),
        p95: round(l.shortTermPercentilesLufs.p95),
      },
    },
    spectrum: {
      thirdOctave: sp.thirdOctave.map((b) => ({ hz: b.hz, db: round(b.db, 2) })),
      curve: Array.from(sp.curve.hz, (hz, i) => ({ hz: round(hz, 2)!, db: round(sp.curve.db[i]!, 2)! })),
      spectralCentroidHz: round(sp.spectralCentroidHz, 1),
      rolloffHz: round(sp.rolloffHz, 1),
      cutoffHz: round(sp.cutoffHz, 0),
    },
    ...(options.includeSpectrogram
      ? {
          spectrogram: {
            columns: sp.spectrogram.columns,
            rows: sp.spectrogram.rows,
            rowHz: Array.from(sp.spectrogram.rowHz, (v) => round(v, 2)!),
            secondsPerColumn: sp.spectrogram.secondsPerColumn,
            db: Array.from(sp.spectrogram.db, (v) => round(v, 1)!),
          },
        }
      : {}),
    stereo: {
      pair: stereoPair(names),
      correlation: round(t.stereo?.correlation ?? null),
      sideToMidDb: round(t.stereo?.sideToMidDb ?? null),
      monoCompatibilityLossDb: round(t.stereo?.monoCompatibilityLossDb ?? null),
      bands: t.stereo ? sp.thirdOctave.map((b, i) => ({ hz: b.hz, sideToMidDb: round(sp.sideToMidDb[i] ?? null, 2) })) : [],
      correlationSeries: {
        intervalSeconds: t.stereo?.correlationSeriesIntervalSeconds ?? 0.1,
        values: t.stereo ? Array.from(t.stereo.correlationSeries, (v) => round(v, 3)!) : [],
      },
    },
    levels: {
      rmsDbfs: round(t.rmsDbfs),
      leadingSilenceSeconds: round(t.leadingSilenceSeconds, 3)!,
      trailingSilenceSeconds: round(t.trailingSilenceSeconds, 3)!,
      channels: names.map((name, i) => {
        const c = t.channels[i]!;
        return {
          name,
          rmsDbfs: round(c.rmsDbfs),
          samplePeakDbfs: round(c.samplePeakDbfs),
          truePeakDbtp: round(l.channelTruePeakDbtp[i] ?? null),
          dcOffset: round(c.dcOffset, 7)!,
          crestFactorDb: round(c.crestFactorDb),
          zeroCrossingRateHz: round(c.zeroCrossingRateHz, 2)!,
        };
      }),
    },
    features: {
      rmsDbfs: round(t.rmsDbfs),
      crestFactorDb: round(t.crestFactorDb),
      zeroCrossingRateHz: round(t.zeroCrossingRateHz, 2)!,
      spectralCentroidHz: round(sp.spectralCentroidHz, 1),
      spectralRolloffHz: round(sp.rolloffHz, 1),
      harmonicToNoiseDb: round(sp.harmonicToNoiseDb, 2),
    },
    qc,
    meter: {
      standard: 'ITU-R BS.1770-5 (BS.1770-4 algorithms), EBU R128, EBU Tech 3341/3342',
      truePeakOversampling: l.truePeakOversampling,
      evaluationIntervalSeconds: round(l.evaluationIntervalSeconds, 6)!,
      ffmpegDecoded: true,
    },
  };
}

/** Probes, decodes and analyses a file. */
export async function analyzeFile(file: string, options: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const probe = await probeFile(file, options.signal);
  let handle;
  try {
    handle = dsp.analyzerCreate({
      sampleRate: probe.sampleRate,
      channelNames: probe.channelNames,
      spectrogramColumns: options.spectrogramColumns,
      spectrogramRows: options.spectrogramRows,
      meters: options.meters,
    });
  } catch (e) {
    throw new LatheError('UNSUPPORTED_FORMAT', `cannot be analysed: ${(e as Error).message}`, { file, cause: e });
  }
  const expectedFrames = (probe.durationSeconds ?? 0) * probe.sampleRate;
  const decodeOptions = {
    signal: options.signal,
    onProgress:
      expectedFrames > 0 && options.onProgress ? (f: number) => options.onProgress!(Math.min(1, f / expectedFrames)) : undefined,
  };
  const { pipeCreate, fdClose, analyzerProcessFd } = dsp;
  if (pipeCreate && fdClose && analyzerProcessFd) {
    // Unix: the addon reads ffmpeg's pipe itself, in 16-bit samples where that is exact.
    const format = exactPipeFormat(probe);
    await decodeToFd(probe, { pipeCreate, fdClose }, (fd, max) => analyzerProcessFd(handle, fd, max, format), { ...decodeOptions, format });
  } else {
    for await (const chunk of decodeInterleaved(probe, decodeOptions)) dsp.analyzerProcessInterleaved(handle, chunk);
  }
  return shapeResult(probe, dsp.analyzerFinish(handle), options);
}
