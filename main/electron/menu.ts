// The application menu. Items that change the session go to the UI as `menu:command` events (the
// UI owns the flow: it asks the engine, shows progress and errors); recent sessions open directly.
import type { MenuItemConstructorOptions } from 'electron';
import type { EventPayload } from '../../preload/contract.js';

type Command = EventPayload<'menu:command'>['command'];

export function menuTemplate(o: { command: (c: Command) => void; recent: string[]; openRecent: (path: string) => void; clearRecent: () => void; isMac: boolean }): MenuItemConstructorOptions[] {
  const item = (label: string, command: Command, accelerator?: string): MenuItemConstructorOptions => ({ label, click: () => o.command(command), ...(accelerator ? { accelerator } : {}) });
  return [
    ...(o.isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    {
      label: 'File',
      submenu: [
        item('Open Track…', 'open', 'CmdOrCtrl+O'),
        item('Open Reference…', 'open-reference', 'CmdOrCtrl+Shift+O'),
        { type: 'separator' },
        item('Open Session…', 'open-session', 'CmdOrCtrl+Alt+O'),
        {
          label: 'Open Recent',
          submenu: o.recent.length
            ? [...o.recent.map((p): MenuItemConstructorOptions => ({ label: p, click: () => o.openRecent(p) })), { type: 'separator' }, { label: 'Clear Recent', click: o.clearRecent }]
            : [{ label: 'No Recent Sessions', enabled: false }],
        },
        item('Save Session', 'save-session', 'CmdOrCtrl+S'),
        item('Save Session As…', 'save-session-as', 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        item('Export…', 'export', 'CmdOrCtrl+E'),
        { type: 'separator' },
        o.isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'Edit',
      // Undo/redo act on the chain (the engine's history), not on text fields.
      submenu: [item('Undo', 'undo', 'CmdOrCtrl+Z'), item('Redo', 'redo', o.isMac ? 'Cmd+Shift+Z' : 'CmdOrCtrl+Y'), { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    { label: 'View', submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
  ];
}
