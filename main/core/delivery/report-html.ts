// The delivery report as one self-contained HTML page: verdict first, then the numbers an engineer
// checks (spec, requested vs achieved, every rule, before/after and after-codec measurements, the
// closed-loop iterations), then the pictures (spectrum, spectrograms, loudness over time), then the
// chain. No scripts and no external resources, so it opens offline, from a mail attachment, years
// later; plots are inline SVG, spectrograms are PNG data URIs; print styles switch to dark-on-white.
import { encodePng } from './png.js';
import type { DeliveryReport, ReportCurve, ReportMeasurement, ReportPictures, ReportSpectrogram } from './report-types.js';

// ---------------------------------------------------------------------------------------------
// Text and numbers

/** Escape text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);
}

const DASH = '—';

function isNum(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** toFixed without "-0.0". */
function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

function value(x: number | null | undefined, unit: string, digits = 1): string {
  return isNum(x) ? `${fixed(x, digits)}${unit ? ` ${unit}` : ''}` : DASH;
}

function signed(x: number, unit: string, digits = 1): string {
  const s = fixed(x, digits);
  return `${x > 0 && !/^0(\.0*)?$/.test(s) ? '+' : ''}${s} ${unit}`;
}

/** m:ss for axis labels and durations. */
function clock(seconds: number): string {
  const whole = Math.round(seconds);
  const m = Math.floor(whole / 60);
  return `${m}:${String(whole - m * 60).padStart(2, '0')}`;
}

/** Round SVG coordinates: keeps the page small and diffable. */
function n(x: number): string {
  return String(Math.round(x * 10) / 10);
}

function hzLabel(hz: number): string {
  return hz >= 1000 ? `${hz / 1000}k` : String(hz);
}

function mark(pass: boolean): string {
  return pass ? '<span class="mark pass">✓ pass</span>' : '<span class="mark fail">✗ fail</span>';
}

// ---------------------------------------------------------------------------------------------
// Page sections

function header(r: DeliveryReport): string {
  const failed = r.rules.filter((rule) => !rule.pass).length;
  const ruleLine = r.rules.length === 0 ? 'no rules checked' : failed === 0 ? `all ${r.rules.length} rules pass` : `${failed} of ${r.rules.length} rules fail`;
  const d = r.deliverable;
  const i = r.input;
  const deliverableFormat = [
    `${d.codec} in ${d.container}`,
    `${d.sampleRate} Hz`,
    d.bitDepth === null ? null : `${d.bitDepth}-bit`,
    d.bitrateKbps === null ? null : `${d.bitrateKbps} kbps`,
  ].filter((s): s is string => s !== null);
  const inputFormat = [
    i.codec,
    `${i.sampleRate} Hz`,
    `${i.channels} ch`,
    i.bitDepth === null ? null : `${i.bitDepth}-bit`,
    clock(i.durationSeconds),
  ].filter((s): s is string => s !== null);
  return `<header class="top">
  <div class="heading">
    <div class="eyebrow">Lathe delivery report</div>
    <h1>${escapeHtml(r.target.name)}</h1>
    <div class="target-id">${escapeHtml(r.target.id)}</div>
  </div>
  <div class="verdict ${r.pass ? 'pass' : 'fail'}">
    <div class="verdict-word">${r.pass ? 'PASS' : 'FAIL'}</div>
    <div class="verdict-sub">${escapeHtml(ruleLine)}</div>
  </div>
</header>
<p class="summary">${escapeHtml(r.summary)}</p>
<dl class="facts">
  <dt>Deliverable</dt><dd><span class="file">${escapeHtml(d.file)}</span> <span class="muted">${escapeHtml(deliverableFormat.join(', '))}</span></dd>
  <dt>SHA-256</dt><dd class="hash">${escapeHtml(d.sha256)}</dd>
  <dt>Input</dt><dd><span class="file">${escapeHtml(i.file)}</span> <span class="muted">${escapeHtml(inputFormat.join(', '))}</span></dd>
  <dt>SHA-256</dt><dd class="hash">${escapeHtml(i.sha256)}</dd>
  <dt>Created</dt><dd><time datetime="${escapeHtml(r.createdAt)}">${escapeHtml(r.createdAt)}</time></dd>
  <dt>Versions</dt><dd>Lathe ${escapeHtml(r.lathe.version)} · native-dsp ${escapeHtml(r.lathe.nativeDspVersion)} · ffmpeg ${escapeHtml(r.lathe.ffmpeg)}</dd>
</dl>`;
}

