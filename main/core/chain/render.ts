// Renders a file through a chain into an encoded file: ffmpeg decodes into a pipe, native code
// reads it, runs the chain (latency compensated, so the output lines up with the input and is as
// long), optionally measures the result, and writes float frames into a second pipe that ffmpeg
// encodes (resampling with soxr when the output rate differs). The file appears atomically.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import dsp, { type AnalyzerHandle, type TargetModelHandle } from '#native-dsp';
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

/**
 * When writing into the encoder's pipe fails (a broken pipe: ffmpeg stopped because the
 * destination is full, read-only or over the size limit), ffmpeg's own reason names the output
 * file and the problem; anything else is passed on as it is. Closes the write end so a healthy
 * encoder ends too.
 */
async function encoderFailureOr(e: unknown, encoder: EncodeSession, pipe: { writeFd: number }, fdClose: (fd: number) => void): Promise<unknown> {
  if (pipe.writeFd >= 0) {
    fdClose(pipe.writeFd);
    pipe.writeFd = -1;
  }
  if (!/broken pipe|EPIPE/i.test((e as Error)?.message ?? '')) return e;
  return (await encoder.failure()) ?? e;
}

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
      try {
        await decodeToFd(probe, { pipeCreate, fdClose }, (fd, max) => chainRenderFd(handle, fd, writeFd, Math.min(max, RENDER_READ_BYTES), analyzer), options);
        chainFinishFd(handle, writeFd, analyzer);
      } catch (e) {
        throw await encoderFailureOr(e, encoder, toEncoder, fdClose);
      }
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

/** The programme as the limiter will see it: rendered once through the chain's stages before the
 *  limiter into a float file, with the target model of it (what the loudness search needs). */
export interface PreparedProgramme {
  probe: AudioProbe;
  /** Interleaved f32le frames at the input's rate, as long as the input. */
  file: string;
  model: TargetModelHandle;
}

/** The chain's stages before the limiter (the limiter and dither off). */
export function beforeLimiter(chain: ChainDocument): ChainDocument {
  return { ...chain, limiter: { ...chain.limiter, enabled: false }, dither: { ...chain.dither, enabled: false } };
}

/** The chain's limiter and dither alone. */
export function limiterAndDither(chain: ChainDocument): ChainDocument {
  const off = <T extends { enabled: boolean }>(s: T): T => ({ ...s, enabled: false });
  return { ...chain, eq: off(chain.eq), compressor: off(chain.compressor), imager: off(chain.imager), saturation: off(chain.saturation), reverb: off(chain.reverb), delay: off(chain.delay) };
}

function pipeFunctions(file: string) {
  const { pipeCreate, fdClose, chainRenderFd, chainFinishFd } = dsp;
  if (!pipeCreate || !fdClose || !chainRenderFd || !chainFinishFd) {
    throw new LatheError('USAGE', 'rendering needs the native pipe functions, which this platform build lacks', { file });
  }
  return { pipeCreate, fdClose, chainRenderFd, chainFinishFd };
}

/** Decodes `probe`'s file once through the chain's stages before the limiter into `dir`. */
export async function prepareForLimiter(probe: AudioProbe, chain: ChainDocument, dir: string, options: DecodeOptions = {}): Promise<PreparedProgramme> {
  const { pipeCreate, fdClose, chainRenderFd, chainFinishFd } = pipeFunctions(probe.file);
  const handle = createChain(probe, beforeLimiter(chain));
  const model = dsp.targetModelCreate({ sampleRate: probe.sampleRate, channelNames: probe.channelNames });
  const file = join(dir, 'before-limiter.f32');
  const fd = openSync(file, 'w');
  try {
    await decodeToFd(probe, { pipeCreate, fdClose }, (rfd, max) => chainRenderFd(handle, rfd, fd, Math.min(max, RENDER_READ_BYTES), null, model), options);
    chainFinishFd(handle, fd, null, model);
  } finally {
    closeSync(fd);
  }
  return { probe, file, model };
}

/**
 * Runs the prepared programme through the chain's limiter and dither (the other stages were
 * rendered by `prepareForLimiter`) into an encoded file, or only into `options.analyzer` when
 * `output` is null. The samples are those a full render of the chain gives.
 */
export async function renderPrepared(prepared: PreparedProgramme, chain: ChainDocument, output: { file: string; format: EncodeFormat } | null, options: RenderOptions = {}): Promise<RenderResult> {
  const { probe } = prepared;
  const { pipeCreate, fdClose, chainRenderFd, chainFinishFd } = pipeFunctions(probe.file);
  const handle = createChain(probe, limiterAndDither(chain), options.seed);
  const analyzer = options.analyzer ?? null;
  const source = openSync(prepared.file, 'r');
  const toEncoder = output ? pipeCreate() : null;
  let encoder: EncodeSession | undefined;
  try {
    if (output && toEncoder) {
      try {
        encoder = new EncodeSession(output.file, output.format, toEncoder.readFd);
      } finally {
        fdClose(toEncoder.readFd);
      }
    }
    const writeFd = toEncoder ? toEncoder.writeFd : null;
    // Progress in frames of the prepared programme read so far (interleaved f32).
    const frameBytes = 4 * probe.channels;
    let bytesRead = 0;
    try {
      for (;;) {
        if (options.signal?.aborted) throw new LatheError('CANCELLED', 'rendering was cancelled', { file: probe.file });
        const n = chainRenderFd(handle, source, writeFd, RENDER_READ_BYTES, analyzer);
        if (n === 0) break;
        bytesRead += n;
        options.onProgress?.(Math.floor(bytesRead / frameBytes));
        await new Promise((resolve) => setImmediate(resolve));
      }
      chainFinishFd(handle, writeFd, analyzer);
    } catch (e) {
      throw encoder && toEncoder ? await encoderFailureOr(e, encoder, toEncoder, fdClose) : e;
    }
    if (toEncoder && encoder) {
      fdClose(toEncoder.writeFd);
      toEncoder.writeFd = -1;
      await encoder.finish();
    }
  } finally {
    if (toEncoder && toEncoder.writeFd >= 0) fdClose(toEncoder.writeFd);
    encoder?.close();
    closeSync(source);
  }
  const info = dsp.chainInfo(handle);
  return { latencyFrames: info.latencyFrames, compressorMaxGrDb: info.compressorMaxGrDb, limiterMaxGrDb: info.limiterMaxGrDb };
}
