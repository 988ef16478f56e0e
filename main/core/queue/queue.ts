// Batches beyond one machine: the batch runner's units as jobs on a BullMQ queue in Redis.
// `lathe batch … --queue redis://HOST:PORT` plans the batch (hashing the inputs, skipping what
// is already done), enqueues one job per unit and follows them; `lathe worker --queue …` runs
// them, on as many machines as there are. Inputs and outputs are paths on shared storage that
// every machine mounts at the same place.
//
// Jobs are idempotent: a job's id is its unit's key (the inputs' content, the chain, the targets),
// so enqueueing the same batch twice adds nothing, and a worker first checks whether the
// deliverables are already recorded. A worker that dies stops renewing its job's lock; another
// worker's stalled-job check puts the job back in the queue, and the worker that takes it
// discards the dead one's work folder before mastering again (processUnit). Failures are retried
// with back-off; a bad input fails at once (retrying cannot help). The same workers take album
// jobs (`lathe album … --queue`, one job per album: see album-queue.ts).
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { isLatheError, LatheError } from '../errors.js';
import { runExport } from '../jobs/export.js';
import type { AlbumJob, AlbumJobResult } from './album-queue.js';
import { failedOutcome, outcomeFromRecord, planBatch, processUnit, sweepDeadWork, verifiedRecord, type BatchSettings, type BatchUnit, type DeliverableOutcome, type DeliverableRecord } from '../batch/batch.js';

export const DEFAULT_QUEUE_NAME = 'lathe-master';
const ATTEMPTS = 4;

/** redis://[user:password@]HOST:PORT[/DB] as BullMQ's connection options. */
export function parseRedisUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LatheError('USAGE', `--queue must be a redis://HOST:PORT address, not "${url}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new LatheError('USAGE', `--queue must be a redis:// address, not "${url}"`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new LatheError('USAGE', `--queue: "${u.pathname.slice(1)}" is not a Redis database number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's workers block on Redis; they need ioredis to wait rather than give up.
    maxRetriesPerRequest: null,
  };
}

/**
 * Checks that Redis answers at the address before BullMQ (whose client reconnects forever) is
 * given it, so a wrong address is one clear line instead of a silent wait.
 */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const c = parseRedisUrl(url) as { host: string; port: number; tls?: object };
  if (c.tls) return; // a TLS endpoint cannot be pinged in plain text; BullMQ will say
  const where = `${c.host}:${c.port}`;
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection({ host: c.host, port: c.port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new LatheError('QUEUE_UNREACHABLE', `cannot reach Redis at ${where} (${why}); is redis-server running there?`));
    };
    const timer = setTimeout(() => fail(`no answer in ${timeoutMs / 1000} s`), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      clearTimeout(timer);
      socket.destroy();
      // +PONG, or -NOAUTH when a password is needed (BullMQ sends it): either way Redis is there.
      if (/^[+-]/.test(d.toString('latin1'))) resolve();
      else reject(new LatheError('QUEUE_UNREACHABLE', `${where} answered, but not as Redis does`));
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(e.code ?? e.message);
    });
  });
}

/** A unit's job id (BullMQ refuses ids that are integers or hold a colon). */
export const jobIdFor = (unit: BatchUnit) => `unit-${unit.key}`;

export interface JobProgress {
  fraction: number;
  stage: string;
  worker: string;
}

export interface WorkerOptions {
  queueName?: string;
  concurrency?: number;
  /** How long a job's lock lasts without renewal (a dead worker's job is retaken after it). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs. */
  stalledIntervalMs?: number;
  onEvent?: (event: 'start' | 'done' | 'failed' | 'retry', job: { id: string; input: string }, detail: string) => void;
}

/** Errors that another attempt would meet again: the job fails at once. */
const PERMANENT = new Set(['FILE_NOT_FOUND', 'IS_DIRECTORY', 'PERMISSION_DENIED', 'EMPTY_FILE', 'NOT_AUDIO', 'NO_AUDIO_STREAM', 'CORRUPT_AUDIO', 'TRUNCATED_AUDIO', 'NO_SAMPLES', 'UNSUPPORTED_FORMAT', 'USAGE']);

/** Starts a worker; resolves to a function that stops it (finishing nothing, abandoning nothing:
 *  the running job is cancelled and goes back to the queue for another attempt). */
