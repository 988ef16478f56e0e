// Albums on the queue: `lathe album … --queue redis://HOST:PORT` enqueues the album as ONE job on
// the same BullMQ queue the batches use, and any `lathe worker` takes it and masters the whole
// album (its tracks fanned out inside the job, as a local album does).
//
// Why one job and not one per track with a finishing job that waits for them: under the anchor
// policy every track's level depends on where the anchor landed, and the album's own steps (the
// consistency QC, the CD image dithered once over all tracks, the CUE sheet) need every track, so
// per-track jobs would be a chain of dependent jobs whose coordination state lives in Redis and
// must itself survive a killed worker. One job has none: its only state is the album's resume
// folder on the shared storage (OUT/.lathe-album, see album/resume.ts). When the worker running
// it dies, its lock lapses, another worker's stalled-job check puts the job back, and whoever
// takes it runs the album again, reusing every track the dead worker finished and verified (the
// dead worker's work folder is discarded, never finished) and mastering only the rest. Many
// albums spread over many workers; one album's tracks run side by side within its worker.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { masterAlbum, type AlbumDocument, type AlbumPolicy, type AlbumResult } from '../album/album.js';
import { canonicalJson } from '../batch/batch.js';
import type { ChainDocument } from '../chain/document.js';
import { sha256File } from '../delivery/master.js';
import { getProfile, getTarget } from '../delivery/targets.js';
import { LatheError } from '../errors.js';
import { checkSourceFile } from '../media/probe.js';
import { checkRedis, DEFAULT_QUEUE_NAME, parseRedisUrl, type JobProgress } from './queue.js';

/** An album as a queue job: everything a worker needs, as plain data (paths on shared storage). */
export interface AlbumJob {
  kind: 'album';
  album: AlbumDocument;
  targetIds: string[];
  chain: ChainDocument;
  policy: AlbumPolicy;
  anchor: string | null;
  profileId: string | null;
  maxLimitingDb: number | null;
  codecChecks: 'full' | 'none';
  name: string;
  /** The output folder (absolute, on the shared storage). */
  outDir: string;
  /** Reread finished tracks' files before reusing them (--verify). */
  verify: boolean;
  appVersion: string;
}

/** What a worker returns for an album job: where its report is, and the report's SHA-256. */
export interface AlbumJobResult {
  report: string;
  reportSha256: string;
}

const ATTEMPTS = 4;

export const isAlbumJob = (data: unknown): data is AlbumJob => !!data && typeof data === 'object' && (data as { kind?: unknown }).kind === 'album';

/** The job's id: its content and its output folder (the same album enqueued twice is one job). */
export function albumJobId(job: AlbumJob): string {
  const { appVersion: _v, ...decisive } = job;
  return `album-${createHash('sha256').update(canonicalJson(decisive)).digest('hex').slice(0, 32)}`;
}

/** What a worker's `start` line names for an album job. */
export const albumJobLabel = (job: AlbumJob) => join(job.outDir, `${job.name}.album.json`);

/** Runs an album job on this machine (a worker's processor). */
export async function runAlbumJob(job: AlbumJob, signal: AbortSignal, onProgress: (p: JobProgress) => void): Promise<AlbumJobResult> {
  const me = `${hostname()}:${process.pid}`;
  const result = await masterAlbum(job.album, job.targetIds.map(getTarget), {
    outDir: job.outDir,
    chain: job.chain,
    policy: job.policy,
    ...(job.anchor !== null ? { anchor: job.anchor } : {}),
    ...(job.profileId !== null ? { profile: getProfile(job.profileId) } : {}),
    ...(job.maxLimitingDb !== null ? { maxLimiterGainReductionDb: job.maxLimitingDb } : {}),
    codecChecks: job.codecChecks,
    name: job.name,
    verify: job.verify,
    appVersion: job.appVersion,
    signal,
    onProgress: (stage) => onProgress({ fraction: 0, stage, worker: me }),
  });
  return { report: result.report, reportSha256: await sha256File(result.report) };
}

export interface EnqueueAlbumOptions {
  queueName?: string;
  signal?: AbortSignal;
  pollMs?: number;
  onProgress?: (stage: string, worker: string | null) => void;
  onNotice?: (message: string) => void;
}

