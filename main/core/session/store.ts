// Sessions on disk: saved atomically (a temporary file beside the destination, flushed, then
// renamed over it, so a crash mid-save leaves the old session intact), autosaved a moment after
// each change, and recovered when the last run did not close cleanly (its autosave is still there).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LatheError } from '../errors.js';
import { writeFileAtomic as writeAtomicShared } from '../write-all.js';
import { parseSession, SessionError, type SessionDocument } from './document.js';

export const SESSION_EXTENSION = '.lathe';

/** Writes `data` to `path` atomically, sweeping what interrupted saves left beside it. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeAtomicShared(path, data, { sweep: true });
}

export function saveSession(path: string, doc: SessionDocument): SessionDocument {
  const saved = { ...doc, savedAt: new Date().toISOString() };
  writeFileAtomic(path, `${JSON.stringify(saved, null, 2)}\n`);
  return saved;
}

export function loadSession(path: string): SessionDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LatheError('FILE_NOT_FOUND', `cannot read the session (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path });
  }
  try {
    return parseSession(text, path);
  } catch (e) {
    if (e instanceof SessionError) throw new LatheError('USAGE', `not a session Lathe can open: ${e.message}`, { file: path });
    throw e;
  }
}

/**
 * Keeps an autosave of the open session in `dir`: `schedule` writes it `delayMs` after the last
 * change (changes in between are folded into one write), `clear` removes it on a clean close, and
 * `recoverable` finds the one a crashed run left behind.
 */
export class Autosaver {
  readonly file: string;
  /** The autosave a previous run left behind, moved aside so this run's autosaves keep it. */
  readonly recoveryFile: string;
  private timer: NodeJS.Timeout | undefined;
  private pending: (() => SessionDocument) | undefined;
  writes = 0;

  constructor(
    readonly dir: string,
    private readonly delayMs = 2000,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `autosave${SESSION_EXTENSION}`);
    this.recoveryFile = join(dir, `recovery${SESSION_EXTENSION}`);
    // Still here at start-up: the last run did not close cleanly.
    if (existsSync(this.file)) renameSync(this.file, this.recoveryFile);
  }

  /** What a previous run left: the session and when it was autosaved, or null. */
  recoverable(): { doc: SessionDocument; savedAt: string } | null {
    if (!existsSync(this.recoveryFile)) return null;
    try {
      const doc = loadSession(this.recoveryFile);
      return { doc, savedAt: doc.savedAt };
    } catch {
      // An autosave that cannot be read is of no use; say nothing rather than fail start-up.
      return null;
    }
  }

  schedule(snapshot: () => SessionDocument): void {
    this.pending = snapshot;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  /** Writes a scheduled autosave now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const snapshot = this.pending;
    this.pending = undefined;
    if (!snapshot) return;
    saveSession(this.file, snapshot());
    this.writes++;
  }

  /** Forgets the previous run's autosave; true when there was one. */
  discardRecovery(): boolean {
    const had = existsSync(this.recoveryFile);
    rmSync(this.recoveryFile, { force: true });
    return had;
  }

  /** A clean close or an explicit save: nothing to recover. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    rmSync(this.file, { force: true });
  }
}
