// The desktop app's main process: one instance, one window, the contract registered on IPC before
// the window opens, the engine's heavy work in the worker pool. This directory is the only code
// that imports 'electron'; everything it offers the page goes through preload/contract.ts.
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, type WebContents } from 'electron';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventChannel, EventPayload } from '../../preload/contract.js';
import { IPC_EVENT } from '../../preload/bridge-channels.js';
import { JobPool } from '../core/jobs/pool.js';
import { SESSION_EXTENSION } from '../core/session/store.js';
import { Studio, type Dialogs } from '../server/studio.js';
import { registerIpc } from './ipc.js';
import { menuTemplate } from './menu.js';
import { PRIVILEGES, registerProtocol } from './protocol.js';
import { RecentSessions } from './recent.js';
import { reportOpener } from './report-window.js';
import { createMainWindow, denyPermissions, hardenContents } from './window.js';

const here = dirname(fileURLToPath(import.meta.url));
const appRoot = join(here, '../../..');
const preloadPath = join(appRoot, 'dist/preload/preload.cjs');
const rendererDir = join(appRoot, 'renderer/dist');
const AUDIO = ['wav', 'flac', 'aif', 'aiff', 'mp3', 'm4a', 'aac', 'ogg', 'opus', 'wv', 'ape'];

function appVersion(): string {
  return (JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

const windows = new Set<BrowserWindow>();
const isOurWindow = (contents: WebContents) => [...windows].some((w) => !w.isDestroyed() && w.webContents === contents);

function broadcast<C extends EventChannel>(channel: C, payload: EventPayload<C>): void {
  for (const w of windows) if (!w.isDestroyed()) w.webContents.send(IPC_EVENT, channel, payload);
}

function dialogs(): Dialogs {
  const parent = () => BrowserWindow.getFocusedWindow() ?? [...windows][0];
  return {
    async chooseFiles(purpose) {
      const filters = purpose === 'session' ? [{ name: 'Lathe sessions', extensions: [SESSION_EXTENSION.slice(1)] }] : [{ name: 'Audio', extensions: AUDIO }];
      const options = { properties: (purpose === 'reference' ? ['openFile', 'multiSelections'] : ['openFile']) as ('openFile' | 'multiSelections')[], filters };
      const w = parent();
      const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
      return r.canceled ? [] : r.filePaths;
    },
    async chooseFolder() {
      const w = parent();
      const options = { properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] };
      const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async chooseSessionPath(defaultName) {
      const w = parent();
      const options = { defaultPath: defaultName, filters: [{ name: 'Lathe sessions', extensions: [SESSION_EXTENSION.slice(1)] }] };
      const r = w ? await dialog.showSaveDialog(w, options) : await dialog.showSaveDialog(options);
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  };
}

async function onReady(): Promise<void> {
  denyPermissions(session.defaultSession);
  const recent = new RecentSessions(app.getPath('userData'));
  const pool = new JobPool();
  const studio = new Studio({
    mode: 'electron',
    pool,
    workDir: join(app.getPath('temp'), `lathe-${process.pid}`),
    autosaveDir: join(app.getPath('userData'), 'autosave'),
    appVersion: appVersion(),
    urlFor: (id, name) => `lathe://media/${id}/${encodeURIComponent(name)}`,
    dialogs: dialogs(),
    // Delivery reports open in a locked-down window of their own (main/electron/report-window.ts).
    openReport: reportOpener(BrowserWindow),
    onSessionPath: (path) => {
      recent.add(path);
      app.addRecentDocument(path);
      buildMenu();
    },
  });
  studio.onEvent(broadcast);
  registerProtocol(protocol, rendererDir, (id) => studio.mediaFile(id));
  registerIpc({
    ipcMain,
    handlers: studio.handlers,
    receivers: { 'playback:playhead': ({ seconds }) => studio.setPlayhead(seconds), 'log:error': ({ message }) => console.error(`lathe ui: ${message}`) },
    isOurWindow,
    onDrop: (paths) => {
      for (const p of paths) {
        try {
          studio.handOver(p, 'drop');
        } catch (e) {
          console.error(`lathe: ${(e as Error).message}`);
        }
      }
    },
    log: (m) => console.error(`lathe ipc: ${m}`),
  });
  const openRecent = (path: string) => {
    try {
      const { fileId } = studio.handOver(path, 'dialog');
      void Promise.resolve(studio.handlers['session:open']({ fileId })).catch((e: Error) => dialog.showErrorBox('Cannot open the session', e.message));
    } catch (e) {
      dialog.showErrorBox('Cannot open the session', (e as Error).message);
    }
  };
  function buildMenu(): void {
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate({
          command: (command) => broadcast('menu:command', { command }),
          recent: recent.paths,
          openRecent,
          clearRecent: () => {
            recent.clear();
            app.clearRecentDocuments();
            buildMenu();
          },
          isMac: process.platform === 'darwin',
        }),
      ),
    );
  }
  buildMenu();
  app.on('web-contents-created', (_e, contents) => hardenContents(contents));
  app.on('second-instance', (_e, argv) => {
    const w = [...windows][0];
    if (w) {
      if (w.isMinimized()) w.restore();
      w.focus();
    }
    const file = argv.find((a) => a.endsWith(SESSION_EXTENSION));
    if (file) openRecent(file);
  });
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    void studio.close({ clean: true }).finally(() => app.quit());
  });
  const open = () => {
    const win = createMainWindow(BrowserWindow, preloadPath);
    windows.add(win);
    win.on('closed', () => windows.delete(win));
  };
  open();
  app.on('activate', () => {
    if (windows.size === 0) open();
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  protocol.registerSchemesAsPrivileged(PRIVILEGES);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  void app.whenReady().then(onReady);
}
