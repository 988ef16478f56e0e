// Streams a file's first audio stream as interleaved float32 frames, decoded by ffmpeg at the
// file's own sample rate and channel count. Memory stays bounded: chunks are handed on as they
// arrive (with backpressure) and never collected. Float sources above full scale are kept as they
// are. A decode that fails, reports corrupt data, stops short of the promised length or yields no
// samples ends in a LatheError naming the file.
import { LatheError } from '../errors.js';
import { ffmpegInput, ffmpegMessage, type AudioProbe } from './probe.js';
import { startTool } from './spawn.js';

export interface DecodeOptions {
  signal?: AbortSignal;
  /** Called with the frames decoded so far (for progress). */
  onProgress?: (framesDecoded: number) => void;
}

/** Shortfall against the container's stated duration that counts as truncation. Lossy
 *  containers estimate their duration, so small differences are normal. */
function truncationTolerance(probe: AudioProbe): number {
  const expected = probe.durationSeconds ?? 0;
  return Math.max(0.5, expected * (probe.lossy ? 0.05 : 0.01));
}

/** Yields Buffers that each hold a whole number of interleaved f32le frames. */
export async function* decodeInterleaved(probe: AudioProbe, options: DecodeOptions = {}): AsyncGenerator<Buffer> {
  const { file, channels, sampleRate } = probe;
  const frameBytes = 4 * channels;
  if (options.signal?.aborted) throw new LatheError('CANCELLED', 'decoding was cancelled', { file });
  const child = startTool('ffmpeg', [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-i',
    ffmpegInput(file),
    '-map',
    `0:${probe.streamIndex}`,
    '-vn',
    '-sn',
    '-dn',
    '-c:a',
    'pcm_f32le',
    '-f',
    'f32le',
    'pipe:1',
  ]);
  let stderr = '';
  let frames = 0;
  // Where decoding had got to when ffmpeg first complained (within a pipe buffer, ~0.1–0.4 s).
  let framesAtFirstError: number | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    framesAtFirstError ??= frames;
    if (stderr.length < 65_536) stderr += d;
  });
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const abort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', abort, { once: true });

  let carry: Buffer | undefined;
  let completed = false;
  try {
    for await (const data of child.stdout as AsyncIterable<Buffer>) {
      let chunk = carry ? Buffer.concat([carry, data]) : data;
      const whole = chunk.length - (chunk.length % frameBytes);
      carry = whole < chunk.length ? Buffer.from(chunk.subarray(whole)) : undefined;
      chunk = chunk.subarray(0, whole);
      if (chunk.length === 0) continue;
      frames += chunk.length / frameBytes;
      options.onProgress?.(frames);
      yield chunk;
    }
    const code = await exited;
    if (options.signal?.aborted) throw new LatheError('CANCELLED', 'decoding was cancelled', { file });
    if (spawnError) throw new LatheError('FFMPEG_FAILED', `cannot run ffmpeg: ${spawnError.message}`, { file, cause: spawnError });
    const failed = code !== 0 || stderr.trim() !== '';
    const expected = probe.durationSeconds;
    const decodedSeconds = frames / sampleRate;
    // A file that stops short is truncated, whatever ffmpeg said about its last bytes.
    if (expected !== null && frames > 0 && expected - decodedSeconds > truncationTolerance(probe)) {
      throw new LatheError(
        'TRUNCATED_AUDIO',
        `file is truncated: its header promises ${expected.toFixed(2)} s of audio, only ${decodedSeconds.toFixed(2)} s could be decoded`,
        { file },
      );
    }
    if (failed) {
      const at = framesAtFirstError ?? frames;
      const where = at > 0 ? ` near ${(at / sampleRate).toFixed(1)} s` : '';
      throw new LatheError('CORRUPT_AUDIO', `corrupt audio data${where} (ffmpeg: ${ffmpegMessage(stderr)})`, { file });
    }
    if (frames === 0) throw new LatheError('NO_SAMPLES', 'contains no audio samples', { file });
    completed = true;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    if (!completed && child.exitCode === null) child.kill('SIGKILL');
  }
}