function section(title: string, body: string, className = ''): string {
  return `<section class="panel ${className}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function specValue(v: string | number | boolean | null): string {
  if (v === null) return DASH;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/** Only web links become anchors; anything else (javascript:, file:) is shown as text. */
function sourceLink(source: { title: string; url: string }): string {
  const title = escapeHtml(source.title || source.url);
  if (!/^https?:\/\//i.test(source.url)) return `${title} <span class="muted">(${escapeHtml(source.url)})</span>`;
  return `<a href="${escapeHtml(source.url)}" rel="noreferrer noopener">${title}</a>`;
}

function specSection(r: DeliveryReport): string {
  const rows = Object.entries(r.target.spec)
    .map(([key, v]) => `<tr><th scope="row" class="key">${escapeHtml(key)}</th><td>${escapeHtml(specValue(v))}</td></tr>`)
    .join('');
  const table = rows ? `<table class="kv"><tbody>${rows}</tbody></table>` : '<p class="muted">The target states no spec.</p>';
  const sources = r.target.sources.length
    ? `<h3>Sources</h3><ul class="sources">${r.target.sources.map((s) => `<li>${sourceLink(s)}</li>`).join('')}</ul>`
    : '';
  return section('Target spec', table + sources, 'spec');
}

/** A margin cell coloured by whether it is inside the requested bound (the rules table holds the verdict). */
function margin(text: string, ok: boolean): string {
  return `<td class="num ${ok ? 'ok' : 'bad'}">${escapeHtml(text)}</td>`;
}

function ceilingMargin(truePeak: number | null, ceiling: number): string {
  if (!isNum(truePeak)) return `<td class="num">${DASH}</td>`;
  const headroom = ceiling - truePeak;
  return margin(headroom >= 0 ? `${fixed(headroom, 1)} dB under` : `${fixed(-headroom, 1)} dB over`, headroom >= 0);
}

function requestedSection(r: DeliveryReport): string {
  const q = r.requested;
  const m = r.deliverable.measured;
  const rows: string[] = [];
  const integratedMargin = isNum(m.integratedLufs)
    ? margin(signed(m.integratedLufs - q.integratedLufs, 'LU'), Math.abs(m.integratedLufs - q.integratedLufs) <= q.toleranceLu + 1e-9)
    : `<td class="num">${DASH}</td>`;
  rows.push(
    `<tr><th scope="row">Integrated loudness</th><td class="num">${value(q.integratedLufs, 'LUFS')} ± ${value(q.toleranceLu, 'LU')}</td><td class="num">${value(m.integratedLufs, 'LUFS')}</td>${integratedMargin}</tr>`,
    `<tr><th scope="row">True peak</th><td class="num">≤ ${value(q.truePeakCeilingDbtp, 'dBTP')}</td><td class="num">${value(m.truePeakDbtp, 'dBTP')}</td>${ceilingMargin(m.truePeakDbtp, q.truePeakCeilingDbtp)}</tr>`,
  );
  const codecPeaks = r.codecChecks.map((c) => c.truePeakDbtp).filter(isNum);
  if (codecPeaks.length > 0) {
    const worst = Math.max(...codecPeaks);
    rows.push(
      `<tr><th scope="row">True peak after codecs <span class="muted">(worst)</span></th><td class="num">≤ ${value(q.truePeakCeilingDbtp, 'dBTP')}</td><td class="num">${value(worst, 'dBTP')}</td>${ceilingMargin(worst, q.truePeakCeilingDbtp)}</tr>`,
    );
  }
  if (q.maxLoudnessRangeLu !== null) {
    const lra = m.loudnessRangeLu;
    const lraMargin = isNum(lra) ? margin(lra <= q.maxLoudnessRangeLu ? `${fixed(q.maxLoudnessRangeLu - lra, 1)} LU under` : `${fixed(lra - q.maxLoudnessRangeLu, 1)} LU over`, lra <= q.maxLoudnessRangeLu) : `<td class="num">${DASH}</td>`;
    rows.push(`<tr><th scope="row">Loudness range</th><td class="num">≤ ${value(q.maxLoudnessRangeLu, 'LU')}</td><td class="num">${value(lra, 'LU')}</td>${lraMargin}</tr>`);
  }
  const table = `<table><thead><tr><th></th><th class="num">Requested</th><th class="num">Achieved</th><th class="num">Margin</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return section('Requested vs achieved', table, 'requested');
}

function rulesSection(r: DeliveryReport): string {
  if (r.rules.length === 0) return section('Rules', '<p class="muted">No rules were checked.</p>', 'rules');
  const rows = r.rules
    .map(
      (rule) =>
        `<tr class="rule-${rule.pass ? 'pass' : 'fail'}"><td class="mark-cell">${mark(rule.pass)}</td><th scope="row">${escapeHtml(rule.rule)}</th><td class="num">${escapeHtml(rule.requested)}</td><td class="num">${escapeHtml(rule.achieved)}</td><td class="message">${escapeHtml(rule.message)}</td></tr>`,
    )
    .join('');
  const table = `<table class="rules-table"><thead><tr><th></th><th>Rule</th><th class="num">Requested</th><th class="num">Achieved</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>`;
  return section('Rules', table, 'rules');
}

