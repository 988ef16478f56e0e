// The delivery report page and its PNG encoder: escaping, no external resources, every rule shown,
// and spectrogram images that a strict PNG reader (written here, independent of png.ts) accepts.
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng } from '../../main/core/delivery/png.js';
import { escapeHtml, renderReportHtml } from '../../main/core/delivery/report-html.js';
import type { DeliveryReport, ReportPictures } from '../../main/core/delivery/report-types.js';

// ---------------------------------------------------------------------------------------------
// Independent PNG reading

/** CRC-32 bit by bit (no table), so a wrong table in png.ts cannot agree with itself. */
function crc32Bitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface PngChunk {
  type: string;
  data: Buffer;
}

interface DecodedPng {
  chunks: PngChunk[];
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  compression: number;
  filter: number;
  interlace: number;
  /** Inflated IDAT: filtered scanlines, one filter byte each. */
  raw: Buffer;
}

function readPng(png: Buffer): DecodedPng {
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    const crc = png.readUInt32BE(at + 8 + length);
    expect(crc, `CRC of ${type}`).toBe(crc32Bitwise(png.subarray(at + 4, at + 8 + length)));
    chunks.push({ type, data });
    at += 12 + length;
  }
  expect(at).toBe(png.length);
  expect(chunks[0]?.type).toBe('IHDR');
  expect(chunks.at(-1)).toMatchObject({ type: 'IEND' });
  expect(chunks.at(-1)?.data.length).toBe(0);
  const ihdr = chunks[0]!.data;
  expect(ihdr.length).toBe(13);
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  return {
    chunks,
    width: ihdr.readUInt32BE(0),
    height: ihdr.readUInt32BE(4),
    bitDepth: ihdr[8]!,
    colorType: ihdr[9]!,
    compression: ihdr[10]!,
    filter: ihdr[11]!,
    interlace: ihdr[12]!,
    raw,
  };
}

