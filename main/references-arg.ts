// The `--reference REF[:WEIGHT]` option, as `lathe match`, `master` and `album` read it.
import { LatheError } from './core/errors.js';

/** `REF` or `REF:WEIGHT` (a weight is a positive number after the last colon). */
export function parseReferences(list: string[]): { file: string; weight: number }[] {
  return list.map((item) => {
    const m = item.match(/^(.*):(\d+(?:\.\d+)?)$/);
    const weight = m ? Number(m[2]) : 1;
    if (!(weight > 0)) throw new LatheError('USAGE', `--reference ${item}: the weight must be a positive number`);
    return { file: m ? m[1]! : item, weight };
  });
}
