// Analyses a file in one streaming pass: ffmpeg decodes, native-dsp measures, and this module
// shapes the result into the stable interface that `lathe analyze --json`, the UI and the rest of
// the engine read. Field names are part of that interface: keep them stable.
import dsp, { type NativeAnalysis, type NativeFinding } from '#native-dsp';
import { LatheError } from '../errors.js';
import { decodeInterleaved } from '../media/decode.js';
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
  format: {
    codec: string;
    codecLongName: string;
    container: string;
    sampleRate: number;
    channels: number;
    channelLayout: string;
    channelNames: string[];
    bitDepth: number | null;
    sampleFormat: 'integer' | 'float' | null;
    lossy: boolean;
    durationSeconds: number;
    frames: number;
  };
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
  stereo: {
    correlation: number | null;
    sideToMidDb: number | null;
    monoCompatibilityLossDb: number | null;
    correlationSeries: { intervalSeconds: number; values: number[] };
  } | null;
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
  features: {
    rmsDbfs: number | null;
    crestFactorDb: number | null;
    zeroCrossingRateHz: number;
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

/** Shapes the native report and the probe into the analysis interface. */
export function shapeResult(probe: AudioProbe, r: NativeAnalysis): AnalysisResult {
  const l = r.loudness;
  const t = r.timeDomain;
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
    stereo: t.stereo && {
      correlation: round(t.stereo.correlation),
      sideToMidDb: round(t.stereo.sideToMidDb),
      monoCompatibilityLossDb: round(t.stereo.monoCompatibilityLossDb),
      correlationSeries: {
        intervalSeconds: t.stereo.correlationSeriesIntervalSeconds,
        values: Array.from(t.stereo.correlationSeries, (v) => round(v, 3)!),
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
    });
  } catch (e) {
    throw new LatheError('UNSUPPORTED_FORMAT', `cannot be analysed: ${(e as Error).message}`, { file, cause: e });
  }
  const expectedFrames = (probe.durationSeconds ?? 0) * probe.sampleRate;
  for await (const chunk of decodeInterleaved(probe, {
    signal: options.signal,
    onProgress: expectedFrames > 0 && options.onProgress ? (f) => options.onProgress!(Math.min(1, f / expectedFrames)) : undefined,
  })) {
    dsp.analyzerProcessInterleaved(handle, chunk);
  }
  return shapeResult(probe, dsp.analyzerFinish(handle));
}
