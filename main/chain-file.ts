// Reading a chain document a user named on the command line (`--chain`, `--learn`): one clear
// error naming the file when it cannot be read, the field and the reason when it is invalid.
import { readFileSync } from 'node:fs';
import { ChainError, defaultChain, parseChain, type ChainDocument } from './core/chain/document.js';
import { LatheError } from './core/errors.js';

/** The chain in `path`, or the neutral chain when no path is given. */
export function readChainFile(path: string | undefined): ChainDocument {
  if (!path) return defaultChain();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LatheError('FILE_NOT_FOUND', `cannot read the chain (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path });
  }
  try {
    return parseChain(text, path);
  } catch (e) {
    if (e instanceof ChainError) throw new LatheError('USAGE', `invalid chain: ${e.message}`, { file: path });
    throw e;
  }
}
