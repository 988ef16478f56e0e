// Decodes a file's first audio stream with ffmpeg to interleaved float32 frames at the file's own
// sample rate and channel count. Memory stays bounded: audio is handed on as it arrives and never
// collected. Float sources above full scale are kept as they are. A decode that fails, reports
// corrupt data, stops short of the promised length or yields no samples ends in a LatheError
// naming the file.
//
// Two ways to consume the audio: `decodeInterleaved` yields Buffers (any platform); on Unix
// `decodeToFd` lets native code read ffmpeg's output pipe directly, which avoids waking the
// JavaScript event loop for every 16–64 KiB and is several times cheaper.
import type { Readable } from 'node:stream';
import { LatheError } from '../errors.js';
import { ffmpegInput, ffmpegMessage, type AudioProbe } from './probe.js';
import { LoggedTool } from './spawn.js';

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

/** Sample bytes on a decode pipe: float, or 16-bit integers for sources that hold no more. */
export type PipeFormat = 'f32le' | 's16le';

/** Integer codecs whose samples are 16-bit or narrower when ffmpeg decodes them. */
const SIXTEEN_BIT_CODECS = new Set(['pcm_s16le', 'pcm_s16be', 'pcm_u8', 'pcm_s8', 'flac', 'alac']);

/**
 * The cheapest pipe format that carries a file's samples exactly: s16le for integer sources of
 * 16 bits or fewer (x / 32768 in the reader equals ffmpeg's own conversion to float, in half the
 * bytes, and a 16-bit WAV needs no conversion at all), f32le for everything else.
 */
export function exactPipeFormat(probe: AudioProbe): PipeFormat {
  const narrow = probe.sampleFormat === 'integer' && probe.bitDepth !== null && probe.bitDepth <= 16;
  return !probe.lossy && narrow && SIXTEEN_BIT_CODECS.has(probe.codec) ? 's16le' : 'f32le';
}

function ffmpegArgs(probe: AudioProbe, format: PipeFormat = 'f32le'): string[] {
  // A 16-bit PCM source goes to the pipe as it is stored (a stream copy, no decode step).
  const codec = format === 'f32le' ? 'pcm_f32le' : probe.codec === 'pcm_s16le' ? 'copy' : 'pcm_s16le';
  return [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-i',
    ffmpegInput(probe.file),
    '-map',
    `0:${probe.streamIndex}`,
    '-vn',
    '-sn',
    '-dn',
    '-c:a',
    codec,
    // Write the pipe in 32 KiB blocks instead of one small write (and reader wake-up) per packet.
    '-flush_packets',
    '0',
    '-f',
    format,
    'pipe:1',
  ];
}

/** One ffmpeg decode: counts frames, and on `finish` checks how it ended. */
class DecodeSession {
  readonly tool: LoggedTool;
  frames = 0;
  private readonly abort = () => this.tool.kill();

  constructor(
    private readonly probe: AudioProbe,
    private readonly options: DecodeOptions,
    stdout: 'pipe' | number,
    format: PipeFormat = 'f32le',
  ) {
    if (options.signal?.aborted) throw new LatheError('CANCELLED', 'decoding was cancelled', { file: probe.file });
    this.tool = new LoggedTool('ffmpeg', ffmpegArgs(probe, format), 'ignore', stdout);
    options.signal?.addEventListener('abort', this.abort, { once: true });
  }

  get child() {
    return this.tool.child;
  }

  addFrames(n: number): void {
    this.frames += n;
    this.options.onProgress?.(this.frames);
  }

  kill(): void {
    this.tool.kill();
  }

