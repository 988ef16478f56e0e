// Verifying a written deliverable: decode it once, measure it (every meter and the spectrogram,
// for the report) and hand the same decoded frames to every platform codec's encoder, side by
// side; each encode is decoded and measured as soon as it is finished. One decode of the
// deliverable instead of one per codec, and no codec waits for another.
import { once } from 'node:events';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import dsp from '#native-dsp';
import { analyzeFile, shapeResult, type AnalysisResult } from '../analysis/analyze.js';
import { LatheError } from '../errors.js';
import { decodeInterleaved } from '../media/decode.js';
import { ffmpegMessage, probeFile } from '../media/probe.js';
import { LoggedTool } from '../media/spawn.js';

/** ffmpeg's muxer for each container a deliverable or a codec check is written in. */
export const MUXERS: Record<string, string> = { wav: 'wav', flac: 'flac', mp3: 'mp3', m4a: 'ipod', ogg: 'ogg', opus: 'opus' };

export interface CodecToCheck {
  codec: string;
  bitrateKbps: number;
  container: string;
}

/** How far (bytes of decoded frames) an encoder may fall behind before decoding waits for it. */
const ENCODER_BACKLOG_BYTES = 16 << 20;

interface Encoder {
  check: CodecToCheck;
  out: string;
  tool: LoggedTool;
  stdin: Writable;
  ended: boolean;
}

/**
 * Decodes `file` once: returns its analysis (every meter, with the spectrogram) and, for each of
 * `codecs`, the analysis (loudness and peaks) of the decoded encode of the same frames. The
 * encodes are written into `work`.
 */
export async function verifyDeliverable(file: string, codecs: CodecToCheck[], work: string, options: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {}): Promise<{ deliverable: AnalysisResult; codecs: AnalysisResult[] }> {
  const { signal } = options;
  const probe = await probeFile(file, signal);
  let analyzer;
  try {
    analyzer = dsp.analyzerCreate({ sampleRate: probe.sampleRate, channelNames: probe.channelNames });
  } catch (e) {
    throw new LatheError('UNSUPPORTED_FORMAT', `cannot be analysed: ${(e as Error).message}`, { file, cause: e });
  }
  const expectedFrames = (probe.durationSeconds ?? 0) * probe.sampleRate;
  const encoders: Encoder[] = [];
  try {
    for (const check of codecs) {
      const out = join(work, `check-${check.codec}-${check.bitrateKbps}.${check.container}`);
      const args = ['-nostdin', '-hide_banner', '-v', 'error', '-f', 'f32le', '-ar', String(probe.sampleRate), '-ac', String(probe.channels), '-channel_layout', probe.channelLayout, '-i', 'pipe:0'];
      args.push('-c:a', check.codec, '-b:a', `${check.bitrateKbps}k`, '-f', MUXERS[check.container] ?? check.container, '-y', `file:${out}`);
      const tool = new LoggedTool('ffmpeg', args, 'pipe', 'ignore');
      const stdin = tool.child.stdin!;
      const encoder: Encoder = { check, out, tool, stdin, ended: false };
      // An encoder that stops early closes its pipe: stop feeding it; its exit says why.
      stdin.on('error', () => (encoder.ended = true));
      void tool.exited.then(() => (encoder.ended = true));
      encoders.push(encoder);
    }
    const onProgress = expectedFrames > 0 && options.onProgress ? (f: number) => options.onProgress!(Math.min(1, f / expectedFrames)) : undefined;
    for await (const chunk of decodeInterleaved(probe, { signal, onProgress })) {
      dsp.analyzerProcessInterleaved(analyzer, chunk);
      for (const e of encoders) if (!e.ended) e.stdin.write(chunk);
      for (const e of encoders) {
        while (!e.ended && e.stdin.writableLength > ENCODER_BACKLOG_BYTES) {
          await Promise.race([once(e.stdin, 'drain'), e.tool.exited]);
        }
      }
    }
    for (const e of encoders) if (!e.ended) e.stdin.end();
    // Each encode is measured as soon as its encoder is done.
    const measured = encoders.map(async (e) => {
      const code = await e.tool.exited;
      if (signal?.aborted) throw new LatheError('CANCELLED', 'the codec checks were cancelled', { file });
      if (e.tool.spawnError) throw new LatheError('FFMPEG_FAILED', `cannot run ffmpeg: ${e.tool.spawnError.message}`, { file, cause: e.tool.spawnError });
      if (code !== 0) throw new LatheError('FFMPEG_FAILED', `the ${e.check.codec} ${e.check.bitrateKbps}k check could not encode (${ffmpegMessage(e.tool.log())})`, { file });
      return analyzeFile(e.out, { signal, meters: 'loudness' });
    });
    // Marked handled: the first failure is thrown below, the others are not left unhandled.
    for (const m of measured) m.catch(() => undefined);
    const deliverable = shapeResult(probe, dsp.analyzerFinish(analyzer), { includeSpectrogram: true });
    return { deliverable, codecs: await Promise.all(measured) };
  } finally {
    for (const e of encoders) e.tool.close();
  }
}