export async function startWorker(url: string, options: WorkerOptions = {}): Promise<{ worker: Worker; stop: () => Promise<void> }> {
  const albums = await import('./album-queue.js');
  const label = (data: BatchUnit | AlbumJob) => (albums.isAlbumJob(data) ? albums.albumJobLabel(data) : data.input);
  const connection = parseRedisUrl(url);
  await checkRedis(url);
  const me = `${hostname()}:${process.pid}`;
  const swept = new Set<string>();
  const controllers = new Set<AbortController>();
  const worker = new Worker<BatchUnit | AlbumJob, DeliverableRecord[] | AlbumJobResult>(
    options.queueName ?? DEFAULT_QUEUE_NAME,
    async (job: Job<BatchUnit | AlbumJob, DeliverableRecord[] | AlbumJobResult>) => {
      if (albums.isAlbumJob(job.data)) {
        // An album: one job, resumable from its state on the shared storage (album-queue.ts).
        const controller = new AbortController();
        controllers.add(controller);
        options.onEvent?.('start', { id: job.id!, input: albums.albumJobLabel(job.data) }, `attempt ${job.attemptsMade + 1}`);
        try {
          return await albums.runAlbumJob(job.data, controller.signal, (p) => void job.updateProgress(p).catch(() => {}));
        } catch (e) {
          if (isLatheError(e) && PERMANENT.has(e.code)) throw new UnrecoverableError(e.message);
          throw e;
        } finally {
          controllers.delete(controller);
        }
      }
      const unit = job.data;
      // Once per output folder: what dead processes on this host left behind goes.
      if (!swept.has(unit.settings.outDir)) {
        swept.add(unit.settings.outDir);
        sweepDeadWork(unit.settings.outDir);
      }
      const controller = new AbortController();
      controllers.add(controller);
      options.onEvent?.('start', { id: job.id!, input: unit.input }, `attempt ${job.attemptsMade + 1}`);
      let last = 0;
      try {
        return await processUnit(unit, runExport, controller.signal, (fraction, stage) => {
          const now = Date.now();
          if (now - last < 250 && fraction < 1) return;
          last = now;
          void job.updateProgress({ fraction, stage, worker: me } satisfies JobProgress).catch(() => {});
        });
      } catch (e) {
        if (isLatheError(e) && PERMANENT.has(e.code)) throw new UnrecoverableError(e.message);
        throw e;
      } finally {
        controllers.delete(controller);
      }
    },
    {
      connection,
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: 3,
      autorun: true,
    },
  );
  worker.on('completed', (job) => options.onEvent?.('done', { id: job.id!, input: label(job.data) }, `by ${me}`));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError || error.name === 'UnrecoverableError';
    options.onEvent?.(final ? 'failed' : 'retry', { id: job.id!, input: label(job.data) }, error.message);
  });
  // Connection problems are reported, not thrown (ioredis reconnects on its own).
  worker.on('error', () => {});
  await worker.waitUntilReady();
  return {
    worker,
    stop: async () => {
      for (const c of controllers) c.abort();
      await worker.close();
    },
  };
}

export interface EnqueueOptions {
  queueName?: string;
  signal?: AbortSignal;
  pollMs?: number;
  onProgress?: (p: { input: string; fraction: number; stage: string; worker: string | null; overall: number; finished: number; total: number }) => void;
  onUnitDone?: (unit: BatchUnit, outcomes: DeliverableOutcome[]) => void;
  /** What is worth a line on its own: the jobs are enqueued; no worker has taken one for a while. */
  onNotice?: (message: string) => void;
}

/**
 * Enqueues a batch and follows it until every job has finished (completed, or failed after its
 * retries). Returns one outcome per deliverable; deliverables already done are reused, never
 * enqueued. Cancelling removes the jobs no worker has started; running ones finish.
 */
