// Registers the contract on Electron's IPC through one wrapper: before any handler runs, the
// sender must be a window of ours, the message must come from its main frame, and that frame must
// show our own origin (lathe://app); then the channel and payload are checked against the
// contract (main/server/dispatch.ts). Every refusal is a `{code, message}` answer, never a throw
// (Electron would turn a throw into an opaque string).
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent, WebContents } from 'electron';
import type { Handlers, Outcome, SendChannel, SendPayload } from '../../preload/contract.js';
import { dispatchInvoke, dispatchSend } from '../server/dispatch.js';
import { IPC_DROP, IPC_INVOKE, IPC_SEND } from '../../preload/bridge-channels.js';

export const APP_ORIGIN = 'lathe://app';

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'on' | 'removeHandler' | 'removeAllListeners'>;
  handlers: Handlers;
  receivers: { [C in SendChannel]: (payload: SendPayload<C>) => void };
  /** The webContents of the windows we opened. */
  isOurWindow: (contents: WebContents) => boolean;
  /** Files dropped on a window (paths resolved by the preload from real files). */
  onDrop: (paths: string[]) => void;
  log?: (message: string) => void;
}

type AnyEvent = Pick<IpcMainInvokeEvent | IpcMainEvent, 'sender' | 'senderFrame'>;

/** Why a sender is refused, or null when it is ours. */
export function refuseSender(event: AnyEvent, isOurWindow: (c: WebContents) => boolean): string | null {
  if (!event.sender || !isOurWindow(event.sender)) return 'the message did not come from a Lathe window';
  const frame = event.senderFrame;
  if (!frame) return 'the sending frame is gone';
  if (frame.parent !== null || frame !== event.sender.mainFrame) return 'the message came from a sub-frame';
  let origin: string;
  try {
    origin = new URL(frame.url).origin;
  } catch {
    return 'the sending frame has no valid URL';
  }
  // `lathe://app/…` has the origin "lathe://app" for a standard scheme; Node's URL says "null".
  if (origin !== APP_ORIGIN && !frame.url.startsWith(`${APP_ORIGIN}/`)) return `the sending frame shows ${origin}, not Lathe`;
  return null;
}

export function registerIpc(o: IpcOptions): () => void {
  o.ipcMain.handle(IPC_INVOKE, async (event, channel: unknown, payload: unknown): Promise<Outcome<unknown>> => {
    const refusal = refuseSender(event, o.isOurWindow);
    if (refusal) {
      o.log?.(`refused ${String(channel)}: ${refusal}`);
      return { ok: false, error: { code: 'FORBIDDEN_SENDER', message: refusal } };
    }
    return dispatchInvoke(o.handlers, channel, payload);
  });
  o.ipcMain.on(IPC_SEND, (event, channel: unknown, payload: unknown) => {
    const refusal = refuseSender(event, o.isOurWindow);
    const error = refusal ? { code: 'FORBIDDEN_SENDER', message: refusal } : dispatchSend(o.receivers, channel, payload);
    if (error) o.log?.(`refused ${String(channel)}: ${error.message}`);
  });
  o.ipcMain.on(IPC_DROP, (event, paths: unknown) => {
    const refusal = refuseSender(event, o.isOurWindow);
    if (refusal || !Array.isArray(paths) || paths.length > 64 || !paths.every((p) => typeof p === 'string' && p.length > 0 && p.length < 4096)) {
      o.log?.(`refused a drop: ${refusal ?? 'not a list of paths'}`);
      return;
    }
    o.onDrop(paths as string[]);
  });
  return () => {
    o.ipcMain.removeHandler(IPC_INVOKE);
    o.ipcMain.removeAllListeners(IPC_SEND);
    o.ipcMain.removeAllListeners(IPC_DROP);
  };
}
