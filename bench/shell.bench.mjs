#!/usr/bin/env node
// Lathe shell benchmark (`npm run bench`, after the analyse and master benches).
//
// What it measures, on a 4-minute stereo 44.1 kHz float WAV of the native demo mix (synthesised
// by this script with a fixed seed, so every run measures the same audio), through browser mode as
// the UI uses it (the Studio behind the HTTP/WebSocket server, a WebSocket client in a worker thread):
//   1. Preview latency: the time from a parameter change (`chain:set` sent by the client) to the
//      `preview:ready` event for the window around the playhead (about 10 s, rendered from the
//      decoded track in a worker, written as a WAV the UI can play). Several changes, one after
//      another once the previous window is ready; median and worst. Goal: under 100 ms.
//   2. Main-thread longest block while a full export runs (spotify + apple-music, codec checks
//      included): a 1 ms interval timer on the main thread records how late each tick fires; the
//      largest lateness is the longest the main thread was unavailable. perf_hooks'
//      monitorEventLoopDelay gives the same from libuv's side. Goal: under 20 ms.
// The machine is shared and noisy: absolute numbers drift; the goals have wide margins on purpose.
//
// Usage: node bench/shell.bench.mjs [--changes N]   (needs `npm run build:ts` first)
// Exit status: 0 when it ran (goals missed are printed, not fatal); 1 when something failed to run.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const ROOT = new URL('..', import.meta.url);
const dist = (p) => new URL(`dist/${p}`, ROOT).href;
const { default: dsp } = await import(new URL('native-dsp/index.js', ROOT).href);
const { JobPool } = await import(dist('main/core/jobs/pool.js'));
const { Studio } = await import(dist('main/server/studio.js'));
const { startServer } = await import(dist('main/server/http.js'));
const { connect } = await import(dist('preload/ws-client.js'));
const { floatWavHeader } = await import(dist('main/core/jobs/wav-header.js'));

const argv = process.argv.slice(2);
const changesIdx = argv.indexOf('--changes');
const CHANGES = changesIdx >= 0 ? Math.max(3, Number(argv[changesIdx + 1]) | 0) : 15;
const SECONDS = 240;
const RATE = 44_100;

const dir = mkdtempSync(join(tmpdir(), 'lathe-shell-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function writeDemo(path) {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, floatWavHeader(RATE, 2, SECONDS * RATE));
    const frames = dsp.demoWriteFd({ sampleRate: RATE, seconds: SECONDS, seed: 7 }, fd);
    if (frames !== SECONDS * RATE) throw new Error(`demo mix has ${frames} frames, expected ${SECONDS * RATE}`);
  } finally {
    closeSync(fd);
  }
}

