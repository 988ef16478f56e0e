// `lathe master` measures its input for the reports while the chain's stages before the limiter
// run: both are native work that would otherwise take turns on the main thread, so the
// measurement runs here, in a worker thread of its own (the addon is context-aware). The parent
// cancels by posting 'abort', so ffmpeg is stopped the usual way and nothing is left running.
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeFile } from '../analysis/analyze.js';
import { isLatheError } from '../errors.js';

const { file } = workerData as { file: string };
const port = parentPort!;
const controller = new AbortController();
port.on('message', (m) => {
  if (m === 'abort') controller.abort();
});
// The port alone does not keep this thread alive: the measurement does.
port.unref();
try {
  const analysis = await analyzeFile(file, { includeSpectrogram: true, signal: controller.signal });
  port.postMessage({ analysis });
} catch (e) {
  // A LatheError is rebuilt on the other side from its code, its own message and its file.
  const error = isLatheError(e)
    ? { code: e.code, message: e.file && e.message.startsWith(`${e.file}: `) ? e.message.slice(e.file.length + 2) : e.message, file: e.file }
    : { code: null, message: e instanceof Error ? e.message : String(e), file: undefined };
  port.postMessage({ error });
}
