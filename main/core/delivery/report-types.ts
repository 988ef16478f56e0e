// The delivery report: everything a mastering engineer (or a client) needs to trust one
// deliverable — the spec, requested vs achieved, measurements before and after the platform's
// codecs, every rule with its verdict, the chain, versions and hashes, and the data for pictures.
// `lathe master` writes it as JSON next to each deliverable and renders it as a self-contained
// HTML page (report-html.ts).

export interface ReportCurve {
  hz: number[];
  db: number[];
}

export interface ReportSpectrogram {
  columns: number;
  rows: number;
  /** Centre frequency of each row (log-spaced, low to high). */
  rowHz: number[];
  secondsPerColumn: number;
  /** Column-major: db[column * rows + row]. */
  db: number[];
}

/** What is drawn for one signal (the input or the master). */
export interface ReportPictures {
  spectrum: ReportCurve;
  spectrogram: ReportSpectrogram;
  /** Short-term loudness every `intervalSeconds` (null where silent). */
  loudness: { intervalSeconds: number; shortTermLufs: (number | null)[]; momentaryLufs: (number | null)[] };
}

export interface ReportMeasurement {
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  samplePeakDbfs: number | null;
  loudnessRangeLu: number | null;
  shortTermMaxLufs: number | null;
}

export interface ReportCodecCheck {
  /** ffmpeg encoder name and the bitrate the platform uses. */
  codec: string;
  bitrateKbps: number;
  /** Measured after encoding and decoding again. */
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  pass: boolean;
}

export interface ReportRule {
  /** e.g. "integrated loudness", "true peak", "true peak after aac 256k". */
  rule: string;
  requested: string;
  achieved: string;
  pass: boolean;
  message: string;
}

export interface ReportIteration {
  /** Limiter ceiling used for this render. */
  ceilingDbtp: number;
  /** Gain into the limiter. */
  gainDb: number;
  integratedLufs: number | null;
  /** Highest true peak over the deliverable and every codec check. */
  worstTruePeakDbtp: number | null;
  /** Why another iteration followed, or why it stopped. */
  note: string;
}

export interface DeliveryReport {
  schema: 'lathe.delivery-report';
  version: 1;
  createdAt: string;
  lathe: { version: string; nativeDspVersion: string; ffmpeg: string };
  input: {
    file: string;
    sha256: string;
    codec: string;
    sampleRate: number;
    channels: number;
    bitDepth: number | null;
    durationSeconds: number;
    measured: ReportMeasurement;
  };
  target: {
    id: string;
    name: string;
    /** The target's spec as the targets table states it (kept as data, shown as a table). */
    spec: Record<string, string | number | boolean | null>;
    sources: { title: string; url: string }[];
  };
  /** The chain document that was rendered (the final iteration's). */
  chain: unknown;
  deliverable: {
    file: string;
    sha256: string;
    container: string;
    codec: string;
    sampleRate: number;
    bitDepth: number | null;
    bitrateKbps: number | null;
    measured: ReportMeasurement;
  };
  requested: { integratedLufs: number; toleranceLu: number; truePeakCeilingDbtp: number; maxLoudnessRangeLu: number | null };
  codecChecks: ReportCodecCheck[];
  iterations: ReportIteration[];
  rules: ReportRule[];
  pass: boolean;
  /** Plain-language summary: what was done and whether it met the spec (honest about misses). */
  summary: string;
  pictures: { input: ReportPictures; master: ReportPictures };
}
