// Where an atomic write puts its bytes before the rename: a hidden file beside the destination
// (same folder, so the rename cannot cross file systems). A destination whose name is near the
// 255-byte limit gets a short temporary name instead of one that the file system refuses.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const NAME_MAX_BYTES = 255;

export function partialPathFor(path: string): string {
  const tag = randomBytes(6).toString('hex');
  const name = `.${basename(path)}.${tag}.partial`;
  return join(dirname(path), Buffer.byteLength(name) <= NAME_MAX_BYTES ? name : `.lathe-${tag}.partial`);
}

/** A temporary file of an interrupted write (a crash, a kill) is stale after this long. */
const STALE_MS = 10 * 60_000;

/**
 * After a write of `path` succeeded: removes the temporaries that earlier, interrupted writes of
 * the same file left beside it (`.NAME.<tag>.partial`, untouched for ten minutes, so a write still
 * in progress elsewhere is never disturbed). Best effort: a failure here is not the caller's.
 */
export function sweepStalePartials(path: string, now = Date.now()): void {
  const prefix = `.${basename(path)}.`;
  try {
    for (const name of readdirSync(dirname(path))) {
      if (!name.startsWith(prefix) || !/^[0-9a-f]{12}\.partial$/.test(name.slice(prefix.length))) continue;
      const file = join(dirname(path), name);
      try {
        if (now - statSync(file).mtimeMs > STALE_MS) rmSync(file, { force: true });
      } catch {
        // gone already, or not ours to remove
      }
    }
  } catch {
    // the folder cannot be listed: nothing to sweep
  }
}
