// Encodes float frames that native code writes into a pipe, with ffmpeg, into a file written
// atomically: ffmpeg writes a temporary file next to the destination, which is renamed over it
// only when the encode succeeded; a failed or cancelled encode leaves nothing behind.
import { renameSync, rmSync } from 'node:fs';
import { extname } from 'node:path';
import { LatheError } from '../errors.js';
import { partialPathFor, sweepStalePartials } from '../temp-name.js';
import { ffmpegMessage } from './probe.js';
import { LoggedTool } from './spawn.js';

/** What to write: container and codec as ffmpeg names them. */
export interface EncodeFormat {
  /** ffmpeg muxer: wav, flac, aiff, mp3, ipod (m4a), ogg, opus. */
  muxer: string;
  codec: string;
  sampleRate: number;
  channels: number;
  channelLayout: string;
  bitrateKbps?: number | null;
  /** Resample on the way in (soxr, very high quality) when the input rate differs. */
  inputSampleRate?: number;
  /** FLAC word length (default 24). */
  flacBits?: 16 | 24;
}

const MUXER_FOR_EXTENSION: Record<string, string> = {
  '.wav': 'wav',
  '.flac': 'flac',
  '.aif': 'aiff',
  '.aiff': 'aiff',
  '.mp3': 'mp3',
  '.m4a': 'ipod',
  '.aac': 'adts',
  '.ogg': 'ogg',
  '.opus': 'opus',
};

/** The encoder a file name implies, for `lathe render`: 24-bit PCM unless told otherwise. */
/** libvorbis cannot encode a single channel above this rate ("encoder setup failed"). */
const VORBIS_MONO_MAX_KBPS = 240;

/**
 * ffmpeg's output arguments for a platform's lossy codec at the platform's bitrate, for a programme
 * of `channels` channels. Where the codec cannot reach that rate in one channel (libvorbis above
 * 240 kb/s), a mono programme is encoded as dual mono at the platform's rate, as a platform that
 * keeps its stereo rate would; everything else is encoded as it is.
 */
export function lossyCodecArgs(codec: string, bitrateKbps: number, channels: number): string[] {
  const dualMono = channels === 1 && codec === 'libvorbis' && bitrateKbps > VORBIS_MONO_MAX_KBPS;
  return [...(dualMono ? ['-ac', '2'] : []), '-c:a', codec, '-b:a', `${bitrateKbps}k`];
}

export function formatForPath(path: string, bitDepth: 16 | 24 | 32): { muxer: string; codec: string; bitrateKbps: number | null } {
  const ext = extname(path).toLowerCase();
  const muxer = MUXER_FOR_EXTENSION[ext];
  if (!muxer) throw new LatheError('USAGE', `cannot tell the format of ${path} from "${ext || 'no extension'}" (use .wav, .flac, .aiff, .mp3, .m4a, .ogg or .opus)`);
  const pcm = bitDepth === 16 ? 's16' : bitDepth === 24 ? 's24' : 'f32';
  switch (muxer) {
    case 'wav':
      return { muxer, codec: `pcm_${pcm}le`, bitrateKbps: null };
    case 'aiff':
      return { muxer, codec: bitDepth === 32 ? 'pcm_f32be' : `pcm_${pcm}be`, bitrateKbps: null };
    case 'flac':
      return { muxer, codec: 'flac', bitrateKbps: null };
    case 'mp3':
      return { muxer, codec: 'libmp3lame', bitrateKbps: 320 };
    case 'ipod':
    case 'adts':
      return { muxer, codec: 'aac', bitrateKbps: 256 };
    case 'ogg':
      return { muxer, codec: 'libvorbis', bitrateKbps: 320 };
    default:
      return { muxer, codec: 'libopus', bitrateKbps: 192 };
  }
}

