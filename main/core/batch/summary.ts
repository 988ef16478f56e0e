// The batch summary: every deliverable with its pass/fail, as JSON (for programs), CSV (for a
// spreadsheet) and a self-contained HTML page (for people), written atomically into the output
// folder as batch-summary.{json,csv,html}.
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { escapeHtml } from '../delivery/report-html.js';
import type { DeliverableOutcome } from './batch.js';
import { writeFileAtomic as writeAtomic } from '../write-all.js';

export interface BatchSummary {
  schema: 'lathe.batch-summary';
  version: 1;
  createdAt: string;
  outDir: string;
  counts: { total: number; done: number; reused: number; failed: number; cancelled: number; pass: number; fail: number };
  deliverables: (DeliverableOutcome & { relativeFile: string | null })[];
}

export function summarise(outDir: string, outcomes: DeliverableOutcome[]): BatchSummary {
  const count = (p: (o: DeliverableOutcome) => boolean) => outcomes.filter(p).length;
  return {
    schema: 'lathe.batch-summary',
    version: 1,
    createdAt: new Date().toISOString(),
    outDir,
    counts: {
      total: outcomes.length,
      done: count((o) => o.status === 'done'),
      reused: count((o) => o.status === 'reused'),
      failed: count((o) => o.status === 'failed'),
      cancelled: count((o) => o.status === 'cancelled'),
      pass: count((o) => o.file !== null && o.pass),
      fail: count((o) => o.file !== null && !o.pass),
    },
    deliverables: outcomes.map((o) => ({ ...o, relativeFile: o.file === null ? null : relative(outDir, o.file) })),
  };
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(v: string | number | boolean | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function summaryCsv(s: BatchSummary): string {
  const rows: (string | number | boolean | null)[][] = [['input', 'target', 'status', 'pass', 'integrated_lufs', 'true_peak_dbtp', 'file', 'key', 'produced_by', 'message']];
  for (const d of s.deliverables) rows.push([d.input, d.target, d.status, d.file === null ? null : d.pass, d.integratedLufs, d.truePeakDbtp, d.relativeFile, d.key, d.producedBy, d.error ?? d.summary]);
  return `${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export function summaryHtml(s: BatchSummary): string {
  const n = (x: number | null, d = 2) => (x === null ? '—' : x.toFixed(d));
  const rows = s.deliverables
    .map((d) => {
      const verdict = d.file === null ? d.status : d.pass ? 'pass' : 'fail';
      const link = d.relativeFile ? `<a href="${escapeHtml(encodeURI(d.relativeFile))}">${escapeHtml(d.relativeFile)}</a>` : '—';
      return `<tr class="${verdict}"><td>${escapeHtml(d.input)}</td><td>${escapeHtml(d.target)}</td><td>${escapeHtml(d.status)}</td><td class="v">${escapeHtml(verdict)}</td><td class="n">${n(d.integratedLufs)}</td><td class="n">${n(d.truePeakDbtp)}</td><td>${link}</td><td>${escapeHtml(d.producedBy ?? '—')}</td><td>${escapeHtml(d.error ?? d.summary)}</td></tr>`;
    })
    .join('\n');
  const c = s.counts;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lathe batch summary</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.pass td.v{color:#176b2c;font-weight:600}
tr.fail td.v,tr.failed td.v{color:#a31515;font-weight:600}tr.cancelled td.v{color:#8a6d00}
</style></head><body>
<h1>Batch summary</h1>
<p>${escapeHtml(s.createdAt)} — ${escapeHtml(s.outDir)}</p>
<p><strong>${c.total}</strong> deliverables: ${c.pass} pass, ${c.fail} fail, ${c.failed} not produced (errors), ${c.cancelled} cancelled; ${c.done} made in this run, ${c.reused} already done and reused.</p>
<table><thead><tr><th>input</th><th>target</th><th>status</th><th>verdict</th><th>integrated (LUFS)</th><th>true peak (dBTP)</th><th>file</th><th>made by</th><th>summary</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** Writes batch-summary.{json,csv,html} into `outDir`; returns their paths. */
export function writeSummary(outDir: string, outcomes: DeliverableOutcome[]): { json: string; csv: string; html: string; summary: BatchSummary } {
  const summary = summarise(outDir, outcomes);
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, 'batch-summary.json');
  const csv = join(outDir, 'batch-summary.csv');
  const html = join(outDir, 'batch-summary.html');
  writeAtomic(json, `${JSON.stringify(summary, null, 2)}\n`);
  writeAtomic(csv, summaryCsv(summary));
  writeAtomic(html, summaryHtml(summary));
  return { json, csv, html, summary };
}
