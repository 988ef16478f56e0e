// QC findings that come from the file's format rather than its samples: sample rates and bit
// depths unusual for mastering, and lossy sources.
import type { AudioProbe } from '../media/probe.js';
import type { QcFinding } from './analyze.js';

/** Rates a mastering engineer expects to receive (CD, video, and their multiples). */
const MASTERING_RATES = new Set([44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000]);

export function formatFindings(probe: AudioProbe, durationSeconds: number): QcFinding[] {
  const whole = (kind: string, severity: QcFinding['severity'], message: string): QcFinding => ({
    kind,
    severity,
    startSeconds: 0,
    endSeconds: Number(durationSeconds.toFixed(3)),
    channel: null,
    message,
  });
  const out: QcFinding[] = [];
  if (!MASTERING_RATES.has(probe.sampleRate)) {
    out.push(
      whole(
        'unusual-sample-rate',
        probe.sampleRate < 44_100 ? 'warning' : 'info',
        `sample rate ${probe.sampleRate} Hz is unusual for mastering (expected 44.1, 48, 88.2, 96, 176.4 or 192 kHz)`,
      ),
    );
  }
  if (probe.bitDepth !== null && probe.sampleFormat === 'integer' && probe.bitDepth < 16) {
    out.push(whole('unusual-bit-depth', 'warning', `${probe.bitDepth}-bit source: below the 16 bits of CD, expect audible noise`));
  }
  if (probe.lossy) {
    out.push(
      whole(
        'lossy-source',
        'warning',
        `source is ${probe.codec} (lossy): master from the lossless mix if there is one; encoding it again compounds the losses`,
      ),
    );
  }
  if (probe.layoutAssumed && probe.channels > 2) {
    out.push(
      whole('assumed-channel-layout', 'info', `the file does not state its channel layout; assumed ${probe.channelLayout} (${probe.channelNames.join(' ')})`),
    );
  }
  return out;
}
