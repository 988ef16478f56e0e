// write(2) may write fewer bytes than asked (a disk that fills up mid-write takes what fits and
// returns a short count; only the next call fails with ENOSPC). fs.writeSync returns that count,
// so a single call can leave a silently truncated file: this writes everything or throws.
import { writeSync } from 'node:fs';

export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    const n = writeSync(fd, data, done, data.length - done);
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    done += n;
  }
}
