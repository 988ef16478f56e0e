// Debian's redis-server for the queue tests (on 127.0.0.1, a free port, no persistence), and
// `lathe` children whose output lines can be waited for (workers, a following batch or album).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { latheBin } from './cli.js';

/** The redis-server binary, or '' when it is not installed (.ci/run installs it). */
export const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port }, () => c.write('PING\r\n'));
    c.once('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    c.once('error', () => resolve(false));
  });
}

/** Starts redis-server (its files in `dir`); resolves to its URL once it answers PING. */
export async function startRedis(dir: string, children: ChildProcess[]): Promise<string> {
  const port = await freePort();
  const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  children.push(redis);
  for (let i = 0; i < 200 && !(await redisPing(port)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await redisPing(port))) throw new Error('redis-server did not start');
  return `redis://127.0.0.1:${port}`;
}

/** A `lathe` child whose stdout lines are collected; `waitFor` resolves when a line matches. */
export function startLathe(args: string[], children: ChildProcess[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [latheBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  let buffer = '';
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout!.on('data', (d) => {
    buffer += d;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  const errWaiters: { re: RegExp; resolve: () => void }[] = [];
  child.stderr!.on('data', (d) => {
    stderr += d;
    for (const w of [...errWaiters]) if (w.re.test(stderr)) (errWaiters.splice(errWaiters.indexOf(w), 1), w.resolve());
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForStderr: (re: RegExp) => (re.test(stderr) ? Promise.resolve() : new Promise<void>((resolve) => errWaiters.push({ re, resolve }))),
    waitFor: (re: RegExp) => {
      const hit = lines.find((l) => re.test(l));
      return hit ? Promise.resolve(hit) : new Promise<string>((resolve) => waiters.push({ re, resolve }));
    },
  };
}
