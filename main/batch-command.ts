// `lathe batch FILES… --targets LIST --out DIR [--jobs N] [--queue redis://HOST:PORT] …` and
// `lathe worker --queue redis://HOST:PORT`: many files mastered in parallel (on this machine's
// worker pool, or through a BullMQ queue on Redis served by `lathe worker`s), resumable, with a
// summary report (batch-summary.json / .csv / .html in DIR).
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runBatch, type BatchSettings, type DeliverableOutcome } from './core/batch/batch.js';
import { writeSummary } from './core/batch/summary.js';
import { getProfile, parseTargetList } from './core/delivery/targets.js';
import { LatheError } from './core/errors.js';
import { readChainFile } from './chain-file.js';


function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new LatheError('USAGE', `--${name} must be a whole number of at least 1, not ${v}`);
  return n;
}

/** One line per finished deliverable, progress at most every half second, on stderr. */
function progressPrinter(quiet: boolean) {
  let last = 0;
  return {
    progress: (p: { input: string; fraction: number; stage: string; overall: number; finished: number; total: number; worker?: string | null }) => {
      if (quiet) return;
      const now = Date.now();
      if (now - last < 500) return;
      last = now;
      process.stderr.write(`  [${(p.overall * 100).toFixed(0).padStart(3)}% ${p.finished}/${p.total}] ${basename(p.input)} ${(p.fraction * 100).toFixed(0)}%: ${p.stage}${p.worker ? ` (${p.worker})` : ''}\n`);
    },
    unitDone: (outcomes: DeliverableOutcome[]) => {
      if (quiet) return;
      for (const o of outcomes) process.stderr.write(`  ${o.status === 'done' ? (o.pass ? 'PASS' : 'FAIL') : o.status.toUpperCase()}  ${basename(o.input)} → ${o.target}${o.error ? `: ${o.error}` : ''}\n`);
    },
  };
}

export async function batchCommand(args: string[], appVersion: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      targets: { type: 'string' },
      out: { type: 'string' },
      chain: { type: 'string' },
      profile: { type: 'string' },
      'max-limiting': { type: 'string' },
      'codec-checks': { type: 'string' },
      jobs: { type: 'string' },
      queue: { type: 'string' },
      verify: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length === 0 || !values.targets || !values.out) throw new LatheError('USAGE', 'batch takes FILES… --targets LIST --out DIR (see lathe --help)');
  const targets = parseTargetList(values.targets);
  const maxGr = values['max-limiting'] === undefined ? 6 : Number(values['max-limiting']);
  if (!(maxGr >= 0 && maxGr <= 24)) throw new LatheError('USAGE', '--max-limiting must be a number of dB from 0 to 24');
  const codecChecks = values['codec-checks'] ?? 'full';
  if (codecChecks !== 'full' && codecChecks !== 'none') throw new LatheError('USAGE', '--codec-checks must be full or none');
  if (values.profile) getProfile(values.profile);
  const jobs = positiveInt('jobs', values.jobs);
  const settings: BatchSettings = {
    targetIds: targets.map((t) => t.id),
    chain: readChainFile(values.chain),
    profileId: values.profile ?? null,
    maxLimitingDb: maxGr,
    codecChecks,
    outDir: resolve(values.out),
    appVersion,
    verify: values.verify,
  };
  const inputs = positionals.map((p) => resolve(p));
  // Ctrl-C cancels: nothing half-made is left, and the next run resumes. A second one quits.
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('lathe: cancelling the batch (finished deliverables are kept; run it again to resume)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const printer = progressPrinter(values.json);
  let result;
  try {
    if (values.queue) {
      const { enqueueBatch } = await import('./core/queue/queue.js');
      result = await enqueueBatch(values.queue, inputs, settings, { signal: controller.signal, onProgress: printer.progress, onUnitDone: (_u, o) => printer.unitDone(o), onNotice: (m) => process.stderr.write(`lathe: ${m}\n`) });
    } else {
      result = await runBatch(inputs, settings, { jobs, signal: controller.signal, onProgress: printer.progress, onUnitDone: (_u, o) => printer.unitDone(o) });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const written = writeSummary(settings.outDir, result.outcomes);
  const c = written.summary.counts;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ outDir: settings.outDir, counts: c, summary: { json: written.json, csv: written.csv, html: written.html }, deliverables: result.outcomes })}\n`);
  } else {
    console.log(`${c.total} deliverables: ${c.pass} pass, ${c.fail} fail, ${c.failed} errors, ${c.cancelled} cancelled (${c.done} made now, ${c.reused} reused)`);
    console.log(`summary: ${written.html}`);
  }
  if (result.cancelled) return 130;
  if (c.failed > 0) return 1;
  return c.fail > 0 ? 3 : 0;
}

export async function workerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      queue: { type: 'string' },
      concurrency: { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-ms': { type: 'string' },
    },
  });
  if (!values.queue) throw new LatheError('USAGE', 'worker takes --queue redis://HOST:PORT (see lathe --help)');
  const { startWorker } = await import('./core/queue/queue.js');
  const lock = positiveInt('lock-ms', values['lock-ms']);
  const stalled = positiveInt('stalled-ms', values['stalled-ms']);
  const { stop } = await startWorker(values.queue, {
    concurrency: positiveInt('concurrency', values.concurrency) ?? 1,
    ...(lock ? { lockDurationMs: lock } : {}),
    ...(stalled ? { stalledIntervalMs: stalled } : {}),
    onEvent: (event, job, detail) => console.log(`${event} ${job.id} ${job.input} ${detail}`),
  });
  console.log(`worker ${process.pid} ready on ${values.queue}`);
  await new Promise<void>((done) => {
    const quit = () => {
      process.off('SIGINT', quit);
      process.off('SIGTERM', quit);
      console.log('worker stopping (a running job goes back to the queue)');
      void stop().then(done, done);
    };
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  });
  return 0;
}
