// Loads the native-dsp addon for this platform. Works from the main thread and from worker
// threads (the addon is context-aware). Types: index.d.ts.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { platformTriple } from './platform.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function locate() {
  const name = `lathe-dsp.${platformTriple()}.node`;
  const candidates = [
    process.env.LATHE_DSP_ADDON,
    // Inside an Electron package the addon is unpacked from the asar archive.
    join(here.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1'), name),
    join(here, name),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `native-dsp addon ${name} not found (looked in ${candidates.join(', ')}); build it with "npm run build:native"`,
    );
  }
  return found;
}

const addon = require(locate());
export default addon;
export const {
  version,
  deinterleave,
  interleave,
  analyzerCreate,
  analyzerProcess,
  analyzerProcessInterleaved,
  analyzerFinish,
  chainCreate,
  chainInfo,
  eqCurve,
  chainRender,
  chainFinish,
  chainRenderFd,
  chainFinishFd,
  demoWriteFd,
  pipeCreate,
  fdClose,
  analyzerProcessFd,
} = addon;