const MEASUREMENT_ROWS: { label: string; key: keyof ReportMeasurement; unit: string }[] = [
  { label: 'Integrated', key: 'integratedLufs', unit: 'LUFS' },
  { label: 'True peak', key: 'truePeakDbtp', unit: 'dBTP' },
  { label: 'Sample peak', key: 'samplePeakDbfs', unit: 'dBFS' },
  { label: 'Loudness range', key: 'loudnessRangeLu', unit: 'LU' },
  { label: 'Max short-term', key: 'shortTermMaxLufs', unit: 'LUFS' },
];

function measurementsSection(r: DeliveryReport): string {
  const codecHead = r.codecChecks.map((c) => `<th class="num codec">${escapeHtml(c.codec)} ${escapeHtml(String(c.bitrateKbps))}k</th>`).join('');
  const head = `<tr><th></th><th class="num">Input</th><th class="num">Deliverable</th><th class="num delta">Δ</th>${codecHead}</tr>`;
  const body = MEASUREMENT_ROWS.map(({ label, key, unit }) => {
    const before = r.input.measured[key];
    const after = r.deliverable.measured[key];
    const delta = isNum(before) && isNum(after) ? signed(after - before, unit === 'LU' ? 'LU' : 'dB') : DASH;
    const codecCells = r.codecChecks
      .map((c) => {
        const v = key === 'integratedLufs' ? c.integratedLufs : key === 'truePeakDbtp' ? c.truePeakDbtp : null;
        return `<td class="num">${value(v, unit)}</td>`;
      })
      .join('');
    return `<tr><th scope="row">${label}</th><td class="num">${value(before, unit)}</td><td class="num strong">${value(after, unit)}</td><td class="num delta">${delta}</td>${codecCells}</tr>`;
  });
  if (r.codecChecks.length > 0) {
    const checks = r.codecChecks.map((c) => `<td class="num">${mark(c.pass)}</td>`).join('');
    body.push(`<tr class="check-row"><th scope="row">Codec check</th><td></td><td></td><td></td>${checks}</tr>`);
  }
  const note = r.codecChecks.length > 0 ? '<p class="note">Codec columns are measured after encoding at the platform’s bitrate and decoding again.</p>' : '';
  return section('Measurements before and after', `<table><thead>${head}</thead><tbody>${body.join('')}</tbody></table>${note}`, 'measurements');
}

function iterationsSection(r: DeliveryReport): string {
  if (r.iterations.length === 0) return section('Iterations', '<p class="muted">No iterations recorded.</p>', 'iterations');
  const rows = r.iterations
    .map(
      (it, index) =>
        `<tr${index === r.iterations.length - 1 ? ' class="final"' : ''}><td class="num">${index + 1}</td><td class="num">${value(it.ceilingDbtp, 'dBTP')}</td><td class="num">${isNum(it.gainDb) ? signed(it.gainDb, 'dB') : DASH}</td><td class="num">${value(it.integratedLufs, 'LUFS')}</td><td class="num">${value(it.worstTruePeakDbtp, 'dBTP')}</td><td class="message">${escapeHtml(it.note)}</td></tr>`,
    )
    .join('');
  const table = `<table><thead><tr><th class="num">#</th><th class="num">Ceiling</th><th class="num">Gain</th><th class="num">Integrated</th><th class="num">Worst true peak</th><th>Note</th></tr></thead><tbody>${rows}</tbody></table>`;
  return section('Closed-loop iterations', table, 'iterations');
}

function chainSection(r: DeliveryReport): string {
  const json = JSON.stringify(r.chain ?? null, null, 2) ?? 'null';
  return `<section class="panel chain"><details><summary>Processing chain <span class="muted">(JSON, final iteration)</span></summary><pre>${escapeHtml(json)}</pre></details></section>`;
}

// ---------------------------------------------------------------------------------------------
// Plot helpers (inline SVG; colours come from the page's CSS classes so print styles apply)

interface PlotBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const plotWidth = (b: PlotBox) => b.width - b.left - b.right;
const plotHeight = (b: PlotBox) => b.height - b.top - b.bottom;

/** Ticks at 1, 2, 2.5 or 5 × 10^k covering [lo, hi]. */
function niceTicks(lo: number, hi: number, approxCount: number): number[] {
  const raw = (hi - lo) / Math.max(1, approxCount);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude);
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

const TIME_STEPS_S = [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600];

function timeTicks(durationSeconds: number, approxCount: number): number[] {
  const step = TIME_STEPS_S.find((s) => durationSeconds / s <= approxCount) ?? 7200;
  const ticks: number[] = [];
  for (let t = 0; t <= durationSeconds + 1e-9; t += step) ticks.push(t);
  return ticks;
}