export async function enqueueBatch(url: string, inputs: string[], settings: BatchSettings, options: EnqueueOptions = {}): Promise<{ outcomes: DeliverableOutcome[]; cancelled: boolean }> {
  mkdirSync(settings.outDir, { recursive: true });
  const { units, reused } = await planBatch(inputs, settings);
  const outcomes: DeliverableOutcome[] = [...reused];
  const total = units.reduce((n, u) => n + u.deliverables.length, 0) + reused.length;
  let finished = reused.length;
  if (units.length === 0) return { outcomes, cancelled: false };
  await checkRedis(url);
  const queue = new Queue<BatchUnit, DeliverableRecord[]>(options.queueName ?? DEFAULT_QUEUE_NAME, { connection: parseRedisUrl(url) });
  queue.on('error', () => {});
  try {
    await queue.waitUntilReady();
    for (const unit of units) {
      const id = jobIdFor(unit);
      const existing = await queue.getJob(id);
      if (existing) {
        const state = await existing.getState();
        // A finished job of an earlier run whose deliverables are gone again (or that failed)
        // is removed so it can run anew; a waiting or running one is simply followed.
        if (state === 'completed' || state === 'failed') await existing.remove();
        else continue;
      }
      await queue.add('master', unit, { jobId: id, attempts: ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
    }
    options.onNotice?.(`${units.length} job${units.length === 1 ? '' : 's'} on the queue (${reused.length} deliverable${reused.length === 1 ? '' : 's'} already done); following them — Ctrl-C stops following and takes back the jobs no worker has started`);
    const pending = new Map(units.map((u) => [jobIdFor(u), u]));
    const fractions = new Map<string, number>();
    const poll = options.pollMs ?? 300;
    let cancelled = false;
    let started = false;
    const since = Date.now();
    while (pending.size) {
      if (!started && Date.now() - since > 15_000) {
        started = true;
        options.onNotice?.(`no worker has started a job in 15 s: is a \`lathe worker\` running on this queue?`);
      }
      if (options.signal?.aborted && !cancelled) {
        cancelled = true;
        for (const [id, unit] of pending) {
          const job = await queue.getJob(id);
          const state = job ? await job.getState() : 'unknown';
          if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children')) {
            try {
              await job.remove();
              pending.delete(id);
              const mine = unit.deliverables.map((d) => failedOutcome(unit, d, 'cancelled', 'cancelled before a worker started it'));
              outcomes.push(...mine);
              finished += mine.length;
              options.onUnitDone?.(unit, mine);
            } catch {
              // A worker took it meanwhile: follow it to the end.
            }
          }
        }
        continue;
      }
      for (const [id, unit] of [...pending]) {
        const job = await queue.getJob(id);
        if (!job) {
          pending.delete(id);
          const mine = unit.deliverables.map((d) => failedOutcome(unit, d, 'failed', 'the job disappeared from the queue'));
          outcomes.push(...mine);
          finished += mine.length;
          options.onUnitDone?.(unit, mine);
          continue;
        }
        const state = await job.getState();
        if (state === 'active' || state === 'completed' || state === 'failed') started = true;
        if (state === 'completed' || state === 'failed') {
          pending.delete(id);
          fractions.delete(id);
          let mine: DeliverableOutcome[];
          if (state === 'completed') {
            // Trust the shared storage, not the message: each deliverable must be there, intact.
            mine = [];
            for (const d of unit.deliverables) {
              const record = await verifiedRecord(settings.outDir, d.key);
              mine.push(record ? outcomeFromRecord(settings.outDir, record, 'done') : failedOutcome(unit, d, 'failed', 'the job completed but its deliverable is missing or damaged on the shared storage'));
            }
          } else {
            mine = unit.deliverables.map((d) => failedOutcome(unit, d, 'failed', job.failedReason || 'failed'));
          }
          outcomes.push(...mine);
          finished += mine.length;
          options.onUnitDone?.(unit, mine);
          continue;
        }
        const p = job.progress as Partial<JobProgress> | number;
        if (state === 'active' && typeof p === 'object' && p && typeof p.fraction === 'number') {
          fractions.set(id, p.fraction);
          let running = 0;
          for (const [jid, f] of fractions) running += f * (pending.get(jid)?.deliverables.length ?? 0);
          options.onProgress?.({ input: unit.input, fraction: p.fraction, stage: p.stage ?? '', worker: p.worker ?? null, overall: Math.min(1, (finished + running) / total), finished, total });
        }
      }
      if (pending.size) await new Promise((r) => setTimeout(r, poll));
    }
    const order = (o: DeliverableOutcome) => inputs.findIndex((i) => resolve(i) === o.input) * 1000 + settings.targetIds.indexOf(o.target);
    outcomes.sort((a, b) => order(a) - order(b));
    return { outcomes, cancelled };
  } finally {
    await queue.close();
  }
}
