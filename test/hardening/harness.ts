// Shared by the hardening tests: runs the compiled CLI with a hard timeout (a hang is a failure,
// never a stuck test run), checks the one-line refusal, and lists folders (dotfiles included, so
// a leftover `.partial` is seen).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { latheBin } from '../helpers/cli.js';

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Run as this user (root only): how a read-only folder is made read-only for a root CI. */
  uid?: number;
  gid?: number;
  /** A POSIX shell prefix such as `ulimit -f 64;` (the command is exec'd after it). */
  shellPrefix?: string;
  timeoutMs?: number;
  cwd?: string;
}

export function cli(args: string[], options: RunOptions = {}): Run {
  const env = { ...process.env, ...options.env };
  const timeout = options.timeoutMs ?? 90_000;
  const common = { encoding: 'utf8' as const, env, timeout, killSignal: 'SIGKILL' as const, maxBuffer: 64 * 1024 * 1024, cwd: options.cwd, uid: options.uid, gid: options.gid };
  const r = options.shellPrefix
    ? spawnSync('/bin/sh', ['-c', `${options.shellPrefix} exec "$0" "$@"`, process.execPath, latheBin, ...args], common)
    : spawnSync(process.execPath, [latheBin, ...args], common);
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Exactly one line on stderr, `lathe: FILE: …` matching `pattern`, nothing on stdout, the exit
 *  status asked for, and no hang or crash. */
export function expectRefusal(r: Run, file: string | null, pattern: RegExp, status = 1): void {
  expect(r.signal, `killed (hang?): ${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(status);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  const line = lines[0]!;
  if (file !== null) expect(line.startsWith(`lathe: ${file}: `), `"${line}" should name ${file}`).toBe(true);
  expect(line).toMatch(pattern);
  expect(line).not.toMatch(/internal error|please report/);
}

export function expectSuccess(r: Run, statuses: number[] = [0]): void {
  expect(r.signal, `killed (hang?): ${r.stderr}`).toBeNull();
  expect(statuses, `exit ${r.status}: ${r.stderr}`).toContain(r.status);
}

/** Every path under `dir` (relative), dotfiles included; [] when it does not exist. */
export function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      out.push(relative(dir, p));
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Leftovers of an interrupted write anywhere under `dir`. */
export function partials(dir: string): string[] {
  return listing(dir).filter((p) => /\.partial$|\.lathe-export-|\.lathe-match-/.test(p));
}

export const isRoot = () => process.getuid?.() === 0;
/** The unprivileged user a root test run drops to ("nobody" on Debian). */
export const NOBODY = 65534;
