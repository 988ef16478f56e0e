// The preload with 'electron' mocked: it exposes `lathe` (and nothing else) through the context
// bridge, forwards validated requests on the contract's IPC channel, refuses bad payloads and
// unknown channels before anything is sent, hands events to subscribers with an unsubscribe, and
// turns drops of real files into paths for main.
import { describe, expect, it, vi } from 'vitest';

const exposed: Record<string, unknown> = {};
const ipcListeners = new Map<string, (...a: any[]) => void>();
const ipcRenderer = {
  invoke: vi.fn(async (_c: string, channel: string) => (channel === 'chain:undo' ? { ok: false, error: { code: 'NOT_FOUND', message: 'nothing' } } : { ok: true, value: { echoed: channel } })),
  send: vi.fn(),
  on: vi.fn((c: string, l: any) => ipcListeners.set(c, l)),
  removeListener: vi.fn(),
};
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: vi.fn((k: string, v: unknown) => (exposed[k] = v)) },
  ipcRenderer,
  webUtils: { getPathForFile: (f: { path?: string }) => f.path ?? '' },
}));

await import('../../preload/bridge.js');
const { droppedPaths } = await import('../../preload/bridge.js');
const { IPC_EVENT, IPC_INVOKE, IPC_SEND } = await import('../../preload/bridge-channels.js');
const { invokeChannels } = await import('../../preload/contract.js');
const api = exposed.lathe as any;

describe('preload bridge', () => {
  it('exposes only window.lathe: one function per contract channel, send and on', () => {
    expect(Object.keys(exposed)).toEqual(['lathe']);
    expect(Object.keys(api).sort()).toEqual([...invokeChannels, 'send', 'on'].sort());
    expect(JSON.stringify(Object.keys(api))).not.toMatch(/ipcRenderer|require|process/);
  });

  it('forwards a valid request on the invoke channel and unwraps the answer', async () => {
    expect(await api['track:open']({ fileId: 'file-1' })).toEqual({ echoed: 'track:open' });
    expect(ipcRenderer.invoke).toHaveBeenLastCalledWith(IPC_INVOKE, 'track:open', { fileId: 'file-1' });
    await expect(api['chain:undo']({})).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'nothing' });
  });

  it('refuses bad payloads and unknown channels without sending anything', async () => {
    ipcRenderer.invoke.mockClear();
    ipcRenderer.send.mockClear();
    await expect(api['track:open']({ fileId: '/etc/passwd' })).rejects.toMatchObject({ name: 'ContractError' });
    await expect(api['preview:render']({ playheadSeconds: 'soon' })).rejects.toMatchObject({ name: 'ContractError' });
    expect(() => api.send('fs:write', {})).toThrow(/unknown send channel/);
    expect(() => api.send('playback:playhead', { seconds: -4 })).toThrow(/outside/);
    expect(api['fs:readFile']).toBeUndefined();
    expect(ipcRenderer.invoke).not.toHaveBeenCalled();
    expect(ipcRenderer.send).not.toHaveBeenCalled();
    api.send('playback:playhead', { seconds: 4 });
    expect(ipcRenderer.send).toHaveBeenCalledWith(IPC_SEND, 'playback:playhead', { seconds: 4 });
  });

  it('delivers events to subscribers (payload only) until they unsubscribe', () => {
    const seen: unknown[] = [];
    const off = api.on('job:progress', (p: unknown) => seen.push(p));
    const fire = ipcListeners.get(IPC_EVENT)!;
    fire({ sender: 'ipc-event-object' }, 'job:progress', { jobId: 'j', kind: 'render', fraction: 0.5, stage: 's' });
    fire({}, 'not:an-event', { x: 1 });
    off();
    fire({}, 'job:progress', { jobId: 'j', kind: 'render', fraction: 0.9, stage: 's' });
    expect(seen).toEqual([{ jobId: 'j', kind: 'render', fraction: 0.5, stage: 's' }]);
    expect(() => api.on('job:progress', 'not a function')).toThrow(/must be a function/);
  });

  it('turns a drop into the paths of real files only', () => {
    expect(droppedPaths([{ path: '/music/mix.wav' }, { name: 'made-up.wav' }], (f: any) => f.path ?? '')).toEqual(['/music/mix.wav']);
  });
});
