// A master made in a work folder (a batch unit, an album track) has reports that name the
// deliverable where it was made. Before the files move to where they are delivered, the reports
// are rewritten to name the deliverable's final path, so a report never points at a folder that
// is about to disappear.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../write-all.js';
import { renderReportHtml } from './report-html.js';
import type { DeliveryReport } from './report-types.js';

/** Rewrites `work/reportJson` (and `work/reportHtml` when given) to name `deliverablePath`; returns the report. */
export function relocateReports(work: string, reportJson: string, reportHtml: string | null, deliverablePath: string): DeliveryReport {
  const path = join(work, reportJson);
  const report = JSON.parse(readFileSync(path, 'utf8')) as DeliveryReport;
  report.deliverable.file = deliverablePath;
  writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
  if (reportHtml) writeFileAtomic(join(work, reportHtml), renderReportHtml(report));
  return report;
}
