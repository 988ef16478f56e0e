// main's side of Electron with 'electron' mocked: the IPC wrapper refuses foreign senders,
// sub-frames, other origins, unknown channels and bad payloads with {code, message} before any
// handler runs; windows are created locked down; the app's protocol serves only what it should.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

vi.mock('electron', () => ({ default: {}, ipcMain: {}, app: {}, BrowserWindow: class {}, protocol: {}, session: {} }));

const { registerIpc, refuseSender } = await import('../../main/electron/ipc.js');
const { windowOptions, hardenContents, denyPermissions, createMainWindow, CSP } = await import('../../main/electron/window.js');
const { respond } = await import('../../main/electron/protocol.js');
const { menuTemplate } = await import('../../main/electron/menu.js');
const { IPC_INVOKE, IPC_SEND, IPC_DROP } = await import('../../preload/bridge-channels.js');
const { defaultChain } = await import('../../main/core/chain/document.js');

function fakeIpcMain() {
  const handlers = new Map<string, (...a: any[]) => any>();
  const listeners = new Map<string, (...a: any[]) => any>();
  return {
    handlers,
    listeners,
    handle: vi.fn((c: string, h: any) => handlers.set(c, h)),
    on: vi.fn((c: string, h: any) => listeners.set(c, h)),
    removeHandler: vi.fn((c: string) => handlers.delete(c)),
    removeAllListeners: vi.fn((c: string) => listeners.delete(c)),
  };
}

function contents(url = 'lathe://app/index.html') {
  const mainFrame: any = { url, parent: null };
  return { mainFrame, id: 1 } as any;
}

