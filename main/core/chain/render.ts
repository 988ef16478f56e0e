// Renders a file through a chain into an encoded file: ffmpeg decodes into a pipe, native code
// reads it, runs the chain (latency compensated, so the output lines up with the input and is as
// long), optionally measures the result, and writes float frames into a second pipe that ffmpeg
// encodes (resampling with soxr when the output rate differs). The file appears atomically.
import dsp, { type AnalyzerHandle } from '#native-dsp';
import { LatheError } from '../errors.js';
import { decodeToFd, type DecodeOptions } from '../media/decode.js';
import { EncodeSession, type EncodeFormat } from '../media/encode.js';
import type { AudioProbe } from '../media/probe.js';
import type { ChainDocument } from './document.js';

export interface RenderResult {
  latencyFrames: number;
  compressorMaxGrDb: number;
  limiterMaxGrDb: number;
}

export interface RenderOptions extends DecodeOptions {
  /** Measures the rendered audio at the working rate (before encoding). */
  analyzer?: AnalyzerHandle;
  seed?: number;
}

/** Creates the native renderer, turning a refused parameter into a clear error. */
export function createChain(probe: AudioProbe, chain: ChainDocument, seed?: number) {
  try {
    return dsp.chainCreate({ sampleRate: probe.sampleRate, channels: probe.channels, chain, seed });
  } catch (e) {
    throw new LatheError('USAGE', `the chain cannot run at ${probe.sampleRate} Hz: ${(e as Error).message}`, { file: probe.file, cause: e });
  }
}

const RENDER_READ_BYTES = 1 << 20;

export async function renderToFile(probe: AudioProbe, chain: ChainDocument, output: string, format: EncodeFormat, options: RenderOptions = {}): Promise<RenderResult> {
  const handle = createChain(probe, chain, options.seed);
  const { pipeCreate, fdClose, chainRenderFd, chainFinishFd } = dsp;
  const analyzer = options.analyzer ?? null;
  if (pipeCreate && fdClose && chainRenderFd && chainFinishFd) {
    const toEncoder = pipeCreate();
    let encoder: EncodeSession | undefined;
    try {
      try {
        encoder = new EncodeSession(output, format, toEncoder.readFd);
      } finally {
        fdClose(toEncoder.readFd);
      }
      const writeFd = toEncoder.writeFd;
      await decodeToFd(probe, { pipeCreate, fdClose }, (fd, max) => chainRenderFd(handle, fd, writeFd, Math.min(max, RENDER_READ_BYTES), analyzer), options);
      chainFinishFd(handle, writeFd, analyzer);
      fdClose(toEncoder.writeFd);
      toEncoder.writeFd = -1;
      await encoder.finish();
    } finally {
      if (toEncoder.writeFd >= 0) fdClose(toEncoder.writeFd);
      encoder?.close();
    }
  } else {
    throw new LatheError('USAGE', 'rendering needs the native pipe functions, which this platform build lacks', { file: probe.file });
  }
  const info = dsp.chainInfo(handle);
  return { latencyFrames: info.latencyFrames, compressorMaxGrDb: info.compressorMaxGrDb, limiterMaxGrDb: info.limiterMaxGrDb };
}