/** One SVG path through the points, lifting the pen over gaps (null or non-finite y). */
function pathData(points: { x: number; y: number | null }[]): string {
  let d = '';
  let penDown = false;
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y) || !Number.isFinite(p.x)) {
      penDown = false;
      continue;
    }
    d += `${penDown ? 'L' : 'M'}${n(p.x)} ${n(p.y)}`;
    penDown = true;
  }
  return d;
}

function clipRect(id: string, b: PlotBox): string {
  return `<defs><clipPath id="${id}"><rect x="${b.left}" y="${b.top}" width="${plotWidth(b)}" height="${plotHeight(b)}"/></clipPath></defs>`;
}

function frame(b: PlotBox): string {
  return `<rect class="frame" x="${b.left}" y="${b.top}" width="${plotWidth(b)}" height="${plotHeight(b)}"/>`;
}

/** Legend entries drawn as short lines (not paths) in the top-right corner of the plot. */
function legend(b: PlotBox, entries: { label: string; className: string }[]): string {
  // No text measurement without a DOM: 8 units a character covers the 15-unit print size of sans text.
  const widths = entries.map((e) => 28 + e.label.length * 8 + 16);
  const total = widths.reduce((sum, w) => sum + w, 0);
  let x = b.width - b.right - 8 - total;
  const y = b.top + 14;
  // A veil behind the legend keeps it readable where a curve runs underneath.
  const veil = `<rect class="legend-veil" x="${n(x - 8)}" y="${b.top + 3}" width="${n(total + 4)}" height="22" rx="3"/>`;
  return (
    veil +
    entries
      .map((e, k) => {
        const item = `<line class="${e.className}" x1="${n(x)}" y1="${y}" x2="${n(x + 22)}" y2="${y}"/><text class="legend-text" x="${n(x + 28)}" y="${y + 4}">${escapeHtml(e.label)}</text>`;
        x += widths[k]!;
        return item;
      })
      .join('')
  );
}

function finiteRange(values: Iterable<number | null>): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : null;
}

// ---------------------------------------------------------------------------------------------
// Spectrum: input vs master on a log-frequency axis

const SPECTRUM_MIN_HZ = 20;
const SPECTRUM_MAX_HZ = 20000;
const SPECTRUM_GRID_HZ = [31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000];

function spectrumSvg(input: ReportCurve, master: ReportCurve): string {
  const b: PlotBox = { width: 1000, height: 310, left: 46, right: 14, top: 22, bottom: 28 };
  const inBand = (c: ReportCurve) => c.db.filter((_, k) => (c.hz[k] ?? 0) >= SPECTRUM_MIN_HZ && (c.hz[k] ?? 0) <= SPECTRUM_MAX_HZ);
  const range = finiteRange([...inBand(input), ...inBand(master)]) ?? { min: -60, max: 0 };
  const hi = Math.ceil((range.max + 2) / 10) * 10;
  // Show the top 70 dB at most: below that a long-term spectrum is noise floor, not tonal balance.
  const lo = Math.max(hi - 70, Math.floor((range.min - 2) / 10) * 10);
  const span = Math.log10(SPECTRUM_MAX_HZ / SPECTRUM_MIN_HZ);
  const x = (hz: number) => b.left + (Math.log10(hz / SPECTRUM_MIN_HZ) / span) * plotWidth(b);
  const y = (db: number) => b.top + ((hi - db) / (hi - lo)) * plotHeight(b);

  const grid = [
    ...SPECTRUM_GRID_HZ.map(
      (hz) =>
        `<line class="grid" x1="${n(x(hz))}" y1="${b.top}" x2="${n(x(hz))}" y2="${b.top + plotHeight(b)}"/><text class="tick" x="${n(x(hz))}" y="${b.height - 10}" text-anchor="middle">${hzLabel(hz)}</text>`,
    ),
    ...niceTicks(lo, hi, 7).map(
      (db) =>
        `<line class="grid" x1="${b.left}" y1="${n(y(db))}" x2="${b.left + plotWidth(b)}" y2="${n(y(db))}"/><text class="tick" x="${b.left - 6}" y="${n(y(db) + 4)}" text-anchor="end">${fixed(db, 0)}</text>`,
    ),
  ].join('');
  const curve = (c: ReportCurve, className: string) => {
    const points = c.hz.map((hz, k) => ({ x: hz > 0 ? x(hz) : NaN, y: isNum(c.db[k]) ? y(c.db[k]) : null }));
    return `<path class="curve ${className}" clip-path="url(#spectrum-clip)" d="${pathData(points)}"/>`;
  };
  return `<svg class="plot" viewBox="0 0 ${b.width} ${b.height}" role="img" aria-label="Spectrum of input and master">
${clipRect('spectrum-clip', b)}${grid}
<text class="axis-title" x="${b.left - 6}" y="${b.top - 8}" text-anchor="end">dB</text>
<text class="axis-title" x="${b.left - 6}" y="${b.height - 10}" text-anchor="end">Hz</text>
${curve(input, 'c-input')}
${curve(master, 'c-master')}
${frame(b)}${legend(b, [
    { label: 'Input', className: 'key-line c-input' },
    { label: 'Master', className: 'key-line c-master' },
  ])}
</svg>`;
}

