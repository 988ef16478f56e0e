// The preload: builds `window.lathe` from the contract over Electron IPC and exposes only that
// (never ipcRenderer, never a Node API). Requests are validated here before they leave, and again
// in main (main trusts nothing from the page). Dropped files: the page cannot learn or send
// paths; the preload resolves a drop to paths with webUtils (real files only) and hands them to
// main on a channel the page cannot reach, and main answers with `files:added`.
// Bundled to CommonJS (dist/preload/preload.cjs): sandboxed preloads cannot load ES modules.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { buildApi, eventChannels, type EventChannel, type LatheApi, type Outcome } from './contract.js';

import { IPC_DROP, IPC_EVENT, IPC_INVOKE, IPC_SEND } from './bridge-channels.js';

export function createApi(ipc: Pick<typeof ipcRenderer, 'invoke' | 'send' | 'on' | 'removeListener'>): LatheApi {
  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
  ipc.on(IPC_EVENT, (_event: unknown, channel: unknown, payload: unknown) => {
    if (typeof channel !== 'string' || !(eventChannels as string[]).includes(channel)) return;
    for (const l of listeners.get(channel as EventChannel) ?? []) l(payload);
  });
  return buildApi({
    invoke: (channel, payload) => ipc.invoke(IPC_INVOKE, channel, payload) as Promise<Outcome<unknown>>,
    send: (channel, payload) => ipc.send(IPC_SEND, channel, payload),
    subscribe(channel, listener) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      // Each subscription gets its own wrapper, so the page never receives the IPC event object.
      const wrapped = (payload: unknown) => listener(payload);
      set.add(wrapped);
      return () => {
        set.delete(wrapped);
      };
    },
  });
}

/** Paths of the real files in a drop (webUtils gives '' for anything not on disk). */
export function droppedPaths(files: ArrayLike<unknown>, pathFor: (file: never) => string): string[] {
  const paths: string[] = [];
  for (let i = 0; i < files.length; i++) {
    const p = pathFor(files[i] as never);
    if (p) paths.push(p);
  }
  return paths;
}

export function install(): LatheApi {
  const api = createApi(ipcRenderer);
  contextBridge.exposeInMainWorld('lathe', api);
  const g = globalThis as unknown as { addEventListener?: (type: string, l: (e: unknown) => void, capture?: boolean) => void };
  g.addEventListener?.(
    'drop',
    (event: unknown) => {
      const e = event as { dataTransfer?: { files?: ArrayLike<unknown> } | null };
      const paths = droppedPaths(e.dataTransfer?.files ?? [], (f) => webUtils.getPathForFile(f));
      if (paths.length) ipcRenderer.send(IPC_DROP, paths);
    },
    true,
  );
  return api;
}

install();
