// The demo mix written off the calling thread (see demo-worker.ts); resolves when the file is
// complete (written to a temporary name, then renamed, so a failure leaves no partial file).
import { renameSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { LatheError, type LatheErrorCode } from './errors.js';

function workerUrl(): URL {
  const here = import.meta.url;
  // Under vitest the engine runs from source; the worker runs from the build, as the job pool's does.
  if (here.endsWith('.ts')) return new URL(here.replace(/\/main\/core\/demo-run\.ts$/, '/dist/main/core/demo-worker.js'));
  return new URL('./demo-worker.js', here);
}

export function writeDemoMixInWorker(output: string, seconds?: number): Promise<void> {
  const partial = `${output}.partial.wav`;
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(workerUrl(), { workerData: { output: partial, ...(seconds ? { seconds } : {}) } });
    let settled = false;
    worker.once('message', (m: { ok: boolean; code?: string; message?: string }) => {
      settled = true;
      void worker.terminate();
      if (m.ok) {
        renameSync(partial, output);
        resolve();
      } else {
        rmSync(partial, { force: true });
        reject(new LatheError((m.code as LatheErrorCode | undefined) ?? 'NATIVE_DSP', `the demo mix could not be written: ${m.message}`));
      }
    });
    worker.once('error', (e) => {
      if (settled) return;
      settled = true;
      rmSync(partial, { force: true });
      reject(new LatheError('NATIVE_DSP', `the demo mix could not be written: ${e.message}`));
    });
  });
}
