// The renderer's one door to the engine: `window.lathe` in Electron (built by the preload from
// the contract), otherwise browser mode's WebSocket client (the token comes from the page URL,
// or from the cookie the page set). Both are the contract's `LatheApi`.
import type { FileInfo, LatheApi } from '../../../preload/contract.js';
import { connect } from '../../../preload/ws-client.js';

export type { LatheApi };

export interface Door {
  api: LatheApi;
  mode: 'electron' | 'browser';
  /** Browser mode: hands a file to the engine by upload. Electron: undefined (use file:choose or drops). */
  upload?: (file: File) => Promise<FileInfo>;
  /** Browser mode: called once if the connection to the engine closes (the server stopped). */
  onDisconnect?: (listener: () => void) => void;
}

export async function openDoor(): Promise<Door> {
  const w = window as unknown as { lathe?: LatheApi };
  if (w.lathe) return { api: w.lathe, mode: 'electron' };
  let lost: (() => void) | null = null;
  let closed = false;
  const client = await connect(location.href, (url) => {
    const ws = new WebSocket(url);
    ws.addEventListener('close', () => {
      closed = true;
      lost?.();
    });
    return ws;
  });
  const token = new URL(location.href).searchParams.get('token');
  return {
    api: client.api,
    mode: 'browser',
    onDisconnect(listener) {
      lost = listener;
      if (closed) listener();
    },
    async upload(file: File) {
      const q = new URLSearchParams({ name: file.name });
      if (token) q.set('token', token);
      const r = await fetch(`/upload?${q}`, { method: 'POST', body: file });
      const body = (await r.json().catch(() => null)) as FileInfo | { error?: { message?: string } } | null;
      if (!r.ok || !body || !('fileId' in body)) {
        const message = body && 'error' in body ? body.error?.message : undefined;
        throw new Error(`${file.name}: the upload failed (${message ?? `HTTP ${r.status}`})`);
      }
      return body;
    },
  };
}

/** A media URL the page can fetch: browser mode's are same-origin paths (the cookie carries the token). */
export function mediaUrl(url: string): string {
  return url;
}
