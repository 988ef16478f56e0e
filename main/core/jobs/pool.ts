// A small pool of worker threads (one per core) that runs the engine's heavy work off the main
// thread. Jobs queue by priority (previews first: someone is waiting to hear them), report
// progress, can be cancelled whether queued or running, and end in a value or a LatheError with a
// code the UI can show. A worker that dies is replaced and its job fails with a clear message.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { LatheError, type LatheErrorCode } from '../errors.js';
import type { FromWorker, JobKindName, JobParams, JobResults, ToWorker } from './kinds.js';
import type { TargetProgress } from '../delivery/master.js';

export interface JobCallbacks<K extends JobKindName> {
  /** `targets`: an export's progress per target (every target of the job, in order). */
  onProgress?: (fraction: number, stage: string, targets?: TargetProgress[]) => void;
  /** A result delivered before the job ends (the preview window). */
  onPartial?: (value: unknown) => void;
  onStart?: () => void;
}

export interface JobHandle<K extends JobKindName> {
  readonly id: string;
  readonly kind: K;
  readonly result: Promise<JobResults[K]>;
  cancel(): boolean;
}

/** A job's failure, with the engine's code (CANCELLED when it was cancelled). */
export class JobError extends LatheError {
  constructor(code: string, message: string) {
    super(code as LatheErrorCode, message);
    this.name = 'JobError';
  }
}

interface Job {
  id: string;
  kind: JobKindName;
  params: unknown;
  priority: number;
  flag: Int32Array;
  callbacks: JobCallbacks<JobKindName>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  state: 'queued' | 'running' | 'settled';
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  job: Job | null;
}

const PRIORITY: Record<JobKindName, number> = { preview: 0, decode: 1, analysis: 2, match: 2, assist: 2, render: 3, export: 3 };

/** Where the compiled worker lives: next to this module in dist/, or in dist/ when this module
 *  runs from TypeScript sources (tests). */
function workerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace(/\/main\/core\/jobs\/pool\.ts$/, '/dist/main/core/jobs/worker.js'));
  return new URL('./worker.js', here);
}

export class JobPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(readonly size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Resolves when every worker has loaded the engine (the addon included). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  get busy(): number {
    return this.slots.filter((s) => s.job).length + this.queue.length;
  }

  run<K extends JobKindName>(kind: K, params: JobParams[K], callbacks: JobCallbacks<K> = {}): JobHandle<K> {
    if (this.closed) throw new LatheError('USAGE', 'the job pool is closed');
    const id = `${kind}-${randomBytes(6).toString('hex')}`;
    let job!: Job;
    const result = new Promise<JobResults[K]>((resolve, reject) => {
      job = { id, kind, params, priority: PRIORITY[kind], flag: new Int32Array(new SharedArrayBuffer(4)), callbacks: callbacks as JobCallbacks<JobKindName>, resolve: resolve as (v: unknown) => void, reject, state: 'queued' };
    });
    // Stable by priority: a preview overtakes queued renders, not other previews.
    const at = this.queue.findIndex((q) => q.priority > job.priority);
    if (at < 0) this.queue.push(job);
    else this.queue.splice(at, 0, job);
    this.pump();
    return { id, kind, result, cancel: () => this.cancel(job) };
  }

  /** Stops every worker; pending jobs fail as cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new JobError('CANCELLED', 'the application is closing'));
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.job) this.settle(s.job, new JobError('CANCELLED', 'the application is closing'));
        await s.worker.terminate();
      }),
    );
  }

  private cancel(job: Job): boolean {
    if (job.state === 'settled') return false;
    Atomics.store(job.flag, 0, 1);
    if (job.state === 'queued') {
      this.queue.splice(this.queue.indexOf(job), 1);
      this.settle(job, new JobError('CANCELLED', 'cancelled before it started'));
      return true;
    }
    const slot = this.slots.find((s) => s.job === job);
    slot?.worker.postMessage({ type: 'cancel', jobId: job.id } satisfies ToWorker);
    return true;
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl());
    // The worker's own unhandled errors are reported below; don't keep the process alive for it.
    worker.unref();
    let markReady!: () => void;
    const slot: Slot = { worker, job: null, ready: new Promise((r) => (markReady = r)) };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        markReady();
        return;
      }
      const job = slot.job;
      if (!job || job.id !== m.jobId) return;
      if (m.type === 'progress') job.callbacks.onProgress?.(m.fraction, m.stage, m.targets);
      else if (m.type === 'partial') job.callbacks.onPartial?.(m.value);
      else {
        slot.job = null;
        worker.unref();
        if (m.type === 'done') this.settle(job, null, m.value);
        else this.settle(job, new JobError(m.code, m.message));
        this.pump();
      }
    });
    const onDeath = (error: Error | null) => {
      const job = slot.job;
      slot.job = null;
      markReady();
      if (job) this.settle(job, new JobError('INTERNAL', `the job's worker stopped: ${error?.message ?? 'it exited'}`));
      const index = this.slots.indexOf(slot);
      if (!this.closed && index >= 0) {
        this.slots[index] = this.spawn();
        this.pump();
      }
    };
    worker.on('error', (e) => onDeath(e));
    worker.on('exit', () => {
      if (this.slots.includes(slot)) onDeath(null);
    });
    return slot;
  }

  private settle(job: Job, error: Error | null, value?: unknown): void {
    if (job.state === 'settled') return;
    job.state = 'settled';
    if (error) job.reject(error);
    else job.resolve(value);
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      job.state = 'running';
      job.callbacks.onStart?.();
      slot.worker.ref();
      slot.worker.postMessage({ type: 'run', jobId: job.id, kind: job.kind, params: job.params, cancel: job.flag } satisfies ToWorker);
    }
  }
}
