// Builds the native addon with cargo and puts it next to the loader under the platform name
// that napi-rs tooling and electron-builder expect (lathe-dsp.linux-x64-gnu.node, …).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { platformTriple } from './platform.js';

const here = dirname(fileURLToPath(import.meta.url));
const cargo = process.env.CARGO ?? 'cargo';
const result = spawnSync(
  cargo,
  ['build', '--release', '--manifest-path', join(here, 'Cargo.toml'), '-p', 'lathe-dsp'],
  { stdio: 'inherit' },
);
if (result.error) {
  console.error(`native-dsp: cannot run ${cargo} (${result.error.message}); install a Rust toolchain (https://rustup.rs)`);
  process.exit(1);
}
if (result.status !== 0) process.exit(result.status ?? 1);

const libName = { linux: 'liblathe_dsp.so', darwin: 'liblathe_dsp.dylib', win32: 'lathe_dsp.dll' }[process.platform] ?? 'liblathe_dsp.so';
const targetDir = process.env.CARGO_TARGET_DIR ?? join(here, 'target');
const built = join(targetDir, 'release', libName);
if (!existsSync(built)) {
  console.error(`native-dsp: cargo finished but ${built} is missing`);
  process.exit(1);
}
const dest = join(here, `lathe-dsp.${platformTriple()}.node`);
// Copy then rename, so a process that has the old addon loaded never sees a half-written file.
copyFileSync(built, `${dest}.tmp`);
renameSync(`${dest}.tmp`, dest);
console.log(`native-dsp: built ${dest}`);