// The UI is another process in the app (Electron's renderer, or the browser): here the WebSocket
// client runs in a worker thread, with its own heap, so the main thread measured below carries
// only what the app's main process carries (the studio, the server and the job pool's messages).
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
(async () => {
  const WebSocket = (await import(workerData.ws)).default;
  const { connect } = await import(workerData.wsClient);
  const client = await connect(workerData.url, (url) => new WebSocket(url));
  const api = client.api;
  const waitFor = (channel, match, timeoutMs = 600000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error('no ' + channel + ' within ' + timeoutMs + ' ms')); }, timeoutMs);
    const off = api.on(channel, (p) => { if (!match(p)) return; clearTimeout(timer); off(); resolve(p); });
  });
  const say = (m) => parentPort.postMessage(m);
  try {
    const fileId = workerData.fileId;
    const decoded = waitFor('job:done', (p) => p.kind === 'decode');
    const analysed = waitFor('analysis:ready', (p) => p.fileId === fileId);
    await api['track:open']({ fileId });
    await Promise.all([decoded, analysed]);
    await api['preview:render']({ playheadSeconds: 120 });
    await waitFor('preview:ready', (p) => p.region === 'full');
    // 1. Parameter change -> first preview window ready.
    const base = (await api['chain:get']({})).chain;
    base.compressor.enabled = true;
    const latencies = [];
    for (let i = 0; i < workerData.changes + 1; i++) {
      const chain = structuredClone(base);
      chain.limiter.inputGainDb = 1 + (i % 7) * 0.5;
      chain.eq.peaks[1] = { enabled: true, freqHz: 1000, q: 1, gainDb: (i % 5) - 2 };
      const ready = waitFor('preview:ready', (p) => p.region === 'window');
      const t0 = performance.now();
      await api['chain:set']({ chain, coalesceKey: 'bench' });
      await ready;
      if (i > 0) latencies.push(performance.now() - t0); // the first warms the render path
    }
    await waitFor('preview:ready', (p) => p.region === 'full');
    say({ latencies });
    // 2. The export, while the main thread is watched.
    await new Promise((resolve) => parentPort.once('message', resolve));
    const { jobId } = await api['export:start']({ settings: { targets: ['spotify', 'apple-music'], profile: null, codecChecks: 'full', maxLimitingDb: 6 } });
    const done = await Promise.race([waitFor('job:done', (p) => p.jobId === jobId), waitFor('job:failed', (p) => p.jobId === jobId).then((f) => Promise.reject(new Error('export failed: ' + f.message)))]);
    say({ outputs: done.outputs.length });
  } catch (e) {
    say({ error: String(e && e.stack || e) });
  } finally {
    client.close();
  }
})();
`;

let server;
let studio;
let clientThread;
try {
  const input = join(dir, 'demo-4min.wav');
  writeDemo(input);
  const pool = new JobPool();
  await pool.ready();
  studio = new Studio({ mode: 'browser', pool, workDir: join(dir, 'work'), autosaveDir: join(dir, 'autosave'), appVersion: 'bench', urlFor: (id, name) => `/media/${id}/${name}` });
  server = await startServer({ studio, port: 0 });
  const { fileId } = studio.handOver(input, 'upload');
  clientThread = new Worker(CLIENT, {
    eval: true,
    workerData: { url: server.url, fileId, changes: CHANGES, ws: import.meta.resolve('ws'), wsClient: dist('preload/ws-client.js') },
  });
  const messages = [];
  const waiting = [];
  clientThread.on('message', (m) => (waiting.length ? waiting.shift()(m) : messages.push(m)));
  clientThread.on('error', (e) => (waiting.length ? waiting.shift()({ error: String(e.stack ?? e) }) : messages.push({ error: String(e) })));
  const next = () => new Promise((resolve) => (messages.length ? resolve(messages.shift()) : waiting.push(resolve))).then((m) => {
    if (m.error) throw new Error(`client: ${m.error}`);
    return m;
  });
  const { latencies } = await next();

  // 2. The main thread while a full export runs.
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let worstGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last - 1);
    last = now;
  }, 1);
  histogram.enable();
  const t0 = performance.now();
  clientThread.postMessage('export');
  const done = await next();
  const exportSeconds = (performance.now() - t0) / 1000;
  clearInterval(ticker);
  histogram.disable();

  const fmt = (x) => x.toFixed(1).padStart(7);
  console.log(`\nLathe shell benchmark — 4-minute stereo 44.1 kHz demo mix, ${pool.size} job workers`);
  console.log(`  parameter change → preview window ready (${latencies.length} changes, ~10 s window, via WebSocket)`);
  console.log(`    median ${fmt(median(latencies))} ms   worst ${fmt(Math.max(...latencies))} ms   goal < 100 ms   ${median(latencies) < 100 ? 'PASS' : 'MISS'}`);
  console.log(`  main thread during a full export (spotify + apple-music, codec checks; ${exportSeconds.toFixed(1)} s, ${done.outputs} files)`);
  console.log(`    longest block ${fmt(worstGap)} ms (timer)   ${fmt(histogram.max / 1e6)} ms (event-loop delay max)   p99 ${fmt(histogram.percentile(99) / 1e6)} ms   goal < 20 ms   ${worstGap < 20 ? 'PASS' : 'MISS'}`);
} catch (e) {
  console.error(`bench: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await clientThread?.terminate();
  await server?.close();
  await studio?.close({ clean: true });
  rmSync(dir, { recursive: true, force: true });
}