// ---------------------------------------------------------------------------------------------
// Spectrograms: input and master side by side on one colour scale

/** Inferno-like perceptual ramp (black → purple → orange → pale yellow), evenly spaced stops. */
const COLORMAP_STOPS: readonly (readonly [number, number, number])[] = [
  [0, 0, 4],
  [22, 11, 57],
  [66, 10, 104],
  [106, 23, 110],
  [147, 38, 103],
  [188, 55, 84],
  [221, 81, 58],
  [243, 120, 25],
  [252, 165, 10],
  [246, 215, 70],
  [252, 255, 164],
];

const COLORMAP_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  const last = COLORMAP_STOPS.length - 1;
  for (let k = 0; k < 256; k++) {
    const pos = (k / 255) * last;
    const i = Math.min(Math.floor(pos), last - 1);
    const f = pos - i;
    const a = COLORMAP_STOPS[i]!;
    const c = COLORMAP_STOPS[i + 1]!;
    for (let ch = 0; ch < 3; ch++) lut[k * 3 + ch] = Math.round(a[ch]! + (c[ch]! - a[ch]!) * f);
  }
  return lut;
})();

/** Colour range shown in the spectrograms: the loudest cell of either, down this far. */
const SPECTROGRAM_RANGE_DB = 90;

function spectrogramScale(a: ReportSpectrogram, b: ReportSpectrogram): { lo: number; hi: number } {
  const range = finiteRange([...a.db, ...b.db]);
  const hi = range ? Math.ceil(range.max / 6) * 6 : 0;
  return { lo: hi - SPECTROGRAM_RANGE_DB, hi };
}

function spectrogramPng(s: ReportSpectrogram, scale: { lo: number; hi: number }): Buffer {
  const { columns, rows } = s;
  const rgba = new Uint8Array(columns * rows * 4);
  for (let c = 0; c < columns; c++) {
    for (let r = 0; r < rows; r++) {
      const db = s.db[c * rows + r];
      const t = isNum(db) ? Math.min(1, Math.max(0, (db - scale.lo) / (scale.hi - scale.lo))) : 0;
      const k = Math.round(t * 255) * 3;
      // Rows run low to high frequency; image rows run top to bottom.
      const p = ((rows - 1 - r) * columns + c) * 4;
      rgba[p] = COLORMAP_LUT[k]!;
      rgba[p + 1] = COLORMAP_LUT[k + 1]!;
      rgba[p + 2] = COLORMAP_LUT[k + 2]!;
      rgba[p + 3] = 255;
    }
  }
  return encodePng(columns, rows, rgba);
}

/** Fractional row index of `hz` (log interpolation between row centres), or null outside the rows. */
function rowPosition(rowHz: number[], hz: number): number | null {
  for (let k = 0; k + 1 < rowHz.length; k++) {
    const f0 = rowHz[k]!;
    const f1 = rowHz[k + 1]!;
    if (hz >= f0 && hz <= f1 && f0 > 0 && f1 > f0) return k + Math.log(hz / f0) / Math.log(f1 / f0);
  }
  return null;
}

const SPECTROGRAM_TICK_HZ = [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];

function spectrogramSvg(s: ReportSpectrogram, scale: { lo: number; hi: number }, label: string): string {
  const b: PlotBox = { width: 480, height: 250, left: 36, right: 14, top: 6, bottom: 24 };
  const valid = s.columns > 0 && s.rows > 0 && s.db.length >= s.columns * s.rows;
  if (!valid) {
    return `<svg class="plot" viewBox="0 0 ${b.width} ${b.height}" role="img" aria-label="${escapeHtml(label)} spectrogram">${frame(b)}<text class="tick" x="${b.width / 2}" y="${b.height / 2}" text-anchor="middle">no spectrogram data</text></svg>`;
  }
  const uri = `data:image/png;base64,${spectrogramPng(s, scale).toString('base64')}`;
  const w = plotWidth(b);
  const h = plotHeight(b);
  const duration = s.columns * s.secondsPerColumn;
  const freqTicks = SPECTROGRAM_TICK_HZ.map((hz) => ({ hz, pos: rowPosition(s.rowHz, hz) }))
    .filter((t): t is { hz: number; pos: number } => t.pos !== null)
    .map(({ hz, pos }) => {
      const y = b.top + ((s.rows - 0.5 - pos) / s.rows) * h;
      return `<line class="tick-line" x1="${b.left - 4}" y1="${n(y)}" x2="${b.left}" y2="${n(y)}"/><text class="tick" x="${b.left - 6}" y="${n(y + 3.5)}" text-anchor="end">${hzLabel(hz)}</text>`;
    });
  const timeLabels = timeTicks(duration, 8).map((t) => {
    const x = b.left + (duration > 0 ? t / duration : 0) * w;
    return `<line class="tick-line" x1="${n(x)}" y1="${b.top + h}" x2="${n(x)}" y2="${b.top + h + 4}"/><text class="tick" x="${n(x)}" y="${b.height - 6}" text-anchor="middle">${clock(t)}</text>`;
  });
  return `<svg class="plot" viewBox="0 0 ${b.width} ${b.height}" role="img" aria-label="${escapeHtml(label)} spectrogram">
<image x="${b.left}" y="${b.top}" width="${w}" height="${h}" preserveAspectRatio="none" href="${uri}"/>
${frame(b)}${freqTicks.join('')}${timeLabels.join('')}
</svg>`;
}

