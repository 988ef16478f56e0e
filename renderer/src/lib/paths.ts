// Reading and writing a chain document by path ("eq.peaks[1].gainDb", as the assistant names its
// moves). Writes return a copy; the original is never changed.
import type { ChainDocument } from '../../../main/core/chain/document.js';

export type Path = string;

export function splitPath(path: Path): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([A-Za-z]\w*)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new Error(`bad parameter path ${path}`);
    parts.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) parts.push(Number(idx[1]));
  }
  return parts;
}

export function getAt(chain: ChainDocument, path: Path): unknown {
  let node: unknown = chain;
  for (const key of splitPath(path)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

export function setAt(chain: ChainDocument, path: Path, value: unknown): ChainDocument {
  const copy = structuredClone(chain);
  const keys = splitPath(path);
  let node = copy as unknown as Record<string | number, unknown>;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') throw new Error(`no ${path} in the chain`);
    node = next as Record<string | number, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (!(last in node)) throw new Error(`no ${path} in the chain`);
  node[last] = value;
  return copy;
}
