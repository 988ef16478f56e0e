// The batch runner: any number of files mastered for a set of targets, in parallel on the engine's
// worker pool, with progress per file and overall, cancel, and resume.
//
// Every deliverable is keyed by what determines it: the input's content (SHA-256), its name (the
// deliverable's file name comes from it), the chain, the target and the options that change the
// result. A unit of work is one input with the targets it still lacks. It masters into a private
// work folder (so nothing half-written ever sits under a deliverable's name), moves the finished
// files into the output folder, and only then writes a record per deliverable — atomically, one
// small JSON file per key, so several processes (`lathe worker`s on a queue) can share the folder
// without a read-modify-write race. A deliverable counts as done only when its record exists and
// the file it names is there with the recorded size and SHA-256; anything else is done again.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { basename, extname, join, relative, resolve } from 'node:path';
import type { ChainDocument } from '../chain/document.js';
import { sha256File } from '../delivery/master.js';
import type { DeliveryReport } from '../delivery/report-types.js';
import { getTarget } from '../delivery/targets.js';
import { isLatheError, LatheError } from '../errors.js';
import type { ExportParams, JobResults } from '../jobs/kinds.js';
import { checkSourceFile } from '../media/probe.js';
import type { FromBatchWorker, ToBatchWorker } from './batch-worker.js';
import { writeFileAtomic as writeAtomic } from '../write-all.js';
import { relocateReports } from '../delivery/relocate.js';

/** What every deliverable of a batch shares. */
export interface BatchSettings {
  targetIds: string[];
  chain: ChainDocument;
  profileId: string | null;
  maxLimitingDb: number;
  codecChecks: 'full' | 'none';
  /** The output folder (absolute): deliverables, reports, records and the summary. */
  outDir: string;
  appVersion: string;
  /** Read every finished deliverable again to check its SHA-256, even when its size and time are
   *  unchanged (slower; for storage that may corrupt files in place). */
  verify?: boolean;
}

/** One input with the targets it still needs: what a pool slot or a queue worker runs. */
export interface BatchUnit {
  /** Identifies the unit: the input's key and the targets it covers (a queue's job id). */
  key: string;
  input: string;
  inputSha256: string;
  /** Target id → deliverable key, for the targets this unit produces. */
  deliverables: { targetId: string; key: string }[];
  settings: BatchSettings;
}

/** What a finished deliverable's record says (outDir/.lathe-batch/done/KEY.json). */
export interface DeliverableRecord {
  schema: 'lathe.batch-record';
  version: 1;
  key: string;
  input: string;
  inputSha256: string;
  chainSha256: string;
  target: string;
  /** Paths relative to the output folder; the deliverable first, then its reports. */
  /** mtimeMs: the file's modification time once in place (a rename keeps it); while size and
   *  time are unchanged the file is taken as intact without reading it again. */
  files: { path: string; size: number; sha256: string; mtimeMs?: number }[];
  pass: boolean;
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  summary: string;
  finishedAt: string;
  /** Who made it: host and process id (a queue worker's, or the batch's own). */
  producedBy: string;
}

export type DeliverableStatus = 'done' | 'reused' | 'failed' | 'cancelled';

export interface DeliverableOutcome {
  input: string;
  target: string;
  key: string;
  status: DeliverableStatus;
  /** The deliverable (absolute), when there is one. */
  file: string | null;
  pass: boolean;
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  summary: string;
  error: string | null;
  /** Host and process that made it (a queue worker's, or the batch's own). */
  producedBy: string | null;
}

/** Runs a unit's mastering (an export job: master into `params.outDir`). */
export type UnitRunner = (params: ExportParams, signal: AbortSignal, onProgress: (fraction: number, stage: string) => void) => Promise<JobResults['export']>;

const STATE_DIR = '.lathe-batch';

export const recordsDir = (outDir: string) => join(outDir, STATE_DIR, 'done');
const workRoot = (outDir: string) => join(outDir, STATE_DIR, 'work');