describe('IPC registration', () => {
  let ipc: ReturnType<typeof fakeIpcMain>;
  let ours: any;
  const chainGet = vi.fn(() => ({ chain: defaultChain(), canUndo: false, canRedo: false }));
  const trackOpen = vi.fn();
  const playhead = vi.fn();
  const dropped = vi.fn();
  beforeEach(() => {
    ipc = fakeIpcMain();
    ours = contents();
    chainGet.mockClear();
    trackOpen.mockClear();
    registerIpc({
      ipcMain: ipc as any,
      handlers: { 'chain:get': chainGet, 'track:open': trackOpen } as any,
      receivers: { 'playback:playhead': playhead, 'log:error': vi.fn() },
      isOurWindow: (c) => c === ours,
      onDrop: dropped,
    });
  });
  const invoke = (event: any, channel: unknown, payload: unknown) => ipc.handlers.get(IPC_INVOKE)!(event, channel, payload);

  it('answers a good request from our window', async () => {
    expect(await invoke({ sender: ours, senderFrame: ours.mainFrame }, 'chain:get', {})).toMatchObject({ ok: true, value: { canUndo: false } });
    expect(chainGet).toHaveBeenCalledOnce();
  });

  it('refuses a foreign sender, a sub-frame and another origin before any handler runs', async () => {
    const stranger = contents();
    expect(await invoke({ sender: stranger, senderFrame: stranger.mainFrame }, 'chain:get', {})).toEqual({ ok: false, error: { code: 'FORBIDDEN_SENDER', message: expect.stringMatching(/not come from a Lathe window/) } });
    const sub = { url: 'lathe://app/index.html', parent: ours.mainFrame };
    expect((await invoke({ sender: ours, senderFrame: sub }, 'chain:get', {})).error.code).toBe('FORBIDDEN_SENDER');
    ours.mainFrame.url = 'https://evil.example/';
    expect((await invoke({ sender: ours, senderFrame: ours.mainFrame }, 'chain:get', {})).error.message).toMatch(/evil\.example/);
    expect(await invoke({ sender: ours, senderFrame: null }, 'chain:get', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(chainGet).not.toHaveBeenCalled();
  });

  it('refuses unknown channels and bad payloads with {code, message}', async () => {
    const ev = { sender: ours, senderFrame: ours.mainFrame };
    expect(await invoke(ev, 'shell:openExternal', { url: 'x' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    expect(await invoke(ev, 'track:open', { fileId: 42 })).toMatchObject({ ok: false, error: { code: 'BAD_PAYLOAD', message: expect.stringMatching(/fileId/) } });
    expect(await invoke(ev, 'track:open', { fileId: 'a', extra: 1 })).toMatchObject({ ok: false, error: { code: 'BAD_PAYLOAD' } });
    expect(trackOpen).not.toHaveBeenCalled();
  });

  it('turns handler failures into {code, message}, and a broken answer into INTERNAL', async () => {
    const ev = { sender: ours, senderFrame: ours.mainFrame };
    trackOpen.mockImplementationOnce(() => {
      throw Object.assign(new (class extends Error {})('boom\nstack'), {});
    });
    expect(await invoke(ev, 'track:open', { fileId: 'file-1' })).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'internal error: boom' } });
    chainGet.mockReturnValueOnce({ chain: 'no' } as any);
    expect(await invoke(ev, 'chain:get', {})).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('checks sends and drops the same way', () => {
    const send = ipc.listeners.get(IPC_SEND)!;
    send({ sender: ours, senderFrame: ours.mainFrame }, 'playback:playhead', { seconds: 2 });
    send({ sender: contents(), senderFrame: contents().mainFrame }, 'playback:playhead', { seconds: 3 });
    send({ sender: ours, senderFrame: ours.mainFrame }, 'playback:playhead', { seconds: 'x' });
    send({ sender: ours, senderFrame: ours.mainFrame }, 'nope', {});
    expect(playhead.mock.calls).toEqual([[{ seconds: 2 }]]);
    const drop = ipc.listeners.get(IPC_DROP)!;
    drop({ sender: ours, senderFrame: ours.mainFrame }, ['/music/mix.wav']);
    drop({ sender: contents(), senderFrame: contents().mainFrame }, ['/etc/passwd']);
    drop({ sender: ours, senderFrame: ours.mainFrame }, [42]);
    expect(dropped.mock.calls).toEqual([[['/music/mix.wav']]]);
  });

  it('refuseSender accepts only our origin', () => {
    expect(refuseSender({ sender: ours, senderFrame: ours.mainFrame } as any, () => true)).toBeNull();
    ours.mainFrame.url = 'file:///etc/passwd';
    expect(refuseSender({ sender: ours, senderFrame: ours.mainFrame } as any, () => true)).toMatch(/not Lathe/);
  });
});

describe('windows', () => {
  it('are isolated, sandboxed and without Node', () => {
    const w = windowOptions('/app/preload.cjs').webPreferences!;
    expect(w).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, webSecurity: true, preload: '/app/preload.cjs' });
    expect(CSP).toMatch(/^default-src 'none'/);
    expect(CSP).not.toMatch(/unsafe-eval/);
  });

  it('deny window.open, navigation away, webviews and every permission', () => {
    const on = new Map<string, (...a: any[]) => void>();
    let openHandler: any;
    const c: any = { setWindowOpenHandler: (h: any) => (openHandler = h), on: (e: string, h: any) => on.set(e, h) };
    hardenContents(c);
    expect(openHandler({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const away = { preventDefault: vi.fn() };
    on.get('will-navigate')!(away, 'https://example.com');
    expect(away.preventDefault).toHaveBeenCalled();
    const home = { preventDefault: vi.fn() };
    on.get('will-navigate')!(home, 'lathe://app/index.html');
    expect(home.preventDefault).not.toHaveBeenCalled();
    const webview = { preventDefault: vi.fn() };
    on.get('will-attach-webview')!(webview);
    expect(webview.preventDefault).toHaveBeenCalled();
    let request: any;
    let check: any;
    denyPermissions({ setPermissionRequestHandler: (h: any) => (request = h), setPermissionCheckHandler: (h: any) => (check = h) } as any);
    const answer = vi.fn();
    request({}, 'media', answer);
    expect(answer).toHaveBeenCalledWith(false);
    expect(check({}, 'notifications')).toBe(false);
  });

  it('createMainWindow loads the app from its own scheme with the preload', () => {
    const made: any[] = [];
    class FakeWindow {
      webContents = { setWindowOpenHandler: vi.fn(), on: vi.fn() };
      loadURL = vi.fn(async () => undefined);
      once = vi.fn();
      constructor(readonly options: any) {
        made.push(this);
      }
    }
    createMainWindow(FakeWindow as any, '/p.cjs');
    expect(made[0].options.webPreferences.sandbox).toBe(true);
    expect(made[0].loadURL).toHaveBeenCalledWith('lathe://app/index.html');
    expect(made[0].webContents.setWindowOpenHandler).toHaveBeenCalled();
  });
});

describe('the lathe:// protocol', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-proto-'));
  writeFileSync(join(dir, 'preview.wav'), Buffer.from('RIFF0123456789'));
  const media = (id: string) => (id === 'media-1' ? { path: join(dir, 'preview.wav'), contentType: 'audio/wav' } : undefined);

  it('serves media by id (with ranges) and nothing else', async () => {
    const r = await respond('lathe://media/media-1/preview.wav', dir, media);
    expect(r.headers.get('content-type')).toBe('audio/wav');
    expect(await r.text()).toBe('RIFF0123456789');
    const part = await respond('lathe://media/media-1/preview.wav', dir, media, 'bytes=0-3');
    expect([part.status, await part.text()]).toEqual([206, 'RIFF']);
    expect((await respond('lathe://media/media-2/x', dir, media)).status).toBe(404);
    expect((await respond('lathe://elsewhere/x', dir, media)).status).toBe(404);
  });

  it('serves the renderer with the CSP, a not-built page without it, and never outside its folder', async () => {
    const page = await respond('lathe://app/index.html', join(dir, 'missing'), media);
    expect(await page.text()).toMatch(/not been built/);
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    expect((await respond('lathe://app/', dir, media)).status).toBe(200);
    expect((await respond('lathe://app/%2e%2e/%2e%2e/etc/passwd', dir, media)).status).toBe(404);
  });
});

describe('menus', () => {
  it('File, Edit and View send commands to the UI; recent sessions open directly', () => {
    const command = vi.fn();
    const openRecent = vi.fn();
    const t = menuTemplate({ command, recent: ['/s/a.lathe'], openRecent, clearRecent: vi.fn(), isMac: false });
    expect(t.map((m) => m.label)).toEqual(['File', 'Edit', 'View']);
    const file = t[0]!.submenu as any[];
    file.find((i) => i.label === 'Export…').click();
    (t[1]!.submenu as any[]).find((i: any) => i.label === 'Undo').click();
    file.find((i) => i.label === 'Open Recent').submenu[0].click();
    expect(command.mock.calls).toEqual([['export'], ['undo']]);
    expect(openRecent).toHaveBeenCalledWith('/s/a.lathe');
  });
});
