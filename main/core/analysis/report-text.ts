// The human-readable table `lathe analyze` prints: what an engineer reads off a meter bridge.
import type { AnalysisResult } from './analyze.js';

const num = (x: number | null | undefined, unit: string, digits = 1): string =>
  x === null || x === undefined ? '—' : `${x.toFixed(digits)} ${unit}`;

const QC_SHOWN_PER_KIND = 3;

export function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}

function row(label: string, ...cells: string[]): string {
  return `${label.padEnd(14)}${cells.map((c) => c.padEnd(30)).join('').trimEnd()}`;
}

function spectrumLines(r: AnalysisResult): string[] {
  const bands = r.spectrum.thirdOctave;
  const label = (hz: number) => (hz >= 1000 ? `${hz / 1000}k` : String(hz));
  const out: string[] = [];
  for (let i = 0; i < bands.length; i += 8) {
    const group = bands.slice(i, i + 8);
    out.push('  ' + group.map((b) => label(b.hz).padStart(7)).join(''));
    out.push('  ' + group.map((b) => (b.db === null ? '—' : b.db.toFixed(1)).padStart(7)).join(''));
  }
  return out;
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
  const st = r.stereo;
  if (st.pair) {
    lines.push(
      row('Correlation', st.correlation === null ? '—' : st.correlation.toFixed(2), `Side/mid        ${num(st.sideToMidDb, 'dB')}`),
      row('Mono loss', num(st.monoCompatibilityLossDb, 'dB'), `Crest factor    ${num(r.dynamics.crestFactorDb, 'dB')}`),
    );
  } else {
    lines.push(row('Crest factor', num(r.dynamics.crestFactorDb, 'dB')));
  }
  const ft = r.features;
  lines.push(
    row('RMS', num(ft.rmsDbfs, 'dBFS'), `Centroid        ${num(ft.spectralCentroidHz, 'Hz', 0)}`),
    row('Rolloff (85%)', num(ft.spectralRolloffHz, 'Hz', 0), `HNR             ${num(ft.harmonicToNoiseDb, 'dB')}`),
    '',
    'Third-octave spectrum (dB)',
    ...spectrumLines(r),
  );
  lines.push('', r.qc.length === 0 ? 'QC            no findings' : `QC            ${r.qc.length} finding${r.qc.length === 1 ? '' : 's'}`);
  // Grouped by kind, worst first, a few of each: the JSON output has every one.
  const rank = { error: 0, warning: 1, info: 2 } as const;
  const kinds = [...new Set(r.qc.map((q) => q.kind))].sort((a, b) => {
    const worst = (k: string) => Math.min(...r.qc.filter((q) => q.kind === k).map((q) => rank[q.severity]));
    return worst(a) - worst(b);
  });
  for (const kind of kinds) {
    const all = r.qc.filter((q) => q.kind === kind);
    for (const q of all.slice(0, QC_SHOWN_PER_KIND)) {
      const span = `${clock(q.startSeconds)}–${clock(q.endSeconds)}`;
      lines.push(`  ${q.severity.padEnd(8)} ${span}  ${q.kind}${q.channel ? ` [${q.channel}]` : ''}: ${q.message}`);
    }
    if (all.length > QC_SHOWN_PER_KIND) lines.push(`           … and ${all.length - QC_SHOWN_PER_KIND} more ${kind} findings (see --json)`);
  }
  return lines.join('\n');
}
