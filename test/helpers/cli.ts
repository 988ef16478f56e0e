// Runs the compiled `lathe` CLI as a user would, and makes scratch directories.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const latheBin = join(repoRoot, 'bin/lathe.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function lathe(args: string[], env: Record<string, string | undefined> = {}): CliRun {
  const r = spawnSync(process.execPath, [latheBin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function analyzeJson(file: string, env: Record<string, string | undefined> = {}): any {
  const r = lathe(['analyze', file, '--json'], env);
  if (r.status !== 0) throw new Error(`lathe analyze ${file} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export function scratchDir(name: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lathe-${name}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
