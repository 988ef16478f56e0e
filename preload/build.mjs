// Bundles the preload (preload/bridge.ts and the contract it is built from) into one CommonJS
// file, dist/preload/preload.cjs: Electron's sandboxed preloads can require only 'electron' and
// cannot load ES modules.
import { rolldown } from 'rolldown';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = await rolldown({ input: `${root}preload/bridge.ts`, external: ['electron'], platform: 'node', logLevel: 'warn' });
await bundle.write({ file: `${root}dist/preload/preload.cjs`, format: 'cjs', sourcemap: true });
await bundle.close();
console.log('wrote dist/preload/preload.cjs');
