// `lathe album` end to end: the anchor policy keeps the tracks' relative loudness within ±0.1 LU
// (measured on the deliverables with Lathe's meter and with libebur128 or ffmpeg's ebur128, against
// the inputs' own differences); consistency QC names a planted tonal outlier and nothing else; the
// CD image and its CUE sheet parse back (with a parser written here, independent of the writer):
// track numbers, INDEX 00/01 on sector boundaries where the input lengths put them, ISRC, catalogue
// and CD-Text; the gaps hold TPDF dither at its analytic statistics (the image was dithered, once,
// as a whole: the tracks' masters before it are undithered 24-bit).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeJson, lathe, latheBin, scratchDir } from '../helpers/cli.js';
import { buildLibebur128Meter, ffmpegEbur128, libebur128 } from '../helpers/ffmpeg.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('album');
const at = (n: string) => join(scratch.dir, n);
afterAll(() => scratch.cleanup());

const FS = 44_100;
/** A music-like stereo track of `seconds`, scaled by `gainDb`. */
function track(name: string, seconds: number, seed: number, gainDb: number, tilt = false): { file: string; samples: number } {
  const [l, r] = musicLike(FS, seconds, seed);
  const g = 10 ** (gainDb / 20);
  for (const p of [l, r]) {
    // The planted outlier: a first difference, +6 dB per octave (an analytic tilt to the treble).
    if (tilt) for (let i = p.length - 1; i > 0; i--) p[i] = 3 * (p[i]! - p[i - 1]!);
    for (let i = 0; i < p.length; i++) p[i]! *= g;
  }
  return { file: writeWav(at(name), [l, r], FS, 'pcm24'), samples: l.length };
}

let meter: string | null = null;
beforeAll(() => {
  meter = buildLibebur128Meter(scratch.dir);
});

