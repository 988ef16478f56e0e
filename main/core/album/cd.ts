// CD delivery for an album: one disc image (a 16-bit 44.1 kHz stereo WAV) and a CUE sheet that
// describes it: track numbers, INDEX 00 (where a track's pre-gap begins) and INDEX 01 (where its
// audio begins), ISRC codes, the catalogue number and CD-Text (TITLE, PERFORMER, SONGWRITER).
//
// CUE times are minutes:seconds:frames with 75 frames a second; a frame is one CD sector of audio,
// 588 stereo samples at 44.1 kHz. The tracks arrive as undithered 24-bit masters at 44.1 kHz; they
// are decoded to float, laid end to end with the gaps (digital silence, whole frames) so that every
// index falls on a sector boundary, and the whole image is dithered to 16 bits once, at the end, by
// the chain's own TPDF dither (native-dsp). A track followed by a gap is padded with silence up to
// the next sector; between gapless tracks the audio runs on unbroken and the next track's index is
// the sector boundary at or just before its first sample.
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { writeAll } from '../write-all.js';
import { basename, join } from 'node:path';
import { defaultChain, type ChainDocument } from '../chain/document.js';
import { renderToFile } from '../chain/render.js';
import { LatheError } from '../errors.js';
import { ffmpegInput, ffmpegMessage, probeFile } from '../media/probe.js';
import { runTool } from '../media/spawn.js';
import { floatWavHeader } from '../jobs/wav-header.js';

export const CD_RATE = 44_100;
export const SAMPLES_PER_FRAME = 588;
export const FRAMES_PER_SECOND = 75;

export interface CdText {
  title?: string;
  performer?: string;
  songwriter?: string;
}

export interface CdTrackInput extends CdText {
  /** The track's master at 44.1 kHz (any PCM; decoded to float). */
  file: string;
  /** Twelve characters, CCXXXYYNNNNN (dashes allowed in the input; written without). */
  isrc?: string;
  /** Silence before the track's INDEX 01, in frames (ignored for track 1: the disc's own lead-in). */
  pregapFrames: number;
}

export interface CdLayoutTrack {
  number: number;
  /** Frame of INDEX 00 (the pre-gap's start), or null when the track has no pre-gap. */
  index00: number | null;
  /** Frame of INDEX 01. */
  index01: number;
  /** Where the track's own audio begins and ends in the image, in samples per channel. */
  startSample: number;
  endSample: number;
}

export interface CdImageResult {
  image: string;
  cue: string;
  totalSamples: number;
  tracks: CdLayoutTrack[];
}

const ISRC = /^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$/;

/** An ISRC as the CUE sheet writes it, or a clear error. */
export function normaliseIsrc(isrc: string, where: string): string {
  const s = isrc.replace(/-/g, '').toUpperCase();
  if (!ISRC.test(s)) throw new LatheError('USAGE', `${where}: "${isrc}" is not an ISRC (two letters, three letters or digits, then seven digits, e.g. USRC17607839)`);
  return s;
}