/** Undo the five PNG scanline filters for 8-bit RGBA. */
function unfilterRgba(raw: Buffer, width: number, height: number): Uint8Array {
  const stride = width * 4;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= 4 ? out[y * stride + i - 4]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = i >= 4 && y > 0 ? out[(y - 1) * stride + i - 4]! : 0;
      let predictor: number;
      if (filter === 0) predictor = 0;
      else if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else throw new Error(`unknown filter ${filter} on row ${y}`);
      out[y * stride + i] = (x + predictor) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A realistic report, synthesised

/** xorshift32, so the fixture's texture is the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const logSpaced = (lo: number, hi: number, count: number) => Array.from({ length: count }, (_, k) => lo * (hi / lo) ** (k / (count - 1)));

/** Song sections: [start seconds, short-term LUFS of the input]. */
const SECTIONS: [number, number][] = [
  [0, -27],
  [12, -21],
  [44, -15],
  [76, -20],
  [100, -24],
  [116, -13.5],
  [160, -19],
  [172, -34],
];
const DURATION_S = 180;

function sectionLevel(t: number): number {
  let level = SECTIONS[0]![1];
  for (const [start, lufs] of SECTIONS) if (t >= start) level = lufs;
  return level;
}

function pictures(master: boolean): ReportPictures {
  const random = prng(master ? 7 : 3);
  // Master: more even (compressed towards -14), a little more low end and air.
  const shape = (lufs: number) => (master ? -14 + (lufs + 17) * 0.6 : lufs);

  const hz = logSpaced(12, 22050, 256);
  const spectrumDb = hz.map((f) => {
    const tilt = -4.5 * Math.log2(Math.max(f, 60) / 1000); // pink-ish falloff
    const lowRolloff = f < 40 ? -18 * Math.log2(40 / f) : 0;
    const highRolloff = f > 16000 ? -30 * Math.log2(f / 16000) : 0;
    const eq = master ? 2.5 / (1 + (f / 90) ** 2) + 2 / (1 + (9000 / f) ** 2) + 3 : 0;
    return -38 + tilt + lowRolloff + highRolloff + eq + (random() - 0.5) * 1.5;
  });

  const columns = 360;
  const rows = 96;
  const secondsPerColumn = DURATION_S / columns;
  const rowHz = logSpaced(30, 18000, rows);
  const spectrogramDb: number[] = [];
  for (let c = 0; c < columns; c++) {
    const t = c * secondsPerColumn;
    const level = shape(sectionLevel(t)) + 14;
    const beat = c % 4 === 0 ? 8 : 0;
    const note = 110 * 2 ** (Math.floor(t / 4) % 5 / 12);
    for (let r = 0; r < rows; r++) {
      const f = rowHz[r]!;
      let db = -30 + level - 5 * Math.log2(Math.max(f, 80) / 500) + (random() - 0.5) * 6;
      if (f < 120) db += beat; // kick
      if (f > 6000 && c % 2 === 1) db += 5; // hats
      for (let h = 1; h <= 8; h++) if (Math.abs(Math.log2(f / (note * h))) < 0.04) db += 12 - h;
      spectrogramDb.push(db);
    }
  }

  const intervalSeconds = 0.1;
  const frames = DURATION_S / intervalSeconds;
  const shortTermLufs: (number | null)[] = [];
  const momentaryLufs: (number | null)[] = [];
  let smooth = -40;
  for (let k = 0; k < frames; k++) {
    const t = (k + 1) * intervalSeconds;
    if (t < 1.5) {
      // Leading silence: the meter has nothing to show yet.
      shortTermLufs.push(null);
      momentaryLufs.push(null);
      continue;
    }
    const target = shape(sectionLevel(t)) - (t > 172 ? (t - 172) * 3 : 0);
    smooth += (target - smooth) * 0.03;
    const wobble = Math.sin(t * 1.7) * 0.8;
    shortTermLufs.push(smooth + wobble);
    momentaryLufs.push(smooth + wobble + (random() - 0.5) * 7 + (k % 5 === 0 ? 2 : 0));
  }

  return {
    spectrum: { hz, db: spectrumDb },
    spectrogram: { columns, rows, rowHz, secondsPerColumn, db: spectrogramDb },
    loudness: { intervalSeconds, shortTermLufs, momentaryLufs },
  };
}

const HOSTILE_NAME = `Night Drive <script>alert("x")</script> & 'final' v3`;

function buildReport(): DeliveryReport {
  return {
    schema: 'lathe.delivery-report',
    version: 1,
    createdAt: '2025-05-14T16:42:07.311Z',
    lathe: { version: '0.1.0', nativeDspVersion: '0.1.0', ffmpeg: '6.1.1' },
    input: {
      file: `${HOSTILE_NAME}.wav`,
      sha256: 'a3f1c9d2e4b5a6978877665544332211ffeeddccbbaa99887766554433221100',
      codec: 'pcm_s24le',
      sampleRate: 48000,
      channels: 2,
      bitDepth: 24,
      durationSeconds: DURATION_S,
      measured: { integratedLufs: -17.8, truePeakDbtp: -0.2, samplePeakDbfs: -0.4, loudnessRangeLu: 9.6, shortTermMaxLufs: -12.9 },
    },
    target: {
      id: 'spotify',
      name: 'Spotify (loud)',
      spec: {
        integratedLufs: -14,
        toleranceLu: 1,
        truePeakMaxDbtp: -1,
        container: 'wav',
        sampleRate: 44100,
        bitDepth: 16,
        loudnessNormalization: true,
        maxLoudnessRangeLu: null,
        codecChecks: 'libvorbis 320k, aac 256k',
      },
      sources: [
        { title: 'Spotify for Artists — Loudness normalization', url: 'https://support.spotify.com/artists/article/loudness-normalization/' },
        { title: 'AES TD1008 streaming loudness', url: 'https://www.aes.org/technical/documentDetails.cfm?docID=731&lang=en' },
      ],
    },
    chain: {
      version: 1,
      modules: [
        { type: 'eq', bands: [{ kind: 'lowShelf', hz: 90, gainDb: 1.5 }, { kind: 'highShelf', hz: 9000, gainDb: 1.0 }] },
        { type: 'compressor', thresholdDb: -18, ratio: 2, attackMs: 30, releaseMs: 200 },
        { type: 'gain', gainDb: 5.3 },
        { type: 'limiter', ceilingDbtp: -1.6, lookaheadMs: 5, note: 'a "quoted" <tag> & more' },
      ],
    },
    deliverable: {
      file: `${HOSTILE_NAME} [Spotify].wav`,
      sha256: '5be0f2c1d3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345abcd',
      container: 'wav',
      codec: 'pcm_s16le',
      sampleRate: 44100,
      bitDepth: 16,
      bitrateKbps: null,
      measured: { integratedLufs: -14.2, truePeakDbtp: -1.7, samplePeakDbfs: -2.0, loudnessRangeLu: 6.4, shortTermMaxLufs: -10.8 },
    },
    requested: { integratedLufs: -14, toleranceLu: 1, truePeakCeilingDbtp: -1, maxLoudnessRangeLu: 8 },
    codecChecks: [
      { codec: 'libvorbis', bitrateKbps: 320, integratedLufs: -14.2, truePeakDbtp: -1.3, pass: true },
      { codec: 'aac', bitrateKbps: 256, integratedLufs: -14.3, truePeakDbtp: -0.8, pass: false },
    ],
    iterations: [
      { ceilingDbtp: -1.0, gainDb: 4.4, integratedLufs: -13.9, worstTruePeakDbtp: -0.3, note: 'aac 256k overshoots the ceiling by 0.7 dB: lower the ceiling' },
      { ceilingDbtp: -1.4, gainDb: 4.1, integratedLufs: -14.1, worstTruePeakDbtp: -0.6, note: 'aac 256k still 0.4 dB over: lower the ceiling again' },
      { ceilingDbtp: -1.6, gainDb: 3.8, integratedLufs: -14.2, worstTruePeakDbtp: -0.8, note: 'stopped: a lower ceiling would push integrated loudness out of tolerance' },
    ],
    rules: [
      { rule: 'integrated loudness', requested: '-14.0 LUFS ± 1.0', achieved: '-14.2 LUFS', pass: true, message: 'within 0.2 LU of the target' },
      { rule: 'true peak', requested: '≤ -1.0 dBTP', achieved: '-1.7 dBTP', pass: true, message: '0.7 dB under the ceiling' },
      { rule: 'loudness range', requested: '≤ 8.0 LU', achieved: '6.4 LU', pass: true, message: 'dynamics kept within the platform’s range' },
      { rule: 'true peak after libvorbis 320k', requested: '≤ -1.0 dBTP', achieved: '-1.3 dBTP', pass: true, message: 'survives the codec with 0.3 dB to spare' },
      { rule: 'true peak after aac 256k', requested: '≤ -1.0 dBTP', achieved: '-0.8 dBTP', pass: false, message: 'AAC encoding adds inter-sample peaks 0.2 dB above the ceiling; a lower ceiling would cost loudness' },
      { rule: 'format', requested: 'wav, 44100 Hz, 16-bit', achieved: 'wav, 44100 Hz, 16-bit', pass: true, message: 'dithered to 16 bits (TPDF)' },
    ],
    pass: false,
    summary:
      'Raised the master by 3.8 dB into a limiter at -1.6 dBTP and reached -14.2 LUFS with a true peak of -1.7 dBTP. It does not meet the spec: after AAC 256k encoding the true peak is -0.8 dBTP, 0.2 dB over the -1.0 dBTP ceiling.',
    pictures: { input: pictures(false), master: pictures(true) },
  };
}

// Exported so a throwaway script can render the same fixture to a file for a visual check.
export { buildReport as buildReportFixture };

function svgByLabel(html: string, label: string): string {
  const start = html.indexOf(`aria-label="${label}"`);
  expect(start, `svg "${label}"`).toBeGreaterThan(0);
  const open = html.lastIndexOf('<svg', start);
  return html.slice(open, html.indexOf('</svg>', start) + '</svg>'.length);
}

// ---------------------------------------------------------------------------------------------

describe('encodePng', () => {
  it('computes the standard CRC-32 check value', () => {
    const check = Buffer.from('123456789', 'latin1');
    expect(crc32Bitwise(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
  });

  it('writes a 2×2 RGBA image that decodes to the same bytes', () => {
    // red, green / blue, half-transparent white
    const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 128]);
    const png = encodePng(2, 2, rgba);
    const decoded = readPng(png);
    expect(decoded.chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(decoded).toMatchObject({ width: 2, height: 2, bitDepth: 8, colorType: 6, compression: 0, filter: 0, interlace: 0 });
    expect(decoded.raw.length).toBe(2 * (1 + 4 * 2));
    expect([...unfilterRgba(decoded.raw, 2, 2)]).toEqual([...rgba]);
    for (const c of decoded.chunks) {
      const typed = Buffer.concat([Buffer.from(c.type, 'latin1'), c.data]);
      expect(crc32(typed)).toBe(crc32Bitwise(typed));
    }
  });

  it('refuses sizes that do not match the pixel data', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(/expected 16 RGBA bytes/);
    expect(() => encodePng(0, 2, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('renderReportHtml', () => {
  const report = buildReport();
  const html = renderReportHtml(report);

  it('states the verdict, the summary and the identity of both files', () => {
    expect(html).toMatch(/<div class="verdict fail">\s*<div class="verdict-word">FAIL<\/div>/);
    expect(html).toContain('1 of 6 rules fail');
    expect(html).toContain(escapeHtml(report.summary));
    expect(html).toContain(report.deliverable.sha256);
    expect(html).toContain(report.input.sha256);
    expect(html).toContain('ffmpeg 6.1.1');
    expect(html).toContain(escapeHtml(report.target.name));

    const passing = renderReportHtml({ ...report, pass: true, rules: report.rules.map((r) => ({ ...r, pass: true })) });
    expect(passing).toMatch(/<div class="verdict pass">\s*<div class="verdict-word">PASS<\/div>/);
    expect(passing).toContain('all 6 rules pass');
  });

  it('shows every rule with its own pass or fail', () => {
    const rows = [...html.matchAll(/<tr class="rule-(pass|fail)">([\s\S]*?)<\/tr>/g)];
    expect(rows).toHaveLength(report.rules.length);
    report.rules.forEach((rule, k) => {
      const [, verdict, cells] = rows[k]!;
      expect(verdict).toBe(rule.pass ? 'pass' : 'fail');
      expect(cells).toContain(rule.pass ? '✓ pass' : '✗ fail');
      expect(cells).toContain(escapeHtml(rule.rule));
      expect(cells).toContain(escapeHtml(rule.requested));
      expect(cells).toContain(escapeHtml(rule.achieved));
      expect(cells).toContain(escapeHtml(rule.message));
    });
  });

  it('escapes file names and the chain', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain(HOSTILE_NAME);
    expect(html).toContain('Night Drive &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;final&#39; v3 [Spotify].wav');
    expect(html).toContain('&quot;note&quot;: &quot;a \\&quot;quoted\\&quot; &lt;tag&gt; &amp; more&quot;');
    expect(html).toMatch(/<details>\s*<summary>Processing chain/);
  });

  it('loads nothing from the network: the only URLs are the source links', () => {
    expect(html).not.toMatch(/<script\b|<link\b|<iframe\b|<object\b|<embed\b|@import|url\(\s*['"]?https?:/i);
    expect(html).not.toMatch(/<img\s[^>]*src="https?:/i);
    const urls = [...html.matchAll(/https?:\/\//g)];
    expect(urls).toHaveLength(report.target.sources.length);
    for (const m of urls) expect(html.slice(m.index - 9, m.index)).toBe('<a href="');
    for (const source of report.target.sources) expect(html).toContain(`<a href="${escapeHtml(source.url)}"`);
  });

  it('never turns a non-web source into a link', () => {
    const page = renderReportHtml({ ...report, target: { ...report.target, sources: [{ title: 'bad', url: 'javascript:alert(1)' }] } });
    expect(page).not.toMatch(/href="javascript:/i);
  });

  it('embeds both spectrograms as valid PNGs on one colour scale', () => {
    const uris = [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)];
    expect(uris).toHaveLength(2);
    const { columns, rows } = report.pictures.input.spectrogram;
    const images = uris.map((m) => readPng(Buffer.from(m[1]!, 'base64')));
    for (const png of images) {
      expect(png).toMatchObject({ width: columns, height: rows, bitDepth: 8, colorType: 6, interlace: 0 });
      expect(png.raw.length).toBe(rows * (1 + 4 * columns));
    }
    // The master is louder, so on a shared scale its pixels are brighter on average.
    const brightness = (png: DecodedPng) => {
      const px = unfilterRgba(png.raw, png.width, png.height);
      let sum = 0;
      for (let i = 0; i < px.length; i += 4) sum += px[i]! + px[i + 1]! + px[i + 2]!;
      return sum / (px.length / 4);
    };
    expect(brightness(images[1]!)).toBeGreaterThan(brightness(images[0]!));
  });

  it('draws the spectrum as two curves over a log-frequency grid, and loudness with the target line', () => {
    const spectrum = svgByLabel(html, 'Spectrum of input and master');
    expect(spectrum.match(/<path\b/g)).toHaveLength(2);
    expect(spectrum).toContain('class="curve c-input"');
    expect(spectrum).toContain('class="curve c-master"');
    for (const label of ['31.5', '63', '125', '250', '500', '1k', '2k', '4k', '8k', '16k']) expect(spectrum).toContain(`>${label}</text>`);
    expect(spectrum).toMatch(/>Input<\/text>[\s\S]*>Master<\/text>/);

    const loudness = svgByLabel(html, 'Loudness over time');
    expect(loudness.match(/<path\b/g)).toHaveLength(4);
    expect(loudness).toContain('target -14.0 LUFS integrated');
  });

  it('shows the measurements before and after, and every iteration', () => {
    for (const c of report.codecChecks) expect(html).toContain(`${c.codec} ${c.bitrateKbps}k`);
    expect(html).toContain('-17.8 LUFS');
    expect(html).toContain('-10.8 LUFS');
    for (const it of report.iterations) expect(html).toContain(escapeHtml(it.note));
    expect(html.match(/<tr class="final">/g)).toHaveLength(1);
  });
});
