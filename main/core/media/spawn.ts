// The one place that starts ffmpeg and ffprobe processes (fluent-ffmpeg is archived upstream).
// Arguments are passed as an array, never through a shell, so no file name is ever interpreted.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatheError } from '../errors.js';
import { resolveTool, type ToolName } from './tools.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const MAX_CAPTURE = 16 * 1024 * 1024;

/** Runs a tool to completion and captures its output (for probes and version queries). */
export function runTool(name: ToolName, args: string[], signal?: AbortSignal): Promise<RunResult> {
  const tool = resolveTool(name);
  return new Promise((resolve, reject) => {
    const child = spawn(tool.path, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, windowsHide: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_CAPTURE) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') reject(new LatheError('CANCELLED', `${name} was cancelled`));
      else reject(new LatheError('FFMPEG_FAILED', `cannot run ${name} at ${tool.path}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Starts a tool whose output is consumed while it runs (decoding); `stdio` says where it goes. */
export function startTool(name: ToolName, args: string[], stdio: StdioOptions): ChildProcess {
  const tool = resolveTool(name);
  return spawn(tool.path, args, { stdio, windowsHide: true });
}

/** The first line of `TOOL -version`, for `lathe --version`. */
export async function toolVersion(name: ToolName): Promise<string> {
  const r = await runTool(name, ['-version']);
  return r.stdout.split('\n')[0]?.trim() ?? 'unknown version';
}

/**
 * A long-running ffmpeg (decoder or encoder) whose messages go to a temporary file rather than a
 * pipe, so it can never block on a full stderr pipe while we wait on its audio.
 */
export class LoggedTool {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  spawnError: Error | undefined;
  private readonly logDir: string;
  private readonly logPath: string;

  constructor(name: ToolName, args: string[], stdin: 'ignore' | 'pipe' | number, stdout: 'ignore' | 'pipe' | number) {
    this.logDir = mkdtempSync(join(tmpdir(), `lathe-${name}-`));
    this.logPath = join(this.logDir, 'log.txt');
    const logFd = openSync(this.logPath, 'w');
    try {
      this.child = startTool(name, args, [stdin, stdout, logFd]);
    } finally {
      closeSync(logFd);
    }
    this.child.on('error', (e) => {
      this.spawnError = e;
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** What the tool printed (at most 64 KiB). */
  log(): string {
    try {
      return readFileSync(this.logPath, 'utf8').slice(0, 65_536);
    } catch {
      return '';
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Always called: stops the tool if it still runs and removes the log. */
  close(): void {
    this.kill();
    rmSync(this.logDir, { recursive: true, force: true });
  }
}
