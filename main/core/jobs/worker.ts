// A job worker thread: decodes, analyses, renders previews and files, and exports, so none of it
// ever runs on the main process's thread. One job at a time; progress, partial results (the
// preview window) and the outcome go back as messages. A cancel sets the shared flag (seen between
// native blocks) and aborts the job's signal (seen by ffmpeg and the engine's loops).
import { renameSync, rmSync, statSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { analyzeFile } from '../analysis/analyze.js';
import { renderToFile } from '../chain/render.js';
import { isLatheError, LatheError } from '../errors.js';
import { ffmpegInput, ffmpegMessage } from '../media/probe.js';
import { runTool } from '../media/spawn.js';
import { FULL_MATCH, matchSummary, planMatch } from '../matching/match.js';
import { profileFile } from '../matching/profile.js';
import { runExport } from './export.js';
import type { FromWorker, JobParams, JobResults, ToWorker } from './kinds.js';
import type { TargetProgress } from '../delivery/master.js';
import { isCancelled, renderFull, renderWindow } from './preview-render.js';

const JOB_NICE = 10;
const port = parentPort;
if (!port) throw new Error('main/core/jobs/worker.js runs only as a worker thread');
// Jobs are background work: this thread (on Linux, priority is per thread) and everything it
// starts — the DSP's own threads and ffmpeg — run at a lower priority than the main thread, so
// on a busy machine the UI's thread is scheduled first. Not permitted everywhere; harmless then.
try {
  setPriority(JOB_NICE);
} catch {
  // Keep the default priority.
}
const controllers = new Map<string, AbortController>();
const post = (m: FromWorker) => port.postMessage(m);

async function decode(p: JobParams['decode'], signal: AbortSignal): Promise<JobResults['decode']> {
  const tmp = `${p.cacheFile}.partial`;
  try {
    const args = ['-nostdin', '-hide_banner', '-v', 'error', '-i', ffmpegInput(p.probe.file), '-map', `0:${p.probe.streamIndex}`, '-vn', '-sn', '-dn', '-c:a', 'pcm_f32le', '-f', 'f32le', '-y', `file:${tmp}`];
    const r = await runTool('ffmpeg', args, signal);
    if (r.code !== 0) throw new LatheError('CORRUPT_AUDIO', `cannot decode for previews (ffmpeg: ${ffmpegMessage(r.stderr)})`, { file: p.probe.file });
    const frames = statSync(tmp).size / (4 * p.probe.channels);
    if (frames === 0) throw new LatheError('NO_SAMPLES', 'contains no audio samples', { file: p.probe.file });
    renameSync(tmp, p.cacheFile);
    return { cacheFile: p.cacheFile, frames };
  } finally {
    rmSync(tmp, { force: true });
  }
}

async function run(jobId: string, kind: keyof JobParams, params: unknown, flag: Int32Array, signal: AbortSignal): Promise<unknown> {
  const progress = (fraction: number, stage: string, targets?: TargetProgress[]) => post({ type: 'progress', jobId, fraction, stage, ...(targets ? { targets } : {}) });
  switch (kind) {
    case 'decode':
      progress(0, 'decoding');
      return decode(params as JobParams['decode'], signal);
    case 'analysis': {
      const p = params as JobParams['analysis'];
      progress(0, 'analysing');
      return analyzeFile(p.file, { signal, includeSpectrogram: p.includeSpectrogram, onProgress: (f) => progress(f, 'analysing') });
    }
    case 'preview': {
      const p = params as JobParams['preview'];
      const window = renderWindow(p, flag);
      post({ type: 'partial', jobId, value: window });
      progress(0, 'rendering the whole track');
      return renderFull(p, flag, (f) => progress(f, 'rendering the whole track'));
    }
    case 'render': {
      const p = params as JobParams['render'];
      const frames = (p.probe.durationSeconds ?? 0) * p.probe.sampleRate;
      progress(0, 'rendering');
      const r = await renderToFile(p.probe, p.chain, p.output, p.format, { signal, onProgress: (f) => frames > 0 && progress(Math.min(0.99, f / frames), 'rendering') });
      return { files: [p.output], latencyFrames: r.latencyFrames, limiterMaxGrDb: r.limiterMaxGrDb } satisfies JobResults['render'];
    }
    case 'export':
      return runExport(params as JobParams['export'], signal, progress);
    case 'match': {
      const p = params as JobParams['match'];
      const refs = p.references?.length ? p.references : [{ file: p.reference, weight: 1 }];
      progress(0, refs.length > 1 ? `analysing the track and ${refs.length} references` : 'analysing the track and the reference');
      const [target, ...profiles] = await Promise.all([profileFile(p.target, { signal, cacheDir: null }), ...refs.map((r) => profileFile(r.file, { signal }))]);
      const plan = planMatch(target!, refs.map((r, i) => ({ profile: profiles[i]!, weight: r.weight })), FULL_MATCH, p.chain);
      return { chain: plan.chain, summary: matchSummary(plan) } satisfies JobResults['match'];
    }
    case 'assist': {
      const p = params as JobParams['assist'];
      progress(0, 'listening');
      // The model is loaded once per worker thread (lazily) and stays for the next proposal.
      const { assistFile } = await import('../assistant/assist.js');
      return assistFile(p.file, { signal, ...(p.profile ? { profile: p.profile } : {}), ...(p.targetLufs !== null ? { targetLufs: p.targetLufs } : {}), ...(p.adjustmentsPath ? { adjustmentsPath: p.adjustmentsPath } : {}) });
    }
    default:
      throw new LatheError('USAGE', `unknown job kind ${String(kind)}`);
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') {
    controllers.get(m.jobId)?.abort();
    return;
  }
  const controller = new AbortController();
  controllers.set(m.jobId, controller);
  if (isCancelled(m.cancel)) controller.abort();
  run(m.jobId, m.kind, m.params, m.cancel, controller.signal)
    .then((value) => {
      if (isCancelled(m.cancel) || controller.signal.aborted) post({ type: 'failed', jobId: m.jobId, code: 'CANCELLED', message: 'cancelled' });
      else post({ type: 'done', jobId: m.jobId, value });
    })
    .catch((e: unknown) => {
      const cancelledNow = isCancelled(m.cancel) || controller.signal.aborted;
      const code = cancelledNow ? 'CANCELLED' : isLatheError(e) ? e.code : 'INTERNAL';
      const message = cancelledNow ? 'cancelled' : e instanceof Error ? e.message : String(e);
      post({ type: 'failed', jobId: m.jobId, code, message });
    })
    .finally(() => controllers.delete(m.jobId));
});
post({ type: 'ready' });
