// The album's report as a self-contained HTML page: the policy and the anchor, every track's
// requested vs achieved loudness and true peak per target (with links to each track's own
// delivery report), the consistency QC with its outliers, and the CD layout with the CUE sheet.
import { readFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { escapeHtml } from '../delivery/report-html.js';
import type { AlbumResult } from './album.js';

const n = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : x.toFixed(d));
/** +0.03 / −0.02, and 0.00 (not −0.00) when it rounds to nothing. */
const signed = (x: number) => (Math.abs(x) < 0.005 ? '0.00' : `${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`);

export function renderAlbumHtml(result: AlbumResult, meta: { title: string | null; performer: string | null; appVersion: string; createdAt: string }): string {
  const outDir = dirname(result.report);
  const link = (file: string | null) => (file ? `<a href="${escapeHtml(encodeURI(relative(outDir, file)))}">${escapeHtml(basename(file))}</a>` : '—');
  const targets = [...new Set(result.tracks.map((t) => t.target))];
  const trackTables = targets
    .map((target) => {
      const rows = result.tracks
        .filter((t) => t.target === target)
        .map((t) => `<tr class="${t.pass ? 'pass' : 'fail'}"><td>${escapeHtml(basename(t.input))}${t.input === result.anchor ? ' <em>(anchor)</em>' : ''}</td><td class="n">${n(t.requestedLufs)}</td><td class="n">${n(t.integratedLufs)}</td><td class="n">${t.errorLu === null ? '—' : signed(t.errorLu)}</td><td class="n">${n(t.truePeakDbtp)}</td><td class="v">${t.pass ? 'pass' : 'fail'}</td><td>${t.cd ? `track ${t.cd.number}, INDEX 01 ${t.cd.index01}` : link(t.file)}</td><td>${t.report ? link(t.report.replace(/\.json$/, '.html')) : '—'}</td></tr>`)
        .join('\n');
      return `<h3>${escapeHtml(target)}</h3><table><thead><tr><th>track</th><th>requested (LUFS)</th><th>achieved (LUFS)</th><th>error (LU)</th><th>true peak (dBTP)</th><th>verdict</th><th>deliverable</th><th>report</th></tr></thead><tbody>${rows}</tbody></table>`;
    })
    .join('\n');
  const consistency = result.consistencyByTarget
    .map((c) => {
      const rows = c.tracks.map((t) => `<tr><td>${escapeHtml(basename(t.input))}</td><td class="n">${n(t.integratedLufs)}</td><td class="n">${n(t.loudnessRangeLu, 1)}</td><td class="n">${n(t.toneDistanceDb, 2)}</td><td class="n">${n(t.sideToMidDb, 1)}</td><td class="n">${n(t.correlation, 2)}</td></tr>`).join('\n');
      const outliers = c.outliers.length ? `<ul>${c.outliers.map((o) => `<li><strong>${escapeHtml(o.aspect)}</strong>: ${escapeHtml(o.message)}</li>`).join('')}</ul>` : '<p>No outliers: the tracks sit together.</p>';
      return `<h3>${escapeHtml(c.target)}</h3>
<p>Spread: integrated loudness ${n(c.spread.integratedLu, 1)} LU${c.loudnessJudged ? '' : ' (kept on purpose under the anchor policy, not judged)'}, loudness range ${n(c.spread.loudnessRangeLu, 1)} LU, tone up to ${n(c.spread.toneDistanceMaxDb, 1)} dB from the album's mean (RMS over 1/3 octaves, 31.5 Hz – 16 kHz, each track's level taken out), width (side-to-mid) ${n(c.spread.sideToMidDb, 1)} dB.</p>
<table><thead><tr><th>track</th><th>integrated (LUFS)</th><th>LRA (LU)</th><th>tone distance (dB)</th><th>side/mid (dB)</th><th>correlation</th></tr></thead><tbody>${rows}</tbody></table>
${outliers}`;
    })
    .join('\n');
  let cd = '';
  if (result.cd) {
    let cue = '';
    try {
      cue = readFileSync(result.cd.cue, 'latin1');
    } catch {
      cue = '(the CUE sheet could not be read back)';
    }
    cd = `<h2>CD</h2><p>${link(result.cd.image)} (16-bit, 44.1 kHz, dithered once) and ${link(result.cd.cue)}: ${(result.cd.totalSamples / 44_100 / 60).toFixed(2)} minutes, ${result.cd.totalSamples / 588} sectors.</p><pre>${escapeHtml(cue)}</pre>`;
  }
  const title = [meta.title, meta.performer].filter(Boolean).join(' — ') || 'Album';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}: Lathe album report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.pass td.v{color:#176b2c;font-weight:600}tr.fail td.v{color:#a31515;font-weight:600}
pre{background:#f6f6f6;padding:1em;overflow:auto}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>${result.pass ? 'Every track passes.' : 'Some tracks miss a rule: see below.'} Policy: <strong>${escapeHtml(result.policy)}</strong>${result.anchor ? `, anchored on ${escapeHtml(basename(result.anchor))} (every other track keeps its loudness relative to it, within ±0.1 LU)` : ''}. Lathe ${escapeHtml(meta.appVersion)}, ${escapeHtml(meta.createdAt)}.</p>
<h2>Tracks: requested vs achieved</h2>
${trackTables}
<h2>Consistency</h2>
${consistency}
${cd}
</body></html>
`;
}
