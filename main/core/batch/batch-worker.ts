// A batch worker thread: masters one unit at a time (an export: every target into a folder, the
// files appearing only when all are done) and reports progress. Unlike the studio's job workers it
// keeps the normal scheduling priority: a batch is the work the machine was asked to do, and
// there is no interface thread to keep responsive.
import { parentPort } from 'node:worker_threads';
import { isLatheError } from '../errors.js';
import { runExport } from '../jobs/export.js';
import type { ExportParams } from '../jobs/kinds.js';

export type ToBatchWorker = { type: 'run'; id: number; params: ExportParams } | { type: 'cancel'; id: number };
export type FromBatchWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; fraction: number; stage: string }
  | { type: 'done'; id: number; value: Awaited<ReturnType<typeof runExport>> }
  | { type: 'failed'; id: number; code: string; message: string };

const port = parentPort;
if (!port) throw new Error('main/core/batch/batch-worker.js runs only as a worker thread');
const post = (m: FromBatchWorker) => port.postMessage(m);
const controllers = new Map<number, AbortController>();

port.on('message', (m: ToBatchWorker) => {
  if (m.type === 'cancel') {
    controllers.get(m.id)?.abort();
    return;
  }
  const controller = new AbortController();
  controllers.set(m.id, controller);
  runExport(m.params, controller.signal, (fraction, stage) => post({ type: 'progress', id: m.id, fraction, stage }))
    .then((value) => post(controller.signal.aborted ? { type: 'failed', id: m.id, code: 'CANCELLED', message: 'cancelled' } : { type: 'done', id: m.id, value }))
    .catch((e: unknown) => {
      const cancelled = controller.signal.aborted;
      post({ type: 'failed', id: m.id, code: cancelled ? 'CANCELLED' : isLatheError(e) ? e.code : 'INTERNAL', message: cancelled ? 'cancelled' : e instanceof Error ? e.message : String(e) });
    })
    .finally(() => controllers.delete(m.id));
});
post({ type: 'ready' });
