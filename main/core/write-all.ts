// write(2) may write fewer bytes than asked (a disk that fills up mid-write takes what fits and
// returns a short count; only the next call fails with ENOSPC). fs.writeSync returns that count,
// so a single call can leave a silently truncated file: this writes everything or throws.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { partialPathFor, sweepStalePartials } from './temp-name.js';

export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    const n = writeSync(fd, data, done, data.length - done);
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    done += n;
  }
}

/**
 * Writes `data` to `path` through a temporary file beside it (flushed, then renamed over `path`),
 * so a crash or a full disk leaves either the old file or the new one, never a torn one, and no
 * temporary behind. `sweep` also removes temporaries that interrupted writes of the same file left
 * (it lists the folder: for files rewritten often in a small folder, like sessions).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { sweep?: boolean } = {}): void {
  const tmp = partialPathFor(path);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (options.sweep) sweepStalePartials(path);
}
