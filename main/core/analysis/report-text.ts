// The human-readable table `lathe analyze` prints: what an engineer reads off a meter bridge.
import type { AnalysisResult } from './analyze.js';

const num = (x: number | null | undefined, unit: string, digits = 1): string =>
  x === null || x === undefined ? '—' : `${x.toFixed(digits)} ${unit}`;

export function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}

function row(label: string, ...cells: string[]): string {
  return `${label.padEnd(14)}${cells.map((c) => c.padEnd(30)).join('').trimEnd()}`;
}

export function renderAnalysis(r: AnalysisResult): string {
  const f = r.format;
  const l = r.loudness;
  const depth = f.bitDepth === null ? 'lossy' : `${f.bitDepth}-bit ${f.sampleFormat}`;
  const lines = [
    `Lathe analysis of ${r.file}`,
    '',
    row('Format', `${f.codec} in ${f.container}, ${f.sampleRate} Hz, ${f.channels} ch (${f.channelLayout}), ${depth}, ${clock(f.durationSeconds)}`),
    row('Integrated', num(l.integratedLufs, 'LUFS'), `Loudness range  ${num(l.loudnessRangeLu, 'LU')}`),
    row('Momentary max', num(l.momentaryMaxLufs, 'LUFS'), `Short-term max  ${num(l.shortTermMaxLufs, 'LUFS')}`),
    row('True peak', num(l.truePeakDbtp, 'dBTP'), `Sample peak     ${num(l.samplePeakDbfs, 'dBFS')}`),
    row('PLR', num(l.plrDb, 'dB'), `Short-term p10/p50/p95  ${[r.dynamics.shortTermPercentilesLufs.p10, r.dynamics.shortTermPercentilesLufs.p50, r.dynamics.shortTermPercentilesLufs.p95].map((v) => (v === null ? '—' : v.toFixed(1))).join(' / ')} LUFS`),
  ];
  lines.push('', r.qc.length === 0 ? 'QC            no findings' : `QC            ${r.qc.length} finding${r.qc.length === 1 ? '' : 's'}`);
  for (const q of r.qc) {
    const span = `${clock(q.startSeconds)}–${clock(q.endSeconds)}`;
    lines.push(`  ${q.severity.padEnd(8)} ${span}  ${q.kind}${q.channel ? ` [${q.channel}]` : ''}: ${q.message}`);
  }
  return lines.join('\n');
}
