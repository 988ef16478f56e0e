// main's side of output:open with 'electron' mocked: a report opens in a window of its own that
// is sandboxed, isolated, without Node, without a preload and without JavaScript, refuses
// navigation and new windows, and loads only the studio's own lathe://media URL; the studio's
// handler opens only reports its own exports wrote (a handed-over file's media id, an unknown id
// or a path is refused before anything opens), and browser mode says it cannot. The handler with
// a real export's report is exercised in test/integration/studio-export-progress.test.ts.
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: FakeWindow[] = [];
class FakeWindow {
  webContents = { setWindowOpenHandler: vi.fn(), on: vi.fn() };
  loadURL = vi.fn(async () => undefined);
  once = vi.fn();
  show = vi.fn();
  constructor(readonly options: any) {
    made.push(this);
  }
}
const openPath = vi.fn(async () => '');
const openExternal = vi.fn(async () => undefined);
vi.mock('electron', () => ({ default: {}, BrowserWindow: FakeWindow, shell: { openPath, openExternal }, ipcMain: {}, app: {}, protocol: {}, session: {} }));

const electron = await import('electron');
const { reportOpener, reportWindowOptions } = await import('../../main/electron/report-window.js');
const { Studio } = await import('../../main/server/studio.js');
const { JobPool } = await import('../../main/core/jobs/pool.js');
const { dispatchInvoke } = await import('../../main/server/dispatch.js');

describe('the report window', () => {
  beforeEach(() => {
    made.length = 0;
  });

  it('is sandboxed, isolated, without Node, preload or scripts', () => {
    const w = reportWindowOptions('r').webPreferences!;
    expect(w).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, javascript: false, webviewTag: false, webSecurity: true });
    expect(w.preload).toBeUndefined();
  });

  it('loads the studio\'s media URL of the report in a locked-down window', async () => {
    const open = reportOpener(electron.BrowserWindow as never);
    await open({ url: 'lathe://media/media-1/mix.spotify.report.html', name: 'mix.spotify.report.html' });
    expect(made).toHaveLength(1);
    const win = made[0]!;
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false });
    expect(win.options.webPreferences.preload).toBeUndefined();
    expect(win.options.title).toMatch(/mix\.spotify\.report\.html/);
    expect(win.loadURL).toHaveBeenCalledWith('lathe://media/media-1/mix.spotify.report.html');
    // New windows and navigation away are refused, like in the main window.
    const handler = win.webContents.setWindowOpenHandler.mock.calls[0]![0];
    expect(handler({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const navigate = win.webContents.on.mock.calls.find((c: unknown[]) => c[0] === 'will-navigate')![1];
    const away = { preventDefault: vi.fn() };
    navigate(away, 'file:///etc/passwd');
    expect(away.preventDefault).toHaveBeenCalled();
    // Nothing is handed to the system's programs.
    expect(openPath).not.toHaveBeenCalled();
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('loads nothing but lathe://media', async () => {
    const open = reportOpener(electron.BrowserWindow as never);
    for (const url of ['file:///tmp/mix.report.html', 'https://example.com/r.html', 'lathe://app/index.html', '/media/media-1/r.html']) {
      await expect(open({ url, name: 'r.html' })).rejects.toThrow(/only lathe:\/\/media/);
    }
    expect(made).toHaveLength(0);
  });
});

describe('the studio\'s output:open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-output-open-'));
  const pool = new JobPool(1);
  afterAll(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const studio = (mode: 'electron' | 'browser', openReport?: (r: { url: string; path: string; name: string }) => Promise<void>) =>
    new Studio({ mode, pool, workDir: join(dir, mode, 'work'), autosaveDir: join(dir, mode, 'autosave'), appVersion: 'test', urlFor: (id, name) => `lathe://media/${id}/${name}`, ...(openReport ? { openReport } : {}) });

  it('refuses unknown ids, and served files that are not a report an export wrote, before anything opens', async () => {
    const opener = vi.fn(async () => undefined);
    const s = studio('electron', opener);
    expect(await dispatchInvoke(s.handlers, 'output:open', { mediaId: 'media-0000000000000000' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', message: expect.stringMatching(/no delivery report media-0000000000000000/) } });
    // A file the engineer handed over is served (file:media) but is not a report of this session.
    const html = join(dir, 'page.report.html');
    writeFileSync(html, '<!doctype html><p>not Lathe\'s</p>');
    const { fileId } = s.handOver(html, 'dialog');
    const served = await dispatchInvoke(s.handlers, 'file:media', { fileId });
    expect(served.ok).toBe(true);
    const mediaId = (served as { value: { mediaId: string } }).value.mediaId;
    expect(s.mediaFile(mediaId)?.path).toBe(html);
    expect(await dispatchInvoke(s.handlers, 'output:open', { mediaId })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await dispatchInvoke(s.handlers, 'output:open', { mediaId: html })).toMatchObject({ ok: false, error: { code: 'BAD_PAYLOAD' } });
    expect(opener).not.toHaveBeenCalled();
  });

  it('is not available in browser mode (the page opens the report\'s URL itself)', async () => {
    const s = studio('browser');
    expect(await dispatchInvoke(s.handlers, 'output:open', { mediaId: 'media-1' })).toMatchObject({ ok: false, error: { code: 'NOT_AVAILABLE', message: expect.stringMatching(/new tab/) } });
  });
});