/**
 * Enqueues an album and follows it until a worker has finished it (or it failed after its
 * retries). Returns the album's result as its report on the shared storage says, after checking
 * that the report is the one the worker wrote and that every deliverable it names is there.
 * Cancelling takes the job back if no worker has started it; a running album finishes.
 */
export async function enqueueAlbum(url: string, job: AlbumJob, options: EnqueueAlbumOptions = {}): Promise<{ result: AlbumResult | null; cancelled: boolean }> {
  // Every track checked here first: a typo is one clear line, not a job failing on a worker.
  for (const t of job.album.tracks) await checkSourceFile(t.file);
  mkdirSync(job.outDir, { recursive: true });
  await checkRedis(url);
  const queue = new Queue<AlbumJob, AlbumJobResult>(options.queueName ?? DEFAULT_QUEUE_NAME, { connection: parseRedisUrl(url) });
  queue.on('error', () => {});
  try {
    await queue.waitUntilReady();
    const id = albumJobId(job);
    const existing = await queue.getJob(id);
    let follow = false;
    if (existing) {
      const state = await existing.getState();
      // A finished job of an earlier run is removed so the album runs anew (reusing what it can);
      // a waiting or running one is simply followed.
      if (state === 'completed' || state === 'failed') await existing.remove();
      else follow = true;
    }
    if (!follow) await queue.add('album', job, { jobId: id, attempts: ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
    options.onNotice?.(`the album (${job.album.tracks.length} track${job.album.tracks.length === 1 ? '' : 's'}) is on the queue as ${id}; following it — Ctrl-C stops following and takes the job back if no worker has started it`);
    const poll = options.pollMs ?? 300;
    const since = Date.now();
    let noticed = false;
    let lastStage = '';
    for (;;) {
      const current = await queue.getJob(id);
      if (!current) throw new LatheError('QUEUE_UNREACHABLE', `the album's job ${id} disappeared from the queue`);
      const state = await current.getState();
      if (options.signal?.aborted && (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children')) {
        try {
          await current.remove();
          return { result: null, cancelled: true };
        } catch {
          // A worker took it meanwhile: follow it to the end.
        }
      }
      if (state === 'failed') throw new LatheError('QUEUE_JOB_FAILED', `the album failed on the queue: ${current.failedReason || 'no reason given'}`);
      if (state === 'completed') {
        const value = current.returnvalue as AlbumJobResult | null;
        if (!value || typeof value.report !== 'string') throw new LatheError('QUEUE_JOB_FAILED', 'the album job completed without naming its report');
        return { result: readAlbumReport(value), cancelled: !!options.signal?.aborted };
      }
      if (!noticed && state !== 'active' && Date.now() - since > 15_000) {
        noticed = true;
        options.onNotice?.('no worker has started the album in 15 s: is a `lathe worker` running on this queue?');
      }
      const p = current.progress as Partial<JobProgress> | number;
      if (state === 'active' && typeof p === 'object' && p && typeof p.stage === 'string' && p.stage !== lastStage) {
        lastStage = p.stage;
        options.onProgress?.(p.stage, p.worker ?? null);
      }
      await new Promise((r) => setTimeout(r, poll));
    }
  } finally {
    await queue.close();
  }
}

/** The album's report from the shared storage, checked against what the worker said it wrote. */
function readAlbumReport(value: AlbumJobResult): AlbumResult {
  const where = resolve(value.report);
  let text: Buffer;
  try {
    text = readFileSync(where);
  } catch (e) {
    throw new LatheError('QUEUE_JOB_FAILED', `the album's report is not on the shared storage (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, { file: where });
  }
  if (createHash('sha256').update(text).digest('hex') !== value.reportSha256) throw new LatheError('QUEUE_JOB_FAILED', 'the album report on the shared storage is not the one the worker wrote (another run replaced it?)', { file: where });
  const result = JSON.parse(text.toString('utf8')) as AlbumResult;
  for (const t of result.tracks) if (!existsSync(t.file)) throw new LatheError('QUEUE_JOB_FAILED', 'the album completed but this deliverable is missing on the shared storage', { file: t.file });
  return result;
}
