// Finds ffmpeg and ffprobe, in the order the design fixes: the LATHE_FFMPEG / LATHE_FFPROBE
// environment variables, ffmpeg-static if it is installed, the binaries shipped inside the
// @ffmpeg-installer / @ffprobe-installer packages, and finally the PATH.
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { LatheError } from '../errors.js';

export type ToolName = 'ffmpeg' | 'ffprobe';
export type ToolSource = 'environment' | 'ffmpeg-static' | 'npm-installer' | 'PATH';

export interface ResolvedTool {
  name: ToolName;
  path: string;
  source: ToolSource;
  /** How it was found, in words, for `lathe --version`. */
  origin: string;
}

const require = createRequire(import.meta.url);
const exe = process.platform === 'win32' ? '.exe' : '';

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromPackage(pkg: string, pick: (mod: unknown) => unknown): string | undefined {
  try {
    const value = pick(require(pkg));
    return typeof value === 'string' && isExecutable(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name + exe);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const cache = new Map<ToolName, ResolvedTool>();

/** Resolves a tool, or throws FFMPEG_NOT_FOUND saying where it looked. */
export function resolveTool(name: ToolName): ResolvedTool {
  const envName = name === 'ffmpeg' ? 'LATHE_FFMPEG' : 'LATHE_FFPROBE';
  const override = process.env[envName];
  const cacheKey = name;
  const cached = cache.get(cacheKey);
  if (cached && cached.source !== 'environment' && !override) return cached;

  if (override) {
    // An explicit override that does not work is an error, never a silent fall-back.
    if (!isExecutable(override)) {
      throw new LatheError('FFMPEG_NOT_FOUND', `${name} not found: ${envName}=${override} is not an executable file`);
    }
    return { name, path: override, source: 'environment', origin: `${envName}` };
  }
  // ffprobe next to an overridden ffmpeg is what a user who set LATHE_FFMPEG means.
  if (name === 'ffprobe' && process.env.LATHE_FFMPEG) {
    const sibling = join(dirname(process.env.LATHE_FFMPEG), 'ffprobe' + exe);
    if (isExecutable(sibling)) return { name, path: sibling, source: 'environment', origin: 'next to LATHE_FFMPEG' };
  }
  let found: ResolvedTool | undefined;
  if (name === 'ffmpeg') {
    const fromStatic = fromPackage('ffmpeg-static', (m) => m);
    if (fromStatic) found = { name, path: fromStatic, source: 'ffmpeg-static', origin: 'ffmpeg-static package' };
  }
  if (!found) {
    const pkg = name === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe';
    const path = fromPackage(pkg, (m) => (m as { path?: unknown }).path);
    if (path) found = { name, path, source: 'npm-installer', origin: `${pkg} package` };
  }
  if (!found) {
    const path = onPath(name);
    if (path) found = { name, path, source: 'PATH', origin: 'PATH' };
  }
  if (!found) {
    throw new LatheError(
      'FFMPEG_NOT_FOUND',
      `${name} not found: set ${envName} to its path, or install ffmpeg (looked for ffmpeg-static, the @ffmpeg-installer packages and PATH)`,
    );
  }
  cache.set(cacheKey, found);
  return found;
}
