// Where an atomic write puts its bytes before the rename: a hidden file beside the destination
// (same folder, so the rename cannot cross file systems). A destination whose name is near the
// 255-byte limit gets a short temporary name instead of one that the file system refuses.
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

const NAME_MAX_BYTES = 255;

export function partialPathFor(path: string): string {
  const tag = randomBytes(6).toString('hex');
  const name = `.${basename(path)}.${tag}.partial`;
  return join(dirname(path), Buffer.byteLength(name) <= NAME_MAX_BYTES ? name : `.lathe-${tag}.partial`);
}