  /** Waits for ffmpeg and throws if the decode was cancelled, failed, truncated or empty. */
  async finish(): Promise<void> {
    const { file, sampleRate } = this.probe;
    const code = await this.tool.exited;
    if (this.options.signal?.aborted) throw new LatheError('CANCELLED', 'decoding was cancelled', { file });
    const spawnError = this.tool.spawnError;
    if (spawnError) throw new LatheError('FFMPEG_FAILED', `cannot run ffmpeg: ${spawnError.message}`, { file, cause: spawnError });
    const stderr = this.tool.log();
    const expected = this.probe.durationSeconds;
    const decodedSeconds = this.frames / sampleRate;
    // A file that stops short is truncated, whatever ffmpeg said about its last bytes.
    if (expected !== null && this.frames > 0 && expected - decodedSeconds > truncationTolerance(this.probe)) {
      throw new LatheError(
        'TRUNCATED_AUDIO',
        `file is truncated: its header promises ${expected.toFixed(2)} s of audio, only ${decodedSeconds.toFixed(2)} s could be decoded`,
        { file },
      );
    }
    if (code !== 0 || stderr.trim() !== '') {
      throw new LatheError('CORRUPT_AUDIO', `corrupt audio data (ffmpeg: ${ffmpegMessage(stderr)})`, { file });
    }
    if (this.frames === 0) throw new LatheError('NO_SAMPLES', 'contains no audio samples', { file });
  }

  /** Always called: stops ffmpeg if it still runs and removes the log. */
  close(): void {
    this.options.signal?.removeEventListener('abort', this.abort);
    this.tool.close();
  }
}

/** Yields Buffers that each hold a whole number of interleaved f32le frames. */
export async function* decodeInterleaved(probe: AudioProbe, options: DecodeOptions = {}): AsyncGenerator<Buffer> {
  const frameBytes = 4 * probe.channels;
  const session = new DecodeSession(probe, options, 'pipe');
  let carry: Buffer | undefined;
  try {
    for await (const data of session.child.stdout as Readable as AsyncIterable<Buffer>) {
      let chunk = carry ? Buffer.concat([carry, data]) : data;
      const whole = chunk.length - (chunk.length % frameBytes);
      carry = whole < chunk.length ? Buffer.from(chunk.subarray(whole)) : undefined;
      chunk = chunk.subarray(0, whole);
      if (chunk.length === 0) continue;
      session.addFrames(chunk.length / frameBytes);
      yield chunk;
    }
    await session.finish();
  } finally {
    session.close();
  }
}

/** What reads the pipe: consumes up to `maxBytes` from `fd` (blocking), returns the count, 0 at end. */
export type FdConsumer = (fd: number, maxBytes: number) => number;

export interface PipeFunctions {
  pipeCreate: () => { readFd: number; writeFd: number };
  fdClose: (fd: number) => void;
}

/** Bytes per native read: about 0.1 s of CD stereo, so progress and cancellation stay prompt. */
const FD_READ_BYTES = 1 << 20;

/**
 * Runs ffmpeg with its stdout on a pipe whose read end `consume` drains natively. Between reads
 * it yields to the event loop so cancellation and progress are seen. The pipe carries f32le
 * frames unless `options.format` asks for s16le (see `exactPipeFormat`).
 */
export async function decodeToFd(
  probe: AudioProbe,
  pipes: PipeFunctions,
  consume: FdConsumer,
  options: DecodeOptions & { format?: PipeFormat } = {},
): Promise<void> {
  const frameBytes = (options.format === 's16le' ? 2 : 4) * probe.channels;
  const { readFd, writeFd } = pipes.pipeCreate();
  let session: DecodeSession | undefined;
  try {
    try {
      session = new DecodeSession(probe, options, writeFd, options.format);
    } finally {
      // Our copy of the write end must go, or the read end never sees the end of the stream.
      pipes.fdClose(writeFd);
    }
    let bytes = 0;
    for (;;) {
      const n = consume(readFd, FD_READ_BYTES);
      if (n === 0) break;
      bytes += n;
      session.addFrames(Math.floor(bytes / frameBytes) - session.frames);
      if (options.signal?.aborted) session.kill();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await session.finish();
  } finally {
    session?.close();
    pipes.fdClose(readFd);
  }
}