function colorBar(scale: { lo: number; hi: number }): string {
  const stops = COLORMAP_STOPS.map(
    ([r, g, bl], k) => `<stop offset="${n((k / (COLORMAP_STOPS.length - 1)) * 100)}%" stop-color="rgb(${r},${g},${bl})"/>`,
  ).join('');
  const b = { left: 90, width: 420, top: 4, height: 10 };
  const ticks = niceTicks(scale.lo, scale.hi, 6).map((db) => {
    const x = b.left + ((db - scale.lo) / (scale.hi - scale.lo)) * b.width;
    return `<text class="tick" x="${n(x)}" y="28" text-anchor="middle">${fixed(db, 0)}</text>`;
  });
  return `<svg class="colorbar" viewBox="0 0 600 32" role="img" aria-label="Colour scale">
<defs><linearGradient id="colormap">${stops}</linearGradient></defs>
<text class="tick" x="${b.left - 8}" y="13" text-anchor="end">dB</text>
<rect x="${b.left}" y="${b.top}" width="${b.width}" height="${b.height}" fill="url(#colormap)"/>
<rect class="frame" x="${b.left}" y="${b.top}" width="${b.width}" height="${b.height}"/>
${ticks.join('')}
</svg>`;
}

// ---------------------------------------------------------------------------------------------
// Loudness over time

function loudnessSvg(input: ReportPictures['loudness'], master: ReportPictures['loudness'], targetLufs: number, toleranceLu: number): string {
  const b: PlotBox = { width: 1000, height: 290, left: 46, right: 14, top: 22, bottom: 28 };
  const seconds = (l: ReportPictures['loudness']) => Math.max(l.shortTermLufs.length, l.momentaryLufs.length) * l.intervalSeconds;
  const duration = Math.max(seconds(input), seconds(master), 1);
  const range = finiteRange([...input.shortTermLufs, ...master.shortTermLufs, ...input.momentaryLufs, ...master.momentaryLufs, targetLufs]) ?? { min: targetLufs - 20, max: targetLufs };
  const hi = Math.ceil((range.max + 2) / 6) * 6;
  // Momentary loudness plunges in fades and gaps; 42 LU of view keeps the music readable.
  const lo = Math.max(hi - 42, Math.floor((range.min - 2) / 6) * 6);
  const x = (t: number) => b.left + (t / duration) * plotWidth(b);
  const y = (lufs: number) => b.top + ((hi - lufs) / (hi - lo)) * plotHeight(b);

  const grid = [
    ...niceTicks(lo, hi, 7).map(
      (v) => `<line class="grid" x1="${b.left}" y1="${n(y(v))}" x2="${b.left + plotWidth(b)}" y2="${n(y(v))}"/><text class="tick" x="${b.left - 6}" y="${n(y(v) + 4)}" text-anchor="end">${fixed(v, 0)}</text>`,
    ),
    ...timeTicks(duration, 12).map(
      (t) => `<line class="grid" x1="${n(x(t))}" y1="${b.top}" x2="${n(x(t))}" y2="${b.top + plotHeight(b)}"/><text class="tick" x="${n(x(t))}" y="${b.height - 10}" text-anchor="middle">${clock(t)}</text>`,
    ),
  ].join('');
  const series = (values: (number | null)[], interval: number, className: string) => {
    // Each value describes the window ending at its time; plot it at the window's end.
    const points = values.map((v, k) => ({ x: x((k + 1) * interval), y: v === null ? null : y(Math.max(lo - 1, v)) }));
    return `<path class="curve ${className}" clip-path="url(#loudness-clip)" d="${pathData(points)}"/>`;
  };
  const band = `<rect class="target-band" x="${b.left}" y="${n(y(targetLufs + toleranceLu))}" width="${plotWidth(b)}" height="${n(y(targetLufs - toleranceLu) - y(targetLufs + toleranceLu))}" clip-path="url(#loudness-clip)"/>`;
  const target = `<line class="target-line" x1="${b.left}" y1="${n(y(targetLufs))}" x2="${b.left + plotWidth(b)}" y2="${n(y(targetLufs))}"/><text class="target-text" x="${b.left + 6}" y="${n(y(targetLufs) - 5)}">target ${fixed(targetLufs, 1)} LUFS integrated</text>`;
  return `<svg class="plot" viewBox="0 0 ${b.width} ${b.height}" role="img" aria-label="Loudness over time">
${clipRect('loudness-clip', b)}${grid}${band}
<text class="axis-title" x="${b.left - 6}" y="${b.top - 8}" text-anchor="end">LUFS</text>
${series(input.momentaryLufs, input.intervalSeconds, 'c-input momentary')}
${series(master.momentaryLufs, master.intervalSeconds, 'c-master momentary')}
${series(input.shortTermLufs, input.intervalSeconds, 'c-input')}
${series(master.shortTermLufs, master.intervalSeconds, 'c-master')}
${target}${frame(b)}${legend(b, [
    { label: 'Input short-term', className: 'key-line c-input' },
    { label: 'Master short-term', className: 'key-line c-master' },
    { label: 'momentary', className: 'key-line c-neutral momentary' },
  ])}
</svg>`;
}