describe('lathe album', () => {
  it('anchor policy: one album gain keeps every track’s loudness relative to the loudest within ±0.1 LU', () => {
    const tracks = [track('a.wav', 10, 1, -6), track('b.wav', 10, 2, -10.5), track('c.wav', 10, 3, -3), track('d.wav', 10, 4, -13)];
    const r = lathe(['album', ...tracks.map((t) => t.file), '--targets', 'spotify', '--out', at('anchor'), '--codec-checks', 'none', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // The inputs' loudness, measured independently of the album code.
    const input = tracks.map((t) => analyzeJson(t.file).loudness.integratedLufs as number);
    const loudest = input.indexOf(Math.max(...input));
    expect(out.anchor).toBe(tracks[loudest]!.file);
    expect(out.tracks).toHaveLength(4);
    const files = tracks.map((t) => out.tracks.find((x: { input: string }) => x.input === t.file).file as string);
    const native = files.map((f) => analyzeJson(f).loudness.integratedLufs as number);
    // The anchor lands on the target; every track keeps its distance from the anchor.
    expect(Math.abs(native[loudest]! - -14)).toBeLessThanOrEqual(0.1);
    for (let i = 0; i < tracks.length; i++) {
      const want = input[i]! - input[loudest]!;
      expect(Math.abs(native[i]! - native[loudest]! - want), `track ${i} native`).toBeLessThanOrEqual(0.1);
      expect(out.tracks[i].pass).toBe(true);
    }
    // An independent meter on the same files: libebur128 where built (.ci/run installs it).
    const other = meter ? (f: string) => libebur128(meter!, f).integratedLufs : (f: string) => ffmpegEbur128(f).integratedLufs;
    const slack = meter ? 0.1 : 0.2 + 1e-9;
    const inOther = tracks.map((t) => other(t.file));
    const outOther = files.map(other);
    for (let i = 0; i < tracks.length; i++) {
      expect(Math.abs(outOther[i]! - outOther[loudest]! - (inOther[i]! - inOther[loudest]!)), `track ${i} ${meter ? 'libebur128' : 'ffmpeg'}`).toBeLessThanOrEqual(slack);
    }
    // And ffmpeg's own meter, always: it prints one decimal, so each of the four readings in a
    // difference of differences can be 0.05 off.
    const ffIn = tracks.map((t) => ffmpegEbur128(t.file));
    const ffOut = files.map((f) => ffmpegEbur128(f));
    for (let i = 0; i < tracks.length; i++) {
      const rel = ffOut[i]!.integratedLufs - ffOut[loudest]!.integratedLufs - (ffIn[i]!.integratedLufs - ffIn[loudest]!.integratedLufs);
      expect(Math.abs(rel), `track ${i} ffmpeg`).toBeLessThanOrEqual(0.2 + 1e-9);
      expect(ffOut[i]!.truePeakDbtp).toBeLessThanOrEqual(-1 + 0.2);
    }
    // Requested vs achieved is reported per track.
    for (const t of out.tracks) expect(Math.abs(t.integratedLufs - t.requestedLufs)).toBeLessThanOrEqual(0.1);
    expect(existsSync(join(at('anchor'), 'album.album.json'))).toBe(true);
  }, 240_000);

  it('consistency QC names a planted tonal outlier, and only it', () => {
    const tracks = [track('p1.wav', 8, 11, -6), track('p2.wav', 8, 12, -6), track('bright.wav', 8, 13, -6, true), track('p4.wav', 8, 14, -6), track('p5.wav', 8, 15, -6)];
    const r = lathe(['album', ...tracks.map((t) => t.file), '--targets', 'apple-music', '--policy', 'per-track', '--out', at('qc'), '--codec-checks', 'none', '--max-limiting', '12', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout).consistency;
    expect(c.tracks).toHaveLength(5);
    const tone = c.outliers.filter((o: { aspect: string }) => o.aspect === 'tone');
    expect(tone.map((o: { input: string }) => o.input)).toEqual([tracks[2]!.file]);
    expect(tone[0].message).toMatch(/bright\.wav/);
    expect(c.outliers.filter((o: { input: string }) => o.input !== tracks[2]!.file)).toEqual([]);
    // Per-track policy: every track on the target, so the loudness spread is small.
    expect(c.spread.integratedLu).toBeLessThanOrEqual(0.2);
    // The album's HTML report names the outlier too.
    const html = readFileSync(JSON.parse(r.stdout).reportHtml, 'utf8');
    expect(html).toContain('<strong>tone</strong>: bright.wav');
  }, 240_000);

  it('writes a CD image and a CUE sheet that parse back: indexes on sectors, gaps, ISRC, CD-Text', () => {
    const t1 = track('one.wav', 7.3, 21, -8);
    const t2 = track('two.wav', 5.1, 22, -10);
    const t3 = track('three.wav', 6.01, 23, -9);
    const list = at('album.json');
    writeFileSync(
      list,
      JSON.stringify({
        title: 'Sector Songs',
        performer: 'The Test Band',
        catalog: '4006381333931',
        gapSeconds: 2,
        tracks: [
          { file: 'one.wav', title: 'First', performer: 'Ann', isrc: 'GB-AAA-26-00001' },
          { file: 'two.wav', title: 'Second', songwriter: 'Bo', isrc: 'GBAAA2600002' },
          { file: 'three.wav', title: 'Third (segue)', pregapSeconds: 0 },
        ],
      }),
    );
    const r = lathe(['album', '--list', list, '--targets', 'cd', '--profile', 'jazz-acoustic', '--max-limiting', '12', '--out', at('cd'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const cue = parseCue(readFileSync(out.cd.cue, 'latin1'));
    expect(cue.title).toBe('Sector Songs');
    expect(cue.performer).toBe('The Test Band');
    expect(cue.catalog).toBe('4006381333931');
    expect(cue.file).toEqual({ name: 'album.cd.wav', type: 'WAVE' });
    expect(cue.tracks.map((t) => [t.number, t.type, t.title])).toEqual([
      [1, 'AUDIO', 'First'],
      [2, 'AUDIO', 'Second'],
      [3, 'AUDIO', 'Third (segue)'],
    ]);
    expect(cue.tracks[0]!.performer).toBe('Ann');
    expect(cue.tracks[1]!.songwriter).toBe('Bo');
    expect(cue.tracks.map((t) => t.isrc)).toEqual(['GBAAA2600001', 'GBAAA2600002', undefined]);
    // Where the indexes must be, from the input lengths alone: track 1 at 0; track 2's pre-gap
    // starts on the first sector after track 1 ends and lasts 2 s (150 frames); track 3 follows
    // without a gap, on the sector at or before its first sample.
    const sector = 588;
    const t2Index00 = Math.ceil(t1.samples / sector);
    const t2Index01 = t2Index00 + 150;
    const t3Start = t2Index01 * sector + t2.samples;
    const t3Index01 = Math.floor(t3Start / sector);
    expect(cue.tracks[0]!.indexes).toEqual({ 1: 0 });
    expect(cue.tracks[1]!.indexes).toEqual({ 0: t2Index00, 1: t2Index01 });
    expect(cue.tracks[2]!.indexes).toEqual({ 1: t3Index01 });
    // The image: 16-bit 44.1 kHz stereo, a whole number of sectors, as long as the layout says.
    const image = join(at('cd'), cue.file!.name);
    const wav = readPcm16(image);
    expect([wav.rate, wav.channels, wav.bits]).toEqual([44_100, 2, 16]);
    const frames = wav.samples.length / 2;
    expect(frames % sector).toBe(0);
    expect(frames).toBe(Math.ceil((t3Start + t3.samples) / sector) * sector);
    // The gap before track 2 is digital silence dithered once with TPDF of ±1 LSB: every sample is
    // −1, 0 or +1, and a quarter of them are not 0 (P(|u1 + u2| > ½) = ¼ for u uniform on ±½).
    const gap = wav.samples.subarray(t2Index00 * sector * 2, t2Index01 * sector * 2);
    let nonzero = 0;
    let maxAbs = 0;
    for (const s of gap) {
      if (s !== 0) nonzero++;
      maxAbs = Math.max(maxAbs, Math.abs(s));
    }
    expect(maxAbs).toBeLessThanOrEqual(1);
    expect(nonzero / gap.length).toBeGreaterThan(0.23);
    expect(nonzero / gap.length).toBeLessThan(0.27);
    // The music starts at INDEX 01 (loud from the first half second), not before.
    const rms = (a: Int16Array) => 20 * Math.log10(Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length) / 32768);
    expect(rms(wav.samples.subarray(t2Index01 * sector * 2, (t2Index01 * sector + FS / 2) * 2))).toBeGreaterThan(-40);
    // The JSON agrees with the sheet, and every track passes on the image.
    expect(out.tracks.map((t: { cd: { index01: string } }) => t.cd.index01)).toEqual(cue.tracks.map((t) => cueTimeOf(t.indexes[1]!)));
    for (const t of out.tracks) expect(t.pass, t.input).toBe(true);
  }, 240_000);
});

describe('lathe album, cancelled', () => {
  it('Ctrl-C delivers nothing of the album (half an album is not a delivery) and keeps its finished tracks aside', async () => {
    const tracks = [track('x1.wav', 10, 31, -6), track('x2.wav', 10, 32, -8), track('x3.wav', 10, 33, -7), track('x4.wav', 10, 34, -9)];
    const out = at('cancelled');
    const child = spawn(process.execPath, [latheBin, 'album', ...tracks.map((t) => t.file), '--targets', 'spotify,apple-music', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until a track's master is finished (staged, with its record), then interrupt.
    const doneDir = join(out, '.lathe-album', 'done');
    const finished = () => (existsSync(doneDir) ? readdirSync(doneDir).filter((f) => f.endsWith('.json')) : []);
    for (let i = 0; i < 2400 && finished().length === 0 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
    expect(finished().length, stderr).toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toMatch(/album cancelled; nothing of it was delivered/);
    // Nothing in the output folder but the album's resume state (album-resume.test.ts resumes).
    expect(readdirSync(out)).toEqual(['.lathe-album']);
    expect(finished().length).toBeGreaterThan(0);
    expect(readdirSync(join(out, '.lathe-album', 'work'))).toEqual([]);
  }, 240_000);
});

interface CueTrack {
  number: number;
  type: string;
  title?: string;
  performer?: string;
  songwriter?: string;
  isrc?: string;
  indexes: Record<number, number>;
}

/** A small CUE sheet reader: commands, quoted strings, mm:ss:ff times (75 frames a second). */
function parseCue(text: string) {
  const sheet: { title?: string; performer?: string; catalog?: string; file?: { name: string; type: string }; tracks: CueTrack[] } = { tracks: [] };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const words: string[] = [];
    for (const m of line.matchAll(/"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2]!);
    const [cmd, ...rest] = words;
    const current = sheet.tracks.at(-1);
    switch (cmd) {
      case 'REM':
        break;
      case 'CATALOG':
        sheet.catalog = rest[0];
        break;
      case 'FILE':
        sheet.file = { name: rest[0]!, type: rest[1]! };
        break;
      case 'TRACK':
        sheet.tracks.push({ number: Number(rest[0]), type: rest[1]!, indexes: {} });
        break;
      case 'TITLE':
      case 'PERFORMER':
      case 'SONGWRITER': {
        const key = cmd.toLowerCase() as 'title' | 'performer' | 'songwriter';
        if (current) current[key] = rest[0];
        else if (key !== 'songwriter') sheet[key] = rest[0];
        break;
      }
      case 'ISRC':
        current!.isrc = rest[0];
        break;
      case 'INDEX': {
        const [mm, ss, ff] = rest[1]!.split(':').map(Number);
        expect(ff!).toBeLessThan(75);
        expect(ss!).toBeLessThan(60);
        current!.indexes[Number(rest[0])] = (mm! * 60 + ss!) * 75 + ff!;
        break;
      }
      default:
        throw new Error(`unknown CUE command ${cmd}`);
    }
  }
  return sheet;
}

const cueTimeOf = (f: number) => `${String(Math.floor(f / 4500)).padStart(2, '0')}:${String(Math.floor(f / 75) % 60).padStart(2, '0')}:${String(f % 75).padStart(2, '0')}`;

/** A PCM WAV's format and 16-bit samples, walking the RIFF chunks. */
function readPcm16(file: string): { rate: number; channels: number; bits: number; samples: Int16Array } {
  const b = readFileSync(file);
  expect(b.toString('latin1', 0, 4)).toBe('RIFF');
  let pos = 12;
  let rate = 0;
  let channels = 0;
  let bits = 0;
  while (pos + 8 <= b.length) {
    const id = b.toString('latin1', pos, pos + 4);
    const size = b.readUInt32LE(pos + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(pos + 10);
      rate = b.readUInt32LE(pos + 12);
      bits = b.readUInt16LE(pos + 22);
    } else if (id === 'data') {
      const data = b.subarray(pos + 8, pos + 8 + size);
      const samples = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
      return { rate, channels, bits, samples };
    }
    pos += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}
