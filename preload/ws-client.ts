// Browser mode's client: the same `LatheApi` as `window.lathe`, carried over the WebSocket that
// `lathe serve` offers. Works with the browser's WebSocket and with Node's `ws` (tests, scripts).
// No DOM or Node imports: the socket's constructor is handed in.
import { buildApi, type EventChannel, type InvokeChannel, type LatheApi, type Outcome, type SendChannel, type WireError } from './contract.js';

/** The part of the WebSocket interface this client uses (browser and `ws` both have it). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: { data?: unknown }) => void): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface BrowserClient {
  api: LatheApi;
  /** Protocol errors the server reported outside any request (a malformed message, a refused send). */
  errors: WireError[];
  close(): void;
}

/** `pageUrl` is the URL `lathe serve` printed (token included). */
export function connect(pageUrl: string, socket: SocketFactory): Promise<BrowserClient> {
  const page = new URL(pageUrl);
  const wsUrl = `ws://${page.host}/ws?token=${encodeURIComponent(page.searchParams.get('token') ?? '')}`;
  const ws = socket(wsUrl);
  const pending = new Map<number, (o: Outcome<unknown>) => void>();
  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
  const errors: WireError[] = [];
  let nextId = 1;
  let closed = false;
  const failAll = (message: string) => {
    closed = true;
    for (const resolve of pending.values()) resolve({ ok: false, error: { code: 'DISCONNECTED', message } });
    pending.clear();
  };
  ws.addEventListener('message', (event) => {
    let m: { type?: string; id?: number; ok?: boolean; value?: unknown; error?: WireError; channel?: EventChannel; payload?: unknown };
    try {
      m = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (m.type === 'result' && typeof m.id === 'number') {
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      resolve?.(m.ok ? { ok: true, value: m.value } : { ok: false, error: m.error ?? { code: 'INTERNAL', message: 'no error given' } });
    } else if (m.type === 'event' && m.channel) {
      for (const l of listeners.get(m.channel) ?? []) l(m.payload);
    } else if (m.type === 'error' && m.error) {
      errors.push(m.error);
    }
  });
  ws.addEventListener('close', () => failAll('the connection to Lathe closed'));
  const api = buildApi({
    invoke(channel: InvokeChannel, payload: unknown) {
      if (closed) return Promise.resolve({ ok: false, error: { code: 'DISCONNECTED', message: 'the connection to Lathe is closed' } });
      const id = nextId++;
      return new Promise<Outcome<unknown>>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ type: 'invoke', id, channel, payload }));
      });
    },
    send(channel: SendChannel, payload: unknown) {
      if (!closed) ws.send(JSON.stringify({ type: 'send', channel, payload }));
    },
    subscribe(channel: EventChannel, listener: (payload: unknown) => void) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  });
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve({ api, errors, close: () => ws.close() }));
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${page.host}: the server refused the connection`)));
    ws.addEventListener('close', () => reject(new Error(`cannot connect to ${page.host}: the connection closed`)));
  });
}
