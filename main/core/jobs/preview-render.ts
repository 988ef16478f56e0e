// Preview renders from the decoded track (an interleaved f32 file): the window around the playhead
// first, rendered from a little before it so the chain's compressor, limiter and sends have settled,
// then the whole track in one continuous pass (native code reads the cache and writes the WAV).
// Both stop between blocks as soon as the shared cancel flag is set.
import { closeSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import dsp from '#native-dsp';
import { LatheError } from '../errors.js';
import { writeAll } from '../write-all.js';
import { floatWavHeader } from './wav-header.js';
import type { PreviewParams, PreviewRegion } from './kinds.js';

/** Rendered before the window and thrown away: long enough for release times and a reverb tail
 *  to reach the state they would have in a full render (the chain's times are ≤ 5 s release,
 *  but a slow release settles well within a couple of seconds on programme material). */
const PREROLL_SECONDS = 2;
const BLOCK_FRAMES = 16_384;
const FULL_READ_BYTES = 1 << 20;

export function isCancelled(flag: Int32Array | undefined): boolean {
  return flag !== undefined && Atomics.load(flag, 0) !== 0;
}

function cancelled(): LatheError {
  return new LatheError('CANCELLED', 'the preview was replaced by a newer one');
}

function writeAtomic(file: string, chunks: Uint8Array[]): void {
  const tmp = `${file}.partial`;
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks) writeAll(fd, c);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/** The window [playhead − w/2, playhead + w/2] clamped to the track, rendered as a full render
 *  would give it (bar the pre-roll's settling). */
export function renderWindow(p: PreviewParams, flag?: Int32Array): PreviewRegion {
  const { sampleRate, channels, frames } = p;
  const windowFrames = Math.min(frames, Math.round(p.windowSeconds * sampleRate));
  const centre = Math.round(p.playheadSeconds * sampleRate);
  const start = Math.max(0, Math.min(frames - windowFrames, centre - Math.floor(windowFrames / 2)));
  const end = start + windowFrames;
  const handle = dsp.chainCreate({ sampleRate, channels, chain: p.chain });
  const latency = dsp.chainInfo(handle).latencyFrames;
  const from = Math.max(0, start - Math.round(PREROLL_SECONDS * sampleRate));
  // Feed the latency's worth past the window so its last frames see their real future.
  const feedEnd = Math.min(frames, end + latency);
  const frameBytes = 4 * channels;
  const out = new Uint8Array(windowFrames * frameBytes);
  const bytes = Buffer.allocUnsafe(BLOCK_FRAMES * frameBytes);
  const fd = openSync(p.cacheFile, 'r');
  let emitted = from; // track frame index of the next output frame
  // Keeps the part of each rendered block that falls inside the window (interleaved natively).
  const take = (planes: Float32Array[]) => {
    const n = planes[0]?.length ?? 0;
    const lo = Math.max(emitted, start);
    const hi = Math.min(emitted + n, end);
    if (hi > lo) out.set(dsp.interleave(planes.map((pl) => pl.subarray(lo - emitted, hi - emitted))), (lo - start) * frameBytes);
    emitted += n;
  };
  try {
    for (let pos = from; pos < feedEnd && emitted < end; pos += BLOCK_FRAMES) {
      if (isCancelled(flag)) throw cancelled();
      const n = Math.min(BLOCK_FRAMES, feedEnd - pos);
      const got = readSync(fd, bytes, 0, n * frameBytes, pos * frameBytes);
      if (got !== n * frameBytes) throw new LatheError('CORRUPT_AUDIO', 'the preview cache is shorter than the track');
      take(dsp.chainRender(handle, dsp.deinterleave(bytes.subarray(0, got), channels)));
    }
    if (emitted < end) take(dsp.chainFinish(handle));
  } finally {
    closeSync(fd);
  }
  writeAtomic(p.windowFile, [floatWavHeader(sampleRate, channels, windowFrames), out]);
  return { region: 'window', file: p.windowFile, startSeconds: start / sampleRate, endSeconds: end / sampleRate };
}

/** The whole track through the chain, natively from the cache into a float WAV. */
export async function renderFull(p: PreviewParams, flag?: Int32Array, onProgress?: (fraction: number) => void): Promise<PreviewRegion> {
  const { chainRenderFd, chainFinishFd } = dsp;
  if (!chainRenderFd || !chainFinishFd) throw new LatheError('USAGE', 'the background preview needs the native fd functions, which this platform build lacks');
  const handle = dsp.chainCreate({ sampleRate: p.sampleRate, channels: p.channels, chain: p.chain });
  const tmp = `${p.fullFile}.partial`;
  const src = openSync(p.cacheFile, 'r');
  const dst = openSync(tmp, 'w');
  let ok = false;
  try {
    writeAll(dst, floatWavHeader(p.sampleRate, p.channels, p.frames));
    const total = p.frames * p.channels * 4;
    let done = 0;
    for (;;) {
      if (isCancelled(flag)) throw cancelled();
      const n = chainRenderFd(handle, src, dst, FULL_READ_BYTES, null);
      if (n === 0) break;
      done += n;
      onProgress?.(Math.min(1, done / total));
      // Let the worker see messages (a cancel arrives as one too).
      await new Promise((resolve) => setImmediate(resolve));
    }
    chainFinishFd(handle, dst, null);
    ok = true;
  } finally {
    closeSync(src);
    closeSync(dst);
    if (!ok) rmSync(tmp, { force: true });
  }
  renameSync(tmp, p.fullFile);
  return { region: 'full', file: p.fullFile, startSeconds: 0, endSeconds: p.frames / p.sampleRate };
}