/** A CD-Text field: printable, at most 80 characters, no double quotes (the CUE syntax's delimiter). */
export function checkCdText(value: string, where: string): string {
  if (value.length > 80) throw new LatheError('USAGE', `${where}: CD-Text holds at most 80 characters (this has ${value.length})`);
  if (value.includes('"')) throw new LatheError('USAGE', `${where}: CD-Text in a CUE sheet cannot contain a double quote`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new LatheError('USAGE', `${where}: CD-Text cannot contain control characters`);
  return value;
}

/** mm:ss:ff from a count of frames. */
export function cueTime(frames: number): string {
  const m = Math.floor(frames / (60 * FRAMES_PER_SECOND));
  const s = Math.floor(frames / FRAMES_PER_SECOND) % 60;
  const f = frames % FRAMES_PER_SECOND;
  return `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}:${String(f).padStart(2, '0')}`;
}

export function writeCueText(disc: CdText & { catalog?: string; comment?: string }, imageName: string, tracks: (CdTrackInput & CdLayoutTrack)[]): string {
  const q = (s: string) => `"${s}"`;
  const lines: string[] = [];
  if (disc.comment) lines.push(`REM COMMENT ${q(disc.comment)}`);
  if (disc.catalog) lines.push(`CATALOG ${disc.catalog}`);
  if (disc.performer) lines.push(`PERFORMER ${q(disc.performer)}`);
  if (disc.songwriter) lines.push(`SONGWRITER ${q(disc.songwriter)}`);
  if (disc.title) lines.push(`TITLE ${q(disc.title)}`);
  lines.push(`FILE ${q(imageName)} WAVE`);
  for (const t of tracks) {
    lines.push(`  TRACK ${String(t.number).padStart(2, '0')} AUDIO`);
    if (t.title) lines.push(`    TITLE ${q(t.title)}`);
    if (t.performer) lines.push(`    PERFORMER ${q(t.performer)}`);
    if (t.songwriter) lines.push(`    SONGWRITER ${q(t.songwriter)}`);
    if (t.isrc) lines.push(`    ISRC ${t.isrc}`);
    if (t.index00 !== null) lines.push(`    INDEX 00 ${cueTime(t.index00)}`);
    lines.push(`    INDEX 01 ${cueTime(t.index01)}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

const COPY_BYTES = 1 << 20;

/** The chain that only dithers (to 16 bits, TPDF): every other stage off. */
function ditherOnlyChain(): ChainDocument {
  const c = defaultChain();
  const off = <T extends { enabled: boolean }>(s: T): T => ({ ...s, enabled: false });
  return { ...c, eq: off(c.eq), compressor: off(c.compressor), imager: off(c.imager), saturation: off(c.saturation), reverb: off(c.reverb), delay: off(c.delay), limiter: off(c.limiter), dither: { enabled: true, bits: 16, noiseShaping: false } };
}

/**
 * Builds the disc image `image` (16-bit WAV) and the CUE sheet `cue` from the tracks' masters;
 * `work` holds the float intermediates. Both files appear atomically (the image through the
 * encoder's rename, the CUE sheet by the caller's atomic write of the returned text).
 */
export async function buildCdImage(tracks: CdTrackInput[], image: string, work: string, signal?: AbortSignal): Promise<{ totalSamples: number; layout: CdLayoutTrack[] }> {
  if (tracks.length === 0) throw new LatheError('USAGE', 'a CD needs at least one track');
  if (tracks.length > 99) throw new LatheError('USAGE', `a CD holds at most 99 tracks (this album has ${tracks.length})`);
  mkdirSync(work, { recursive: true });
  // Each master decoded to interleaved stereo float at 44.1 kHz (a mono master plays on both sides).
  const raws: { file: string; samples: number }[] = [];
  for (const [i, t] of tracks.entries()) {
    const raw = join(work, `track${i + 1}.f32`);
    const r = await runTool('ffmpeg', ['-nostdin', '-v', 'error', '-i', ffmpegInput(t.file), '-map', '0:a:0', '-ac', '2', '-ar', String(CD_RATE), '-c:a', 'pcm_f32le', '-f', 'f32le', '-y', `file:${raw}`], signal);
    if (r.code !== 0) throw new LatheError('FFMPEG_FAILED', `cannot decode the master for the CD image (ffmpeg: ${ffmpegMessage(r.stderr)})`, { file: t.file });
    raws.push({ file: raw, samples: statSync(raw).size / 8 });
  }
  // Lay the tracks out in samples, every index on a sector boundary.
  const layout: CdLayoutTrack[] = [];
  const pieces: ({ zeros: number } | { file: string; samples: number })[] = [];
  let pos = 0;
  for (const [i, t] of tracks.entries()) {
    const gap = i === 0 ? 0 : Math.max(0, Math.round(t.pregapFrames));
    let index00: number | null = null;
    if (gap > 0) {
      // Silence up to the sector boundary, then the pre-gap.
      const pad = (SAMPLES_PER_FRAME - (pos % SAMPLES_PER_FRAME)) % SAMPLES_PER_FRAME;
      if (pad) pieces.push({ zeros: pad });
      pos += pad;
      index00 = pos / SAMPLES_PER_FRAME;
      pieces.push({ zeros: gap * SAMPLES_PER_FRAME });
      pos += gap * SAMPLES_PER_FRAME;
    }
    const index01 = Math.floor(pos / SAMPLES_PER_FRAME);
    pieces.push(raws[i]!);
    layout.push({ number: i + 1, index00, index01, startSample: pos, endSample: pos + raws[i]!.samples });
    pos += raws[i]!.samples;
  }
  // The disc ends on a whole sector.
  const tail = (SAMPLES_PER_FRAME - (pos % SAMPLES_PER_FRAME)) % SAMPLES_PER_FRAME;
  if (tail) pieces.push({ zeros: tail });
  pos += tail;
  // A float WAV of the whole disc, copied buffer by buffer (no per-sample work here).
  const floatImage = join(work, 'image.f32.wav');
  const fd = openSync(floatImage, 'w');
  try {
    writeAll(fd, floatWavHeader(CD_RATE, 2, pos));
    const zeros = Buffer.alloc(COPY_BYTES);
    const chunk = Buffer.alloc(COPY_BYTES);
    for (const p of pieces) {
      if ('zeros' in p) {
        for (let left = p.zeros * 8; left > 0; left -= COPY_BYTES) writeAll(fd, zeros.subarray(0, Math.min(left, COPY_BYTES)));
      } else {
        const src = openSync(p.file, 'r');
        try {
          for (let n; (n = readSync(src, chunk, 0, COPY_BYTES, null)) > 0; ) writeAll(fd, chunk.subarray(0, n));
        } finally {
          closeSync(src);
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  signal?.throwIfAborted();
  // Dither once, to 16 bits, for the whole disc.
  const probe = await probeFile(floatImage, signal);
  await renderToFile(probe, ditherOnlyChain(), image, { muxer: 'wav', codec: 'pcm_s16le', sampleRate: CD_RATE, channels: 2, channelLayout: 'stereo' }, { signal });
  return { totalSamples: pos, layout };
}

/** Cuts samples [start, end) of the disc image into a WAV of its own (for measuring a track). */
export async function cutSegment(image: string, startSample: number, endSample: number, out: string, signal?: AbortSignal): Promise<string> {
  const r = await runTool('ffmpeg', ['-nostdin', '-v', 'error', '-i', ffmpegInput(image), '-af', `atrim=start_sample=${startSample}:end_sample=${endSample}`, '-c:a', 'pcm_s16le', '-f', 'wav', '-y', `file:${out}`], signal);
  if (r.code !== 0) throw new LatheError('FFMPEG_FAILED', `cannot cut track samples ${startSample}–${endSample} from the image (ffmpeg: ${ffmpegMessage(r.stderr)})`, { file: image });
  return out;
}

export const imageNameFor = (albumName: string) => `${basename(albumName)}.cd.wav`;
