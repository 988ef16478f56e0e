// A delivery report shown inside the app: its own window, as locked down as a window can be — the
// sandbox, context isolation, no Node, no preload (so no bridge to the engine), and JavaScript off
// (the report has no scripts; an escaping slip in it could then run nothing). It loads only the
// studio's own lathe://media URL of a report an export wrote (the studio looks it up by id, never
// by a path from the page), served by our protocol with the app's CSP. Links in it go nowhere:
// navigation and new windows are refused like everywhere else.
//
// Why not shell.openPath: that hands the HTML file to whatever the system opens .html with — a
// browser with scripts on and a file:// origin, outside every rule above.
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions } from 'electron';
import { hardenContents } from './window.js';

export const MEDIA_ORIGIN = 'lathe://media';

export function reportWindowOptions(title: string): BrowserWindowConstructorOptions {
  return {
    width: 1000,
    height: 860,
    minWidth: 480,
    minHeight: 360,
    title,
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      javascript: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
    },
  };
}

/** The studio's `openReport` for the desktop: one window per report. */
export function reportOpener(BrowserWindow: typeof BrowserWindowType): (report: { url: string; name: string }) => Promise<void> {
  return async ({ url, name }) => {
    // The studio gives its own media URL; anything else is a bug, and is not loaded.
    if (!url.startsWith(`${MEDIA_ORIGIN}/`)) throw new Error(`a report window shows only ${MEDIA_ORIGIN} files, not ${url.slice(0, 80)}`);
    const options = reportWindowOptions(`Lathe — ${name}`);
    // The security settings spelled out at the constructor too, for the static audit.
    const win = new BrowserWindow({ ...options, webPreferences: { ...options.webPreferences, contextIsolation: true, sandbox: true, nodeIntegration: false, javascript: false, disableBlinkFeatures: 'Auxclick' } });
    hardenContents(win.webContents);
    win.once('ready-to-show', () => win.show());
    await win.loadURL(url);
  };
}