function picturesSection(r: DeliveryReport): string {
  const { input, master } = r.pictures;
  const scale = spectrogramScale(input.spectrogram, master.spectrogram);
  return `${section('Spectrum', spectrumSvg(input.spectrum, master.spectrum), 'picture')}
${section(
  'Spectrograms',
  `<div class="pair"><figure><figcaption>Input</figcaption>${spectrogramSvg(input.spectrogram, scale, 'Input')}</figure><figure><figcaption>Master</figcaption>${spectrogramSvg(master.spectrogram, scale, 'Master')}</figure></div>${colorBar(scale)}`,
  'picture',
)}
${section('Loudness over time', loudnessSvg(input.loudness, master.loudness, r.requested.integratedLufs, r.requested.toleranceLu), 'picture')}`;
}

// ---------------------------------------------------------------------------------------------
// Styles

const CSS = `
:root {
  --bg: #111315; --panel: #181b1e; --line: #2a2e33; --grid: #24282d; --text: #d5d8dc; --muted: #858c95;
  --strong: #f2f3f4; --pass: #6fcf8f; --fail: #f0645c; --input: #6f9fd8; --master: #f0a848; --neutral: #aab0b8;
  --mono: ui-monospace, "SF Mono", "JetBrains Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  color-scheme: dark;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0 auto; max-width: 1360px; padding: 20px 24px 32px; color: var(--text); background: var(--bg);
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", "Helvetica Neue", "DejaVu Sans", sans-serif; }
h1 { margin: 0; font-size: 24px; font-weight: 600; color: var(--strong); letter-spacing: .01em; }
h2 { margin: 0 0 8px; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .09em; color: var(--muted); }
h3 { margin: 12px 0 4px; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .09em; color: var(--muted); }
a { color: var(--input); text-decoration: none; border-bottom: 1px solid color-mix(in srgb, var(--input) 40%, transparent); }
.muted { color: var(--muted); }
.top { display: flex; justify-content: space-between; align-items: stretch; gap: 24px; }
.eyebrow { font-size: 11px; text-transform: uppercase; letter-spacing: .12em; color: var(--muted); }
.target-id { font-family: var(--mono); font-size: 12px; color: var(--muted); }
.verdict { min-width: 220px; padding: 8px 22px; border: 2px solid; border-radius: 6px; text-align: center; }
.verdict.pass { color: var(--pass); border-color: var(--pass); background: color-mix(in srgb, var(--pass) 9%, transparent); }
.verdict.fail { color: var(--fail); border-color: var(--fail); background: color-mix(in srgb, var(--fail) 10%, transparent); }
.verdict-word { font-size: 44px; line-height: 1.05; font-weight: 800; letter-spacing: .08em; }
.verdict-sub { font-size: 12px; }
.summary { margin: 14px 0 10px; font-size: 15px; line-height: 1.5; color: var(--strong); max-width: 110ch; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 16px; padding: 10px 14px;
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; min-width: 0; }
.file { font-family: var(--mono); color: var(--strong); word-break: break-all; }
.hash { font-family: var(--mono); font-size: 12px; color: var(--muted); word-break: break-all; }
.grid-2 { display: grid; grid-template-columns: minmax(0, 1.25fr) minmax(0, 1fr); gap: 12px; margin-bottom: 12px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px 12px; margin-bottom: 12px; break-inside: avoid; }
.grid-2 > .panel, .column > .panel:last-child { margin-bottom: 0; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--grid); }
thead th { font-size: 11px; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); white-space: nowrap; }
tbody th { font-weight: 500; color: var(--text); white-space: nowrap; }
tbody tr:last-child > * { border-bottom: 0; }
.num { text-align: right; white-space: nowrap; font-family: var(--mono); font-size: 12px; }
thead .num { font-family: inherit; font-size: 11px; }
.strong { color: var(--strong); }
.delta { color: var(--muted); }
.ok { color: var(--pass); }
.bad { color: var(--fail); }
.kv .key { font-family: var(--mono); font-size: 12px; color: var(--muted); font-weight: 400; }
.kv td { font-family: var(--mono); font-size: 12px; }
.sources { margin: 0; padding-left: 18px; }
.mark { font-size: 11px; font-weight: 700; letter-spacing: .04em; text-transform: uppercase; white-space: nowrap; }
.mark.pass { color: var(--pass); }
.mark.fail { color: var(--fail); }
.mark-cell { width: 1%; }
tr.rule-fail { background: color-mix(in srgb, var(--fail) 8%, transparent); }
tr.rule-fail th { color: var(--strong); }
.message { color: var(--muted); min-width: 20ch; }
.rules-table td.num { white-space: normal; }
tr.final td { color: var(--strong); }
tr.final .message { color: var(--text); }
.note { margin: 6px 0 0; font-size: 11px; color: var(--muted); }
figure { margin: 0; min-width: 0; }
figcaption { font-size: 12px; color: var(--text); margin: 0 0 2px 7.5%; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
svg.plot { display: block; width: 100%; height: auto; }
svg.colorbar { display: block; width: 600px; max-width: 100%; height: auto; margin: 2px auto 0; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
.tick { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
.axis-title { font-size: 11px; fill: var(--muted); }
.legend-text { font-size: 12px; fill: var(--text); }
.legend-veil { fill: var(--panel); opacity: .85; }
.grid { stroke: var(--grid); stroke-width: 1; }
.tick-line { stroke: var(--muted); stroke-width: 1; }
.frame { fill: none; stroke: var(--line); stroke-width: 1; }
.curve { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
.key-line { stroke-width: 2.5; }
.c-input { stroke: var(--input); }
.c-master { stroke: var(--master); }
.c-neutral { stroke: var(--neutral); }
.momentary { stroke-width: 1; opacity: .35; }
.key-line.momentary { stroke-width: 2; opacity: .5; }
.target-line { stroke: var(--pass); stroke-width: 1.2; stroke-dasharray: 6 4; }
.target-band { fill: var(--pass); opacity: .08; }
.target-text { font-size: 11px; fill: var(--pass); }
.chain summary { cursor: pointer; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .09em; color: var(--muted); }
.chain pre { margin: 8px 0 0; padding: 10px; max-height: 480px; overflow: auto; background: var(--bg); border: 1px solid var(--grid);
  border-radius: 4px; font: 12px/1.4 var(--mono); color: var(--text); }
footer { margin-top: 14px; font-size: 11px; color: var(--muted); }
@media (max-width: 980px) { .grid-2 { grid-template-columns: 1fr; } }
/* Plots scale with the page; on paper and narrow windows their text needs more user units to stay legible. */
@media print, (max-width: 980px) { .tick, .axis-title, .target-text { font-size: 14px; } .legend-text { font-size: 15px; } }
@media (max-width: 640px) { .pair { grid-template-columns: 1fr; } .top { flex-direction: column; } }
@media print {
  :root { --bg: #fff; --panel: #fff; --line: #bbb; --grid: #e2e2e2; --text: #222; --muted: #666; --strong: #000;
    --pass: #17803d; --fail: #c0271e; --input: #2a62a8; --master: #c46a00; --neutral: #777; color-scheme: light; }
  @page { size: A4; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 11px; }
  .panel, .facts { border-color: var(--line); }
  .verdict, tr.rule-fail { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .picture { break-inside: avoid; }
  .chain pre { max-height: none; overflow: visible; white-space: pre-wrap; }
  a { border-bottom: 0; }
}
`;

// ---------------------------------------------------------------------------------------------

/** Render a delivery report as a self-contained HTML page (no scripts, no external resources). */
export function renderReportHtml(report: DeliveryReport): string {
  const title = `${report.pass ? 'PASS' : 'FAIL'} · ${report.target.name} · ${report.deliverable.file}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Lathe ${escapeHtml(report.lathe.version)}">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${header(report)}
<div class="grid-2">
<div class="column">
${requestedSection(report)}
${measurementsSection(report)}
</div>
${specSection(report)}
</div>
${rulesSection(report)}
${iterationsSection(report)}
${picturesSection(report)}
${chainSection(report)}
<footer>Lathe ${escapeHtml(report.lathe.version)} · report schema ${escapeHtml(report.schema)} v${escapeHtml(String(report.version))}</footer>
</body>
</html>
`;
}
