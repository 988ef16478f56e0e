// A browser-mode studio for tests: a job pool, a Studio on scratch folders, the HTTP/WebSocket
// server on a free port, and a client connected with the token (Node's `ws` as the socket).
import { join } from 'node:path';
import WebSocket from 'ws';
import { JobPool } from '../../main/core/jobs/pool.js';
import { startServer, type RunningServer } from '../../main/server/http.js';
import { Studio } from '../../main/server/studio.js';
import { connect, type BrowserClient, type SocketLike } from '../../preload/ws-client.js';
import type { EventChannel, EventPayload, LatheApi } from '../../preload/contract.js';

export const wsFactory = (url: string) => new WebSocket(url) as unknown as SocketLike;

export interface TestStudio {
  studio: Studio;
  server: RunningServer;
  client: BrowserClient;
  api: LatheApi;
  close(clean?: boolean): Promise<void>;
}

export async function startTestStudio(dir: string, options: { workers?: number; autosaveDelayMs?: number; autosaveDir?: string; assistantAdjustmentsPath?: string } = {}): Promise<TestStudio> {
  const pool = new JobPool(options.workers ?? 2);
  const studio = new Studio({
    mode: 'browser',
    pool,
    workDir: join(dir, 'work'),
    autosaveDir: options.autosaveDir ?? join(dir, 'autosave'),
    autosaveDelayMs: options.autosaveDelayMs ?? 50,
    appVersion: 'test',
    urlFor: (id, name) => `/media/${id}/${encodeURIComponent(name)}`,
    ...(options.assistantAdjustmentsPath ? { assistantAdjustmentsPath: options.assistantAdjustmentsPath } : {}),
  });
  const server = await startServer({ studio, port: 0 });
  const client = await connect(server.url, wsFactory);
  return {
    studio,
    server,
    client,
    api: client.api,
    async close(clean = true) {
      client.close();
      await server.close();
      await studio.close({ clean });
    },
  };
}

/** Resolves with the first event on `channel` that passes `match`. */
export function nextEvent<C extends EventChannel>(api: LatheApi, channel: C, match: (p: EventPayload<C>) => boolean = () => true, timeoutMs = 60_000): Promise<EventPayload<C>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${channel} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = api.on(channel, (p) => {
      if (!match(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}

/** Uploads a file as the browser would (POST /upload with the page's token). */
export async function upload(server: RunningServer, path: string, name: string, body: Uint8Array): Promise<{ fileId: string }> {
  const r = await fetch(`http://127.0.0.1:${server.port}/upload?token=${server.token}&name=${encodeURIComponent(name)}`, { method: 'POST', body });
  if (r.status !== 200) throw new Error(`upload of ${path} answered ${r.status}: ${await r.text()}`);
  return (await r.json()) as { fileId: string };
}