/** Who owns a work folder: this host (hashed: host names may hold dashes) and process. */
const hostTag = () => createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
export const workOwner = () => `${hostTag()}-${process.pid}`;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the work folders that processes on this host left behind when they died (a crash, a
 * kill, a power cut): their partial outputs are never finished or reused. Folders of live
 * processes, and of other hosts (queue workers elsewhere), are left alone; a unit taken over from
 * a dead worker on another host has its folder removed when the unit is retried (processUnit).
 * `root` is another folder of work folders named the same way (an album's).
 */
export function sweepDeadWork(outDir: string, root = workRoot(outDir)): number {
  if (!existsSync(root)) return 0;
  const tag = hostTag();
  let removed = 0;
  for (const d of readdirSync(root)) {
    const m = d.match(/^[0-9a-f]+-([0-9a-f]{8})-(\d+)-[0-9a-f]+$/);
    if (m && m[1] === tag && Number(m[2]) !== process.pid && !processAlive(Number(m[2]))) {
      rmSync(join(root, d), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/** JSON with object keys sorted, so equal documents hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function chainSha256(chain: ChainDocument): string {
  return sha256(canonicalJson(chain));
}

/** The key of one deliverable: everything that decides its bytes and its name. */
export function deliverableKey(inputName: string, inputSha256: string, settings: BatchSettings, targetId: string): string {
  return sha256(canonicalJson({ inputName, inputSha256, chain: chainSha256(settings.chain), target: targetId, profile: settings.profileId, maxLimitingDb: settings.maxLimitingDb, codecChecks: settings.codecChecks })).slice(0, 32);
}

/** The record of `key` when the files it names are all there, intact; null otherwise. */
export async function verifiedRecord(outDir: string, key: string, options: { verify?: boolean } = {}): Promise<DeliverableRecord | null> {
  const path = join(recordsDir(outDir), `${key}.json`);
  if (!existsSync(path)) return null;
  let record: DeliverableRecord;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as DeliverableRecord;
  } catch {
    return null;
  }
  if (record.schema !== 'lathe.batch-record' || record.key !== key || !Array.isArray(record.files) || record.files.length === 0) return null;
  for (const f of record.files) {
    const file = join(outDir, f.path);
    let info;
    try {
      info = statSync(file);
    } catch {
      return null;
    }
    if (info.size !== f.size) return null;
    // Anything that rewrote the file changed its time; then (or with verify) read it all.
    if (options.verify || f.mtimeMs === undefined || info.mtimeMs !== f.mtimeMs) {
      if ((await sha256File(file)) !== f.sha256) return null;
    }
  }
  return record;
}

/** Where a deliverable of `input` for `targetId` ends up (master's naming: NAME.TARGET.ext). */
function stemFor(input: string, targetId: string): string {
  return `${basename(input, extname(input))}.${targetId}.`;
}

/**
 * Plans the batch: hashes every input, and for each one finds the targets whose deliverables are
 * already done (record and files intact). Two inputs with the same file name would write the same
 * deliverables, so that is refused.
 */
export async function planBatch(inputs: string[], settings: BatchSettings): Promise<{ units: BatchUnit[]; reused: DeliverableOutcome[] }> {
  if (inputs.length === 0) throw new LatheError('USAGE', 'a batch needs at least one input file');
  for (const id of settings.targetIds) getTarget(id);
  const names = new Map<string, string>();
  for (const input of inputs) {
    const name = basename(input, extname(input));
    const other = names.get(name);
    if (other !== undefined && other !== resolve(input)) throw new LatheError('USAGE', `two inputs are both named "${name}" (${other} and ${resolve(input)}); their deliverables would collide: rename one`, { file: input });
    names.set(name, resolve(input));
  }
  const units: BatchUnit[] = [];
  const reused: DeliverableOutcome[] = [];
  const seen = new Set<string>();
  for (const raw of inputs) {
    const input = resolve(raw);
    if (seen.has(input)) continue;
    seen.add(input);
    await checkSourceFile(input);
    const inputSha256 = await sha256File(input);
    const name = basename(input, extname(input));
    const pending: { targetId: string; key: string }[] = [];
    for (const targetId of settings.targetIds) {
      const key = deliverableKey(name, inputSha256, settings, targetId);
      const record = await verifiedRecord(settings.outDir, key, { verify: settings.verify });
      if (record) reused.push(outcomeFromRecord(settings.outDir, record, 'reused'));
      else pending.push({ targetId, key });
    }
    // The unit's key (a queue's job id) also names the output folder: the same files batched into
    // two folders are two jobs.
    if (pending.length) units.push({ key: sha256(`${pending.map((p) => p.key).join(',')}|${settings.outDir}`).slice(0, 32), input, inputSha256, deliverables: pending, settings });
  }
  return { units, reused };
}

export function outcomeFromRecord(outDir: string, r: DeliverableRecord, status: DeliverableStatus): DeliverableOutcome {
  return { input: r.input, target: r.target, key: r.key, status, file: join(outDir, r.files[0]!.path), pass: r.pass, integratedLufs: r.integratedLufs, truePeakDbtp: r.truePeakDbtp, summary: r.summary, error: null, producedBy: r.producedBy };
}

/**
 * Runs one unit: masters its targets into a private work folder (removing what an earlier,
 * interrupted attempt at the same unit left behind), moves the finished files into the output
 * folder and writes one record per deliverable. Idempotent: a unit whose deliverables are all
 * already recorded returns them without mastering again.
 */
export async function processUnit(unit: BatchUnit, run: UnitRunner, signal: AbortSignal, onProgress: (fraction: number, stage: string) => void = () => {}): Promise<DeliverableRecord[]> {
  const { settings } = unit;
  const outDir = settings.outDir;
  const known = await Promise.all(unit.deliverables.map((d) => verifiedRecord(outDir, d.key)));
  if (known.every((r) => r !== null)) return known as DeliverableRecord[];
  const todo = unit.deliverables.filter((_, i) => known[i] === null);
  const root = workRoot(outDir);
  mkdirSync(root, { recursive: true });
  mkdirSync(recordsDir(outDir), { recursive: true });
  // A partial attempt (a killed worker, a crashed batch) is discarded, never finished or reused.
  for (const d of readdirSync(root)) if (d.startsWith(`${unit.key}-`)) rmSync(join(root, d), { recursive: true, force: true });
  const work = join(root, `${unit.key}-${workOwner()}-${randomBytes(4).toString('hex')}`);
  try {
    // The input may have changed since the batch was planned: the key would be wrong.
    if ((await sha256File(unit.input)) !== unit.inputSha256) throw new LatheError('USAGE', 'the file changed after the batch was planned; run the batch again', { file: unit.input });
    await run(
      { input: unit.input, targetIds: todo.map((d) => d.targetId), profileId: settings.profileId, chain: settings.chain, codecChecks: settings.codecChecks, maxLimitingDb: settings.maxLimitingDb, outDir: work, appVersion: settings.appVersion },
      signal,
      onProgress,
    );
    signal.throwIfAborted();
    const made = readdirSync(work);
    const records: DeliverableRecord[] = [];
    for (const d of todo) {
      const stem = stemFor(unit.input, d.targetId);
      const reportName = `${stem}report.json`;
      if (!made.includes(reportName)) throw new LatheError('FFMPEG_FAILED', `the ${d.targetId} deliverable was not produced`, { file: unit.input });
      const made0 = JSON.parse(readFileSync(join(work, reportName), 'utf8')) as DeliveryReport;
      const deliverableName = basename(made0.deliverable.file);
      const names = [deliverableName, reportName, `${stem}report.html`].filter((n) => made.includes(n));
      // The reports name the deliverable in the output folder, not the work folder that goes away.
      const report = relocateReports(work, reportName, made.includes(`${stem}report.html`) ? `${stem}report.html` : null, join(outDir, deliverableName));
      const files: DeliverableRecord['files'] = [];
      for (const n of names) files.push({ path: n, size: statSync(join(work, n)).size, sha256: n === deliverableName ? report.deliverable.sha256 : await sha256File(join(work, n)) });
      // Files first (each rename is atomic), the record last: a crash in between leaves no
      // record, so the deliverable is made again and renamed over what is there.
      for (const n of names) renameSync(join(work, n), join(outDir, n));
      for (const f of files) f.mtimeMs = statSync(join(outDir, f.path)).mtimeMs;
      const record: DeliverableRecord = {
        schema: 'lathe.batch-record',
        version: 1,
        key: d.key,
        input: unit.input,
        inputSha256: unit.inputSha256,
        chainSha256: chainSha256(settings.chain),
        target: d.targetId,
        files,
        pass: report.pass,
        integratedLufs: report.deliverable.measured.integratedLufs,
        truePeakDbtp: report.deliverable.measured.truePeakDbtp,
        summary: report.summary,
        finishedAt: new Date().toISOString(),
        producedBy: `${hostname()}:${process.pid}`,
      };
      writeAtomic(join(recordsDir(outDir), `${d.key}.json`), `${JSON.stringify(record, null, 2)}\n`);
      records.push(record);
    }
    return unit.deliverables.map((d) => records.find((r) => r.key === d.key) ?? known[unit.deliverables.indexOf(d)]!);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface BatchProgress {
  input: string;
  /** This file's fraction (0–1) and what it is doing. */
  fraction: number;
  stage: string;
  /** The whole batch's fraction (0–1), counting reused deliverables as done. */
  overall: number;
  finished: number;
  total: number;
}

export interface BatchOptions {
  /** Concurrent units (default: the machine's cores). */
  jobs?: number;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
  /** Called as each unit ends (for logs). */
  onUnitDone?: (unit: BatchUnit, outcomes: DeliverableOutcome[]) => void;
  /** Runs units (default: the engine's worker-thread pool). */
  runner?: UnitRunner;
}

export interface BatchResult {
  outcomes: DeliverableOutcome[];
  cancelled: boolean;
}

/** Where the compiled batch worker lives: beside this module in dist/, or in dist/ when this
 *  module runs from the TypeScript sources (tests). */
function batchWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace(/\/main\/core\/batch\/batch\.ts$/, '/dist/main/core/batch/batch-worker.js'));
  return new URL('./batch-worker.js', here);
}

/**
 * `size` worker threads as a unit runner (one unit per thread at a time), and a way to stop them.
 * A thread that dies fails its unit with a clear message and is replaced.
 */
export async function poolRunner(size: number): Promise<{ run: UnitRunner; close: () => Promise<void> }> {
  const { Worker } = await import('node:worker_threads');
  type Pending = { resolve: (v: JobResults['export']) => void; reject: (e: Error) => void; onProgress: (f: number, s: string) => void };
  const idle: InstanceType<typeof Worker>[] = [];
  const waiting: ((w: InstanceType<typeof Worker>) => void)[] = [];
  const all = new Set<InstanceType<typeof Worker>>();
  const jobs = new Map<number, Pending>();
  const owner = new Map<InstanceType<typeof Worker>, number>();
  let nextId = 1;
  let closed = false;
  const release = (w: InstanceType<typeof Worker>) => {
    owner.delete(w);
    const next = waiting.shift();
    if (next) next(w);
    else idle.push(w);
  };
  const spawnOne = (): Promise<void> =>
    new Promise((ready, failed) => {
      const w = new Worker(batchWorkerUrl());
      all.add(w);
      w.on('message', (m: FromBatchWorker) => {
        if (m.type === 'ready') {
          ready();
          release(w);
          return;
        }
        const job = jobs.get(m.id);
        if (!job) return;
        if (m.type === 'progress') job.onProgress(m.fraction, m.stage);
        else {
          jobs.delete(m.id);
          if (m.type === 'done') job.resolve(m.value);
          else job.reject(new LatheError(m.code as never, m.message));
          release(w);
        }
      });
      const died = (e: Error | null) => {
        if (!all.delete(w)) return;
        const id = owner.get(w);
        owner.delete(w);
        const i = idle.indexOf(w);
        if (i >= 0) idle.splice(i, 1);
        if (id !== undefined) {
          jobs.get(id)?.reject(new LatheError('NATIVE_DSP', `the batch worker stopped: ${e?.message ?? 'it exited'}`));
          jobs.delete(id);
        }
        failed(e ?? new Error('the batch worker exited'));
        if (!closed) void spawnOne().catch(() => {});
      };
      w.on('error', (e) => died(e));
      w.on('exit', () => died(null));
    });
  await Promise.all(Array.from({ length: size }, spawnOne));
  const take = () => new Promise<InstanceType<typeof Worker>>((resolve) => (idle.length ? resolve(idle.shift()!) : waiting.push(resolve)));
  return {
    run: async (params, signal, onProgress) => {
      signal.throwIfAborted();
      const w = await take();
      const id = nextId++;
      owner.set(w, id);
      const cancel = () => w.postMessage({ type: 'cancel', id } satisfies ToBatchWorker);
      signal.addEventListener('abort', cancel, { once: true });
      try {
        return await new Promise<JobResults['export']>((resolve, reject) => {
          jobs.set(id, { resolve, reject, onProgress });
          w.postMessage({ type: 'run', id, params } satisfies ToBatchWorker);
        });
      } finally {
        signal.removeEventListener('abort', cancel);
      }
    },
    close: async () => {
      closed = true;
      await Promise.all([...all].map((w) => w.terminate()));
    },
  };
}

/** Plans and runs a batch on this machine. */
export async function runBatch(inputs: string[], settings: BatchSettings, options: BatchOptions = {}): Promise<BatchResult> {
  mkdirSync(settings.outDir, { recursive: true });
  sweepDeadWork(settings.outDir);
  const { units, reused } = await planBatch(inputs, settings);
  const total = units.reduce((n, u) => n + u.deliverables.length, 0) + reused.length;
  const outcomes: DeliverableOutcome[] = [...reused];
  const signal = options.signal ?? new AbortController().signal;
  const size = Math.max(1, Math.min(options.jobs ?? availableParallelism(), units.length || 1));
  const pool = options.runner ? { run: options.runner, close: async () => {} } : units.length ? await poolRunner(size) : { run: null as unknown as UnitRunner, close: async () => {} };
  const fractions = new Map<BatchUnit, number>();
  let finished = reused.length;
  const report = (unit: BatchUnit, fraction: number, stage: string, ended = false) => {
    if (ended) fractions.delete(unit);
    else fractions.set(unit, fraction);
    let running = 0;
    for (const [u, f] of fractions) running += f * u.deliverables.length;
    options.onProgress?.({ input: unit.input, fraction, stage, overall: total ? Math.min(1, (finished + running) / total) : 1, finished, total });
  };
  // Units start in order, at most `size` at a time (the pool's slots), so a cancel stops the rest.
  let next = 0;
  const lane = async () => {
    while (next < units.length) {
      const unit = units[next++]!;
      let mine: DeliverableOutcome[];
      if (signal.aborted) {
        mine = unit.deliverables.map((d) => failedOutcome(unit, d, 'cancelled', 'cancelled before it started'));
      } else {
        report(unit, 0, 'starting');
        try {
          const records = await processUnit(unit, pool.run, signal, (f, stage) => report(unit, f, stage));
          mine = records.map((r) => outcomeFromRecord(settings.outDir, r, 'done'));
        } catch (e) {
          const cancelled = signal.aborted || (isLatheError(e) && e.code === 'CANCELLED');
          const message = e instanceof Error ? e.message : String(e);
          mine = unit.deliverables.map((d) => failedOutcome(unit, d, cancelled ? 'cancelled' : 'failed', cancelled ? 'cancelled' : message));
        }
      }
      fractions.delete(unit);
      finished += unit.deliverables.length;
      outcomes.push(...mine);
      options.onUnitDone?.(unit, mine);
      report(unit, 1, mine.every((o) => o.status === 'done') ? 'done' : mine[0]!.status, true);
    }
  };
  try {
    await Promise.all(Array.from({ length: size }, lane));
  } finally {
    await pool.close();
  }
  // In the order the inputs and targets were given.
  const order = (o: DeliverableOutcome) => inputs.findIndex((i) => resolve(i) === o.input) * 1000 + settings.targetIds.indexOf(o.target);
  outcomes.sort((a, b) => order(a) - order(b));
  return { outcomes, cancelled: signal.aborted };
}

export function failedOutcome(unit: BatchUnit, d: { targetId: string; key: string }, status: 'failed' | 'cancelled', error: string): DeliverableOutcome {
  return { input: unit.input, target: d.targetId, key: d.key, status, file: null, pass: false, integratedLufs: null, truePeakDbtp: null, summary: '', error, producedBy: null };
}

/** Paths relative to the output folder, for the summary's links. */
export function relativeToOut(outDir: string, file: string | null): string | null {
  return file === null ? null : relative(outDir, file);
}
