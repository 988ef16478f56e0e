// The one place that starts ffmpeg and ffprobe processes (fluent-ffmpeg is archived upstream).
// Arguments are passed as an array, never through a shell, so no file name is ever interpreted.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
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
