// Writes the demo mix in a worker thread, so the synthesis never blocks the thread that answers
// the UI (the studio's "demo:open"). workerData: { output: string, seconds?: number }.
import { parentPort, workerData } from 'node:worker_threads';
import { writeDemoMix } from './demo.js';

const { output, seconds } = workerData as { output: string; seconds?: number };
writeDemoMix(output, seconds ? { seconds } : {}).then(
  () => parentPort?.postMessage({ ok: true }),
  (e: Error) => parentPort?.postMessage({ ok: false, code: (e as { code?: string }).code ?? 'INTERNAL', message: e.message }),
);
