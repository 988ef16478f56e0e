// Probes a file with ffprobe: codec, container, sample rate, channels and layout, bit depth and
// duration of its first audio stream. Fails with a LatheError that names the file and the problem.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LatheError } from '../errors.js';
import { checkContainer } from './container-check.js';
import { channelLayoutFor } from './layouts.js';
import { runTool } from './spawn.js';

export interface AudioProbe {
  file: string;
  /** Index of the audio stream within the container. */
  streamIndex: number;
  codec: string;
  codecLongName: string;
  container: string;
  sampleRate: number;
  channels: number;
  channelLayout: string;
  channelNames: string[];
  layoutAssumed: boolean;
  /** Bits per sample of the source (16, 24, 32 …); null for lossy codecs, which have none. */
  bitDepth: number | null;
  sampleFormat: 'integer' | 'float' | null;
  lossy: boolean;
  /** As the container states it; null when it does not say. */
  durationSeconds: number | null;
  bitRate: number | null;
  sizeBytes: number;
}

const LOSSLESS = new Set(['flac', 'alac', 'wavpack', 'ape', 'tta', 'tak', 'mlp', 'truehd', 'shorten', 'als', 'mp4als']);

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  codec_long_name?: string;
  sample_fmt?: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  bits_per_sample?: number;
  bits_per_raw_sample?: string;
  duration?: string;
  bit_rate?: string;
}
interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; bit_rate?: string; size?: string };
}

/** Turns ffmpeg's "[mp3 @ 0x55…] Header missing" into "Header missing". */
export function ffmpegMessage(stderr: string): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!line) return 'no message';
  return line.replace(/^\[[^\]]*@ ?0x[0-9a-f]+\]\s*/i, '').replace(/^.*?:\s(?=Invalid data)/, '');
}

/** Checks that the path is a readable, non-empty regular file. */
export async function checkSourceFile(file: string): Promise<number> {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LatheError('FILE_NOT_FOUND', 'file not found', { file });
    if (code === 'EACCES' || code === 'EPERM') throw new LatheError('PERMISSION_DENIED', 'permission denied', { file });
    throw new LatheError('FILE_NOT_FOUND', `cannot read file (${code ?? String(e)})`, { file, cause: e });
  }
  if (info.isDirectory()) throw new LatheError('IS_DIRECTORY', 'is a directory, not an audio file', { file });
  if (!info.isFile()) throw new LatheError('NOT_AUDIO', 'is not a regular file', { file });
  if (info.size === 0) throw new LatheError('EMPTY_FILE', 'file is empty (0 bytes)', { file });
  return info.size;
}

/** An input argument ffmpeg reads as a plain file, never as a protocol or device. */
export function ffmpegInput(file: string): string {
  return `file:${resolve(file)}`;
}

function bitDepthOf(s: FfprobeStream, lossy: boolean): { bitDepth: number | null; sampleFormat: 'integer' | 'float' | null } {
  if (lossy) return { bitDepth: null, sampleFormat: null };
  const fmt = (s.sample_fmt ?? '').replace(/p$/, '');
  const float = fmt === 'flt' || fmt === 'dbl' || /^pcm_f/.test(s.codec_name ?? '');
  const raw = Number(s.bits_per_raw_sample);
  const bits = Number.isFinite(raw) && raw > 0 ? raw : s.bits_per_sample && s.bits_per_sample > 0 ? s.bits_per_sample : null;
  const fromFmt: Record<string, number> = { u8: 8, s16: 16, s32: 32, s64: 64, flt: 32, dbl: 64 };
  return { bitDepth: bits ?? fromFmt[fmt] ?? null, sampleFormat: float ? 'float' : 'integer' };
}

function positive(value: string | undefined): number | null {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

export async function probeFile(file: string, signal?: AbortSignal): Promise<AudioProbe> {
  const sizeBytes = await checkSourceFile(file);
  const r = await runTool(
    'ffprobe',
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ffmpegInput(file)],
    signal,
  );
  if (r.code !== 0) {
    const message = ffmpegMessage(r.stderr);
    if (/permission denied/i.test(message)) throw new LatheError('PERMISSION_DENIED', 'permission denied', { file });
    throw new LatheError('NOT_AUDIO', `not an audio file ffmpeg can read (${message})`, { file });
  }
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(r.stdout) as FfprobeOutput;
  } catch (e) {
    throw new LatheError('FFMPEG_FAILED', 'ffprobe returned output that is not JSON', { file, cause: e });
  }
  const streams = parsed.streams ?? [];
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!audio) {
    const kinds = [...new Set(streams.map((s) => s.codec_type ?? 'unknown'))];
    const what = kinds.length ? `only ${kinds.join(' and ')} streams` : 'no streams at all';
    throw new LatheError('NO_AUDIO_STREAM', `has no audio stream (${what})`, { file });
  }
  const sampleRate = Number(audio.sample_rate);
  const channels = audio.channels ?? 0;
  if (!Number.isFinite(sampleRate) || sampleRate <= 0 || channels <= 0) {
    throw new LatheError('CORRUPT_AUDIO', `audio stream has no valid sample rate or channel count (codec ${audio.codec_name ?? 'unknown'})`, { file });
  }
  const codec = audio.codec_name ?? 'unknown';
  const lossy = !(codec.startsWith('pcm_') || LOSSLESS.has(codec));
  const layout = channelLayoutFor(audio.channel_layout, channels);
  const container = await checkContainer(file, sizeBytes);
  if (container && container.presentDataBytes < container.declaredDataBytes) {
    const bytesPerSecond = (container.declaredDataBytes / (positive(audio.duration) ?? 1)) || 1;
    const frameBytes = audio.bits_per_sample ? (audio.bits_per_sample / 8) * channels : 0;
    const seconds = (bytes: number) => (frameBytes > 0 ? bytes / frameBytes / sampleRate : bytes / bytesPerSecond);
    throw new LatheError(
      'TRUNCATED_AUDIO',
      `file is truncated: its header promises ${seconds(container.declaredDataBytes).toFixed(2)} s of audio, the file holds ${seconds(container.presentDataBytes).toFixed(2)} s`,
      { file },
    );
  }
  return {
    file,
    streamIndex: audio.index,
    codec,
    codecLongName: audio.codec_long_name ?? codec,
    container: parsed.format?.format_name ?? 'unknown',
    sampleRate,
    channels,
    channelLayout: layout.name,
    channelNames: layout.channelNames,
    layoutAssumed: layout.assumed,
    ...bitDepthOf(audio, lossy),
    lossy,
    durationSeconds: positive(audio.duration) ?? positive(parsed.format?.duration),
    bitRate: positive(audio.bit_rate) ?? positive(parsed.format?.bit_rate),
    sizeBytes,
  };
}