/** A failure to write the destination, recognised in ffmpeg's log, as the engineer would say it. */
export function writeProblem(log: string): { code: 'WRITE_FAILED' | 'PERMISSION_DENIED'; message: string } | null {
  if (/No space left on device/i.test(log)) return { code: 'WRITE_FAILED', message: 'cannot write the file: no space left on the device' };
  if (/Disk quota exceeded/i.test(log)) return { code: 'WRITE_FAILED', message: 'cannot write the file: disk quota exceeded' };
  if (/File too large/i.test(log)) return { code: 'WRITE_FAILED', message: 'cannot write the file: it exceeds the file size limit' };
  if (/Read-only file system/i.test(log)) return { code: 'PERMISSION_DENIED', message: 'cannot write the file: the destination is on a read-only file system' };
  if (/Permission denied/i.test(log)) return { code: 'PERMISSION_DENIED', message: 'cannot write the file: permission denied' };
  if (/Error writing trailer|Input\/output error/i.test(log)) return { code: 'WRITE_FAILED', message: `cannot write the file (ffmpeg: ${ffmpegMessage(log)})` };
  return null;
}

export class EncodeSession {
  private readonly tool: LoggedTool;
  private readonly tmp: string;
  private done = false;

  /** `stdinFd` is the read end of the pipe the frames arrive on. */
  constructor(
    readonly output: string,
    readonly format: EncodeFormat,
    stdinFd: number,
  ) {
    this.tmp = partialPathFor(output);
    const inRate = format.inputSampleRate ?? format.sampleRate;
    const args = [
      '-nostdin',
      '-hide_banner',
      '-v',
      'error',
      '-f',
      'f32le',
      '-ar',
      String(inRate),
      '-ac',
      String(format.channels),
      '-channel_layout',
      format.channelLayout,
      '-i',
      'pipe:0',
    ];
    if (inRate !== format.sampleRate) {
      args.push('-af', `aresample=resampler=soxr:precision=28:osr=${format.sampleRate}`);
    }
    args.push('-c:a', format.codec);
    if (format.codec === 'flac') {
      args.push(...(format.flacBits === 16 ? ['-sample_fmt', 's16'] : ['-sample_fmt', 's32', '-bits_per_raw_sample', '24']));
    }
    if (format.bitrateKbps) args.push('-b:a', `${format.bitrateKbps}k`);
    args.push('-ar', String(format.sampleRate), '-f', format.muxer, '-y', `file:${this.tmp}`);
    this.tool = new LoggedTool('ffmpeg', args, stdinFd, 'ignore');
  }

  /**
   * Waits for ffmpeg to end and says why the encode failed, or null when it succeeded. Some ffmpeg
   * builds exit 0 when the destination fills up while writing the trailer ("Error writing trailer
   * …: No space left on device"), so a write error in the log is a failure whatever the code.
   */
  async failure(): Promise<LatheError | null> {
    const code = await this.tool.exited;
    if (this.tool.spawnError) return new LatheError('FFMPEG_FAILED', `cannot run ffmpeg: ${this.tool.spawnError.message}`, { file: this.output });
    const log = this.tool.log();
    const written = writeProblem(log);
    if (written) return new LatheError(written.code, written.message, { file: this.output });
    if (code !== 0) {
      // Killed by a signal: SIGXFSZ is the file-size limit (ulimit -f) being reached.
      const signal = this.tool.child.signalCode;
      if (signal === 'SIGXFSZ') return new LatheError('WRITE_FAILED', 'cannot write the file: it exceeds the file size limit', { file: this.output });
      return new LatheError('FFMPEG_FAILED', `encoding failed (ffmpeg: ${signal ? `killed by ${signal}` : ffmpegMessage(log)})`, { file: this.output });
    }
    return null;
  }

  /** Waits for ffmpeg (after the writer closed the pipe) and moves the file into place. */
  async finish(): Promise<void> {
    const failed = await this.failure();
    if (failed) throw failed;
    try {
      renameSync(this.tmp, this.output);
    } catch (e) {
      throw new LatheError('FFMPEG_FAILED', `cannot move the finished file into place (${(e as Error).message})`, { file: this.output, cause: e });
    }
    this.done = true;
    sweepStalePartials(this.output);
  }

  /** Always called: on failure, stops ffmpeg and removes the partial file. */
  close(): void {
    this.tool.close();
    if (!this.done) rmSync(this.tmp, { force: true });
  }
}
